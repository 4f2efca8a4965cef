package nativeclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"

	"github.com/hactl/hactl/e2e/proccluster"
)

var (
	buildOnce sync.Once
	hactlBin  string
	buildErr  error
)

func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (and run under the integration lock)")
	}
}

// startCluster builds hactl and starts a nameservice of two NameNodes.
func startCluster(t *testing.T) *proccluster.Cluster {
	t.Helper()
	integration(t)
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "hactl-native-")
		if err != nil {
			buildErr = err
			return
		}
		hactlBin, buildErr = proccluster.Build(filepath.Join(filepath.Dir(file), "..", ".."), dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: hactlBin, Dir: t.TempDir(), IPPrefix: "127.0.21.", Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
		c.Close()
	})
	return c
}

// hdfsCLI is colinmarc's `hdfs` command: $HACTL_NATIVE_HDFS, or where
// scripts/install-test-deps.sh installs it ($HACTL_NATIVE_HDFS_BIN_DIR,
// default /var/cache/hactl-test/bin).
func hdfsCLI(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("HACTL_NATIVE_HDFS"), "/var/cache/hactl-test/bin/hdfs"}
	if d := os.Getenv("HACTL_NATIVE_HDFS_BIN_DIR"); d != "" {
		candidates[1] = filepath.Join(d, "hdfs")
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("colinmarc's hdfs command is not installed: run scripts/install-test-deps.sh (GOBIN=/var/cache/hactl-test/bin go install github.com/colinmarc/hdfs/v2/cmd/hdfs@v2.4.0)")
	return ""
}

type cli struct {
	t    *testing.T
	bin  string
	conf string
}

func (c cli) run(args ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "HADOOP_CONF_DIR="+c.conf, "HADOOP_NAMENODE=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c cli) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("hdfs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func whoami(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// The namespace commands of the off-the-shelf CLI, through the nameservice
// in HADOOP_CONF_DIR (fs.defaultFS=hdfs://nativens; the client tries both
// NameNodes' rpc-addresses and skips the standby on its StandbyException).
func TestNativeCLINamespace(t *testing.T) {
	c := startCluster(t)
	h := cli{t, hdfsCLI(t), c.ClientConf}
	h.must("mkdir", "-p", "/t/a/b")
	h.must("touch", "/t/a/empty")
	if out := h.must("ls", "/t/a"); out != "b\nempty\n" {
		t.Fatalf("ls /t/a:\n%s", out)
	}
	out := strings.Join(strings.Fields(h.must("ls", "-l", "/t/a")), " ")
	me := whoami(t)
	if !strings.Contains(out, "drwxr-xr-x "+me) || !strings.Contains(out, "-rw-r--r-- "+me) {
		t.Fatalf("ls -l /t/a:\n%s", out)
	}
	if out := h.must("cat", "/t/a/empty"); out != "" {
		t.Fatalf("cat of an empty file: %q", out)
	}
	h.must("mv", "/t/a/empty", "/t/a/b/moved")
	if out := h.must("ls", "/t/a/b"); out != "moved\n" {
		t.Fatalf("after mv: %q", out)
	}
	h.must("chmod", "700", "/t/a/b")
	h.must("chown", "alice:staff", "/t/a/b/moved")
	out = strings.Join(strings.Fields(h.must("ls", "-l", "/t/a", "/t/a/b")), " ")
	if !strings.Contains(out, "drwx------ "+me) || !strings.Contains(out, "-rw-r--r-- alice staff 0") {
		t.Fatalf("after chmod/chown:\n%s", out)
	}
	out = h.must("du", "-s", "/t")
	if !strings.Contains(out, "/t") {
		t.Fatalf("du -s /t: %q", out)
	}
	if out, err := h.run("ls", "/t/nope"); err == nil || !strings.Contains(out, "file does not exist") {
		t.Fatalf("ls of a missing path: %v %q", err, out)
	}
	h.must("rm", "-r", "/t/a")
	if out, err := h.run("ls", "/t/a"); err == nil {
		t.Fatalf("/t/a survived rm -r: %q", out)
	}
	if out := h.must("ls", "/t"); out != "" {
		t.Fatalf("ls /t after rm -r: %q", out)
	}
	// df needs capacity: colinmarc's df divides by it, and a nameservice
	// without DataNodes has none (getFsStats answers 0, which the library
	// reports; see TestNativeLibraryStatFs).
	if os.Getenv("HACTL_NATIVE_DATANODES") == "1" {
		if out := h.must("df"); !strings.Contains(out, "Use%") {
			t.Fatalf("df: %q", out)
		}
	}
}

func client(t *testing.T, c *proccluster.Cluster) *hdfs.Client {
	t.Helper()
	conf, err := hadoopconf.Load(c.ClientConf)
	if err != nil {
		t.Fatal(err)
	}
	opts := hdfs.ClientOptionsFromConf(conf)
	opts.User = whoami(t)
	cl, err := hdfs.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func TestNativeLibraryStatFs(t *testing.T) {
	c := startCluster(t)
	cl := client(t, c)
	fs, err := cl.StatFs()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("getFsStats: %+v", fs)
	cs, err := cl.GetContentSummary("/")
	if err != nil || cs.DirectoryCount() < 1 {
		t.Fatalf("content summary of /: %v %v", cs, err)
	}
}

// put and get of a 64 MiB file, byte-identical: needs DataNodes serving
// DataTransferProtocol and a NameNode that allocates blocks.
func TestNativePutGet64MiB(t *testing.T) {
	c := startCluster(t)
	cl := client(t, c)
	data := make([]byte, 64<<20)
	rand.Read(data)
	w, err := cl.Create("/big")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Write(data)
	if err == nil {
		err = w.Close()
	}
	if err != nil && strings.Contains(err.Error(), "addBlock") && os.Getenv("HACTL_NATIVE_DATANODES") != "1" {
		t.Skipf("file data over native RPC needs the NameNode's block calls (hdfs.ClientProtocol, issue #10 nn) and DataNodes serving DataTransferProtocol (dn) in this harness, which are not on main yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.ReadFile("/big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("64 MiB file read back differs")
	}
}

// The library keeps writing (empty files and directories: create+complete,
// mkdirs) while the active NameNode is SIGKILLed and nn2 made active: it
// reaches nn2 through the nameservice, every call it saw succeed is there
// afterwards, the failures in between are reported errors.
func TestNativeLibraryFailoverWhileWriting(t *testing.T) {
	c := startCluster(t)
	cl := client(t, c)
	if err := cl.MkdirAll("/fo", 0o755); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		acked  []string
		errs   []error
		stop   = make(chan struct{})
		done   = make(chan struct{})
		killed = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := fmt.Sprintf("/fo/f%05d", i)
			var err error
			if i%2 == 0 {
				err = cl.Mkdir(p, 0o755)
			} else {
				var w *hdfs.FileWriter
				if w, err = cl.Create(p); err == nil {
					err = w.Close()
				}
			}
			mu.Lock()
			if err == nil {
				acked = append(acked, p)
			} else {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
			}
			mu.Unlock()
			if err != nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitCount := func(n int, within time.Duration) {
		deadline := time.Now().Add(within)
		for count() < n {
			if time.Now().After(deadline) {
				close(stop)
				<-done
				t.Fatalf("only %d of %d operations acknowledged within %v; errors: %v", count(), n, within, errs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitCount(200, 30*time.Second)
	before := count()
	if err := c.Stop("nn1", syscall.SIGKILL); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Logf("nn1: %v", err)
	}
	close(killed)
	ctx := context.Background()
	if out, err := c.HAAdmin(ctx, "-transitionToActive", "--forceactive", "nn2"); err != nil {
		t.Fatalf("transitionToActive nn2: %v\n%s", err, out)
	}
	waitCount(before+200, 60*time.Second)
	close(stop)
	<-done
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d operations acknowledged (%d before the kill), %d reported errors (first: %v)", len(acked), before, len(errs), first(errs))
	// Every acknowledged path exists on the new active, read by a fresh client.
	check := client(t, c)
	for _, p := range acked {
		if _, err := check.Stat(p); err != nil {
			t.Errorf("acknowledged %s lost: %v", p, err)
		}
	}
	// The errors are the failover's: connection or standby errors, or an
	// operation that ran on nn1 and whose retry found it done.
	for _, err := range errs {
		if errors.Is(err, os.ErrPermission) {
			t.Errorf("unexpected error: %v", err)
		}
	}
}

func first(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
