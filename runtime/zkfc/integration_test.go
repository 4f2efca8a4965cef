package zkfc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/zkfc/internal/fakenn"
	"github.com/hactl/hactl/runtime/zkfc/zktest"
)

// TestMain doubles the test binary as a ZKFC process (HACTL_ZKFC_HELPER_CONF),
// so the integration tests can kill -9 a real ZKFC and let its session expire.
func TestMain(m *testing.M) {
	if dir := os.Getenv("HACTL_ZKFC_HELPER_CONF"); dir != "" {
		os.Exit(helperZKFC(dir, os.Getenv("HACTL_ZKFC_HELPER_ID")))
	}
	code := m.Run()
	if hactlBin != "" {
		os.RemoveAll(filepath.Dir(hactlBin)) // the hactl binary built for the process test
	}
	os.Exit(code)
}

func helperZKFC(dir, id string) int {
	opts := &slog.HandlerOptions{}
	if os.Getenv("HACTL_ZKFC_DEBUG") != "" {
		opts.Level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, opts))
	conf, err := hadoopconf.LoadDir(dir)
	if err != nil {
		log.Error("conf", "err", err)
		return 1
	}
	cfg, err := LoadConfig(conf, "", id)
	if err != nil {
		log.Error("conf", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	c, err := New(ctx, cfg, log)
	if err != nil {
		log.Error("start", "err", err)
		return ExitCode(err)
	}
	if err := c.Run(ctx); err != nil {
		log.Error("run", "err", err)
		return 1
	}
	return 0
}

func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (starts a real 3-server ZooKeeper from Debian's zookeeper package)")
	}
}

// zkHosts is this package's ZooKeeper ensemble (its loopback range is 127.0.6.x).
var zkHosts = []string{"127.0.6.1", "127.0.6.2", "127.0.6.3"}

// haEnv is one nameservice with two fake NameNodes (on 127.0.6.11 and .12) and
// their ZKFCs as processes, fenced by a shell script that kills the fake over
// its RPC port.
type haEnv struct {
	t        *testing.T
	ens      *zktest.Ensemble
	ns       string
	dir      string
	secret   []byte
	conf     *hadoopconf.Config
	cluster  *fakenn.Cluster
	nn       map[string]*fakenn.NameNode
	zkfc     map[string]*exec.Cmd
	exited   map[string]chan struct{}
	fenceLog string
	failFile string
}

var nnHosts = map[string]string{"nn1": "127.0.6.11", "nn2": "127.0.6.12"}

const fenceScript = `echo "$target_namenodeid $target_address" >> "$FENCE_LOG"
if [ -e "$FENCE_FAIL" ]; then echo "fencing disabled by the test" >&2; exit 1; fi
if (exec 3<>"/dev/tcp/$target_host/$target_port") 2>/dev/null; then
  exec 3<>"/dev/tcp/$target_host/$target_port"; echo FENCE >&3; exec 3>&-
  for i in $(seq 50); do (exec 4<>"/dev/tcp/$target_host/$target_port") 2>/dev/null || exit 0; sleep 0.1; done
  exit 1
fi
exit 0
`

// testConf are the fast settings of the tests (the benchmark uses the defaults).
var testConf = map[string]string{
	KeySessionTimeout:                                      "2000",
	"ha.health-monitor.check-interval.ms":                  "200",
	"ha.health-monitor.connect-retry-interval.ms":          "200",
	"ha.health-monitor.rpc-timeout.ms":                     "1000",
	"ha.failover-controller.graceful-fence.rpc-timeout.ms": "1000",
	"ha.failover-controller.new-active.rpc-timeout.ms":     "5000",
}

func newHAEnv(t *testing.T, ens *zktest.Ensemble, ns string, portBase int, overrides map[string]string) *haEnv {
	t.Helper()
	h := &haEnv{t: t, ens: ens, ns: ns, dir: t.TempDir(), cluster: &fakenn.Cluster{},
		nn: map[string]*fakenn.NameNode{}, zkfc: map[string]*exec.Cmd{}, exited: map[string]chan struct{}{}}
	h.secret = []byte("0123456789abcdef0123456789abcdef")
	secretFile := filepath.Join(h.dir, "cluster.secret")
	if err := os.WriteFile(secretFile, h.secret, 0o600); err != nil {
		t.Fatal(err)
	}
	h.fenceLog = filepath.Join(h.dir, "fence.log")
	h.failFile = filepath.Join(h.dir, "fence.fail")
	script := filepath.Join(h.dir, "fence.sh")
	if err := os.WriteFile(script, []byte(fenceScript), 0o755); err != nil {
		t.Fatal(err)
	}
	c := hadoopconf.New()
	set := map[string]string{
		"fs.defaultFS":                      "hdfs://" + ns,
		KeyQuorum:                           ens.Quorum(),
		"dfs.nameservices":                  ns,
		"dfs.ha.namenodes." + ns:            "nn1,nn2",
		"dfs.ha.automatic-failover.enabled": "true",
		"dfs.ha.fencing.methods":            "shell(FENCE_LOG=" + h.fenceLog + " FENCE_FAIL=" + h.failFile + " bash " + script + ")",
		"dfs.ha.zkfc.port":                  strconv.Itoa(portBase + 2),
		auth.ConfKey:                        secretFile,
	}
	for id, host := range nnHosts {
		set["dfs.namenode.rpc-address."+ns+"."+id] = fmt.Sprintf("%s:%d", host, portBase)
		set["dfs.namenode.http-address."+ns+"."+id] = fmt.Sprintf("%s:%d", host, portBase+1)
	}
	if overrides["shipped-defaults"] == "" {
		for k, v := range testConf {
			set[k] = v
		}
	}
	for k, v := range overrides {
		if k != "shipped-defaults" && k != "real-namenodes" {
			set[k] = v
		}
	}
	for k, v := range set {
		if v != "" {
			c.Set(k, v)
		}
	}
	h.conf = c
	if err := os.WriteFile(filepath.Join(h.dir, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.cluster.Close)
	for _, id := range []string{"nn1", "nn2"} {
		if overrides["real-namenodes"] != "" {
			break
		}
		n, err := h.cluster.Start(id, fmt.Sprintf("%s:%d", nnHosts[id], portBase+1), fmt.Sprintf("%s:%d", nnHosts[id], portBase), h.secret)
		if err != nil {
			t.Fatal(err)
		}
		h.nn[id] = n
	}
	t.Cleanup(func() {
		for id := range h.zkfc {
			h.stopZKFC(id, syscall.SIGKILL)
		}
		if v := h.cluster.Violations(); len(v) > 0 {
			t.Errorf("two active NameNodes: %v", v)
		}
		if t.Failed() || os.Getenv("HACTL_ZKFC_DEBUG") != "" {
			for _, id := range []string{"nn1", "nn2"} {
				data, _ := os.ReadFile(filepath.Join(h.dir, "zkfc-"+id+".log"))
				t.Logf("zkfc %s log:\n%s", id, tailString(string(data), 6000))
				if h.nn[id] != nil {
					t.Logf("nn %s transitions: %v", id, h.nn[id].Transitions())
				}
			}
		}
	})
	return h
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (h *haEnv) zkConfig() ZKConfig {
	z, err := LoadZKConfig(h.conf)
	if err != nil {
		h.t.Fatal(err)
	}
	return z
}

func (h *haEnv) formatZK() {
	h.t.Helper()
	if err := FormatZK(context.Background(), h.zkConfig(), []string{h.ns}, FormatOptions{Force: true}, nil); err != nil {
		h.t.Fatal(err)
	}
}

func (h *haEnv) startZKFC(id string) {
	h.t.Helper()
	logf, err := os.OpenFile(filepath.Join(h.dir, "zkfc-"+id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HACTL_ZKFC_HELPER_CONF="+h.dir, "HACTL_ZKFC_HELPER_ID="+id)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	ch := make(chan struct{})
	go func() { cmd.Wait(); close(ch) }()
	h.zkfc[id], h.exited[id] = cmd, ch
}

func (h *haEnv) stopZKFC(id string, sig syscall.Signal) {
	cmd := h.zkfc[id]
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-h.exited[id]:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-h.exited[id]
	}
	delete(h.zkfc, id)
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// activeNN waits until exactly one NameNode is active and alive and returns its ID.
func (h *haEnv) activeNN(timeout time.Duration) string {
	h.t.Helper()
	var id string
	waitFor(h.t, timeout, "one active NameNode", func() bool {
		n := 0
		for nid, nn := range h.nn {
			if nn.ActiveAlive() {
				n, id = n+1, nid
			}
		}
		return n == 1
	})
	return id
}

// waitStandbyReady waits until id's ZKFC is a healthy standby in the election
// (a ZKFC that has not finished its first health check refuses a failover).
// electPair formats ZooKeeper, starts both ZKFCs and waits until one
// NameNode is active and the other a ready standby: (active, standby).
func (h *haEnv) electPair() (string, string) {
	h.formatZK()
	h.startZKFC("nn1")
	h.startZKFC("nn2")
	act := h.activeNN(15 * time.Second)
	st := peerOf(act)
	h.waitStandbyReady(st)
	return act, st
}

func (h *haEnv) waitStandbyReady(id string) {
	h.t.Helper()
	waitFor(h.t, 10*time.Second, id+" a healthy standby in the election", func() bool {
		_, body, err := h.tryZKFCCall(id, "GET", "/zkfc/status")
		return err == nil && strings.Contains(body, `"inElection":true`) && strings.Contains(body, `"electorState":"standby"`) &&
			strings.Contains(body, `"health":"HEALTHY"`)
	})
}

func peerOf(id string) string {
	if id == "nn1" {
		return "nn2"
	}
	return "nn1"
}

func (h *haEnv) fenced() string {
	data, _ := os.ReadFile(h.fenceLog)
	return string(data)
}

// zkfcCall sends a signed request to a ZKFC's HTTP endpoint.
func (h *haEnv) zkfcCall(id, method, pathQuery string) (int, string) {
	h.t.Helper()
	code, body, err := h.tryZKFCCall(id, method, pathQuery)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, pathQuery, err)
	}
	return code, body
}

func (h *haEnv) tryZKFCCall(id, method, pathQuery string) (int, string, error) {
	port, _ := h.conf.Int("dfs.ha.zkfc.port", 0)
	req, _ := http.NewRequest(method, fmt.Sprintf("http://%s:%d%s", nnHosts[id], port, pathQuery), nil)
	client := &http.Client{Transport: &auth.Transport{Secret: h.secret}, Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func startEnsemble(t *testing.T) *zktest.Ensemble {
	return zktest.Start(t, zktest.Options{Hosts: zkHosts, MaxSessionTimeout: 10 * time.Second})
}

// TestIntegrationFailover runs the failover scenarios against one real
// ZooKeeper ensemble, each in its own nameservice.
func TestIntegrationFailover(t *testing.T) {
	integration(t)
	ens := startEnsemble(t)

	t.Run("StartChecks", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsstart", 9100, nil)
		cfg, err := LoadConfig(h.conf, "", "nn1")
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		if _, err := New(context.Background(), cfg, log); ExitCode(err) != ExitNoParentZnode || !strings.Contains(err.Error(), "format-zk") {
			t.Fatalf("no parent znode: exit %d, %v", ExitCode(err), err)
		}
		h.formatZK()
		noFence := *cfg
		noFence.Fencers = nil
		if _, err := New(context.Background(), &noFence, log); ExitCode(err) != ExitNoFencer {
			t.Fatalf("no fencer: exit %d, %v", ExitCode(err), err)
		}
		off := *cfg
		off.AutoFailover = false
		if _, err := New(context.Background(), &off, log); ExitCode(err) != ExitAutoFailoverOff {
			t.Fatalf("auto failover off: exit %d, %v", ExitCode(err), err)
		}
		badZK := *cfg
		badZK.ZK.Quorum = []string{"127.0.6.99:2181"}
		badZK.ZK.SessionTimeout = 500 * time.Millisecond
		if _, err := New(context.Background(), &badZK, log); ExitCode(err) != ExitNoZooKeeper || !strings.Contains(err.Error(), "127.0.6.99:2181") {
			t.Fatalf("unreachable ZooKeeper: exit %d, %v", ExitCode(err), err)
		}
	})

	t.Run("FormatZK", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsformat", 9110, map[string]string{
			KeyACL:  "digest:hdfs:" + digestOf("hdfs:s3cret") + ":rwcda",
			KeyAuth: "digest:hdfs:s3cret",
		})
		z := h.zkConfig()
		ctx := context.Background()
		if err := FormatZK(ctx, z, []string{h.ns}, FormatOptions{Interactive: false}, nil); err != nil {
			t.Fatal(err)
		}
		if err := FormatZK(ctx, z, []string{h.ns}, FormatOptions{Interactive: false}, nil); ExitCode(err) != ExitFormatDenied {
			t.Fatalf("exists + non-interactive: exit %d, %v", ExitCode(err), err)
		}
		var prompt strings.Builder
		if err := FormatZK(ctx, z, []string{h.ns}, FormatOptions{Interactive: true, In: strings.NewReader("maybe\nn\n"), Out: &prompt}, nil); ExitCode(err) != ExitFormatDenied {
			t.Fatalf("answered no: %v", err)
		}
		if !strings.Contains(prompt.String(), "Proceed formatting /hadoop-ha/nsformat? (Y or N)") {
			t.Fatalf("prompt: %q", prompt.String())
		}
		// A child that must disappear when the parent is cleared.
		conn, _, err := Dial(ctx, z, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Create(z.ScopedParent(h.ns)+"/"+BreadcrumbName, []byte("x"), 0, z.ACLs); err != nil {
			t.Fatal(err)
		}
		if err := FormatZK(ctx, z, []string{h.ns}, FormatOptions{Interactive: true, In: strings.NewReader("y\n"), Out: &prompt}, nil); err != nil {
			t.Fatalf("answered yes: %v", err)
		}
		if ok, _, _ := conn.Exists(z.ScopedParent(h.ns) + "/" + BreadcrumbName); ok {
			t.Fatal("the breadcrumb survived a confirmed format")
		}
		if err := FormatZK(ctx, z, []string{h.ns}, FormatOptions{Force: true}, nil); err != nil {
			t.Fatalf("force: %v", err)
		}
		// The ACL is honoured: a client without the digest cannot write there.
		anon, _, err := zk.Connect(ens.Addrs(), 2*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		defer anon.Close()
		if _, err := anon.Create(z.ScopedParent(h.ns)+"/intruder", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoAuth) {
			t.Fatalf("unauthenticated create under the parent: %v", err)
		}
		bad := z
		bad.Quorum = []string{"127.0.6.98:2181", "127.0.6.99:2181"}
		bad.SessionTimeout = 500 * time.Millisecond
		if err := FormatZK(ctx, bad, []string{h.ns}, FormatOptions{}, nil); ExitCode(err) != ExitNoZooKeeper || !strings.Contains(err.Error(), "127.0.6.98:2181,127.0.6.99:2181") {
			t.Fatalf("unreachable: %v", err)
		}
	})

	t.Run("KillActiveNameNode", func(t *testing.T) {
		h := newHAEnv(t, ens, "nskillnn", 9120, map[string]string{
			KeyACL:  "digest:hdfs:" + digestOf("hdfs:s3cret") + ":rwcda",
			KeyAuth: "digest:hdfs:s3cret",
		})
		act, st := h.electPair()
		if s, _ := h.nn[st].State(); s != "standby" {
			t.Fatalf("%s is %s", st, s)
		}
		killed := time.Now()
		h.nn[act].Kill()
		if got := h.activeNN(10 * time.Second); got != st {
			t.Fatalf("active %s, want %s", got, st)
		}
		t.Logf("failover took %s", h.nn[st].BecameActiveAfter(killed).Sub(killed))
		if !strings.Contains(h.fenced(), act) {
			t.Fatalf("the dead NameNode %s was not fenced; fence log %q", act, h.fenced())
		}
		// The old one comes back: it stays standby (its ZKFC rejoins as standby).
		if err := h.nn[act].Restart(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		if s, _ := h.nn[act].State(); s != "standby" || !h.nn[st].ActiveAlive() {
			t.Fatalf("after restart: old %s, new active %v", s, h.nn[st].ActiveAlive())
		}
		code, body := h.zkfcCall(st, "GET", "/zkfc/status")
		if code != 200 || !strings.Contains(body, `"electorState":"active"`) || !strings.Contains(body, `"health":"HEALTHY"`) {
			t.Fatalf("status %d %s", code, body)
		}
		if code, _ := (&haEnv{t: t}).unsigned(fmt.Sprintf("http://%s:%d/zkfc/status", nnHosts[st], 9122)); code != 401 {
			t.Fatalf("unsigned status call: %d", code)
		}
	})

	t.Run("KillActiveZKFC", func(t *testing.T) {
		h := newHAEnv(t, ens, "nskillzkfc", 9130, nil)
		act, st := h.electPair()
		killed := time.Now()
		h.stopZKFC(act, syscall.SIGKILL)
		// Until the session expires (2 s) nothing changes.
		time.Sleep(time.Second)
		if !h.nn[act].ActiveAlive() || h.nn[st].ActiveAlive() {
			t.Fatal("the roles changed before the dead ZKFC's session expired")
		}
		waitFor(t, 10*time.Second, st+" active", h.nn[st].ActiveAlive)
		took := h.nn[st].BecameActiveAfter(killed).Sub(killed)
		t.Logf("session-expiry failover took %s (session timeout 2 s)", took)
		// The old NameNode was alive: graceful fencing made it standby, no kill.
		if s, dead := h.nn[act].State(); s != "standby" || dead {
			t.Fatalf("old active is %s dead=%v", s, dead)
		}
		if h.fenced() != "" {
			t.Fatalf("fencing methods ran although graceful fencing works: %q", h.fenced())
		}
	})

	t.Run("HungNameNode", func(t *testing.T) {
		h := newHAEnv(t, ens, "nshung", 9140, nil)
		act, st := h.electPair()
		h.nn[act].Hang(true) // as SIGSTOP: accepts, never answers
		waitFor(t, 15*time.Second, st+" active", h.nn[st].ActiveAlive)
		if !strings.Contains(h.fenced(), act) {
			t.Fatalf("the hung NameNode was not fenced: %q", h.fenced())
		}
		h.nn[act].Hang(false) // SIGCONT: too late, it was killed
		if _, dead := h.nn[act].State(); !dead {
			t.Fatal("the hung NameNode survived fencing")
		}
	})

	t.Run("FailingFencerBlocksActive", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsfencefail", 9150, nil)
		act, st := h.electPair()
		if err := os.WriteFile(h.failFile, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		h.nn[act].Hang(true) // graceful fencing cannot work, and the fencer fails
		waitFor(t, 10*time.Second, "a failed fencing attempt", func() bool { return strings.Count(h.fenced(), act) >= 2 })
		if h.nn[st].ActiveAlive() {
			t.Fatal("the standby went active although fencing failed")
		}
		code, body := h.zkfcCall(st, "GET", "/zkfc/status")
		if code != 200 || !strings.Contains(body, "fencing the old active failed") {
			t.Fatalf("status %d %s", code, body)
		}
		_ = os.Remove(h.failFile) // fencing works again: the standby takes over
		waitFor(t, 10*time.Second, st+" active", h.nn[st].ActiveAlive)
		if _, dead := h.nn[act].State(); !dead {
			t.Fatal("old active not fenced")
		}
	})

	t.Run("UnhealthyQuitsAndRejoins", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsunhealthy", 9160, nil)
		act, st := h.electPair()
		h.nn[act].SetHealthy(false)
		waitFor(t, 10*time.Second, st+" active", h.nn[st].ActiveAlive)
		// Unhealthy but answering: graceful fencing made it standby.
		if s, dead := h.nn[act].State(); s != "standby" || dead {
			t.Fatalf("old active %s dead=%v", s, dead)
		}
		h.nn[act].SetHealthy(true)
		waitFor(t, 5*time.Second, act+" ZKFC back in the election", func() bool {
			_, body := h.zkfcCall(act, "GET", "/zkfc/status")
			return strings.Contains(body, `"inElection":true`) && strings.Contains(body, `"electorState":"standby"`)
		})
	})

	t.Run("GracefulFailover", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsgraceful", 9170, nil)
		act, st := h.electPair()
		start := time.Now()
		code, body := h.zkfcCall(st, "POST", "/zkfc/gracefulFailover")
		if code != 200 {
			t.Fatalf("gracefulFailover: %d %s", code, body)
		}
		t.Logf("graceful failover took %s", time.Since(start))
		if !h.nn[st].ActiveAlive() {
			t.Fatal("target not active")
		}
		if s, dead := h.nn[act].State(); s != "standby" || dead {
			t.Fatalf("old active %s dead=%v", s, dead)
		}
		if h.fenced() != "" {
			t.Fatalf("a graceful failover used the fencing methods: %q", h.fenced())
		}
		// And back; the old active rejoined the election after its cede.
		h.waitStandbyReady(act)
		if code, body := h.zkfcCall(act, "POST", "/zkfc/gracefulFailover"); code != 200 {
			t.Fatalf("failback: %d %s", code, body)
		}
		if !h.nn[act].ActiveAlive() || h.nn[st].ActiveAlive() {
			t.Fatal("failback did not move the active role")
		}
		// Refused towards an unhealthy NameNode.
		h.nn[st].SetHealthy(false)
		waitFor(t, 5*time.Second, "unhealthy seen", func() bool {
			_, body := h.zkfcCall(st, "GET", "/zkfc/status")
			return strings.Contains(body, "SERVICE_UNHEALTHY")
		})
		if code, body := h.zkfcCall(st, "POST", "/zkfc/gracefulFailover"); code == 200 || !strings.Contains(body, "not healthy") {
			t.Fatalf("failover to an unhealthy NameNode: %d %s", code, body)
		}
	})

	t.Run("RealNameNodes", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsreal", 9190, map[string]string{
			"real-namenodes":         "1",
			"dfs.ha.fencing.methods": "shell(/bin/true)", // the journal's epochs fence a lingering writer
		})
		testRealNameNodes(t, h)
	})

	t.Run("Processes", func(t *testing.T) { testProcesses(t, ens) })

	t.Run("ProcessHungNameNode", func(t *testing.T) { testProcessHungNameNode(t, ens) })

	t.Run("ProcessHAAdminFailover", func(t *testing.T) { testProcessHAAdminFailover(t, ens) })

	t.Run("ProcessRandomizedFailovers", func(t *testing.T) {
		n, seed := failoverRunParams()
		testProcessRandomizedFailovers(t, ens, n, seed)
	})

	// Last: it stops ZooKeeper servers.
	t.Run("QuorumLoss", func(t *testing.T) {
		h := newHAEnv(t, ens, "nsquorum", 9180, nil)
		act, st := h.electPair()
		ens.Kill(0)
		ens.Kill(1)
		t.Cleanup(func() { ens.Restart(0); ens.Restart(1) })
		// Out of touch with ZooKeeper, the active steps down before its
		// session could expire (2/3 of 2 s), and nobody else goes active.
		waitFor(t, 10*time.Second, act+" standby", func() bool { s, _ := h.nn[act].State(); return s == "standby" })
		lost := time.Now()
		h.nn[act].Kill()
		time.Sleep(3 * time.Second)
		if !h.nn[st].BecameActiveAfter(lost).IsZero() || h.nn[st].ActiveAlive() {
			t.Fatal("a NameNode became active without a ZooKeeper quorum")
		}
		ens.Restart(1)
		waitFor(t, 20*time.Second, st+" active after the quorum came back", h.nn[st].ActiveAlive)
	})
}

func (h *haEnv) unsigned(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func digestOf(userPass string) string {
	user, pass, _ := strings.Cut(userPass, ":")
	return strings.TrimPrefix(zk.DigestACL(zk.PermAll, user, pass)[0].ID, user+":")
}
