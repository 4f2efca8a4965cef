package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// A local cluster on 127.0.3.x with ports no other test uses; its hosts are
// real local hosts, so steps scan and signal real processes.
const lifecycleHCL = `
host "l1" { address = "127.0.3.1" }
host "l2" { address = "127.0.3.2" }
host "l3" { address = "127.0.3.3" }
zookeeper {
  managed     = true
  servers     = ["l1", "l2", "l3"]
  client_port = 12181
}
nameservice "ns" {
  namenode "nn1" {
    host      = "l1"
    rpc_port  = 18020
    http_port = 19870
  }
  namenode "nn2" {
    host      = "l2"
    rpc_port  = 18020
    http_port = 19870
  }
  journal {
    hosts     = ["l1", "l2", "l3"]
    edits_dir = "/hdfs/journal"
    rpc_port  = 18485
    http_port = 18480
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/name"
}
target "local" { state_dir = ".hactl" }
`

func lifecycleEnv(t *testing.T) *Env {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.hcl"), []byte(lifecycleHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Cluster: c, Desired: d, Hosts: hosts, Guard: &Guard{}, Out: &strings.Builder{}}
}

// proc starts `sh -c 'sleep 300; :' ARGS...`, a process whose command line
// is ARGS, in its own group; it ends with the test.
func proc(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", "sleep 300; :"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-exited })
	return cmd
}

func gone(pid int) bool { return !supervise.Alive(pid, 0) }

// waitGone waits (bounded) until pid is reaped or a zombie.
func waitGone(t *testing.T, pid int) bool {
	t.Helper()
	for range 100 {
		if gone(pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// A stop step stops what no record names: a supervisor whose record was
// lost and its daemon, found by their command lines under the host's root,
// here with the runtime binary already removed; another host's NameNode
// stays untouched.
func TestStopFindsSupervisorAndDaemonWithoutRecord(t *testing.T) {
	env := lifecycleEnv(t)
	p1, p2 := env.paths("l1"), env.paths("l2")
	sup := proc(t, p1.Binary, "runtime", "supervise", "run", "--name", "namenode.ns.nn1", "--run-dir", p1.RunDir, "--log", "l", "--", p1.Binary, "runtime", "namenode")
	nn := proc(t, p1.Binary, "runtime", "namenode", "--conf", p1.ConfDir, "--id", "nn1")
	other := proc(t, p2.Binary, "runtime", "namenode", "--conf", p2.ConfDir, "--id", "nn1")
	step := &planner.Step{Host: "l1", Action: planner.ActStopNameNode, Daemon: "namenode.ns.nn1", Nameservice: "ns", NameNode: "nn1"}
	if err := (&stopDaemon{step}).Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if !waitGone(t, sup.Process.Pid) || !waitGone(t, nn.Process.Pid) {
		t.Errorf("supervisor %d / namenode %d without records survive the stop", sup.Process.Pid, nn.Process.Pid)
	}
	if gone(other.Process.Pid) {
		t.Error("the stop of l1's NameNode killed l2's")
	}
	mutations := strings.Join(env.Guard.Drain(), "\n")
	if strings.Contains(mutations, "supervise stop") || !strings.Contains(mutations, "kill -TERM") {
		t.Errorf("without a binary the stop signals by pid (and runs no supervise stop):\n%s", mutations)
	}
}

// listen holds addr in this test process.
func listen(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
}

// Before a daemon starts, a process holding one of its addresses that this
// configuration did not start is named, and nothing is started.
func TestStartNamesThePortHolder(t *testing.T) {
	env := lifecycleEnv(t)
	listen(t, "127.0.3.1:19870")
	step := &planner.Step{Host: "l1", Action: planner.ActStartNameNode, Daemon: "namenode.ns.nn1", Nameservice: "ns", NameNode: "nn1"}
	err := (&startDaemon{step}).Run(context.Background(), env)
	want := fmt.Sprintf("127.0.3.1:19870 is held by pid %d (%s", os.Getpid(), filepath.Base(os.Args[0]))
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not started by this configuration") {
		t.Fatalf("start with the port taken: %v; want %q", err, want)
	}
	if m := env.Guard.Drain(); len(m) != 0 {
		t.Errorf("start ran %q with its port taken", m)
	}
}

// destroy's check before a host's files go names host, daemon, pid and
// port of a survivor; purge-data refuses while a daemon of the host runs
// and leaves the data.
func TestVerifyStoppedAndPurgeRefuseWhileSomethingRuns(t *testing.T) {
	env := lifecycleEnv(t)
	listen(t, "127.0.3.2:18485")
	err := (&verifyStopped{&planner.Step{Host: "l2", Action: planner.ActVerifyStopped}}).Run(context.Background(), env)
	want := fmt.Sprintf("host l2 still runs: journalnode: pid %d", os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "listens on 127.0.3.2:18485") {
		t.Fatalf("verify-stopped: %v; want %q … listens on 127.0.3.2:18485", err, want)
	}
	if err := (&verifyStopped{&planner.Step{Host: "l1", Action: planner.ActVerifyStopped}}).Run(context.Background(), env); err != nil {
		t.Errorf("verify-stopped on a host with nothing left: %v", err)
	}

	p1 := env.paths("l1")
	nameDir := env.Cluster.HostDir("l1", "/hdfs/name")
	if err := os.MkdirAll(filepath.Join(nameDir, "current"), 0o755); err != nil {
		t.Fatal(err)
	}
	zkfc := proc(t, p1.Binary, "runtime", "zkfc", "--conf", p1.ConfDir, "--id", "nn1")
	err = (&purgeData{&planner.Step{Host: "l1", Action: planner.ActPurgeData, PurgeData: true}}).Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("zkfc.ns.nn1: pid %d", zkfc.Process.Pid)) {
		t.Fatalf("purge with a live ZKFC: %v", err)
	}
	if _, err := os.Stat(filepath.Join(nameDir, "current")); errors.Is(err, os.ErrNotExist) {
		t.Error("the refused purge removed the name dir")
	}
}
