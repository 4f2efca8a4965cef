package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/netns"
)

func writeSSHCluster(t testing.TB, dir string, lab *netns.Cluster, spec ClusterSpec) {
	t.Helper()
	if err := WriteSSHCluster(dir, lab, spec); err != nil {
		t.Fatal(err)
	}
}

func newSSHCluster(t *testing.T, lab *netns.Cluster, spec ClusterSpec) *testCluster {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cluster")
	writeSSHCluster(t, dir, lab, spec)
	c := &testCluster{t: t, h: &Hactl{Bin: hactlBin}, dir: dir}
	byName := map[string]*netns.Host{}
	for _, h := range lab.Hosts {
		byName[h.Name] = h
	}
	host := func(name string) *netns.Host {
		h := byName[name]
		if h == nil {
			t.Fatalf("no lab host %q", name)
		}
		return h
	}
	c.hostExec = func(name, script string) (string, error) {
		return host(name).Exec(context.Background(), script)
	}
	c.killHost = func(name string) ([]int, error) { return host(name).KillDaemons() }
	c.daemonPids = func(name string) []int {
		h := host(name)
		var out []int
		for _, p := range h.Pids() {
			if p == h.SSHDPid() {
				continue
			}
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			if strings.HasPrefix(string(b), "sshd") || strings.HasPrefix(string(b), "/usr/sbin/sshd") {
				continue // an SSH session still closing
			}
			if netns.Alive(p) {
				out = append(out, p)
			}
		}
		return out
	}
	c.leftovers = func(name string, allowed []string) ([]string, error) {
		h := host(name)
		var all []string
		for _, tr := range h.Trees() {
			left, err := walkFiles(tr[1], tr[0], allowed)
			if err != nil {
				return nil, err
			}
			all = append(all, left...)
		}
		out, err := h.Exec(context.Background(), `find /run -mindepth 1 ! -path '/run/sshd*' ! -path '/run/netns-sshd*' ! -type d -print`)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Fields(out) {
			all = append(all, l)
		}
		return all, nil
	}
	return c
}

// TestSSHCluster is the life cycle over real SSH on four namespace hosts,
// on one shared cluster whose steps build on each other.
func TestSSHCluster(t *testing.T) {
	lab := newLab(t, 4)
	spec := DefaultSpec()
	c := newSSHCluster(t, lab, spec)
	t.Cleanup(func() {
		// Best effort; the lab's Close kills whatever is left regardless.
		r := c.h.Run(context.Background(), 60*time.Second, "destroy", "--auto-approve", "--purge-data", c.dir)
		if r.Code != 0 {
			t.Logf("cleanup destroy: %s", r)
		}
	})
	wantNNs := 2
	var files map[string]string
	steps := []struct {
		name string
		f    func(c *testCluster)
	}{
		{"apply-from-nothing", func(c *testCluster) {
			d := c.scenarioApplyFromNothing(wantNNs)
			t.Logf("BENCH ssh apply from bare hosts to an active HA cluster on %d hosts: %s", len(lab.Hosts), d.Round(time.Millisecond))
		}},
		{"fs-put-cat", func(c *testCluster) {
			files = c.writeFiles("/e2e/ssh", 5)
			c.checkFiles(files)
		}},
		{"kill-active-host", func(c *testCluster) { c.scenarioKillActiveHost(wantNNs, files) }},
		{"reapply-restarts", func(c *testCluster) { c.scenarioReapplyRestarts(wantNNs, files) }},
		{"rolling-change-with-writes", func(c *testCluster) {
			spec.TailEditsPeriod = "2s"
			writeSSHCluster(c.t, c.dir, lab, spec)
			c.scenarioRollingWithWrites(wantNNs, files)
		}},
		{"add-namenode", func(c *testCluster) {
			spec.NameNodes["nn3"] = "h4"
			writeSSHCluster(c.t, c.dir, lab, spec)
			wantNNs = 3
			c.scenarioAddNameNode(wantNNs, "nn3", files)
		}},
		{"wipe-standby-bootstraps", func(c *testCluster) { c.scenarioWipeStandby(wantNNs, files) }},
		{"interrupted-apply-converges", func(c *testCluster) {
			c.scenarioInterrupt(wantNNs, files, func() {
				spec.TailEditsPeriod = "1s"
				writeSSHCluster(c.t, c.dir, lab, spec)
			})
		}},
		{"destroy-keeps-data", func(c *testCluster) { c.scenarioDestroyKeepsData() }},
		{"reapply-after-destroy", func(c *testCluster) { c.scenarioReapplyAfterDestroy(wantNNs, files) }},
		{"destroy-keeps-data-again", func(c *testCluster) { c.scenarioDestroyKeepsData() }},
		{"destroy-purge-data", func(c *testCluster) { c.scenarioPurge() }},
	}
	// A failure of these steps leaves a converged cluster (the step checks
	// it), so the later steps still run and report.
	soft := map[string]bool{"rolling-change-with-writes": true}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			sub := *c
			sub.t = t
			s.f(&sub)
		})
		if !ok && !soft[s.name] {
			t.Fatalf("step %s failed; the later steps need it", s.name)
		}
	}
}

// scenarioRollingWithWrites applies an already written config change while a
// writer keeps putting files; every acknowledged write must read back.
func (c *testCluster) scenarioRollingWithWrites(wantNNs int, files map[string]string) {
	c.t.Helper()
	if code, r := c.planExit(); code != 2 {
		c.t.Fatalf("plan after the config change: want exit 2, got %d\n%s", code, r)
	}
	c.must(fsTimeout, "fs", "mkdir", "--config", c.dir, "-p", "/e2e/rolling")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]string{}
	var failed []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ { // bounded; normally stopped by the apply's end
			select {
			case <-stop:
				return
			default:
			}
			if i > 0 {
				// A steady trickle, not a CPU hog on a shared machine.
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
			name := fmt.Sprintf("/e2e/rolling/w-%04d", i)
			content := fmt.Sprintf("write %d during the rolling apply\n", i)
			r := c.put(name, content)
			mu.Lock()
			if r.Code == 0 {
				acked[name] = content
			} else {
				failed = append(failed, fmt.Sprintf("%s: exit %d: %s", name, r.Code, strings.TrimSpace(tail(r.Stderr, 300))))
			}
			mu.Unlock()
		}
	}()
	r := c.run(applyTimeout, "apply", "--auto-approve", c.dir)
	close(stop)
	wg.Wait()
	if r.Err != nil || r.Code != 0 {
		c.t.Fatalf("rolling apply: %v\n%s", r.Err, r)
	}
	acts := StepActions(r.Stdout)
	c.t.Logf("rolling apply steps: %v", acts)
	c.t.Logf("writes during the rolling apply: %d acknowledged, %d failed", len(acked), len(failed))
	if len(failed) > 0 {
		c.t.Errorf("writes failed during the rolling apply (the client should fail over; first ones): %v", failed[:min(len(failed), 5)])
	}
	if len(acked) < 3 {
		c.t.Errorf("only %d writes acknowledged during the rolling apply: the writer did not overlap it", len(acked))
	}
	if count(acts, "restart-namenode") < wantNNs {
		c.t.Errorf("a changed hdfs-site key must restart all %d NameNodes; apply ran %v", wantNNs, acts)
	}
	c.waitOneActive(wantNNs, 20*time.Second)
	c.requireConverged()
	c.checkFiles(acked)
	c.checkFiles(files)
}

// scenarioAddNameNode applies a config with one more NameNode and checks it
// was bootstrapped, never formatted, and joined as a standby.
func (c *testCluster) scenarioAddNameNode(wantNNs int, id string, files map[string]string) {
	c.t.Helper()
	before := c.clusterIDs()
	r := c.must(commandTimeout, "plan", "--format", "json", c.dir)
	var plan struct {
		Steps []struct {
			Action   string `json:"action"`
			NameNode string `json:"namenode"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &plan); err != nil {
		c.t.Fatalf("plan json: %v\n%s", err, r)
	}
	boot := false
	for _, s := range plan.Steps {
		if s.Action == "format-namenode" {
			c.t.Fatalf("INVARIANT 1 BROKEN: adding a NameNode plans a format:\n%s", r.Stdout)
		}
		boot = boot || (s.Action == "bootstrap-standby" && s.NameNode == id)
	}
	if !boot {
		c.t.Errorf("plan does not bootstrap the new %s:\n%s", id, r.Stdout)
	}
	r = c.apply()
	if count(StepActions(r.Stdout), "format-namenode") > 0 {
		c.t.Fatalf("INVARIANT 1 BROKEN: apply formatted:\n%s", r.Stdout)
	}
	var cid string
	for _, v := range before {
		if v != "" { // the new NameNode's dir has none yet
			cid = v
		}
	}
	if cid == "" {
		c.t.Fatalf("no formatted name dir before adding %s: %v", id, before)
	}
	for k, v := range c.clusterIDs() {
		if v != cid {
			c.t.Errorf("name dir %s: clusterID %q, want %q", k, v, cid)
		}
	}
	c.waitOneActive(wantNNs, 20*time.Second)
	c.requireConverged()
	c.checkFiles(files)
}
