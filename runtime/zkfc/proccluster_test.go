package zkfc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/namenode"
	"github.com/hactl/hactl/runtime/zkfc/zktest"
)

// procCluster is one nameservice run entirely as hactl processes: three
// `runtime journalnode`, two `runtime namenode` (nn1 formatted, nn2
// bootstrapped from it) and, once started, two `runtime zkfc`. Fencing is a
// shell method that only records its target (as shell(/bin/true), which
// Hadoop advises with the quorum journal: the JournalNodes' epochs fence a
// lingering writer). Every process is killed in
// t.Cleanup, a stopped (SIGSTOP) one first continued.
type procCluster struct {
	t      *testing.T
	bin    string
	dir    string
	ns     string
	secret []byte
	nnHost map[string]string // NameNode ID -> loopback address (RPC :8020, HTTP :9870, ZKFC :8019)
	ids    []string          // NameNode IDs in configuration order
	jns    []string          // JournalNode RPC addresses
	conf   map[string]string // process name -> its configuration directory
	signed *http.Client      // HA admin and ZKFC calls
	quick  *http.Client      // signed, for polls that must not wait on a stopped process
	plain  *http.Client      // WebHDFS

	mu      sync.Mutex
	procs   map[string]*exec.Cmd
	done    map[string]chan struct{}
	stopped map[string]bool
}

// newProcCluster starts the JournalNodes, formats nn1, starts it, bootstraps
// nn2 and starts it. hosts[0:3] are the JournalNodes, hosts[3] nn1, hosts[4] nn2.
func newProcCluster(t *testing.T, ens *zktest.Ensemble, ns string, hosts [5]string) *procCluster {
	t.Helper()
	return newProcClusterN(t, ens, ns, [3]string(hosts[:3]), hosts[3:], testConf)
}

// newProcClusterN is newProcCluster with any number of NameNodes (nn1 on
// nnHosts[0] formatted, the others bootstrapped from it) and the given
// ZKFC settings over Hadoop's defaults (testConf, or nil for the shipped ones).
func newProcClusterN(t *testing.T, ens *zktest.Ensemble, ns string, jnHosts [3]string, nnHosts []string, settings map[string]string) *procCluster {
	t.Helper()
	hosts := jnHosts
	c := &procCluster{t: t, bin: buildHactl(t), dir: t.TempDir(), ns: ns,
		secret: []byte("process-test-secret-0123456789abcdef"),
		nnHost: map[string]string{},
		conf:   map[string]string{}, procs: map[string]*exec.Cmd{}, done: map[string]chan struct{}{}, stopped: map[string]bool{}}
	for i, h := range nnHosts {
		id := fmt.Sprintf("nn%d", i+1)
		c.ids = append(c.ids, id)
		c.nnHost[id] = h
	}
	c.signed = &http.Client{Transport: &auth.Transport{Secret: c.secret}, Timeout: 3 * time.Second}
	c.quick = &http.Client{Transport: &auth.Transport{Secret: c.secret}, Timeout: time.Second}
	c.plain = &http.Client{Timeout: 5 * time.Second}
	secret := filepath.Join(c.dir, "cluster.secret")
	if err := os.WriteFile(secret, c.secret, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		c.jns = append(c.jns, hosts[i]+":8485")
	}
	base := map[string]string{
		"fs.defaultFS": "hdfs://" + ns, "dfs.nameservices": ns, "dfs.ha.namenodes." + ns: strings.Join(c.ids, ","),
		"dfs.namenode.shared.edits.dir":     "qjournal://" + strings.Join(c.jns, ";") + "/" + ns,
		"dfs.ha.tail-edits.period":          "20ms",
		"dfs.ha.tail-edits.in-progress":     "true",
		"dfs.ha.automatic-failover.enabled": "true",
		"dfs.ha.fencing.methods":            `shell(echo "$target_namenodeid" >> ` + filepath.Join(c.dir, "fenced.log") + `)`,
		"ha.zookeeper.quorum":               ens.Quorum(),
		"hactl.cluster.secret.file":         secret,
	}
	for id, h := range c.nnHost {
		base["dfs.namenode.rpc-address."+ns+"."+id] = h + ":8020"
		base["dfs.namenode.http-address."+ns+"."+id] = h + ":9870"
	}
	for k, v := range settings {
		base[k] = v
	}
	writeConf := func(name string, extra map[string]string) {
		conf := hadoopconf.New()
		for k, v := range base {
			conf.Set(k, v)
		}
		for k, v := range extra {
			conf.Set(k, v)
		}
		d := filepath.Join(c.dir, name, "conf")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hdfs-site.xml"), conf.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		c.conf[name] = d
	}
	for i := range 3 {
		name := fmt.Sprintf("jn%d", i+1)
		writeConf(name, map[string]string{
			"dfs.journalnode.edits.dir":    filepath.Join(c.dir, name, "data"),
			"dfs.journalnode.rpc-address":  c.jns[i],
			"dfs.journalnode.http-address": hosts[i] + ":8480",
		})
	}
	for _, id := range c.ids {
		writeConf(id, map[string]string{"dfs.namenode.name.dir": filepath.Join(c.dir, id, "name")})
	}
	t.Cleanup(func() {
		c.mu.Lock()
		names := make([]string, 0, len(c.procs))
		for name := range c.procs {
			names = append(names, name)
		}
		c.mu.Unlock()
		for _, name := range names {
			c.kill(name)
		}
		if t.Failed() {
			names := []string{"jn1"}
			for _, id := range c.ids {
				names = append(names, id, "zkfc-"+id)
			}
			for _, name := range names {
				b, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
				t.Logf("=== %s (%s) ===\n%s", name, ns, tailString(string(b), 4000))
			}
		}
	})
	for i := range 3 {
		c.startJN(i + 1)
	}
	for _, a := range c.jns {
		c.waitPort(a)
	}
	if out, code := c.run("runtime", "format", "--conf", c.conf["nn1"], "--id", "nn1", "--non-interactive", "--clusterid", "CID-"+ns); code != 0 {
		t.Fatalf("format: %d\n%s", code, out)
	}
	c.startNN("nn1")
	c.waitPort(c.httpAddr("nn1"))
	for _, id := range c.ids[1:] {
		if out, code := c.run("runtime", "bootstrap-standby", "--conf", c.conf[id], "--id", id, "--non-interactive"); code != 0 {
			t.Fatalf("bootstrap-standby %s: %d\n%s", id, code, out)
		}
		c.startNN(id)
		c.waitPort(c.httpAddr(id))
	}
	return c
}

func (c *procCluster) httpAddr(id string) string { return c.nnHost[id] + ":9870" }
func (c *procCluster) zkfcAddr(id string) string {
	return c.nnHost[id] + fmt.Sprintf(":%d", DefaultZKFCPort)
}

// start runs one hactl process, its output appended to <dir>/<name>.log.
func (c *procCluster) start(name string, args ...string) {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	ch := make(chan struct{})
	go func() { cmd.Wait(); close(ch) }()
	c.mu.Lock()
	c.procs[name], c.done[name] = cmd, ch
	c.mu.Unlock()
}

func (c *procCluster) startJN(i int) {
	name := fmt.Sprintf("jn%d", i)
	c.start(name, "runtime", "journalnode", "--conf", c.conf[name])
}
func (c *procCluster) startNN(id string) {
	c.start(id, "runtime", "namenode", "--conf", c.conf[id], "--id", id)
}
func (c *procCluster) startZKFC(id string) {
	c.start("zkfc-"+id, "runtime", "zkfc", "--conf", c.conf[id], "--id", id)
}

// kill is kill -9 (a stopped process is continued first), and waits for the exit.
func (c *procCluster) kill(name string) {
	c.mu.Lock()
	p, ch, stopped := c.procs[name], c.done[name], c.stopped[name]
	delete(c.procs, name)
	delete(c.stopped, name)
	c.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.Process.Kill()
	if stopped {
		_ = p.Process.Signal(syscall.SIGCONT)
	}
	<-ch
}

// stop is SIGSTOP (the process hangs: its sockets accept, nothing answers).
// It returns once every thread of the process is stopped: kill(2) only
// queues the signal, and a thread still running for a moment may finish
// (and journal) a request sent just after it.
func (c *procCluster) stop(name string) {
	c.t.Helper()
	c.mu.Lock()
	p := c.procs[name]
	if p == nil {
		c.mu.Unlock()
		c.t.Fatalf("stop %s: not running", name)
	}
	c.stopped[name] = true // before the signal: the cleanup must continue it whatever happens next
	err := syscall.Kill(p.Process.Pid, syscall.SIGSTOP)
	c.mu.Unlock()
	if err != nil {
		c.t.Fatalf("SIGSTOP %s: %v", name, err)
	}
	waitFor(c.t, 10*time.Second, name+" stopped", func() bool { return allThreadsStopped(p.Process.Pid) })
}

// allThreadsStopped reports whether every thread of pid is in state T
// (stopped by a signal), from /proc/<pid>/task/*/stat.
func allThreadsStopped(pid int) bool {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
			return false
		}
	}
	return true
}

func (c *procCluster) cont(name string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.procs[name]
	if p == nil {
		c.t.Fatalf("cont %s: not running", name)
	}
	if err := syscall.Kill(p.Process.Pid, syscall.SIGCONT); err != nil {
		c.t.Fatalf("SIGCONT %s: %v", name, err)
	}
	delete(c.stopped, name)
}

// run runs a short hactl command and returns its output and exit code.
func (c *procCluster) run(args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return string(out), 0
}

func (c *procCluster) waitPort(addr string) {
	c.t.Helper()
	waitFor(c.t, 30*time.Second, addr+" listening", func() bool {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

// status is the NameNode's /ha/status; ok is false if it did not answer
// within the client's timeout (dead or hung).
func (c *procCluster) status(id string) (st namenode.HAStatus, ok bool) {
	return c.statusWith(c.signed, id)
}

func (c *procCluster) statusWith(client *http.Client, id string) (st namenode.HAStatus, ok bool) {
	resp, err := client.Get("http://" + c.httpAddr(id) + "/ha/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return st, false
	}
	return st, true
}

func (c *procCluster) state(id string) string {
	st, ok := c.status(id)
	if !ok {
		return "down"
	}
	return st.State
}

// mkdirTimeout is how long a WebHDFS write may take before the writer gives
// up on it (not acknowledged) and tries elsewhere.
const mkdirTimeout = 5 * time.Second

// nnUser is the user.name of the WebHDFS calls: the user the NameNode
// processes run as, so their superuser (they check permissions).
var nnUser = func() string {
	if u, err := osuser.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}()

// mkdir is WebHDFS MKDIRS; it reports whether the NameNode acknowledged it
// (200 and {"boolean":true}), and what it answered otherwise.
func (c *procCluster) mkdir(id, p string) (bool, string) {
	return c.mkdirWith(c.plain, id, p)
}

func (c *procCluster) mkdirWith(client *http.Client, id, p string) (bool, string) {
	req, _ := http.NewRequest(http.MethodPut, "http://"+c.httpAddr(id)+"/webhdfs/v1"+p+"?user.name="+nnUser+"&op=MKDIRS", nil)
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && bytes.Contains(b, []byte("true")) {
		return true, ""
	}
	return false, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
}

// exists is WebHDFS GETFILESTATUS on id.
func (c *procCluster) exists(id, p string) bool {
	resp, err := c.plain.Get("http://" + c.httpAddr(id) + "/webhdfs/v1" + p + "?user.name=" + nnUser + "&op=GETFILESTATUS")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// list is WebHDFS LISTSTATUS on id: the names in directory p.
func (c *procCluster) list(id, p string) ([]string, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Get("http://" + c.httpAddr(id) + "/webhdfs/v1" + p + "?user.name=" + nnUser + "&op=LISTSTATUS")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("LISTSTATUS %s on %s: %d %s", p, id, resp.StatusCode, b)
	}
	var out struct {
		FileStatuses struct {
			FileStatus []struct {
				PathSuffix string `json:"pathSuffix"`
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("LISTSTATUS %s on %s: %w", p, id, err)
	}
	names := make([]string, 0, len(out.FileStatuses.FileStatus))
	for _, s := range out.FileStatuses.FileStatus {
		names = append(names, s.PathSuffix)
	}
	return names, nil
}

// fenced lists the NameNodes the fencing method ran against, in order.
func (c *procCluster) fenced() []string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "fenced.log"))
	return strings.Fields(string(b))
}

// zkfcCall sends a signed request to id's ZKFC.
func (c *procCluster) zkfcCall(id, method, pathQuery string, timeout time.Duration) (int, string, error) {
	req, _ := http.NewRequest(method, "http://"+c.zkfcAddr(id)+pathQuery, nil)
	client := &http.Client{Transport: &auth.Transport{Secret: c.secret}, Timeout: timeout}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitStandbyReady waits until id's ZKFC is a healthy standby in the election.
func (c *procCluster) waitStandbyReady(id string, timeout time.Duration) {
	c.t.Helper()
	waitFor(c.t, timeout, id+" a healthy standby in the election", func() bool {
		_, body, err := c.zkfcCall(id, http.MethodGet, "/zkfc/status", 3*time.Second)
		return err == nil && strings.Contains(body, `"inElection":true`) && strings.Contains(body, `"electorState":"standby"`) &&
			strings.Contains(body, `"health":"HEALTHY"`) && c.state(id) == "standby"
	})
}

// failoverTo asks target's ZKFC for a graceful failover (as `hactl failover
// --to`). A ZKFC refuses while its NameNode's last health check failed, which
// a slow answer under CPU contention can cause: then it waits for target to
// be a healthy standby again and retries, up to three attempts.
func (c *procCluster) failoverTo(target string) {
	c.t.Helper()
	var last string
	for attempt := 1; attempt <= 3; attempt++ {
		if attempt > 1 {
			if c.state(target) == "active" {
				return
			}
			c.waitStandbyReady(target, 60*time.Second)
		}
		code, body, err := c.zkfcCall(target, http.MethodPost, "/zkfc/gracefulFailover", 90*time.Second)
		if err == nil && code == http.StatusOK {
			return
		}
		last = fmt.Sprintf("%d %s %v", code, body, err)
		c.t.Logf("graceful failover to %s refused (attempt %d): %s", target, attempt, last)
	}
	c.t.Fatalf("graceful failover to %s: %s", target, last)
}

// active returns the NameNode that answers as active with the newest writer
// epoch ("" if none): a NameNode continued after SIGSTOP may still believe it
// is active (with its old epoch) until it tries to write.
// Both are asked at once, with a short timeout: a stopped one never answers,
// and the callers poll.
func (c *procCluster) active() (string, int64) {
	ids := c.ids
	sts := make([]namenode.HAStatus, len(ids))
	oks := make([]bool, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sts[i], oks[i] = c.statusWith(c.quick, id)
		}()
	}
	wg.Wait()
	best, bestEpoch := "", int64(-1)
	for i, id := range ids {
		if oks[i] && sts[i].State == "active" && sts[i].Epoch > bestEpoch {
			best, bestEpoch = id, sts[i].Epoch
		}
	}
	return best, bestEpoch
}

func (c *procCluster) waitActive(timeout time.Duration) (string, int64) {
	c.t.Helper()
	var id string
	var epoch int64
	waitFor(c.t, timeout, "an active NameNode process", func() bool { id, epoch = c.active(); return id != "" })
	return id, epoch
}

// waitNewActive waits until some NameNode answers as active in an epoch above
// epoch. Each is polled on its own: a stopped one must not slow down seeing
// the other.
func (c *procCluster) waitNewActive(timeout time.Duration, epoch int64, what string) (string, int64) {
	c.t.Helper()
	type hit struct {
		id    string
		epoch int64
	}
	found := make(chan hit, 2)
	done := make(chan struct{})
	defer close(done)
	for _, id := range []string{"nn1", "nn2"} {
		go func() {
			for {
				if st, ok := c.statusWith(c.quick, id); ok && st.State == "active" && st.Epoch > epoch {
					found <- hit{id, st.Epoch}
					return
				}
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}
	select {
	case h := <-found:
		return h.id, h.epoch
	case <-time.After(timeout):
		c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		return "", 0
	}
}

// rollEdits asks id (the active) to start a new segment, so a restarted
// JournalNode is in sync again.
func (c *procCluster) rollEdits(id string) error {
	resp, err := c.signed.Post("http://"+c.httpAddr(id)+"/ha/rollEdits", "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("rollEdits on %s: %d %s", id, resp.StatusCode, b)
	}
	return nil
}
