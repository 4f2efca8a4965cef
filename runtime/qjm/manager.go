package qjm

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// readGrace is how long a read waits for the JNs beyond the first majority
// (a variable for tests).
var readGrace = 50 * time.Millisecond

// fetchFunc downloads a segment from a JournalNode's HTTP endpoint.
type fetchFunc = rpc.SegmentFetchFunc

// Manager is the client side of the quorum journal (Hadoop's
// QuorumJournalManager). One Writer at a time per Manager.
type Manager struct {
	cfg     Config
	loggers []*logger
	fetch   fetchFunc

	mu     sync.Mutex
	writer *Writer

	cursorMu     sync.Mutex
	cursors      map[string]segCursor // by JournalNode HTTP address: where the last segment read stopped
	staleCursors atomic.Int64         // reads from a cursor that had to start over
	olderCopies  atomic.Int64         // in-progress answers left out of reads as an older writer epoch's
}

// New returns a Manager for cfg; connections are made on first use.
func New(cfg Config) (*Manager, error) {
	if cfg.JournalID == "" || len(cfg.Addrs) == 0 {
		return nil, fmt.Errorf("qjm: journal id and journalnode addresses are required")
	}
	chans := make([]channel, len(cfg.Addrs))
	for i, a := range cfg.Addrs {
		chans[i] = &rpc.Client{Addr: a, Secret: cfg.Secret}
	}
	return newManager(cfg, chans, rpc.SegmentFetcher(cfg.Secret)), nil
}

func newManager(cfg Config, chans []channel, fetch fetchFunc) *Manager {
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	m := &Manager{cfg: cfg, fetch: fetch}
	for i, c := range chans {
		m.loggers = append(m.loggers, newLogger(cfg.Addrs[i], c))
	}
	return m
}

// Close stops the manager's writer and connections.
func (m *Manager) Close() error {
	m.mu.Lock()
	w := m.writer
	m.writer = nil
	m.mu.Unlock()
	if w != nil {
		w.fail(ErrWriterClosed)
		w.stop()
	}
	for _, l := range m.loggers {
		l.close()
	}
	return nil
}

func (m *Manager) majority() int { return len(m.loggers)/2 + 1 }

func (m *Manager) jidReq() rpc.JournalIDRequest {
	return rpc.JournalIDRequest{JournalID: m.cfg.JournalID}
}

// Format formats the journal on every JournalNode (all must answer). Without
// force, a JN holding another namespace or edits refuses.
func (m *Manager) Format(ctx context.Context, ns NamespaceInfo, force bool) error {
	_, err := quorum(ctx, m.loggers, len(m.loggers), m.cfg.Timeouts.NewEpoch, "format journal "+m.cfg.JournalID,
		func(ctx context.Context, _ int, l *logger) (any, error) {
			return nil, l.ch.Call(ctx, rpc.MethodFormat, rpc.FormatRequest{JournalID: m.cfg.JournalID, Namespace: ns, Force: force}, nil)
		})
	return err
}

// HasSomeData reports whether any JournalNode is formatted for the journal.
// It fails when a JN cannot be asked and none of the others has data: a
// format decision must not rest on a JN that did not answer.
func (m *Manager) HasSomeData(ctx context.Context) (bool, error) {
	res, errs := callAll(ctx, m.loggers, m.cfg.Timeouts.GetJournalState,
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.IsFormattedResponse
			err := l.ch.Call(ctx, rpc.MethodIsFormatted, m.jidReq(), &r)
			return r.Formatted, err
		})
	for _, v := range res {
		if v.(bool) {
			return true, nil
		}
	}
	if len(errs) > 0 {
		return false, fmt.Errorf("check journalnodes of %s for data: %w", m.cfg.JournalID, multiErr(errs))
	}
	return false, nil
}

// NamespaceInfo returns the namespace a majority of JournalNodes hold.
func (m *Manager) NamespaceInfo(ctx context.Context) (NamespaceInfo, error) {
	res, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.GetJournalState, "read journal namespace",
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.GetNamespaceInfoResponse
			err := l.ch.Call(ctx, rpc.MethodGetNamespaceInfo, m.jidReq(), &r)
			return r, err
		})
	if err != nil {
		return NamespaceInfo{}, err
	}
	var ns *NamespaceInfo
	for i, v := range res {
		r := v.(rpc.GetNamespaceInfoResponse)
		if !r.Formatted {
			return NamespaceInfo{}, fmt.Errorf("journalnode %s: journal %s: %w", m.loggers[i].addr, m.cfg.JournalID, rpc.ErrNotFormatted)
		}
		if ns != nil && !ns.Compatible(r.Namespace) {
			return NamespaceInfo{}, fmt.Errorf("journalnodes disagree on the namespace (%s vs %s): %w", ns, r.Namespace, rpc.ErrIncompatibleNS)
		}
		n := r.Namespace
		ns = &n
	}
	return *ns, nil
}

// OpenForWrite makes this client the journal's writer: it takes a new epoch
// from a majority (fencing every earlier writer), recovers the last segment
// left unfinalized, and starts a new segment after the last recovered txid.
func (m *Manager) OpenForWrite(ctx context.Context, ns NamespaceInfo) (*Writer, error) {
	jid := m.cfg.JournalID
	states, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.GetJournalState, "getJournalState",
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.GetJournalStateResponse
			if err := l.ch.Call(ctx, rpc.MethodGetJournalState, m.jidReq(), &r); err != nil {
				return nil, err
			}
			l.mu.Lock()
			l.httpAddr = r.HTTPAddr
			l.mu.Unlock()
			return r.LastPromisedEpoch, nil
		})
	if err != nil {
		return nil, fmt.Errorf("open journal %s for write: %w", jid, err)
	}
	epoch := int64(0)
	for _, v := range states {
		epoch = max(epoch, v.(int64))
	}
	epoch++
	eps, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.NewEpoch, fmt.Sprintf("newEpoch %d", epoch),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.NewEpochResponse
			err := l.ch.Call(ctx, rpc.MethodNewEpoch, rpc.NewEpochRequest{JournalID: jid, Namespace: ns, Epoch: epoch}, &r)
			return r.LastSegmentTxid, err
		})
	if err != nil {
		return nil, fmt.Errorf("open journal %s for write: %w", jid, err)
	}
	for _, l := range m.loggers {
		l.setEpoch(epoch)
	}
	lastSeg := int64(-1)
	for _, v := range eps {
		lastSeg = max(lastSeg, v.(int64))
	}
	lastTxid := int64(0)
	if lastSeg > 0 {
		if lastTxid, err = m.recoverSegment(ctx, lastSeg); err != nil {
			return nil, fmt.Errorf("open journal %s for write (epoch %d): %w", jid, epoch, err)
		}
	}
	w := &Writer{m: m, epoch: epoch, segStart: -1, nextTxid: lastTxid + 1, synced: lastTxid, wanted: lastTxid}
	w.wake = sync.NewCond(&w.mu)
	if err := w.startSegment(ctx, lastTxid+1); err != nil {
		return nil, fmt.Errorf("open journal %s for write (epoch %d): %w", jid, epoch, err)
	}
	go w.run()
	m.mu.Lock()
	old := m.writer
	m.writer = w
	m.mu.Unlock()
	if old != nil {
		old.fail(fmt.Errorf("%w: a new writer was opened", ErrWriterClosed))
		old.stop()
	}
	return w, nil
}

type prepared struct {
	idx int
	rpc.PrepareRecoveryResponse
}

// betterSegment reports whether a is a better recovery source than b
// (Hadoop's SegmentRecoveryComparator): having a segment beats none, a
// finalized segment beats an in-progress one, then the higher of
// acceptedInEpoch and lastWriterEpoch, then the longer segment.
func betterSegment(a, b rpc.PrepareRecoveryResponse) bool {
	if (a.Segment != nil) != (b.Segment != nil) {
		return a.Segment != nil
	}
	if a.Segment == nil {
		return false
	}
	if a.Segment.InProgress != b.Segment.InProgress {
		return !a.Segment.InProgress
	}
	if !a.Segment.InProgress {
		return false
	}
	ea, eb := max(a.AcceptedInEpoch, a.LastWriterEpoch), max(b.AcceptedInEpoch, b.LastWriterEpoch)
	if ea != eb {
		return ea > eb
	}
	return a.Segment.EndTxid > b.Segment.EndTxid
}

// chooseRecovery picks the segment to recover from prepareRecovery answers,
// or nil when no JN holds any edit of it.
func chooseRecovery(resps []prepared) (*prepared, error) {
	var best *prepared
	for i := range resps {
		r := &resps[i]
		if best == nil || betterSegment(r.PrepareRecoveryResponse, best.PrepareRecoveryResponse) {
			best = r
		}
	}
	if best == nil || best.Segment == nil {
		return nil, nil
	}
	committed := int64(-1)
	for _, r := range resps {
		committed = max(committed, r.LastCommitted)
		if r.Segment != nil && !r.Segment.InProgress && !best.Segment.InProgress && r.Segment.EndTxid != best.Segment.EndTxid {
			return nil, fmt.Errorf("%w: finalized segments of different lengths: %s and %s", ErrRecovery, r.Segment, best.Segment)
		}
	}
	if committed >= best.Segment.StartTxid && best.Segment.EndTxid < committed {
		return nil, fmt.Errorf("%w: the best copy %s ends before committed txid %d", ErrRecovery, best.Segment, committed)
	}
	return best, nil
}

// recoverSegment runs paxos on the segment starting at segTxid and returns
// the last txid of the recovered log.
func (m *Manager) recoverSegment(ctx context.Context, segTxid int64) (int64, error) {
	jid := m.cfg.JournalID
	res, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.PrepareRecovery, fmt.Sprintf("prepareRecovery of segment %d", segTxid),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.PrepareRecoveryResponse
			err := l.ch.Call(ctx, rpc.MethodPrepareRecovery, rpc.PrepareRecoveryRequest{Req: l.req(jid, -1), SegmentTxid: segTxid}, &r)
			return r, err
		})
	if err != nil {
		return 0, err
	}
	var resps []prepared
	for i, v := range res {
		resps = append(resps, prepared{i, v.(rpc.PrepareRecoveryResponse)})
	}
	sort.Slice(resps, func(a, b int) bool { return resps[a].idx < resps[b].idx })
	best, err := chooseRecovery(resps)
	if err != nil {
		return 0, err
	}
	if best == nil {
		// Nobody in the quorum holds an edit of this segment, so none of it was acknowledged.
		return segTxid - 1, nil
	}
	seg := *best.Segment
	src := m.loggers[best.idx]
	src.mu.Lock()
	from := src.httpAddr
	src.mu.Unlock()
	if _, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.AcceptRecovery, fmt.Sprintf("acceptRecovery of %s", seg),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			return nil, l.ch.Call(ctx, rpc.MethodAcceptRecovery, rpc.AcceptRecoveryRequest{Req: l.req(jid, -1), Segment: seg, FromHTTP: from}, nil)
		}); err != nil {
		return 0, err
	}
	if _, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.FinalizeSegment, fmt.Sprintf("finalize recovered %s", seg),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			return nil, l.ch.Call(ctx, rpc.MethodFinalizeLogSegment, rpc.FinalizeLogSegmentRequest{Req: l.req(jid, -1), StartTxid: seg.StartTxid, EndTxid: seg.EndTxid}, nil)
		}); err != nil {
		return 0, err
	}
	return seg.EndTxid, nil
}

// JournalStatus asks every JournalNode about the journal.
func (m *Manager) JournalStatus(ctx context.Context) []JNStatus {
	out := make([]JNStatus, len(m.loggers))
	var wg sync.WaitGroup
	for i, l := range m.loggers {
		out[i].Addr = l.addr
		l.mu.Lock()
		out[i].OutOfSync = l.outOfSync
		l.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			done := make(chan struct{})
			var st rpc.StatusResponse
			var err error
			call := func() {
				err = l.ch.Call(cctx, rpc.MethodGetStatus, m.jidReq(), &st)
				close(done)
			}
			select {
			case l.queue <- call:
				select {
				case <-done:
				case <-cctx.Done():
					err = cctx.Err()
				}
			default:
				err = errQueueFull
			}
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Reachable, out[i].Formatted = true, st.Formatted
			out[i].Epoch, out[i].WriterEpoch = st.PromisedEpoch, st.WriterEpoch
			out[i].LastTxid, out[i].CommittedTxid = st.HighestTxid, st.CommittedTxid
		}()
	}
	wg.Wait()
	top := int64(0)
	for _, s := range out {
		top = max(top, s.LastTxid)
	}
	for i := range out {
		if out[i].Reachable {
			out[i].Lag = top - out[i].LastTxid
		}
	}
	return out
}

// ReadEdits returns up to max edits from fromTxid on, in order: from
// finalized segments, and with inProgressOK also from the segment being
// written, but only as far as a majority of JournalNodes hold it in the
// newest writer epoch among their answers (what a recovery would keep).
// max <= 0 means no limit.
func (m *Manager) ReadEdits(ctx context.Context, fromTxid int64, inProgressOK bool, max int) ([]Edit, error) {
	if max <= 0 {
		max = int(^uint(0) >> 1)
	}
	if inProgressOK {
		if edits, ok := m.readFromCaches(ctx, fromTxid, max); ok {
			return edits, nil
		}
	}
	return m.readFromSegments(ctx, fromTxid, inProgressOK, max)
}

// readFromCaches serves tailing from the JournalNodes' memory caches
// (getJournaledEdits); ok is false when a majority could not answer from
// cache in the newest writer epoch.
func (m *Manager) readFromCaches(ctx context.Context, from int64, max int) ([]Edit, bool) {
	// The tailer's hot path: as Hadoop's selectRpcInputStreams it goes on
	// as soon as a majority answered, unless that majority holds nothing
	// while one of them has edits (a JN out of sync until the next segment
	// answers 0 quickly): only then are the others worth the grace.
	res, err := submit(m.loggers, m.cfg.Timeouts.SelectInputStreams,
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.GetJournaledEditsResponse
			err := l.ch.Call(ctx, rpc.MethodGetJournaledEdits, rpc.GetJournaledEditsRequest{JournalID: m.cfg.JournalID, SinceTxid: from, MaxTxns: max}, &r)
			return r, err
		}).waitUntil(ctx, m.majority(), readGrace, "getJournaledEdits", func(ok map[int]any) bool {
		n, src, _ := m.majorityHeld(ok)
		return n > 0 || src.TxnCount == 0
	})
	if err != nil {
		return nil, false
	}
	n, src, decided := m.majorityHeld(res)
	top := newestEpoch(res)
	for _, v := range res {
		if r := v.(rpc.GetJournaledEditsResponse); r.WriterEpoch < top && r.TxnCount > 0 {
			m.olderCopies.Add(1)
		}
	}
	if !decided || src.TxnCount == 0 {
		// Not a majority of caches in the newest epoch (a JN whose cache
		// missed may hold the edits on disk), or maybe a finalized
		// segment the caches no longer hold: the manifests decide.
		return nil, false
	}
	edits, err := rpc.DecodeRecords(src.Records)
	if err != nil || len(edits) == 0 || edits[0].Txid != from || int64(len(edits)) < n {
		return nil, false
	}
	return edits[:n], true
}

// majorityHeld returns how many edits a majority of the answers hold, and
// the longest answer to take them from, counting only answers of the
// newest writer epoch among them (decided is false when those are not a
// majority). Only what a majority holds is safe to apply: a minority's
// extra edits may be discarded by the next recovery. And only the newest
// epoch's copies count: a JN the current writer never reached may still
// cache an older writer's unacknowledged edits at the same txids, and be
// the longest answer.
func (m *Manager) majorityHeld(res map[int]any) (n int64, src rpc.GetJournaledEditsResponse, decided bool) {
	top := newestEpoch(res)
	var counts []int64
	for _, v := range res {
		r := v.(rpc.GetJournaledEditsResponse)
		if r.WriterEpoch != top {
			continue
		}
		counts = append(counts, r.TxnCount)
		if r.TxnCount > src.TxnCount {
			src = r // copies of one epoch agree: one writer wrote each txid once
		}
	}
	if len(counts) < m.majority() {
		return 0, src, false
	}
	sort.Slice(counts, func(a, b int) bool { return counts[a] > counts[b] })
	return counts[m.majority()-1], src, true
}

// newestEpoch is the highest writer epoch among getJournaledEdits answers.
func newestEpoch(res map[int]any) int64 {
	top := int64(0)
	for _, v := range res {
		top = max(top, v.(rpc.GetJournaledEditsResponse).WriterEpoch)
	}
	return top
}

func (m *Manager) readFromSegments(ctx context.Context, from int64, inProgressOK bool, max int) ([]Edit, error) {
	type manifest struct {
		segs []rpc.SegmentState
		http string
	}
	res, err := quorumGrace(ctx, m.loggers, m.majority(), m.cfg.Timeouts.SelectInputStreams, readGrace, "getEditLogManifest",
		func(ctx context.Context, _ int, l *logger) (any, error) {
			var r rpc.GetEditLogManifestResponse
			err := l.ch.Call(ctx, rpc.MethodGetEditLogManifest, rpc.GetEditLogManifestRequest{JournalID: m.cfg.JournalID, SinceTxid: from, InProgressOK: inProgressOK}, &r)
			return manifest{r.Segments, r.HTTPAddr}, err
		})
	if err != nil {
		return nil, fmt.Errorf("read edits of %s from txid %d: %w", m.cfg.JournalID, from, err)
	}
	// Answers in JournalNode order, so the choice of source is deterministic.
	mfs := make([]manifest, 0, len(res))
	for i := range m.loggers {
		if v, ok := res[i]; ok {
			mfs = append(mfs, v.(manifest))
		}
	}
	var out []Edit
	next := from
	for len(out) < max {
		// A finalized segment holding next, from any JN, is authoritative.
		// In-progress copies count only as far as a majority holds them,
		// only copies of the same segment (a stale copy left by a JN that
		// missed a finalize must not mix with the current one), and only
		// copies of the newest writer epoch among them: a JN the current
		// writer never reached may hold an older writer's unacknowledged
		// edits at the same txids, longer than the current writer's.
		var seg *rpc.SegmentState
		var srcs []string // JNs holding all of seg
		type inprogCopy struct {
			end, epoch int64
			http       string
		}
		inprog := map[int64][]inprogCopy{}
		for _, mf := range mfs {
			for _, s := range mf.segs {
				if s.StartTxid > next || s.EndTxid < next {
					continue
				}
				if !s.InProgress {
					if seg == nil {
						s := s
						seg = &s
					}
					if s == *seg {
						srcs = append(srcs, mf.http)
					}
					continue
				}
				inprog[s.StartTxid] = append(inprog[s.StartTxid], inprogCopy{s.EndTxid, s.WriterEpoch, mf.http})
			}
		}
		if seg == nil && inProgressOK {
			var best *rpc.SegmentState
			for start, cps := range inprog {
				top := int64(-1)
				for _, cp := range cps {
					if cp.epoch > top {
						top = cp.epoch
					}
				}
				var trusted []inprogCopy // in JournalNode order
				for _, cp := range cps {
					if cp.epoch == top {
						trusted = append(trusted, cp)
					} else {
						m.olderCopies.Add(1)
					}
				}
				if len(trusted) < m.majority() {
					continue // nothing new rather than a guess
				}
				ends := make([]int64, len(trusted))
				for i, cp := range trusted {
					ends[i] = cp.end
				}
				sort.Slice(ends, func(a, b int) bool { return ends[a] > ends[b] })
				end := ends[m.majority()-1]
				if end < next {
					continue
				}
				// Two groups cannot both qualify in a correct journal; if
				// they did, the newest epoch wins, deterministically.
				if best != nil && (top < best.WriterEpoch || top == best.WriterEpoch && start < best.StartTxid) {
					continue
				}
				best = &rpc.SegmentState{StartTxid: start, EndTxid: end, InProgress: true, WriterEpoch: top}
				// Longest copy first, as recovery would prefer it.
				sort.SliceStable(trusted, func(a, b int) bool { return trusted[a].end > trusted[b].end })
				srcs = srcs[:0]
				for _, cp := range trusted {
					if cp.end >= end {
						srcs = append(srcs, cp.http)
					}
				}
			}
			seg = best
		}
		if seg == nil {
			break
		}
		edits, err := m.readSegment(ctx, m.pickSource(srcs, seg.StartTxid, next), *seg, next, max-len(out))
		if err != nil {
			return out, fmt.Errorf("read edits of %s: %w", m.cfg.JournalID, err)
		}
		if len(edits) == 0 {
			break
		}
		out = append(out, edits...)
		next = out[len(out)-1].Txid + 1
	}
	return out, nil
}

// segCursor is where the last download of a segment from one JournalNode
// stopped: the last record returned, by its byte offset in the segment file
// and its frame header (length, CRC-32C of txid and data, txid).
type segCursor struct {
	segStart int64
	txid     int64
	offset   int64
	hdr      [rpc.RecordHeaderLen]byte
}

// errStaleCursor means the segment file no longer holds, at the cursor's
// offset, the record the cursor remembers (the JN replaced the segment).
var errStaleCursor = errors.New("segment changed since the last read")

// pickSource returns the JN among srcs (all holding the edits wanted) whose
// last download of segment segStart stopped just before txid next, so the
// read can continue from its byte offset; else the first. Only a JN in srcs
// is ever chosen: a cursor left on a copy that no longer counts (an older
// writer's, see readFromSegments) is never followed.
func (m *Manager) pickSource(srcs []string, segStart, next int64) string {
	m.cursorMu.Lock()
	defer m.cursorMu.Unlock()
	for _, s := range srcs {
		if c, ok := m.cursors[s]; ok && c.segStart == segStart && c.txid == next-1 {
			return s
		}
	}
	return srcs[0]
}

// takeCursor removes and returns the cursor of httpAddr when a read of
// segStart from txid from can start at it.
func (m *Manager) takeCursor(httpAddr string, segStart, from int64) (segCursor, bool) {
	m.cursorMu.Lock()
	defer m.cursorMu.Unlock()
	c, ok := m.cursors[httpAddr]
	if !ok || c.segStart != segStart || c.txid >= from || m.cfg.WholeSegmentReads {
		return segCursor{}, false
	}
	delete(m.cursors, httpAddr)
	return c, true
}

func (m *Manager) putCursor(httpAddr string, c segCursor) {
	m.cursorMu.Lock()
	defer m.cursorMu.Unlock()
	if m.cursors == nil {
		m.cursors = map[string]segCursor{}
	}
	m.cursors[httpAddr] = c
}

// readSegment downloads seg from the JN at httpAddr and returns its edits
// from..seg.EndTxid, at most max. When the last read from that JN stopped
// inside the same segment before from, it asks for the file from the last
// record it returned (by byte offset) instead of from the start, and checks
// that record is still there, byte for byte as far as its checksum tells;
// anything else (a segment replaced by recovery, a shorter file, a JN
// restarted on other storage) falls back to reading the whole segment.
func (m *Manager) readSegment(ctx context.Context, httpAddr string, seg rpc.SegmentState, from int64, max int) ([]Edit, error) {
	if c, ok := m.takeCursor(httpAddr, seg.StartTxid, from); ok {
		edits, err := m.downloadRecords(ctx, httpAddr, seg, from, max, &c)
		if err == nil {
			return edits, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		m.staleCursors.Add(1)
	}
	return m.downloadRecords(ctx, httpAddr, seg, from, max, nil)
}

func (m *Manager) downloadRecords(ctx context.Context, httpAddr string, seg rpc.SegmentState, from int64, max int, cur *segCursor) ([]Edit, error) {
	cctx, cancel := context.WithTimeout(ctx, m.cfg.Timeouts.SelectInputStreams)
	defer cancel()
	offset := int64(0)
	if cur != nil {
		offset = cur.offset
	}
	body, err := m.fetch(cctx, httpAddr, m.cfg.JournalID, seg.StartTxid, offset)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	edits, last, err := readRecords(bufio.NewReaderSize(body, 256<<10), seg, from, max, cur)
	if last.txid >= seg.StartTxid {
		m.putCursor(httpAddr, last)
	}
	return edits, err
}

// readRecords decodes a segment stream: the whole file, or with cur the
// header then the file from the record cur names, which must be there
// unchanged. It returns the edits from..seg.EndTxid (at most max) and the
// cursor after the last one.
func readRecords(r *bufio.Reader, seg rpc.SegmentState, from int64, max int, cur *segCursor) ([]Edit, segCursor, error) {
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, segCursor{}, fmt.Errorf("segment %s: short header", seg)
	}
	var out []Edit
	var h [rpc.RecordHeaderLen]byte
	want, off := seg.StartTxid, int64(len(hdr))
	if cur != nil {
		want, off = cur.txid, cur.offset
	}
	last := segCursor{segStart: seg.StartTxid, txid: seg.StartTxid - 1}
	for want <= seg.EndTxid && len(out) < max {
		e, n, err := readRecord(r, &h)
		if cur != nil && want == cur.txid && (err != nil || h != cur.hdr) {
			return nil, segCursor{}, fmt.Errorf("segment %s at byte %d: %w", seg, cur.offset, errStaleCursor)
		}
		if err != nil || e.Txid != want {
			break
		}
		last = segCursor{segStart: seg.StartTxid, txid: e.Txid, offset: off, hdr: h}
		off += int64(n)
		want++
		if e.Txid >= from {
			out = append(out, e)
		}
	}
	if want <= seg.EndTxid && len(out) < max {
		return out, last, fmt.Errorf("%s holds txids only up to %d", seg, want-1)
	}
	return out, last, nil
}

// readRecord reads one framed record into a buffer of its own, leaving its
// frame header in h; n is its framed length.
func readRecord(r *bufio.Reader, h *[rpc.RecordHeaderLen]byte) (Edit, int, error) {
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Edit{}, 0, err
	}
	n := int(binary.BigEndian.Uint32(h[:4]))
	if n > rpc.MaxRecordLen {
		return Edit{}, 0, rpc.ErrTornRecord
	}
	buf := make([]byte, rpc.RecordHeaderLen+n)
	copy(buf, h[:])
	if _, err := io.ReadFull(r, buf[rpc.RecordHeaderLen:]); err != nil {
		return Edit{}, 0, err
	}
	return rpc.ReadRecord(buf)
}
