package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// nnSample is what the benchmark reads from a NameNode's FSNamesystem JMX
// bean: its HA state, last applied txid and the standby's apply-lag
// histogram (hactl's TailApplyLag* attributes: how long after the active
// accepted an edit the standby applied it).
type nnSample struct {
	State   string
	Txid    int64
	Bounds  []int64 // bucket upper bounds, ms; one more bucket above the last
	Counts  []int64
	HasHist bool
}

type jmxFSNamesystem struct {
	Beans []struct {
		HAState string  `json:"tag.HAState"`
		Txid    int64   `json:"LastWrittenTransactionId"`
		Bounds  []int64 `json:"TailApplyLagBucketsMillis"`
		Counts  []int64 `json:"TailApplyLagBucketCounts"`
	} `json:"beans"`
}

func sampleNN(ctx context.Context, hc *http.Client, addr string) (nnSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem", nil)
	if err != nil {
		return nnSample{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nnSample{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nnSample{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return nnSample{}, fmt.Errorf("jmx of %s: %s", addr, resp.Status)
	}
	var j jmxFSNamesystem
	if err := json.Unmarshal(body, &j); err != nil || len(j.Beans) != 1 {
		return nnSample{}, fmt.Errorf("jmx of %s: no FSNamesystem bean", addr)
	}
	b := j.Beans[0]
	s := nnSample{State: b.HAState, Txid: b.Txid, Bounds: b.Bounds, Counts: b.Counts}
	s.HasHist = len(b.Bounds) > 0 && len(b.Counts) == len(b.Bounds)+1
	return s, nil
}

// lagWatch samples the standbys' apply-lag histograms around a write phase.
type lagWatch struct {
	hc       *http.Client
	active   string
	standbys []string
	before   map[string]nnSample // at the phase's start
	steady   map[string]nnSample // after its warm-up
	warmed   chan struct{}       // closed once steady is taken
}

// newLagWatch finds the standbys among addrs (NameNodes whose JMX says
// standby and carries the histogram); nil when there is none to watch.
func newLagWatch(ctx context.Context, addrs []string) *lagWatch {
	lw := &lagWatch{hc: &http.Client{Timeout: 5 * time.Second}}
	for _, a := range addrs {
		s, err := sampleNN(ctx, lw.hc, a)
		switch {
		case err != nil:
		case s.State == "active":
			lw.active = a
		case s.State == "standby" && s.HasHist:
			lw.standbys = append(lw.standbys, a)
		}
	}
	if lw.active == "" || len(lw.standbys) == 0 {
		return nil
	}
	return lw
}

// start samples the standbys at a write phase's start, and again once the
// phase is warm: a standby that idled has backed off (up to
// dfs.ha.tail-edits.period.backoff-max) and applies the phase's first edits
// up to that late, so the report gives the whole phase and the steady state
// under load (the figure) apart. Warm means warmup has passed and
// then the standby has applied everything the active had written by then
// (its backlog is behind it and it tails every period); a standby that does
// not get there before end has no steady-state figure.
func (lw *lagWatch) start(ctx context.Context, warmup time.Duration, end time.Time) {
	lw.before = lw.sampleAll(ctx)
	lw.steady = map[string]nnSample{}
	lw.warmed = make(chan struct{})
	go func() {
		defer close(lw.warmed)
		select {
		case <-time.After(warmup):
		case <-ctx.Done():
			return
		}
		act, err := sampleNN(ctx, lw.hc, lw.active)
		if err != nil {
			return
		}
		for _, a := range lw.standbys {
			for time.Now().Before(end) && ctx.Err() == nil {
				if s, err := sampleNN(ctx, lw.hc, a); err == nil && s.Txid >= act.Txid {
					lw.steady[a] = s
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
}

func (lw *lagWatch) sampleAll(ctx context.Context) map[string]nnSample {
	m := map[string]nnSample{}
	for _, a := range lw.standbys {
		if s, err := sampleNN(ctx, lw.hc, a); err == nil {
			m[a] = s
		}
	}
	return m
}

// report waits (up to 10 s) for each standby to apply what the active
// wrote during the phase, so the phase's last edits are counted, then
// prints the lag quantiles of the edits applied since start.
func (lw *lagWatch) report(ctx context.Context, out io.Writer, phase string) {
	<-lw.warmed
	act, err := sampleNN(ctx, lw.hc, lw.active)
	if err != nil {
		fmt.Fprintf(out, "  standby tail lag: cannot read the active's txid: %v\n", err)
		return
	}
	for _, a := range lw.standbys {
		b, ok := lw.before[a]
		if !ok {
			continue
		}
		var s nnSample
		deadline := time.Now().Add(10 * time.Second)
		for {
			s, err = sampleNN(ctx, lw.hc, a)
			if err != nil || s.Txid >= act.Txid || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil || !s.HasHist || len(s.Counts) != len(b.Counts) {
			fmt.Fprintf(out, "  standby %s tail lag over %s: unreadable (%v)\n", a, phase, err)
			continue
		}
		behind := ""
		if s.Txid < act.Txid {
			behind = fmt.Sprintf(" (still %d txns behind after 10 s)", act.Txid-s.Txid)
		}
		line := func(what string, from nnSample) {
			if len(from.Counts) != len(s.Counts) {
				fmt.Fprintf(out, "  standby %s tail lag, %s %s: none (it did not catch up with the active during the phase)\n", a, phase, what)
				return
			}
			diff := make([]int64, len(s.Counts))
			var n int64
			for i := range diff {
				diff[i] = s.Counts[i] - from.Counts[i]
				n += diff[i]
			}
			fmt.Fprintf(out, "  standby %s tail lag, %s %s (active accepted → standby applied): p50 %s p99 %s max %s, %d edits%s\n",
				a, phase, what, lagBound(s.Bounds, diff, 0.5), lagBound(s.Bounds, diff, 0.99), lagBound(s.Bounds, diff, 1), n, behind)
		}
		line("after warm-up", lw.steady[a])
		line("whole phase", b)
	}
}

// lagBound gives the histogram bucket holding quantile q as "≤ N ms" (the
// bucket's upper bound), "> N ms" for the overflow bucket, "-" when empty.
func lagBound(bounds, counts []int64, q float64) string {
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return "-"
	}
	rank := min(max(int64(float64(total)*q+0.5), 1), total)
	var seen int64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			if i < len(bounds) {
				return fmt.Sprintf("≤%dms", bounds[i])
			}
			break
		}
	}
	return fmt.Sprintf(">%dms", bounds[len(bounds)-1])
}
