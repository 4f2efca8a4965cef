package datanode

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
	"github.com/hactl/hactl/runtime/httpserve"
)

// TestRunOverSignedHTTP runs the daemon from Hadoop XML against a NameNode
// served by nnrpc's handler: the real transport, signatures and the
// UnregisteredNodeException mapping included.
func TestRunOverSignedHTTP(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("0123456789abcdef0123456789abcdef")
	secretFile := filepath.Join(dir, "cluster.secret")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	nn := newFakeNN(hdfs.HAActive, 5)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(nnrpc.PathPrefix, nnrpc.Handler(nil, nn, nnrpc.HandlerOptions{Verifier: auth.NewVerifier(secret, ln.Addr().String())}))
	srv := httpserve.Start(ln, mux, httpserve.Limits{}, nil)
	defer srv.Close()

	c := hadoopconf.New()
	for k, v := range map[string]string{
		"dfs.datanode.data.dir":            filepath.Join(dir, "data"),
		"dfs.datanode.address":             "127.0.0.1:0",
		"dfs.datanode.http.address":        "127.0.0.1:0",
		"dfs.datanode.ipc.address":         "127.0.0.1:0",
		"dfs.heartbeat.interval":           "1",
		"dfs.nameservices":                 "ns",
		"dfs.ha.namenodes.ns":              "nn1",
		"dfs.namenode.http-address.ns.nn1": ln.Addr().String(),
		auth.ConfKey:                       secretFile,
	} {
		c.Set(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var dn *DataNode
	started := make(chan struct{})
	go func() {
		done <- Run(ctx, c, nil, func(d *DataNode) error { dn = d; close(started); return nil })
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatal(err)
	}
	waitFor(t, "registration and a full report over nnrpc", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		_, ok := nn.reports[dn.ID().UUID]
		return ok
	})
	nn.mu.Lock()
	nn.forget = true
	delete(nn.reports, dn.ID().UUID)
	nn.mu.Unlock()
	waitFor(t, "re-registration after UnregisteredNodeException crossed the transport", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		_, ok := nn.reports[dn.ID().UUID]
		return ok
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
