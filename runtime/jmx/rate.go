package jmx

import (
	"sync"
	"time"
)

// Rate is Hadoop's MutableRate: <Name>NumOps, how many times an operation
// ran since the daemon started (a counter), and <Name>AvgTime, their mean
// duration in milliseconds over the interval since the previous read (the
// previous interval's mean when none ran since, as MutableStat's lastStat).
// Safe for concurrent use.
type Rate struct {
	mu       sync.Mutex
	ops      int64
	n        int64
	sum      time.Duration
	lastMean float64
}

// Add records one operation that took d.
func (r *Rate) Add(d time.Duration) {
	r.mu.Lock()
	r.ops++
	r.n++
	r.sum += d
	r.mu.Unlock()
}

// AddAttrs puts <name>NumOps and <name>AvgTime into attrs and starts the
// next interval.
func (r *Rate) AddAttrs(attrs map[string]any, name string) {
	r.mu.Lock()
	if r.n > 0 {
		r.lastMean = float64(r.sum) / float64(r.n) / float64(time.Millisecond)
		r.n, r.sum = 0, 0
	}
	attrs[name+"NumOps"], attrs[name+"AvgTime"] = r.ops, r.lastMean
	r.mu.Unlock()
}

// NumOps is how many operations were recorded.
func (r *Rate) NumOps() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ops
}
