package qjm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hactl/hactl/runtime/rpc"
)

// The recovery cases of Hadoop's TestQuorumJournalManager, built with
// injected faults on in-process JournalNodes.

func TestRecoveryCrashAtBeginningOfSegment(t *testing.T) {
	c, m := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 3)
	if err := w.Roll(bg); err != nil { // finalize 1-3, start 4, then the writer dies
		t.Fatal(err)
	}
	_, w2 := open(t, c)
	if w2.LastTxid() != 3 || w2.SegmentTxid() != 4 || w2.Epoch() != 2 {
		t.Fatalf("after crash at segment start: last %d segment %d epoch %d", w2.LastTxid(), w2.SegmentTxid(), w2.Epoch())
	}
	acked := map[int64][]byte{}
	for _, tx := range writeN(t, w2, 2, 2) {
		acked[tx] = editData(2, tx)
	}
	checkLog(t, m, 5, acked)
}

func TestRecoveryStartReachedOnlyOneJN(t *testing.T) {
	c, m := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 3)
	c.setFault(failOn("before", rpc.MethodStartLogSegment, 1, 2))
	if err := w.Roll(bg); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("roll with start on one JN: %v", err)
	}
	c.setFault(nil)
	_, w2 := open(t, c)
	if w2.LastTxid() != 3 {
		t.Fatalf("recovered to %d, want 3", w2.LastTxid())
	}
	writeN(t, w2, 2, 1)
	checkLog(t, m, 4, nil)
}

// buildLengths345 leaves JN0 with 1-3, JN1 with 1-4 and JN2 with 1-5, all
// in-progress in the same writer epoch (only 1-4 was acknowledged).
func buildLengths345(t *testing.T) *cluster {
	c, _ := setup(t)
	_, w := open(t, c)
	if acked := writeN(t, w, 1, 3); len(acked) != 3 {
		t.Fatal("setup writes failed")
	}
	c.setFault(failOn("before", rpc.MethodJournal, 0))
	if acked := writeN(t, w, 1, 1); len(acked) != 1 {
		t.Fatal("txid 4 not acked")
	}
	c.setFault(failOn("before", rpc.MethodJournal, 0, 1))
	if acked := writeN(t, w, 1, 1); len(acked) != 0 {
		t.Fatal("txid 5 acked by a single JN")
	}
	c.setFault(nil)
	return c
}

func TestRecoveryLengths345OneJNAbsent(t *testing.T) {
	for absent, want := range map[int]int64{0: 5, 1: 5, 2: 4} {
		t.Run(fmt.Sprintf("JN%d-absent", absent), func(t *testing.T) {
			c := buildLengths345(t)
			c.kill(absent)
			m, w := open(t, c)
			if w.LastTxid() != want {
				t.Fatalf("recovered to %d, want %d", w.LastTxid(), want)
			}
			acked := map[int64][]byte{}
			for tx := int64(1); tx <= 4; tx++ {
				acked[tx] = editData(1, tx)
			}
			for _, tx := range writeN(t, w, 2, 2) {
				acked[tx] = editData(2, tx)
			}
			checkLog(t, m, want+2, acked)
			c.start(absent)
			checkLog(t, m, want+2, acked)
		})
	}
}

func TestRecoveryAcceptedFourBeatsLongerFive(t *testing.T) {
	c, _ := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 4)
	c.setFault(failOn("before", rpc.MethodJournal, 0, 1))
	if acked := writeN(t, w, 1, 1); len(acked) != 0 {
		t.Fatal("txid 5 acked by one JN")
	}
	// Writer 2, with JN2 down, prepares 1-4 but its accept reaches only JN0.
	c.kill(2)
	c.setFault(failOn("before", rpc.MethodAcceptRecovery, 1))
	m2 := c.manager()
	defer m2.Close()
	if _, err := m2.OpenForWrite(bg, testNS); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("writer 2: %v, want a failed recovery", err)
	}
	// Writer 3 sees JN0's 1-4 accepted in epoch 2 and JN2's longer 1-5 from epoch 1.
	c.setFault(nil)
	c.start(2)
	c.kill(1)
	m3, w3 := open(t, c)
	if w3.LastTxid() != 4 || w3.Epoch() != 3 {
		t.Fatalf("writer 3 recovered to %d in epoch %d, want 4 in epoch 3", w3.LastTxid(), w3.Epoch())
	}
	segs, err := c.node(2).Journal("testjournal")
	if err != nil {
		t.Fatal(err)
	}
	man, err := segs.Manifest(1, false)
	if err != nil || len(man) != 1 || man[0].EndTxid != 4 {
		t.Fatalf("JN2 manifest after recovery: %v, %v", man, err)
	}
	checkLog(t, m3, 4, nil)
}

func TestRecoveryMissedFinalizeAndNextStart(t *testing.T) {
	c, _ := setup(t)
	_, w := open(t, c)
	writeN(t, w, 1, 3)
	c.setFault(func(jn int, m string) string {
		if jn == 0 && (m == rpc.MethodFinalizeLogSegment || m == rpc.MethodStartLogSegment) {
			return "before"
		}
		return ""
	})
	if err := w.Roll(bg); err != nil {
		t.Fatal(err)
	}
	if acked := writeN(t, w, 1, 3); len(acked) != 3 {
		t.Fatal("writes after the roll failed")
	}
	c.setFault(nil)
	m2, w2 := open(t, c)
	if w2.LastTxid() != 6 {
		t.Fatalf("recovered to %d, want 6", w2.LastTxid())
	}
	checkLog(t, m2, 6, nil)
}

func TestChooseRecoveryRules(t *testing.T) {
	seg := func(s, e int64, ip bool) *rpc.SegmentState {
		return &rpc.SegmentState{StartTxid: s, EndTxid: e, InProgress: ip}
	}
	cases := []struct {
		name  string
		resps []rpc.PrepareRecoveryResponse
		want  int64 // end txid of the choice, -1 for none
		err   bool
	}{
		{"none", []rpc.PrepareRecoveryResponse{{}, {}}, -1, false},
		{"finalized beats longer in-progress", []rpc.PrepareRecoveryResponse{{Segment: seg(1, 3, false), LastWriterEpoch: 1}, {Segment: seg(1, 9, true), LastWriterEpoch: 5}}, 3, false},
		{"newer writer epoch beats length", []rpc.PrepareRecoveryResponse{{Segment: seg(1, 9, true), LastWriterEpoch: 1}, {Segment: seg(1, 4, true), LastWriterEpoch: 2}}, 4, false},
		{"accepted epoch counts", []rpc.PrepareRecoveryResponse{{Segment: seg(1, 5, true), LastWriterEpoch: 1}, {Segment: seg(1, 4, true), LastWriterEpoch: 1, AcceptedInEpoch: 2}}, 4, false},
		{"same epoch: longer", []rpc.PrepareRecoveryResponse{{Segment: seg(1, 3, true), LastWriterEpoch: 1}, {Segment: seg(1, 5, true), LastWriterEpoch: 1}}, 5, false},
		{"finalized lengths differ", []rpc.PrepareRecoveryResponse{{Segment: seg(1, 3, false)}, {Segment: seg(1, 5, false)}}, 0, true},
		{"would lose committed", []rpc.PrepareRecoveryResponse{{Segment: seg(1, 3, true), LastWriterEpoch: 2, LastCommitted: 4}, {LastCommitted: 4}}, 0, true},
	}
	for _, tc := range cases {
		var ps []prepared
		for i, r := range tc.resps {
			ps = append(ps, prepared{i, r})
		}
		best, err := chooseRecovery(ps)
		if tc.err {
			if !errors.Is(err, ErrRecovery) {
				t.Errorf("%s: err %v, want ErrRecovery", tc.name, err)
			}
			continue
		}
		got := int64(-1)
		if best != nil {
			got = best.Segment.EndTxid
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: chose %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
}

// TestRecoveryEqualLengthStaleCopyReplaced: edits are opaque, so a JN's copy
// of the same length but from an older writer (never acknowledged) must be
// replaced by the chosen copy, not kept because the lengths match. Found by
// TestQJMWithFaults (seed 104908).
func TestRecoveryEqualLengthStaleCopyReplaced(t *testing.T) {
	c, _ := setup(t)
	_, w1 := open(t, c)
	c.setFault(failOn("before", rpc.MethodJournal, 1, 2))
	if acked := writeN(t, w1, 1, 1); len(acked) != 0 {
		t.Fatal("txid 1 acked by one JN")
	}
	c.setFault(nil)
	c.kill(0)
	_, w2 := open(t, c)
	if w2.LastTxid() != 0 {
		t.Fatalf("writer 2 recovered to %d", w2.LastTxid())
	}
	if acked := writeN(t, w2, 2, 1); len(acked) != 1 {
		t.Fatal("writer 2 could not write")
	}
	c.start(0)
	c.kill(2)
	m3, w3 := open(t, c)
	if w3.LastTxid() != 1 {
		t.Fatalf("writer 3 recovered to %d", w3.LastTxid())
	}
	c.start(2)
	drain(m3.loggers)
	checkLog(t, m3, 1, map[int64][]byte{1: editData(2, 1)})
	j0, _ := c.node(0).Journal("testjournal")
	man, _ := j0.Manifest(1, false)
	if len(man) != 1 || man[0].EndTxid != 1 {
		t.Fatalf("JN0 manifest %v", man)
	}
	edits, err := m3.readSegment(bg, c.httpAddr(0), man[0], 1, 10)
	if err != nil || len(edits) != 1 || string(edits[0].Data) != string(editData(2, 1)) {
		t.Fatalf("JN0 holds %v (%v), want writer 2's txid 1", edits, err)
	}
}
