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

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/jmx"
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

// withJournal decodes a request of type R and looks up the journal it names,
// the first two things every journal call does.
func withJournal[R any](n *Node, body []byte, journalID func(*R) string) (*R, *Journal, error) {
	r := new(R)
	if err := decode(body, r); err != nil {
		return nil, nil, err
	}
	j, err := n.Journal(journalID(r))
	if err != nil {
		return nil, nil, err
	}
	return r, j, nil
}

// Handle serves one call of the journal protocol (the rpc.Handler).
func (n *Node) Handle(ctx context.Context, method string, body []byte) (any, error) {
	switch method {
	case rpc.MethodIsFormatted:
		_, j, err := withJournal(n, body, func(r *rpc.JournalIDRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.IsFormattedResponse{Formatted: j.IsFormatted()}, nil
	case rpc.MethodGetNamespaceInfo:
		_, j, err := withJournal(n, body, func(r *rpc.JournalIDRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		ns, ok := j.Namespace()
		return rpc.GetNamespaceInfoResponse{Formatted: ok, Namespace: ns}, nil
	case rpc.MethodSyncJournal:
		return n.syncJournal(ctx, body)
	case rpc.MethodGetStatus:
		_, j, err := withJournal(n, body, func(r *rpc.JournalIDRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		return j.Status(), nil
	case rpc.MethodGetJournalState:
		_, j, err := withJournal(n, body, func(r *rpc.JournalIDRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		e, err := j.GetJournalState()
		return rpc.GetJournalStateResponse{LastPromisedEpoch: e, HTTPAddr: n.opts.HTTPAddr}, err
	case rpc.MethodNewEpoch:
		r, j, err := withJournal(n, body, func(r *rpc.NewEpochRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		last, err := j.NewEpoch(r.Namespace, r.Epoch)
		return rpc.NewEpochResponse{LastSegmentTxid: last}, err
	case rpc.MethodFormat:
		r, j, err := withJournal(n, body, func(r *rpc.FormatRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.Format(r.Namespace, r.Force)
	case rpc.MethodStartLogSegment:
		r, j, err := withJournal(n, body, func(r *rpc.StartLogSegmentRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.StartLogSegment(r.Req, r.Txid)
	case rpc.MethodJournal:
		r, j, err := withJournal(n, body, func(r *rpc.JournalRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.Journal(*r)
	case rpc.MethodHeartbeat:
		r, j, err := withJournal(n, body, func(r *rpc.HeartbeatRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.Heartbeat(r.Req)
	case rpc.MethodFinalizeLogSegment:
		r, j, err := withJournal(n, body, func(r *rpc.FinalizeLogSegmentRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.FinalizeLogSegment(r.Req, r.StartTxid, r.EndTxid)
	case rpc.MethodGetEditLogManifest:
		r, j, err := withJournal(n, body, func(r *rpc.GetEditLogManifestRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		segs, err := j.Manifest(r.SinceTxid, r.InProgressOK)
		return rpc.GetEditLogManifestResponse{Segments: segs, HTTPAddr: n.opts.HTTPAddr}, err
	case rpc.MethodGetJournaledEdits:
		r, j, err := withJournal(n, body, func(r *rpc.GetJournaledEditsRequest) string { return r.JournalID })
		if err != nil {
			return nil, err
		}
		cnt, recs, epoch, err := j.JournaledEdits(r.SinceTxid, r.MaxTxns)
		return rpc.GetJournaledEditsResponse{TxnCount: cnt, WriterEpoch: epoch, Records: recs}, err
	case rpc.MethodPrepareRecovery:
		r, j, err := withJournal(n, body, func(r *rpc.PrepareRecoveryRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return j.PrepareRecovery(r.Req, r.SegmentTxid)
	case rpc.MethodAcceptRecovery:
		r, j, err := withJournal(n, body, func(r *rpc.AcceptRecoveryRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.AcceptRecovery(ctx, r.Req, r.Segment, r.FromHTTP)
	case rpc.MethodPurgeLogs:
		r, j, err := withJournal(n, body, func(r *rpc.PurgeLogsRequest) string { return r.Req.JournalID })
		if err != nil {
			return nil, err
		}
		return rpc.Empty{}, j.PurgeLogs(r.Req, r.MinTxidToKeep)
	}
	return nil, fmt.Errorf("%q: %w", method, rpc.ErrUnknownMethod)
}

// HTTPHandler serves /getJournal (signed segment downloads, as Hadoop's
// GetJournalEditServlet), /status (public JSON summary), /jmx and /prom.
func (n *Node) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	verifier := auth.NewVerifier(n.opts.Secret, n.opts.HTTPAddr)
	mux.HandleFunc("GET /getJournal", func(w http.ResponseWriter, r *http.Request) {
		if err := verifier.Verify(r); err != nil {
			if n.opts.Log != nil {
				n.opts.Log.Printf("refused %s %s from %s: %v", r.Method, r.URL.Path, r.RemoteAddr, err)
			}
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		httpserve.Unbounded(w) // a NameNode's segment download may outlast the default deadlines
		q := r.URL.Query()
		start, err := strconv.ParseInt(q.Get("segmentTxId"), 10, 64)
		if err != nil {
			http.Error(w, "segmentTxId: "+err.Error(), http.StatusBadRequest)
			return
		}
		offset := int64(0)
		if v := q.Get("offset"); v != "" {
			// A reader continuing where its last download stopped: the
			// response is the segment header then the file from offset, so
			// it still parses as a segment stream.
			if offset, err = strconv.ParseInt(v, 10, 64); err != nil || offset < headerLen {
				http.Error(w, fmt.Sprintf("offset %q: want a byte offset of at least %d (the segment header)", v, headerLen), http.StatusBadRequest)
				return
			}
		}
		j, err := n.Journal(q.Get("jid"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, size, err := j.openSegmentForRead(start)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer f.Close()
		// A known length (and a *os.File under io.LimitedReader) lets
		// net/http send the file with sendfile.
		w.Header().Set("Content-Type", "application/octet-stream")
		if offset == 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			io.Copy(w, io.LimitReader(f, size))
			return
		}
		if err := checkSegmentHeader(f, offset, size); err != nil {
			http.Error(w, fmt.Sprintf("segment %d: %v", start, err), http.StatusRequestedRangeNotSatisfiable)
			return
		}
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			http.Error(w, fmt.Sprintf("segment %d: %v", start, err), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(headerLen+size-offset, 10))
		w.Write(segmentMagic)
		io.Copy(w, io.LimitReader(f, size-offset))
	})
	mux.Handle("GET /jmx", jmx.Handler(n.jmxBeans))
	mux.Handle("GET /prom", jmx.PromHandler(n.jmxBeans))
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

// checkSegmentHeader checks that f is a segment file of this format whose
// first size bytes hold offset (size itself included: nothing written after
// it yet).
func checkSegmentHeader(f *os.File, offset, size int64) error {
	if offset > size {
		return fmt.Errorf("offset %d is beyond the end of the segment (%d bytes)", offset, size)
	}
	hdr := make([]byte, headerLen)
	if _, err := f.ReadAt(hdr, 0); err != nil || string(hdr) != string(segmentMagic) {
		return fmt.Errorf("not a segment file of this format (header %q)", hdr)
	}
	return nil
}
