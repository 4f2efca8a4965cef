package zkfc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/namenode"
)

// realNN is hactl's real NameNode (runtime/namenode) run in this process on a
// shared in-memory journal, served on its HA admin HTTP address: the ZKFC's
// contract with the NameNode checked against the real handlers.
type realNN struct {
	nn     *namenode.NameNode
	addr   string
	mu     sync.Mutex
	srv    *http.Server
	cancel context.CancelFunc
	done   chan error
}

func (r *realNN) serve(l net.Listener) {
	srv := &http.Server{Handler: r.nn.Handler(nil)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
}

// kill closes the NameNode's HTTP endpoint, as a crash does for its ZKFC.
func (r *realNN) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.srv.Close()
}

// revive serves the endpoint again.
func (r *realNN) revive() error {
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		return err
	}
	r.serve(l)
	return nil
}

// startRealNameNodes formats nn1, bootstraps nn2 from its image and serves both.
func startRealNameNodes(t *testing.T, h *haEnv, portBase int) map[string]*realNN {
	t.Helper()
	j := namenode.NewMemJournal()
	info := namenode.NewNamespaceInfo("CID-zkfc-it", "127.0.6.11", time.Now())
	out := map[string]*realNN{}
	var firstImage []byte
	for _, id := range []string{"nn1", "nn2"} {
		conf := namenodeView(h.conf, h.ns, id)
		conf.Set("dfs.namenode.name.dir", filepath.Join(h.dir, id, "name"))
		cfg, err := namenode.LoadConfig(conf, "", id)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Secret = h.secret
		cfg.Superuser = "hdfs" // as if run by hdfs, the user these tests write as (NameNodes check permissions)
		cfg.TailPeriod = 20 * time.Millisecond
		cfg.TailInProgress = true
		if id == "nn1" {
			if err := namenode.Format(context.Background(), cfg, j, info, false, time.Now()); err != nil {
				t.Fatal(err)
			}
			if firstImage, err = (&namenode.Storage{Dirs: cfg.NameDirs}).ReadImage(0); err != nil {
				t.Fatal(err)
			}
		} else if err := (&namenode.Storage{Dirs: cfg.NameDirs}).Format(info, firstImage, 0); err != nil {
			t.Fatal(err)
		}
		n := namenode.New(cfg, j, namenode.Options{Logf: t.Logf})
		if err := n.Load(); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		r := &realNN{nn: n, addr: cfg.HTTPAddr, done: make(chan error, 1)}
		r.serve(l)
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		go func() { r.done <- n.Run(ctx) }()
		t.Cleanup(func() { r.kill(); cancel(); <-r.done })
		out[id] = r
	}
	return out
}

// testRealNameNodes: kill the active real NameNode's endpoint (the process is
// left running, as a hung or partitioned one); the standby becomes active
// through the ZKFCs, accepts writes, holds every acknowledged write, and the
// old active can no longer acknowledge one (the journal fenced its epoch).
func testRealNameNodes(t *testing.T, h *haEnv) {
	nns := startRealNameNodes(t, h, 9190)
	h.formatZK()
	h.startZKFC("nn1")
	h.startZKFC("nn2")
	var act string
	waitFor(t, 20*time.Second, "a real NameNode active", func() bool {
		for id, r := range nns {
			if r.nn.State() == namenode.StateActive {
				act = id
				return true
			}
		}
		return false
	})
	st := peerOf(act)
	ctx := context.Background()
	for i := range 20 {
		if err := nns[act].nn.Mkdirs(ctx, fmt.Sprintf("/acked/%d", i), 0o755, "hdfs"); err != nil {
			t.Fatalf("write %d on the active: %v", i, err)
		}
	}
	killed := time.Now()
	nns[act].kill() // its HA endpoint is gone; its writer lingers
	var firstWrite time.Duration
	waitFor(t, 20*time.Second, st+" accepting writes", func() bool {
		if nns[st].nn.Mkdirs(ctx, "/after-failover", 0o755, "hdfs") == nil {
			firstWrite = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("real NameNode failover: first write accepted by the new active %s after the old one's death", firstWrite.Round(time.Millisecond))
	for i := range 20 {
		if _, err := nns[st].nn.GetFileStatus(ctx, fmt.Sprintf("/acked/%d", i), "hdfs"); err != nil {
			t.Fatalf("acknowledged write /acked/%d missing on the new active: %v", i, err)
		}
	}
	if err := nns[act].nn.Mkdirs(ctx, "/from-the-old-active", 0o755, "hdfs"); err == nil {
		t.Fatal("the old active acknowledged a write after the failover")
	}
	if _, err := nns[st].nn.GetFileStatus(ctx, "/from-the-old-active", "hdfs"); err == nil {
		t.Fatal("the old active's late write reached the namespace")
	}
}
