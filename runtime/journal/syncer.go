package journal

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// Peer is another JournalNode of the same quorum, as the syncer reaches it.
type Peer struct {
	Addr string
	Call func(ctx context.Context, method string, req, resp any) error
}

// Syncer brings this JournalNode's journals up to date from its peers (as
// Hadoop's JournalNodeSyncer): it copies finalized segments it lacks, and
// formats an empty journal with the namespace a majority of the quorum holds,
// so a replaced JN joins the existing namespace and never starts a new one.
type Syncer struct {
	Node     *Node
	Journals map[string][]Peer // journal id → the other JNs of its quorum
	Interval time.Duration
	Log      *log.Logger
}

func (s *Syncer) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// Run syncs every Interval until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		s.SyncOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SyncOnce runs one round over every journal and returns how many segments it copied.
func (s *Syncer) SyncOnce(ctx context.Context) int {
	copied := 0
	for jid, peers := range s.Journals {
		n, err := s.syncJournal(ctx, jid, peers)
		if err != nil {
			s.logf("sync journal %s: %v", jid, err)
		}
		copied += n
	}
	return copied
}

func (s *Syncer) syncJournal(ctx context.Context, jid string, peers []Peer) (int, error) {
	j, err := s.Node.Journal(jid)
	if err != nil {
		return 0, err
	}
	if !j.IsFormatted() {
		if err := s.adoptNamespace(ctx, j, peers); err != nil {
			return 0, err
		}
	}
	local, err := j.Manifest(0, true)
	if err != nil {
		return 0, err
	}
	copied := 0
	for _, p := range peers {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var man rpc.GetEditLogManifestResponse
		err := p.Call(cctx, rpc.MethodGetEditLogManifest, rpc.GetEditLogManifestRequest{JournalID: jid, SinceTxid: 0}, &man)
		cancel()
		if err != nil {
			continue // a peer down is the normal reason to sync later
		}
		for _, seg := range man.Segments {
			if seg.InProgress || !missing(local, seg, j) {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			err := j.installFinalized(cctx, seg, man.HTTPAddr)
			cancel()
			if err != nil {
				s.logf("sync journal %s: copy %s from %s: %v", jid, seg, p.Addr, err)
				continue
			}
			s.logf("sync journal %s: copied %s from %s", jid, seg, p.Addr)
			copied++
			local = append(local, seg)
		}
	}
	return copied, nil
}

// missing reports whether the finalized seg is absent locally and overlaps
// nothing local except a stale in-progress copy of the same segment.
func missing(local []rpc.SegmentState, seg rpc.SegmentState, j *Journal) bool {
	j.mu.Lock()
	open := j.segStart
	j.mu.Unlock()
	for _, l := range local {
		if l.InProgress && l.StartTxid == seg.StartTxid && l.StartTxid != open {
			continue
		}
		end := l.EndTxid
		if l.InProgress {
			end = 1 << 62 // a segment being written may grow
		}
		if l.StartTxid <= seg.EndTxid && seg.StartTxid <= end {
			return false
		}
	}
	return true
}

// adoptNamespace formats an empty journal with the namespace that a majority
// of the whole quorum (this JN included) holds.
func (s *Syncer) adoptNamespace(ctx context.Context, j *Journal, peers []Peer) error {
	need := (len(peers)+1)/2 + 1
	var ns *rpc.NamespaceInfo
	agree := 0
	for _, p := range peers {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var r rpc.GetNamespaceInfoResponse
		err := p.Call(cctx, rpc.MethodGetNamespaceInfo, rpc.JournalIDRequest{JournalID: j.id}, &r)
		cancel()
		if err != nil || !r.Formatted {
			continue
		}
		if ns == nil {
			n := r.Namespace
			ns = &n
		}
		if !ns.Compatible(r.Namespace) {
			return fmt.Errorf("peers disagree on the namespace (%s vs %s): not formatting", ns, r.Namespace)
		}
		agree++
	}
	if ns == nil || agree < need {
		return nil // nothing to adopt yet: the quorum itself is not formatted
	}
	if err := j.Format(*ns, false); err != nil {
		return err
	}
	s.logf("journal %s: formatted from the quorum's namespace %s", j.id, ns)
	return nil
}
