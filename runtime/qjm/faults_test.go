package qjm

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// Segment downloads from a byte offset over all iterations, and how many of
// them the tailers found refused or stale and read again whole.
var offsetReads, staleOffsetReads atomic.Int64

// In-progress copies the tailers left out as an older writer epoch's (a JN
// keeping an unacknowledged tail the current writer never reached).
var olderCopies atomic.Int64

var (
	qjmIterations = flag.Int("qjm.iterations", 150, "iterations of TestQJMWithFaults (long runs: 10000+)")
	qjmSeed       = flag.Int64("qjm.seed", 1, "first seed of TestQJMWithFaults; iteration i uses seed+i")
)

// TestQJMWithFaults follows Hadoop's TestQJMWithFaults: writers one after
// another on three in-process JournalNodes, every JN call failing before or
// after it persists with some probability, JNs killed and restarted between
// writers, a writer sometimes dying after its last batches reached one JN
// only and the next one partitioned from that JN. After every recovery each
// acknowledged txid must be present with its data, in order, exactly once,
// and epochs must strictly increase; every edit a tailer read between
// writers (through the caches or the segments) must be the recovered log's.
func TestQJMWithFaults(t *testing.T) {
	root := t.TempDir()
	// tmpfs when there is one: the test exercises the protocol, not the disk.
	if shm, err := os.MkdirTemp("/dev/shm", "qjm-faults-"); err == nil {
		root = shm
		t.Cleanup(func() { os.RemoveAll(shm) })
	}
	start := time.Now()
	for i := 0; i < *qjmIterations; i++ {
		seed := *qjmSeed + int64(i)
		dir := filepath.Join(root, fmt.Sprint(seed))
		if err := runFaultIteration(t, dir, seed); err != nil {
			t.Fatalf("seed %d (rerun: go test ./runtime/qjm -run TestQJMWithFaults -qjm.seed=%d -qjm.iterations=1): %v", seed, seed, err)
		}
		os.RemoveAll(dir)
	}
	t.Logf("%d iterations from seed %d passed in %s; the tailers' segment downloads: %d from a byte offset, %d of them refused or stale and read again whole; %d in-progress copies left out as an older writer's",
		*qjmIterations, *qjmSeed, time.Since(start).Round(time.Millisecond), offsetReads.Load(), staleOffsetReads.Load(), olderCopies.Load())
	if *qjmIterations >= 150 && olderCopies.Load() == 0 {
		t.Fatal("no read met an older writer's in-progress copy: the test does not exercise it")
	}
	if *qjmIterations >= 20 && offsetReads.Load() == 0 {
		t.Fatal("no segment read continued from a byte offset: the tailer does not exercise it")
	}
}

func runFaultIteration(t *testing.T, dir string, seed int64) error {
	rng := rand.New(rand.NewSource(seed))
	var rmu sync.Mutex
	chance := func(p float64) bool {
		rmu.Lock()
		defer rmu.Unlock()
		return rng.Float64() < p
	}
	c := newCluster(t, dir, 3)
	defer func() {
		for _, m := range c.managers {
			m.Close()
		}
		for i := range c.nodes {
			c.kill(i)
		}
	}()
	if err := c.manager().Format(bg, testNS, false); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	// A tailer reads the segments in small batches between writers, as a
	// standby does, so its reads continue from byte offsets into segments
	// that recoveries and restarts replace; every edit it read must be the
	// recovered log's.
	tailer := c.manager()
	var tailed []Edit
	tail := func() error {
		for {
			next := int64(len(tailed)) + 1
			// Both read paths: the caches first (ReadEdits), or the
			// manifests and segment files alone.
			var edits []Edit
			var err error
			if chance(0.5) {
				edits, err = tailer.ReadEdits(bg, next, true, 3)
			} else {
				edits, err = tailer.readFromSegments(bg, next, true, 3)
			}
			if err != nil || len(edits) == 0 {
				return nil // faults: the next round goes on from here
			}
			for i, e := range edits {
				if e.Txid != next+int64(i) {
					return fmt.Errorf("tailer read txid %d where %d belongs", e.Txid, next+int64(i))
				}
			}
			tailed = append(tailed, edits...)
		}
	}
	defer func() {
		for _, f := range c.takeFetches() {
			if f.offset > 0 {
				offsetReads.Add(1)
			}
		}
		staleOffsetReads.Add(tailer.staleCursors.Load())
		olderCopies.Add(tailer.olderCopies.Load())
	}()
	acked := map[int64][]byte{} // txid → data of every acknowledged edit
	var maxAcked, lastEpoch int64
	pFail := 0.02 + rng.Float64()*0.08
	// Each JN draws its faults from its own generator: a JN's calls arrive in
	// order on one logger goroutine, so a seed replays the same faults.
	jnRng := make([]*rand.Rand, 3)
	for i := range jnRng {
		jnRng[i] = rand.New(rand.NewSource(seed*31 + int64(i)))
	}
	lonelyPrev := -1
	for writer := 1; writer <= 6; writer++ {
		// Kill and restart JNs between writers (at most one stays down).
		down := -1
		// A writer may die after its last batch reached one JN only
		// (lonely), and the next may be partitioned from that JN (cut)
		// while the tailer still reaches it: that JN keeps an old writer's
		// unacknowledged in-progress tail, maybe at the very segment the
		// new writer writes, in its cache and its segment file.
		lonely, cut := -1, -1
		var lonelyOn atomic.Bool
		lonelyAfter := 0
		if chance(0.2) {
			rmu.Lock()
			lonely, lonelyAfter = rng.Intn(3), rng.Intn(8)
			rmu.Unlock()
		}
		if (lonelyPrev >= 0 && chance(0.6)) || chance(0.15) {
			cut = lonelyPrev
			if cut < 0 {
				rmu.Lock()
				cut = rng.Intn(3)
				rmu.Unlock()
			}
		}
		lonelyPrev = lonely
		local := func(jn int, method string) string {
			if jn == cut {
				return "before"
			}
			if lonelyOn.Load() && jn != lonely && method == rpc.MethodJournal {
				return "before"
			}
			return ""
		}
		for i := 0; i < 3; i++ {
			if chance(0.2) {
				c.restart(i)
			}
		}
		if chance(0.3) {
			rmu.Lock()
			down = rng.Intn(3)
			rmu.Unlock()
			c.kill(down)
		}
		c.setFault(func(jn int, method string) string {
			if method == rpc.MethodGetStatus {
				return ""
			}
			rmu.Lock()
			defer rmu.Unlock()
			r := jnRng[jn]
			if r.Float64() < pFail {
				if r.Intn(2) == 0 {
					return "before"
				}
				return "after"
			}
			return ""
		})
		m := c.managerWithFault(local)
		w, err := m.OpenForWrite(bg, testNS)
		if err == nil {
			if w.Epoch() <= lastEpoch {
				return fmt.Errorf("writer %d got epoch %d after epoch %d", writer, w.Epoch(), lastEpoch)
			}
			lastEpoch = w.Epoch()
			if w.LastTxid() < maxAcked {
				return fmt.Errorf("writer %d recovered to txid %d but %d was acknowledged", writer, w.LastTxid(), maxAcked)
			}
			for b := 0; b < 8; b++ {
				if lonely >= 0 && b == lonelyAfter {
					// Often at the start of a segment: the next writer
					// then starts its segment at the same txid.
					if b > 0 && chance(0.5) {
						if err := w.Roll(bg); err != nil {
							break
						}
					}
					drain(m.loggers)
					lonelyOn.Store(true)
				}
				rmu.Lock()
				n := 1 + rng.Intn(4)
				rmu.Unlock()
				var txs []int64
				for k := 0; k < n; k++ {
					tx := w.Append(editData(writer, w.LastTxid()+1))
					txs = append(txs, tx)
				}
				if err := w.Sync(bg, txs[len(txs)-1]); err != nil {
					if !errors.Is(err, ErrNoQuorum) && !errors.Is(err, ErrFenced) {
						return fmt.Errorf("writer %d: sync failed with an unexpected error: %w", writer, err)
					}
					break
				}
				for _, tx := range txs {
					acked[tx] = editData(writer, tx)
					maxAcked = max(maxAcked, tx)
				}
				if chance(0.15) {
					if err := w.Roll(bg); err != nil {
						break
					}
				}
			}
		} else if !errors.Is(err, ErrNoQuorum) {
			return fmt.Errorf("writer %d: open failed with an unexpected error: %w", writer, err)
		}
		if err := tail(); err != nil {
			return err
		}
		if down >= 0 {
			c.start(down)
		}
	}
	// A last writer with no faults must recover every acknowledged edit.
	c.setFault(nil)
	m := c.manager()
	w, err := m.OpenForWrite(bg, testNS)
	if err != nil {
		return fmt.Errorf("final writer: %w", err)
	}
	if w.Epoch() <= lastEpoch {
		return fmt.Errorf("final epoch %d after %d", w.Epoch(), lastEpoch)
	}
	if w.LastTxid() < maxAcked {
		return fmt.Errorf("final writer recovered to %d, acknowledged %d", w.LastTxid(), maxAcked)
	}
	drain(m.loggers)
	edits, err := m.ReadEdits(bg, 1, true, 0)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if int64(len(edits)) != w.LastTxid() {
		return fmt.Errorf("read %d edits, recovered log ends at %d", len(edits), w.LastTxid())
	}
	for i, e := range edits {
		if e.Txid != int64(i)+1 {
			return fmt.Errorf("edit %d has txid %d (gap or duplicate)", i, e.Txid)
		}
		if d, ok := acked[e.Txid]; ok && string(d) != string(e.Data) {
			return fmt.Errorf("acknowledged txid %d holds %q, want %q", e.Txid, e.Data, d)
		}
	}
	if len(tailed) > len(edits) {
		return fmt.Errorf("the tailer read %d edits, the recovered log holds %d", len(tailed), len(edits))
	}
	for i, e := range tailed {
		if string(e.Data) != string(edits[i].Data) {
			return fmt.Errorf("the tailer read txid %d as %q, the recovered log holds %q", e.Txid, e.Data, edits[i].Data)
		}
	}
	return nil
}
