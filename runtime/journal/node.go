package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/rpc"
)

// Options configure a Node.
type Options struct {
	Dir        string    // dfs.journalnode.edits.dir
	HTTPAddr   string    // host:port peers download segments from (advertised in getJournalState)
	Secret     []byte    // cluster secret; signs and checks segment downloads
	NoSync     bool      // skip fsync (tests only: a crash then loses acknowledged edits)
	CacheBytes int       // per-journal edit cache for getJournaledEdits (default 1 MiB)
	Fetch      FetchFunc // segment download; signed HTTP GET when nil
	Log        *log.Logger
}

// Node is a JournalNode: the journals under one storage directory.
type Node struct {
	opts     Options
	mu       sync.Mutex
	journals map[string]*Journal
}

var journalIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// NewNode returns a Node storing journals under opts.Dir.
func NewNode(opts Options) (*Node, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("journalnode: no edits directory (dfs.journalnode.edits.dir)")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("journalnode: %w", err)
	}
	if opts.Fetch == nil {
		opts.Fetch = rpc.SegmentFetcher(opts.Secret)
	}
	return &Node{opts: opts, journals: map[string]*Journal{}}, nil
}

// Journal returns the journal jid, opening it on first use.
func (n *Node) Journal(jid string) (*Journal, error) {
	if !journalIDRe.MatchString(jid) {
		return nil, fmt.Errorf("invalid journal id %q: %w", jid, rpc.ErrBadRequest)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if j, ok := n.journals[jid]; ok {
		return j, nil
	}
	j, err := openJournal(n.opts.Dir, jid, n.opts.HTTPAddr, n.opts.NoSync, n.opts.Fetch, n.opts.CacheBytes)
	if err != nil {
		return nil, err
	}
	n.journals[jid] = j
	return j, nil
}

// JournalIDs lists the journals present on disk or open.
func (n *Node) JournalIDs() []string {
	ids := map[string]bool{}
	if ents, err := os.ReadDir(n.opts.Dir); err == nil {
		for _, e := range ents {
			if e.IsDir() && journalIDRe.MatchString(e.Name()) {
				ids[e.Name()] = true
			}
		}
	}
	n.mu.Lock()
	for id := range n.journals {
		ids[id] = true
	}
	n.mu.Unlock()
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	return out
}

// Close closes every journal's open files.
func (n *Node) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, j := range n.journals {
		j.close()
	}
}

func decode(body []byte, v any) error { return rpc.Decode(body, v) }

// Handle serves one call of the journal protocol (the rpc.Handler).
func (n *Node) Handle(ctx context.Context, method string, body []byte) (any, error) {
	switch method {
	case rpc.MethodIsFormatted:
		var r rpc.JournalIDRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.IsFormattedResponse{Formatted: j.IsFormatted()}, nil
	case rpc.MethodGetNamespaceInfo:
		var r rpc.JournalIDRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		ns, ok := j.Namespace()
		return rpc.GetNamespaceInfoResponse{Formatted: ok, Namespace: ns}, nil
	case rpc.MethodGetStatus:
		var r rpc.JournalIDRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		return j.Status(), nil
	case rpc.MethodGetJournalState:
		var r rpc.JournalIDRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		e, err := j.GetJournalState()
		return rpc.GetJournalStateResponse{LastPromisedEpoch: e, HTTPAddr: n.opts.HTTPAddr}, err
	case rpc.MethodNewEpoch:
		var r rpc.NewEpochRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		last, err := j.NewEpoch(r.Namespace, r.Epoch)
		return rpc.NewEpochResponse{LastSegmentTxid: last}, err
	case rpc.MethodFormat:
		var r rpc.FormatRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.Format(r.Namespace, r.Force)
	case rpc.MethodStartLogSegment:
		var r rpc.StartLogSegmentRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.StartLogSegment(r.Req, r.Txid)
	case rpc.MethodJournal:
		var r rpc.JournalRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.Journal(r)
	case rpc.MethodHeartbeat:
		var r rpc.HeartbeatRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.Heartbeat(r.Req)
	case rpc.MethodFinalizeLogSegment:
		var r rpc.FinalizeLogSegmentRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.FinalizeLogSegment(r.Req, r.StartTxid, r.EndTxid)
	case rpc.MethodGetEditLogManifest:
		var r rpc.GetEditLogManifestRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		segs, err := j.Manifest(r.SinceTxid, r.InProgressOK)
		return rpc.GetEditLogManifestResponse{Segments: segs, HTTPAddr: n.opts.HTTPAddr}, err
	case rpc.MethodGetJournaledEdits:
		var r rpc.GetJournaledEditsRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.JournalID)
		if err != nil {
			return nil, err
		}
		cnt, recs, err := j.JournaledEdits(r.SinceTxid, r.MaxTxns)
		return rpc.GetJournaledEditsResponse{TxnCount: cnt, Records: recs}, err
	case rpc.MethodPrepareRecovery:
		var r rpc.PrepareRecoveryRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return j.PrepareRecovery(r.Req, r.SegmentTxid)
	case rpc.MethodAcceptRecovery:
		var r rpc.AcceptRecoveryRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.AcceptRecovery(ctx, r.Req, r.Segment, r.FromHTTP)
	case rpc.MethodPurgeLogs:
		var r rpc.PurgeLogsRequest
		if err := decode(body, &r); err != nil {
			return nil, err
		}
		j, err := n.Journal(r.Req.JournalID)
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.PurgeLogs(r.Req, r.MinTxidToKeep)
	}
	return nil, fmt.Errorf("%q: %w", method, rpc.ErrUnknownMethod)
}

// HTTPHandler serves /getJournal (signed segment downloads, as Hadoop's
// GetJournalEditServlet) and /status (public JSON summary).
func (n *Node) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /getJournal", func(w http.ResponseWriter, r *http.Request) {
		if err := auth.VerifyRequest(r, n.opts.Secret, time.Now()); err != nil {
			if n.opts.Log != nil {
				n.opts.Log.Printf("refused %s %s from %s: %v", r.Method, r.URL.Path, r.RemoteAddr, err)
			}
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		start, err := strconv.ParseInt(q.Get("segmentTxId"), 10, 64)
		if err != nil {
			http.Error(w, "segmentTxId: "+err.Error(), http.StatusBadRequest)
			return
		}
		j, err := n.Journal(q.Get("jid"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, err := j.openSegmentForRead(start)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, f)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]rpc.StatusResponse{}
		for _, id := range n.JournalIDs() {
			if j, err := n.Journal(id); err == nil {
				out[id] = j.Status()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"journals": out})
	})
	return mux
}
