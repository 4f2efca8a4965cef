package schema

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// reportCPU adds the process CPU time (user+system, GC included) per op as
// "cpu-ms/op": wall time on a shared machine says little about our own cost.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkLoadValidate loads and validates testdata/valid-schema/bench:
// 3 nameservices of 3 NameNodes, 15 hosts, 5 shared JournalNodes, managed
// ZooKeeper, variables and locals. Target: under 10 ms of CPU per op.
func BenchmarkLoadValidate(b *testing.B) {
	dir := "../testdata/valid-schema/bench"
	files := map[string][]byte{}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	for _, m := range matches {
		src, err := os.ReadFile(m)
		if err != nil {
			b.Fatal(err)
		}
		files[m] = src
	}
	if len(files) == 0 {
		b.Fatal("no bench fixture")
	}
	b.Run("in-memory", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			c, diags := LoadSources(files, LoadOptions{})
			if diags.HasErrors() || len(c.Hosts) != 15 || len(c.Nameservices) != 3 {
				b.Fatalf("unexpected result: %d hosts, %v", len(c.Hosts), diags)
			}
		}
	})
	b.Run("from-disk", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, diags := Load(dir, LoadOptions{}); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
	})
}
