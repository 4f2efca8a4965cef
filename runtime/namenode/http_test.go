package namenode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func serve(t *testing.T, n *NameNode) string {
	t.Helper()
	n.cfg.Secret = testSecret
	srv := httptest.NewServer(n.Handler(nil))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	n.cfg.HTTPAddr = addr
	return addr
}

func TestHAAdminHTTP(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1", "nn2")
	a1, a2 := serve(t, nns[0]), serve(t, nns[1])
	c := NewClient(testSecret, 5*time.Second)

	// Unsigned calls are refused.
	resp, err := http.Get("http://" + a1 + "/ha/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned /ha/status: %d", resp.StatusCode)
	}
	bad := NewClient([]byte("wrong-secret-wrong-secret"), 5*time.Second)
	var re *RemoteError
	if err := bad.TransitionToActive(ctx, a1); !errors.As(err, &re) || re.Status != 401 {
		t.Fatalf("wrongly signed transition: %v", err)
	}
	if nns[0].State() != StateStandby {
		t.Fatal("a refused call changed the state")
	}

	st, err := c.GetServiceStatus(ctx, a1)
	if err != nil || st.State != "standby" || !st.ReadyToBecomeActive || st.NamenodeID != "nn1" || st.Nameservice != "ns1" {
		t.Fatalf("status %+v %v", st, err)
	}
	if err := c.MonitorHealth(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if err := c.TransitionToActive(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if err := nns[0].Mkdirs(ctx, "/x", 0o755, "u"); err != nil {
		t.Fatal(err)
	}
	st, _ = c.GetServiceStatus(ctx, a1)
	if st.State != "active" || st.Epoch != 1 || st.LastAppliedTxid != 1 {
		t.Fatalf("status after transition %+v", st)
	}

	// JMX in Hadoop's shape.
	resp, err = http.Get("http://" + a1 + "/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus")
	if err != nil {
		t.Fatal(err)
	}
	var jmx struct{ Beans []map[string]any }
	json.NewDecoder(resp.Body).Decode(&jmx)
	resp.Body.Close()
	if len(jmx.Beans) != 1 || jmx.Beans[0]["State"] != "active" || jmx.Beans[0]["NNRole"] != "NameNode" {
		t.Fatalf("jmx %+v", jmx)
	}
	resp, _ = http.Get("http://" + a2 + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem")
	json.NewDecoder(resp.Body).Decode(&jmx)
	resp.Body.Close()
	if len(jmx.Beans) != 1 || jmx.Beans[0]["TailLagTxns"] != float64(1) || jmx.Beans[0]["tag.HAState"] != "standby" {
		t.Fatalf("standby FSNamesystem bean %+v", jmx.Beans)
	}

	// Status page.
	resp, _ = http.Get("http://" + a1 + "/")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `id="ha-state" class="active"`) || !strings.Contains(string(page), "<td>mem</td>") {
		t.Fatalf("status page:\n%s", page)
	}

	// Image transfer: nn2 checkpoints and uploads to the active; bootstrap
	// fetches it with its checksum.
	nns[1].TailOnce(ctx)
	txid, img, err := nns[1].Checkpoint(true)
	if err != nil || img == nil {
		t.Fatal(err)
	}
	if err := c.UploadImage(ctx, Peer{HTTPAddr: a2}, txid, img); err == nil {
		t.Fatal("a standby accepted an uploaded image")
	}
	if err := c.UploadImage(ctx, Peer{HTTPAddr: a1}, txid, img); err != nil {
		t.Fatal(err)
	}
	if got := nns[0].storage.Images(); got[0] != txid {
		t.Fatalf("active images %v", got)
	}
	gt, gimg, err := c.FetchImage(ctx, Peer{HTTPAddr: a1})
	if err != nil || gt != txid || string(gimg) != string(img) {
		t.Fatalf("fetch image: txid %d, %v", gt, err)
	}
	cfg3 := testConfig(t, "nn3")
	cfg3.Peers = []Peer{{ID: "nn1", HTTPAddr: a1}}
	if got, err := BootstrapStandby(ctx, cfg3, j, c, false); err != nil || got != txid {
		t.Fatalf("bootstrap over HTTP: %d %v", got, err)
	}

	if err := c.TransitionToStandby(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.GetServiceStatus(ctx, a1); st.State != "standby" {
		t.Fatalf("after transitionToStandby: %+v", st)
	}
}

// rollEdits calls POST /ha/rollEdits as `hdfs dfsadmin -rollEdits` does and
// returns the first txid of the new segment.
func rollEdits(ctx context.Context, c *Client, httpAddr string) (int64, error) {
	var out struct {
		NewSegmentTxID int64 `json:"newSegmentTxId"`
	}
	err := c.getJSON(ctx, http.MethodPost, "http://"+httpAddr+"/ha/rollEdits", &out)
	return out.NewSegmentTxID, err
}

func TestRollEditsOnlyOnActive(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1", "nn2")
	a1 := serve(t, nns[0])
	c := NewClient(testSecret, 5*time.Second)

	var re *RemoteError
	if _, err := rollEdits(ctx, c, a1); !errors.As(err, &re) || re.Status != http.StatusForbidden || re.RemoteException.Exception != "StandbyException" {
		t.Fatalf("rollEdits on a standby: %v", err)
	}
	if _, err := rollEdits(ctx, NewClient([]byte("wrong-secret-wrong-secret"), time.Second), a1); !errors.As(err, &re) || re.Status != http.StatusUnauthorized {
		t.Fatalf("wrongly signed rollEdits: %v", err)
	}
	if err := c.TransitionToActive(ctx, a1); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := nns[0].Mkdirs(ctx, fmt.Sprintf("/d%d", i), 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	next, err := rollEdits(ctx, c, a1)
	if err != nil {
		t.Fatal(err)
	}
	if next != 4 {
		t.Fatalf("new segment starts at %d, want 4 (after 3 edits)", next)
	}
	if err := nns[0].Mkdirs(ctx, "/after-roll", 0o755, "u"); err != nil {
		t.Fatalf("write after roll: %v", err)
	}
}

// The profiler is served only when hactl.namenode.http.pprof is true.
func TestPProfOffByDefault(t *testing.T) {
	for _, on := range []bool{false, true} {
		n := newFormatted(t, NewMemJournal(), newClock(), "nn1")[0]
		n.cfg.PProf = on
		addr := serve(t, n)
		resp, err := http.Get("http://" + addr + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[on]; resp.StatusCode != want {
			t.Errorf("pprof %v: /debug/pprof/ answered %d, want %d", on, resp.StatusCode, want)
		}
	}
}

// WebHDFS requests with a clean path skip the mux; the others get the mux's
// answers as before (a redirect to the cleaned path), and the NameNode's own
// endpoints are untouched.
func TestWebHDFSRouting(t *testing.T) {
	n := newFormatted(t, NewMemJournal(), newClock(), "nn1")[0]
	var got []string
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	h := n.Handler(stub)
	const redirected = 399
	for _, tc := range []struct {
		method, target string
		code           int
		reached        string
	}{
		{"GET", "/webhdfs/v1/a/b?op=GETFILESTATUS", http.StatusTeapot, "GET /webhdfs/v1/a/b"},
		{"PUT", "/webhdfs/v1/?op=MKDIRS", http.StatusTeapot, "PUT /webhdfs/v1/"},
		{"GET", "/webhdfs/v1/.hidden?op=GETFILESTATUS", http.StatusTeapot, "GET /webhdfs/v1/.hidden"},
		{"GET", "/webhdfs/v1//a?op=GETFILESTATUS", redirected, ""},
		{"GET", "/webhdfs/v1/a/../b?op=GETFILESTATUS", redirected, ""},
		{"GET", "/webhdfs/v1?op=GETFILESTATUS", redirected, ""},
		{"GET", "/jmx", http.StatusOK, ""},
	} {
		got = nil
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.target, nil))
		reached := strings.Join(got, ",")
		code := w.Code
		if code >= 300 && code < 400 {
			code = redirected // the mux's choice of 301/307 is net/http's
		}
		if code != tc.code || reached != tc.reached {
			t.Errorf("%s %s: %d, handler saw %q; want %d, %q", tc.method, tc.target, w.Code, reached, tc.code, tc.reached)
		}
	}
}

// The standby's FSNamesystem bean carries the apply-lag histogram of the
// edits it tailed; the active's is empty (P50/P99 -1).
func TestJMXApplyLag(t *testing.T) {
	ctx := context.Background()
	nns := newFormatted(t, NewMemJournal(), newClock(), "nn1", "nn2")
	active, standby := nns[0], nns[1]
	standby.cfg.TailInProgress = true
	if err := active.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := active.Mkdirs(ctx, fmt.Sprintf("/d%d", i), 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := standby.TailOnce(ctx); n != 3 || err != nil {
		t.Fatalf("tailed %d, %v", n, err)
	}
	bean := func(n *NameNode) map[string]any {
		for _, b := range n.Beans(ctx) {
			if b.Name == "Hadoop:service=NameNode,name=FSNamesystem" {
				return b.Attrs
			}
		}
		t.Fatal("no FSNamesystem bean")
		return nil
	}
	sb := bean(standby)
	counts, _ := sb["TailApplyLagBucketCounts"].([]int64)
	bounds, _ := sb["TailApplyLagBucketsMillis"].([]int64)
	var total int64
	for _, c := range counts {
		total += c
	}
	if total != 3 || len(counts) != len(bounds)+1 || sb["TailApplyLagP99Millis"].(int64) < 0 || sb["TailApplyLagMaxMillis"].(int64) < 0 {
		t.Fatalf("standby bean: counts %v bounds %v p99 %v max %v", counts, bounds, sb["TailApplyLagP99Millis"], sb["TailApplyLagMaxMillis"])
	}
	if ab := bean(active); ab["TailApplyLagP99Millis"] != int64(-1) {
		t.Fatalf("active's p99 apply lag %v, want -1 (it tails nothing)", ab["TailApplyLagP99Millis"])
	}
}

// capture records the signed requests a client sends (an attacker on the
// network sees the same), with their bodies.
type capture struct {
	reqs   []*http.Request
	bodies [][]byte
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	c.reqs = append(c.reqs, r.Clone(r.Context()))
	c.bodies = append(c.bodies, b)
	return http.DefaultTransport.RoundTrip(r)
}

func resend(t *testing.T, r *http.Request, host string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(r.Method, "http://"+host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // the signed Host, as captured
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestCapturedCallsCannotBeReplayed replays captured signed calls: a
// transition again, an image upload with another body, a call to the other
// NameNode.
func TestCapturedCallsCannotBeReplayed(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1", "nn2")
	var addrs []string
	for _, n := range nns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n.cfg.Secret, n.cfg.HTTPAddr = testSecret, ln.Addr().String()
		srv := httptest.NewUnstartedServer(n.Handler(nil))
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		addrs = append(addrs, ln.Addr().String())
	}
	active, standby := nns[0], nns[1]
	cap := &capture{}
	c := NewClient(testSecret, 5*time.Second)
	c.HTTP.Transport.(*auth.Transport).Base = cap
	if err := c.TransitionToActive(ctx, addrs[0]); err != nil {
		t.Fatal(err)
	}
	if err := active.Mkdirs(ctx, "/d", 0o755, "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := standby.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	txid, img, err := standby.Checkpoint(true)
	if err != nil || img == nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if err := c.UploadImage(ctx, Peer{HTTPAddr: addrs[0]}, txid, img); err != nil {
		t.Fatal(err)
	}
	if err := c.TransitionToStandby(ctx, addrs[0]); err != nil {
		t.Fatal(err)
	}
	toActive, upload := cap.reqs[0], cap.reqs[1]
	if toActive.URL.Path != "/ha/transitionToActive" || upload.URL.Path != "/imagetransfer" {
		t.Fatalf("captured %s, %s", toActive.URL, upload.URL)
	}
	if resp := resend(t, toActive, addrs[0], nil); resp.StatusCode != http.StatusUnauthorized || active.State() != StateStandby {
		t.Fatalf("replayed transitionToActive: HTTP %d, state %s", resp.StatusCode, active.State())
	}
	// The image upload with another body whose checksum header matches it.
	forged := bytes.Clone(cap.bodies[1])
	forged[len(forged)-1] ^= 1
	upload.Header.Set("X-Image-Checksum", fmt.Sprintf("%x", sha256.Sum256(forged)))
	if resp := resend(t, upload, addrs[0], forged); resp.StatusCode == http.StatusOK {
		t.Fatal("an image upload replayed with another body was accepted")
	}
	// The same calls sent to the other NameNode (signed for the first).
	if resp := resend(t, toActive, addrs[1], nil); resp.StatusCode != http.StatusUnauthorized || standby.State() != StateStandby {
		t.Fatalf("transitionToActive signed for nn1 sent to nn2: HTTP %d, state %s", resp.StatusCode, standby.State())
	}
}
