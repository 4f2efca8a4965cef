package probe

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
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
	rep, err := Gather(context.Background(), Options{ConfDir: filepath.Join(dir, "etc"),
		InstallDir: filepath.Join(dir, "opt"), Address: "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep, &Report{}) {
		t.Errorf("bare host: %+v", rep)
	}
}

// The runtime reports its version, the HA state of its running NameNodes
// and the storage dirs its configuration names, and nothing a shell can read
// (hashes, supervisor records, daemons, storage contents): those have one
// reader, the caller's shell (targets/preflight.go).
func TestGatherHAStateAndStorageDirs(t *testing.T) {
	var h host
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, _ := auth.LoadSecret(filepath.Join(h.conf, "cluster.secret"))
		if err := auth.NewVerifier(secret).Verify(r); err != nil {
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
	// Storage, config hashes, supervisor records: not this package's to read.
	write(t, filepath.Join(h.name1, "current", "VERSION"), "#Fri\nnamespaceID=4711\nclusterID=CID-abc\ncTime=0\nstorageType=NAME_NODE\n")
	write(t, filepath.Join(h.edits, "ns", "current", "VERSION"), "namespaceID=4711\nclusterID=CID-abc\nstorageType=JOURNAL_NODE\n")
	write(t, filepath.Join(h.conf, "zookeeper", "zoo.cfg"), "tickTime=2000\ndataDir="+filepath.Join(h.root, "zk")+"\n")
	me := os.Getpid()
	writeRecord(t, h.run, supervise.Record{Name: "namenode-nn1", Argv: []string{"hactl"}, ChildPID: me, ChildStart: supervise.ProcStart(me),
		StartedAt: 1700000000, State: supervise.StateRunning})

	rep, err := Gather(context.Background(), Options{ConfDir: h.conf, InstallDir: h.install,
		Address: "10.0.0.1", Version: "1.2.3", Self: filepath.Join(h.install, "bin", "hactl")})
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		RuntimeVersion: "1.2.3",
		NameNodes:      map[string]*NameNode{"ns/nn1": {Nameservice: "ns", ID: "nn1", HAState: "active", Healthy: true, LastAppliedTxid: 57}},
		Storage:        &StorageDirs{NameDirs: map[string][]string{"ns/nn1": {h.name1, h.name2}}, EditsRoots: []string{h.edits}},
	}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report:\n got %s\nwant %s", js(rep), js(want))
	}
	// The wire form: one JSON object, with no field a shell can read.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]json.RawMessage
	json.Unmarshal(b, &wire)
	for _, k := range []string{"runtime_sha256", "config_sha256", "daemons", "journals", "supervisor", "zookeeper_installed"} {
		if wire[k] != nil {
			t.Errorf("JSON has %s, which the caller's shell reads: %s", k, b)
		}
	}
	if wire["storage_dirs"] == nil || wire["runtime_version"] == nil || wire["namenodes"] == nil {
		t.Errorf("JSON: %s", b)
	}
}

// Storage dirs as Hadoop resolves them: the most specific suffixed name dir
// key wins, file:// is stripped, per-nameservice edits dirs count too.
func TestStorageDirsAsHadoopResolvesThem(t *testing.T) {
	h := newHost(t, refusedAddr(t))
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
	rep, _ := Gather(context.Background(), Options{ConfDir: h.conf, InstallDir: h.install, Address: "10.0.0.1"})
	want := &StorageDirs{NameDirs: map[string][]string{"ns/nn1": {"/a", "/b"}, "other/o1": {"/generic"}}, EditsRoots: []string{"/jn", "/jn-other"}}
	if !reflect.DeepEqual(rep.Storage, want) {
		t.Errorf("storage dirs:\n got %+v\nwant %+v", rep.Storage, want)
	}
	if len(rep.NameNodes) != 2 || rep.NameNodes["ns/nn2"] != nil {
		t.Errorf("local NameNodes: %s", js(rep.NameNodes))
	}
}

// refusedAddr is a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Nothing listening at a NameNode's HTTP address is a NameNode that does not
// run (whether its daemon should is the caller's to judge, from the
// supervisor records); anything else that keeps it from answering is an
// error, never a guess.
func TestHAStateOfNameNodeThatDoesNotAnswer(t *testing.T) {
	h := newHost(t, refusedAddr(t))
	rep, _ := Gather(context.Background(), Options{ConfDir: h.conf, InstallDir: h.install, Address: "10.0.0.1", HTTPTimeout: time.Second})
	if nn := rep.NameNodes["ns/nn1"]; nn == nil || nn.HAState != "" || nn.Healthy || rep.Error != "" {
		t.Errorf("nothing listens: %+v, error %q", nn, rep.Error)
	}

	// Something listens but does not speak the NameNode's HTTP.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	h = newHost(t, strings.TrimPrefix(srv.URL, "http://"))
	rep, _ = Gather(context.Background(), Options{ConfDir: h.conf, InstallDir: h.install, Address: "10.0.0.1", HTTPTimeout: time.Second})
	if nn := rep.NameNodes["ns/nn1"]; nn == nil || nn.HAState != "" || nn.Healthy || !strings.Contains(rep.Error, "namenode ns/nn1 HA state: HTTP 500") {
		t.Errorf("HTTP 500: %+v, error %q", nn, rep.Error)
	}
	// It answers, but the cluster secret cannot be read to sign the call.
	os.Remove(filepath.Join(h.conf, "cluster.secret"))
	rep, _ = Gather(context.Background(), Options{ConfDir: h.conf, InstallDir: h.install, Address: "10.0.0.1", HTTPTimeout: time.Second})
	if !strings.Contains(rep.Error, "namenode ns/nn1 HA state") || rep.NameNodes["ns/nn1"].HAState != "" {
		t.Errorf("no secret: %+v", rep)
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The installed binary is asked for its version when it is not the one
// running the probe.
func TestVersionOfAnotherInstalledBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "opt", "bin", "hactl")
	write(t, bin, "#!/bin/sh\necho 'hactl 9.9.9 (go, linux/amd64)'\n")
	os.Chmod(bin, 0o755)
	self := filepath.Join(dir, "self")
	write(t, self, "x")
	opts := Options{ConfDir: filepath.Join(dir, "etc"), InstallDir: filepath.Join(dir, "opt"), Address: "x", Version: "1.0", Self: self}
	if rep, _ := Gather(context.Background(), opts); rep.RuntimeVersion != "9.9.9" || rep.Error != "" {
		t.Errorf("another binary: %+v", rep)
	}
	opts.Self = bin
	if rep, _ := Gather(context.Background(), opts); rep.RuntimeVersion != "1.0" {
		t.Errorf("this binary: %+v", rep)
	}
	// One that does not run: its version is unknown, and Error says why.
	write(t, bin, "not a program")
	opts.Self = self
	if rep, _ := Gather(context.Background(), opts); rep.RuntimeVersion != "unknown" || !strings.Contains(rep.Error, "does not run") {
		t.Errorf("broken binary: %+v", rep)
	}
}
