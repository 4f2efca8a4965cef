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

	"github.com/hactl/hactl/runtime/rpc"
)

// This file is the storage side of segment recovery (paxos phases 1 and 2):
// the paxos/<txid> files and the download of the chosen copy. What a
// JournalNode may accept and answer is decided in epochs.go.

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
	if err := j.checkCall(r); err != nil {
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
	if resp, err = j.ep.prepare(seg, prev); err != nil {
		return resp, fmt.Errorf("journal %s: %w", j.id, err)
	}
	return resp, nil
}

// AcceptRecovery is paxos phase 2: make the local copy of the segment equal to
// seg, downloading it from fromHTTP if it differs, with the paxos file as the
// commit point.
func (j *Journal) AcceptRecovery(ctx context.Context, r rpc.RequestInfo, seg rpc.SegmentState, fromHTTP string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scans = nil // the segment files change
	if err := j.checkCall(r); err != nil {
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
	replace, err := j.ep.mustSync(cur, seg, fromHTTP == j.self)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.id, err)
	}
	var synced string
	if replace {
		if synced, err = j.download(ctx, r.Epoch, seg, fromHTTP); err != nil {
			return err
		}
	}
	old, err := j.readPaxos(start)
	if err != nil {
		return err
	}
	decision, err := accept(old, seg, r.Epoch)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.id, err)
	}
	b, _ := json.Marshal(decision)
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
