package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/jmx"
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

// Journal is one journal (one journal ID) on a JournalNode: its storage,
// deciding each call by the epoch rules of Hadoop's Journal class (the pure
// epochs of epochs.go). All methods are safe for concurrent use; calls are
// applied one at a time.
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
	ep             epochs // the epoch rules' state (epochs.go), as persisted
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

	written WriteCounts // JMX's JournalMetrics
	// syncs are the write+fsync latencies of journal batches, in µs, over
	// Hadoop's JournalMetrics intervals (1, 5 and 60 minutes).
	syncs []*jmx.Quantiles
}

// syncIntervals are Hadoop's JournalMetrics.QUANTILE_INTERVALS.
var syncIntervals = []time.Duration{time.Minute, 5 * time.Minute, time.Hour}

// WriteCounts are the counters of Hadoop's JournalMetrics, kept under mu.
type WriteCounts struct {
	Batches, Txns, Bytes int64
	// BatchesWhileLagging: batches whose last txid the writer had already
	// committed, i.e. this JN was catching up, not part of the quorum.
	BatchesWhileLagging int64
	LastJournalMs       int64 // wall clock of the last batch written, ms
}

type cachedScan struct {
	fi  os.FileInfo
	res scanResult
}

func openJournal(root, jid, self string, noSync bool, fetch FetchFunc, cacheBytes int) (*Journal, error) {
	j := &Journal{
		id: jid, dir: filepath.Join(root, jid), noSync: noSync, fetch: fetch, self: self,
		cache: newEditCache(cacheBytes), ep: newEpochs(), segStart: -1,
	}
	for _, iv := range syncIntervals {
		j.syncs = append(j.syncs, jmx.NewQuantiles("Syncs", "LatencyMicros", iv, nil))
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
	if j.ep.promised, err = readLong(filepath.Join(j.cur, "last-promised-epoch"), 0); err != nil {
		return err
	}
	if j.ep.writer, err = readLong(filepath.Join(j.cur, "last-writer-epoch"), 0); err != nil {
		return err
	}
	if j.ep.committed, err = readLong(filepath.Join(j.cur, "committed-txid"), -1); err != nil {
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

// adopt persists what next changes of the journal's epoch state, then takes
// it (see epochs.go); refused, the decision's refusal, is returned after:
// a refused call may still have changed the state.
func (j *Journal) adopt(next epochs, refused error) error {
	if next.promised != j.ep.promised {
		if err := j.persistLong("last-promised-epoch", next.promised); err != nil {
			return err
		}
	}
	if next.writer != j.ep.writer {
		if err := j.persistLong("last-writer-epoch", next.writer); err != nil {
			next.writer = j.ep.writer
			j.take(next)
			return err
		}
	}
	j.take(next)
	if refused != nil {
		return fmt.Errorf("journal %s: %w", j.id, refused)
	}
	return nil
}

// take makes next the journal's epoch state; its promise and writer epoch
// are on disk already.
func (j *Journal) take(next epochs) {
	moved := next.committed != j.ep.committed
	j.ep = next
	if moved {
		j.writeCommitted()
	}
}

// checkRequest applies Hadoop's rules to every epoch-carrying call.
func (j *Journal) checkRequest(r rpc.RequestInfo) error {
	return j.adopt(j.ep.admit(r))
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
	s := strconv.FormatInt(j.ep.committed, 10) + "\n"
	if _, err := j.committedFile.WriteAt([]byte(s), 0); err == nil {
		j.committedFile.Truncate(int64(len(s)))
	}
}

// checkCall refuses an epoch-carrying call on a journal that is not
// formatted, then applies checkRequest.
func (j *Journal) checkCall(r rpc.RequestInfo) error {
	if err := j.checkFormatted(); err != nil {
		return err
	}
	return j.checkRequest(r)
}

// checkWriteRequest is checkRequest for a call that writes edits.
func (j *Journal) checkWriteRequest(r rpc.RequestInfo) error {
	return j.adopt(j.ep.admitWrite(r))
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
		if j.hasEdits() || j.ep.promised > 0 {
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
	j.ep, j.highestWritten = newEpochs(), 0
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
	return j.ep.promised, nil
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
	next, err := j.ep.newEpoch(epoch)
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w", j.id, err)
	}
	if err := j.adopt(next, nil); err != nil {
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
	if err := j.checkCall(r); err != nil {
		return err
	}
	if txid < 1 {
		return fmt.Errorf("journal %s: segment start txid %d: %w", j.id, txid, rpc.ErrBadRequest)
	}
	if err := j.adopt(j.ep.startSegment(r.Epoch), nil); err != nil {
		return err
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
	// Timed as Hadoop's Journal times curSegment.flush: write and fsync.
	began := time.Now()
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
	for _, q := range j.syncs {
		q.Add(time.Since(began).Microseconds())
	}
	last := req.FirstTxid + n - 1
	j.written.Batches++
	j.written.Txns += n
	j.written.Bytes += int64(len(req.Records))
	if last <= j.ep.committed {
		j.written.BatchesWhileLagging++
	}
	j.written.LastJournalMs = time.Now().UnixMilli()
	j.nextTxid = last + 1
	j.highestWritten = max(j.highestWritten, last)
	j.cache.add(j.ep.writer, req.FirstTxid, last, req.Records)
	return nil
}

// Heartbeat checks the epoch and records the committed txid.
func (j *Journal) Heartbeat(r rpc.RequestInfo) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.checkCall(r)
}

// FinalizeLogSegment renames edits_inprogress_<start> to edits_<start>-<end>.
func (j *Journal) FinalizeLogSegment(r rpc.RequestInfo, start, end int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkCall(r); err != nil {
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
			latest := segs[len(segs)-1].StartTxid == start
			p, err := j.readPaxos(start)
			if err != nil {
				return err
			}
			if !j.ep.mayFinalize(r.Epoch, end, latest, p) {
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
// segment st for (epochs.vouchedEpoch), latest when st is the segment open
// for writing or, with none open, the newest. Caller holds j.mu.
func (j *Journal) inProgressEpoch(st rpc.SegmentState, latest bool) (int64, error) {
	p, err := j.readPaxos(st.StartTxid)
	if err != nil {
		return j.ep.vouchedEpoch(st, latest, nil, false), err
	}
	halfDone := false
	if p != nil {
		_, err := os.Stat(j.syncTmpPath(st.StartTxid, p.AcceptedInEpoch))
		halfDone = err == nil
	}
	return j.ep.vouchedEpoch(st, latest, p, halfDone), nil
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

// PurgeLogs removes finalized segments that end below minTxid (and stale
// in-progress ones and paxos files that begin below it).
func (j *Journal) PurgeLogs(r rpc.RequestInfo, minTxid int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkCall(r); err != nil {
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
		Formatted: j.formatted.Load(), Namespace: j.ns, PromisedEpoch: j.ep.promised, WriterEpoch: j.ep.writer,
		CommittedTxid: j.ep.committed, HighestTxid: j.highestWritten, CurrentSegment: j.segStart, Segments: len(segs),
	}
}

// Metrics returns the journal's status and its write counters together.
func (j *Journal) Metrics() (rpc.StatusResponse, WriteCounts) {
	st := j.Status()
	j.mu.Lock()
	defer j.mu.Unlock()
	return st, j.written
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
