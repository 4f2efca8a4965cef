package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	ucli "github.com/urfave/cli/v3"
)

func writeHCL(t *testing.T, src string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func hactlRun(t *testing.T, args ...string) (int, string, string) {
	var out, errw bytes.Buffer
	code := Run(context.Background(), append([]string{"hactl"}, args...), &out, &errw)
	return code, out.String(), errw.String()
}

// A configuration with errors yields no plan and touches no host: the
// command fails before opening any connection (the host address is one
// nothing listens on, and nothing is waited for).
func TestPlanApplyDestroyRefuseInvalidConfig(t *testing.T) {
	dir := writeHCL(t, `
host "a" { address = "127.0.7.1" }
nameservice "ns" {
  namenode "nn1" { host = "nohost" }
}
target "local" { state_dir = "state" }
`)
	for _, cmd := range [][]string{
		{"plan", "--detailed-exitcode", dir},
		{"apply", "--auto-approve", dir},
		{"destroy", "--auto-approve", dir},
		{"status", dir},
		{"failover", "--to", "nn1", dir},
	} {
		code, out, errw := hactlRun(t, cmd...)
		if code != 1 || !strings.Contains(errw, "no host was touched") {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", cmd[0], code, out, errw)
		}
		if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
			t.Fatalf("%s: the state dir was created: a host was touched", cmd[0])
		}
	}
}

func TestPlanFlagsValidated(t *testing.T) {
	if code, _, _ := hactlRun(t, "plan", "--format", "yaml", t.TempDir()); code != 2 {
		t.Errorf("plan --format yaml: exit %d, want 2", code)
	}
	if code, _, _ := hactlRun(t, "status", "--format", "xml", t.TempDir()); code != 2 {
		t.Errorf("status --format xml: exit %d, want 2", code)
	}
}

// threeHostLocal is a valid two-NameNode cluster on 127.0.7.1-3 with the
// local target's state in stateDir.
func threeHostLocal(stateDir string) string {
	return `
host "a" { address = "127.0.7.1" }
host "b" { address = "127.0.7.2" }
host "c" { address = "127.0.7.3" }
zookeeper {
  managed = true
  servers = ["a", "b", "c"]
}
nameservice "ns" {
  namenode "nn1" { host = "a" }
  namenode "nn2" { host = "b" }
  journal {
    hosts     = ["a", "b", "c"]
    edits_dir = "/hdfs/jn"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/nn"
}
target "local" { state_dir = "` + stateDir + `" }
`
}

func TestApplyRefusesSavedPlanFromAnotherBinary(t *testing.T) {
	dir := writeHCL(t, threeHostLocal("state"))
	pf := &planner.PlanFile{ConfigPath: dir, Options: planner.Options{RuntimeSHA256: "not-this-binary"}, Plan: &planner.ClusterPlan{}}
	file := filepath.Join(t.TempDir(), "p.plan")
	if err := writePlanFile(file, pf); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %o, want 0600 (it may carry variables)", st.Mode().Perm())
	}
	code, _, errw := hactlRun(t, "apply", file)
	if code != 1 || !strings.Contains(errw, "run hactl plan again") {
		t.Fatalf("apply of a plan from another binary: exit %d: %s", code, errw)
	}
	if code, _, errw := hactlRun(t, "apply", "--var", "x=1", file); code != 2 {
		t.Fatalf("apply PLANFILE --var: exit %d: %s", code, errw)
	}
}

func TestApproveOnlyYes(t *testing.T) {
	for in, want := range map[string]bool{"yes\n": true, "y\n": false, "YES\n": false, "\n": false, "": false, "  yes  \n": true} {
		var out bytes.Buffer
		cmd := &ucli.Command{Reader: strings.NewReader(in), Writer: &out}
		if got := approve(cmd, "Do you want to perform these actions?", "x"); got != want {
			t.Errorf("approve(%q) = %v, want %v", in, got, want)
		}
		if !strings.Contains(out.String(), "Only 'yes' will be accepted") {
			t.Errorf("prompt does not say only yes is accepted: %q", out.String())
		}
	}
}

func TestStatusJSONListsEveryNameNode(t *testing.T) {
	c, diags := schema.Load("../testdata/plans/fixtures/three.hcl", schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	obs := &planner.Observed{Hosts: map[string]*planner.ObservedHost{
		"dim": {Name: "dim", Reachable: true,
			Daemons:      map[string]*planner.ObservedDaemon{daemon.NameNodeID("hacluster", "dnn").Name(): {Running: true, PID: 11}, "journalnode": {Running: true, PID: 12}},
			NameNodes:    map[string]*planner.ObservedNameNode{"hacluster/dnn": {Formatted: true, HAState: "active", LastTxid: 50}},
			JournalNodes: map[string]*planner.ObservedJournal{"hacluster": {Formatted: true, LastTxid: 50}}},
		"oim": {Name: "oim", Reachable: true,
			Daemons:      map[string]*planner.ObservedDaemon{daemon.NameNodeID("hacluster", "onn").Name(): {Running: true, PID: 21}, "journalnode": {Running: true, PID: 22}},
			NameNodes:    map[string]*planner.ObservedNameNode{"hacluster/onn": {Formatted: true, HAState: "standby", LastTxid: 48}},
			JournalNodes: map[string]*planner.ObservedJournal{"hacluster": {Formatted: true, LastTxid: 45}}},
		"jim": {Name: "jim", Error: "i/o timeout"},
	}, ZooKeeper: &planner.ObservedZooKeeper{Reachable: true, ServersUp: []string{"dim", "oim"}, ParentZnodes: map[string]bool{"hacluster": true}}}
	st := BuildStatus(c, obs)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(st); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NameNodes []struct {
			Nameservice, ID, Host string
			HAState               string `json:"ha_state"`
			PID                   int
		}
		JournalNodes []struct {
			Host string
			Lag  int64
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"dnn": "dim active 11", "onn": "oim standby 21", "jnn": "jim unreachable 0"}
	if len(doc.NameNodes) != 3 {
		t.Fatalf("namenodes: %+v", doc.NameNodes)
	}
	for _, n := range doc.NameNodes {
		got := n.Host + " " + n.HAState + " " + strconv.Itoa(n.PID)
		if n.Nameservice != "hacluster" || got != want[n.ID] {
			t.Errorf("namenode %s: %q, want %q", n.ID, got, want[n.ID])
		}
	}
	lag := map[string]int64{}
	for _, j := range doc.JournalNodes {
		lag[j.Host] = j.Lag
	}
	if lag["dim"] != 0 || lag["oim"] != 5 {
		t.Errorf("journal lag = %v", lag)
	}
	var text bytes.Buffer
	if err := st.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`hacluster\s+dnn\s+dim\s+active\s+11`, `hacluster\s+jim\s+unreachable`, "UNREACHABLE: i/o timeout", "ZOOKEEPER\\s+healthy"} {
		if !regexp.MustCompile(s).MatchString(text.String()) {
			t.Errorf("status text lacks %q:\n%s", s, text.String())
		}
	}
}

// A second apply waits for the cluster lock, then fails naming the holder,
// before it probes or touches any host.
func TestApplyWaitsForTheClusterLockThenFails(t *testing.T) {
	state := t.TempDir()
	dir := writeHCL(t, threeHostLocal(state))
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	held, err := apply.AcquireLock(context.Background(), &apply.Env{Cluster: c}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(context.Background())
	start := time.Now()
	for _, cmd := range []string{"apply", "destroy"} {
		code, _, errw := hactlRun(t, cmd, "--auto-approve", "--lock-timeout", "300ms", dir)
		if code != 1 || !strings.Contains(errw, "holds the cluster lock") || !strings.Contains(errw, "pid=") {
			t.Fatalf("%s while locked: exit %d: %s", cmd, code, errw)
		}
	}
	if time.Since(start) < 600*time.Millisecond {
		t.Errorf("did not wait --lock-timeout")
	}
	if _, err := os.Stat(filepath.Join(state, "hosts")); !os.IsNotExist(err) {
		t.Errorf("a host was touched while the lock was held: %v", err)
	}
}
