package apply

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
)

// TestEveryDaemonCallGoesThroughTheTargetsDialer: with Env.Dial set (the
// target's dialer: SSH through a bastion), the readiness checks, the signed
// HA client, the JournalNode's public status and the JournalNode RPC all
// dial through it. The cluster's addresses are loopback ports nothing
// listens on, so a direct dial would be refused; the dialer answers every
// address with one test server.
func TestEveryDaemonCallGoesThroughTheTargetsDialer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ha/status":
			w.Write([]byte(`{"state":"standby","nameservice":"hacluster","namenodeId":"dnn"}`))
		case "/status":
			w.Write([]byte(`{"journals":{"hacluster":{"highestWrittenTxid":7}}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := loopbackCluster(t, freePort(t))
	var mu sync.Mutex
	var dialed []string
	env.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
	}
	env.secret = []byte("0123456789abcdef0123456789abcdef")
	ctx := context.Background()
	c := env.Cluster

	check, err := readyCheck(ctx, env, "dim", daemon.Host(daemon.JournalNode).Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := check(ctx); err != nil {
		t.Errorf("JournalNode readiness through the dialer: %v", err)
	}
	client, err := env.client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nnHTTP, err := NameNodeHTTPAddr(c, "hacluster", "dnn")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := GetHAStatus(ctx, client, nnHTTP); err != nil || st.State != "standby" {
		t.Errorf("HA status through the dialer: %+v, %v", st, err)
	}
	if st, err := getJNStatus(ctx, env.PublicClient(), c.JournalHTTPAddr("oim")); err != nil || st.Journals["hacluster"].HighestTxid != 7 {
		t.Errorf("JournalNode status through the dialer: %+v, %v", st, err)
	}
	call, err := env.journalCaller(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An HTTP server answers no RPC: only the dial matters.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_ = call(cctx, c.JournalRPCAddr("jim"), "getJournalState", struct{}{}, &struct{}{})
	cancel()

	for _, want := range []string{c.JournalRPCAddr("dim"), nnHTTP, c.JournalHTTPAddr("oim"), c.JournalRPCAddr("jim")} {
		if !slices.Contains(dialed, want) {
			t.Errorf("%s was not dialled through the target (dialled: %q)", want, dialed)
		}
	}
}
