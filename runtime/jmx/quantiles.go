package jmx

import (
	"math/bits"
	"strconv"
	"sync"
	"time"
)

// QuantilePercents are the quantiles Hadoop's MutableQuantiles publishes.
var QuantilePercents = [...]int{50, 75, 90, 95, 99}

// Quantiles is Hadoop's MutableQuantiles: the number of values added during
// the last completed interval and their 50th-99th percentiles, published as
// <Name><interval>sNumOps and <Name><interval>s<P>thPercentile<Unit>
// (Syncs60s99thPercentileLatencyMicros). Until the first interval has ended
// every figure is 0, as in Hadoop. Hadoop estimates quantiles with a sketch;
// this keeps a log-linear histogram (16 sub-buckets per power of two, so an
// estimate is within 1/16 of the value), constant in memory however many
// values an interval sees. Safe for concurrent use.
type Quantiles struct {
	name, unit string
	interval   time.Duration
	now        func() time.Time

	mu    sync.Mutex
	start time.Time // of the interval being filled
	cur   quantileHist
	last  quantileHist // the last completed interval
}

const quantileSub = 16 // sub-buckets per power of two

type quantileHist struct {
	n      int64
	counts [64 * quantileSub]int64
}

// NewQuantiles returns the quantiles of name (metrics2 spelling, e.g.
// "Syncs") over windows of interval, in unit ("LatencyMicros"); now is the
// clock (time.Now when nil).
func NewQuantiles(name, unit string, interval time.Duration, now func() time.Time) *Quantiles {
	if now == nil {
		now = time.Now
	}
	return &Quantiles{name: name, unit: unit, interval: interval, now: now, start: now()}
}

// Add records one value (negative values count as 0).
func (q *Quantiles) Add(v int64) {
	q.mu.Lock()
	q.roll()
	q.cur.n++
	q.cur.counts[quantileBucket(max(v, 0))]++
	q.mu.Unlock()
}

// roll closes every interval that has ended; caller holds mu.
func (q *Quantiles) roll() {
	now := q.now()
	if now.Sub(q.start) < q.interval {
		return
	}
	if now.Sub(q.start) < 2*q.interval {
		q.last = q.cur
	} else {
		q.last = quantileHist{} // a whole interval passed with nothing added
	}
	q.cur = quantileHist{}
	q.start = q.start.Add(now.Sub(q.start).Truncate(q.interval))
}

// AddAttrs puts the figures of the last completed interval into attrs under
// Hadoop's names.
func (q *Quantiles) AddAttrs(attrs map[string]any) {
	q.mu.Lock()
	q.roll()
	h := q.last
	q.mu.Unlock()
	prefix := q.name + strconv.FormatInt(int64(q.interval/time.Second), 10) + "s"
	attrs[prefix+"NumOps"] = h.n
	for _, p := range QuantilePercents {
		attrs[prefix+strconv.Itoa(p)+"thPercentile"+q.unit] = h.quantile(float64(p) / 100)
	}
}

// quantileBucket is v's bucket: values below quantileSub have their own,
// above that 16 per power of two.
func quantileBucket(v int64) int {
	if v < quantileSub {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 5 // v >> e is in [16, 32)
	return (e+1)*quantileSub + int(v>>e) - quantileSub
}

// quantileUpper is the largest value of bucket b.
func quantileUpper(b int) int64 {
	if b < quantileSub {
		return int64(b)
	}
	e := b/quantileSub - 1
	m := int64(b%quantileSub + quantileSub)
	return (m+1)<<e - 1
}

// quantile is the smallest bucket bound below which a fraction p of the
// values lie (0 with no values).
func (h *quantileHist) quantile(p float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(p*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for b, c := range h.counts {
		if seen += c; seen >= rank {
			return quantileUpper(b)
		}
	}
	return quantileUpper(len(h.counts) - 1)
}
