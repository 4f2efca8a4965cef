package namenode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/jmx"
	"github.com/hactl/hactl/runtime/qjm"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// HAStatus is the body of GET /ha/status (Hadoop's getServiceStatus).
type HAStatus struct {
	State               string `json:"state"`
	ReadyToBecomeActive bool   `json:"readyToBecomeActive"`
	NotReadyReason      string `json:"notReadyReason"`
	Nameservice         string `json:"nameservice"`
	NamenodeID          string `json:"namenodeId"`
	LastAppliedTxid     int64  `json:"lastAppliedTxid"`
	Epoch               int64  `json:"epoch"`
	// Journal is the active's writer's view of each JournalNode (absent on
	// a standby): apply keeps a majority in sync while it restarts them.
	Journal []qjm.LoggerSync `json:"journal,omitempty"`
}

// RemoteException is Hadoop's JSON error shape.
type RemoteException struct {
	Exception     string `json:"exception"`
	JavaClassName string `json:"javaClassName"`
	Message       string `json:"message"`
}

// maxImageBytes bounds an uploaded image (a sanity limit, not a design one).
const maxImageBytes = 8 << 30

// Handler returns the NameNode's HTTP mux: webhdfs (given, mounted at
// /webhdfs/v1/), /jmx, the status page, HA admin and image transfer.
func (n *NameNode) Handler(webhdfs http.Handler) http.Handler {
	mux := http.NewServeMux()
	n.verifier = auth.NewVerifier(n.cfg.Secret, n.cfg.HTTPAddr)
	if webhdfs != nil {
		mux.Handle(webhdfsPrefix, webhdfs)
	}
	mux.Handle("GET /jmx", jmx.Handler(n.jmxBeans))
	var rpcVerifier *auth.Verifier // nil refuses every call, as /ha/* without a secret
	if len(n.cfg.Secret) > 0 {
		rpcVerifier = n.verifier
	}
	rpc := nnrpc.Handler(n.ClientProtocol(), n.DatanodeProtocol(), nnrpc.HandlerOptions{Verifier: rpcVerifier, Logf: n.logf})
	mux.Handle(nnrpc.PathPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Placement prefers the caller's host (Hadoop takes the client
		// machine from the RPC connection).
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			r = r.WithContext(hdfs.WithClientMachine(r.Context(), host))
		}
		rpc.ServeHTTP(w, r)
	}))
	mux.Handle("GET /prom", jmx.PromHandler(n.jmxBeans))
	mux.HandleFunc("GET /ha/status", n.signed(n.serveStatus))
	mux.HandleFunc("GET /ha/health", n.signed(n.serveHealth))
	mux.HandleFunc("POST /ha/transitionToActive", n.signed(n.serveTransition(true)))
	mux.HandleFunc("POST /ha/transitionToStandby", n.signed(n.serveTransition(false)))
	mux.HandleFunc("POST /ha/rollEdits", n.signed(n.serveRollEdits))
	mux.HandleFunc("POST /dfsadmin/refreshNodes", n.signed(n.serveRefreshNodes))
	mux.HandleFunc("POST /dfsadmin/safemode", n.signed(n.serveSafeMode))
	mux.HandleFunc("GET /imagetransfer", n.signed(n.serveGetImage))
	mux.HandleFunc("PUT /imagetransfer", n.signed(n.servePutImage))
	mux.HandleFunc("GET /{$}", n.serveStatusPage)
	if n.cfg.PProf {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	if webhdfs == nil {
		return mux
	}
	// WebHDFS calls are nearly all the traffic: a clean /webhdfs/v1/ path
	// goes straight to its handler (the mux's pattern matching is a fifth of
	// a GETFILESTATUS's handling); anything the mux would clean or redirect
	// ("//", "/./", "/../") still goes through it.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, webhdfsPrefix) && r.Method != http.MethodConnect &&
			!strings.Contains(p, "//") && !strings.Contains(p, "/.") {
			webhdfs.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

const webhdfsPrefix = "/webhdfs/v1/"

func (n *NameNode) signed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(n.cfg.Secret) == 0 {
			writeRemote(w, http.StatusUnauthorized, "AuthenticationException", "org.apache.hadoop.security.authentication.client.AuthenticationException", "no cluster secret configured ("+auth.ConfKey+")")
			return
		}
		if err := n.verifier.Verify(r); err != nil {
			writeRemote(w, http.StatusUnauthorized, "AuthenticationException", "org.apache.hadoop.security.authentication.client.AuthenticationException", err.Error())
			return
		}
		// Image transfers run to gigabytes: an authenticated peer's call
		// is not held to the deadlines meant for anonymous clients.
		httpserve.Unbounded(w)
		h(w, r)
	}
}

// WebHDFSHandler is the WebHDFS handler over n. A CREATE or APPEND body is
// refused once it passes the inline file limit, before more of it is read:
// no larger file can be stored, so buffering more only costs memory.
func (n *NameNode) WebHDFSHandler(opts webhdfs.HandlerOptions) http.Handler {
	opts.MaxDataBytes = n.cfg.MaxInline
	opts.MaxDataKey = KeyMaxInline
	opts.DataNode = n.chooseDataNode
	opts.NamenodeRPCAddress = n.cfg.Nameservice
	opts.BlockLocations = func(ctx context.Context, path string, offset, length int64, user string) ([]webhdfs.BlockLocation, error) {
		lbs, err := n.ClientProtocol().GetBlockLocations(ctx, path, offset, length, user)
		return lbs.BlockLocations(), err
	}
	return webhdfs.Handler(n, opts)
}

// StartHTTP serves n's HTTP endpoints (webhdfs mounted under /webhdfs/v1/)
// on ln with the configured limits (httpserve.Defaults for what is unset).
func (n *NameNode) StartHTTP(ln net.Listener, webhdfs http.Handler) *http.Server {
	return httpserve.Start(ln, n.Handler(webhdfs), n.cfg.HTTPLimits.OrDefaults(), log.New(logWriter{n.logf}, "", 0))
}

// logWriter sends net/http's error log lines to the NameNode's log.
type logWriter struct{ logf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	w.logf("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeRemote(w http.ResponseWriter, code int, exc, class, msg string) {
	writeJSON(w, code, map[string]RemoteException{"RemoteException": {Exception: exc, JavaClassName: class, Message: msg}})
}

// Status returns what /ha/status reports.
func (n *NameNode) Status() HAStatus {
	s := n.State()
	st := HAStatus{State: s.String(), Nameservice: n.cfg.Nameservice, NamenodeID: n.cfg.ID,
		LastAppliedTxid: n.Totals().LastTxid, Epoch: n.epoch.Load()}
	switch s {
	case StateStandby, StateActive:
		st.ReadyToBecomeActive = true
	case StateInitializing:
		st.NotReadyReason = "NameNode is still loading its namespace"
	default:
		st.NotReadyReason = "NameNode is stopping"
	}
	if s == StateActive {
		n.mu.RLock()
		w := n.writer
		n.mu.RUnlock()
		if r, ok := w.(interface{ InSync() []qjm.LoggerSync }); ok {
			st.Journal = r.InSync()
		}
	}
	return st
}

func (n *NameNode) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, n.Status())
}

func (n *NameNode) serveHealth(w http.ResponseWriter, r *http.Request) {
	switch s := n.State(); s {
	case StateStandby, StateActive:
		writeJSON(w, http.StatusOK, map[string]any{"healthy": true})
	default:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"healthy": false, "reason": "NameNode is " + s.String()})
	}
}

func (n *NameNode) serveTransition(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error
		if active {
			err = n.TransitionToActive(r.Context())
		} else {
			err = n.TransitionToStandby(r.Context())
		}
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, ErrNotReady) {
				code = http.StatusConflict
			}
			writeRemote(w, code, "ServiceFailedException", "org.apache.hadoop.ha.ServiceFailedException", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"state": n.State().String()})
	}
}

// serveRollEdits rolls the active's edit log (rollEditLog).
func (n *NameNode) serveRollEdits(w http.ResponseWriter, r *http.Request) {
	txid, err := n.RollEditLog(r.Context())
	if err != nil {
		if errors.Is(err, webhdfs.ErrStandby) {
			writeRemote(w, http.StatusForbidden, "StandbyException", "org.apache.hadoop.ipc.StandbyException", err.Error())
			return
		}
		writeRemote(w, http.StatusInternalServerError, "IOException", "java.io.IOException", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"newSegmentTxId": txid})
}

// serveGetImage sends fsimage_<txid> (the newest when txid is absent) with
// its checksum, for bootstrapStandby.
func (n *NameNode) serveGetImage(w http.ResponseWriter, r *http.Request) {
	imgs := n.storage.Images()
	if len(imgs) == 0 {
		writeRemote(w, http.StatusNotFound, "FileNotFoundException", "java.io.FileNotFoundException", "no fsimage")
		return
	}
	txid := imgs[0]
	if v := r.URL.Query().Get("txid"); v != "" && v != "latest" {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeRemote(w, http.StatusBadRequest, "IllegalArgumentException", "java.lang.IllegalArgumentException", "bad txid "+v)
			return
		}
		txid = t
	}
	data, err := n.storage.ReadImage(txid)
	if err != nil {
		writeRemote(w, http.StatusNotFound, "FileNotFoundException", "java.io.FileNotFoundException", err.Error())
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Image-Checksum", hex.EncodeToString(sum[:]))
	w.Header().Set("X-Image-Txid", strconv.FormatInt(txid, 10))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// servePutImage accepts a checkpoint from a standby (Hadoop's standby uploads
// its new image to the active the same way).
func (n *NameNode) servePutImage(w http.ResponseWriter, r *http.Request) {
	if s := n.State(); s != StateActive {
		writeRemote(w, http.StatusConflict, "StandbyException", "org.apache.hadoop.ipc.StandbyException", "only the active NameNode accepts checkpoint images; this one is "+s.String())
		return
	}
	txid, err := strconv.ParseInt(r.URL.Query().Get("txid"), 10, 64)
	if err != nil || txid < 0 {
		writeRemote(w, http.StatusBadRequest, "IllegalArgumentException", "java.lang.IllegalArgumentException", "bad txid")
		return
	}
	// To a file first, never the heap: the image is decoded and saved only
	// once all of it arrived with its signature and checksum intact.
	tmp, err := receiveImage(r.Body, n.uploadDir(), txid, r.Header.Get("X-Image-Checksum"), maxImageBytes)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		writeRemote(w, http.StatusUnauthorized, "AuthenticationException", "org.apache.hadoop.security.authentication.client.AuthenticationException", err.Error())
		return
	case errors.Is(err, ErrImageTooLarge):
		writeRemote(w, http.StatusRequestEntityTooLarge, "IOException", "java.io.IOException", err.Error())
		return
	case err != nil:
		writeRemote(w, http.StatusBadRequest, "IOException", "java.io.IOException", err.Error())
		return
	}
	defer os.Remove(tmp)
	data, release, err := mapImage(tmp)
	if err != nil {
		writeRemote(w, http.StatusInternalServerError, "IOException", "java.io.IOException", err.Error())
		return
	}
	defer release()
	if err := n.AcceptImage(r.Context(), txid, data); err != nil {
		writeRemote(w, http.StatusInternalServerError, "IOException", "java.io.IOException", err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// jnStatus asks the journal for per-JN status, briefly.
func (n *NameNode) jnStatus(ctx context.Context) []qjm.JNStatus {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return n.journal.JournalStatus(ctx)
}

// tailLag returns how far the standby is behind the journal (0 when active).
func (n *NameNode) tailLag(jns []qjm.JNStatus) (txns, millis int64) {
	if n.State() != StateStandby {
		return 0, 0
	}
	applied := n.Totals().LastTxid
	var head int64
	for _, s := range jns {
		if s.Reachable {
			head = max(head, s.CommittedTxid, s.LastTxid)
		}
	}
	txns = max(head-applied, 0)
	if txns > 0 {
		if c := n.caughtUpAt.Load(); c > 0 {
			millis = max(n.nowMs()-c, 0)
		}
	}
	return txns, millis
}

var statusPage = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>NameNode {{.ID}} ({{.State}})</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px;text-align:left}
.active{color:#060;font-weight:bold}.standby{color:#036;font-weight:bold}.bad{color:#a00}</style></head>
<body>
<h1>NameNode '{{.ID}}' <span id="ha-state" class="{{.State}}">({{.State}})</span></h1>
<table>
<tr><th>Nameservice</th><td>{{.Nameservice}}</td></tr>
<tr><th>HA state</th><td class="{{.State}}">{{.State}}</td></tr>
<tr><th>HTTP address</th><td>{{.HTTPAddr}}</td></tr>
<tr><th>Journal epoch</th><td>{{.Totals.Epoch}}</td></tr>
<tr><th>Last applied txid</th><td>{{.Totals.LastTxid}}</td></tr>
<tr><th>Files and directories</th><td>{{.Totals.Files}} files, {{.Totals.Dirs}} directories</td></tr>
<tr><th>Last checkpoint</th><td>txid {{.Totals.LastCheckpointTxid}} at {{.CkptTime}}</td></tr>
<tr><th>DataNodes</th><td id="datanodes">{{.Blocks.NumLive}} live, {{.Blocks.NumDead}} dead, {{.Blocks.NumDecommissioning}} decommissioning</td></tr>
<tr><th>Capacity</th><td>{{.Blocks.CapacityUsed}} of {{.Blocks.CapacityTotal}} bytes used, {{.Blocks.CapacityRemaining}} remaining</td></tr>
<tr><th>Blocks</th><td id="blocks">{{.Blocks.BlocksTotal}} blocks, {{.Blocks.UnderReplicatedBlocks}} under-replicated, {{.Blocks.MissingBlocks}} missing, {{.Blocks.CorruptBlocks}} corrupt</td></tr>
{{if .Blocks.SafeModeTip}}<tr><th>Safe mode</th><td class="bad">{{.Blocks.SafeModeTip}}</td></tr>{{end}}
{{if eq .State "standby"}}<tr><th>Tail lag</th><td>{{.LagTxns}} txns, {{.LagMs}} ms</td></tr>{{end}}
{{if .LastError}}<tr><th>Last error</th><td class="bad">{{.LastError}}</td></tr>{{end}}
</table>
<h2>JournalNodes</h2>
<table><tr><th>JournalNode</th><th>Reachable</th><th>Epoch</th><th>Writer epoch</th><th>Last txid</th><th>Committed txid</th><th>Lag (txns)</th></tr>
{{range .JNs}}<tr><td>{{.Addr}}</td><td{{if not .Reachable}} class="bad"{{end}}>{{if .Reachable}}yes{{else}}no {{.Error}}{{end}}</td><td>{{.Epoch}}</td><td>{{.WriterEpoch}}</td><td>{{.LastTxid}}</td><td>{{.CommittedTxid}}</td><td>{{.Lag}}</td></tr>
{{end}}</table>
<p>Generated {{.Now}} by hactl.</p>
</body></html>
`))

func (n *NameNode) serveStatusPage(w http.ResponseWriter, r *http.Request) {
	jns := n.jnStatus(r.Context())
	lagTxns, lagMs := n.tailLag(jns)
	t := n.Totals()
	lastErr := ""
	if p := n.lastErr.Load(); p != nil {
		lastErr = *p
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	statusPage.Execute(w, map[string]any{
		"ID": n.cfg.ID, "Nameservice": n.cfg.Nameservice, "State": n.State().String(), "HTTPAddr": n.cfg.HTTPAddr,
		"Totals": t, "CkptTime": t.LastCheckpointTime.UTC().Format(time.RFC3339), "JNs": jns,
		"LagTxns": lagTxns, "LagMs": lagMs, "Now": n.now().UTC().Format(time.RFC3339),
		"LastError": lastErr, "Blocks": n.blockFigures(),
	})
}
