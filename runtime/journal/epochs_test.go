package journal

import (
	"errors"
	"testing"

	"github.com/hactl/hactl/runtime/rpc"
)

// The epoch rules are driven here without a disk: each step is a call and
// the state or refusal Hadoop's Journal gives it.

func req(epoch, serial, committed int64) rpc.RequestInfo {
	return rpc.RequestInfo{Epoch: epoch, IPCSerial: serial, CommittedTxid: committed}
}

func TestAdmitFollowsHadoopsRequestChecks(t *testing.T) {
	steps := []struct {
		name string
		r    rpc.RequestInfo
		want epochs
		err  error
	}{
		{"a call of a higher epoch is promised and starts the serials", req(3, 0, -1), epochs{promised: 3, committed: -1, ipcSerial: 0}, nil},
		{"serials must grow", req(3, 0, -1), epochs{promised: 3, committed: -1, ipcSerial: 0}, ErrOutOfSync},
		{"committed txid moves forward", req(3, 1, 10), epochs{promised: 3, committed: 10, ipcSerial: 1}, nil},
		{"committed txid never moves backward", req(3, 2, 9), epochs{promised: 3, committed: 10, ipcSerial: 2}, rpc.ErrCommittedTxidBackward},
		{"an older epoch is refused and changes nothing", req(2, 9, 20), epochs{promised: 3, committed: 10, ipcSerial: 2}, ErrEpochTooOld},
		// Hadoop promises a newer epoch before checking the serial: a
		// refused call still leaves the promise.
		{"a newer epoch's promise survives a bad serial", req(4, -1, -1), epochs{promised: 4, committed: 10, ipcSerial: -1}, ErrOutOfSync},
		{"the new epoch's serials start again", req(4, 0, -1), epochs{promised: 4, committed: 10, ipcSerial: 0}, nil},
	}
	e := newEpochs()
	for _, s := range steps {
		next, err := e.admit(s.r)
		if !errors.Is(err, s.err) || (s.err == nil) != (err == nil) {
			t.Fatalf("%s: error %v, want %v", s.name, err, s.err)
		}
		if next != s.want {
			t.Fatalf("%s: state %+v, want %+v", s.name, next, s.want)
		}
		e = next
	}
}

func TestOnlyTheWriterEpochWrites(t *testing.T) {
	e := newEpochs().startSegment(2)
	e.promised = 2
	if _, err := e.admitWrite(req(2, 0, -1)); err != nil {
		t.Fatalf("the writer's own call refused: %v", err)
	}
	// A newer epoch that has not started a segment is promised but may not
	// write into the old writer's segment.
	next, err := e.admitWrite(req(3, 0, -1))
	if !errors.Is(err, ErrNotWriter) {
		t.Fatalf("a non-writer epoch wrote: %v", err)
	}
	if next.promised != 3 || next.writer != 2 {
		t.Fatalf("state after a refused write %+v, want promised 3, writer 2", next)
	}
}

func TestNewEpochMustExceedEveryPromise(t *testing.T) {
	e := newEpochs()
	e, err := e.newEpoch(1)
	if err != nil || e.promised != 1 {
		t.Fatalf("first epoch: %+v, %v", e, err)
	}
	e.ipcSerial = 7
	for _, epoch := range []int64{0, 1} {
		if next, err := e.newEpoch(epoch); !errors.Is(err, ErrEpochTooOld) || next != e {
			t.Fatalf("newEpoch(%d) after promising 1: %+v, %v", epoch, next, err)
		}
	}
	if e, _ = e.newEpoch(5); e.promised != 5 || e.ipcSerial != -1 {
		t.Fatalf("newEpoch(5) = %+v, want promised 5 and the serials restarted", e)
	}
}

func TestMayFinalizeOnlyWhatTheEpochVouchesFor(t *testing.T) {
	e := epochs{promised: 4, writer: 3}
	acc := &paxosData{Segment: rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}, AcceptedInEpoch: 4}
	cases := []struct {
		name     string
		epoch    int64
		end      int64
		latest   bool
		accepted *paxosData
		want     bool
	}{
		{"the writer's newest segment", 3, 10, true, nil, true},
		{"the writer's older segment", 3, 10, false, nil, false},
		{"another epoch's newest segment", 4, 10, true, nil, false},
		{"the copy this epoch accepted", 4, 10, false, acc, true},
		{"the accepted copy at another end", 4, 9, false, acc, false},
		{"a copy another epoch accepted", 5, 10, false, acc, false},
	}
	for _, c := range cases {
		if got := e.mayFinalize(c.epoch, c.end, c.latest, c.accepted); got != c.want {
			t.Errorf("%s: mayFinalize = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVouchedEpochRanksInProgressCopies(t *testing.T) {
	e := epochs{writer: 3}
	st := rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}
	acc := func(end, epoch int64) *paxosData {
		return &paxosData{Segment: rpc.SegmentState{StartTxid: 1, EndTxid: end, InProgress: true}, AcceptedInEpoch: epoch}
	}
	cases := []struct {
		name     string
		latest   bool
		accepted *paxosData
		halfDone bool
		want     int64
	}{
		{"the latest segment: the writer's epoch", true, nil, false, 3},
		{"an older segment: no epoch", false, nil, false, 0},
		{"accepted in a later epoch", true, acc(10, 5), false, 5},
		{"accepted in an earlier epoch", true, acc(10, 2), false, 3},
		{"accepted, older segment", false, acc(10, 2), false, 2},
		{"accepted at another end", false, acc(9, 5), false, 0},
		{"accept crashed before its copy was in place", false, acc(10, 5), true, 0},
	}
	for _, c := range cases {
		if got := e.vouchedEpoch(st, c.latest, c.accepted, c.halfDone); got != c.want {
			t.Errorf("%s: vouchedEpoch = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestPrepareReportsTheAcceptedDecision(t *testing.T) {
	e := epochs{writer: 2, committed: 7}
	inProg := &rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}
	final := &rpc.SegmentState{StartTxid: 1, EndTxid: 10}
	acc := &paxosData{Segment: rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}, AcceptedInEpoch: 3}

	r, err := e.prepare(inProg, nil)
	if err != nil || r.Segment != inProg || r.AcceptedInEpoch != 0 || r.LastWriterEpoch != 2 || r.LastCommitted != 7 {
		t.Fatalf("no decision: %+v, %v", r, err)
	}
	r, err = e.prepare(inProg, acc)
	if err != nil || r.Segment == nil || *r.Segment != acc.Segment || r.AcceptedInEpoch != 3 {
		t.Fatalf("accepted decision not reported: %+v, %v", r, err)
	}
	// Finalized since the accept: the finalized segment is the answer.
	r, err = e.prepare(final, acc)
	if err != nil || r.Segment != final || r.AcceptedInEpoch != 0 {
		t.Fatalf("finalized segment: %+v, %v", r, err)
	}
	// A copy that no longer matches what was accepted is an error, never
	// reported as the decision.
	for _, seg := range []*rpc.SegmentState{nil, {StartTxid: 1, EndTxid: 9, InProgress: true}} {
		if _, err := e.prepare(seg, acc); err == nil {
			t.Fatalf("holding %v after accepting %v: no error", seg, acc.Segment)
		}
	}
}

func TestMustSyncTakesTheChosenCopy(t *testing.T) {
	seg := rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}
	cases := []struct {
		name      string
		committed int64
		cur       *rpc.SegmentState
		isSource  bool
		want      bool
		err       error
	}{
		{"nothing here", -1, nil, false, true, nil},
		{"a shorter copy", -1, &rpc.SegmentState{StartTxid: 1, EndTxid: 8, InProgress: true}, false, true, nil},
		{"an equal-length copy of another JN", -1, &rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}, false, true, nil},
		{"this JN is the source", -1, &rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}, true, false, nil},
		{"the same finalized segment", -1, &rpc.SegmentState{StartTxid: 1, EndTxid: 10}, false, false, nil},
		{"another finalized segment", -1, &rpc.SegmentState{StartTxid: 1, EndTxid: 12}, false, false, ErrFinalizedSegment},
		{"a longer copy holding the committed txid", 11, &rpc.SegmentState{StartTxid: 1, EndTxid: 12, InProgress: true}, false, false, ErrOutOfSync},
		{"a longer copy past the committed txid", 9, &rpc.SegmentState{StartTxid: 1, EndTxid: 12, InProgress: true}, false, true, nil},
	}
	for _, c := range cases {
		e := epochs{committed: c.committed}
		got, err := e.mustSync(c.cur, seg, c.isSource)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: mustSync = %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestAcceptNeverGoesBackInEpoch(t *testing.T) {
	seg := rpc.SegmentState{StartTxid: 1, EndTxid: 10, InProgress: true}
	d, err := accept(nil, seg, 3)
	if err != nil || d.AcceptedInEpoch != 3 || d.Segment != seg {
		t.Fatalf("first accept: %+v, %v", d, err)
	}
	if d, err = accept(&d, seg, 3); err != nil {
		t.Fatalf("accept again in the same epoch: %v", err)
	}
	if _, err := accept(&d, seg, 2); err == nil {
		t.Fatal("an earlier epoch overwrote the decision of epoch 3")
	}
}
