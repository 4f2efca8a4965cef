package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/supervise"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeRecord(t *testing.T, runDir string, r supervise.Record) {
	t.Helper()
	data, _ := json.Marshal(r)
	write(t, supervise.RecordPath(runDir, r.Name), string(data))
}

// host builds one host's tree: config for nameservice ns with nn1 on this
// host (10.0.0.1) and nn2 elsewhere, a JournalNode edits dir.
type host struct {
	root, conf, run, install, name1, name2, edits string
}

func newHost(t *testing.T, nnHTTP string) host {
	root := t.TempDir()
	h := host{root: root, conf: filepath.Join(root, "etc"), run: filepath.Join(root, "run"),
		install: filepath.Join(root, "opt"), name1: filepath.Join(root, "nn1a"), name2: filepath.Join(root, "nn1b"),
		edits: filepath.Join(root, "jn")}
	core := hadoopconf.New()
	core.Set("fs.defaultFS", "hdfs://ns")
	core.Set(auth.ConfKey, filepath.Join(h.conf, "cluster.secret"))
	hdfs := hadoopconf.New()
	hdfs.Set("dfs.nameservices", "ns")
	hdfs.Set("dfs.ha.namenodes.ns", "nn1,nn2")
	hdfs.Set("dfs.namenode.rpc-address.ns.nn1", "10.0.0.1:8020")
	hdfs.Set("dfs.namenode.rpc-address.ns.nn2", "10.0.0.2:8020")
	hdfs.Set("dfs.namenode.http-address.ns.nn1", nnHTTP)
	hdfs.Set("dfs.namenode.name.dir", h.name1+",file://"+h.name2)
	hdfs.Set("dfs.journalnode.edits.dir", h.edits)
	write(t, filepath.Join(h.conf, "core-site.xml"), string(core.Marshal()))
	write(t, filepath.Join(h.conf, "hdfs-site.xml"), string(hdfs.Marshal()))
	write(t, filepath.Join(h.conf, "cluster.secret"), "0123456789abcdef0123456789abcdef\n")
	return h
}

func TestGatherBareHost(t *testing.T) {
	dir := t.TempDir()
	obs, err := Gather(context.Background(), Options{ConfDir: filepath.Join(dir, "etc"), RunDir: filepath.Join(dir, "run"),
		InstallDir: filepath.Join(dir, "opt"), Address: "10.0.0.1", ZooKeeperJar: filepath.Join(dir, "none.jar")})
	if err != nil {
		t.Fatal(err)
	}
	if obs.RuntimeVersion != "" || obs.RuntimeSHA256 != "" || obs.Supervisor || len(obs.ConfigSHA256) != 0 ||
		len(obs.Daemons) != 0 || len(obs.NameNodes) != 0 || len(obs.JournalNodes) != 0 || obs.ZooKeeperInstalled || obs.Error != "" {
		t.Errorf("bare host: %+v", obs)
	}
	if obs.Storage != nil {
		t.Errorf("storage dirs without a config: %+v", obs.Storage)
	}
}

// The runtime reports daemons, HA state and the storage dirs its
// configuration names, and never what those dirs hold: storage has one
// reader, the caller's shell (targets/preflight.go).
func TestGatherDaemonsHAStateAndStorageDirs(t *testing.T) {
	var h host
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, _ := auth.LoadSecret(filepath.Join(h.conf, "cluster.secret"))
		if err := auth.VerifyRequest(r, secret, time.Now()); err != nil {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/ha/status":
			w.Write([]byte(`{"state":"active","readyToBecomeActive":true,"nameservice":"ns","namenodeId":"nn1","lastAppliedTxid":57,"epoch":3}`))
		case "/ha/health":
			w.Write([]byte(`{"healthy":true}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	h = newHost(t, strings.TrimPrefix(srv.URL, "http://"))

	// Installed runtime, the same binary as "self".
	write(t, filepath.Join(h.install, "bin", "hactl"), "binary-v1")
	// Storage that holds data: not this package's to read.
	write(t, filepath.Join(h.name1, "current", "VERSION"), "#Fri\nnamespaceID=4711\nclusterID=CID-abc\ncTime=0\nstorageType=NAME_NODE\n")
	write(t, filepath.Join(h.edits, "ns", "current", "VERSION"), "namespaceID=4711\nclusterID=CID-abc\nstorageType=JOURNAL_NODE\n")
	// Managed ZooKeeper config and myid.
	zk := filepath.Join(h.root, "zkdata")
	write(t, filepath.Join(h.conf, "zookeeper", "zoo.cfg"), "tickTime=2000\ndataDir="+zk+"\n")
	write(t, filepath.Join(zk, "myid"), "1\n")
	jar := filepath.Join(h.root, "zookeeper.jar")
	write(t, jar, "jar")

	// Supervisor records: nn1 "running" (this test process stands in for
	// it), a journalnode that died.
	me := os.Getpid()
	writeRecord(t, h.run, supervise.Record{Name: "namenode-nn1", Argv: []string{"hactl"}, ChildPID: me, ChildStart: supervise.ProcStart(me),
		StartedAt: 1700000000, State: supervise.StateRunning, Env: []string{EnvConfigSHA256 + "=cafe"}})
	writeRecord(t, h.run, supervise.Record{Name: "journalnode", Argv: []string{"hactl"}, ChildPID: 1 << 22, State: supervise.StateRunning})

	obs, err := Gather(context.Background(), Options{ConfDir: h.conf, RunDir: h.run, InstallDir: h.install,
		Address: "10.0.0.1", Version: "1.2.3", Self: filepath.Join(h.install, "bin", "hactl"), ZooKeeperJar: jar})
	if err != nil {
		t.Fatal(err)
	}
	if obs.Error != "" {
		t.Errorf("error: %s", obs.Error)
	}
	if obs.RuntimeVersion != "1.2.3" || obs.RuntimeSHA256 != sha("binary-v1") || !obs.Supervisor || !obs.ZooKeeperInstalled {
		t.Errorf("runtime: %q %q %v zk=%v", obs.RuntimeVersion, obs.RuntimeSHA256, obs.Supervisor, obs.ZooKeeperInstalled)
	}
	for _, k := range []string{"core-site.xml", "hdfs-site.xml", "cluster.secret", "zoo.cfg", "myid"} {
		if len(obs.ConfigSHA256[k]) != 64 {
			t.Errorf("config hash of %s missing: %v", k, obs.ConfigSHA256)
		}
	}
	if obs.ConfigSHA256["myid"] != sha("1\n") {
		t.Errorf("myid hash = %s", obs.ConfigSHA256["myid"])
	}
	want := planner.ObservedNameNode{Nameservice: "ns", ID: "nn1", HAState: "active", Healthy: true, LastTxid: 57}
	if nn := obs.NameNodes["ns/nn1"]; nn == nil || *nn != want {
		t.Errorf("namenode nn1 (HA state only, storage is the shell's):\n got %+v\nwant %+v", nn, want)
	}
	if _, ok := obs.NameNodes["ns/nn2"]; ok {
		t.Error("nn2 lives on another host but was reported here")
	}
	if len(obs.JournalNodes) != 0 {
		t.Errorf("journal storage read by the runtime: %+v", obs.JournalNodes)
	}
	wantDirs := &StorageDirs{NameDirs: map[string][]string{"ns/nn1": {h.name1, h.name2}}, EditsRoots: []string{h.edits}}
	if !reflect.DeepEqual(obs.Storage, wantDirs) {
		t.Errorf("storage dirs:\n got %+v\nwant %+v", obs.Storage, wantDirs)
	}
	d := obs.Daemons["namenode-nn1"]
	if d == nil || !d.Running || d.PID != me || d.StartedAt != 1700000000 || d.ConfigSHA256 != "cafe" {
		t.Errorf("daemon namenode-nn1: %+v", d)
	}
	if jn := obs.Daemons["journalnode"]; jn == nil || jn.Running || jn.PID != 0 {
		t.Errorf("dead journalnode reported as %+v", jn)
	}
	// The wire form: one JSON object, the storage dirs beside the host's fields.
	b, err := json.Marshal(obs)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]json.RawMessage
	json.Unmarshal(b, &wire)
	if wire["storage_dirs"] == nil || wire["runtime_version"] == nil || wire["namenodes"] == nil || wire["journals"] != nil {
		t.Errorf("JSON: %s", b)
	}
}

// Storage dirs as Hadoop resolves them: the most specific suffixed name dir
// key wins, file:// is stripped, per-nameservice edits dirs count too.
func TestStorageDirsAsHadoopResolvesThem(t *testing.T) {
	h := newHost(t, "127.0.0.1:1")
	hdfs := hadoopconf.New()
	hdfs.Set("dfs.nameservices", "ns,other")
	hdfs.Set("dfs.ha.namenodes.ns", "nn1,nn2")
	hdfs.Set("dfs.ha.namenodes.other", "o1")
	hdfs.Set("dfs.namenode.rpc-address.ns.nn1", "10.0.0.1:8020")
	hdfs.Set("dfs.namenode.rpc-address.ns.nn2", "10.0.0.2:8020")
	hdfs.Set("dfs.namenode.rpc-address.other.o1", "10.0.0.1:8021")
	hdfs.Set("dfs.namenode.name.dir", "/generic")
	hdfs.Set("dfs.namenode.name.dir.ns.nn1", "file:///a,/b")
	hdfs.Set("dfs.journalnode.edits.dir", "file:///jn")
	hdfs.Set("dfs.journalnode.edits.dir.other", "/jn-other")
	write(t, filepath.Join(h.conf, "hdfs-site.xml"), string(hdfs.Marshal()))
	obs, _ := Gather(context.Background(), Options{ConfDir: h.conf, RunDir: h.run, InstallDir: h.install, Address: "10.0.0.1"})
	want := &StorageDirs{NameDirs: map[string][]string{"ns/nn1": {"/a", "/b"}, "other/o1": {"/generic"}}, EditsRoots: []string{"/jn", "/jn-other"}}
	if !reflect.DeepEqual(obs.Storage, want) {
		t.Errorf("storage dirs:\n got %+v\nwant %+v", obs.Storage, want)
	}
	for _, nn := range obs.NameNodes {
		if nn.Formatted || nn.HasData || nn.HAState != "" {
			t.Errorf("a NameNode that does not run: %+v", nn)
		}
	}
}

func TestHAStateOfUnreachableNameNodeIsAnErrorNotAGuess(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	h := newHost(t, addr)
	me := os.Getpid()
	writeRecord(t, h.run, supervise.Record{Name: "namenode-nn1", ChildPID: me, ChildStart: supervise.ProcStart(me), State: supervise.StateRunning})
	obs, _ := Gather(context.Background(), Options{ConfDir: h.conf, RunDir: h.run, InstallDir: h.install, Address: "10.0.0.1", HTTPTimeout: time.Second})
	if nn := obs.NameNodes["ns/nn1"]; nn == nil || nn.HAState != "" || nn.Healthy {
		t.Errorf("namenode: %+v", nn)
	}
	if !strings.Contains(obs.Error, "HA state") {
		t.Errorf("error = %q, want the failed HA call named", obs.Error)
	}
}

func TestListeningPortsByProcessGroup(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	got := listeningByGroup()[syscall.Getpgrp()]
	if !slices.Contains(got, port) {
		t.Errorf("ports of our group = %v, want %d among them", got, port)
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestRuntimeChecksumFromSidecarUnlessStale(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "opt", "bin", "hactl")
	write(t, bin, "#!/bin/sh\necho 'hactl 9.9.9 (go, linux/amd64)'\n")
	os.Chmod(bin, 0o755)
	sidecar := strings.Repeat("c", 64)
	write(t, bin+".sha256", sidecar+"  hactl\n")
	opts := Options{ConfDir: filepath.Join(dir, "etc"), RunDir: filepath.Join(dir, "run"), InstallDir: filepath.Join(dir, "opt"), Address: "x"}
	obs, _ := Gather(context.Background(), opts)
	if obs.RuntimeSHA256 != sidecar || obs.RuntimeVersion != "9.9.9" {
		t.Errorf("with a current sidecar: %q %q", obs.RuntimeSHA256, obs.RuntimeVersion)
	}
	// The binary replaced after its checksum was written: hash it.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(bin+".sha256", old, old)
	obs, _ = Gather(context.Background(), opts)
	data, _ := os.ReadFile(bin)
	if obs.RuntimeSHA256 != sha(string(data)) {
		t.Errorf("stale sidecar trusted: %q", obs.RuntimeSHA256)
	}
}
