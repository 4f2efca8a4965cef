package qjm

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// This file is the Manager's read path (Hadoop's selectInputStreams): tailing
// from the JournalNodes' caches, and reading finalized and in-progress
// segments over HTTP from where the last read stopped.

// readGrace is how long a read waits for the JNs beyond the first majority
// (a variable for tests).
var readGrace = 50 * time.Millisecond

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
