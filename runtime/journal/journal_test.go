package journal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/runtime/rpc"
)

var ns = rpc.NamespaceInfo{NamespaceID: 42, ClusterID: "CID-1", BlockPoolID: "BP-1"}

func newJournal(t *testing.T) (*Node, *Journal, string) {
	t.Helper()
	dir := t.TempDir()
	n, j := newJournalWith(t, Options{Dir: dir, NoSync: false})
	return n, j, dir
}

// newJournalWith starts a Node with o and formats its journal ns1.
func newJournalWith(t *testing.T, o Options) (*Node, *Journal) {
	t.Helper()
	n, err := NewNode(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	j, err := n.Journal("ns1")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Format(ns, false); err != nil {
		t.Fatal(err)
	}
	return n, j
}

type writer struct {
	j      *Journal
	epoch  int64
	serial int64
}

func (w *writer) req() rpc.RequestInfo {
	w.serial++
	return rpc.RequestInfo{JournalID: "ns1", Epoch: w.epoch, IPCSerial: w.serial, CommittedTxid: -1}
}

func batch(first, n int64) []byte {
	var b []byte
	for tx := first; tx < first+n; tx++ {
		b = rpc.AppendRecord(b, tx, []byte("edit"))
	}
	return b
}

func (w *writer) journal(seg, first, n int64) error {
	return w.j.Journal(rpc.JournalRequest{Req: w.req(), SegmentTxid: seg, FirstTxid: first, NumTxns: n, Records: batch(first, n)})
}

func becomeWriter(t *testing.T, j *Journal, epoch, segStart int64) *writer {
	t.Helper()
	if _, err := j.NewEpoch(ns, epoch); err != nil {
		t.Fatal(err)
	}
	w := &writer{j: j, epoch: epoch}
	if err := j.StartLogSegment(w.req(), segStart); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestLayoutIsHadoops(t *testing.T) {
	_, j, dir := newJournal(t)
	w := becomeWriter(t, j, 1, 1)
	if err := w.journal(1, 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := j.FinalizeLogSegment(w.req(), 1, 3); err != nil {
		t.Fatal(err)
	}
	cur := filepath.Join(dir, "ns1", "current")
	for _, f := range []string{"VERSION", "last-promised-epoch", "last-writer-epoch", "paxos", "edits_0000000000000000001-0000000000000000003"} {
		if _, err := os.Stat(filepath.Join(cur, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	v, _ := os.ReadFile(filepath.Join(cur, "VERSION"))
	for _, want := range []string{"namespaceID=42", "clusterID=CID-1", "storageType=JOURNAL_NODE"} {
		if !strings.Contains(string(v), want) {
			t.Errorf("VERSION lacks %s:\n%s", want, v)
		}
	}
	if err := j.StartLogSegment(w.req(), 4); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cur, "edits_inprogress_0000000000000000004")); err != nil {
		t.Error(err)
	}
}

func TestEpochRules(t *testing.T) {
	_, j, _ := newJournal(t)
	if _, err := j.NewEpoch(ns, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := j.NewEpoch(ns, 3); !errors.Is(err, ErrEpochTooOld) {
		t.Fatalf("newEpoch equal to the promise: %v", err)
	}
	if _, err := j.NewEpoch(ns, 2); !errors.Is(err, ErrEpochTooOld) {
		t.Fatalf("newEpoch below the promise: %v", err)
	}
	old := &writer{j: j, epoch: 2}
	if err := j.StartLogSegment(old.req(), 1); !errors.Is(err, ErrEpochTooOld) {
		t.Fatalf("request with an old epoch: %v", err)
	}
	// A request above the promise becomes the new promise.
	newer := &writer{j: j, epoch: 5}
	if err := j.Heartbeat(newer.req()); err != nil {
		t.Fatal(err)
	}
	if e, _ := j.GetJournalState(); e != 5 {
		t.Fatalf("promise %d after a request in epoch 5", e)
	}
	other := ns
	other.ClusterID = "CID-other"
	if _, err := j.NewEpoch(other, 9); !errors.Is(err, ErrIncompatibleNS) {
		t.Fatalf("newEpoch from another namespace: %v", err)
	}
}

func TestWriterRules(t *testing.T) {
	_, j, _ := newJournal(t)
	w := becomeWriter(t, j, 1, 1)
	if err := w.journal(1, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := w.journal(1, 4, 1); !errors.Is(err, ErrOutOfSync) {
		t.Fatalf("gap in txids: %v", err)
	}
	if err := w.journal(1, 2, 1); !errors.Is(err, ErrOutOfSync) {
		t.Fatalf("repeated txid: %v", err)
	}
	if err := w.journal(7, 3, 1); !errors.Is(err, ErrOutOfSync) {
		t.Fatalf("wrong segment: %v", err)
	}
	// IPC serial numbers must increase.
	req := w.req()
	req.IPCSerial = 1
	if err := j.Journal(rpc.JournalRequest{Req: req, SegmentTxid: 1, FirstTxid: 3, NumTxns: 1, Records: batch(3, 1)}); !errors.Is(err, ErrOutOfSync) {
		t.Fatalf("old IPC serial: %v", err)
	}
	// A batch whose records disagree with its header is refused.
	if err := j.Journal(rpc.JournalRequest{Req: w.req(), SegmentTxid: 1, FirstTxid: 3, NumTxns: 2, Records: batch(3, 1)}); !errors.Is(err, rpc.ErrBadRequest) {
		t.Fatalf("short batch: %v", err)
	}
	// committedTxid never goes back.
	r := w.req()
	r.CommittedTxid = 2
	if err := j.Heartbeat(r); err != nil {
		t.Fatal(err)
	}
	r = w.req()
	r.CommittedTxid = 1
	if err := j.Heartbeat(r); !errors.Is(err, rpc.ErrCommittedTxidBackward) {
		t.Fatalf("committed txid backwards: %v", err)
	}
	// A newer epoch that has not started a segment is not the writer.
	if _, err := j.NewEpoch(ns, 2); err != nil {
		t.Fatal(err)
	}
	w2 := &writer{j: j, epoch: 2}
	if err := w2.journal(1, 3, 1); !errors.Is(err, ErrNotWriter) {
		t.Fatalf("journal from a non-writer epoch: %v", err)
	}
	if err := w.journal(1, 3, 1); !errors.Is(err, ErrEpochTooOld) {
		t.Fatalf("fenced writer: %v", err)
	}
}

func TestFinalizedSegmentNeverOverwritten(t *testing.T) {
	_, j, _ := newJournal(t)
	w := becomeWriter(t, j, 1, 1)
	w.journal(1, 1, 3)
	if err := j.FinalizeLogSegment(w.req(), 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := j.FinalizeLogSegment(w.req(), 1, 5); !errors.Is(err, ErrFinalizedSegment) {
		t.Fatalf("refinalize to another end: %v", err)
	}
	if err := j.StartLogSegment(w.req(), 1); !errors.Is(err, ErrFinalizedSegment) {
		t.Fatalf("start over a finalized segment: %v", err)
	}
	if _, err := j.NewEpoch(ns, 2); err != nil {
		t.Fatal(err)
	}
	w2 := &writer{j: j, epoch: 2}
	err := j.AcceptRecovery(t.Context(), w2.req(), rpc.SegmentState{StartTxid: 1, EndTxid: 2, InProgress: true}, "elsewhere:8480")
	if !errors.Is(err, ErrFinalizedSegment) {
		t.Fatalf("accept recovery over a finalized segment: %v", err)
	}
	if err := j.FinalizeLogSegment(w2.req(), 1, 3); err != nil {
		t.Fatalf("finalizing the same segment again must be harmless: %v", err)
	}
}

func TestTornTailTruncatedOnRestart(t *testing.T) {
	n, j, dir := newJournal(t)
	w := becomeWriter(t, j, 1, 1)
	if err := w.journal(1, 1, 3); err != nil {
		t.Fatal(err)
	}
	n.Close()
	p := filepath.Join(dir, "ns1", "current", "edits_inprogress_0000000000000000001")
	all, _ := os.ReadFile(p)
	good := all[:headerLen+3*(rpc.RecordHeaderLen+len("edit"))] // the rest is preallocated zeros
	// kill -9 in the middle of a write: half a record at the end.
	torn := rpc.AppendRecord(nil, 4, []byte("half-written"))
	os.WriteFile(p, append(append([]byte{}, good...), torn[:len(torn)-3]...), 0o644)
	n2, err := NewNode(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	j2, err := n2.Journal("ns1")
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Size() != int64(len(good)) {
		t.Fatalf("segment is %d bytes after restart, want %d", fi.Size(), len(good))
	}
	if st := j2.Status(); st.HighestTxid != 3 || st.PromisedEpoch != 1 || st.WriterEpoch != 1 {
		t.Fatalf("state after restart %+v", st)
	}
	// A corrupted (bit-flipped) last record is cut as well.
	bad := append([]byte{}, good...)
	bad[len(bad)-1] ^= 0xff
	os.WriteFile(p, bad, 0o644)
	n3, _ := NewNode(Options{Dir: dir})
	defer n3.Close()
	j3, _ := n3.Journal("ns1")
	if st := j3.Status(); st.HighestTxid != 2 {
		t.Fatalf("highest txid %d after a corrupt last record, want 2", st.HighestTxid)
	}
}

func TestFormatRules(t *testing.T) {
	n, j, _ := newJournal(t)
	if err := j.Format(ns, false); err != nil {
		t.Fatalf("formatting again with the same namespace and no data: %v", err)
	}
	other := ns
	other.NamespaceID = 7
	if err := j.Format(other, false); !errors.Is(err, ErrIncompatibleNS) {
		t.Fatalf("format for another namespace: %v", err)
	}
	becomeWriter(t, j, 1, 1)
	if err := j.Format(ns, false); !errors.Is(err, ErrAlreadyFormatted) {
		t.Fatalf("format over data: %v", err)
	}
	if err := j.Format(other, true); err != nil {
		t.Fatalf("forced format: %v", err)
	}
	if got, _ := j.Namespace(); got != other {
		t.Fatalf("namespace after forced format %v", got)
	}
	u, _ := n.Journal("unformatted")
	if _, err := u.NewEpoch(ns, 1); !errors.Is(err, ErrNotFormatted) {
		t.Fatalf("newEpoch on an unformatted journal: %v", err)
	}
	if _, err := n.Journal("../escape"); !errors.Is(err, rpc.ErrBadRequest) {
		t.Fatalf("journal id with a path: %v", err)
	}
}

func TestCacheAndManifestAndPurge(t *testing.T) {
	_, j, _ := newJournal(t)
	w := becomeWriter(t, j, 1, 1)
	w.journal(1, 1, 3)
	w.journal(1, 4, 2)
	cnt, recs, epoch, err := j.JournaledEdits(2, 10)
	if err != nil || cnt != 4 || epoch != 1 {
		t.Fatalf("cache read = %d (epoch %d), %v", cnt, epoch, err)
	}
	edits, _ := rpc.DecodeRecords(recs)
	if edits[0].Txid != 2 || edits[3].Txid != 5 {
		t.Fatalf("cache edits %v", edits)
	}
	if cnt, _, _, _ := j.JournaledEdits(2, 2); cnt != 2 {
		t.Fatalf("max not honoured: %d", cnt)
	}
	j.FinalizeLogSegment(w.req(), 1, 5)
	j.StartLogSegment(w.req(), 6)
	w.journal(6, 6, 2)
	if _, _, _, err := j.JournaledEdits(1, 10); !errors.Is(err, ErrCacheMiss) {
		t.Fatalf("read below the cache: %v", err)
	}
	man, _ := j.Manifest(1, true)
	if len(man) != 2 || man[0] != (rpc.SegmentState{StartTxid: 1, EndTxid: 5}) || man[1] != (rpc.SegmentState{StartTxid: 6, EndTxid: 7, InProgress: true, WriterEpoch: 1}) {
		t.Fatalf("manifest %v", man)
	}
	if man, _ := j.Manifest(1, false); len(man) != 1 {
		t.Fatalf("manifest without in-progress %v", man)
	}
	if err := j.PurgeLogs(w.req(), 6); err != nil {
		t.Fatal(err)
	}
	if man, _ := j.Manifest(0, true); len(man) != 1 || man[0].StartTxid != 6 {
		t.Fatalf("after purge %v", man)
	}
}

// A catching-up reader asks for the manifest once per batch: an in-progress
// segment no writer has open (the JN restarted) is scanned once, and again
// only when its file changes.
func TestManifestScansAnUnchangedSegmentOnce(t *testing.T) {
	dir := t.TempDir()
	n, err := NewNode(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	j, _ := n.Journal("ns1")
	if err := j.Format(ns, false); err != nil {
		t.Fatal(err)
	}
	w := becomeWriter(t, j, 1, 1)
	if err := w.journal(1, 1, 10); err != nil {
		t.Fatal(err)
	}
	n.Close()
	if n, err = NewNode(Options{Dir: dir, NoSync: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	j, _ = n.Journal("ns1")
	manifestEnd := func() int64 {
		t.Helper()
		segs, err := j.Manifest(1, true)
		if err != nil || len(segs) != 1 || !segs[0].InProgress {
			t.Fatalf("manifest %v, %v", segs, err)
		}
		return segs[0].EndTxid
	}
	for range 3 {
		if end := manifestEnd(); end != 10 {
			t.Fatalf("end %d, want 10", end)
		}
	}
	if j.scanCount != 1 {
		t.Fatalf("%d scans for 3 manifests of an unchanged segment", j.scanCount)
	}
	// Replaced by another file (as a recovery would): scanned again.
	p := filepath.Join(dir, "ns1", "current", inProgressName(1))
	if err := os.WriteFile(p+".new", append(append([]byte(nil), segmentMagic...), batch(1, 4)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	if end := manifestEnd(); end != 4 || j.scanCount != 2 {
		t.Fatalf("after replacing the file: end %d after %d scans, want 4 after 2", end, j.scanCount)
	}
	// Grown in place: scanned again.
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(batch(5, 3))
	f.Close()
	if end := manifestEnd(); end != 7 || j.scanCount != 3 {
		t.Fatalf("after appending: end %d after %d scans, want 7 after 3", end, j.scanCount)
	}
}

// TestAnswersCarryTheWriterEpoch: getJournaledEdits and the manifest's
// in-progress segments say which writer epoch produced their edits, so a
// reader can tell an old writer's unacknowledged tail from the current
// writer's edits at the same txids.
func TestAnswersCarryTheWriterEpoch(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, NoSync: true, HTTPAddr: "self:8480"}
	n, err := NewNode(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	j, _ := n.Journal("ns1")
	if err := j.Format(ns, false); err != nil {
		t.Fatal(err)
	}
	cacheEpoch := func(since int64) (int64, int64, error) {
		t.Helper()
		cnt, _, epoch, err := j.JournaledEdits(since, 100)
		return cnt, epoch, err
	}
	inProgress := func() map[int64]rpc.SegmentState {
		t.Helper()
		segs, err := j.Manifest(1, true)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]rpc.SegmentState{}
		for _, s := range segs {
			if s.InProgress {
				out[s.StartTxid] = s
			} else if s.WriterEpoch != 0 {
				t.Fatalf("finalized %s carries writer epoch %d", s, s.WriterEpoch)
			}
		}
		return out
	}
	w1 := becomeWriter(t, j, 1, 1)
	if err := w1.journal(1, 1, 4); err != nil {
		t.Fatal(err)
	}
	if cnt, e, err := cacheEpoch(1); cnt != 4 || e != 1 || err != nil {
		t.Fatalf("cache: %d edits of epoch %d, %v", cnt, e, err)
	}
	if cnt, e, err := cacheEpoch(5); cnt != 0 || e != 1 || err != nil {
		t.Fatalf("cache past its end: %d edits of epoch %d, %v", cnt, e, err)
	}
	if s := inProgress()[1]; s.EndTxid != 4 || s.WriterEpoch != 1 {
		t.Fatalf("manifest: %+v", s)
	}
	// A request of epoch 2 raises the promise only: the edits are still
	// epoch 1's and say so.
	if err := j.Heartbeat((&writer{j: j, epoch: 2, serial: 100}).req()); err != nil {
		t.Fatal(err)
	}
	if _, e, _ := cacheEpoch(1); e != 1 {
		t.Fatalf("cache after a heartbeat of epoch 2: epoch %d", e)
	}
	if s := inProgress()[1]; s.WriterEpoch != 1 {
		t.Fatalf("manifest after a heartbeat of epoch 2: %+v", s)
	}
	// newEpoch drops the cache: the old writer's edits are no longer served
	// from memory; on disk they stay epoch 1's.
	if _, err := j.NewEpoch(ns, 3); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cacheEpoch(1); !errors.Is(err, ErrCacheMiss) {
		t.Fatalf("cache after newEpoch: %v", err)
	}
	if s := inProgress()[1]; s.WriterEpoch != 1 {
		t.Fatalf("manifest after newEpoch 3: %+v", s)
	}
	// Writer 3 starts segment 5 here (this JN missed the finalize of 1):
	// the old in-progress 1 is no longer the latest, no epoch vouches for it.
	w3 := &writer{j: j, epoch: 3}
	if err := j.StartLogSegment(w3.req(), 5); err != nil {
		t.Fatal(err)
	}
	if err := w3.journal(5, 5, 2); err != nil {
		t.Fatal(err)
	}
	ip := inProgress()
	if ip[1].WriterEpoch != 0 || ip[5].EndTxid != 6 || ip[5].WriterEpoch != 3 {
		t.Fatalf("manifest after writer 3's segment 5: %+v", ip)
	}
	if cnt, e, _ := cacheEpoch(5); cnt != 2 || e != 3 {
		t.Fatalf("cache of writer 3: %d edits of epoch %d", cnt, e)
	}
	// After a restart the epoch comes from last-writer-epoch.
	n.Close()
	if n, err = NewNode(opts); err != nil {
		t.Fatal(err)
	}
	j, _ = n.Journal("ns1")
	if s := inProgress()[5]; s.WriterEpoch != 3 {
		t.Fatalf("manifest after a restart: %+v", s)
	}
	// Accepted in a recovery of epoch 4 (this JN's copy is the chosen one):
	// the copy is vouched for by epoch 4.
	w4 := &writer{j: j, epoch: 4}
	if _, err := j.NewEpoch(ns, 4); err != nil {
		t.Fatal(err)
	}
	prep, err := j.PrepareRecovery(w4.req(), 5)
	if err != nil || prep.Segment == nil {
		t.Fatalf("prepareRecovery: %+v, %v", prep, err)
	}
	if err := j.AcceptRecovery(context.Background(), w4.req(), *prep.Segment, "self:8480"); err != nil {
		t.Fatal(err)
	}
	if s := inProgress()[5]; s.WriterEpoch != 4 {
		t.Fatalf("manifest after accepting in epoch 4: %+v", s)
	}
	// An accept that crashed before moving its download into place does
	// not vouch for the copy still there.
	tmp := j.syncTmpPath(5, 4)
	if err := os.WriteFile(tmp, segmentMagic, 0o644); err != nil {
		t.Fatal(err)
	}
	if s := inProgress()[5]; s.WriterEpoch != 3 {
		t.Fatalf("manifest with a half-done accept: %+v", s)
	}
	os.Remove(tmp)
}
