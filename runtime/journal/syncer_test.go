package journal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/rpc"
)

var syncSecret = []byte("sync-test-secret-0123456789")

// inProcessQuorum is n Nodes that download segments from each other through
// their real signed HTTP handlers.
func inProcessQuorum(t *testing.T, n int) []*Node {
	nodes := make([]*Node, n)
	fetch := func(ctx context.Context, httpAddr, jid string, start, offset int64) (io.ReadCloser, error) {
		if offset != 0 {
			return nil, fmt.Errorf("the JournalNode downloads whole segments, asked for offset %d", offset)
		}
		var i int
		fmt.Sscanf(httpAddr, "jn%d:8480", &i)
		req := httptest.NewRequest("GET", fmt.Sprintf("http://"+httpAddr+"/getJournal?jid=%s&segmentTxId=%d", jid, start), nil)
		auth.SignRequest(req, syncSecret, time.Now())
		rec := httptest.NewRecorder()
		nodes[i].HTTPHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("%d %s", rec.Code, rec.Body)
		}
		return io.NopCloser(bytes.NewReader(rec.Body.Bytes())), nil
	}
	for i := range nodes {
		nd, err := NewNode(Options{Dir: t.TempDir(), HTTPAddr: fmt.Sprintf("jn%d:8480", i), Secret: syncSecret, NoSync: true, Fetch: fetch})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = nd
		t.Cleanup(nd.Close)
	}
	return nodes
}

func peerOf(n *Node, addr string) Peer {
	return Peer{Addr: addr, Call: func(ctx context.Context, method string, req, resp any) error {
		body, _ := rpc.Encode(req)
		res, err := n.Handle(ctx, method, body)
		if err != nil {
			return rpc.FromWire(rpc.ToWire(err))
		}
		b, _ := rpc.Encode(res)
		return rpc.Decode(b, resp)
	}}
}

func TestSyncerFormatsNewJNFromQuorumAndCopiesSegments(t *testing.T) {
	nodes := inProcessQuorum(t, 3)
	for _, nd := range nodes[:2] {
		j, _ := nd.Journal("ns1")
		if err := j.Format(ns, false); err != nil {
			t.Fatal(err)
		}
		w := becomeWriter(t, j, 1, 1)
		w.journal(1, 1, 3)
		j.FinalizeLogSegment(w.req(), 1, 3)
		j.StartLogSegment(w.req(), 4)
		w.journal(4, 4, 2)
		j.FinalizeLogSegment(w.req(), 4, 5)
		j.StartLogSegment(w.req(), 6) // being written: never copied
		w.journal(6, 6, 1)
	}
	s := &Syncer{Node: nodes[2], Journals: map[string][]Peer{"ns1": {peerOf(nodes[0], "jn0:8485"), peerOf(nodes[1], "jn1:8485")}}}
	if n := s.SyncOnce(t.Context()); n != 2 {
		t.Fatalf("copied %d segments, want 2", n)
	}
	j, _ := nodes[2].Journal("ns1")
	if got, ok := j.Namespace(); !ok || got != ns {
		t.Fatalf("new JN namespace %v (formatted %v), want the quorum's %v", got, ok, ns)
	}
	man, _ := j.Manifest(0, true)
	if len(man) != 2 || man[0].EndTxid != 3 || man[1].EndTxid != 5 {
		t.Fatalf("new JN manifest %v", man)
	}
	if n := s.SyncOnce(t.Context()); n != 0 {
		t.Fatalf("second round copied %d", n)
	}
}

func TestSyncerNeverFormatsWithoutQuorumNamespace(t *testing.T) {
	nodes := inProcessQuorum(t, 3)
	j0, _ := nodes[0].Journal("ns1")
	j0.Format(ns, false)
	// Only one of three formatted: not a majority of the quorum, so no adoption.
	s := &Syncer{Node: nodes[2], Journals: map[string][]Peer{"ns1": {peerOf(nodes[0], "jn0:8485"), peerOf(nodes[1], "jn1:8485")}}}
	s.SyncOnce(t.Context())
	if j, _ := nodes[2].Journal("ns1"); j.IsFormatted() {
		t.Fatal("formatted from a single peer")
	}
	// Peers that disagree are never followed.
	j1, _ := nodes[1].Journal("ns1")
	other := ns
	other.NamespaceID = 99
	j1.Format(other, false)
	s.SyncOnce(t.Context())
	if j, _ := nodes[2].Journal("ns1"); j.IsFormatted() {
		t.Fatal("formatted although peers disagree")
	}
}

func TestSyncerReplacesStaleInProgressOfLaggingJN(t *testing.T) {
	nodes := inProcessQuorum(t, 2)
	var ws []*writer
	for _, nd := range nodes {
		j, _ := nd.Journal("ns1")
		j.Format(ns, false)
		w := becomeWriter(t, j, 1, 1)
		w.journal(1, 1, 2)
		ws = append(ws, w)
	}
	// JN0 gets edit 3 and the finalize; JN1 missed both.
	j0, _ := nodes[0].Journal("ns1")
	ws[0].journal(1, 3, 1)
	j0.FinalizeLogSegment(ws[0].req(), 1, 3)
	j1, _ := nodes[1].Journal("ns1")
	if _, err := j1.NewEpoch(ns, 2); err != nil { // the writer moved on; JN1's copy is stale
		t.Fatal(err)
	}
	s := &Syncer{Node: nodes[1], Journals: map[string][]Peer{"ns1": {peerOf(nodes[0], "jn0:8485")}}}
	if n := s.SyncOnce(t.Context()); n != 1 {
		t.Fatalf("copied %d", n)
	}
	man, _ := j1.Manifest(0, true)
	if len(man) != 1 || man[0] != (rpc.SegmentState{StartTxid: 1, EndTxid: 3}) {
		t.Fatalf("lagging JN manifest after sync %v", man)
	}
}

// TestRecoveryDropsStaleTailFromHighestTxid: a JN that took one more edit from
// an old writer than the quorum kept (the edit was never acknowledged) has its
// segment replaced by recovery; its reported highest txid follows the
// replacement instead of remembering the discarded edit.
func TestRecoveryDropsStaleTailFromHighestTxid(t *testing.T) {
	nodes := inProcessQuorum(t, 2)
	var js []*Journal
	for _, nd := range nodes {
		j, err := nd.Journal("ns1")
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Format(ns, false); err != nil {
			t.Fatal(err)
		}
		js = append(js, j)
	}
	// Both take txids 1-3 from the writer of epoch 1; only js[1] takes 4.
	for i, j := range js {
		w := becomeWriter(t, j, 1, 1)
		if err := w.journal(1, 1, 3); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := w.journal(1, 4, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := js[1].Status().HighestTxid; got != 4 {
		t.Fatalf("before recovery highest = %d, want 4", got)
	}
	// Epoch 2 recovers 1-3 from jn0 (a quorum without js[1]'s tail).
	seg := rpc.SegmentState{StartTxid: 1, EndTxid: 3, InProgress: true}
	for i, j := range js {
		if _, err := j.NewEpoch(ns, 2); err != nil {
			t.Fatal(err)
		}
		w := &writer{j: j, epoch: 2}
		if _, err := j.PrepareRecovery(w.req(), 1); err != nil {
			t.Fatal(err)
		}
		if err := j.AcceptRecovery(t.Context(), w.req(), seg, "jn0:8480"); err != nil {
			t.Fatalf("jn%d accept: %v", i, err)
		}
		if err := j.FinalizeLogSegment(w.req(), 1, 3); err != nil {
			t.Fatalf("jn%d finalize 1-3: %v", i, err)
		}
	}
	if got := js[1].Status().HighestTxid; got != 3 {
		t.Fatalf("after recovery highest = %d, want 3 (txid 4 was discarded)", got)
	}
}
