package namenode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/qjm"
)

// TestBenchJournaledMkdirs measures the NameNode's write path with the real
// quorum journal (3 JournalNode processes, fsync on): MKDIRS/s from 64
// concurrent callers straight into the Namesystem (no HTTP), and how far a
// tailing standby lags behind. Run on demand:
//
//	HACTL_BENCH=1 HACTL_INTEGRATION=1 go test ./runtime/namenode -run TestBenchJournaledMkdirs -v
func TestBenchJournaledMkdirs(t *testing.T) {
	integration(t)
	if os.Getenv("HACTL_BENCH") != "1" {
		t.Skip("benchmark: set HACTL_BENCH=1")
	}
	c := newITCluster(t, 2, 3)
	c.startJNs()
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive"); code != 0 {
		t.Fatalf("format: %s", out)
	}
	ctx := context.Background()
	var journals []*timedJournal
	open := func(id string) *NameNode {
		hc, err := hadoopconf.LoadDir(c.conf("nn1"))
		if err != nil {
			t.Fatal(err)
		}
		qc, err := qjm.ConfigFromHadoop(hc, "itns", []byte(c.secret))
		if err != nil {
			t.Fatal(err)
		}
		m, err := qjm.New(qc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		cfg, err := LoadConfig(hc, "", id)
		if err != nil {
			t.Fatal(err)
		}
		cfg.NameDirs = []string{filepath.Join(c.dir, "nn1", "name1")}
		if id != "nn1" {
			cfg.NameDirs = []string{filepath.Join(c.dir, id, "bench")}
			img, _ := (&Storage{Dirs: []string{filepath.Join(c.dir, "nn1", "name1")}}).ReadImage(0)
			info, _ := (&Storage{Dirs: []string{filepath.Join(c.dir, "nn1", "name1")}}).ReadVersion()
			if err := (&Storage{Dirs: cfg.NameDirs}).Format(info, img, 0); err != nil {
				t.Fatal(err)
			}
		}
		cfg.CheckpointTxns = 1 << 40
		tj := &timedJournal{Journal: NewQJMJournal[*qjm.Writer](m)}
		journals = append(journals, tj)
		n := New(cfg, tj, Options{Logf: func(string, ...any) {}, Groups: superGroups})
		if err := n.Load(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	active, standby := open("nn1"), open("nn2")
	if err := active.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, stopStandby := context.WithCancel(ctx)
	standby.cfg.TailPeriod = 5 * time.Millisecond
	standby.cfg.TailInProgress = true
	var sdone sync.WaitGroup
	sdone.Add(1)
	go func() { defer sdone.Done(); standby.Run(sctx) }()
	defer func() { stopStandby(); sdone.Wait() }()

	const clients = 64
	dur := 5 * time.Second
	var ops atomic.Int64
	deadline := time.Now().Add(dur)
	// Lag samples: every 5 ms note the active's txid and when the standby
	// reached it.
	var lags []time.Duration
	stopSample := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		type mark struct {
			txid int64
			at   time.Time
		}
		var pending []mark
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSample:
				return
			case now := <-tick.C:
				pending = append(pending, mark{active.Totals().LastTxid, now})
				applied := standby.Totals().LastTxid
				for len(pending) > 0 && pending[0].txid <= applied {
					lags = append(lags, now.Sub(pending[0].at))
					pending = pending[1:]
				}
			}
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				if err := active.Mkdirs(ctx, fmt.Sprintf("/bench/c%d/d%d", w, i), 0o755, "bench"); err != nil {
					t.Error(err)
					return
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	close(stopSample)
	sampler.Wait()
	slices.Sort(lags)
	p := func(q float64) time.Duration {
		if len(lags) == 0 {
			return 0
		}
		return lags[min(len(lags)-1, int(float64(len(lags))*q))]
	}
	fmt.Printf("RESULT journaled MKDIRS (3 JNs, fsync, %d callers, no HTTP): %.0f ops/s (%d in %v)\n", clients, float64(ops.Load())/elapsed.Seconds(), ops.Load(), elapsed.Round(time.Millisecond))
	tj := journals[1]
	fmt.Printf("INFO standby ReadEdits: %d calls, avg %v, max %v, %d edits\n", tj.calls.Load(), time.Duration(tj.nanos.Load()/max(tj.calls.Load(), 1)), time.Duration(tj.maxNanos.Load()), tj.edits.Load())
	fmt.Printf("RESULT standby tail lag, sampled (active applied → standby applied, 5 ms samples; 5 ms tail period, in-progress tailing): p50 %v p99 %v max %v (%d samples)\n", p(0.5), p(0.99), p(1), len(lags))
	_, counts, maxMs := standby.applyLag.snapshot(time.Now().UnixMilli()) // the last 1-2 minutes: this run
	fmt.Printf("RESULT standby apply lag, per edit (JMX TailApplyLag*: active accepted → standby applied): p50 ≤%d ms p99 ≤%d ms max %d ms\n",
		LagQuantile(counts, maxMs, 0.5), LagQuantile(counts, maxMs, 0.99), maxMs)
}
