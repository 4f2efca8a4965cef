package targets_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

// localClusterHCL is a target-local cluster on 127.0.2.1-3: each host's
// directories live under <dir>/.hactl/hosts/<host>/.
const localClusterHCL = `
host "p1" { address = "127.0.2.1" }
host "p2" { address = "127.0.2.2" }
host "p3" { address = "127.0.2.3" }
zookeeper {
  managed = true
  servers = ["p1", "p2", "p3"]
  client_port = 21981
}
nameservice "ns1" {
  namenode "nn1" { host = "p1" }
  namenode "nn2" { host = "p2" }
  journal {
    hosts     = ["p1", "p2", "p3"]
    edits_dir = "/hdfs/journal"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/name"
}
target "local" { state_dir = ".hactl" }
`

func loadLocalCluster(t *testing.T) (*schema.Cluster, map[string]targets.Host) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(localClusterHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, hosts
}

// hostFile writes a file of host under its local root.
func hostFile(t *testing.T, c *schema.Cluster, host, abs string, data []byte) string {
	t.Helper()
	p := c.HostDir(host, abs)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func probeLocal(t *testing.T, c *schema.Cluster, hosts map[string]targets.Host) *planner.Observed {
	t.Helper()
	obs, err := targets.ProbeAll(context.Background(), c, hosts, targets.ProbeOptions{SkipZooKeeper: true})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The probe script, run by a real shell, on hosts where hactl was never
// installed: they are described without anything uploaded or left behind.
func TestProbeDescribesBareHosts(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	obs := probeLocal(t, c, hosts)
	for _, name := range []string{"p1", "p2", "p3"} {
		oh := obs.Hosts[name]
		if oh == nil || !oh.Reachable || oh.Error != "" || oh.RuntimeSHA256 != "" || oh.Supervisor ||
			len(oh.ConfigSHA256) != 0 || len(oh.Daemons) != 0 {
			t.Errorf("bare %s: %+v", name, oh)
		}
	}
	for _, k := range []struct{ host, key string }{{"p1", "ns1/nn1"}, {"p2", "ns1/nn2"}} {
		nn := obs.Hosts[k.host].NameNodes[k.key]
		if nn == nil || nn.Formatted || nn.HasData || nn.Nameservice != "ns1" {
			t.Errorf("%s: empty NameNode storage: %+v", k.host, nn)
		}
	}
	if n := len(obs.Hosts["p3"].NameNodes); n != 0 {
		t.Errorf("p3 runs no NameNode: %+v", obs.Hosts["p3"].NameNodes)
	}
	// Nothing was created on the hosts.
	if ents, err := os.ReadDir(filepath.Join(c.ConfigDir, ".hactl")); err == nil {
		t.Errorf("the probe created files on bare hosts: %v", ents)
	}

	if n, plan := formats(t, c, obs); n != 1 {
		t.Errorf("fresh cluster: %d format steps, want 1\n%s", n, plan)
	}
}

// formats plans c against obs: the number of format steps, and the plan.
func formats(t *testing.T, c *schema.Cluster, obs *planner.Observed) (int, string) {
	t.Helper()
	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planner.PlanDesired(d, obs, planner.Options{RuntimeSHA256: strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range plan.Steps {
		if s.Action == planner.ActFormatNameNode {
			n++
		}
	}
	var b strings.Builder
	plan.WriteText(&b)
	return n, b.String()
}

// A bare host (no hactl runtime, no config: say an older install whose
// binary was removed, or a destroy without --purge-data) whose NameNode and
// JournalNode dirs hold data: the probe reports it, and plan never formats.
func TestProbeBareHostWithDataIsNeverFormatted(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	hostFile(t, c, "p1", "/hdfs/name/current/VERSION", []byte("#Sat Nov 21\nnamespaceID=4242\nclusterID=CID-old\nstorageType=NAME_NODE\n"))
	hostFile(t, c, "p1", "/hdfs/name/current/seen_txid", []byte("117\n"))
	hostFile(t, c, "p2", "/hdfs/name/lost+found/x", []byte("x")) // data, no VERSION
	hostFile(t, c, "p3", "/hdfs/journal/ns1/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, c, "p3", "/hdfs/journal/ns1/current/last-promised-epoch", []byte("7\n"))
	hostFile(t, c, "p3", "/hdfs/journal/ns1/current/last-writer-epoch", []byte("6\n"))
	committed := make([]byte, 8)
	binary.BigEndian.PutUint64(committed, 115)
	hostFile(t, c, "p3", "/hdfs/journal/ns1/current/committed-txid", committed)
	hostFile(t, c, "p3", "/hdfs/journal/ns1/current/edits_0000000000000000001-0000000000000000100", nil)
	hostFile(t, c, "p3", "/hdfs/journal/ns1/current/edits_inprogress_0000000000000000101", nil)
	hostFile(t, c, "p2", "/hdfs/journal/ns1/current/paxos/101", []byte("p"))    // unformatted, paxos data only
	hostFile(t, c, "p1", "/hdfs/journal/.hidden/current/VERSION", []byte("x"))  // dot dirs are not journals
	hostFile(t, c, "p1", "/hdfs/journal/odd name/current/VERSION", []byte("x")) // nor names no journal ID can have

	obs := probeLocal(t, c, hosts)
	for _, h := range []string{"p1", "p2", "p3"} {
		if oh := obs.Hosts[h]; !oh.Reachable || oh.Error != "" {
			t.Fatalf("%s: %+v", h, oh)
		}
	}
	if nn := obs.Hosts["p1"].NameNodes["ns1/nn1"]; nn == nil || !nn.Formatted || !nn.HasData || nn.ClusterID != "CID-old" || nn.NamespaceID != 4242 || nn.LastTxid != 117 {
		t.Errorf("p1's formatted NameNode storage: %+v", nn)
	}
	if nn := obs.Hosts["p2"].NameNodes["ns1/nn2"]; nn == nil || nn.Formatted || !nn.HasData {
		t.Errorf("p2's non-empty NameNode storage: %+v", nn)
	}
	want := planner.ObservedJournal{JournalID: "ns1", Formatted: true, HasData: true, ClusterID: "CID-old", NamespaceID: 4242,
		LastPromisedEpoch: 7, LastWriterEpoch: 6, LastTxid: 101, CommittedTxid: 115, Dir: c.HostDir("p3", "/hdfs/journal/ns1")}
	if j := obs.Hosts["p3"].JournalNodes["ns1"]; j == nil || *j != want {
		t.Errorf("p3's journal:\n got %+v\nwant %+v", j, want)
	}
	if j := obs.Hosts["p2"].JournalNodes["ns1"]; j == nil || j.Formatted || !j.HasData {
		t.Errorf("p2's journal with paxos data: %+v", j)
	}
	if j := obs.Hosts["p1"].JournalNodes; len(j) != 0 {
		t.Errorf("p1: a dot dir or a name with a space taken for a journal: %+v", j)
	}

	if n, plan := formats(t, c, obs); n != 0 {
		t.Errorf("plan formats over data found by the probe:\n%s", plan)
	}
	// Only p2's NameNode dir holds something (no VERSION anywhere, journals
	// empty): still no format.
	os.RemoveAll(c.HostDir("p1", "/hdfs/name"))
	for _, h := range []string{"p1", "p2", "p3"} {
		os.RemoveAll(c.HostDir(h, "/hdfs/journal"))
	}
	if n, plan := formats(t, c, probeLocal(t, c, hosts)); n != 0 {
		t.Errorf("plan formats while p2's NameNode dir holds data:\n%s", plan)
	}
}

// A storage dir that cannot be listed (here: a file where the dir should be)
// is never called empty.
func TestProbeUnreadableStorageCountsAsData(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	hostFile(t, c, "p1", "/hdfs/name", []byte("not a dir"))
	hostFile(t, c, "p2", "/hdfs/journal/ns1/current", []byte("not a dir"))
	obs := probeLocal(t, c, hosts)
	oh := obs.Hosts["p1"]
	if nn := oh.NameNodes["ns1/nn1"]; nn == nil || !nn.HasData || !strings.Contains(oh.Error, "notdir") {
		t.Errorf("p1: %+v %+v", oh, nn)
	}
	oh = obs.Hosts["p2"]
	if j := oh.JournalNodes["ns1"]; j == nil || !j.HasData || !strings.Contains(oh.Error, "journal ns1: current dir notdir") {
		t.Errorf("p2: %+v %+v", oh, j)
	}
}

// standIn starts a stand-in daemon (the test binary, or a copy of it at
// exe when exe != "") in its own process group, listening on addr; it ends
// with the test.
func standIn(t *testing.T, exe, addr string) (pid, port int) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if exe != "" {
		data, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, data, 0o755); err != nil {
			t.Fatal(err)
		}
		self = exe
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), listenHelperEnv+"="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	port, _ = strconv.Atoi(strings.TrimSpace(line))
	return cmd.Process.Pid, port
}

// record writes the supervisor record of daemon name on host.
func record(t *testing.T, c *schema.Cluster, host, name string, child int, start uint64, env ...string) {
	t.Helper()
	p := c.PathsFor(host)
	b, _ := json.MarshalIndent(supervise.Record{Name: name, Argv: []string{"x"}, Env: env, ChildPID: child, ChildStart: start,
		StartedAt: 1700000000, State: supervise.StateRunning}, "", "  ")
	if err := os.MkdirAll(p.RunDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.RunDir, name+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Config hashes, ZooKeeper's myid and supervisor records are read by the
// shell on every host, here one whose runtime binary is gone: a live daemon
// (with the port it listens on), one whose PID was recycled, a stopped one,
// and one that runs a hactl binary its record does not name.
func TestProbeConfigAndDaemons(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	core := []byte("<configuration/>\n")
	hostFile(t, c, "p1", "/etc/hactl/core-site.xml", core)
	hostFile(t, c, "p1", "/etc/hactl/hdfs-site.xml", []byte("<configuration></configuration>\n"))
	hostFile(t, c, "p1", "/etc/hactl/cluster.secret", []byte("s3cret"))
	zdata := c.HostDir("p1", "/var/lib/zk")
	hostFile(t, c, "p1", "/etc/hactl/zookeeper/zoo.cfg", []byte("tickTime=200\n  dataDir="+zdata+"  \nclientPort=21981\n"))
	hostFile(t, c, "p1", "/var/lib/zk/myid", []byte("1\n"))

	pid, port := standIn(t, "", "127.0.2.1:0")
	record(t, c, "p1", "journalnode", pid, supervise.ProcStart(pid), "HACTL_CONFIG_SHA256=cafe")
	record(t, c, "p1", "namenode.ns1.nn1", pid, supervise.ProcStart(pid)+1) // a recycled PID is not our process
	// An earlier hactl's record (named without the nameservice): filed
	// under its identity, the record's name kept to stop it by.
	record(t, c, "p1", "zkfc-nn1", 0, 0)
	// A daemon started without HACTL_RUNTIME_SHA256 that runs a hactl
	// binary: the binary it runs is hashed.
	hactl := filepath.Join(t.TempDir(), "hactl")
	zpid, _ := standIn(t, hactl, "127.0.2.1:0")
	record(t, c, "p1", "zookeeper", zpid, supervise.ProcStart(zpid))

	oh := probeLocal(t, c, hosts).Hosts["p1"]
	if !oh.Reachable || oh.Error != "" || oh.RuntimeSHA256 != "" {
		t.Fatalf("p1: %+v", oh)
	}
	wantCfg := map[string]string{planner.FileCoreSite: sum(core), planner.FileHDFSSite: sum([]byte("<configuration></configuration>\n")),
		planner.FileSecret: sum([]byte("s3cret")), planner.FileZooKeeperID: sum([]byte("1\n")),
		planner.FileZooCfg: sum([]byte("tickTime=200\n  dataDir=" + zdata + "  \nclientPort=21981\n"))}
	for k, v := range wantCfg {
		if oh.ConfigSHA256[k] != v {
			t.Errorf("config %s: %q, want %q", k, oh.ConfigSHA256[k], v)
		}
	}
	if len(oh.ConfigSHA256) != len(wantCfg) {
		t.Errorf("config hashes: %v", oh.ConfigSHA256)
	}
	jn := oh.Daemons["journalnode"]
	if jn == nil || !jn.Running || jn.PID != pid || jn.ConfigSHA256 != "cafe" || jn.StartedAt != 1700000000 || len(jn.Listening) != 1 || jn.Listening[0] != port ||
		jn.RuntimeSHA256 != "" {
		t.Errorf("live daemon (pid %d, port %d): %+v", pid, port, jn)
	}
	if d := oh.Daemons["namenode.ns1.nn1"]; d == nil || d.Running || d.Record != "" {
		t.Errorf("recycled pid: %+v", d)
	}
	if d := oh.Daemons["zkfc.ns1.nn1"]; d == nil || d.Running || d.Record != "zkfc-nn1" || oh.Daemons["zkfc-nn1"] != nil {
		t.Errorf("stopped daemon of an earlier hactl: %+v (daemons %v)", d, oh.Daemons)
	}
	data, _ := os.ReadFile(hactl)
	if d := oh.Daemons["zookeeper"]; d == nil || !d.Running || d.RuntimeSHA256 != sum(data) {
		t.Errorf("daemon running %s: %+v", hactl, d)
	}
}

// installRuntime puts a stand-in runtime on p1 that prints out and exits rc.
func installRuntime(t *testing.T, c *schema.Cluster, out string, rc int) {
	t.Helper()
	bin := c.PathsFor("p1").Binary
	script := "#!/bin/sh\ncat <<'EOF'\n" + out + "\nEOF\necho \"args: $*\" >&2\nexit " + strconv.Itoa(rc) + "\n"
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// Where the runtime is installed its own probe reports only what needs it
// (version, HA state); everything else is the shell's, on this host as on a
// bare one: the combination has no field from both.
func TestProbeInstalledRuntimeCombinesWithTheShell(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	nameDir := c.HostDir("p1", "/hdfs/name")
	// The report of a runtime as old as the shell's single reading: it still
	// sends hashes and daemons (ignored) besides version and HA state.
	installRuntime(t, c, `{"runtime_version":"9.9","runtime_sha256":"`+strings.Repeat("b", 64)+`","supervisor":true,`+
		`"config_sha256":{"core-site.xml":"`+strings.Repeat("c", 64)+`"},"zookeeper_installed":true,`+
		`"daemons":{"journalnode":{"running":true,"pid":42}},"journals":{"ns1":{"journal_id":"ns1","has_data":true}},`+
		`"namenodes":{"ns1/nn1":{"nameservice":"ns1","id":"nn1","formatted":true,"has_data":true,"cluster_id":"wrong","ha_state":"standby","healthy":true,"last_txid":120}},`+
		`"storage_dirs":{"name_dirs":{"ns1/nn1":["`+nameDir+`"]},"edits_roots":["`+c.HostDir("p1", "/hdfs/journal")+`"]}}`, 0)
	hostFile(t, c, "p1", "/hdfs/name/current/VERSION", []byte("namespaceID=7\nclusterID=CID-7\n"))
	hostFile(t, c, "p1", "/hdfs/name/current/seen_txid", []byte("117\n"))
	hostFile(t, c, "p1", "/hdfs/journal/ns1/current/VERSION", []byte("namespaceID=7\nclusterID=CID-7\n"))
	// Not running yet: the HA state the runtime sent is not the daemon's.
	oh := probeLocal(t, c, hosts).Hosts["p1"]
	bin, _ := os.ReadFile(c.PathsFor("p1").Binary)
	if !oh.Reachable || oh.Error != "" || oh.RuntimeVersion != "9.9" || oh.RuntimeSHA256 != sum(bin) || !oh.Supervisor ||
		len(oh.Daemons) != 0 || len(oh.ConfigSHA256) != 0 {
		t.Fatalf("p1, facts taken from the runtime's report: %+v", oh)
	}
	want := planner.ObservedNameNode{Nameservice: "ns1", ID: "nn1", Formatted: true, HasData: true, ClusterID: "CID-7", NamespaceID: 7, LastTxid: 117,
		Dirs: []string{nameDir}}
	if nn := oh.NameNodes["ns1/nn1"]; nn == nil || !reflect.DeepEqual(*nn, want) {
		t.Errorf("NameNode that does not run:\n got %+v\nwant %+v", nn, want)
	}
	if j := oh.JournalNodes["ns1"]; j == nil || !j.Formatted || !j.HasData || j.ClusterID != "CID-7" {
		t.Errorf("journal: %+v", j)
	}
	// Its daemon runs (under an earlier hactl's record name, without the
	// nameservice): HA state, health and applied txid are the runtime's.
	pid, _ := standIn(t, "", "127.0.2.1:0")
	record(t, c, "p1", "namenode-nn1", pid, supervise.ProcStart(pid))
	oh = probeLocal(t, c, hosts).Hosts["p1"]
	want.HAState, want.Healthy, want.LastTxid = "standby", true, 120
	if nn := oh.NameNodes["ns1/nn1"]; !oh.Reachable || oh.Error != "" || nn == nil || !reflect.DeepEqual(*nn, want) || !oh.Daemons["namenode.ns1.nn1"].Running ||
		oh.Daemons["namenode.ns1.nn1"].Record != "namenode-nn1" {
		t.Errorf("running NameNode:\n got %+v %+v\nwant %+v", oh, nn, want)
	}
	// It runs but the runtime could not tell its HA state: unknown, and said.
	installRuntime(t, c, `{"runtime_version":"9.9","namenodes":{"ns1/nn1":{"nameservice":"ns1","id":"nn1"}}}`, 0)
	oh = probeLocal(t, c, hosts).Hosts["p1"]
	if nn := oh.NameNodes["ns1/nn1"]; !oh.Reachable || nn == nil || nn.HAState != "" || !strings.Contains(oh.Error, "namenode ns1/nn1 runs (pid "+strconv.Itoa(pid)+") but its HA state is unknown") {
		t.Errorf("running NameNode without HA state: %+v %+v", oh, nn)
	}

	// A runtime whose probe fails: the shell's description stands, and the
	// error says what is missing.
	installRuntime(t, c, "", 2)
	hostFile(t, c, "p1", "/etc/hactl/core-site.xml", []byte("<configuration/>"))
	oh = probeLocal(t, c, hosts).Hosts["p1"]
	bin, _ = os.ReadFile(c.PathsFor("p1").Binary)
	p := c.PathsFor("p1")
	args := "args: runtime probe --conf " + p.ConfDir + " --install-dir " + p.InstallDir + " --address 127.0.2.1"
	if !oh.Reachable || !strings.Contains(oh.Error, "installed runtime's probe failed (exit 2: "+args+"); its version and the NameNodes' HA state are unknown") ||
		oh.RuntimeSHA256 != sum(bin) || oh.RuntimeVersion != "unknown" || oh.ConfigSHA256[planner.FileCoreSite] == "" || !oh.Daemons["namenode.ns1.nn1"].Running {
		t.Errorf("failing runtime: %+v", oh)
	}
	if nn := oh.NameNodes["ns1/nn1"]; nn == nil || !nn.Formatted || nn.HAState != "" {
		t.Errorf("failing runtime: storage not reported, or HA state guessed: %+v", nn)
	}
	// Its output is garbage: the host's state is unknown, never guessed empty.
	installRuntime(t, c, "not json", 0)
	oh = probeLocal(t, c, hosts).Hosts["p1"]
	if oh.Reachable || !strings.Contains(oh.Error, "bad output") {
		t.Errorf("garbage probe output: %+v", oh)
	}
}

// The runtime's checksum is its sidecar's (apply writes it after a checked
// upload) unless the binary is newer; then the shell hashes the binary.
func TestProbeRuntimeChecksumFromSidecarUnlessStale(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	installRuntime(t, c, `{"runtime_version":"9.9"}`, 0)
	bin := c.PathsFor("p1").Binary
	sidecar := strings.Repeat("c", 64)
	hostFile(t, c, "p1", "/opt/hactl/bin/hactl.sha256", []byte(sidecar+"  hactl\n"))
	if oh := probeLocal(t, c, hosts).Hosts["p1"]; oh.RuntimeSHA256 != sidecar || oh.RuntimeVersion != "9.9" || oh.Error != "" {
		t.Errorf("with a current sidecar: %+v", oh)
	}
	data, _ := os.ReadFile(bin)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(bin+".sha256", old, old)
	if oh := probeLocal(t, c, hosts).Hosts["p1"]; oh.RuntimeSHA256 != sum(data) {
		t.Errorf("stale sidecar trusted: %+v", oh)
	}
	os.Chtimes(bin+".sha256", time.Now(), time.Now())
	hostFile(t, c, "p1", "/opt/hactl/bin/hactl.sha256", []byte("not a checksum\n"))
	if oh := probeLocal(t, c, hosts).Hosts["p1"]; oh.RuntimeSHA256 != sum(data) {
		t.Errorf("garbage sidecar trusted: %+v", oh)
	}
}

// The configuration installed on a host names other storage dirs than the
// cluster configuration does now (name_dir and edits_dir changed, or the
// NameNode moved away): the data in the dirs the host still uses is read
// (by the same shell), and plan never formats over it.
func TestProbeReadsTheInstalledConfigurationsDirs(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	oldName, oldJournal := c.HostDir("p1", "/old/name"), c.HostDir("p1", "/old/journal")
	installRuntime(t, c, `{"runtime_version":"9.9","supervisor":true,"namenodes":{"ns1/nn1":{"nameservice":"ns1","id":"nn1","ha_state":"active","healthy":true}},`+
		`"storage_dirs":{"name_dirs":{"ns1/nn1":["`+oldName+`"],"ns1/nn9":["`+oldName+`9"]},"edits_roots":["`+oldJournal+`"]}}`, 0)
	hostFile(t, c, "p1", "/old/name/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, c, "p1", "/old/name9/x", []byte("x"))
	hostFile(t, c, "p1", "/old/journal/ns1/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, c, "p1", "/old/journal/ns1/current/edits_inprogress_0000000000000000042", nil)
	pid, _ := standIn(t, "", "127.0.2.1:0")
	record(t, c, "p1", "namenode.ns1.nn1", pid, supervise.ProcStart(pid))
	obs := probeLocal(t, c, hosts)
	oh := obs.Hosts["p1"]
	if !oh.Reachable || oh.Error != "" {
		t.Fatalf("p1: %+v", oh)
	}
	if nn := oh.NameNodes["ns1/nn1"]; nn == nil || !nn.Formatted || !nn.HasData || nn.ClusterID != "CID-old" || nn.HAState != "active" {
		t.Errorf("nn1, formatted in the installed configuration's dir: %+v", nn)
	}
	if nn := oh.NameNodes["ns1/nn9"]; nn == nil || nn.Formatted || !nn.HasData {
		t.Errorf("nn9, only in the installed configuration: %+v", nn)
	}
	if j := oh.JournalNodes["ns1"]; j == nil || !j.Formatted || !j.HasData || j.LastTxid != 42 {
		t.Errorf("journal in the installed configuration's edits dir: %+v", j)
	}
	if n, plan := formats(t, c, obs); n != 0 {
		t.Errorf("plan formats over the data of the installed configuration's dirs:\n%s", plan)
	}
}

// uname is what `uname -s -m` says on a machine that runs this hactl.
func uname() string {
	m := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686"}[runtime.GOARCH]
	if m == "" {
		m = runtime.GOARCH
	}
	return "os Linux " + m + "\n"
}

// With the recording fake: one sudo round trip per host and no upload; a
// host that answers with something other than a description, or not at all,
// is unreachable with the reason.
func TestProbeAllOneRoundTripNoUpload(t *testing.T) {
	c := &schema.Cluster{
		Hosts:  []*schema.Host{{Name: "a", Address: "10.0.0.1"}, {Name: "b", Address: "10.0.0.2"}, {Name: "c", Address: "10.0.0.3"}, {Name: "d", Address: "10.0.0.4"}, {Name: "e", Address: "10.0.0.5"}},
		Target: &schema.Target{Kind: schema.TargetSSH},
		Nameservices: []*schema.Nameservice{{Name: "ns", NameDirs: []string{"/data/nn"},
			NameNodes: []*schema.NameNode{{ID: "nn1", Host: "a"}, {ID: "nn2", Host: "b"}, {ID: "nn3", Host: "g"}, {ID: "nn4", Host: "i"}}}},
	}
	a := fake.New("a", "10.0.0.1")
	a.On(fake.IsProbe, "hactl-preflight 1\n"+uname()+"nn0 dir absent\nend\n", 0)
	// b: installed; the shell saw a live journalnode (pid 42) and a
	// namenode.ns.nn2 whose pid 43 now belongs to a process started later, and
	// the runtime's probe reports nn2 active: not that daemon's state.
	rec := func(name string, pid int, start uint64, env ...string) string {
		data, _ := json.MarshalIndent(supervise.Record{Name: name, ChildPID: pid, ChildStart: start, Env: env}, "", "  ")
		return "rec:" + name + " " + hex.EncodeToString(data) + "\n"
	}
	stat := func(pid int, start uint64) string {
		line := strconv.Itoa(pid) + " (java) S 1 " + strconv.Itoa(pid) + " " + strconv.Itoa(pid) + " 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 " + strconv.FormatUint(start, 10) + " 1 1\n"
		return "stat:" + strconv.Itoa(pid) + " " + hex.EncodeToString([]byte(line)) + "\n"
	}
	b := fake.New("b", "10.0.0.2")
	b.On(fake.IsProbe, "hactl-preflight 1\n"+uname()+"nn0 dir full\nnn0.version "+hex.EncodeToString([]byte("clusterID=x-1\n"))+"\n"+
		"bin sha "+strings.Repeat("d", 64)+"\n"+rec("journalnode", 42, 1000, "HACTL_RUNTIME_SHA256="+strings.Repeat("e", 64))+stat(42, 1000)+
		rec("namenode.ns.nn2", 43, 1000)+stat(43, 2000)+rec("zkfc.ns.nn2", 45, 1000)+stat(45, 1000)+"exe:45 /opt/hactl/bin/hactl\n"+
		"listen 777 0100007F:1F90\nsock 42 777\ninstalled\n"+
		`{"runtime_version":"1.0","namenodes":{"ns/nn2":{"nameservice":"ns","id":"nn2","ha_state":"active","healthy":true}},"storage_dirs":{"name_dirs":{"ns/nn2":["/data/nn"]}}}`+
		"\nprobe-exit 0\nend\n", 0)
	cc := fake.New("c", "10.0.0.3")
	cc.Unreachable = true
	d := fake.New("d", "10.0.0.4")
	d.On(fake.IsProbe, "hactl-preflight 1\n"+uname(), 0) // cut short
	e := fake.New("e", "10.0.0.5")
	e.On(fake.IsProbe, "", 1).Result.Stderr = []byte("sudo: a password is required")
	f := fake.New("f", "10.0.0.6")
	f.On(fake.IsProbe, "hactl-preflight 1\nos Linux sparc64\nend\n", 0)
	// g's installed configuration names other dirs: a second round trip
	// reads them all; i's second answer is cut short.
	installed := func(nn string) string {
		return "hactl-preflight 1\n" + uname() + "nn0 dir absent\n" + rec("namenode.ns."+nn, 44, 1000) + stat(44, 1000) + "installed\n" +
			strings.ReplaceAll(`{"runtime_version":"1.0","namenodes":{"ns/NN":{"nameservice":"ns","id":"NN","ha_state":"active"}},`+
				`"storage_dirs":{"name_dirs":{"ns/NN":["/old/nn"]},"edits_roots":["/old/jn"]}}`, "NN", nn) + "\nprobe-exit 0\nend\n"
	}
	g := fake.New("g", "10.0.0.7")
	g.On(fake.IsProbe, installed("nn3"), 0).Times = 1
	g.On(fake.IsProbe, "hactl-preflight 1\nnn0 dir absent\nnn1 dir full\nnn1.version "+hex.EncodeToString([]byte("clusterID=old-1\n"))+
		"\njn0:ns journal\njn0:ns dir full\njn0:ns ent edits_inprogress_0000000000000000007\nend\n", 0)
	i := fake.New("i", "10.0.0.8")
	i.On(fake.IsProbe, installed("nn4"), 0).Times = 1
	i.On(fake.IsProbe, "hactl-preflight 1\nnn0 dir absent\n", 0)
	// k's installed probe failed and the output ends there.
	k := fake.New("k", "10.0.0.9")
	k.On(fake.IsProbe, "hactl-preflight 1\n"+uname()+"installed\n{}\nprobe-exit 3\n", 0)
	// m's installed configuration names a relative name dir: its storage
	// cannot be described.
	m := fake.New("m", "10.0.0.10")
	m.On(fake.IsProbe, "hactl-preflight 1\n"+uname()+"installed\n"+`{"storage_dirs":{"name_dirs":{"ns/nn9":["rel/nn"]}}}`+"\nprobe-exit 0\nend\n", 0)
	c.Hosts = append(c.Hosts, &schema.Host{Name: "f", Address: "10.0.0.6"}, &schema.Host{Name: "g", Address: "10.0.0.7"},
		&schema.Host{Name: "i", Address: "10.0.0.8"}, &schema.Host{Name: "k", Address: "10.0.0.9"}, &schema.Host{Name: "m", Address: "10.0.0.10"})
	hosts := map[string]targets.Host{"a": a, "b": b, "c": cc, "d": d, "e": e, "f": f, "g": g, "i": i, "k": k, "m": m}
	obs, err := targets.ProbeAll(context.Background(), c, hosts, targets.ProbeOptions{SkipZooKeeper: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*fake.Host{a, b, d, e, f} {
		calls := h.Calls()
		if p, ok := calls[0].Op.(fake.Probe); len(calls) != 1 || !calls[0].Sudo || !ok || !p.RuntimeProbe || p.Address != h.Addr {
			t.Errorf("%s: want one sudo round trip, got %+v", h.HostName, h.Ops())
		}
	}
	for _, h := range []*fake.Host{g, i} {
		calls := h.Calls()
		if len(calls) != 2 || !calls[1].Sudo || !reflect.DeepEqual(calls[1].Op, fake.Probe{NameDirs: []string{"/data/nn", "/old/nn"}, EditsRoots: []string{"/old/jn"}}) {
			t.Errorf("%s: want the probe, then one sudo round trip reading every storage dir, got %+v", h.HostName, h.Ops())
		}
	}
	og := obs.Hosts["g"]
	if nn := og.NameNodes["ns/nn3"]; !og.Reachable || og.Error != "" || nn == nil || !nn.Formatted || !nn.HasData || nn.ClusterID != "old-1" || nn.HAState != "active" {
		t.Errorf("g: %+v, nn3 %+v", og, nn)
	}
	if j := og.JournalNodes["ns"]; j == nil || !j.HasData || j.LastTxid != 7 {
		t.Errorf("g's journal in the installed edits dir: %+v", j)
	}
	if om := obs.Hosts["m"]; om.Reachable || !strings.Contains(om.Error, `name dir "rel/nn", which the probe cannot read`) || len(m.Calls()) != 1 {
		t.Errorf("m, an unreadable installed name dir: %+v", om)
	}
	if ok := obs.Hosts["k"]; ok.Reachable || !strings.Contains(ok.Error, "could not be read") {
		t.Errorf("k, cut short after a failed runtime probe: %+v", ok)
	}
	if oi := obs.Hosts["i"]; oi.Reachable || !strings.Contains(oi.Error, "could not be read") {
		t.Errorf("i, second round trip cut short: %+v", oi)
	}
	if oa := obs.Hosts["a"]; !oa.Reachable || oa.Error != "" || oa.NameNodes["ns/nn1"] == nil || oa.NameNodes["ns/nn1"].HasData {
		t.Errorf("a: %+v", oa)
	}
	if of := obs.Hosts["f"]; !of.Reachable || !strings.Contains(of.Error, "sparc64, this hactl is linux/"+runtime.GOARCH) {
		t.Errorf("f, another architecture: %+v", of)
	}
	ob := obs.Hosts["b"]
	jn := ob.Daemons["journalnode"]
	if !ob.Reachable || ob.Error != "" || ob.RuntimeVersion != "1.0" || ob.RuntimeSHA256 != strings.Repeat("d", 64) || !ob.Supervisor ||
		jn == nil || !jn.Running || jn.PID != 42 || !slices.Equal(jn.Listening, []int{8080}) || jn.RuntimeSHA256 != strings.Repeat("e", 64) {
		t.Errorf("b: %+v, journalnode %+v", ob, jn)
	}
	if d := ob.Daemons["zkfc.ns.nn2"]; d == nil || !d.Running || d.RuntimeSHA256 != strings.Repeat("d", 64) {
		t.Errorf("b's zkfc.ns.nn2, running the installed binary: %+v", d)
	}
	if d := ob.Daemons["namenode.ns.nn2"]; d == nil || d.Running || d.PID != 0 {
		t.Errorf("b's namenode.ns.nn2 with a recycled pid: %+v", d)
	}
	if nn := ob.NameNodes["ns/nn2"]; nn == nil || !nn.Formatted || !nn.HasData || nn.ClusterID != "x-1" || nn.HAState != "" || nn.Healthy {
		t.Errorf("b's NameNode: storage from the shell, no HA state while its daemon does not run: %+v", nn)
	}
	if oc := obs.Hosts["c"]; oc.Reachable || !strings.Contains(oc.Error, "unreachable") {
		t.Errorf("c: %+v (an unreachable host must say so, not be guessed)", oc)
	}
	if od := obs.Hosts["d"]; od.Reachable || !strings.Contains(od.Error, "could not be read") {
		t.Errorf("d, output cut short: %+v", od)
	}
	if oe := obs.Hosts["e"]; oe.Reachable || !strings.Contains(oe.Error, "password is required") {
		t.Errorf("e, sudo refused: %+v", oe)
	}
}

// The previous release's runtime runs its probe only for a caller that sets
// HACTL_PROBE_REPORT=2: the preflight sets it, so a cluster that release
// runs is probed with its NameNodes' HA states (an upgrade rolls them
// standby first).
func TestProbeOfThePreviousReleasesRuntime(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	installRuntime(t, c, "", 0)
	bin := c.PathsFor("p1").Binary
	script := "#!/bin/sh\nif [ \"$HACTL_PROBE_REPORT\" != 2 ]; then echo 'Error: the caller must set HACTL_PROBE_REPORT=2' >&2; exit 3; fi\n" +
		"echo '{\"runtime_version\":\"0.1.0\",\"namenodes\":{\"ns1/nn1\":{\"nameservice\":\"ns1\",\"id\":\"nn1\",\"ha_state\":\"active\",\"healthy\":true}}}'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	pid, _ := standIn(t, "", "127.0.2.1:0")
	record(t, c, "p1", "namenode-nn1", pid, supervise.ProcStart(pid))
	oh := probeLocal(t, c, hosts).Hosts["p1"]
	if nn := oh.NameNodes["ns1/nn1"]; oh.Error != "" || oh.RuntimeVersion != "0.1.0" || nn == nil || nn.HAState != "active" {
		t.Errorf("the previous release's runtime: error %q version %q namenode %+v", oh.Error, oh.RuntimeVersion, nn)
	}
}
