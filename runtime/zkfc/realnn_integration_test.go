package zkfc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
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
	hung   chan struct{} // non-nil while the endpoint hangs
	cancel context.CancelFunc
	done   chan error
}

func (r *realNN) serve(l net.Listener) {
	h := r.nn.Handler(nil)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		hung := r.hung
		r.mu.Unlock()
		if hung != nil {
			select {
			case <-hung:
			case <-req.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, req)
	})}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
}

// kill closes the NameNode's HTTP endpoint, as a crash does for its ZKFC.
func (r *realNN) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hung != nil {
		close(r.hung)
		r.hung = nil
	}
	r.srv.Close()
}

// hang makes the HA endpoint stop answering (as SIGSTOP would), or resumes it.
func (r *realNN) hang(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on && r.hung == nil {
		r.hung = make(chan struct{})
	} else if !on && r.hung != nil {
		close(r.hung)
		r.hung = nil
	}
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
		cfg, err := namenode.LoadConfig(conf, id)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Secret = h.secret
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
		if _, err := nns[st].nn.GetFileStatus(ctx, fmt.Sprintf("/acked/%d", i)); err != nil {
			t.Fatalf("acknowledged write /acked/%d missing on the new active: %v", i, err)
		}
	}
	if err := nns[act].nn.Mkdirs(ctx, "/from-the-old-active", 0o755, "hdfs"); err == nil {
		t.Fatal("the old active acknowledged a write after the failover")
	}
	if _, err := nns[st].nn.GetFileStatus(ctx, "/from-the-old-active"); err == nil {
		t.Fatal("the old active's late write reached the namespace")
	}
}

// ack is one acknowledged write: which NameNode, in which writer epoch.
type ack struct {
	path  string
	nn    string
	epoch int64
}

// testRandomizedFailovers runs n failovers of random kinds (seeded) during
// continuous writes, then checks the history: every acknowledged write is
// on the final active, and no two NameNodes acknowledged writes in one epoch.
func testRandomizedFailovers(t *testing.T, h *haEnv, n int, seed int64) {
	t.Logf("randomized failovers: %d, seed %d", n, seed)
	rnd := newRand(seed)
	nns := startRealNameNodes(t, h, 0)
	h.formatZK()
	h.startZKFC("nn1")
	h.startZKFC("nn2")
	// The active is the one with the newest writer epoch: a NameNode that was
	// hung still believes it is active until it tries to write (or its ZKFC
	// makes it standby), exactly as a SIGSTOPped one after SIGCONT.
	active := func() string {
		best, bestEpoch := "", int64(-1)
		for _, id := range []string{"nn1", "nn2"} {
			if nns[id].nn.State() == namenode.StateActive {
				if e := nns[id].nn.Status().Epoch; e > bestEpoch {
					best, bestEpoch = id, e
				}
			}
		}
		return best
	}
	waitFor(t, 20*time.Second, "a real active", func() bool { return active() != "" })

	var (
		mu    sync.Mutex
		acks  []ack
		stop  = make(chan struct{})
		wdone = make(chan struct{})
	)
	go func() {
		defer close(wdone)
		ctx := context.Background()
		deadline := time.Now().Add(10 * time.Minute)
		for i := 0; time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			default:
			}
			// A steady trickle, not a flood: a flood of in-memory writes would
			// make every transition reload a namespace of millions of entries.
			time.Sleep(2 * time.Millisecond)
			p := fmt.Sprintf("/h/%06d", i)
			for try := 0; try < 2000; try++ { // each write retried until some active acknowledges it
				id := active()
				if id != "" && nns[id].nn.Mkdirs(ctx, p, 0o755, "hdfs") == nil {
					mu.Lock()
					acks = append(acks, ack{p, id, nns[id].nn.Status().Epoch})
					mu.Unlock()
					break
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	kinds := map[string]int{}
	for i := 0; i < n; i++ {
		act := active()
		if act == "" {
			waitFor(t, 20*time.Second, "an active", func() bool { act = active(); return act != "" })
		}
		st := peerOf(act)
		h.waitStandbyReady(st)
		kind := []string{"kill-namenode", "graceful", "kill-zkfc", "hang-namenode"}[rnd.Intn(4)]
		kinds[kind]++
		switch kind {
		case "kill-namenode":
			nns[act].kill()
		case "graceful":
			if code, body := h.zkfcCall(st, "POST", "/zkfc/gracefulFailover"); code != 200 {
				t.Fatalf("failover %d (%s): %d %s", i, kind, code, body)
			}
		case "kill-zkfc":
			h.stopZKFC(act, syscall.SIGKILL)
		case "hang-namenode":
			nns[act].hang(true)
		}
		waitFor(t, 20*time.Second, fmt.Sprintf("failover %d (%s): %s active", i, kind, st), func() bool {
			return nns[st].nn.State() == namenode.StateActive
		})
		switch kind {
		case "kill-namenode":
			if err := nns[act].revive(); err != nil {
				t.Fatal(err)
			}
		case "kill-zkfc":
			h.startZKFC(act)
		case "hang-namenode":
			nns[act].hang(false)
		}
	}
	time.Sleep(200 * time.Millisecond) // a few writes on the last active
	close(stop)
	<-wdone
	t.Logf("failover kinds %v; %d acknowledged writes", kinds, len(acks))

	final := active()
	if final == "" {
		t.Fatal("no active NameNode at the end")
	}
	ctx := context.Background()
	byEpoch := map[int64]string{}
	for _, a := range acks {
		if _, err := nns[final].nn.GetFileStatus(ctx, a.path); err != nil {
			t.Errorf("acknowledged write %s (by %s, epoch %d) missing on the final active %s: %v", a.path, a.nn, a.epoch, final, err)
		}
		if other, ok := byEpoch[a.epoch]; ok && other != a.nn {
			t.Errorf("epoch %d: writes acknowledged by both %s and %s", a.epoch, other, a.nn)
		}
		byEpoch[a.epoch] = a.nn
	}
	list, err := nns[final].nn.ListStatus(ctx, "/h")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < len(acks) {
		t.Errorf("%d entries under /h, %d acknowledged", len(list), len(acks))
	}
	if len(byEpoch) < n/2 {
		t.Errorf("only %d writer epochs for %d failovers", len(byEpoch), n)
	}
}
