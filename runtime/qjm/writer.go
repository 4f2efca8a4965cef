package qjm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// Writer appends edits as the journal's single writer for one epoch.
// Append assigns txids (call it under the namespace lock); Sync returns once
// an edit is fsynced on a majority. Concurrent Syncs are batched: while one
// journal call is in flight, every edit appended meanwhile waits for the next
// call (group commit). After a failed Sync the Writer is dead: every later
// Sync fails (as Hadoop's NameNode aborts); open a new Writer to go on.
type Writer struct {
	m     *Manager
	epoch int64

	mu       sync.Mutex
	segStart int64
	nextTxid int64
	buf      []byte
	bufFirst int64
	bufCount int64
	synced   int64
	wanted   int64 // highest txid a Sync waits for
	inFlight int
	changed  chan struct{} // closed when a journal call completes
	wake     *sync.Cond    // on mu: wakes the flusher
	stopped  bool
	err      error
	onSync   func(txns int64, took time.Duration)
}

// OnSync makes f hear of every journal call the writer's flusher completes
// on a majority: how many edits it carried (several Syncs share one under
// group commit) and how long it took. Hadoop's NameNode counts these as its
// Syncs metric. Set it before the first Sync.
func (w *Writer) OnSync(f func(txns int64, took time.Duration)) {
	w.mu.Lock()
	w.onSync = f
	w.mu.Unlock()
}

// Epoch is the writer's epoch.
func (w *Writer) Epoch() int64 { return w.epoch }

// LastTxid is the last txid assigned (equal to the last recovered txid right
// after OpenForWrite).
func (w *Writer) LastTxid() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nextTxid - 1
}

// SyncedTxid is the highest txid acknowledged by a majority.
func (w *Writer) SyncedTxid() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.synced
}

// SegmentTxid is the first txid of the segment being written.
func (w *Writer) SegmentTxid() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.segStart
}

// Append buffers data as the next edit and returns its txid.
func (w *Writer) Append(data []byte) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	txid := w.nextTxid
	w.nextTxid++
	if w.bufCount == 0 {
		w.bufFirst = txid
	}
	w.buf = rpc.AppendRecord(w.buf, txid, data)
	w.bufCount++
	return txid
}

// Sync returns once txid (and every txid before it) is fsynced on a majority.
func (w *Writer) Sync(ctx context.Context, txid int64) error {
	w.mu.Lock()
	for {
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			return err
		}
		if txid <= w.synced {
			w.mu.Unlock()
			return nil
		}
		if txid >= w.nextTxid {
			w.mu.Unlock()
			return fmt.Errorf("qjm: sync of txid %d that was never appended (last %d)", txid, w.nextTxid-1)
		}
		if txid > w.wanted {
			w.wanted = txid
			w.wake.Signal()
		}
		changed := w.changed
		if changed == nil {
			changed = make(chan struct{})
			w.changed = changed
		}
		w.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
}

// run is the Writer's flusher: whenever a Sync waits for buffered edits and
// no journal call is in flight, it sends the whole buffer as one call. Doing
// this on one goroutine keeps batches in order and puts no goroutine hand-off
// between one call's acknowledgement and the next call.
func (w *Writer) run() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for !w.stopped && w.err == nil && !(w.bufCount > 0 && w.wanted >= w.bufFirst) {
			w.wake.Wait()
		}
		if w.stopped || w.err != nil {
			return
		}
		w.flush()
	}
}

// flush sends the buffer as one journal call; called and returning with w.mu
// held, released while waiting for the JournalNodes.
func (w *Writer) flush() {
	batch, first, n := w.buf, w.bufFirst, w.bufCount
	w.buf, w.bufCount = nil, 0
	w.inFlight++
	onSync := w.onSync
	began := time.Now()
	p := w.submitBatch(w.segStart, first, n, batch, w.synced)
	w.mu.Unlock()
	_, err := p.wait(context.Background(), w.m.majority(), 0, fmt.Sprintf("journal txids %d-%d", first, first+n-1))
	err = w.wrapErr(err)
	if err == nil && onSync != nil {
		onSync(n, time.Since(began))
	}
	w.mu.Lock()
	w.inFlight--
	if err != nil {
		if w.err == nil {
			w.err = err
		}
	} else if w.err == nil {
		w.synced = max(w.synced, first+n-1)
	}
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
}

// stop ends the flusher.
func (w *Writer) stop() {
	w.mu.Lock()
	w.stopped = true
	w.wake.Broadcast()
	w.mu.Unlock()
}

// submitBatch queues one journal call on every in-sync JournalNode.
func (w *Writer) submitBatch(seg, first, n int64, batch []byte, committed int64) *pendingCall {
	m := w.m
	jid := m.cfg.JournalID
	return submit(m.loggers, m.cfg.Timeouts.WriteTxns, func(ctx context.Context, _ int, l *logger) (any, error) {
		l.mu.Lock()
		oos := l.outOfSync
		l.mu.Unlock()
		if oos {
			return nil, fmt.Errorf("%w: journal disabled until the next segment", rpc.ErrOutOfSync)
		}
		err := l.ch.Call(ctx, rpc.MethodJournal, rpc.JournalRequest{
			Req: l.req(jid, committed), SegmentTxid: seg, FirstTxid: first, NumTxns: n, Records: batch,
		}, nil)
		l.mu.Lock()
		if err != nil {
			l.outOfSync = true
		} else {
			l.lastAcked = first + n - 1
		}
		l.mu.Unlock()
		return nil, err
	})
}

// wrapErr marks a failure caused by a newer writer as fencing.
func (w *Writer) wrapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, rpc.ErrEpochTooOld) || errors.Is(err, rpc.ErrNotWriter) {
		return fmt.Errorf("%w (epoch %d): %w", ErrFenced, w.epoch, err)
	}
	return err
}

// startSegment opens a segment at txid on a majority; a JN that accepts it
// is back in sync.
func (w *Writer) startSegment(ctx context.Context, txid int64) error {
	m := w.m
	jid := m.cfg.JournalID
	committed := w.SyncedTxid()
	_, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.StartSegment, fmt.Sprintf("startLogSegment %d", txid),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			err := l.ch.Call(ctx, rpc.MethodStartLogSegment, rpc.StartLogSegmentRequest{Req: l.req(jid, committed), Txid: txid}, nil)
			l.mu.Lock()
			l.outOfSync = err != nil
			l.mu.Unlock()
			return nil, err
		})
	if err != nil {
		return w.wrapErr(err)
	}
	w.mu.Lock()
	w.segStart = txid
	w.mu.Unlock()
	return nil
}

// resync starts the empty segment at start on the JournalNodes left out of
// it; best effort: one that fails stays out, as before.
func (w *Writer) resync(ctx context.Context, start int64) {
	m := w.m
	jid := m.cfg.JournalID
	committed := w.SyncedTxid()
	var out []*logger
	for _, l := range m.loggers {
		l.mu.Lock()
		if l.outOfSync {
			out = append(out, l)
		}
		l.mu.Unlock()
	}
	if len(out) == 0 {
		return
	}
	// Each is waited for, within the start-segment timeout.
	quorum(ctx, out, len(out), m.cfg.Timeouts.StartSegment, fmt.Sprintf("startLogSegment %d (resync)", start),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			err := l.ch.Call(ctx, rpc.MethodStartLogSegment, rpc.StartLogSegmentRequest{Req: l.req(jid, committed), Txid: start}, nil)
			if err == nil {
				l.mu.Lock()
				l.outOfSync = false
				l.mu.Unlock()
			}
			return nil, err
		})
}

func (w *Writer) finalizeSegment(ctx context.Context, start, end int64) error {
	m := w.m
	jid := m.cfg.JournalID
	_, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.FinalizeSegment, fmt.Sprintf("finalizeLogSegment %d-%d", start, end),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			return nil, l.ch.Call(ctx, rpc.MethodFinalizeLogSegment, rpc.FinalizeLogSegmentRequest{Req: l.req(jid, end), StartTxid: start, EndTxid: end}, nil)
		})
	return w.wrapErr(err)
}

// flushAll syncs every appended edit and returns the segment bounds.
func (w *Writer) flushAll(ctx context.Context) (start, end int64, err error) {
	if err := w.Sync(ctx, w.LastTxid()); err != nil {
		return 0, 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, 0, w.err
	}
	if w.bufCount != 0 || w.inFlight > 0 {
		return 0, 0, errors.New("qjm: edits appended while rolling the segment")
	}
	return w.segStart, w.synced, nil
}

// Roll finalizes the current segment and starts the next one. An empty
// segment is kept as it is.
func (w *Writer) Roll(ctx context.Context) error {
	start, end, err := w.flushAll(ctx)
	if err != nil {
		return err
	}
	if end < start {
		// Nothing to finalize, but a JournalNode left out of this segment
		// (down when it started) can join it now: it holds none of it, as
		// those in it. Without this it would wait for the first roll after
		// an edit, and a rolling restart of the others would find no quorum.
		w.resync(ctx, start)
		return nil
	}
	err = w.finalizeSegment(ctx, start, end)
	if err == nil {
		err = w.startSegment(ctx, end+1)
	}
	if err != nil {
		w.fail(err)
		return fmt.Errorf("roll journal %s at txid %d: %w", w.m.cfg.JournalID, end, err)
	}
	return nil
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.wake.Broadcast()
	if w.changed != nil { // waiting Syncs see the error now
		close(w.changed)
		w.changed = nil
	}
	w.mu.Unlock()
}

// Close syncs and finalizes the current segment; the Writer accepts no more Syncs.
func (w *Writer) Close(ctx context.Context) error {
	start, end, err := w.flushAll(ctx)
	if err == nil && end >= start {
		err = w.finalizeSegment(ctx, start, end)
	}
	w.fail(ErrWriterClosed)
	w.stop()
	w.m.mu.Lock()
	if w.m.writer == w {
		w.m.writer = nil
	}
	w.m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("close journal %s writer: %w", w.m.cfg.JournalID, err)
	}
	return nil
}

// PurgeLogs asks the JournalNodes to delete finalized segments that end
// below minTxidToKeep (after a checkpoint made them unnecessary).
func (w *Writer) PurgeLogs(ctx context.Context, minTxidToKeep int64) error {
	m := w.m
	jid := m.cfg.JournalID
	committed := w.SyncedTxid()
	_, err := quorum(ctx, m.loggers, m.majority(), m.cfg.Timeouts.FinalizeSegment, fmt.Sprintf("purgeLogs below %d", minTxidToKeep),
		func(ctx context.Context, _ int, l *logger) (any, error) {
			return nil, l.ch.Call(ctx, rpc.MethodPurgeLogs, rpc.PurgeLogsRequest{Req: l.req(jid, committed), MinTxidToKeep: minTxidToKeep}, nil)
		})
	return w.wrapErr(err)
}
