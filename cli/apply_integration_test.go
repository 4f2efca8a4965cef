package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/zkserver"
	"github.com/hactl/hactl/runtime/supervise"
)

// TestApplyLocalClusterIntegration drives the real commands end to end on
// target local (127.0.7.1-3, this package's loopback range): plan, a dry
// run that touches nothing, apply of a saved plan, a converged re-plan,
// status, a graceful failover, a stale saved plan refused, destroy.
func TestApplyLocalClusterIntegration(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("set HACTL_INTEGRATION=1 to run (builds hactl, starts ZooKeeper and the daemons on 127.0.7.1-3)")
	}
	if _, err := os.Stat(zkserver.Jar); err != nil {
		t.Skip("ZooKeeper is not installed (scripts/install-test-deps.sh installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hactl")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hactl")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, d := range []string{"journalnode", "namenode", "zkfc", "format", "bootstrap-standby", "format-zk"} {
		if out, err := exec.Command(bin, "runtime", d, "--help").CombinedOutput(); err != nil || strings.Contains(string(out), "No help topic") {
			t.Skipf("hactl runtime %s is not built yet: %v %s", d, err, out)
		}
	}
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "cfg")
	os.MkdirAll(cfg, 0o755)
	os.WriteFile(filepath.Join(cfg, "cluster.hcl"), []byte(`
host "n1" { address = "127.0.7.1" }
host "n2" { address = "127.0.7.2" }
host "n3" { address = "127.0.7.3" }
zookeeper {
  managed         = true
  servers         = ["n1", "n2", "n3"]
  tick_time       = "200ms"
  session_timeout = "2s"
  data_dir        = "/var/lib/zookeeper"
}
nameservice "hacluster" {
  namenode "nn1" { host = "n1" }
  namenode "nn2" { host = "n2" }
  journal {
    hosts     = ["n1", "n2", "n3"]
    edits_dir = "/hdfs/journalnode"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir          = "/hdfs/namenode"
  tail_edits_period = "1s"
}
target "local" { state_dir = "`+state+`" }
`), 0o644)
	run := func(timeout time.Duration, args ...string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir()) // hactl fs's active-NameNode cache
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("hactl %v: %v", args, err)
		}
		t.Logf("hactl %s → exit %d\n%s", strings.Join(args, " "), code, out.String())
		return code, out.String()
	}
	t.Cleanup(func() {
		run(2*time.Minute, "destroy", "--auto-approve", "--purge-data", cfg)
		killSupervised(t, state)
	})

	if code, _ := run(time.Minute, "plan", "--detailed-exitcode", cfg); code != 2 {
		t.Fatalf("plan on bare hosts: exit %d, want 2", code)
	}
	if code, out := run(time.Minute, "apply", "--dry-run", cfg); code != 0 || !strings.Contains(out, "would ") {
		t.Fatalf("dry run: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(state, "hosts", "n1", "etc")); !os.IsNotExist(err) {
		t.Fatalf("the dry run wrote to a host: %v", err)
	}
	planFile := filepath.Join(dir, "fresh.plan")
	if code, _ := run(time.Minute, "plan", "--out", planFile, cfg); code != 0 {
		t.Fatalf("plan --out: exit %d", code)
	}
	// Interrupt an apply midway (Ctrl-C once the first ZooKeeper is up).
	interrupted := interruptApply(t, bin, cfg, "start-zookeeper ... ok")
	if !interrupted {
		t.Fatalf("the interrupted apply finished anyway")
	}
	// The saved plan no longer matches the hosts: refused.
	if code, out := run(time.Minute, "apply", planFile); code != 1 || !strings.Contains(out, "run hactl plan again") {
		t.Fatalf("apply of a stale plan: exit %d", code)
	}
	// A re-run converges from wherever the interruption left the hosts.
	if code, _ := run(time.Minute, "plan", "--out", planFile, cfg); code != 0 {
		t.Fatalf("plan --out: exit %d", code)
	}
	if code, out := run(4*time.Minute, "apply", planFile); code != 0 || !strings.Contains(out, "Apply complete!") {
		t.Fatalf("apply: exit %d", code)
	}
	if code, _ := run(time.Minute, "plan", "--detailed-exitcode", cfg); code != 0 {
		t.Fatalf("plan after apply: exit %d, want 0 (no changes)", code)
	}
	status := func() map[string]NameNodeStatus {
		_, out := run(time.Minute, "status", "--format", "json", cfg)
		// out holds stderr too: warnings (HA103 quotes "datanode { … }")
		// come before the JSON document, which starts on a line of its own.
		i := strings.Index("\n"+out, "\n{")
		if i < 0 {
			t.Fatalf("status json: no JSON document in %q", out)
		}
		var st ClusterStatus
		if err := json.Unmarshal([]byte(out[i:]), &st); err != nil {
			t.Fatalf("status json: %v", err)
		}
		m := map[string]NameNodeStatus{}
		for _, n := range st.NameNodes {
			m[n.ID] = n
		}
		return m
	}
	st := status()
	standby := ""
	actives := 0
	for id, n := range st {
		if n.PID == 0 || n.Nameservice != "hacluster" {
			t.Errorf("status of %s: %+v", id, n)
		}
		switch n.HAState {
		case "active":
			actives++
		case "standby":
			standby = id
		}
	}
	if actives != 1 || standby == "" {
		t.Fatalf("want one active and one standby: %+v", st)
	}
	if code, _ := run(2*time.Minute, "failover", "--to", standby, cfg); code != 0 {
		t.Fatalf("failover: exit %d", code)
	}
	if st := status(); st[standby].HAState != "active" {
		t.Fatalf("after failover %s is %s", standby, st[standby].HAState)
	}
	// Two keys changed (Hadoop's and zoo.cfg's): ZooKeeper servers and JournalNodes
	// restart one at a time, NameNodes standby-first with a graceful failover.
	src, _ := os.ReadFile(filepath.Join(cfg, "cluster.hcl"))
	os.WriteFile(filepath.Join(cfg, "cluster.hcl"), []byte(strings.NewReplacer(`tail_edits_period = "1s"`, `tail_edits_period = "2s"`, `"200ms"`, `"250ms"`).Replace(string(src))), 0o644)
	if code, out := run(4*time.Minute, "apply", "--auto-approve", cfg); code != 0 || !strings.Contains(out, "restart-namenode") ||
		!strings.Contains(out, "restart-zookeeper") || !strings.Contains(out, "failover") {
		t.Fatalf("rolling apply: exit %d", code)
	}
	if code, _ := run(time.Minute, "plan", "--detailed-exitcode", cfg); code != 0 {
		t.Fatalf("plan after the rolling apply: exit %d, want 0", code)
	}
	// A standby's disk wiped: bootstrapped from its peer, never formatted.
	st = status()
	for id, n := range st {
		if n.HAState == "standby" {
			dirs, _ := filepath.Glob(filepath.Join(state, "hosts", n.Host, "hdfs", "namenode", "*"))
			for _, d := range dirs {
				os.RemoveAll(d)
			}
			code, out := run(4*time.Minute, "apply", "--auto-approve", cfg)
			if code != 0 || !strings.Contains(out, "bootstrap-standby hacluster/"+id) || strings.Contains(out, "format-namenode") {
				t.Fatalf("apply after wiping %s: exit %d", id, code)
			}
		}
	}
	if code, _ := run(time.Minute, "plan", "--detailed-exitcode", cfg); code != 0 {
		t.Fatalf("plan after the re-bootstrap: exit %d, want 0", code)
	}
	if code, out := run(2*time.Minute, "destroy", "--auto-approve", cfg); code != 0 || !strings.Contains(out, "Destroy complete!") {
		t.Fatalf("destroy: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(state, "hosts", "n1", "hdfs", "namenode")); err != nil {
		t.Errorf("destroy without --purge-data removed the NameNode data: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "hosts", "n1", "opt", "hactl")); !os.IsNotExist(err) {
		t.Errorf("destroy left the runtime: %v", err)
	}
}

// interruptApply starts `hactl apply --auto-approve cfg`, sends it SIGINT
// once a progress line contains marker, and reports whether it failed (as
// an interrupted apply must).
func interruptApply(t *testing.T, bin, cfg, marker string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "apply", "--auto-approve", cfg)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pipe)
	var seen strings.Builder
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), marker) {
			cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	io.Copy(&seen, pipe)
	err = cmd.Wait()
	t.Logf("interrupted apply: %v\n%s%s", err, seen.String(), errb.String())
	return err != nil
}

// killSupervised kills every supervisor and daemon recorded under state, in
// case destroy could not (only processes this test started: their pids are
// in its own run dirs).
func killSupervised(t *testing.T, state string) {
	recs, _ := filepath.Glob(filepath.Join(state, "hosts", "*", "var", "run", "hactl", "*.json"))
	for _, r := range recs {
		data, err := os.ReadFile(r)
		if err != nil {
			continue
		}
		var rec supervise.Record
		if json.Unmarshal(data, &rec) != nil {
			continue
		}
		// Start ticks tell our process from a recycled pid.
		for _, p := range []struct {
			pid   int
			start uint64
		}{{rec.SupervisorPID, rec.SupervisorStart}, {rec.ChildPID, rec.ChildStart}} {
			if pid := p.pid; pid > 1 && p.start != 0 && supervise.Alive(pid, p.start) {
				if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
					t.Logf("killed leftover pid %s from %s", strconv.Itoa(pid), r)
				}
			}
		}
	}
}
