package namenode

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// TestRunLoop drives two NameNodes' Run loops in a synctest bubble: the
// standby tails the active within a tail period, checkpoints after
// checkpoint.txns edits and uploads the image to the active; cancelling
// the active's Run finalizes its segment and leaves it standby.
func TestRunLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		j := NewMemJournal()
		nns := newFormatted(t, j, newClock(), "nn1", "nn2")
		active, standby := nns[0], nns[1]
		for _, n := range nns {
			n.cfg.TailPeriod = 100 * time.Millisecond
			n.cfg.TailInProgress = true
			n.cfg.CheckpointTxns = 10
			n.now = time.Now // the bubble's fake clock
		}
		uploads := 0
		standby.cfg.Peers = []Peer{{ID: "nn1"}}
		standby.Upload = func(ctx context.Context, p Peer, txid int64, image []byte) error {
			uploads++
			return active.AcceptImage(ctx, txid, image)
		}
		if err := active.TransitionToActive(ctx); err != nil {
			t.Fatal(err)
		}
		// Edits first: the standby's first tail round then sees all of them.
		for i := range 25 {
			if err := active.Mkdirs(ctx, fmt.Sprintf("/r/%d", i), 0o755, "u"); err != nil {
				t.Fatal(err)
			}
		}
		actx, stopActive := context.WithCancel(ctx)
		sctx, stopStandby := context.WithCancel(ctx)
		activeDone, standbyDone := make(chan error, 1), make(chan error, 1)
		go func() { activeDone <- active.Run(actx) }()
		go func() { standbyDone <- standby.Run(sctx) }()
		defer func() { // also on t.Fatal: the bubble must not keep goroutines
			stopActive()
			stopStandby()
			<-activeDone
			<-standbyDone
		}()
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		if got := standby.Totals().LastTxid; got != 25 {
			t.Fatalf("standby at txid %d one tail period later, want 25", got)
		}
		if imgs := active.storage.Images(); uploads == 0 || imgs[0] != 25 {
			t.Fatalf("after 25 edits with checkpoint.txns=10: %d uploads, active images %v", uploads, imgs)
		}
		if err := active.Mkdirs(ctx, "/late", 0o755, "u"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got := standby.Totals().LastTxid; got != 26 {
			t.Fatalf("standby at txid %d a tail period after a write, want 26", got)
		}
		stopActive()
		if err := <-activeDone; err != nil {
			t.Fatal(err)
		}
		activeDone <- nil // for the deferred wait
		if active.State() != StateStopping {
			t.Fatalf("stopped active is %s", active.State())
		}
	})
}

// TestRunLoopTailBackoff: with dfs.ha.tail-edits.period.backoff-max an idle
// standby's tail rounds back off exponentially (period 10 ms, at most 160
// ms apart), an edit is still picked up within the maximum, and a round
// that applied edits resets the sleep to the period. Each tailed edit's lag
// behind the active lands in the JMX histogram.
func TestRunLoopTailBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		j := NewMemJournal()
		nns := newFormatted(t, j, newClock(), "nn1", "nn2")
		active, standby := nns[0], nns[1]
		for _, n := range nns {
			n.now = time.Now // the bubble's fake clock
		}
		tj := &timedJournal{Journal: j}
		standby.journal = tj
		standby.cfg.TailPeriod = 10 * time.Millisecond
		standby.cfg.TailInProgress = true
		standby.cfg.TailBackoffMax = 160 * time.Millisecond
		if err := active.TransitionToActive(ctx); err != nil {
			t.Fatal(err)
		}
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- standby.Run(sctx) }()
		defer func() { stop(); <-done }()

		// Idle for 2 s: rounds at 0, 20, 60, 140, 300, 460, … ms instead of
		// every 10 ms (200 rounds).
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if c := tj.calls.Load(); c < 10 || c > 20 {
			t.Fatalf("idle standby made %d tail rounds in 2 s with period 10 ms and backoff-max 160 ms, want 10-20", c)
		}
		// An edit is picked up within the backoff maximum.
		if err := active.Mkdirs(ctx, "/a", 0o755, "u"); err != nil {
			t.Fatal(err)
		}
		waited := time.Duration(0)
		for standby.Totals().LastTxid < 1 {
			if waited > 160*time.Millisecond {
				t.Fatalf("standby did not apply txid 1 within the 160 ms backoff maximum")
			}
			time.Sleep(time.Millisecond)
			waited += time.Millisecond
			synctest.Wait()
		}
		// That round applied an edit: the next one comes a period later.
		if err := active.Mkdirs(ctx, "/b", 0o755, "u"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(11 * time.Millisecond)
		synctest.Wait()
		if got := standby.Totals().LastTxid; got != 2 {
			t.Fatalf("standby at txid %d 11 ms after a write that followed an applied round, want 2", got)
		}
		counts, _, maxMs := standby.applyLag.snapshot(time.Now().UnixMilli())
		var total int64
		for _, c := range counts {
			total += c
		}
		if total != 2 || maxMs > 160 || maxMs < int64(waited/time.Millisecond)-1 {
			t.Fatalf("apply lag histogram: %d samples, max %d ms (txid 1 took %v), want 2 samples, max ≤ 160 ms", total, maxMs, waited)
		}
		if p := LagQuantile(counts, maxMs, 0.5); p > 10 {
			t.Fatalf("p50 apply lag %d ms, want ≤ 10 (the second edit)", p)
		}
	})
}

func TestNextTailSleep(t *testing.T) {
	n := &NameNode{cfg: Config{TailBackoffMax: time.Second}}
	p := 10 * time.Millisecond
	s := p
	var got []time.Duration
	for range 9 {
		s = n.nextTailSleep(s, p, false)
		got = append(got, s)
	}
	want := []time.Duration{20, 40, 80, 160, 320, 640, 1000, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("empty rounds sleep %v, want %v ms", got, want)
		}
	}
	if s = n.nextTailSleep(s, p, true); s != p {
		t.Fatalf("after a round with edits: %v, want the period", s)
	}
	if s = n.nextTailSleep(0, 0, false); s != 2*time.Millisecond {
		t.Fatalf("period 0: first backoff %v, want 2ms (doubling from 1 ms as Hadoop)", s)
	}
	n.cfg.TailBackoffMax = 0
	if s = n.nextTailSleep(time.Second, p, false); s != p {
		t.Fatalf("no backoff configured: %v, want the period", s)
	}
}

func TestLagHistogram(t *testing.T) {
	var h lagHistogram
	if LagQuantile(make([]int64, lagBuckets), 0, 0.99) != -1 {
		t.Fatal("empty histogram has a quantile")
	}
	const t0 = 1_700_000_000_000
	times := make([]int64, 0, 100)
	for range 98 {
		times = append(times, t0-3)
	}
	times = append(times, t0-45, t0-70000) // 45 ms; 70 s: the overflow bucket
	h.record(t0, times)
	total, recent, maxMs := h.snapshot(t0)
	if maxMs != 70000 || total[2] != 98 || total[len(total)-1] != 1 || !slices.Equal(total, recent) {
		t.Fatalf("total %v recent %v max %d", total, recent, maxMs)
	}
	for q, want := range map[float64]int64{0.5: 3, 0.98: 3, 0.99: 50, 1: 70000} {
		if got := LagQuantile(recent, maxMs, q); got != want {
			t.Errorf("q%.2f = %d, want %d", q, got, want)
		}
	}
	if len(total) != len(tailLagBoundsMs)+1 || len(TailLagBoundsMillis()) != len(tailLagBoundsMs) {
		t.Fatal("bucket count does not match the bounds")
	}
	// A minute later the batch is in the previous window, still recent; a
	// later edit of 1 ms lands in the current one.
	h.record(t0+lagWindowMs, []int64{t0 + lagWindowMs - 1})
	_, recent, maxMs = h.snapshot(t0 + lagWindowMs)
	if recent[0] != 1 || recent[2] != 98 || maxMs != 70000 {
		t.Fatalf("one window later: recent %v max %d", recent, maxMs)
	}
	// Two minutes after the batch it has aged out of the recent view but
	// stays in the totals.
	total, recent, maxMs = h.snapshot(t0 + 2*lagWindowMs)
	if recent[2] != 0 || recent[0] != 1 || maxMs != 1 || total[2] != 98 || total[0] != 1 {
		t.Fatalf("two windows later: total %v recent %v max %d", total, recent, maxMs)
	}
	_, recent, maxMs = h.snapshot(t0 + 10*lagWindowMs)
	if LagQuantile(recent, maxMs, 0.99) != -1 || maxMs != 0 {
		t.Fatalf("after ten idle minutes: recent %v max %d", recent, maxMs)
	}
}

// LoadConfig reads the tailing keys with Hadoop's defaults (60 s, finalized
// segments only, no backoff) and raises a backoff maximum below the period
// to the period, as Hadoop's EditLogTailer does.
func TestLoadConfigTailing(t *testing.T) {
	base := func() *hadoopconf.Config {
		c := hadoopconf.New()
		c.Set("dfs.nameservices", "ns1")
		c.Set("dfs.ha.namenodes.ns1", "nn1,nn2")
		c.Set("dfs.namenode.http-address.ns1.nn1", "127.0.4.1:9870")
		c.Set("dfs.namenode.http-address.ns1.nn2", "127.0.4.2:9870")
		c.Set("dfs.namenode.name.dir", "/data/nn")
		return c
	}
	for _, tc := range []struct {
		set                 map[string]string
		period, backoff     time.Duration
		inProgress, profile bool
	}{
		{set: nil, period: time.Minute},
		{set: map[string]string{"dfs.ha.tail-edits.period": "10ms", "dfs.ha.tail-edits.in-progress": "true", "dfs.ha.tail-edits.period.backoff-max": "1s"},
			period: 10 * time.Millisecond, backoff: time.Second, inProgress: true},
		{set: map[string]string{"dfs.ha.tail-edits.period": "2s", "dfs.ha.tail-edits.period.backoff-max": "500ms"},
			period: 2 * time.Second, backoff: 2 * time.Second},
		{set: map[string]string{KeyPProf: "true"}, period: time.Minute, profile: true},
	} {
		c := base()
		for k, v := range tc.set {
			c.Set(k, v)
		}
		cfg, err := LoadConfig(c, "", "nn1")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TailPeriod != tc.period || cfg.TailBackoffMax != tc.backoff || cfg.TailInProgress != tc.inProgress || cfg.PProf != tc.profile {
			t.Errorf("%v: period %v backoff %v in-progress %v pprof %v", tc.set, cfg.TailPeriod, cfg.TailBackoffMax, cfg.TailInProgress, cfg.PProf)
		}
	}
	c := base()
	c.Set("dfs.ha.tail-edits.period.backoff-max", "soon")
	if _, err := LoadConfig(c, "", "nn1"); err == nil {
		t.Error("a malformed backoff maximum was accepted")
	}
}

// A NameNode ID may repeat across nameservices (Hadoop allows it): each
// (nameservice, ID) resolves to its own addresses and peers, and the ID
// alone is refused as ambiguous, naming both nameservices.
func TestLoadConfigFederationRepeatedIDs(t *testing.T) {
	c := hadoopconf.New()
	c.Set("dfs.nameservices", "ns1,ns2")
	c.Set("dfs.ha.namenodes.ns1", "nn1,nn2")
	c.Set("dfs.ha.namenodes.ns2", "nn1,nn2")
	for _, ns := range []string{"ns1", "ns2"} {
		port := map[string]string{"ns1": "9870", "ns2": "9871"}[ns]
		c.Set("dfs.namenode.http-address."+ns+".nn1", "127.0.4.1:"+port)
		c.Set("dfs.namenode.http-address."+ns+".nn2", "127.0.4.2:"+port)
		c.Set("dfs.namenode.name.dir."+ns+".nn1", "/data/"+ns)
		c.Set("dfs.namenode.name.dir."+ns+".nn2", "/data/"+ns)
	}
	for _, ns := range []string{"ns1", "ns2"} {
		cfg, err := LoadConfig(c, ns, "nn1")
		if err != nil {
			t.Fatalf("%s/nn1: %v", ns, err)
		}
		want := map[string]string{"ns1": "127.0.4.1:9870", "ns2": "127.0.4.1:9871"}[ns]
		if cfg.Nameservice != ns || cfg.ID != "nn1" || cfg.HTTPAddr != want || len(cfg.NameDirs) != 1 || cfg.NameDirs[0] != "/data/"+ns {
			t.Errorf("%s/nn1: ns %q id %q http %q dirs %q, want %q and /data/%s", ns, cfg.Nameservice, cfg.ID, cfg.HTTPAddr, cfg.NameDirs, want, ns)
		}
	}
	if _, err := LoadConfig(c, "", "nn1"); err == nil || !strings.Contains(err.Error(), "ns1, ns2") || strings.Contains(err.Error(), "unique") {
		t.Errorf("nn1 without its nameservice: %v", err)
	}
	if _, err := LoadConfig(c, "ns3", "nn1"); err == nil {
		t.Error("a nameservice that does not list the NameNode was accepted")
	}
}
