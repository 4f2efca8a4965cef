package qjm

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// jnProc is one `hactl runtime journalnode` process.
type jnProc struct {
	conf, log, rpc string
	cmd            *exec.Cmd
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// buildHactl builds the hactl binary once per test run into a temporary directory.
func buildHactl(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "hactl-qjm-it-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "hactl")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/hactl")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func writeJNConf(t *testing.T, dir, secretFile string, i int, quorum string) string {
	t.Helper()
	conf := filepath.Join(dir, fmt.Sprintf("jn%d-conf", i))
	os.MkdirAll(conf, 0o755)
	core := hadoopconf.New()
	core.Set("hactl.cluster.secret.file", secretFile)
	hdfs := hadoopconf.New()
	hdfs.Set("dfs.journalnode.edits.dir", filepath.Join(dir, fmt.Sprintf("jn%d-data", i)))
	hdfs.Set("dfs.journalnode.rpc-address", fmt.Sprintf("127.0.3.%d:28485", i))
	hdfs.Set("dfs.journalnode.http-address", fmt.Sprintf("127.0.3.%d:28480", i))
	hdfs.Set("dfs.namenode.shared.edits.dir", quorum)
	hdfs.Set("dfs.journalnode.sync.interval", "500")
	os.WriteFile(filepath.Join(conf, "core-site.xml"), core.Marshal(), 0o644)
	os.WriteFile(filepath.Join(conf, "hdfs-site.xml"), hdfs.Marshal(), 0o644)
	return conf
}

func (p *jnProc) start(t *testing.T, bin string) {
	t.Helper()
	lf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "runtime", "journalnode", "--conf", p.conf)
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", p.rpc, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(p.log)
	t.Fatalf("journalnode %s did not start:\n%s", p.rpc, b)
}

func (p *jnProc) kill9() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		p.cmd = nil
	}
}

func TestIntegrationJournalNodeProcesses(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("process-level test: set HACTL_INTEGRATION=1")
	}
	bin := buildHactl(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "cluster.secret")
	os.WriteFile(secretFile, []byte("integration-secret-0123456789\n"), 0o600)
	quorum := "qjournal://127.0.3.1:28485;127.0.3.2:28485;127.0.3.3:28485/itest"
	jns := make([]*jnProc, 4)
	for i := 1; i <= 3; i++ {
		jns[i] = &jnProc{conf: writeJNConf(t, dir, secretFile, i, quorum), log: filepath.Join(dir, fmt.Sprintf("jn%d.log", i)), rpc: fmt.Sprintf("127.0.3.%d:28485", i)}
	}
	t.Cleanup(func() {
		for _, p := range jns[1:] {
			p.kill9()
		}
		if t.Failed() {
			for _, p := range jns[1:] {
				b, _ := os.ReadFile(p.log)
				t.Logf("%s log:\n%s", p.rpc, b)
			}
		}
	})
	for _, p := range jns[1:] {
		p.start(t, bin)
	}

	conf := hadoopconf.New()
	conf.Set("dfs.namenode.shared.edits.dir", quorum)
	conf.Set("dfs.qjournal.write-txns.timeout.ms", "2000")
	conf.Set("dfs.qjournal.start-segment.timeout.ms", "2000")
	conf.Set("dfs.qjournal.new-epoch.timeout.ms", "3000")
	conf.Set("dfs.qjournal.get-journal-state.timeout.ms", "3000")
	cfg, err := ConfigFromHadoop(conf, "", []byte("integration-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Format(ctx, testNS, false); err != nil {
		t.Fatal(err)
	}
	w, err := m.OpenForWrite(ctx, testNS)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[int64][]byte{}
	write := func(w *Writer, n int) error {
		for k := 0; k < n; k++ {
			data := []byte(fmt.Sprintf("e%d-%d", w.Epoch(), w.LastTxid()+1))
			tx := w.Append(data)
			if err := w.Sync(ctx, tx); err != nil {
				return err
			}
			acked[tx] = data
		}
		return nil
	}
	if err := write(w, 100); err != nil {
		t.Fatal(err)
	}
	// kill -9 during writes: a concurrent writer keeps going.
	done := make(chan error, 1)
	go func() { done <- write(w, 300) }()
	time.Sleep(20 * time.Millisecond)
	jns[1].kill9()
	if err := <-done; err != nil {
		t.Fatalf("writes stopped after one journalnode was killed: %v", err)
	}
	if err := w.Roll(ctx); err != nil {
		t.Fatalf("roll with two journalnodes: %v", err)
	}
	if err := write(w, 50); err != nil {
		t.Fatal(err)
	}
	// A second one down: no quorum, a clear error, nothing acknowledged.
	jns[2].kill9()
	before := len(acked)
	err = write(w, 1)
	if !errors.Is(err, ErrNoQuorum) || !strings.Contains(err.Error(), "no quorum") {
		t.Fatalf("write with two of three journalnodes down: %v", err)
	}
	if len(acked) != before {
		t.Fatal("an edit was acknowledged without a quorum")
	}
	t.Logf("quorum error as the NameNode sees it: %v", err)
	// One back: a new writer recovers and writes resume.
	jns[1].start(t, bin)
	w2, err := m.OpenForWrite(ctx, testNS)
	if err != nil {
		t.Fatalf("reopen after a journalnode came back: %v", err)
	}
	if w2.LastTxid() < int64(len(acked)) {
		t.Fatalf("recovered to %d, %d acknowledged", w2.LastTxid(), len(acked))
	}
	if err := write(w2, 100); err != nil {
		t.Fatalf("writes after recovery: %v", err)
	}
	if err := w2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	edits, err := m.ReadEdits(ctx, 1, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(edits)) != w2.LastTxid() {
		t.Fatalf("read %d edits, log ends at %d", len(edits), w2.LastTxid())
	}
	for i, e := range edits {
		if e.Txid != int64(i+1) {
			t.Fatalf("edit %d has txid %d", i, e.Txid)
		}
		if d, ok := acked[e.Txid]; ok && string(d) != string(e.Data) {
			t.Fatalf("acknowledged txid %d lost: holds %q, want %q", e.Txid, e.Data, d)
		}
	}
	for tx := range acked {
		if tx > int64(len(edits)) {
			t.Fatalf("acknowledged txid %d missing", tx)
		}
	}
	// The JN that was down catches up from its peers (JournalNodeSyncer).
	jns[2].start(t, bin)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := m.JournalStatus(ctx)
		if st[1].Reachable && st[1].LastTxid == w2.LastTxid() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted journalnode did not catch up: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// SIGTERM stops a journalnode cleanly.
	jns[3].cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- jns[3].cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("journalnode exit after SIGTERM: %v", err)
		}
		jns[3].cmd = nil
	case <-time.After(10 * time.Second):
		t.Fatal("journalnode did not stop on SIGTERM")
	}
}

func TestIntegrationWorldReadableSecretRefused(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("process-level test: set HACTL_INTEGRATION=1")
	}
	bin := buildHactl(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "cluster.secret")
	os.WriteFile(secretFile, []byte("integration-secret-0123456789\n"), 0o644)
	os.Chmod(secretFile, 0o644)
	conf := writeJNConf(t, dir, secretFile, 4, "qjournal://127.0.3.4:28485/x")
	out, err := exec.Command(bin, "runtime", "journalnode", "--conf", conf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "0644") {
		t.Fatalf("journalnode started with a world-readable secret: %v\n%s", err, out)
	}
}
