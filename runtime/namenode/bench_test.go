package namenode

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestBenchRestart measures what a NameNode restart costs with a large
// namespace: image load time and heap bytes per inode. It is a benchmark
// with printed figures, run on demand:
//
//	HACTL_BENCH=1 go test ./runtime/namenode -run TestBenchRestart -v
//
// HACTL_BENCH_INODES overrides the inode count (default 1,000,000).
func TestBenchRestart(t *testing.T) {
	if os.Getenv("HACTL_BENCH") != "1" {
		t.Skip("benchmark: set HACTL_BENCH=1")
	}
	total := 1_000_000
	if v := os.Getenv("HACTL_BENCH_INODES"); v != "" {
		total, _ = strconv.Atoi(v)
	}
	const perDir = 1000
	ns := NewNamespace(DefaultMaxInline, "hdfs", "supergroup", 1)
	start := time.Now()
	txid := int64(0)
	apply := func(op *Op) {
		if _, err := ns.Prepare(op); err != nil {
			t.Fatal(err)
		}
		txid++
		if err := ns.Apply(txid, op); err != nil {
			t.Fatal(err)
		}
	}
	for d := 0; ns.files+ns.dirs < int64(total); d++ {
		dir := fmt.Sprintf("/user/data/d%06d", d)
		apply(&Op{Code: OpMkdirs, Path: dir, Perm: 0o755, Owner: "hadoop", Time: int64(d)})
		for f := 0; f < perDir-1 && ns.files+ns.dirs < int64(total); f++ {
			apply(&Op{Code: OpCreate, Path: fmt.Sprintf("%s/part-%05d", dir, f), Perm: 0o644, Owner: "hadoop",
				Replication: 3, BlockSize: 128 << 20, Time: int64(f)})
		}
	}
	inodes := ns.files + ns.dirs
	t.Logf("built %d inodes (%d files, %d dirs) through Prepare/Apply in %v", inodes, ns.files, ns.dirs, time.Since(start).Round(time.Millisecond))

	st := &Storage{Dirs: []string{filepath.Join(t.TempDir(), "name")}}
	os.MkdirAll(filepath.Join(st.Dirs[0], "current"), 0o755)
	start = time.Now()
	img := ns.EncodeImage()
	if err := st.SaveImage(txid, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved image: %d bytes (%.1f bytes/inode) in %v", len(img), float64(len(img))/float64(inodes), time.Since(start).Round(time.Millisecond))
	img, ns = nil, nil

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start = time.Now()
	loaded, err := st.LoadLatest(DefaultMaxInline)
	if err != nil {
		t.Fatal(err)
	}
	loadTime := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perInode := float64(after.HeapAlloc-before.HeapAlloc) / float64(inodes)
	fmt.Printf("RESULT restart (image load incl. sha256 check) of %d inodes: %v\n", inodes, loadTime.Round(time.Millisecond))
	fmt.Printf("RESULT heap per inode after load: %.0f bytes\n", perInode)
	if loaded.files+loaded.dirs != inodes {
		t.Fatalf("loaded %d inodes, want %d", loaded.files+loaded.dirs, inodes)
	}
	if loadTime > 5*time.Second {
		t.Errorf("restart took %v, target < 5s", loadTime)
	}
	if perInode > 300 {
		t.Errorf("%.0f bytes per inode, target < 300", perInode)
	}
	runtime.KeepAlive(loaded)
}
