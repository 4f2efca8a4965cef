package journal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// Sentinel errors, shared with the wire protocol so they survive a round trip.
var (
	ErrEpochTooOld      = rpc.ErrEpochTooOld
	ErrNotWriter        = rpc.ErrNotWriter
	ErrNotFormatted     = rpc.ErrNotFormatted
	ErrAlreadyFormatted = rpc.ErrAlreadyFormatted
	ErrIncompatibleNS   = rpc.ErrIncompatibleNS
	ErrOutOfSync        = rpc.ErrOutOfSync
	ErrFinalizedSegment = rpc.ErrFinalizedSegment
	ErrNoSuchSegment    = rpc.ErrNoSuchSegment
	ErrCacheMiss        = rpc.ErrCacheMiss
)

// preallocBytes is how much zero padding a segment file grows by at a time.
const preallocBytes = 1 << 20

// FetchFunc downloads the segment starting at start of journal jid from the
// JournalNode whose HTTP endpoint is httpAddr, from a byte offset (0: the
// whole file; the JournalNode itself always downloads whole segments).
type FetchFunc = rpc.SegmentFetchFunc

// paxosData is the content of paxos/<txid>: the segment accepted in recovery
// and the epoch that accepted it. Persisting it is the commit point of acceptRecovery.
type paxosData struct {
	Segment         rpc.SegmentState `json:"segment"`
	AcceptedInEpoch int64            `json:"acceptedInEpoch"`
}

// Journal is one journal (one journal ID) on a JournalNode: its storage and
// the epoch rules of Hadoop's Journal class. All methods are safe for
// concurrent use; calls are applied one at a time.
type Journal struct {
	mu     sync.Mutex
	id     string
	dir    string // <edits.dir>/<jid>
	cur    string // <edits.dir>/<jid>/current
	noSync bool
	self   string // this JN's HTTP address: a recovery source that needs no download
	fetch  FetchFunc
	cache  *editCache

	formatted      atomic.Bool // read without mu by JournaledEdits
	ns             rpc.NamespaceInfo
	promised       int64
	writerEpoch    int64
	committed      int64
	ipcSerial      int64
	highestWritten int64

	segStart      int64 // start of the open in-progress segment, -1 when none
	segFile       *os.File
	segOff        int64 // where the next record goes
	segAlloc      int64 // bytes of the file already written (records plus zero padding)
	nextTxid      int64
	committedFile *os.File

	// scans remembers what in-progress segments not open for writing hold,
	// by file name, while their file is unchanged: a reader catching up
	// asks for the manifest once per batch, and scanning a long segment
	// each time would make its catch-up quadratic again.
	scans     map[string]cachedScan
	scanCount int // segment files scanned for the manifest (tests)
}

type cachedScan struct {
	fi  os.FileInfo
	res scanResult
}

func openJournal(root, jid, self string, noSync bool, fetch FetchFunc, cacheBytes int) (*Journal, error) {
	j := &Journal{
		id: jid, dir: filepath.Join(root, jid), noSync: noSync, fetch: fetch, self: self,
		cache: newEditCache(cacheBytes), committed: -1, ipcSerial: -1, segStart: -1,
	}
	j.cur = filepath.Join(j.dir, "current")
	if err := j.load(); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", jid, err)
	}
	return j, nil
}

func (j *Journal) load() error {
	b, err := os.ReadFile(filepath.Join(j.cur, "VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		j.formatted.Store(false)
		return nil
	}
	if err != nil {
		return err
	}
	p := parseProperties(b)
	j.ns.NamespaceID, _ = strconv.ParseInt(p["namespaceID"], 10, 64)
	j.ns.ClusterID = p["clusterID"]
	j.ns.CTime, _ = strconv.ParseInt(p["cTime"], 10, 64)
	j.ns.BlockPoolID = p["blockpoolID"]
	j.formatted.Store(true)
	if j.promised, err = readLong(filepath.Join(j.cur, "last-promised-epoch"), 0); err != nil {
		return err
	}
	if j.writerEpoch, err = readLong(filepath.Join(j.cur, "last-writer-epoch"), 0); err != nil {
		return err
	}
	if j.committed, err = readLong(filepath.Join(j.cur, "committed-txid"), -1); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(j.cur, "paxos"), 0o755); err != nil {
		return err
	}
	// A kill -9 can leave a torn record at the end of an in-progress segment:
	// cut every in-progress segment back to its last whole record.
	segs, err := listSegments(j.cur)
	if err != nil {
		return err
	}
	j.highestWritten = 0
	for _, s := range segs {
		if !s.InProgress {
			j.highestWritten = max(j.highestWritten, s.EndTxid)
			continue
		}
		p := filepath.Join(j.cur, s.name)
		res, err := scanSegment(p, s.StartTxid)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(p); err == nil && fi.Size() > res.validLen && res.validLen >= headerLen {
			if err := os.Truncate(p, res.validLen); err != nil {
				return fmt.Errorf("truncate torn tail of %s: %w", p, err)
			}
		}
		j.highestWritten = max(j.highestWritten, res.lastTxid)
	}
	return nil
}

func (j *Journal) versionBytes(ns rpc.NamespaceInfo) []byte {
	return fmt.Appendf(nil, "#%s\nnamespaceID=%d\nclusterID=%s\ncTime=%d\nstorageType=JOURNAL_NODE\nlayoutVersion=-66\nblockpoolID=%s\n",
		time.Now().UTC().Format(time.UnixDate), ns.NamespaceID, ns.ClusterID, ns.CTime, ns.BlockPoolID)
}

func (j *Journal) persistLong(name string, v int64) error {
	return writeFileAtomic(filepath.Join(j.cur, name), []byte(strconv.FormatInt(v, 10)+"\n"), j.noSync)
}

// checkFormatted refuses calls on a journal that holds no namespace yet.
func (j *Journal) checkFormatted() error {
	if !j.formatted.Load() {
		return fmt.Errorf("journal %s: %w", j.id, ErrNotFormatted)
	}
	return nil
}

func (j *Journal) updatePromise(epoch int64) error {
	if err := j.persistLong("last-promised-epoch", epoch); err != nil {
		return err
	}
	j.promised = epoch
	// A new epoch starts a new sequence of IPC serial numbers.
	j.ipcSerial = -1
	return nil
}

// checkRequest applies Hadoop's rules to every epoch-carrying call.
func (j *Journal) checkRequest(r rpc.RequestInfo) error {
	if r.Epoch < j.promised {
		return fmt.Errorf("journal %s: IPC's epoch %d is less than the last promised epoch %d: %w", j.id, r.Epoch, j.promised, ErrEpochTooOld)
	}
	if r.Epoch > j.promised {
		// A writer that got its epoch from a quorum we were not part of.
		if err := j.updatePromise(r.Epoch); err != nil {
			return err
		}
	}
	if r.IPCSerial <= j.ipcSerial {
		return fmt.Errorf("journal %s: IPC serial %d was not higher than prior highest IPC serial %d: %w", j.id, r.IPCSerial, j.ipcSerial, ErrOutOfSync)
	}
	j.ipcSerial = r.IPCSerial
	if r.CommittedTxid >= 0 {
		if r.CommittedTxid < j.committed {
			return fmt.Errorf("journal %s: client trying to move committed txid backward from %d to %d: %w", j.id, j.committed, r.CommittedTxid, rpc.ErrCommittedTxidBackward)
		}
		if r.CommittedTxid != j.committed {
			j.committed = r.CommittedTxid
			j.writeCommitted()
		}
	}
	return nil
}

// writeCommitted records committed-txid best-effort (as Hadoop's
// BestEffortLongFile): it is a sanity check for recovery, not a commit point.
func (j *Journal) writeCommitted() {
	if j.committedFile == nil {
		f, err := os.OpenFile(filepath.Join(j.cur, "committed-txid"), os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		j.committedFile = f
	}
	s := strconv.FormatInt(j.committed, 10) + "\n"
	if _, err := j.committedFile.WriteAt([]byte(s), 0); err == nil {
		j.committedFile.Truncate(int64(len(s)))
	}
}

func (j *Journal) checkWriteRequest(r rpc.RequestInfo) error {
	if err := j.checkRequest(r); err != nil {
		return err
	}
	if r.Epoch != j.writerEpoch {
		return fmt.Errorf("journal %s: IPC's epoch %d is not the current writer epoch %d: %w", j.id, r.Epoch, j.writerEpoch, ErrNotWriter)
	}
	return nil
}

func (j *Journal) abortSegment() {
	j.scans = nil // the open segment becomes one the manifest scans
	if j.segFile != nil {
		j.segFile.Close()
	}
	j.segFile, j.segStart = nil, -1
}

// IsFormatted reports whether the journal holds a namespace.
func (j *Journal) IsFormatted() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.formatted.Load()
}

// Namespace returns the journal's namespace and whether it is formatted.
func (j *Journal) Namespace() (rpc.NamespaceInfo, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ns, j.formatted.Load()
}

// hasEdits reports whether any segment file exists.
func (j *Journal) hasEdits() bool {
	segs, _ := listSegments(j.cur)
	return len(segs) > 0
}

// Format writes current/VERSION. A journal already holding another namespace
// is refused, and one holding edits too, unless force (which wipes it).
func (j *Journal) Format(ns rpc.NamespaceInfo, force bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if ns.ClusterID == "" {
		return fmt.Errorf("journal %s: format with an empty clusterID: %w", j.id, rpc.ErrBadRequest)
	}
	if j.formatted.Load() && !force {
		if !j.ns.Compatible(ns) {
			return fmt.Errorf("journal %s is formatted for %s, refusing to format it for %s: %w", j.id, j.ns, ns, ErrIncompatibleNS)
		}
		if j.hasEdits() || j.promised > 0 {
			return fmt.Errorf("journal %s already formatted for %s and holds data: %w", j.id, j.ns, ErrAlreadyFormatted)
		}
		return nil // the same namespace, nothing written yet: formatting again changes nothing
	}
	j.abortSegment()
	if j.committedFile != nil {
		j.committedFile.Close()
		j.committedFile = nil
	}
	if err := os.RemoveAll(j.cur); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(j.cur, "paxos"), 0o755); err != nil {
		return err
	}
	if !j.noSync {
		syncDir(j.dir)
		syncDir(filepath.Dir(j.dir))
	}
	if err := writeFileAtomic(filepath.Join(j.cur, "VERSION"), j.versionBytes(ns), j.noSync); err != nil {
		return err
	}
	j.ns = ns
	j.formatted.Store(true)
	j.promised, j.writerEpoch, j.committed, j.ipcSerial, j.highestWritten = 0, 0, -1, -1, 0
	j.cache.clear()
	return nil
}

// GetJournalState returns the last promised epoch.
func (j *Journal) GetJournalState() (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.checkFormatted(); err != nil {
		return 0, err
	}
	return j.promised, nil
}

// NewEpoch promises epoch (it must exceed every earlier promise) and returns
// the start txid of the latest segment, -1 when there is none.
func (j *Journal) NewEpoch(ns rpc.NamespaceInfo, epoch int64) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.checkFormatted(); err != nil {
		return 0, err
	}
	if !j.ns.Compatible(ns) {
		return 0, fmt.Errorf("journal %s holds %s, the writer has %s: %w", j.id, j.ns, ns, ErrIncompatibleNS)
	}
	if epoch <= j.promised {
		return 0, fmt.Errorf("journal %s: proposed epoch %d <= last promise %d: %w", j.id, epoch, j.promised, ErrEpochTooOld)
	}
	if err := j.updatePromise(epoch); err != nil {
		return 0, err
	}
	j.abortSegment()
	j.cache.clear()
	return j.latestSegmentStart()
}

// latestSegmentStart finds the newest segment; an empty in-progress segment
// (a writer died right after starting it) is removed as it holds nothing.
func (j *Journal) latestSegmentStart() (int64, error) {
	for {
		segs, err := listSegments(j.cur)
		if err != nil {
			return 0, err
		}
		if len(segs) == 0 {
			return -1, nil
		}
		last := segs[len(segs)-1]
		if !last.InProgress {
			return last.StartTxid, nil
		}
		res, err := scanSegment(filepath.Join(j.cur, last.name), last.StartTxid)
		if err != nil {
			return 0, err
		}
		if res.count > 0 {
			return last.StartTxid, nil
		}
		if err := os.Remove(filepath.Join(j.cur, last.name)); err != nil {
			return 0, err
		}
	}
}

// segmentInfo describes the segment starting at start, or nil. An empty
// in-progress segment counts as none and is removed.
func (j *Journal) segmentInfo(start int64) (*rpc.SegmentState, error) {
	segs, err := listSegments(j.cur)
	if err != nil {
		return nil, err
	}
	for _, s := range segs {
		if s.StartTxid != start {
			continue
		}
		if !s.InProgress {
			st := s.SegmentState
			return &st, nil
		}
		p := filepath.Join(j.cur, s.name)
		res, err := scanSegment(p, start)
		if err != nil {
			return nil, err
		}
		if res.count == 0 {
			if j.segStart != start {
				os.Remove(p)
			}
			return nil, nil
		}
		return &rpc.SegmentState{StartTxid: start, EndTxid: res.lastTxid, InProgress: true}, nil
	}
	return nil, nil
}

// StartLogSegment opens edits_inprogress_<txid> for the writer of r.Epoch.
func (j *Journal) StartLogSegment(r rpc.RequestInfo, txid int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkFormatted(); err != nil {
		return err
	}
	if err := j.checkRequest(r); err != nil {
		return err
	}
	if txid < 1 {
		return fmt.Errorf("journal %s: segment start txid %d: %w", j.id, txid, rpc.ErrBadRequest)
	}
	if j.writerEpoch != r.Epoch {
		if err := j.persistLong("last-writer-epoch", r.Epoch); err != nil {
			return err
		}
		j.writerEpoch = r.Epoch
	}
	j.abortSegment()
	segs, err := listSegments(j.cur)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s.StartTxid != txid {
			continue
		}
		if !s.InProgress {
			return fmt.Errorf("journal %s: already have %s beginning at %d: %w", j.id, s.name, txid, ErrFinalizedSegment)
		}
		// An in-progress segment at the same start holds only edits that no
		// majority acknowledged (recovery would have kept them otherwise):
		// keep it aside for inspection rather than deleting it.
		p := filepath.Join(j.cur, s.name)
		if res, err := scanSegment(p, txid); err == nil && res.count > 0 {
			if err := os.Rename(p, fmt.Sprintf("%s.stale-epoch-%d", p, r.Epoch)); err != nil {
				return err
			}
		}
	}
	f, err := os.OpenFile(filepath.Join(j.cur, inProgressName(txid)), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	// Zero padding after the records reads as a torn record, so it ends the
	// segment for every reader; preallocating it lets each journal call's
	// fdatasync flush data only, without a metadata commit (as Hadoop
	// preallocates its edit logs).
	pad := make([]byte, preallocBytes)
	copy(pad, segmentMagic)
	if _, err := f.Write(pad); err != nil {
		f.Close()
		return err
	}
	if !j.noSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := syncDir(j.cur); err != nil {
			f.Close()
			return err
		}
	}
	j.segFile, j.segStart, j.nextTxid = f, txid, txid
	j.segOff, j.segAlloc = headerLen, int64(len(pad))
	j.cache.clear()
	return nil
}

// Journal appends a batch of framed records to the open segment and fsyncs it.
func (j *Journal) Journal(req rpc.JournalRequest) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.checkFormatted(); err != nil {
		return err
	}
	if err := j.checkWriteRequest(req.Req); err != nil {
		return err
	}
	if j.segFile == nil {
		return fmt.Errorf("journal %s: can't write txid %d: no segment open: %w", j.id, req.FirstTxid, ErrOutOfSync)
	}
	if req.SegmentTxid != j.segStart {
		return fmt.Errorf("journal %s: writer out of sync: it thinks it is writing segment %d but current segment is %d: %w", j.id, req.SegmentTxid, j.segStart, ErrOutOfSync)
	}
	if req.FirstTxid != j.nextTxid {
		return fmt.Errorf("journal %s: can't write txid %d expecting nextTxId=%d: %w", j.id, req.FirstTxid, j.nextTxid, ErrOutOfSync)
	}
	// Check the batch before any byte of it reaches the segment.
	buf, want, n := req.Records, req.FirstTxid, int64(0)
	for len(buf) > 0 {
		e, l, err := rpc.ReadRecord(buf)
		if err != nil {
			return fmt.Errorf("journal %s: record %d of the batch: %w: %w", j.id, n, err, rpc.ErrBadRequest)
		}
		if e.Txid != want {
			return fmt.Errorf("journal %s: batch holds txid %d where %d belongs: %w", j.id, e.Txid, want, rpc.ErrBadRequest)
		}
		want++
		n++
		buf = buf[l:]
	}
	if n != req.NumTxns || n == 0 {
		return fmt.Errorf("journal %s: batch holds %d edits, the header says %d: %w", j.id, n, req.NumTxns, rpc.ErrBadRequest)
	}
	if end := j.segOff + int64(len(req.Records)); end > j.segAlloc {
		grow := max(preallocBytes, end-j.segAlloc)
		if _, err := j.segFile.WriteAt(make([]byte, grow), j.segAlloc); err != nil {
			j.abortSegment()
			return fmt.Errorf("journal %s: preallocate: %w", j.id, err)
		}
		j.segAlloc += grow
	}
	if _, err := j.segFile.WriteAt(req.Records, j.segOff); err != nil {
		j.abortSegment()
		return fmt.Errorf("journal %s: write: %w", j.id, err)
	}
	j.segOff += int64(len(req.Records))
	if !j.noSync {
		if err := fdatasync(j.segFile); err != nil {
			j.abortSegment()
			return fmt.Errorf("journal %s: fsync: %w", j.id, err)
		}
	}
	last := req.FirstTxid + n - 1
	j.nextTxid = last + 1
	j.highestWritten = max(j.highestWritten, last)
	j.cache.add(j.writerEpoch, req.FirstTxid, last, req.Records)
	return nil
}

// Heartbeat checks the epoch and records the committed txid.
func (j *Journal) Heartbeat(r rpc.RequestInfo) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.checkFormatted(); err != nil {
		return err
	}
	return j.checkRequest(r)
}

// FinalizeLogSegment renames edits_inprogress_<start> to edits_<start>-<end>.
func (j *Journal) FinalizeLogSegment(r rpc.RequestInfo, start, end int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkFormatted(); err != nil {
		return err
	}
	if err := j.checkRequest(r); err != nil {
		return err
	}
	if end < start {
		return fmt.Errorf("journal %s: finalize segment %d at %d: %w", j.id, start, end, rpc.ErrBadRequest)
	}
	if j.segStart == start {
		j.abortSegment()
	}
	segs, err := listSegments(j.cur)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s.StartTxid != start {
			continue
		}
		if s.InProgress {
			// Only finalize a copy this epoch vouches for: the newest segment
			// written by this writer, or the copy accepted in this epoch's
			// recovery. A stale copy of equal length from an older writer
			// must not become a finalized segment.
			latest := segs[len(segs)-1].StartTxid == start
			p, err := j.readPaxos(start)
			if err != nil {
				return err
			}
			accepted := p != nil && p.AcceptedInEpoch == r.Epoch && p.Segment.EndTxid == end
			if !accepted && !(latest && j.writerEpoch == r.Epoch) {
				return fmt.Errorf("journal %s: in-progress segment %d was neither written nor accepted in epoch %d: %w", j.id, start, r.Epoch, ErrOutOfSync)
			}
		}
		if !s.InProgress {
			if s.EndTxid != end {
				return fmt.Errorf("journal %s: trying to finalize segment %d-%d but %s exists: %w", j.id, start, end, s.name, ErrFinalizedSegment)
			}
			return j.purgePaxos(start)
		}
		p := filepath.Join(j.cur, s.name)
		res, err := scanSegment(p, start)
		if err != nil {
			return err
		}
		if res.lastTxid != end {
			return fmt.Errorf("journal %s: trying to finalize in-progress segment %d to end at txid %d but it only holds up to txid %d: %w", j.id, start, end, res.lastTxid, ErrOutOfSync)
		}
		if fi, err := os.Stat(p); err == nil && fi.Size() > res.validLen {
			if err := os.Truncate(p, res.validLen); err != nil {
				return err
			}
		}
		if err := os.Rename(p, filepath.Join(j.cur, finalizedName(start, end))); err != nil {
			return err
		}
		if !j.noSync {
			if err := syncDir(j.cur); err != nil {
				return err
			}
		}
		j.highestWritten = max(j.highestWritten, end)
		return j.purgePaxos(start)
	}
	return fmt.Errorf("journal %s: no segment starting at %d to finalize: %w", j.id, start, ErrNoSuchSegment)
}

func (j *Journal) purgePaxos(start int64) error {
	err := os.Remove(filepath.Join(j.cur, "paxos", strconv.FormatInt(start, 10)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Manifest lists segments ending at or after since; in-progress ones (with
// their current end) only when inProgressOK.
func (j *Journal) Manifest(since int64, inProgressOK bool) ([]rpc.SegmentState, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.checkFormatted(); err != nil {
		return nil, err
	}
	segs, err := listSegments(j.cur)
	if err != nil {
		return nil, err
	}
	var out []rpc.SegmentState
	for i, s := range segs {
		st := s.SegmentState
		if s.InProgress {
			if !inProgressOK {
				continue
			}
			if s.StartTxid == j.segStart {
				st.EndTxid = j.nextTxid - 1
			} else {
				res, err := j.scanUnchanged(s.name, s.StartTxid)
				if err != nil {
					return nil, err
				}
				st.EndTxid = res.lastTxid
			}
			if st.EndTxid < st.StartTxid {
				continue
			}
			// The segment being written is the last writer's; with none
			// open, the newest segment is.
			latest := i == len(segs)-1
			if j.segFile != nil {
				latest = s.StartTxid == j.segStart
			}
			if st.WriterEpoch, err = j.inProgressEpoch(st, latest); err != nil {
				return nil, err
			}
		}
		if st.EndTxid >= since {
			out = append(out, st)
		}
	}
	return out, nil
}

// inProgressEpoch is the epoch this JN vouches the bytes of in-progress
// segment st for, as recovery ranks a copy (max of acceptedInEpoch and
// lastWriterEpoch): the last writer epoch when st is the segment open for
// writing or, with none open, the newest segment (only the writer of that
// epoch started it, or wrote to it, or renamed an older copy at its start
// aside), and the epoch that accepted st in a
// recovery whose copy is in place. An older in-progress segment not
// accepted in recovery is vouched for by no epoch (0): a later writer may
// have finalized it elsewhere, or another writer's copy of it be current.
// Caller holds j.mu.
func (j *Journal) inProgressEpoch(st rpc.SegmentState, latest bool) (int64, error) {
	e := int64(0)
	if latest {
		e = j.writerEpoch
	}
	p, err := j.readPaxos(st.StartTxid)
	if err != nil || p == nil {
		return e, err
	}
	// An accept that crashed before its download was moved into place
	// left the old copy there: that copy is not the accepted one.
	if _, err := os.Stat(j.syncTmpPath(st.StartTxid, p.AcceptedInEpoch)); err == nil {
		return e, nil
	}
	if p.Segment.StartTxid == st.StartTxid && p.Segment.EndTxid == st.EndTxid {
		e = max(e, p.AcceptedInEpoch)
	}
	return e, nil
}

// scanUnchanged scans the segment file name of the journal's current
// directory, or returns the last scan of it if the file is still the same
// (same inode, size and modification time). Caller holds j.mu.
func (j *Journal) scanUnchanged(name string, start int64) (scanResult, error) {
	p := filepath.Join(j.cur, name)
	fi, err := os.Stat(p)
	if err != nil {
		return scanResult{}, err
	}
	if c, ok := j.scans[name]; ok && os.SameFile(c.fi, fi) && c.fi.Size() == fi.Size() && c.fi.ModTime().Equal(fi.ModTime()) {
		return c.res, nil
	}
	res, err := scanSegment(p, start)
	if err != nil {
		return scanResult{}, err
	}
	j.scanCount++
	if j.scans == nil || len(j.scans) > 16 {
		j.scans = map[string]cachedScan{}
	}
	j.scans[name] = cachedScan{fi, res}
	return res, nil
}

// JournaledEdits returns up to max edits from since out of the memory cache,
// and the epoch of the writer that journaled them: a reader must not take
// an older writer's edits for the current one's (see the qjm reader). It
// does not take the journal's lock, which Journal holds across its fsync: a
// tailing standby never waits behind a write. Batches enter the cache only
// once they are fsynced, as in Hadoop's JournaledEditsCache.
func (j *Journal) JournaledEdits(since int64, max int) (n int64, recs []byte, epoch int64, err error) {
	if err := j.checkFormatted(); err != nil {
		return 0, nil, 0, err
	}
	n, recs, epoch, err = j.cache.read(since, max)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("journal %s: txid %d: %w", j.id, since, err)
	}
	return n, recs, epoch, nil
}

func (j *Journal) readPaxos(start int64) (*paxosData, error) {
	b, err := os.ReadFile(filepath.Join(j.cur, "paxos", strconv.FormatInt(start, 10)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p paxosData
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("paxos/%d: %w", start, err)
	}
	return &p, nil
}

func (j *Journal) syncTmpPath(start, epoch int64) string {
	return filepath.Join(j.cur, "paxos", fmt.Sprintf("%d.epoch=%d.tmp", start, epoch))
}

// completeHalfDoneAccept finishes an acceptRecovery that persisted its paxos
// decision but crashed before moving the downloaded segment into place.
func (j *Journal) completeHalfDoneAccept(p *paxosData) error {
	if p == nil {
		return nil
	}
	tmp := j.syncTmpPath(p.Segment.StartTxid, p.AcceptedInEpoch)
	if _, err := os.Stat(tmp); err != nil {
		return nil
	}
	if err := os.Rename(tmp, filepath.Join(j.cur, inProgressName(p.Segment.StartTxid))); err != nil {
		return err
	}
	if j.noSync {
		return nil
	}
	return syncDir(j.cur)
}

// PrepareRecovery is paxos phase 1 for the segment starting at start.
func (j *Journal) PrepareRecovery(r rpc.RequestInfo, start int64) (rpc.PrepareRecoveryResponse, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var resp rpc.PrepareRecoveryResponse
	if err := j.checkFormatted(); err != nil {
		return resp, err
	}
	if err := j.checkRequest(r); err != nil {
		return resp, err
	}
	if j.segStart == start {
		j.abortSegment()
	}
	prev, err := j.readPaxos(start)
	if err != nil {
		return resp, err
	}
	if err := j.completeHalfDoneAccept(prev); err != nil {
		return resp, err
	}
	seg, err := j.segmentInfo(start)
	if err != nil {
		return resp, err
	}
	finalized := seg != nil && !seg.InProgress
	if prev != nil && !finalized {
		if seg == nil || seg.EndTxid != prev.Segment.EndTxid {
			return resp, fmt.Errorf("journal %s: accepted %s in epoch %d but holds %v", j.id, prev.Segment, prev.AcceptedInEpoch, seg)
		}
		s := prev.Segment
		resp.Segment, resp.AcceptedInEpoch = &s, prev.AcceptedInEpoch
	} else {
		resp.Segment = seg
	}
	resp.LastWriterEpoch = j.writerEpoch
	resp.LastCommitted = j.committed
	return resp, nil
}

// AcceptRecovery is paxos phase 2: make the local copy of the segment equal to
// seg, downloading it from fromHTTP if it differs, with the paxos file as the
// commit point.
func (j *Journal) AcceptRecovery(ctx context.Context, r rpc.RequestInfo, seg rpc.SegmentState, fromHTTP string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkFormatted(); err != nil {
		return err
	}
	if err := j.checkRequest(r); err != nil {
		return err
	}
	start := seg.StartTxid
	if j.segStart == start {
		j.abortSegment()
	}
	cur, err := j.segmentInfo(start)
	if err != nil {
		return err
	}
	var synced string
	// Edits are opaque, so two in-progress copies of equal length may still
	// differ (one written by an older writer that no quorum acknowledged):
	// unless this JN is the chosen source, take the chosen copy's bytes.
	if cur == nil || cur.EndTxid != seg.EndTxid || (cur.InProgress && fromHTTP != j.self) {
		if cur != nil && !cur.InProgress {
			return fmt.Errorf("journal %s: asked to replace %s with %s: %w", j.id, cur, seg, ErrFinalizedSegment)
		}
		if cur != nil && j.committed >= start && seg.EndTxid < j.committed && cur.EndTxid >= j.committed {
			return fmt.Errorf("journal %s: cannot replace %s with %s: it would lose committed txid %d: %w", j.id, cur, seg, j.committed, ErrOutOfSync)
		}
		if synced, err = j.download(ctx, r.Epoch, seg, fromHTTP); err != nil {
			return err
		}
	}
	old, err := j.readPaxos(start)
	if err != nil {
		return err
	}
	if old != nil && old.AcceptedInEpoch > r.Epoch {
		return fmt.Errorf("journal %s: bad paxos transition: accepted in epoch %d, now %d", j.id, old.AcceptedInEpoch, r.Epoch)
	}
	b, _ := json.Marshal(paxosData{Segment: seg, AcceptedInEpoch: r.Epoch})
	if err := writeFileAtomic(filepath.Join(j.cur, "paxos", strconv.FormatInt(start, 10)), b, j.noSync); err != nil {
		return err
	}
	if synced != "" {
		if err := os.Rename(synced, filepath.Join(j.cur, inProgressName(start))); err != nil {
			return err
		}
		if !j.noSync {
			if err := syncDir(j.cur); err != nil {
				return err
			}
		}
		// The synced copy may be shorter than what was here: an older
		// writer's unacknowledged tail is gone, so when this is the
		// latest segment its end is now the highest txid held.
		if latest, err := j.latestSegmentStart(); err == nil && latest <= start {
			j.highestWritten = seg.EndTxid
		} else {
			j.highestWritten = max(j.highestWritten, seg.EndTxid)
		}
	}
	j.cache.clear()
	return nil
}

// download fetches seg from another JournalNode into a temporary file, keeping
// exactly txids seg.StartTxid..seg.EndTxid.
func (j *Journal) download(ctx context.Context, epoch int64, seg rpc.SegmentState, fromHTTP string) (string, error) {
	if j.fetch == nil {
		return "", fmt.Errorf("journal %s: no way to download segments", j.id)
	}
	body, err := j.fetch(ctx, fromHTTP, j.id, seg.StartTxid, 0)
	if err != nil {
		return "", fmt.Errorf("journal %s: download %s from %s: %w", j.id, seg, fromHTTP, err)
	}
	defer body.Close()
	tmp := j.syncTmpPath(seg.StartTxid, epoch)
	if err := copySegment(tmp, body, seg, j.noSync); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("journal %s: download %s from %s: %w", j.id, seg, fromHTTP, err)
	}
	return tmp, nil
}

// copySegment writes the records seg.StartTxid..seg.EndTxid read from r to
// path (fsynced), failing if r holds fewer.
func copySegment(path string, r io.Reader, seg rpc.SegmentState, noSync bool) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	w.Write(segmentMagic)
	var rec []byte
	stop := errors.New("stop")
	res, err := scanReader(bufio.NewReaderSize(r, 256<<10), seg.StartTxid, func(e rpc.Edit) error {
		if e.Txid > seg.EndTxid {
			return stop
		}
		rec = rpc.AppendRecord(rec[:0], e.Txid, e.Data)
		_, err := w.Write(rec)
		return err
	})
	if err != nil && err != stop {
		return err
	}
	if res.lastTxid < seg.EndTxid {
		return fmt.Errorf("source holds txids only up to %d, want %d", res.lastTxid, seg.EndTxid)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !noSync {
		return f.Sync()
	}
	return nil
}

// PurgeLogs removes finalized segments that end below minTxid (and stale
// in-progress ones and paxos files that begin below it).
func (j *Journal) PurgeLogs(r rpc.RequestInfo, minTxid int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkFormatted(); err != nil {
		return err
	}
	if err := j.checkRequest(r); err != nil {
		return err
	}
	segs, err := listSegments(j.cur)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if (!s.InProgress && s.EndTxid < minTxid) || (s.InProgress && s.StartTxid < minTxid && s.StartTxid != j.segStart) {
			if err := os.Remove(filepath.Join(j.cur, s.name)); err != nil {
				return err
			}
			j.purgePaxos(s.StartTxid)
		}
	}
	return nil
}

// Status summarizes the journal.
func (j *Journal) Status() rpc.StatusResponse {
	j.mu.Lock()
	defer j.mu.Unlock()
	segs, _ := listSegments(j.cur)
	return rpc.StatusResponse{
		Formatted: j.formatted.Load(), Namespace: j.ns, PromisedEpoch: j.promised, WriterEpoch: j.writerEpoch,
		CommittedTxid: j.committed, HighestTxid: j.highestWritten, CurrentSegment: j.segStart, Segments: len(segs),
	}
}

// openSegmentForRead opens the segment file beginning at start (finalized
// preferred) for download. size is how many bytes of it hold the header and
// whole records: for the segment being written, where the next record goes
// (not the preallocated padding after it); otherwise the file's size.
func (j *Journal) openSegmentForRead(start int64) (f *os.File, size int64, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	segs, err := listSegments(j.cur)
	if err != nil {
		return nil, 0, err
	}
	for _, s := range segs {
		if s.StartTxid != start {
			continue
		}
		if f, err = os.Open(filepath.Join(j.cur, s.name)); err != nil {
			return nil, 0, err
		}
		if s.InProgress && s.StartTxid == j.segStart && j.segFile != nil {
			return f, j.segOff, nil
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
	return nil, 0, fmt.Errorf("journal %s: segment %d: %w", j.id, start, ErrNoSuchSegment)
}

// installFinalized adds a finalized segment copied from a peer (the syncer).
func (j *Journal) installFinalized(ctx context.Context, seg rpc.SegmentState, fromHTTP string) error {
	if j.fetch == nil {
		return errors.New("no way to download segments")
	}
	body, err := j.fetch(ctx, fromHTTP, j.id, seg.StartTxid, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	tmp := filepath.Join(j.cur, fmt.Sprintf("%s.sync.tmp", finalizedName(seg.StartTxid, seg.EndTxid)))
	if err := copySegment(tmp, body, seg, j.noSync); err != nil {
		os.Remove(tmp)
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	// Re-check under the lock: the writer may have moved meanwhile.
	segs, err := listSegments(j.cur)
	if err != nil {
		os.Remove(tmp)
		return err
	}
	for _, s := range segs {
		if s.StartTxid == seg.StartTxid && (!s.InProgress || s.StartTxid == j.segStart) {
			os.Remove(tmp)
			return nil
		}
	}
	if err := os.Rename(tmp, filepath.Join(j.cur, finalizedName(seg.StartTxid, seg.EndTxid))); err != nil {
		return err
	}
	// A stale in-progress copy of the same segment (this JN missed its finalize)
	// is now superseded.
	for _, s := range segs {
		if s.StartTxid == seg.StartTxid && s.InProgress {
			os.Rename(filepath.Join(j.cur, s.name), filepath.Join(j.cur, s.name+".superseded"))
		}
	}
	if !j.noSync {
		if err := syncDir(j.cur); err != nil {
			return err
		}
	}
	j.highestWritten = max(j.highestWritten, seg.EndTxid)
	return nil
}

func (j *Journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.abortSegment()
	if j.committedFile != nil {
		j.committedFile.Close()
		j.committedFile = nil
	}
}
