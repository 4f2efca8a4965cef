package journal

import (
	"fmt"

	"github.com/hactl/hactl/runtime/rpc"
)

// This file holds the journal's epoch and paxos rules (Hadoop's Journal
// checks and its recovery protocol) as pure functions of an epochs value:
// no disk, no lock, no clock. A Journal decides with them, persists what
// the decision changed (last-promised-epoch, last-writer-epoch,
// committed-txid, paxos/<txid>) and only then adopts the new value, so the
// rules can be driven and tested without storage.

// epochs is the journal's epoch state.
type epochs struct {
	promised  int64 // last-promised-epoch: no call of a lower epoch is taken
	writer    int64 // last-writer-epoch: the epoch whose writer last started a segment
	committed int64 // the highest txid a writer said a majority holds, -1 unknown
	ipcSerial int64 // the highest IPC serial taken in the promised epoch, -1 none
}

// newEpochs is the state of a journal that has promised nothing.
func newEpochs() epochs { return epochs{committed: -1, ipcSerial: -1} }

// promise returns e with epoch promised: a new epoch starts a new sequence of
// IPC serial numbers.
func (e epochs) promise(epoch int64) epochs {
	e.promised, e.ipcSerial = epoch, -1
	return e
}

// newEpoch decides a newEpoch call (paxos phase 0): epoch must exceed every
// earlier promise.
func (e epochs) newEpoch(epoch int64) (epochs, error) {
	if epoch <= e.promised {
		return e, fmt.Errorf("proposed epoch %d <= last promise %d: %w", epoch, e.promised, ErrEpochTooOld)
	}
	return e.promise(epoch), nil
}

// admit applies Hadoop's rules to an epoch-carrying call and returns the
// state after it. A call of a higher epoch is promised first (its writer got
// the epoch from a quorum this JN was not part of), so a call refused later,
// for its serial or its committed txid, still leaves that promise: the
// returned state is the one to adopt even with an error, as in Hadoop.
func (e epochs) admit(r rpc.RequestInfo) (epochs, error) {
	if r.Epoch < e.promised {
		return e, fmt.Errorf("IPC's epoch %d is less than the last promised epoch %d: %w", r.Epoch, e.promised, ErrEpochTooOld)
	}
	if r.Epoch > e.promised {
		e = e.promise(r.Epoch)
	}
	if r.IPCSerial <= e.ipcSerial {
		return e, fmt.Errorf("IPC serial %d was not higher than prior highest IPC serial %d: %w", r.IPCSerial, e.ipcSerial, ErrOutOfSync)
	}
	e.ipcSerial = r.IPCSerial
	if r.CommittedTxid >= 0 {
		if r.CommittedTxid < e.committed {
			return e, fmt.Errorf("client trying to move committed txid backward from %d to %d: %w", e.committed, r.CommittedTxid, rpc.ErrCommittedTxidBackward)
		}
		e.committed = r.CommittedTxid
	}
	return e, nil
}

// admitWrite is admit for a call that writes edits: only the writer of the
// current writer epoch may.
func (e epochs) admitWrite(r rpc.RequestInfo) (epochs, error) {
	e, err := e.admit(r)
	if err != nil {
		return e, err
	}
	if r.Epoch != e.writer {
		return e, fmt.Errorf("IPC's epoch %d is not the current writer epoch %d: %w", r.Epoch, e.writer, ErrNotWriter)
	}
	return e, nil
}

// startSegment returns e after an admitted startLogSegment of epoch: its
// writer becomes the writer epoch's.
func (e epochs) startSegment(epoch int64) epochs {
	e.writer = epoch
	return e
}

// mayFinalize says whether the writer of epoch may finalize the in-progress
// segment ending at end: only a copy this epoch vouches for, the newest
// segment (latest) written by this writer or the copy accepted in this
// epoch's recovery (accepted, nil when none). A stale copy of equal length
// from an older writer must not become a finalized segment.
func (e epochs) mayFinalize(epoch, end int64, latest bool, accepted *paxosData) bool {
	if accepted != nil && accepted.AcceptedInEpoch == epoch && accepted.Segment.EndTxid == end {
		return true
	}
	return latest && e.writer == epoch
}

// vouchedEpoch is the epoch this JN vouches the bytes of in-progress segment
// st for, as recovery ranks a copy (max of acceptedInEpoch and
// lastWriterEpoch): the last writer epoch when st is the latest segment (the
// one open for writing or, with none open, the newest: only the writer of
// that epoch started it, or wrote to it, or renamed an older copy at its
// start aside), and the epoch that accepted st in a recovery whose copy is
// in place (accepted, nil when none; halfDone when the accept crashed before
// its download was moved into place, so the copy there is not the accepted
// one). An older in-progress segment not accepted in recovery is vouched
// for by no epoch (0): a later writer may have finalized it elsewhere, or
// another writer's copy of it be current.
func (e epochs) vouchedEpoch(st rpc.SegmentState, latest bool, accepted *paxosData, halfDone bool) int64 {
	v := int64(0)
	if latest {
		v = e.writer
	}
	if accepted == nil || halfDone {
		return v
	}
	if accepted.Segment.StartTxid == st.StartTxid && accepted.Segment.EndTxid == st.EndTxid {
		v = max(v, accepted.AcceptedInEpoch)
	}
	return v
}

// prepare answers prepareRecovery (paxos phase 1) for a segment: seg is what
// this JN holds (nil: nothing), accepted what it accepted in an earlier
// recovery of it (nil: nothing). An accepted decision is reported as such
// unless the segment has been finalized since; the copy held must then
// match it.
func (e epochs) prepare(seg *rpc.SegmentState, accepted *paxosData) (rpc.PrepareRecoveryResponse, error) {
	var resp rpc.PrepareRecoveryResponse
	finalized := seg != nil && !seg.InProgress
	if accepted != nil && !finalized {
		if seg == nil || seg.EndTxid != accepted.Segment.EndTxid {
			return resp, fmt.Errorf("accepted %s in epoch %d but holds %v", accepted.Segment, accepted.AcceptedInEpoch, seg)
		}
		s := accepted.Segment
		resp.Segment, resp.AcceptedInEpoch = &s, accepted.AcceptedInEpoch
	} else {
		resp.Segment = seg
	}
	resp.LastWriterEpoch = e.writer
	resp.LastCommitted = e.committed
	return resp, nil
}

// mustSync decides how acceptRecovery (paxos phase 2) makes the local copy
// cur (nil: none) of a segment equal to the chosen seg: whether it must
// take the chosen copy's bytes (download), or is refused. Edits are opaque,
// so two in-progress copies of equal length may still differ (one written
// by an older writer that no quorum acknowledged): unless this JN is the
// chosen source (isSource), it takes the chosen copy's bytes. A finalized
// copy is never replaced, nor a copy holding the committed txid by one
// that does not.
func (e epochs) mustSync(cur *rpc.SegmentState, seg rpc.SegmentState, isSource bool) (bool, error) {
	if cur != nil && cur.EndTxid == seg.EndTxid && (!cur.InProgress || isSource) {
		return false, nil
	}
	if cur != nil && !cur.InProgress {
		return false, fmt.Errorf("asked to replace %s with %s: %w", cur, seg, ErrFinalizedSegment)
	}
	if cur != nil && e.committed >= seg.StartTxid && seg.EndTxid < e.committed && cur.EndTxid >= e.committed {
		return false, fmt.Errorf("cannot replace %s with %s: it would lose committed txid %d: %w", cur, seg, e.committed, ErrOutOfSync)
	}
	return true, nil
}

// accept decides the paxos transition of acceptRecovery in epoch: a
// decision accepted in a later epoch is never overwritten by an earlier one.
// It returns the decision to persist (its commit point).
func accept(old *paxosData, seg rpc.SegmentState, epoch int64) (paxosData, error) {
	if old != nil && old.AcceptedInEpoch > epoch {
		return paxosData{}, fmt.Errorf("bad paxos transition: accepted in epoch %d, now %d", old.AcceptedInEpoch, epoch)
	}
	return paxosData{Segment: seg, AcceptedInEpoch: epoch}, nil
}

// paxosData is the content of paxos/<txid>: the segment accepted in recovery
// and the epoch that accepted it. Persisting it is the commit point of acceptRecovery.
type paxosData struct {
	Segment         rpc.SegmentState `json:"segment"`
	AcceptedInEpoch int64            `json:"acceptedInEpoch"`
}
