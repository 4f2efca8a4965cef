package qjm

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

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
		chans[i] = &rpc.Client{Addr: a, Secret: cfg.Secret, AcceptV1: cfg.AcceptV1}
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
