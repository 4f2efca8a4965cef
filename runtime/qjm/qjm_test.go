package qjm

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/rpc"
)

var bg = context.Background()

func setup(t *testing.T) (*cluster, *Manager) {
	t.Helper()
	c := newCluster(t, t.TempDir(), 3)
	m := c.manager()
	t.Cleanup(func() { m.Close() })
	if err := m.Format(bg, testNS, false); err != nil {
		t.Fatal(err)
	}
	return c, m
}

func open(t *testing.T, c *cluster) (*Manager, *Writer) {
	t.Helper()
	m := c.manager()
	t.Cleanup(func() { m.Close() })
	w, err := m.OpenForWrite(bg, testNS)
	if err != nil {
		t.Fatalf("OpenForWrite: %v", err)
	}
	return m, w
}

// checkLog reads the whole journal and checks it holds txids 1..want, with
// the data of the acked txids.
func checkLog(t *testing.T, m *Manager, want int64, acked map[int64][]byte) {
	t.Helper()
	edits, err := m.ReadEdits(bg, 1, true, 0)
	if err != nil {
		t.Fatalf("ReadEdits: %v", err)
	}
	if int64(len(edits)) != want {
		t.Fatalf("read %d edits, want %d", len(edits), want)
	}
	for i, e := range edits {
		if e.Txid != int64(i)+1 {
			t.Fatalf("edit %d has txid %d", i, e.Txid)
		}
		if d, ok := acked[e.Txid]; ok && !bytes.Equal(d, e.Data) {
			t.Fatalf("txid %d holds %q, acked %q", e.Txid, e.Data, d)
		}
	}
}

func TestParseURIAndConfig(t *testing.T) {
	addrs, jid, err := ParseURI("qjournal://a:8485;b:8485;c/hacluster")
	if err != nil || jid != "hacluster" || len(addrs) != 3 || addrs[2] != "c:8485" {
		t.Fatalf("ParseURI = %v %q %v", addrs, jid, err)
	}
	for _, bad := range []string{"hdfs://a/x", "qjournal://a:1", "qjournal:///x", "qjournal://a:1/x/y"} {
		if _, _, err := ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
	c := hadoopconf.New()
	c.Set("dfs.namenode.shared.edits.dir", "qjournal://x:1/other")
	c.Set("dfs.namenode.shared.edits.dir.ns1", "qjournal://h1:8485;h2:8485;h3:8485/ns1")
	c.Set("dfs.qjournal.write-txns.timeout.ms", "1500")
	cfg, err := ConfigFromHadoop(c, "ns1", []byte("s"))
	if err != nil || cfg.JournalID != "ns1" || len(cfg.Addrs) != 3 || cfg.Timeouts.WriteTxns.Milliseconds() != 1500 || cfg.Timeouts.NewEpoch.Milliseconds() != 120000 {
		t.Fatalf("ConfigFromHadoop = %+v, %v", cfg, err)
	}
	c.Set("dfs.qjournal.new-epoch.timeout.ms", "soon")
	if _, err := ConfigFromHadoop(c, "ns1", nil); err == nil {
		t.Fatal("malformed timeout accepted")
	}
}

func TestWriteRollReadReopen(t *testing.T) {
	c, m := setup(t)
	if has, err := m.HasSomeData(bg); err != nil || !has {
		t.Fatalf("HasSomeData = %v, %v", has, err)
	}
	if ns, err := m.NamespaceInfo(bg); err != nil || ns != testNS {
		t.Fatalf("NamespaceInfo = %v, %v", ns, err)
	}
	_, w := open(t, c)
	if w.Epoch() != 1 || w.LastTxid() != 0 {
		t.Fatalf("fresh writer epoch %d last %d", w.Epoch(), w.LastTxid())
	}
	acked := map[int64][]byte{}
	for _, tx := range writeN(t, w, 1, 5) {
		acked[tx] = editData(1, tx)
	}
	if err := w.Roll(bg); err != nil {
		t.Fatal(err)
	}
	for _, tx := range writeN(t, w, 1, 3) {
		acked[tx] = editData(1, tx)
	}
	if len(acked) != 8 {
		t.Fatalf("acked %d", len(acked))
	}
	checkLog(t, m, 8, acked)
	// Tailing reads only part of the log.
	part, err := m.ReadEdits(bg, 3, true, 2)
	if err != nil || len(part) != 2 || part[0].Txid != 3 {
		t.Fatalf("ReadEdits(3, max 2) = %v, %v", part, err)
	}
	// Without in-progress, only the finalized segment 1-5.
	fin, err := m.ReadEdits(bg, 1, false, 0)
	if err != nil || len(fin) != 5 {
		t.Fatalf("finalized read = %d edits, %v", len(fin), err)
	}
	// A second writer fences the first and recovers all 8.
	_, w2 := open(t, c)
	if w2.Epoch() != 2 || w2.LastTxid() != 8 {
		t.Fatalf("second writer epoch %d last %d", w2.Epoch(), w2.LastTxid())
	}
	tx := w.Append([]byte("late"))
	if err := w.Sync(bg, tx); !errors.Is(err, ErrFenced) {
		t.Fatalf("old writer Sync = %v, want ErrFenced", err)
	}
	if err := w.Sync(bg, tx); !errors.Is(err, ErrFenced) {
		t.Fatalf("old writer second Sync = %v, want ErrFenced again", err)
	}
	if err := w2.Roll(bg); err != nil { // finalizes 6-8 (no edits since recovery: kept)
		t.Fatal(err)
	}
	if err := w2.PurgeLogs(bg, 6); err != nil {
		t.Fatal(err)
	}
	drain(w2.m.loggers) // the purge reached the third JN too
	if fin, err := m.ReadEdits(bg, 1, false, 0); err == nil && len(fin) != 0 {
		t.Fatalf("purged segment 1-5 still read: %d edits", len(fin))
	}
	if err := w2.Close(bg); err != nil {
		t.Fatal(err)
	}
	drain(w2.m.loggers)
	st := m.JournalStatus(bg)
	for _, s := range st {
		if !s.Reachable || s.Epoch != 2 || s.LastTxid != 8 || s.Lag != 0 || s.WriterEpoch != 2 || s.CommittedTxid != 8 {
			t.Fatalf("status %+v", s)
		}
	}
}

func TestFormatNeedsEveryJNAndRefusesOtherNamespace(t *testing.T) {
	c, m := setup(t)
	other := testNS
	other.NamespaceID = 999
	if err := m.Format(bg, other, false); !errors.Is(err, rpc.ErrIncompatibleNS) {
		t.Fatalf("format over another namespace: %v", err)
	}
	c.kill(2)
	m2 := c.manager()
	defer m2.Close()
	if err := m2.Format(bg, testNS, false); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("format with a JN down: %v", err)
	}
	if _, err := m2.HasSomeData(bg); err != nil {
		// two JNs answer "formatted": that is enough to say yes
		t.Fatalf("HasSomeData with a JN down and data elsewhere: %v", err)
	}
}

func TestGroupCommitBatchesConcurrentSyncs(t *testing.T) {
	c, _ := setup(t)
	_, w := open(t, c)
	var calls atomic.Int64
	c.setFault(func(jn int, method string) string {
		if method == rpc.MethodJournal && jn == 0 {
			calls.Add(1)
		}
		return ""
	})
	// Each flush reports the edits it carried (the NameNode's Syncs metric).
	var syncs, synced atomic.Int64
	w.OnSync(func(txns int64, took time.Duration) {
		syncs.Add(1)
		synced.Add(txns)
	})
	const writers, each = 16, 20
	errs := make(chan error, writers)
	var lock = make(chan struct{}, 1)
	lock <- struct{}{}
	for g := 0; g < writers; g++ {
		go func() {
			for k := 0; k < each; k++ {
				<-lock
				tx := w.Append([]byte("x"))
				lock <- struct{}{}
				if err := w.Sync(bg, tx); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < writers; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if w.SyncedTxid() != writers*each {
		t.Fatalf("synced %d", w.SyncedTxid())
	}
	if calls.Load() >= writers*each {
		t.Fatalf("%d journal calls for %d edits: no batching", calls.Load(), writers*each)
	}
	drain(w.m.loggers)
	if synced.Load() != writers*each || syncs.Load() != calls.Load() {
		t.Fatalf("OnSync heard %d flushes carrying %d edits; %d journal calls carried %d", syncs.Load(), synced.Load(), calls.Load(), writers*each)
	}
	t.Logf("%d edits in %d journal calls", writers*each, calls.Load())
}

// TestLaggingJNOutOfSyncUntilNextSegment: a JN that misses a batch gets no
// more edits in that segment, and rejoins at the next one.
func TestLaggingJNOutOfSyncUntilNextSegment(t *testing.T) {
	c, m := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 2)
	failed := false
	c.setFault(func(jn int, method string) string {
		if jn == 2 && method == rpc.MethodJournal && !failed {
			failed = true // only ever touched on JN 2's own goroutine
			return "before"
		}
		return ""
	})
	if acked := writeN(t, w, 1, 3); len(acked) != 3 {
		t.Fatal("writes failed with two JNs in sync")
	}
	drain(w.m.loggers)
	st := m.JournalStatus(bg)
	if st[2].LastTxid != 2 || st[2].Lag != 3 || !w.m.loggers[2].outOfSync {
		t.Fatalf("lagging JN status %+v (outOfSync %v)", st[2], w.m.loggers[2].outOfSync)
	}
	// The writer's own view, without asking any JN (what the NameNode's
	// /ha/status reports for apply's rolling restarts).
	if v := w.InSync(); len(v) != 3 || !v[0].InSync || !v[1].InSync || v[2].InSync || v[0].AckedTxid != 5 || v[2].AckedTxid != 2 || v[2].Addr != st[2].Addr {
		t.Fatalf("writer's view with JN 2 left out: %+v", v)
	}
	if err := w.Roll(bg); err != nil {
		t.Fatal(err)
	}
	writeN(t, w, 1, 1)
	drain(w.m.loggers)
	if st := m.JournalStatus(bg); st[2].LastTxid != 6 || w.m.loggers[2].outOfSync {
		t.Fatalf("JN did not rejoin at the next segment: %+v", st[2])
	}
	if v := w.InSync(); !v[2].InSync || v[2].AckedTxid != 6 {
		t.Fatalf("writer's view after the roll: %+v", v)
	}
}

func TestQuorumLossFailsWritesThenRecovers(t *testing.T) {
	c, m := setup(t)
	_, w := open(t, c)
	acked := map[int64][]byte{}
	for _, tx := range writeN(t, w, 1, 3) {
		acked[tx] = editData(1, tx)
	}
	c.kill(0)
	for _, tx := range writeN(t, w, 1, 3) {
		acked[tx] = editData(1, tx)
	}
	if len(acked) != 6 {
		t.Fatal("writes stopped with one JN down")
	}
	c.kill(1)
	tx := w.Append([]byte("lost?"))
	err := w.Sync(bg, tx)
	if !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("Sync with two JNs down = %v, want ErrNoQuorum", err)
	}
	if err2 := w.Sync(bg, tx); err2 == nil {
		t.Fatal("a failed writer acknowledged later")
	}
	c.start(0)
	_, w2 := open(t, c)
	if w2.LastTxid() < 6 {
		t.Fatalf("recovered only to %d", w2.LastTxid())
	}
	for _, tx := range writeN(t, w2, 2, 2) {
		acked[tx] = editData(2, tx)
	}
	checkLog(t, m, w2.LastTxid(), acked)
}

// TestTailReadDoesNotWaitForASlowJN: reading in-progress edits from the
// caches returns once a majority answered with edits; the third JN, stuck,
// is not waited for (here the grace is an hour, so waiting would hang).
func TestTailReadDoesNotWaitForASlowJN(t *testing.T) {
	c, m := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 5)
	old := readGrace
	readGrace = time.Hour
	t.Cleanup(func() { readGrace = old })
	release := make(chan struct{})
	c.setFault(func(jn int, method string) string {
		if jn == 2 && method == rpc.MethodGetJournaledEdits {
			<-release // runs on JN 2's logger goroutine only
		}
		return ""
	})
	edits, err := m.ReadEdits(bg, 1, true, 0)
	close(release)
	if err != nil || len(edits) != 5 || edits[0].Txid != 1 {
		t.Fatalf("ReadEdits with JN 2 stuck: %d edits, %v", len(edits), err)
	}
	c.setFault(nil)
}

// TestTailReadWaitsWhenTheMajorityHoldsNothing: with a JN out of sync (it
// answers 0 edits at once), a majority made of it and one in-sync JN holds
// nothing; the read then waits for the third answer instead of returning no
// progress, whatever order the JNs answer in.
func TestTailReadWaitsWhenTheMajorityHoldsNothing(t *testing.T) {
	c, m := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 2)
	missed := false
	c.setFault(func(jn int, method string) string {
		if jn == 2 && method == rpc.MethodJournal && !missed {
			missed = true // JN 2 misses txid 3 and is out of sync for the segment
			return "before"
		}
		return ""
	})
	writeN(t, w, 1, 3)
	// An hour of grace: the read must end because the third JN answered,
	// never because a timer ran out on a loaded machine.
	old := readGrace
	readGrace = time.Hour
	t.Cleanup(func() { readGrace = old })
	for round := range 5 {
		c.setFault(func(jn int, method string) string {
			if method == rpc.MethodGetJournaledEdits && jn == round%2 {
				time.Sleep(5 * time.Millisecond) // one in-sync JN answers last
			}
			return ""
		})
		edits, err := m.ReadEdits(bg, 3, true, 0)
		if err != nil || len(edits) != 3 || edits[0].Txid != 3 {
			t.Fatalf("round %d: ReadEdits from 3 with JN 2 out of sync: %d edits, %v", round, len(edits), err)
		}
	}
	c.setFault(nil)
}

// A JournalNode down when the writer opened its segment is left out of it.
// A roll takes it back even when the segment holds no edit yet (an idle
// cluster right after a failover): the writer starts the same segment on it.
// Before, an empty segment's roll did nothing, and the JournalNode stayed out
// until the first roll after an edit, so restarting another JournalNode left
// the writer without a quorum.
func TestRollOfAnEmptySegmentTakesBackAJournalNode(t *testing.T) {
	c, m := setup(t)
	_, w0 := open(t, c)
	writeN(t, w0, 1, 3)
	w0.Close(bg)
	c.setFault(func(jn int, method string) string {
		if jn == 2 {
			return "before" // down while the next writer opens
		}
		return ""
	})
	_, w := open(t, c)
	drain(w.m.loggers)
	if v := w.InSync(); v[2].InSync {
		t.Fatalf("JN 2 was down at the segment start and is in sync: %+v", v)
	}
	c.setFault(nil)
	if err := w.Roll(bg); err != nil {
		t.Fatal(err)
	}
	if v := w.InSync(); !v[2].InSync {
		t.Fatalf("after a roll of the empty segment JN 2 is still left out: %+v", v)
	}
	writeN(t, w, 1, 2)
	drain(w.m.loggers)
	if st := m.JournalStatus(bg); st[2].LastTxid != 5 {
		t.Fatalf("JN 2 did not get the segment's edits: %+v", st[2])
	}
}
