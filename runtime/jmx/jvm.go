package jmx

import (
	"runtime"
	"runtime/debug"
)

const mib = 1 << 20

// JvmMetrics is Hadoop's JvmMetrics record for service (e.g. NameNode) with
// the Go runtime's figures in the JVM's places: the Go heap for the heap
// (used: live and not yet swept objects; committed: obtained from the OS and
// not returned), the runtime's own structures and stacks for non-heap,
// GOMEMLIMIT for the maximum (-1 when unlimited, as the JVM reports an
// undefined maximum), collections and their stop-the-world pause time for
// GcCount and GcTimeMillis, and goroutines as runnable threads. Figures the
// Go runtime has no counterpart for (blocked or waiting threads, log4j
// event counts) are left out rather than reported as made-up zeros.
func JvmMetrics(service, hostname string) Bean {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heapMax := -1.0
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < 1<<62 {
		heapMax = float64(lim) / mib
	}
	nonHeapUsed := m.StackInuse + m.MSpanInuse + m.MCacheInuse + m.BuckHashSys + m.GCSys + m.OtherSys
	nonHeapCommitted := m.StackSys + m.MSpanSys + m.MCacheSys + m.BuckHashSys + m.GCSys + m.OtherSys
	return Bean{
		Name: "Hadoop:service=" + service + ",name=JvmMetrics", ModelerType: "JvmMetrics", Record: "JvmMetrics",
		Attrs: map[string]any{
			"tag.Context":          "jvm",
			"tag.ProcessName":      service,
			"tag.SessionId":        nil,
			"tag.Hostname":         hostname,
			"MemHeapUsedM":         float64(m.HeapAlloc) / mib,
			"MemHeapCommittedM":    float64(m.HeapSys-m.HeapReleased) / mib,
			"MemHeapMaxM":          heapMax,
			"MemNonHeapUsedM":      float64(nonHeapUsed) / mib,
			"MemNonHeapCommittedM": float64(nonHeapCommitted) / mib,
			"MemNonHeapMaxM":       -1.0,
			"MemMaxM":              heapMax,
			"GcCount":              int64(m.NumGC),
			"GcTimeMillis":         int64(m.PauseTotalNs / 1e6),
			"ThreadsRunnable":      int64(runtime.NumGoroutine()),
		},
		Counters: map[string]bool{"GcCount": true, "GcTimeMillis": true},
	}
}

// Version is Hadoop's "<version>, r<revision>" (NameNodeInfo's Version)
// from the binary's build info.
func Version() string {
	v, rev := "(devel)", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	return v + ", r" + rev
}
