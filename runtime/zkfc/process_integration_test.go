package zkfc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/zkfc/zktest"
)

var (
	hactlOnce sync.Once
	hactlBin  string
	hactlErr  error
)

func buildHactl(t *testing.T) string {
	t.Helper()
	hactlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-zkfc-it-")
		if err != nil {
			hactlErr = err
			return
		}
		hactlBin = filepath.Join(dir, "hactl")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", hactlBin, "./cmd/hactl")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			hactlErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hactlErr != nil {
		t.Fatal(hactlErr)
	}
	return hactlBin
}

// testProcesses runs everything as hactl processes: three JournalNodes, two
// NameNodes (format, bootstrap-standby), format-zk and two `hactl runtime
// zkfc`; kill -9 of the active NameNode process makes the other active, which
// holds every acknowledged write and accepts new ones.
func testProcesses(t *testing.T, ens *zktest.Ensemble) {
	bin := buildHactl(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "cluster.secret")
	secretBytes := []byte("process-test-secret-0123456789abcdef")
	if err := os.WriteFile(secret, secretBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	nnHTTP := map[string]string{"nn1": "127.0.6.24:9870", "nn2": "127.0.6.25:9870"}
	var jns []string
	for i := 1; i <= 3; i++ {
		jns = append(jns, fmt.Sprintf("127.0.6.%d:8485", 20+i))
	}
	base := func() *hadoopconf.Config {
		c := hadoopconf.New()
		for k, v := range map[string]string{
			"fs.defaultFS": "hdfs://nsproc", "dfs.nameservices": "nsproc", "dfs.ha.namenodes.nsproc": "nn1,nn2",
			"dfs.namenode.rpc-address.nsproc.nn1": "127.0.6.24:8020", "dfs.namenode.http-address.nsproc.nn1": nnHTTP["nn1"],
			"dfs.namenode.rpc-address.nsproc.nn2": "127.0.6.25:8020", "dfs.namenode.http-address.nsproc.nn2": nnHTTP["nn2"],
			"dfs.namenode.shared.edits.dir":     "qjournal://" + strings.Join(jns, ";") + "/nsproc",
			"dfs.ha.tail-edits.period":          "20ms",
			"dfs.ha.tail-edits.in-progress":     "true",
			"dfs.ha.automatic-failover.enabled": "true",
			"dfs.ha.fencing.methods":            "shell(/bin/true)", // the JournalNodes' epochs fence the old writer
			"ha.zookeeper.quorum":               ens.Quorum(),
			"hactl.cluster.secret.file":         secret,
		} {
			c.Set(k, v)
		}
		for k, v := range testConf {
			c.Set(k, v)
		}
		return c
	}
	confDir := func(name string, extra map[string]string) string {
		c := base()
		for k, v := range extra {
			c.Set(k, v)
		}
		d := filepath.Join(dir, name, "conf")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	procs := map[string]*exec.Cmd{}
	done := map[string]chan struct{}{}
	start := func(name string, args ...string) {
		f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		ch := make(chan struct{})
		go func() { cmd.Wait(); close(ch) }()
		procs[name], done[name] = cmd, ch
	}
	kill := func(name string) {
		if p := procs[name]; p != nil {
			p.Process.Kill()
			<-done[name]
			delete(procs, name)
		}
	}
	t.Cleanup(func() {
		for name := range procs {
			kill(name)
		}
		if t.Failed() {
			for _, name := range []string{"jn1", "nn1", "nn2", "zkfc-nn1", "zkfc-nn2"} {
				b, _ := os.ReadFile(filepath.Join(dir, name+".log"))
				t.Logf("=== %s ===\n%s", name, tailString(string(b), 3000))
			}
		}
	})
	run := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return string(out), 0
	}
	waitPort := func(addr string) {
		waitFor(t, 20*time.Second, addr+" listening", func() bool {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("jn%d", i)
		start(name, "runtime", "journalnode", "--conf", confDir(name, map[string]string{
			"dfs.journalnode.edits.dir":    filepath.Join(dir, name, "data"),
			"dfs.journalnode.rpc-address":  jns[i-1],
			"dfs.journalnode.http-address": fmt.Sprintf("127.0.6.%d:8480", 20+i),
		}))
	}
	for _, a := range jns {
		waitPort(a)
	}
	nnConf := map[string]string{}
	for _, id := range []string{"nn1", "nn2"} {
		nnConf[id] = confDir(id, map[string]string{"dfs.namenode.name.dir": filepath.Join(dir, id, "name")})
	}
	if out, code := run("runtime", "format", "--conf", nnConf["nn1"], "--id", "nn1", "--non-interactive", "--clusterid", "CID-zkfc"); code != 0 {
		t.Fatalf("format: %d\n%s", code, out)
	}
	start("nn1", "runtime", "namenode", "--conf", nnConf["nn1"], "--id", "nn1")
	waitPort(nnHTTP["nn1"])
	if out, code := run("runtime", "bootstrap-standby", "--conf", nnConf["nn2"], "--id", "nn2", "--non-interactive"); code != 0 {
		t.Fatalf("bootstrap-standby: %d\n%s", code, out)
	}
	start("nn2", "runtime", "namenode", "--conf", nnConf["nn2"], "--id", "nn2")
	waitPort(nnHTTP["nn2"])

	// The ZKFC refuses to start before format-zk (exit 3), format-zk works
	// once and then refuses non-interactively (exit 2).
	if out, code := run("runtime", "zkfc", "--conf", nnConf["nn1"], "--id", "nn1"); code != 3 || !strings.Contains(out, "format-zk") {
		t.Fatalf("zkfc before format-zk: exit %d\n%s", code, out)
	}
	if out, code := run("runtime", "format-zk", "--conf", nnConf["nn1"], "--non-interactive"); code != 0 {
		t.Fatalf("format-zk: %d\n%s", code, out)
	}
	if out, code := run("runtime", "format-zk", "--conf", nnConf["nn1"], "--non-interactive"); code != 2 {
		t.Fatalf("second format-zk: exit %d\n%s", code, out)
	}
	for _, id := range []string{"nn1", "nn2"} {
		start("zkfc-"+id, "runtime", "zkfc", "--conf", nnConf[id], "--id", id)
	}

	client := &http.Client{Transport: &auth.Transport{Secret: secretBytes}, Timeout: 3 * time.Second}
	state := func(id string) string {
		resp, err := client.Get("http://" + nnHTTP[id] + "/ha/status")
		if err != nil {
			return "down"
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if bytes.Contains(b, []byte(`"state":"active"`)) {
			return "active"
		}
		return "standby"
	}
	mkdir := func(id, p string) bool {
		req, _ := http.NewRequest(http.MethodPut, "http://"+nnHTTP[id]+"/webhdfs/v1"+p+"?user.name=hdfs&op=MKDIRS", nil)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && bytes.Contains(b, []byte("true"))
	}
	var act string
	waitFor(t, 30*time.Second, "one active NameNode process", func() bool {
		for _, id := range []string{"nn1", "nn2"} {
			if state(id) == "active" {
				act = id
				return true
			}
		}
		return false
	})
	st := peerOf(act)
	waitFor(t, 10*time.Second, st+" standby", func() bool { return state(st) == "standby" })
	for i := range 10 {
		if !mkdir(act, fmt.Sprintf("/acked/%d", i)) {
			t.Fatalf("mkdir %d on the active %s failed", i, act)
		}
	}
	killed := time.Now()
	kill(act) // kill -9 of the NameNode process
	waitFor(t, 30*time.Second, st+" accepting writes", func() bool { return mkdir(st, "/after") })
	t.Logf("process failover: the new active %s acknowledged a write %s after kill -9 of %s", st, time.Since(killed).Round(time.Millisecond), act)
	for i := range 10 {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/webhdfs/v1/acked/%d?user.name=hdfs&op=GETFILESTATUS", nnHTTP[st], i), nil)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("acknowledged /acked/%d missing on the new active: %v", i, err)
		}
		resp.Body.Close()
	}
}
