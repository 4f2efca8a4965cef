package probe

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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
	obs, err := Gather(context.Background(), Options{ConfDir: filepath.Join(dir, "etc"), RunDir: filepath.Join(dir, "run"),
		InstallDir: filepath.Join(dir, "opt"), Address: "10.0.0.1", ZooKeeperJar: filepath.Join(dir, "none.jar")})
	if err != nil {
		t.Fatal(err)
	}
	if obs.RuntimeVersion != "" || obs.RuntimeSHA256 != "" || obs.Supervisor || len(obs.ConfigSHA256) != 0 ||
		len(obs.Daemons) != 0 || len(obs.NameNodes) != 0 || len(obs.JournalNodes) != 0 || obs.ZooKeeperInstalled || obs.Error != "" {
		t.Errorf("bare host: %+v", obs)
	}
}

func TestGatherStorageDaemonsAndHAState(t *testing.T) {
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
	// NameNode nn1: first dir formatted, second dir empty.
	write(t, filepath.Join(h.name1, "current", "VERSION"), "#Fri\nnamespaceID=4711\nclusterID=CID-abc\ncTime=0\nstorageType=NAME_NODE\n")
	write(t, filepath.Join(h.name1, "current", "seen_txid"), "42\n")
	os.MkdirAll(h.name2, 0o755)
	// Journal "ns": formatted, epochs, finalized and in-progress segments;
	// committed-txid in Hadoop's 8-byte form. Journal "empty": nothing yet.
	cur := filepath.Join(h.edits, "ns", "current")
	write(t, filepath.Join(cur, "VERSION"), "namespaceID=4711\nclusterID=CID-abc\nstorageType=JOURNAL_NODE\n")
	write(t, filepath.Join(cur, "last-promised-epoch"), "3\n")
	write(t, filepath.Join(cur, "last-writer-epoch"), "2\n")
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], 50)
	write(t, filepath.Join(cur, "committed-txid"), string(b[:]))
	write(t, filepath.Join(cur, "edits_0000000000000000001-0000000000000000050"), "x")
	write(t, filepath.Join(cur, "edits_inprogress_0000000000000000051"), "x")
	os.MkdirAll(filepath.Join(h.edits, "empty"), 0o755)
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
	nn := obs.NameNodes["ns/nn1"]
	if nn == nil || !nn.Formatted || !nn.HasData || nn.ClusterID != "CID-abc" || nn.NamespaceID != 4711 ||
		nn.HAState != "active" || !nn.Healthy || nn.LastTxid != 57 {
		t.Errorf("namenode nn1: %+v", nn)
	}
	if _, ok := obs.NameNodes["ns/nn2"]; ok {
		t.Error("nn2 lives on another host but was reported here")
	}
	d := obs.Daemons["namenode-nn1"]
	if d == nil || !d.Running || d.PID != me || d.StartedAt != 1700000000 || d.ConfigSHA256 != "cafe" {
		t.Errorf("daemon namenode-nn1: %+v", d)
	}
	if jn := obs.Daemons["journalnode"]; jn == nil || jn.Running || jn.PID != 0 {
		t.Errorf("dead journalnode reported as %+v", jn)
	}
	j := obs.JournalNodes["ns"]
	if j == nil || !j.Formatted || !j.HasData || j.ClusterID != "CID-abc" || j.NamespaceID != 4711 ||
		j.LastPromisedEpoch != 3 || j.LastWriterEpoch != 2 || j.CommittedTxid != 50 || j.LastTxid != 51 {
		t.Errorf("journal ns: %+v", j)
	}
	if e := obs.JournalNodes["empty"]; e == nil || e.Formatted || e.HasData {
		t.Errorf("empty journal: %+v", e)
	}
}

func TestUnformattedNameNodeWithStrayFilesHasData(t *testing.T) {
	h := newHost(t, "127.0.0.1:1")
	write(t, filepath.Join(h.name2, "lost+found", "x"), "x")
	obs, _ := Gather(context.Background(), Options{ConfDir: h.conf, RunDir: h.run, InstallDir: h.install, Address: "10.0.0.1"})
	nn := obs.NameNodes["ns/nn1"]
	if nn == nil || nn.Formatted || !nn.HasData {
		t.Errorf("namenode with a non-empty, unformatted dir: %+v (format would destroy it)", nn)
	}
	if nn.HAState != "" {
		t.Errorf("HA state of a NameNode that is not running: %q", nn.HAState)
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
