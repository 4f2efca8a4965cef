package jmx

import (
	"testing"
	"time"
)

// Figures are those of the last completed interval, named as Hadoop's
// MutableQuantiles names them, within 1/16 of the true quantile; 0 before the
// first interval ends and after an interval with nothing added.
func TestQuantilesLastInterval(t *testing.T) {
	now := time.Unix(1000, 0)
	q := NewQuantiles("Syncs", "LatencyMicros", time.Minute, func() time.Time { return now })
	for v := int64(1); v <= 1000; v++ {
		q.Add(v * 100) // 100 µs … 100 ms, uniform
	}
	a := map[string]any{}
	q.AddAttrs(a)
	if a["Syncs60sNumOps"] != int64(0) || a["Syncs60s99thPercentileLatencyMicros"] != int64(0) {
		t.Fatalf("before the first interval ended: %v", a)
	}
	now = now.Add(61 * time.Second)
	q.Add(7) // opens the next interval
	q.AddAttrs(a)
	if a["Syncs60sNumOps"] != int64(1000) {
		t.Fatalf("NumOps %v", a["Syncs60sNumOps"])
	}
	for p, want := range map[int]int64{50: 50000, 75: 75000, 90: 90000, 95: 95000, 99: 99000} {
		got := a["Syncs60s"+itoaQ(p)+"thPercentileLatencyMicros"].(int64)
		if got < want || got > want+want/16 {
			t.Errorf("p%d = %d, want %d (+1/16)", p, got, want)
		}
	}
	now = now.Add(3 * time.Minute)
	q.AddAttrs(a)
	if a["Syncs60sNumOps"] != int64(0) || a["Syncs60s50thPercentileLatencyMicros"] != int64(0) {
		t.Fatalf("after idle intervals: %v", a)
	}
}

func TestQuantileBucketsBoundEveryValue(t *testing.T) {
	for _, v := range []int64{0, 1, 15, 16, 17, 31, 32, 33, 1000, 1 << 40, 1<<62 + 12345} {
		b := quantileBucket(v)
		if up := quantileUpper(b); up < v || (v >= 16 && up-v > v/16) || (b > 0 && quantileUpper(b-1) >= v) {
			t.Errorf("%d: bucket %d bounds [%d, %d]", v, b, quantileUpper(b-1)+1, up)
		}
	}
}

func itoaQ(p int) string { return map[int]string{50: "50", 75: "75", 90: "90", 95: "95", 99: "99"}[p] }

// AvgTime is the mean of the interval since the previous read, kept while
// nothing runs; NumOps counts from the start.
func TestRateAvgTimePerInterval(t *testing.T) {
	var r Rate
	r.Add(2 * time.Millisecond)
	r.Add(4 * time.Millisecond)
	a := map[string]any{}
	r.AddAttrs(a, "Syncs")
	if a["SyncsNumOps"] != int64(2) || a["SyncsAvgTime"] != 3.0 {
		t.Fatalf("first interval: %v", a)
	}
	r.AddAttrs(a, "Syncs")
	if a["SyncsNumOps"] != int64(2) || a["SyncsAvgTime"] != 3.0 {
		t.Fatalf("idle interval keeps the last mean: %v", a)
	}
	r.Add(500 * time.Microsecond)
	r.AddAttrs(a, "Syncs")
	if a["SyncsNumOps"] != int64(3) || a["SyncsAvgTime"] != 0.5 {
		t.Fatalf("next interval: %v", a)
	}
}
