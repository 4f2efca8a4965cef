package targets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// fakeProc starts `sh -c 'sleep 300; :' ARGS...`: a live process whose
// command line is ARGS (as $0 $1 … of the shell), in its own group; it ends
// with the test.
func fakeProc(t *testing.T, args ...string) int {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", "sleep 300; :"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	return cmd.Process.Pid
}

// writeRecord writes a supervisor record of host p1.
func writeRecord(t *testing.T, c *schema.Cluster, r supervise.Record) {
	t.Helper()
	p := c.PathsFor("p1")
	b, _ := json.Marshal(r)
	if err := os.MkdirAll(p.RunDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.RunDir, r.Name+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The probe reports the supervisor's view of each daemon (backing off with
// the time to its next try, failed with its last exit, a supervisor killed
// under a "running" record) and finds, by their command lines, a supervisor
// and a daemon whose records were lost — but never the processes of
// another host of the same machine.
func TestProbeSupervisorViewAndLostRecords(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	p1, p2 := c.PathsFor("p1"), c.PathsFor("p2")
	sup := fakeProc(t, p1.Binary, "runtime", "supervise", "run", "--name", "zkfc.ns1.nn1", "--run-dir", p1.RunDir, "--log", "x", "--", p1.Binary, "runtime", "zkfc")
	writeRecord(t, c, supervise.Record{Name: "namenode.ns1.nn1", SupervisorPID: sup, SupervisorStart: supervise.ProcStart(sup),
		State: supervise.StateBackoff, Restarts: 3, LastExit: "signal: killed", NextStartAt: time.Now().Add(4 * time.Second).UnixMilli()})
	writeRecord(t, c, supervise.Record{Name: "journalnode", State: supervise.StateFailed, Restarts: 4, LastExit: "exit status 1"})
	writeRecord(t, c, supervise.Record{Name: "zookeeper", SupervisorPID: 1, SupervisorStart: 12345, ChildPID: 1, ChildStart: 12345, State: supervise.StateRunning})
	// A NameNode of p1 and one of p2, both without records.
	orphan := fakeProc(t, p1.Binary, "runtime", "namenode", "--conf", p1.ConfDir, "--id", "nn1")
	other := fakeProc(t, p2.Binary, "runtime", "namenode", "--conf", p2.ConfDir, "--id", "nn2")

	obs := probeLocal(t, c, hosts)
	oh := obs.Hosts["p1"]
	nn := oh.Daemons["namenode.ns1.nn1"]
	if nn == nil || nn.Running || !nn.SupervisorAlive || nn.State != supervise.StateBackoff || nn.Restarts != 3 || nn.LastExit != "signal: killed" ||
		nn.NextStartIn < 3 || nn.NextStartIn > 5 || !slices.Equal(nn.Unrecorded, []int{orphan}) || !nn.Supervised() {
		t.Errorf("namenode.ns1.nn1 (backing off, orphan %d): %+v", orphan, nn)
	}
	// The record names sup as namenode-nn1's supervisor, but its command
	// line says zkfc.ns1.nn1: for zkfc.ns1.nn1 it is a process no record names.
	if z := oh.Daemons["zkfc.ns1.nn1"]; z == nil || !slices.Equal(z.Unrecorded, []int{sup}) || !z.Supervised() {
		t.Errorf("zkfc.ns1.nn1 (supervisor %d without record): %+v", sup, z)
	}
	if j := oh.Daemons["journalnode"]; j == nil || j.State != supervise.StateFailed || j.LastExit != "exit status 1" || j.SupervisorAlive || !j.Supervised() {
		t.Errorf("failed journalnode: %+v", j)
	}
	if z := oh.Daemons["zookeeper"]; z == nil || z.Running || z.SupervisorAlive || z.State != "dead" || z.Supervised() {
		t.Errorf("zookeeper whose supervisor is gone: %+v", z)
	}
	if d := obs.Hosts["p2"].Daemons["namenode.ns1.nn2"]; d == nil || !slices.Equal(d.Unrecorded, []int{other}) {
		t.Errorf("p2's own orphan: %+v", d)
	}
	for name, d := range oh.Daemons {
		if slices.Contains(d.Unrecorded, other) {
			t.Errorf("p1's %s claims p2's process %d", name, other)
		}
	}
}

// ScanProcesses finds the host's processes, which of them a record names,
// and who holds a listening port.
func TestScanProcesses(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	p1 := c.PathsFor("p1")
	pid, port := standIn(t, "", "127.0.2.7:0")
	orphan := fakeProc(t, p1.Binary, "runtime", "journalnode", "--conf", p1.ConfDir)
	dn := fakeProc(t, p1.Binary, "runtime", "datanode", "--conf", p1.ConfDir)
	recorded := fakeProc(t, "/bin/java", "-cp", "x", "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(p1.ConfDir, "zookeeper", "zoo.cfg"))
	writeRecord(t, c, supervise.Record{Name: "zookeeper", ChildPID: recorded, ChildStart: supervise.ProcStart(recorded), State: supervise.StateRunning})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scan, err := targets.ScanProcesses(ctx, hosts["p1"], c, "p1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range scan.Procs {
		got = append(got, p.Daemon)
		switch p.PID {
		case orphan:
			if p.Daemon != "journalnode" || p.Recorded {
				t.Errorf("orphan: %+v", p)
			}
		case dn:
			if p.Daemon != "datanode" || p.Recorded {
				t.Errorf("unrecorded datanode: %+v", p)
			}
		case recorded:
			if p.Daemon != "zookeeper" || !p.Recorded {
				t.Errorf("recorded zookeeper: %+v", p)
			}
		}
	}
	if len(scan.Procs) != 3 {
		t.Errorf("procs: %v (%+v)", got, scan.Procs)
	}
	if of := scan.Of("journalnode", false); len(of) != 1 || of[0].PID != orphan {
		t.Errorf("strays of journalnode: %+v", of)
	}
	h := scan.Holding("127.0.2.7", port)
	if len(h) != 1 || h[0].PID != pid || !strings.Contains(h[0].Command(), filepath.Base(os.Args[0])) {
		t.Errorf("holders of 127.0.2.7:%d (pid %d): %+v", port, pid, h)
	}
	if h := scan.Holding("127.0.2.8", port); len(h) != 0 {
		t.Errorf("another address's port is not held: %+v", h)
	}
	if scan.Binary {
		t.Error("no binary is installed")
	}
}

// A cluster applied by an earlier hactl: records named namenode-<id> /
// zkfc-<id> whose children's command lines read as their identity. The
// children are the records' (not processes without a record), and the probe
// files each daemon under its identity with the record's name kept.
func TestProbeLegacyRecordsOwnTheirProcesses(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	p1 := c.PathsFor("p1")
	nn := fakeProc(t, p1.Binary, "runtime", "namenode", "--conf", p1.ConfDir, "--id", "nn1")
	zkfc := fakeProc(t, p1.Binary, "runtime", "zkfc", "--conf", p1.ConfDir, "--id", "nn1", "--nameservice", "ns1")
	writeRecord(t, c, supervise.Record{Name: "namenode-nn1", ChildPID: nn, ChildStart: supervise.ProcStart(nn), State: supervise.StateRunning})
	writeRecord(t, c, supervise.Record{Name: "zkfc-nn1", ChildPID: zkfc, ChildStart: supervise.ProcStart(zkfc), State: supervise.StateRunning})
	oh := probeLocal(t, c, hosts).Hosts["p1"]
	for name, legacy := range map[string]string{"namenode.ns1.nn1": "namenode-nn1", "zkfc.ns1.nn1": "zkfc-nn1"} {
		d := oh.Daemons[name]
		if d == nil || !d.Running || d.Record != legacy || len(d.Unrecorded) > 0 || oh.Daemons[legacy] != nil {
			t.Errorf("%s (an earlier hactl's %s): %+v (daemons %v)", name, legacy, d, oh.Daemons)
		}
	}
}

// A process of the same paths in another network namespace belongs to
// another host sharing this kernel (a container, the SSH lab's hosts): it
// is never taken for this host's.
func TestScanIgnoresOtherNetworkNamespaces(t *testing.T) {
	if err := exec.Command("unshare", "--net", "true").Run(); err != nil {
		t.Skipf("cannot make a network namespace here: %v", err)
	}
	c, hosts := loadLocalCluster(t)
	p1 := c.PathsFor("p1")
	cmd := exec.Command("unshare", append([]string{"--net", "sh", "-c", "sleep 300; :"}, p1.Binary, "runtime", "journalnode", "--conf", p1.ConfDir)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	local := fakeProc(t, p1.Binary, "runtime", "journalnode", "--conf", p1.ConfDir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var scan *targets.ProcScan
	for range 50 { // unshare execs sh once the namespace exists
		var err error
		if scan, err = targets.ScanProcesses(ctx, hosts["p1"], c, "p1"); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)); strings.Contains(string(b), "journalnode") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if of := scan.Of("journalnode", true); len(of) != 1 || of[0].PID != local {
		t.Errorf("journalnode processes: %+v; want only pid %d (pid %d is in another network namespace)", of, local, cmd.Process.Pid)
	}
}
