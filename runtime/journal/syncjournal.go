package journal

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/runtime/rpc"
)

// syncJournal serves rpc.MethodSyncJournal: one syncer round for one journal
// against the peers the caller names (an empty journal adopts the namespace a
// majority of them holds, as the syncer does).
func (n *Node) syncJournal(ctx context.Context, body []byte) (any, error) {
	var r rpc.SyncJournalRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	j, err := n.Journal(r.JournalID)
	if err != nil {
		return nil, err
	}
	var peers []Peer
	for _, a := range r.Peers {
		if a == "" {
			continue
		}
		c := &rpc.Client{Addr: a, Secret: n.opts.Secret}
		defer c.Close()
		peers = append(peers, Peer{Addr: a, Call: c.Call})
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("sync journal %s: no peers to copy from", r.JournalID)
	}
	s := &Syncer{Node: n, Log: n.opts.Log}
	copied, err := s.syncJournal(ctx, r.JournalID, peers)
	if err != nil {
		return nil, fmt.Errorf("sync journal %s: %w", r.JournalID, err)
	}
	st := j.Status()
	return rpc.SyncJournalResponse{Copied: copied, Formatted: st.Formatted, HighestTxid: st.HighestTxid}, nil
}
