package namenode

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// The process-level tests run the real binary: 3 JournalNodes on
// 127.0.4.1-3 and NameNodes on 127.0.4.11-13 (this package's loopback range).

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func hactlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-nn-it-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hactl")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/hactl")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type itCluster struct {
	t       *testing.T
	bin     string
	dir     string
	nnIDs   []string
	nnHTTP  map[string]string
	procs   map[string]*exec.Cmd
	logs    map[string]string
	mu      sync.Mutex
	secret  string
	jnHosts []string
}

func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1")
	}
}

// newITCluster writes the confs of 3 JNs and n NameNodes (not started).
func newITCluster(t *testing.T, n int, sub int) *itCluster {
	c := &itCluster{t: t, bin: hactlBinary(t), dir: t.TempDir(), nnHTTP: map[string]string{},
		procs: map[string]*exec.Cmd{}, logs: map[string]string{}}
	secretFile := filepath.Join(c.dir, "cluster.secret")
	c.secret = "integration-secret-0123456789abcdef"
	os.WriteFile(secretFile, []byte(c.secret), 0o600)
	var jns []string
	for i := 1; i <= 3; i++ {
		jns = append(jns, fmt.Sprintf("127.0.4.%d:%d", i, 18485+sub))
		c.jnHosts = append(c.jnHosts, fmt.Sprintf("127.0.4.%d", i))
	}
	for i := 1; i <= n; i++ {
		c.nnIDs = append(c.nnIDs, fmt.Sprintf("nn%d", i))
	}
	base := func() *hadoopconf.Config {
		hc := hadoopconf.New()
		hc.Set("fs.defaultFS", "hdfs://itns")
		hc.Set("dfs.nameservices", "itns")
		hc.Set("hactl.cluster.secret.file", secretFile)
		hc.Set("dfs.namenode.shared.edits.dir", "qjournal://"+strings.Join(jns, ";")+"/itns")
		hc.Set("dfs.ha.tail-edits.period", "20ms")
		hc.Set("dfs.ha.tail-edits.in-progress", "true")
		hc.Set("dfs.namenode.checkpoint.txns", "150")
		hc.Set("dfs.namenode.checkpoint.period", "3600")
		hc.Set("dfs.namenode.num.extra.edits.retained", "0") // purge as soon as images allow
		hc.Set(KeyMaxInline, "4096")
		hc.Set("dfs.ha.automatic-failover.enabled", "false")
		hc.Set("dfs.ha.namenodes.itns", strings.Join(c.nnIDs, ","))
		for i := 1; i <= n; i++ {
			id := fmt.Sprintf("nn%d", i)
			c.nnHTTP[id] = fmt.Sprintf("127.0.4.%d:%d", 10+i, 19870+sub)
			hc.Set("dfs.namenode.http-address.itns."+id, c.nnHTTP[id])
			hc.Set("dfs.namenode.rpc-address.itns."+id, fmt.Sprintf("127.0.4.%d:%d", 10+i, 18020+sub))
		}
		return hc
	}
	for i := 1; i <= 3; i++ {
		hc := base()
		hc.Set("dfs.journalnode.edits.dir", filepath.Join(c.dir, fmt.Sprintf("jn%d", i), "data"))
		hc.Set("dfs.journalnode.rpc-address", jns[i-1])
		hc.Set("dfs.journalnode.http-address", fmt.Sprintf("127.0.4.%d:%d", i, 18480+sub))
		c.writeConf(fmt.Sprintf("jn%d", i), hc)
	}
	for i := 1; i <= n; i++ {
		hc := base()
		hc.Set("dfs.namenode.name.dir", filepath.Join(c.dir, fmt.Sprintf("nn%d", i), "name1")+","+filepath.Join(c.dir, fmt.Sprintf("nn%d", i), "name2"))
		c.writeConf(fmt.Sprintf("nn%d", i), hc)
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *itCluster) writeConf(name string, hc *hadoopconf.Config) {
	d := filepath.Join(c.dir, name, "conf")
	os.MkdirAll(d, 0o755)
	if err := os.WriteFile(filepath.Join(d, "hdfs-site.xml"), hc.Marshal(), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *itCluster) conf(name string) string { return filepath.Join(c.dir, name, "conf") }

// run runs a one-shot hactl command and returns its output and exit code.
func (c *itCluster) run(args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdin = strings.NewReader("")
	// hactl fs remembers the active NameNode under the user's cache dir:
	// keep that inside the test's dir.
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(c.dir, "cache"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		c.t.Fatalf("%v: %v", args, err)
	}
	return string(out), 0
}

func (c *itCluster) start(name string, args ...string) {
	c.t.Helper()
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	f.Close()
	c.mu.Lock()
	c.procs[name], c.logs[name] = cmd, logPath
	c.mu.Unlock()
}

func (c *itCluster) startJNs() {
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("jn%d", i)
		c.start(name, "runtime", "journalnode", "--conf", c.conf(name))
	}
	for i := 1; i <= 3; i++ {
		c.waitPort(c.confValue(fmt.Sprintf("jn%d", i), "dfs.journalnode.rpc-address"))
	}
}

func (c *itCluster) confValue(name, key string) string {
	hc, err := hadoopconf.LoadDir(c.conf(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return hc.Get(key, "")
}

func (c *itCluster) startNN(id string) {
	c.start(id, "runtime", "namenode", "--conf", c.conf(id), "--id", id)
	c.waitPort(c.nnHTTP[id])
}

func (c *itCluster) waitPort(addr string) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			conn.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.dumpLogs()
	c.t.Fatalf("%s did not start listening", addr)
}

// stop stops a daemon: SIGTERM (clean) or SIGKILL (a crash); it returns the
// process's exit error (nil for exit 0).
func (c *itCluster) stop(name string, sig syscall.Signal) error {
	c.mu.Lock()
	cmd := c.procs[name]
	delete(c.procs, name)
	c.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within 10s of %v", name, sig)
	}
}

func (c *itCluster) stopAll() {
	c.mu.Lock()
	var names []string
	for n := range c.procs {
		names = append(names, n)
	}
	c.mu.Unlock()
	for _, n := range names {
		c.stop(n, syscall.SIGKILL)
	}
	if c.t.Failed() || os.Getenv("HACTL_IT_LOGS") == "1" {
		c.dumpLogs()
	}
}

func (c *itCluster) dumpLogs() {
	for name, p := range c.logs {
		b, _ := os.ReadFile(p)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		c.t.Logf("=== %s log (tail) ===\n%s", name, b)
	}
}

func (c *itCluster) haadmin(args ...string) (string, int) {
	return c.run(append([]string{"runtime", "haadmin", "--conf", c.conf(c.nnIDs[0])}, args...)...)
}

func (c *itCluster) status(id string) (HAStatus, error) {
	cl := NewClient([]byte(c.secret), 3*time.Second)
	return cl.GetServiceStatus(context.Background(), c.nnHTTP[id])
}

// itUser is the user.name of the raw WebHDFS calls: the user the NameNode
// processes run as, their superuser.
var itUser = func() string {
	if u, err := osuser.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}()

// webhdfs makes one raw WebHDFS call to one NameNode.
func (c *itCluster) webhdfs(id, method, path, query string) (int, []byte) {
	req, _ := http.NewRequest(method, "http://"+c.nnHTTP[id]+"/webhdfs/v1"+path+"?user.name="+url.QueryEscape(itUser)+"&"+query, nil)
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *itCluster) mkdir(id, path string) bool {
	code, body := c.webhdfs(id, http.MethodPut, path, "op=MKDIRS")
	return code == 200 && bytes.Contains(body, []byte("true"))
}

func (c *itCluster) list(id, path string) map[string]bool {
	c.t.Helper()
	code, body := c.webhdfs(id, http.MethodGet, path, "op=LISTSTATUS")
	if code != 200 {
		c.t.Fatalf("LISTSTATUS %s on %s: %d %s", path, id, code, body)
	}
	var ls struct {
		FileStatuses struct{ FileStatus []struct{ PathSuffix string } }
	}
	if err := json.Unmarshal(body, &ls); err != nil {
		c.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range ls.FileStatuses.FileStatus {
		out[s.PathSuffix] = true
	}
	return out
}

func (c *itCluster) waitState(id, want string) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := c.status(id); err == nil && st.State == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.dumpLogs()
	c.t.Fatalf("%s did not reach state %s", id, want)
}

func (c *itCluster) waitCaughtUp(id string, txid int64) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var st HAStatus
	for time.Now().Before(deadline) {
		st, _ = c.status(id)
		if st.LastAppliedTxid >= txid {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("%s stuck at txid %d, want %d", id, st.LastAppliedTxid, txid)
}

func TestIntegrationFormatBootstrapFailover(t *testing.T) {
	integration(t)
	c := newITCluster(t, 3, 0)
	c.startJNs()

	// format, then a second format refuses and touches nothing.
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive", "--clusterid", "CID-it"); code != 0 {
		t.Fatalf("format: %d\n%s", code, out)
	}
	version := filepath.Join(c.dir, "nn1", "name1", "current", "VERSION")
	before, _ := os.ReadFile(version)
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive"); code != 1 || !strings.Contains(out, "Not formatting") {
		t.Fatalf("second format: %d\n%s", code, out)
	}
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn2"), "--id", "nn2", "--non-interactive"); code != 1 {
		t.Fatalf("format of nn2 with formatted JNs: %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(version); !bytes.Equal(before, after) {
		t.Fatal("a refused format changed VERSION")
	}
	if _, err := os.Stat(filepath.Join(c.dir, "nn2", "name1", "current")); err == nil {
		t.Fatal("a refused format created nn2's storage")
	}

	c.startNN("nn1")
	c.waitState("nn1", "standby")
	// nn2 is not running yet: hdfs haadmin refuses (it cannot tell nn2 is
	// not active) unless --forceactive.
	if out, code := c.haadmin("-transitionToActive", "nn1"); code != 255 || !strings.Contains(out, "Unexpected error occurred") {
		t.Fatalf("transitionToActive with nn2 unreachable: %d %s", code, out)
	}
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn1"); code != 0 {
		t.Fatalf("transitionToActive: %d %s", code, out)
	}
	for i := range 5 {
		if !c.mkdir("nn1", fmt.Sprintf("/pre/%d", i)) {
			t.Fatal("mkdir on the active failed")
		}
	}
	if out, code := c.run("runtime", "bootstrap-standby", "--conf", c.conf("nn2"), "--id", "nn2", "--non-interactive"); code != 0 {
		t.Fatalf("bootstrap-standby: %d\n%s", code, out)
	}
	if out, code := c.run("runtime", "bootstrap-standby", "--conf", c.conf("nn2"), "--id", "nn2", "--non-interactive"); code != 5 {
		t.Fatalf("second bootstrap-standby: %d (want 5)\n%s", code, out)
	}
	c.startNN("nn2")
	c.waitState("nn2", "standby")
	// A third NameNode: a second standby that only ever tails.
	if out, code := c.run("runtime", "bootstrap-standby", "--conf", c.conf("nn3"), "--id", "nn3", "--non-interactive"); code != 0 {
		t.Fatalf("bootstrap-standby nn3: %d\n%s", code, out)
	}
	c.startNN("nn3")
	c.waitState("nn3", "standby")
	if code, body := c.webhdfs("nn2", http.MethodPut, "/x", "op=MKDIRS"); code != 403 || !bytes.Contains(body, []byte("StandbyException")) {
		t.Fatalf("standby write: %d %s", code, body)
	}
	out, _ := c.haadmin("-getAllServiceState")
	if !strings.Contains(out, "active") || !strings.Contains(out, "standby") {
		t.Fatalf("getAllServiceState:\n%s", out)
	}

	// Writes during repeated manual failovers: none acknowledged is lost.
	var (
		ackMu sync.Mutex
		acked []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 5000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := fmt.Sprintf("/w/%05d", i)
			for _, id := range c.nnIDs {
				if c.mkdir(id, p) {
					ackMu.Lock()
					acked = append(acked, p)
					ackMu.Unlock()
					break
				}
			}
		}
	}()
	active, standby := "nn1", "nn2"
	for range 4 {
		time.Sleep(300 * time.Millisecond)
		if out, code := c.haadmin("-transitionToStandby", active); code != 0 {
			t.Fatalf("transitionToStandby %s: %s", active, out)
		}
		if out, code := c.haadmin("-transitionToActive", standby); code != 0 {
			t.Fatalf("transitionToActive %s: %s", standby, out)
		}
		active, standby = standby, active
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged during failovers", len(acked))
	}
	have := c.list(active, "/w")
	for _, p := range acked {
		if !have[strings.TrimPrefix(p, "/w/")] {
			t.Fatalf("acknowledged %s lost after failovers (%d acked)", p, len(acked))
		}
	}
	t.Logf("%d writes acknowledged across 4 manual failovers, none lost", len(acked))
	st, err := c.status(active)
	if err != nil {
		t.Fatal(err)
	}
	c.waitCaughtUp("nn3", st.LastAppliedTxid)

	// A standby restarted from its image catches up.
	if err := c.stop(standby, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM did not stop %s cleanly: %v", standby, err)
	}
	for i := range 20 {
		c.mkdir(active, fmt.Sprintf("/while-down/%d", i))
	}
	st, _ = c.status(active)
	c.startNN(standby)
	c.waitState(standby, "standby")
	c.waitCaughtUp(standby, st.LastAppliedTxid)
	imgs := (&Storage{Dirs: []string{filepath.Join(c.dir, standby, "name1")}}).Images()
	if len(imgs) == 0 || imgs[0] == 0 {
		t.Errorf("standby never checkpointed (images %v)", imgs)
	}

	// A killed active's partial segment is recovered by the next active.
	for i := range 10 {
		if !c.mkdir(active, fmt.Sprintf("/before-kill/%d", i)) {
			t.Fatal("write before kill failed")
		}
	}
	c.stop(active, syscall.SIGKILL)
	if out, code := c.haadmin("-transitionToActive", "--forceactive", standby); code != 0 {
		t.Fatalf("failover after kill: %s", out)
	}
	got := c.list(standby, "/before-kill")
	if len(got) != 10 {
		t.Fatalf("after recovery, /before-kill has %d entries, want 10", len(got))
	}
	if !c.mkdir(standby, "/after-kill") {
		t.Fatal("new active cannot write")
	}
}

func TestIntegrationStaleActiveRefused(t *testing.T) {
	integration(t)
	c := newITCluster(t, 2, 1)
	c.startJNs()
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive"); code != 0 {
		t.Fatalf("format: %s", out)
	}
	c.startNN("nn1")
	c.waitState("nn1", "standby")
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn1"); code != 0 {
		t.Fatalf("transitionToActive: %s", out)
	}
	if !c.mkdir("nn1", "/a") {
		t.Fatal("write on nn1")
	}
	if out, code := c.run("runtime", "bootstrap-standby", "--conf", c.conf("nn2"), "--id", "nn2", "--non-interactive"); code != 0 {
		t.Fatalf("bootstrap: %s", out)
	}
	c.startNN("nn2")
	c.waitState("nn2", "standby")
	// nn2 takes over without nn1 being told (a partitioned old active).
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn2"); code != 0 {
		t.Fatalf("forced transition: %s", out)
	}
	t0 := time.Now()
	if c.mkdir("nn1", "/stale") {
		t.Fatal("the stale active acknowledged a write")
	}
	t.Logf("stale write refused in %v", time.Since(t0))
	c.waitState("nn1", "standby")
	t.Logf("stale active standby after %v", time.Since(t0))
	if !c.mkdir("nn2", "/fresh") {
		t.Fatal("the new active cannot write")
	}
	if got := c.list("nn2", "/"); got["stale"] || !got["a"] || !got["fresh"] {
		t.Fatalf("namespace after fencing: %v", got)
	}

	// What monitoring scripts read: /jmx in Hadoop's shape, and the status page
	// listing every JournalNode.
	get := func(id, path string) []byte {
		resp, err := http.Get("http://" + c.nnHTTP[id] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	var jmx struct{ Beans []map[string]any }
	json.Unmarshal(get("nn2", "/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus"), &jmx)
	if len(jmx.Beans) != 1 || jmx.Beans[0]["State"] != "active" || jmx.Beans[0]["HostAndPort"] != "127.0.4.12:18021" {
		t.Fatalf("NameNodeStatus of nn2: %v", jmx.Beans)
	}
	st2, err := c.status("nn2")
	if err != nil {
		t.Fatal(err)
	}
	c.waitCaughtUp("nn1", st2.LastAppliedTxid)
	// The fenced nn1 reloads its namespace from the image (it may hold an
	// edit no quorum took) and tails again; /ha/status can report the txid
	// it reached before that reload, so poll the bean until it has caught
	// up anew.
	for deadline := time.Now().Add(15 * time.Second); ; {
		jmx.Beans = nil
		json.Unmarshal(get("nn1", "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem"), &jmx)
		if len(jmx.Beans) == 1 && jmx.Beans[0]["tag.HAState"] == "standby" && jmx.Beans[0]["TailLagTxns"] == float64(0) && jmx.Beans[0]["FilesTotal"] == float64(3) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FSNamesystem of the standby nn1: %v", jmx.Beans)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// What an HTTP-based exporter scrapes, from the real processes: every
	// bean it reads holds numbers, /prom parses, and a JournalNode's
	// Journal-<jid> record shows the active's epoch and the txids it wrote.
	checkExporterBeans(t, c.nnHTTP["nn2"])
	if samples, _ := scrapeProm(t, c.nnHTTP["nn2"]); samples[`fs_namesystem_files_total{context="dfs",hastate="active",hostname="127.0.4.12"}`] != 3 {
		t.Errorf("/prom of nn2: %v", samples)
	}
	jnHTTP := c.confValue("jn1", "dfs.journalnode.http-address")
	journal := scrapeJMX(t, jnHTTP, "?qry=Hadoop:service=JournalNode,name=Journal-itns")
	if len(journal) != 1 || journal[0]["LastWriterEpoch"] != float64(st2.Epoch) || journal[0]["LastWrittenTxId"].(float64) < float64(st2.LastAppliedTxid) {
		t.Errorf("Journal-itns of jn1 (nn2 at epoch %d, txid %d): %v", st2.Epoch, st2.LastAppliedTxid, journal)
	}
	scrapeProm(t, jnHTTP)
	// hactl fs finds the active (nn2) though the configuration lists nn1
	// first: it asks every NameNode at once, as Hadoop's hedging proxy does.
	local := filepath.Join(c.dir, "local.txt")
	os.WriteFile(local, []byte("hello through the active"), 0o644)
	if out, code := c.run("fs", "put", "--config", c.conf("nn1"), local, "hdfs://itns/fromcli.txt"); code != 0 {
		t.Fatalf("hactl fs put: %d %s", code, out)
	}
	if out, code := c.run("fs", "cat", "--config", c.conf("nn1"), "hdfs://itns/fromcli.txt"); code != 0 || !strings.HasSuffix(out, "hello through the active") {
		t.Fatalf("hactl fs cat: %d %q", code, out)
	}
	big := filepath.Join(c.dir, "big.bin")
	os.WriteFile(big, make([]byte, 5000), 0o644)
	if out, code := c.run("fs", "put", "--config", c.conf("nn1"), big, "hdfs://itns/big.bin"); code == 0 || !strings.Contains(out, KeyMaxInline) {
		t.Fatalf("a file over the inline limit: %d %s", code, out)
	}
	page := string(get("nn1", "/"))
	for _, jn := range c.jnHosts {
		if !strings.Contains(page, jn+":18486") {
			t.Fatalf("status page lacks JournalNode %s:\n%s", jn, page)
		}
	}
}

func TestIntegrationInitializeSharedEdits(t *testing.T) {
	integration(t)
	c := newITCluster(t, 2, 2)
	c.startJNs()
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive"); code != 0 {
		t.Fatalf("format: %s", out)
	}
	c.startNN("nn1")
	c.waitState("nn1", "standby")
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn1"); code != 0 {
		t.Fatalf("transitionToActive: %s", out)
	}
	for i := range 3 {
		if !c.mkdir("nn1", fmt.Sprintf("/keep/%d", i)) {
			t.Fatal("mkdir")
		}
	}
	if err := c.stop("nn1", syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if out, code := c.run("runtime", "initialize-shared-edits", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive"); code != 1 || !strings.Contains(out, "Not formatting") {
		t.Fatalf("initialize-shared-edits over a journal with data: %d %s", code, out)
	}
	if out, code := c.run("runtime", "initialize-shared-edits", "--conf", c.conf("nn1"), "--id", "nn1", "--force"); code != 0 {
		t.Fatalf("initialize-shared-edits --force: %d %s", code, out)
	}
	c.startNN("nn1")
	c.waitState("nn1", "standby")
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn1"); code != 0 {
		t.Fatalf("transitionToActive after initialize-shared-edits: %s", out)
	}
	if got := c.list("nn1", "/keep"); len(got) != 3 {
		t.Fatalf("after initialize-shared-edits /keep has %v", got)
	}
	if !c.mkdir("nn1", "/keep/after") {
		t.Fatal("cannot write after initialize-shared-edits")
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath)) // the binary built for the integration tests
	}
	os.Exit(code)
}
