package apply

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

func loopbackCluster(t *testing.T, jnPort int) *Env {
	c := loadFixture(t, "three", func(src string) string {
		src = strings.NewReplacer("192.168.1.6", "127.0.7.1", "192.168.1.132", "127.0.7.2", "192.168.1.11", "127.0.7.3").Replace(src)
		return strings.Replace(src, `edits_dir = "/hdfs/journalnode"`, `edits_dir = "/hdfs/journalnode"`+"\n    rpc_port = "+strconv.Itoa(jnPort), 1)
	})
	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return &Env{Cluster: c, Desired: d, Guard: &Guard{}, Now: clk.Now, Sleep: clk.Sleep, ReadyTimeout: time.Minute}
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.7.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// isTailOf matches apply's `tail -n 15` of the log named name.
func isTailOf(name string) fake.Match {
	return func(op fake.Op) bool {
		e, ok := op.(fake.Exec)
		return ok && len(e.Args) == 4 && e.Args[0] == "tail" && e.Args[1] == "-n" && e.Args[2] == "15" && filepath.Base(e.Args[3]) == name
	}
}

func TestReadyReportsACrashingDaemonWithItsLog(t *testing.T) {
	env := loopbackCluster(t, freePort(t))
	h := fake.New("dim", "127.0.7.1")
	h.On(fake.IsRuntime("supervise", "status"), `[{"name":"journalnode","state":"failed","last_exit":"exit status 1"}]`, 0)
	h.On(isTailOf("journalnode.log"), "Error: flag provided but not defined: -conf\n", 0)
	env.Hosts = map[string]targets.Host{"dim": h}
	err := DefaultReady(context.Background(), env, "dim", daemon.Host(daemon.JournalNode).Name())
	if err == nil || !strings.Contains(err.Error(), "gave up") || !strings.Contains(err.Error(), "flag provided but not defined") {
		t.Fatalf("err = %v, want the supervisor's verdict and the log", err)
	}
}

// A daemon that crash-loops is reported after a few restarts, with its log,
// long before the ready timeout and before its supervisor gives up.
func TestReadyReportsACrashLoopBeforeTheSupervisorGivesUp(t *testing.T) {
	env := loopbackCluster(t, freePort(t))
	h := fake.New("dim", "127.0.7.1")
	var mu sync.Mutex
	restarts := 1 // it crashed once already when apply starts waiting
	h.AddRule(&fake.Rule{Match: fake.IsRuntime("supervise", "status"), Respond: func(*fake.Host, fake.Call) (targets.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		out := fmt.Sprintf(`[{"name":"journalnode","state":"running","restarts":%d,"last_exit":"exit status 2"}]`, restarts)
		restarts++ // one more crash between two looks
		return targets.Result{Stdout: []byte(out)}, nil
	}})
	h.On(isTailOf("journalnode.log"), "Error: cannot lock /hdfs/journalnode\n", 0)
	env.Hosts = map[string]targets.Host{"dim": h}
	start := env.now()
	err := DefaultReady(context.Background(), env, "dim", daemon.Host(daemon.JournalNode).Name())
	if err == nil || !strings.Contains(err.Error(), "restarted 2 times") || !strings.Contains(err.Error(), "cannot lock") ||
		!strings.Contains(err.Error(), "exit status 2") {
		t.Fatalf("err = %v, want the crash loop and the log", err)
	}
	if waited := env.now().Sub(start); waited >= 10*time.Second {
		t.Errorf("reported after %s of waiting", waited)
	}
	// A daemon restarted long before (restarts=5 throughout) is not crash-looping.
	env = loopbackCluster(t, freePort(t))
	env.ReadyTimeout = 5 * time.Second
	h = fake.New("dim", "127.0.7.1")
	h.On(fake.IsRuntime("supervise", "status"), `[{"name":"journalnode","state":"running","restarts":5}]`, 0)
	env.Hosts = map[string]targets.Host{"dim": h}
	err = DefaultReady(context.Background(), env, "dim", daemon.Host(daemon.JournalNode).Name())
	if err == nil || !strings.Contains(err.Error(), "still not serving") {
		t.Fatalf("steady restart count: err = %v, want the timeout", err)
	}
}

func TestReadyWaitsForAJournalNodeToListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.7.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := loopbackCluster(t, l.Addr().(*net.TCPAddr).Port)
	env.Hosts = map[string]targets.Host{"dim": fake.New("dim", "127.0.7.1")}
	if err := DefaultReady(context.Background(), env, "dim", daemon.Host(daemon.JournalNode).Name()); err != nil {
		t.Fatalf("ready: %v", err)
	}
	// Nothing listening and a supervisor that keeps trying: the timeout,
	// on the injected clock.
	env2 := loopbackCluster(t, freePort(t))
	env2.Hosts = map[string]targets.Host{"dim": fake.New("dim", "127.0.7.1")}
	err = DefaultReady(context.Background(), env2, "dim", daemon.Host(daemon.JournalNode).Name())
	if err == nil || !strings.Contains(err.Error(), "still not serving after 1m0s") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

// fakeZooKeeper answers srvr as a ZooKeeper server that serves only after
// `looking` answers.
func fakeZooKeeper(t *testing.T, looking int) int {
	l, err := net.Listen("tcp", "127.0.7.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for n := 0; ; n++ {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4)
			conn.Read(buf)
			if n < looking {
				conn.Write([]byte("This ZooKeeper instance is not currently serving requests\n"))
			} else {
				conn.Write([]byte("Zookeeper version: 3.8.0\nMode: follower\n"))
			}
			conn.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestZooKeeperServingWaitsForTheQuorum(t *testing.T) {
	for _, tc := range []struct {
		looking int
		ok      bool
	}{{3, true}, {1 << 30, false}} {
		port := fakeZooKeeper(t, tc.looking)
		env := loopbackCluster(t, 8485)
		env.Cluster.ZooKeeper.ClientPort = port
		env.ReadyTimeout = 10 * time.Second
		err := DefaultZooKeeperServing(context.Background(), env, "dim")
		if (err == nil) != tc.ok {
			t.Errorf("looking %d: err = %v", tc.looking, err)
		}
		if err != nil && !strings.Contains(err.Error(), "not currently serving") {
			t.Errorf("error does not say why: %v", err)
		}
	}
}

// jnStatusServer serves a JournalNode's /status with a moving txid.
func jnStatusServer(t *testing.T, addr string, txid func() int64) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"journals":{"hacluster":{"highestWrittenTxid":%d}}}`, txid())
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

func TestJournalInSyncWaitsForTheRestartedJournalNode(t *testing.T) {
	port := freePort(t)
	env := loopbackCluster(t, 8485)
	env.Cluster.Nameservice("hacluster").Journal.HTTPPort = port
	var mu sync.Mutex
	restarted := int64(40)
	jnStatusServer(t, fmt.Sprintf("127.0.7.1:%d", port), func() int64 {
		mu.Lock()
		defer mu.Unlock()
		restarted += 5 // it catches up as the writer's next segment reaches it
		return restarted
	})
	jnStatusServer(t, fmt.Sprintf("127.0.7.2:%d", port), func() int64 { return 60 })
	jnStatusServer(t, fmt.Sprintf("127.0.7.3:%d", port), func() int64 { return 70 })
	if err := DefaultJournalInSync(context.Background(), env, "dim"); err != nil {
		t.Fatalf("in sync: %v", err)
	}
	mu.Lock()
	if restarted < 60 {
		t.Errorf("returned at txid %d before reaching the peers' 60", restarted)
	}
	mu.Unlock()

	// A JournalNode that never catches up fails the step, saying why.
	stuck := loopbackCluster(t, 8485)
	port2 := freePort(t)
	stuck.Cluster.Nameservice("hacluster").Journal.HTTPPort = port2
	jnStatusServer(t, fmt.Sprintf("127.0.7.1:%d", port2), func() int64 { return 10 })
	jnStatusServer(t, fmt.Sprintf("127.0.7.2:%d", port2), func() int64 { return 60 })
	err := DefaultJournalInSync(context.Background(), stuck, "dim")
	if err == nil || !strings.Contains(err.Error(), "hacluster at txid 10 of 60") || !strings.Contains(err.Error(), "dfs.ha.log-roll.period") {
		t.Fatalf("err = %v", err)
	}
}

// nnView serves the NameNodes' /ha/status (nn "dnn" active, reporting the
// JournalNode on dim in sync only after rolls log rolls) and /ha/rollEdits.
type nnView struct {
	mu          sync.Mutex
	rolls, need int
	jnAddr      string
}

func (v *nnView) RoundTrip(r *http.Request) (*http.Response, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	body := `{"state":"standby"}`
	switch {
	case strings.HasPrefix(r.URL.Host, "127.0.7.1:") && r.URL.Path == "/ha/rollEdits":
		v.rolls++
		body = `{}`
	case strings.HasPrefix(r.URL.Host, "127.0.7.1:"):
		body = fmt.Sprintf(`{"state":"active","journal":[{"addr":%q,"inSync":%v}]}`, v.jnAddr, v.rolls >= v.need)
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
}

// A restarted JournalNode that holds every edit but that the active's writer
// still leaves out of its segment (the first roll reached it before it
// served) is not in sync: the wait rolls again until the writer takes it
// back, and fails, saying so, when it never does.
func TestJournalInSyncWaitsForTheWriterToTakeItBack(t *testing.T) {
	for _, need := range []int{3, 1 << 30} {
		port := freePort(t)
		env := loopbackCluster(t, 8485)
		env.Cluster.Nameservice("hacluster").Journal.HTTPPort = port
		for _, a := range []string{"127.0.7.1", "127.0.7.2", "127.0.7.3"} {
			jnStatusServer(t, fmt.Sprintf("%s:%d", a, port), func() int64 { return 60 })
		}
		v := &nnView{need: need, jnAddr: "127.0.7.1:8485"}
		env.HTTP = &http.Client{Transport: v}
		err := DefaultJournalInSync(context.Background(), env, "dim")
		switch {
		case need == 3 && (err != nil || v.rolls != 3):
			t.Errorf("taken back at the third roll: err %v after %d rolls", err, v.rolls)
		case need > 3 && (err == nil || !strings.Contains(err.Error(), "left out of the current segment by the active NameNode dnn")):
			t.Errorf("never taken back: %v", err)
		}
	}
}
