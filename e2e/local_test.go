package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/internal/netns"
	"github.com/hactl/hactl/runtime/zkfc"
)

// localRange is this package's loopback range (examples/local uses
// 127.0.1.x, which a developer's `make demo` may be running on).
const localRange = "127.0.10."

// copyLocalExample copies examples/local to a temp dir with its addresses
// moved to localRange and its state_dir to an absolute temp dir.
func copyLocalExample(t *testing.T) (dir, stateDir string) {
	t.Helper()
	return copyLocalExampleAt(t, localRange)
}

// copyLocalExampleAt is copyLocalExample onto the loopback addresses
// prefix+1, prefix+2, …, DataNodes included: these tests kill whole hosts
// and read every file right after, which works because the NameNode's
// redirect passes over a DataNode that stopped heartbeating and the client
// retries another with excludedatanodes.
func copyLocalExampleAt(t *testing.T, prefix string) (dir, stateDir string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "examples", "local")
	base := t.TempDir()
	dir = filepath.Join(base, "cluster")
	stateDir = filepath.Join(base, "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	stateRE := regexp.MustCompile(`state_dir\s*=\s*"[^"]*"`)
	n := 0
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "127.0.1.", prefix)
		if stateRE.MatchString(s) {
			n++
			s = stateRE.ReplaceAllString(s, fmt.Sprintf("state_dir = %q", stateDir))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n != 1 {
		t.Fatalf("examples/local: want exactly one state_dir to rewrite, found %d", n)
	}
	return dir, stateDir
}

func newLocalCluster(t *testing.T) *testCluster {
	t.Helper()
	needIntegration(t)
	dir, stateDir := copyLocalExample(t)
	return newLocalClusterAt(t, dir, stateDir, localRange)
}

// newLocalClusterAt is the local-target cluster configured in dir, whose
// state_dir is stateDir and whose host addresses are in addrRange.
func newLocalClusterAt(t *testing.T, dir, stateDir, addrRange string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, h: &Hactl{Bin: hactlBin}, dir: dir}
	cl := c.load()
	for _, h := range cl.Hosts {
		if !strings.HasPrefix(h.Address, addrRange) {
			t.Fatalf("host %s has address %s outside %sx", h.Name, h.Address, addrRange)
		}
	}
	hostRoot := func(host string) string { return cl.LocalRoot(host) + "/" }
	c.hostExec = func(host, script string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("%s: %w: %s", script, err, out)
		}
		return string(out), nil
	}
	// Every process of a local host names the host's tree in its command
	// line (its binary under opt/hactl, its conf dir, its zoo.cfg).
	c.daemonPids = func(host string) []int { return ProcsMatching(hostRoot(host)) }
	c.killHost = func(host string) ([]int, error) {
		var all []int
		// A supervisor may restart a child between our reads: loop, bounded.
		for range 5 {
			pids := ProcsMatching(hostRoot(host))
			if len(pids) == 0 {
				break
			}
			all = append(all, pids...)
			if err := netns.KillAll(pids, 10*time.Second); err != nil {
				return all, err
			}
		}
		return all, nil
	}
	c.leftovers = func(host string, allowed []string) ([]string, error) {
		r := cl.LocalRoot(host)
		abs := make([]string, len(allowed))
		copy(abs, allowed)
		// walkFiles reports host paths; on local they are the rooted paths.
		return walkFiles(r, r, abs)
	}
	cleanupLocal(t, c.h, dir, stateDir)
	return c
}

// TestLocalCluster is the local-target life cycle on one shared cluster:
// apply, converge, write, crash the active's host, re-apply, wipe a standby,
// interrupt an apply, destroy, purge. Each step needs the ones before it.
func TestLocalCluster(t *testing.T) {
	c := newLocalCluster(t)
	wantNNs := len(c.load().Nameservices[0].NameNodes)
	var files map[string]string
	steps := []struct {
		name string
		f    func(c *testCluster)
	}{
		{"apply-from-nothing", func(c *testCluster) {
			d := c.scenarioApplyFromNothing(wantNNs)
			t.Logf("BENCH local apply from nothing to an active HA cluster (%d NameNodes): %s", wantNNs, d.Round(time.Millisecond))
		}},
		{"fs-put-cat", func(c *testCluster) {
			files = c.writeFiles("/e2e/before-crash", 5)
			c.checkFiles(files)
		}},
		{"failover-command", func(c *testCluster) { c.scenarioFailoverCommand(wantNNs, files) }},
		{"kill-active-host", func(c *testCluster) { c.scenarioKillActiveHost(wantNNs, files) }},
		{"reapply-restarts", func(c *testCluster) { c.scenarioReapplyRestarts(wantNNs, files) }},
		{"wipe-standby-bootstraps", func(c *testCluster) { c.scenarioWipeStandby(wantNNs, files) }},
		{"interrupted-apply-converges", func(c *testCluster) {
			// examples/local leaves tailing to hactl's defaults: set it.
			c.scenarioInterrupt(wantNNs, files, func() {
				editConfig(c.t, c.dir, `(?m)^  name_dir\s*=\s*"[^"]*"$`, "  name_dir = \"/hdfs/namenode\"\n  tail_edits_period = \"2s\"")
			})
		}},
		{"concurrent-applies-lock", func(c *testCluster) {
			c.scenarioConcurrentApplies(wantNNs, files, func() { editConfig(c.t, c.dir, `(?m)^  tail_edits_period\s*=\s*"[^"]*"`, `  tail_edits_period = "1s"`) })
		}},
		{"destroy-keeps-data", func(c *testCluster) { c.scenarioDestroyKeepsData() }},
		{"reapply-after-destroy", func(c *testCluster) { c.scenarioReapplyAfterDestroy(wantNNs, files) }},
		{"znodes-locked-to-the-secret", func(c *testCluster) { checkZnodesLockedToSecret(c) }},
		{"destroy-keeps-data-again", func(c *testCluster) { c.scenarioDestroyKeepsData() }},
		{"destroy-purge-data", func(c *testCluster) { c.scenarioPurge() }},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			sub := *c
			sub.t = t
			s.f(&sub)
		})
		if !ok {
			t.Fatalf("step %s failed; the later steps need it", s.name)
		}
	}
}

// checkZnodesLockedToSecret: after a destroy and a re-apply, the election
// znodes carry the default digest ACL of the secret the destroy kept: a
// client without it cannot read the breadcrumb, one authenticated with the
// credential derived from the secret on disk can.
func checkZnodesLockedToSecret(c *testCluster) {
	cl := c.load()
	parent := cl.ZooKeeper.ParentZnode
	if parent == "" {
		parent = zkfc.DefaultParentZnode
	}
	crumb := path.Join(parent, cl.Nameservices[0].Name, zkfc.BreadcrumbName)
	secret, err := os.ReadFile(cl.PathsFor(cl.Hosts[0].Name).SecretFile)
	if err != nil {
		c.t.Fatal(err)
	}
	_, auths := zkfc.SecretACL(bytes.TrimSpace(secret))
	for _, withSecret := range []bool{false, true} {
		conn, _, err := zk.Connect(strings.Split(cl.ZooKeeperQuorumString(), ","), 5*time.Second, zk.WithLogInfo(false))
		if err != nil {
			c.t.Fatal(err)
		}
		if withSecret {
			for _, a := range auths {
				if err := conn.AddAuth(a.Scheme, a.Auth); err != nil {
					c.t.Fatal(err)
				}
			}
		}
		_, _, err = conn.Get(crumb)
		conn.Close()
		switch {
		case !withSecret && !errors.Is(err, zk.ErrNoAuth):
			c.t.Errorf("read of %s without the secret: %v, want %v", crumb, err, zk.ErrNoAuth)
		case withSecret && err != nil:
			c.t.Errorf("read of %s with the credential of the kept secret: %v", crumb, err)
		}
	}
}

// editConfig rewrites the first match of pattern in the directory's .hcl files.
func editConfig(t *testing.T, dir, pattern, repl string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := re.FindIndex(b); loc != nil {
			out := append(append(append([]byte{}, b[:loc[0]]...), repl...), b[loc[1]:]...)
			if err := os.WriteFile(f, out, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no %q in %s/*.hcl", pattern, dir)
}

// cleanupLocal registers the cleanup of a local-target cluster test: whatever
// a failed test left is destroyed with its data, then what still runs from
// the test's state dir (processes the test started) is killed. A process that
// survives that is a leak, and fails the test.
func cleanupLocal(t *testing.T, h *Hactl, dir, stateDir string) {
	t.Cleanup(func() {
		r := h.Run(context.Background(), 60*time.Second, "destroy", "--auto-approve", "--purge-data", dir)
		if r.Code != 0 {
			t.Logf("cleanup destroy: %s", r)
		}
		for range 5 {
			pids := ProcsMatching(stateDir + "/")
			if len(pids) == 0 {
				return
			}
			t.Logf("cleanup: killing leftover processes %v", pids)
			_ = netns.KillAll(pids, 10*time.Second)
		}
		if pids := ProcsMatching(stateDir + "/"); len(pids) > 0 {
			t.Errorf("cleanup: processes of %s survived five kills: %v", stateDir, pids)
		}
	})
}
