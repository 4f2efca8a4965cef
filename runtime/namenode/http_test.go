package namenode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

func TestRollEditsOnlyOnActive(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1", "nn2")
	a1 := serve(t, nns[0])
	c := NewClient(testSecret, 5*time.Second)

	var re *RemoteError
	if _, err := c.RollEdits(ctx, a1); !errors.As(err, &re) || re.Status != http.StatusForbidden || re.RemoteException.Exception != "StandbyException" {
		t.Fatalf("rollEdits on a standby: %v", err)
	}
	if _, err := NewClient([]byte("wrong-secret-wrong-secret"), time.Second).RollEdits(ctx, a1); !errors.As(err, &re) || re.Status != http.StatusUnauthorized {
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
	next, err := c.RollEdits(ctx, a1)
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
