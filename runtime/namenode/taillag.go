package namenode

import "sync"

// tailLagBoundsMs are the upper bounds (inclusive, milliseconds) of the
// standby's apply-lag histogram; one more bucket counts everything above
// the last bound.
var tailLagBoundsMs = []int64{1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100,
	150, 200, 300, 500, 1000, 2000, 5000, 10000, 30000, 60000}

const (
	lagBuckets = 29 // len(tailLagBoundsMs)+1
	// lagWindowMs is the length of one window of the recent view: the
	// quantiles JMX reports cover the current and the previous window (one
	// to two minutes), so a catch-up after a restart ages out of them.
	lagWindowMs = 60_000
)

// lagHistogram counts how long after the active accepted an edit the
// standby applied it: the edit's time (op.Time, taken by the active when the
// client's call reached it, before its namespace lock and the quorum sync)
// to the standby's clock when its tailer had applied the batch holding the
// edit. It thus covers the active's lock wait, the quorum write, the tail
// period and the apply, to a millisecond (both times are whole
// milliseconds; across machines it also includes their clock offset).
// It keeps the counts since start (for a monitor or benchmark to diff two
// samples) and a recent view of the last one to two minutes.
type lagHistogram struct {
	mu    sync.Mutex
	total [lagBuckets]int64
	cur   lagWindow
	prev  lagWindow
}

type lagWindow struct {
	start  int64 // ms
	counts [lagBuckets]int64
	maxMs  int64
}

func lagBucket(ms int64) int {
	for j, b := range tailLagBoundsMs {
		if ms <= b {
			return j
		}
	}
	return len(tailLagBoundsMs)
}

// rotate moves the windows on to now; caller holds mu.
func (h *lagHistogram) rotate(now int64) {
	switch {
	case now-h.cur.start < lagWindowMs:
	case now-h.cur.start < 2*lagWindowMs:
		h.prev, h.cur = h.cur, lagWindow{start: now}
	default:
		h.prev, h.cur = lagWindow{start: now - lagWindowMs}, lagWindow{start: now}
	}
}

// record counts the lags of edits whose active-side times are given, all
// applied at now (ms).
func (h *lagHistogram) record(now int64, times []int64) {
	if len(times) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rotate(now)
	for _, t := range times {
		ms := max(now-t, 0)
		i := lagBucket(ms)
		h.total[i]++
		h.cur.counts[i]++
		h.cur.maxMs = max(h.cur.maxMs, ms)
	}
}

// snapshot returns the counts since start, and those of the last one to two
// minutes with their largest lag.
func (h *lagHistogram) snapshot(now int64) (total, recent []int64, recentMax int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rotate(now)
	total, recent = make([]int64, lagBuckets), make([]int64, lagBuckets)
	for i := range total {
		total[i] = h.total[i]
		recent[i] = h.cur.counts[i] + h.prev.counts[i]
	}
	return total, recent, max(h.cur.maxMs, h.prev.maxMs)
}

// LagQuantile returns the upper bound (ms) of the bucket holding quantile q
// of a histogram with tailLagBoundsMs buckets (counts as snapshot gives
// them, or the difference of two snapshots); maxMs stands for the overflow
// bucket and caps the result. -1 when the histogram is empty.
func LagQuantile(counts []int64, maxMs int64, q float64) int64 {
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return -1
	}
	rank := int64(float64(total)*q + 0.5)
	rank = min(max(rank, 1), total)
	var seen int64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			if i < len(tailLagBoundsMs) {
				return min(tailLagBoundsMs[i], maxMs)
			}
			return maxMs
		}
	}
	return maxMs
}

// TailLagBoundsMillis returns the histogram's bucket bounds (a copy), as the
// JMX bean publishes them next to the counts.
func TailLagBoundsMillis() []int64 { return append([]int64(nil), tailLagBoundsMs...) }
