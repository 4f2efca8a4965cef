package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/internal/netns"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// Bounds of each hactl command. The machine is shared and slow; these only
// stop a hung command from eating the whole test budget.
const (
	applyTimeout   = 4 * time.Minute
	commandTimeout = 90 * time.Second
	// fsTimeout covers a NameNode's start-up safe mode (its extension is
	// 30 s): the client retries its RetriableException until it ends.
	fsTimeout     = 2 * time.Minute
	failoverBound = 45 * time.Second
)

// testCluster is one cluster under test, on whichever target: the scenario
// code below runs unchanged against loopback hosts and SSH hosts.
type testCluster struct {
	t   *testing.T
	h   *Hactl
	dir string // the HCL configuration directory

	// hostExec runs a shell script as the host sees its files (paths are
	// those of schema's HostDir/PathsFor, which are rooted on target local).
	hostExec func(host, script string) (string, error)
	// killHost kill -9s every daemon (and supervisor) of host and returns the pids.
	killHost func(host string) ([]int, error)
	// leftovers lists files hactl left on host outside the allowed dirs.
	leftovers func(host string, allowed []string) ([]string, error)
	// daemonPids lists hactl processes still running on host.
	daemonPids func(host string) []int
}

func (c *testCluster) run(timeout time.Duration, args ...string) Result {
	c.t.Helper()
	r := c.h.Run(context.Background(), timeout, args...)
	c.t.Logf("hactl %s → exit %d in %s", strings.Join(args, " "), r.Code, r.Duration.Round(time.Millisecond))
	return r
}

// must runs hactl and fails the test unless it exits 0.
func (c *testCluster) must(timeout time.Duration, args ...string) Result {
	c.t.Helper()
	r := c.run(timeout, args...)
	if r.Err != nil || r.Code != 0 {
		c.t.Fatalf("%v\n%s", r.Err, r)
	}
	return r
}

func (c *testCluster) apply() Result {
	c.t.Helper()
	r := c.must(applyTimeout, "apply", "--auto-approve", c.dir)
	c.t.Logf("steps run:\n%s", ProgressLines(r.Stdout))
	return r
}

func (c *testCluster) load() *schema.Cluster {
	c.t.Helper()
	cl, diags := schema.Load(c.dir, schema.LoadOptions{})
	if diags.HasErrors() {
		c.t.Fatalf("load %s: %s", c.dir, diags.Error())
	}
	return cl
}

// planExit runs plan --detailed-exitcode: 0 no changes, 2 changes.
func (c *testCluster) planExit() (int, Result) {
	c.t.Helper()
	r := c.run(commandTimeout, "plan", "--detailed-exitcode", c.dir)
	return r.Code, r
}

func (c *testCluster) requireConverged() {
	c.t.Helper()
	if code, r := c.planExit(); code != 0 {
		c.t.Fatalf("plan --detailed-exitcode: want 0 (no changes), got %d\n%s", code, r)
	}
}

func (c *testCluster) status() ([]NameNodeStatus, Result, error) {
	c.t.Helper()
	r := c.h.Run(context.Background(), commandTimeout, "status", "--format", "json", c.dir)
	if r.Err != nil {
		return nil, r, r.Err
	}
	nns, err := ParseStatusNameNodes([]byte(r.Stdout))
	if err != nil {
		return nil, r, fmt.Errorf("%w (exit %d, stderr %s)", err, r.Code, tail(r.Stderr, 1000))
	}
	return nns, r, nil
}

// waitOneActive polls status until exactly one NameNode is active and the
// rest standby (want of them in all), or fails after timeout.
func (c *testCluster) waitOneActive(want int, timeout time.Duration) []NameNodeStatus {
	c.t.Helper()
	var nns []NameNodeStatus
	var last Result
	start := time.Now()
	err := Eventually(timeout, 500*time.Millisecond, func() error {
		var err error
		nns, last, err = c.status()
		if err != nil {
			return err
		}
		if len(nns) != want {
			return fmt.Errorf("status lists %d NameNodes, want %d: %+v", len(nns), want, nns)
		}
		return CheckOneActive(nns)
	})
	if err != nil {
		c.t.Fatalf("waiting for one active NameNode: %v\n%s", err, last)
	}
	c.t.Logf("one active (%s on %s), %d standby, after %s", Actives(nns)[0].ID, Actives(nns)[0].Host, want-1, time.Since(start).Round(time.Millisecond))
	return nns
}

// put writes content to the namespace at remote with hactl fs.
func (c *testCluster) put(remote, content string) Result {
	c.t.Helper()
	f := filepath.Join(c.t.TempDir(), "data")
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return c.h.Run(context.Background(), fsTimeout, "fs", "put", "--config", c.dir, f, remote)
}

func (c *testCluster) cat(remote string) Result {
	return c.h.Run(context.Background(), fsTimeout, "fs", "cat", "--config", c.dir, remote)
}

// writeFiles puts n files under dir and returns name → content.
func (c *testCluster) writeFiles(dir string, n int) map[string]string {
	c.t.Helper()
	c.must(fsTimeout, "fs", "mkdir", "--config", c.dir, "-p", dir)
	files := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("%s/file-%d", dir, i)
		content := fmt.Sprintf("hactl e2e %s %d %s\n", c.t.Name(), i, strings.Repeat("x", i*100))
		if r := c.put(name, content); r.Code != 0 {
			c.t.Fatalf("fs put %s: %s", name, r)
		}
		files[name] = content
	}
	return files
}

// checkFiles reads every file back.
func (c *testCluster) checkFiles(files map[string]string) {
	c.t.Helper()
	for name, want := range files {
		r := c.cat(name)
		if r.Code != 0 || r.Stdout != want {
			c.t.Errorf("fs cat %s: want %q\n%s", name, want, r)
		}
	}
}

// nameNodeHost returns the host of NameNode id (of any nameservice).
func nameNodeOf(cl *schema.Cluster, id string) (*schema.Nameservice, *schema.NameNode) {
	for _, ns := range cl.Nameservices {
		if nn := ns.NameNode(id); nn != nil {
			return ns, nn
		}
	}
	return nil, nil
}

// clusterIDs reads clusterID from the VERSION file of every name dir of
// every NameNode; an unformatted dir maps to "".
func (c *testCluster) clusterIDs() map[string]string {
	c.t.Helper()
	cl := c.load()
	out := map[string]string{}
	for _, ns := range cl.Nameservices {
		for _, nn := range ns.NameNodes {
			for _, d := range ns.EffectiveNameDirs(nn) {
				p := cl.HostDir(nn.Host, d)
				content, err := c.hostExec(nn.Host, "cat "+shellQuote(filepath.Join(p, "current", "VERSION"))+" 2>/dev/null || true")
				if err != nil {
					c.t.Fatalf("read VERSION of %s: %v", nn.ID, err)
				}
				id, _ := VersionKey(content, "clusterID")
				out[nn.ID+":"+d] = id
			}
		}
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// supervisorRecord reads RUN/NAME.json of a daemon on host.
func (c *testCluster) supervisorPids(host, daemon string) []int {
	c.t.Helper()
	cl := c.load()
	p := filepath.Join(cl.PathsFor(host).RunDir, daemon+".json")
	out, err := c.hostExec(host, "cat "+shellQuote(p)+" 2>/dev/null || true")
	if err != nil || strings.TrimSpace(out) == "" {
		return nil
	}
	var rec struct {
		SupervisorPID int `json:"supervisor_pid"`
		ChildPID      int `json:"child_pid"`
	}
	if json.Unmarshal([]byte(out), &rec) != nil {
		return nil
	}
	var pids []int
	for _, p := range []int{rec.SupervisorPID, rec.ChildPID} {
		if p > 0 {
			pids = append(pids, p)
		}
	}
	return pids
}

// ---- scenarios shared by the local and SSH tests ----

// scenarioApplyFromNothing applies to bare hosts and checks the result.
func (c *testCluster) scenarioApplyFromNothing(wantNNs int) time.Duration {
	c.t.Helper()
	r := c.apply()
	acts := StepActions(r.Stdout)
	if n := count(acts, "format-namenode"); n != 1 {
		c.t.Errorf("a fresh cluster formats exactly one NameNode; apply output names format-namenode %d times:\n%s", n, r.Stdout)
	}
	if n := count(acts, "bootstrap-standby"); n < wantNNs-1 {
		c.t.Errorf("want %d bootstrap-standby steps, saw %d:\n%s", wantNNs-1, n, r.Stdout)
	}
	nns := c.waitOneActive(wantNNs, 20*time.Second)
	for _, nn := range nns {
		if nn.PID <= 0 {
			c.t.Errorf("status JSON gives no pid for %s: %+v", nn.ID, nn)
		}
	}
	c.requireConverged()
	return r.Duration
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// scenarioFailoverCommand makes a standby active with hactl failover.
func (c *testCluster) scenarioFailoverCommand(wantNNs int, files map[string]string) {
	c.t.Helper()
	nns := c.waitOneActive(wantNNs, 20*time.Second)
	var to string
	for _, nn := range nns {
		if nn.State == "standby" {
			to = nn.ID
		}
	}
	c.must(commandTimeout, "failover", "--to", to, c.dir)
	// failover returns once the target is active: no polling needed.
	nns, r, err := c.status()
	if err != nil {
		c.t.Fatalf("status: %v\n%s", err, r)
	}
	if err := CheckOneActive(nns); err != nil || Actives(nns)[0].ID != to {
		c.t.Fatalf("after hactl failover --to %s: %v %+v", to, err, nns)
	}
	c.checkFiles(files)
	c.requireConverged()
}

// scenarioKillActiveHost kill -9s every daemon of the active NameNode's
// host and waits for a standby to take over; then checks the files.
func (c *testCluster) scenarioKillActiveHost(wantNNs int, files map[string]string) string {
	c.t.Helper()
	nns := c.waitOneActive(wantNNs, 20*time.Second)
	active := Actives(nns)[0]
	killed, err := c.killHost(active.Host)
	if err != nil {
		c.t.Fatalf("kill host %s: %v", active.Host, err)
	}
	if active.PID > 0 && !slices.Contains(killed, active.PID) {
		c.t.Errorf("status JSON says %s runs as pid %d, which is not among %s's processes %v", active.ID, active.PID, active.Host, killed)
	}
	c.t.Logf("killed %d processes of %s (active %s)", len(killed), active.Host, active.ID)
	start := time.Now()
	var last []NameNodeStatus
	err = Eventually(failoverBound, 500*time.Millisecond, func() error {
		nns, _, err := c.status()
		if err != nil {
			return err
		}
		last = nns
		for _, nn := range Actives(nns) {
			if nn.ID != active.ID {
				return nil
			}
		}
		return fmt.Errorf("no other NameNode active yet: %+v", nns)
	})
	if err != nil {
		c.t.Fatalf("failover after killing %s: %v", active.Host, err)
	}
	c.t.Logf("failover: %s active %s after the kill", Actives(last)[0].ID, time.Since(start).Round(time.Millisecond))
	c.checkFiles(files)
	return active.Host
}

// scenarioReapplyRestarts re-applies after a host crash.
func (c *testCluster) scenarioReapplyRestarts(wantNNs int, files map[string]string) {
	c.t.Helper()
	code, r := c.planExit()
	if code != 2 {
		c.t.Errorf("plan after a host's daemons died: want exit 2 (changes), got %d\n%s", code, r)
	}
	r = c.apply()
	if acts := StepActions(r.Stdout); count(acts, "format-namenode") > 0 || count(acts, "start-namenode")+count(acts, "restart-namenode") == 0 {
		c.t.Errorf("re-apply after a crash must restart the NameNode and never format:\n%s", r.Stdout)
	}
	c.waitOneActive(wantNNs, 20*time.Second)
	c.requireConverged()
	c.checkFiles(files)
}

// scenarioWipeStandby stops a standby NameNode, wipes its name dirs, and
// checks that apply bootstraps it from its peers and never formats.
func (c *testCluster) scenarioWipeStandby(wantNNs int, files map[string]string) {
	c.t.Helper()
	nns := c.waitOneActive(wantNNs, 20*time.Second)
	var victim NameNodeStatus
	for _, nn := range nns {
		if nn.State == "standby" {
			victim = nn
		}
	}
	before := c.clusterIDs()
	var clusterID string
	for _, id := range before {
		if id != "" {
			clusterID = id
		}
	}
	if clusterID == "" {
		c.t.Fatalf("no NameNode has a clusterID before the wipe: %v", before)
	}
	cl := c.load()
	ns, nn := nameNodeOf(cl, victim.ID)
	if nn == nil {
		c.t.Fatalf("status names NameNode %q, which the configuration lacks", victim.ID)
	}
	// The disk is gone: the NameNode (and its supervisor) die with it.
	name := daemon.NameNodeID(ns.Name, nn.ID).Name()
	pids := c.supervisorPids(nn.Host, name)
	if len(pids) == 0 {
		c.t.Fatalf("no supervisor record for %s on %s", name, nn.Host)
	}
	// Namespace hosts share this machine's pid namespace: a plain kill works.
	if err := netns.KillAll(pids, 10*time.Second); err != nil {
		c.t.Fatal(err)
	}
	for _, d := range ns.EffectiveNameDirs(nn) {
		if _, err := c.hostExec(nn.Host, "rm -rf "+shellQuote(cl.HostDir(nn.Host, d))); err != nil {
			c.t.Fatal(err)
		}
	}
	c.t.Logf("wiped the name dirs of standby %s on %s", nn.ID, nn.Host)
	r := c.must(commandTimeout, "plan", "--format", "json", c.dir)
	var plan struct {
		Steps []struct {
			Host     string `json:"host"`
			Action   string `json:"action"`
			NameNode string `json:"namenode"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &plan); err != nil {
		c.t.Fatalf("plan --format json: %v\n%s", err, r)
	}
	boot := false
	for _, s := range plan.Steps {
		if s.Action == "format-namenode" {
			c.t.Fatalf("INVARIANT 1 BROKEN: plan formats %s/%s after one NameNode's disk was wiped:\n%s", s.Host, s.NameNode, r.Stdout)
		}
		if s.Action == "bootstrap-standby" && s.NameNode == nn.ID {
			boot = true
		}
	}
	if !boot {
		c.t.Errorf("plan does not bootstrap-standby the wiped %s:\n%s", nn.ID, r.Stdout)
	}
	r = c.apply()
	acts := StepActions(r.Stdout)
	if count(acts, "format-namenode") > 0 {
		c.t.Fatalf("INVARIANT 1 BROKEN: apply ran format-namenode:\n%s", r.Stdout)
	}
	if count(acts, "bootstrap-standby") == 0 {
		c.t.Errorf("apply shows no bootstrap-standby step:\n%s", r.Stdout)
	}
	after := c.clusterIDs()
	for k, id := range after {
		if id != clusterID {
			c.t.Errorf("name dir %s has clusterID %q after the re-apply, want the cluster's %q (all: %v)", k, id, clusterID, after)
		}
	}
	c.waitOneActive(wantNNs, 20*time.Second)
	c.requireConverged()
	c.checkFiles(files)
}

// scenarioInterrupt starts an apply of a changed configuration, SIGINTs it
// after a few steps, and checks that a re-run converges.
func (c *testCluster) scenarioInterrupt(wantNNs int, files map[string]string, change func()) {
	c.t.Helper()
	change()
	if code, r := c.planExit(); code != 2 {
		c.t.Fatalf("plan after the config change: want exit 2, got %d\n%s", code, r)
	}
	ir := c.h.RunInterrupt(context.Background(), applyTimeout, 3, "apply", "--auto-approve", c.dir)
	c.t.Logf("interrupted apply: saw %d step lines, signalled=%v, exit %d in %s", ir.StepsSeen, ir.Interrupted, ir.Code, ir.Duration.Round(time.Millisecond))
	if !ir.Interrupted {
		c.t.Fatalf("apply finished before it printed 3 steps, nothing was interrupted:\n%s", ir.Result)
	}
	if ir.Err != nil {
		c.t.Fatalf("interrupted apply did not exit within %s after SIGINT: %v\n%s", applyTimeout, ir.Err, ir.Result)
	}
	if ir.Code == 0 {
		c.t.Logf("note: the interrupted apply exited 0 (it may have finished its last steps)")
	}
	// A second apply must not be locked out by the interrupted one.
	r := c.apply()
	if count(StepActions(r.Stdout), "format-namenode") > 0 {
		c.t.Fatalf("INVARIANT 1 BROKEN: re-run after an interrupt formats:\n%s", r.Stdout)
	}
	c.waitOneActive(wantNNs, 20*time.Second)
	c.requireConverged()
	c.checkFiles(files)
}

// scenarioConcurrentApplies starts two applies of a changed configuration
// at once: the cluster lock must make the second wait or fail clearly
// (invariant 8), and the cluster must end converged.
func (c *testCluster) scenarioConcurrentApplies(wantNNs int, files map[string]string, change func()) {
	c.t.Helper()
	change()
	var wg sync.WaitGroup
	res := make([]Result, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = c.h.Run(context.Background(), applyTimeout, "apply", "--auto-approve", c.dir)
		}()
	}
	wg.Wait()
	ok := 0
	for i, r := range res {
		c.t.Logf("concurrent apply %d: exit %d in %s\n%s%s", i, r.Code, r.Duration.Round(time.Millisecond), ProgressLines(r.Stdout), tail(r.Stderr, 500))
		switch {
		case r.Err != nil:
			c.t.Errorf("concurrent apply %d: %v\n%s", i, r.Err, r)
		case r.Code == 0:
			ok++
		case !strings.Contains(strings.ToLower(r.Stderr), "lock"):
			c.t.Errorf("concurrent apply %d failed without naming the cluster lock:\n%s", i, r)
		}
	}
	if ok == 0 {
		c.t.Fatalf("neither of two concurrent applies succeeded:\n%s\n%s", res[0], res[1])
	}
	// The one that got the lock second must plan afresh and find the work
	// done; both running steps means they interleaved or repeated the work.
	if len(StepActions(res[0].Stdout)) > 0 && len(StepActions(res[1].Stdout)) > 0 {
		c.t.Errorf("INVARIANT 8: both concurrent applies ran steps:\n%s\n%s", ProgressLines(res[0].Stdout), ProgressLines(res[1].Stdout))
	}
	if count(StepActions(res[0].Stdout+res[1].Stdout), "format-namenode") > 0 {
		c.t.Fatalf("INVARIANT 1 BROKEN: a concurrent apply formatted")
	}
	c.waitOneActive(wantNNs, 20*time.Second)
	c.requireConverged()
	c.checkFiles(files)
}

// scenarioDestroyKeepsData runs destroy and checks that only the data
// dirs remain on every host, with their namespace.
func (c *testCluster) scenarioDestroyKeepsData() {
	c.t.Helper()
	cl := c.load()
	dataDirs, storageDirs := map[string][]string{}, map[string][]string{}
	for _, h := range cl.Hosts {
		for _, ns := range cl.Nameservices {
			for _, nn := range ns.NameNodes {
				if nn.Host == h.Name {
					for _, d := range ns.EffectiveNameDirs(nn) {
						dataDirs[h.Name] = append(dataDirs[h.Name], cl.HostDir(h.Name, d))
					}
				}
			}
			if ns.Journal != nil && slices.Contains(ns.Journal.Hosts, h.Name) {
				dataDirs[h.Name] = append(dataDirs[h.Name], cl.HostDir(h.Name, ns.Journal.EditsDir))
			}
		}
		for _, d := range cl.DataDirs(h.Name) {
			dataDirs[h.Name] = append(dataDirs[h.Name], cl.HostDir(h.Name, d))
		}
		// apply records the NameNode, JournalNode and DataNode dirs, not ZooKeeper's.
		storageDirs[h.Name] = slices.Clone(dataDirs[h.Name])
		if z := cl.ZooKeeper; z != nil && z.Managed && slices.Contains(z.Servers, h.Name) && z.DataDir != "" {
			dataDirs[h.Name] = append(dataDirs[h.Name], cl.HostDir(h.Name, z.DataDir))
		}
	}
	// The secret (mode 0600) stays with the data, unchanged: ZooKeeper's
	// znodes are locked to it.
	secretOf := func(host string) string {
		f := shellQuote(cl.PathsFor(host).SecretFile)
		out, _ := c.hostExec(host, "stat -c %a "+f+" 2>/dev/null && cat "+f+" 2>/dev/null || true")
		return out
	}
	secrets := map[string]string{}
	for _, h := range cl.Hosts {
		secrets[h.Name] = secretOf(h.Name)
	}
	r := c.must(applyTimeout, "destroy", "--auto-approve", c.dir)
	c.t.Logf("destroy:\n%s", r.Stdout)
	for _, h := range cl.Hosts {
		if pids := c.waitNoDaemons(h.Name); len(pids) > 0 {
			c.t.Errorf("destroy left hactl processes running on %s: %v", h.Name, pids)
		}
		p := cl.PathsFor(h.Name)
		if got := secretOf(h.Name); !strings.HasPrefix(got, "600\n") || got != secrets[h.Name] {
			c.t.Errorf("destroy without --purge-data changed the cluster secret of %s: %q -> %q, want it kept with mode 600", h.Name, secrets[h.Name], got)
		}
		for _, d := range []string{p.InstallDir, p.ConfDir} {
			if d == filepath.Dir(p.SecretFile) {
				continue
			}
			if out, _ := c.hostExec(h.Name, "test -e "+shellQuote(d)+" && echo present || true"); strings.Contains(out, "present") {
				c.t.Errorf("destroy left %s on %s", d, h.Name)
			}
		}
		// The storage record stays with the secret, so a later plan finds
		// the kept storage even under a configuration that moved it.
		rec := targets.StorageRecordPath(cl, h.Name)
		recorded, _ := c.hostExec(h.Name, "cat "+shellQuote(rec)+" 2>/dev/null || true")
		for _, d := range storageDirs[h.Name] {
			if !strings.Contains(recorded, strconv.Quote(d)) {
				c.t.Errorf("destroy without --purge-data: the storage record %s of %s does not name %s: %q", rec, h.Name, d, recorded)
			}
		}
		// The kept secret's dir keeps the marker that says hactl created it,
		// so destroy --purge-data can remove it later.
		left, err := c.leftovers(h.Name, append(slices.Clone(dataDirs[h.Name]), p.SecretFile, rec,
			filepath.Join(filepath.Dir(p.SecretFile), apply.CreatedMarker)))
		if err != nil {
			c.t.Fatal(err)
		}
		if len(left) > 0 {
			c.t.Errorf("destroy left files of hactl on %s outside the data dirs %v: %v", h.Name, dataDirs[h.Name], left)
		}
	}
	// The data survives a plain destroy.
	for id, cid := range c.clusterIDs() {
		if cid == "" {
			c.t.Errorf("destroy without --purge-data removed the NameNode storage %s", id)
		}
	}
	code, r := c.planExit()
	if code != 2 {
		c.t.Errorf("plan after destroy: want exit 2 (everything to install again), got %d\n%s", code, r)
	}
	for _, a := range []string{"format-namenode", "bootstrap-standby"} {
		if strings.Contains(r.Stdout, a) {
			c.t.Errorf("plan after a destroy that kept the data wants %s over it:\n%s", a, r.Stdout)
		}
	}
}

// scenarioReapplyAfterDestroy applies over the data a destroy kept: the same
// namespace comes back, never formatted or bootstrapped, with every file.
func (c *testCluster) scenarioReapplyAfterDestroy(wantNNs int, files map[string]string) {
	c.t.Helper()
	before := c.clusterIDs()
	r := c.apply()
	acts := StepActions(r.Stdout)
	for _, a := range []string{"format-namenode", "bootstrap-standby"} {
		if n := count(acts, a); n > 0 {
			c.t.Errorf("apply over kept data ran %s %d times:\n%s", a, n, r.Stdout)
		}
	}
	c.waitOneActive(wantNNs, 30*time.Second)
	c.requireConverged()
	c.checkFiles(files)
	if after := c.clusterIDs(); !maps.Equal(before, after) {
		c.t.Errorf("clusterIDs changed across destroy and re-apply: %v -> %v", before, after)
	}
}

// scenarioPurge runs destroy --purge-data: nothing of hactl remains.
func (c *testCluster) scenarioPurge() {
	c.t.Helper()
	cl := c.load()
	r := c.must(applyTimeout, "destroy", "--auto-approve", "--purge-data", c.dir)
	c.t.Logf("destroy --purge-data:\n%s", r.Stdout)
	for _, h := range cl.Hosts {
		left, err := c.leftovers(h.Name, nil)
		if err != nil {
			c.t.Fatal(err)
		}
		if len(left) > 0 {
			c.t.Errorf("destroy --purge-data left files on %s: %v", h.Name, left)
		}
		if pids := c.waitNoDaemons(h.Name); len(pids) > 0 {
			c.t.Errorf("destroy --purge-data left processes on %s: %v", h.Name, pids)
		}
	}
}

// waitNoDaemons gives processes a few seconds to exit (an SSH session's
// shell may still be closing), then describes what still runs on host.
func (c *testCluster) waitNoDaemons(host string) []string {
	var pids []int
	_ = Eventually(5*time.Second, 200*time.Millisecond, func() error {
		if pids = c.daemonPids(host); len(pids) > 0 {
			return fmt.Errorf("%v", pids)
		}
		return nil
	})
	var out []string
	for _, p := range pids {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		out = append(out, fmt.Sprintf("%d %q", p, strings.ReplaceAll(string(b), "\x00", " ")))
	}
	return out
}

// walkFiles lists the non-directories under root whose host path (root
// replaced by hostPrefix) is not under an allowed dir.
func walkFiles(root, hostPrefix string, allowed []string) ([]string, error) {
	var out []string
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		// Overlay whiteouts (character devices) record a deletion of the
		// machine's own file in a lab host's upper dir: not a leftover.
		if info.IsDir() || info.Mode()&os.ModeCharDevice != 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		hp := filepath.Join(hostPrefix, rel)
		for _, a := range allowed {
			if hp == a || strings.HasPrefix(hp, strings.TrimSuffix(a, "/")+"/") {
				return nil
			}
		}
		out = append(out, hp)
		return nil
	})
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… and %d more", len(out)-20))
	}
	return out, err
}
