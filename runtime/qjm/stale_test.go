package qjm

import (
	"fmt"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// staleTail builds the case of a minority JournalNode keeping an old
// writer's unacknowledged in-progress tail at the very segment the next
// writer writes:
//
//   - writer 1 (epoch 1) writes 1-8, rolls (segment 9 starts on every JN),
//     then sends 9-12 to JN 2 only and dies: nothing of segment 9 was
//     acknowledged;
//   - writer 2 (epoch 2), partitioned from JN 2, recovers from JNs 0 and 1
//     (nothing at 9), starts segment 9 there and gets 9-10 acknowledged.
//
// JN 2 never hears of epoch 2: its cache and its edits_inprogress_9 hold
// writer 1's 9-12, the longest copy of segment 9 a reader reaching all three
// JNs sees. It returns the cluster and writer 2.
func staleTail(t *testing.T) (*cluster, *Writer) {
	t.Helper()
	// Reads end when every JN answered, never on a timer that a loaded
	// machine could run out (a cache read that stopped at JNs 0 and 2
	// would, rightly, not decide).
	old := readGrace
	readGrace = time.Hour
	t.Cleanup(func() { readGrace = old })
	c, _ := setup(t)
	_, w1 := open(t, c) // dies after its roll: it sends nothing more through its manager
	if acked := writeN(t, w1, 1, 8); len(acked) != 8 {
		t.Fatalf("writer 1 acked %d of 8", len(acked))
	}
	if err := w1.Roll(bg); err != nil {
		t.Fatal(err)
	}
	drain(w1.m.loggers) // the roll reached every JN, not only the majority it waited for
	if w1.SegmentTxid() != 9 || w1.Epoch() != 1 {
		t.Fatalf("writer 1: segment %d epoch %d", w1.SegmentTxid(), w1.Epoch())
	}
	// Writer 1's last journal call, as it sends it, reaching JN 2 only.
	var recs []byte
	for tx := int64(9); tx <= 12; tx++ {
		recs = rpc.AppendRecord(recs, tx, editData(1, tx))
	}
	body, err := rpc.Encode(rpc.JournalRequest{
		Req:         rpc.RequestInfo{JournalID: "testjournal", Epoch: 1, IPCSerial: 1 << 40, CommittedTxid: 8},
		SegmentTxid: 9, FirstTxid: 9, NumTxns: 4, Records: recs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.node(2).Handle(bg, rpc.MethodJournal, body); err != nil {
		t.Fatalf("writer 1's 9-12 on JN 2: %v", err)
	}
	m2 := c.managerWithFault(cutFrom(2))
	t.Cleanup(func() { m2.Close() })
	w2, err := m2.OpenForWrite(bg, testNS)
	if err != nil {
		t.Fatal(err)
	}
	if w2.Epoch() != 2 || w2.SegmentTxid() != 9 {
		t.Fatalf("writer 2: epoch %d segment %d, want 2 and 9", w2.Epoch(), w2.SegmentTxid())
	}
	if acked := writeN(t, w2, 2, 2); len(acked) != 2 {
		t.Fatalf("writer 2 acked %d of 2", len(acked))
	}
	drain(m2.loggers)
	return c, w2
}

// checkEdits fails unless edits are exactly txids from..to of writer w.
func checkEdits(t *testing.T, what string, edits []Edit, from, to int64, w int) {
	t.Helper()
	if int64(len(edits)) != to-from+1 {
		t.Fatalf("%s: %d edits %s, want %d-%d of writer %d", what, len(edits), describe(edits), from, to, w)
	}
	for i, e := range edits {
		if e.Txid != from+int64(i) || string(e.Data) != string(editData(w, e.Txid)) {
			t.Fatalf("%s: edit %d is txid %d %q, want txid %d %q (edits %s)", what, i, e.Txid, e.Data, from+int64(i), editData(w, from+int64(i)), describe(edits))
		}
	}
}

func describe(edits []Edit) string {
	s := "["
	for i, e := range edits {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%s", e.Txid, e.Data)
	}
	return s + "]"
}

// TestReadFromCachesIgnoresOldWriterTail: the tailer's cache read must
// apply writer 2's acknowledged 9-10, never writer 1's unacknowledged 9-10
// that JN 2 (the longest answer) still caches.
func TestReadFromCachesIgnoresOldWriterTail(t *testing.T) {
	c, _ := staleTail(t)
	r := c.manager()
	t.Cleanup(func() { r.Close() })
	for round := range 5 { // the JNs answer in any order
		edits, ok := r.readFromCaches(bg, 9, 100)
		if !ok {
			t.Fatalf("round %d: the caches of JNs 0 and 1 hold 9-10 in epoch 2, yet no answer", round)
		}
		checkEdits(t, fmt.Sprintf("round %d: cache read from 9", round), edits, 9, 10, 2)
	}
}

// TestReadFromSegmentsIgnoresOldWriterTail: the same through the manifests
// and segment downloads (the catch-up path), and through ReadEdits.
func TestReadFromSegmentsIgnoresOldWriterTail(t *testing.T) {
	c, _ := staleTail(t)
	r := c.manager()
	t.Cleanup(func() { r.Close() })
	edits, err := r.readFromSegments(bg, 9, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkEdits(t, "segment read from 9", edits, 9, 10, 2)
	// A cursor left at 10 continues only on a copy of epoch 2.
	if edits, err = r.readFromSegments(bg, 10, true, 100); err != nil {
		t.Fatal(err)
	}
	checkEdits(t, "segment read from 10", edits, 10, 10, 2)
	for _, f := range c.takeFetches() {
		if f.httpAddr == c.httpAddr(2) && f.start == 9 {
			t.Fatalf("downloaded segment 9 from JN 2, whose copy is writer 1's: %+v", f)
		}
	}
	all, err := r.ReadEdits(bg, 1, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkEdits(t, "ReadEdits from 1", all[8:], 9, 10, 2)
}

// TestCursorOnOldWriterCopyNotFollowed: a byte-offset cursor left on JN 2's
// copy of segment 9 (as a reader that trusted it would leave: just after
// writer 1's txid 9) must not carry the next read onto that copy.
func TestCursorOnOldWriterCopyNotFollowed(t *testing.T) {
	c, _ := staleTail(t)
	r := c.manager()
	t.Cleanup(func() { r.Close() })
	rec := rpc.AppendRecord(nil, 9, editData(1, 9))
	cur := segCursor{segStart: 9, txid: 9, offset: 8} // the 8-byte segment header, then txid 9
	copy(cur.hdr[:], rec[:rpc.RecordHeaderLen])
	r.putCursor(c.httpAddr(2), cur)
	c.takeFetches()
	edits, err := r.readFromSegments(bg, 10, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkEdits(t, "segment read from 10", edits, 10, 10, 2)
	for _, f := range c.takeFetches() {
		if f.httpAddr == c.httpAddr(2) {
			t.Fatalf("followed the cursor onto JN 2's copy of writer 1: %+v", f)
		}
	}
}

// TestReadHoldsWithoutAMajorityOfTheNewestEpoch: a reader reaching only JN
// 0 (epoch 2, 9-10) and JN 2 (epoch 1, 9-12) cannot tell which copy a
// recovery would keep: it reads nothing new rather than guess, on both paths.
func TestReadHoldsWithoutAMajorityOfTheNewestEpoch(t *testing.T) {
	c, _ := staleTail(t)
	r := c.managerWithFault(cutFrom(1))
	t.Cleanup(func() { r.Close() })
	if edits, ok := r.readFromCaches(bg, 9, 100); ok && len(edits) > 0 {
		t.Fatalf("cache read without a majority of epoch 2: %s", describe(edits))
	}
	edits, err := r.readFromSegments(bg, 9, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) > 0 {
		t.Fatalf("segment read without a majority of epoch 2: %s", describe(edits))
	}
	if edits, err := r.ReadEdits(bg, 9, true, 0); err != nil || len(edits) > 0 {
		t.Fatalf("ReadEdits without a majority of epoch 2: %s, %v", describe(edits), err)
	}
}

// TestStaleTailOnceTheOldJNHearsTheNewEpoch: once writer 2 reaches JN 2
// again (its next segment), JN 2's old copy of segment 9 is no longer its
// latest and every read returns writer 2's log.
func TestStaleTailOnceTheOldJNHearsTheNewEpoch(t *testing.T) {
	c, w2 := staleTail(t)
	w2.m.loggers[2].ch.(*fakeChan).local = nil // healed (JN 2's logger is idle: drained)
	if err := w2.Roll(bg); err != nil {
		t.Fatal(err)
	}
	if acked := writeN(t, w2, 2, 3); len(acked) != 3 {
		t.Fatalf("writer 2 acked %d of 3", len(acked))
	}
	drain(w2.m.loggers)
	r := c.manager()
	t.Cleanup(func() { r.Close() })
	edits, err := r.readFromSegments(bg, 9, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkEdits(t, "segment read from 9", edits, 9, 13, 2)
	edits, ok := r.readFromCaches(bg, 11, 100)
	if !ok {
		t.Fatal("cache read from 11: no answer")
	}
	checkEdits(t, "cache read from 11", edits, 11, 13, 2)
}
