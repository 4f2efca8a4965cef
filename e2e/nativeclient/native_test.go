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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"

	"github.com/hactl/hactl/e2e/proccluster"
)

var (
	buildOnce sync.Once
	buildDir  string
	hactlBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (and run under the integration lock)")
	}
}

// startCluster builds hactl and starts a nameservice of two NameNodes and
// dataNodes DataNodes (replication: as many as there are, at most 3).
func startCluster(t *testing.T, dataNodes int) *proccluster.Cluster {
	t.Helper()
	integration(t)
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		if buildDir, buildErr = os.MkdirTemp("", "hactl-native-"); buildErr != nil {
			return
		}
		hactlBin, buildErr = proccluster.Build(filepath.Join(filepath.Dir(file), "..", ".."), buildDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	extra := map[string]string{"dfs.replication": fmt.Sprint(max(1, min(dataNodes, 3)))}
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: hactlBin, Dir: t.TempDir(), IPPrefix: "127.0.21.", DataNodes: dataNodes, Extra: extra, Logf: t.Logf})
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
func TestNativeCLI(t *testing.T) {
	c := startCluster(t, 3)
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
	// df: the live DataNodes' capacity (colinmarc's df divides by it).
	out = strings.Join(strings.Fields(h.must("df")), " ")
	if !strings.Contains(out, "Use%") || strings.Contains(out, " 0 0 0 ") {
		t.Fatalf("df: %q", out)
	}
	// put and get of a 64 MiB file through the DataNodes, byte-identical.
	dir := t.TempDir()
	data := make([]byte, 64<<20)
	rand.Read(data)
	local := filepath.Join(dir, "big")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h.must("put", local, "/t/big")
	if out := strings.Fields(h.must("ls", "-l", "/t/big")); len(out) < 4 || out[3] != fmt.Sprint(64<<20) {
		t.Fatalf("ls -l /t/big: %v", out)
	}
	h.must("get", "/t/big", filepath.Join(dir, "back"))
	back, err := os.ReadFile(filepath.Join(dir, "back"))
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("get /t/big: %d bytes back (%v), not the 64 MiB put", len(back), err)
	}
	if out := h.must("cat", "/t/big"); out != string(data) {
		t.Fatalf("cat /t/big: %d bytes, differs", len(out))
	}
	if out := strings.Fields(h.must("du", "-s", "/t")); len(out) < 1 || out[0] != fmt.Sprint(64<<20) {
		t.Fatalf("du -s /t: %v", out)
	}
	h.must("rm", "-r", "/t")
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
	c := startCluster(t, 0)
	cl := client(t, c)
	fs, err := cl.StatFs()
	if err != nil {
		t.Fatal(err)
	}
	if fs.Capacity != 0 || fs.Used != 0 {
		t.Fatalf("getFsStats without DataNodes: %+v", fs)
	}
	cs, err := cl.GetContentSummary("/")
	if err != nil || cs.DirectoryCount() < 1 {
		t.Fatalf("content summary of /: %v %v", cs, err)
	}
}

// The library writes a 64 MiB file (several packets, one block) through a
// 3-DataNode pipeline and reads it back byte-identical.
func TestNativeLibraryPutGet64MiB(t *testing.T) {
	c := startCluster(t, 3)
	cl := client(t, c)
	data := make([]byte, 64<<20)
	rand.Read(data)
	w, err := cl.Create("/big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := cl.ReadFile("/big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("64 MiB file read back differs")
	}
	fi, err := cl.Stat("/big")
	if err != nil || fi.Size() != 64<<20 {
		t.Fatalf("stat /big: %v %v", fi, err)
	}
}

// The library keeps writing (files of 8 KiB through the DataNodes, and
// directories) while the active NameNode is SIGKILLed and nn2 made active:
// it reaches nn2 through the nameservice, every file and directory whose
// write it saw succeed is there afterwards with its contents, the failures
// in between are reported errors.
func TestNativeLibraryFailoverWhileWriting(t *testing.T) {
	c := startCluster(t, 3)
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
					if _, err = w.Write(content(p)); err == nil {
						err = w.Close()
					} else {
						w.Close()
					}
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
	waitCount(100, 60*time.Second)
	// A long file (1 MiB blocks, so addBlock goes to whichever NameNode is
	// active) is being written while the active dies.
	long := make([]byte, 24<<20)
	rand.Read(long)
	var longWritten atomic.Int64
	longDone := make(chan error, 1)
	go func() {
		w, err := cl.CreateFile("/fo/long", 3, 1<<20, 0o644)
		if err != nil {
			longDone <- err
			return
		}
		for off := 0; off < len(long); off += 256 << 10 {
			if _, err := w.Write(long[off : off+256<<10]); err != nil {
				w.Close()
				longDone <- err
				return
			}
			longWritten.Store(int64(off + 256<<10))
			time.Sleep(20 * time.Millisecond)
		}
		longDone <- w.Close()
	}()
	for longWritten.Load() < 4<<20 {
		time.Sleep(10 * time.Millisecond)
	}
	before := count()
	if err := c.Stop("nn1", syscall.SIGKILL); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Logf("nn1: %v", err)
	}
	close(killed)
	ctx := context.Background()
	if out, err := c.HAAdmin(ctx, "-transitionToActive", "--forceactive", "nn2"); err != nil {
		t.Fatalf("transitionToActive nn2: %v\n%s", err, out)
	}
	waitCount(before+100, 90*time.Second)
	close(stop)
	<-done
	longErr := <-longDone
	t.Logf("the 24 MiB file being written across the failover (%d bytes written when nn1 died): close: %v", 4<<20, longErr)
	if longErr == nil {
		got, err := client(t, c).ReadFile("/fo/long")
		if err != nil || !bytes.Equal(got, long) {
			t.Errorf("the long file closed without error reads back %d bytes (%v), not what was written", len(got), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d operations acknowledged (%d before the kill), %d reported errors (first: %v)", len(acked), before, len(errs), first(errs))
	// Every acknowledged path exists on the new active, read by a fresh client.
	check := client(t, c)
	for i, p := range acked {
		fi, err := check.Stat(p)
		if err != nil {
			t.Errorf("acknowledged %s lost: %v", p, err)
			continue
		}
		if fi.IsDir() {
			continue
		}
		if got, err := check.ReadFile(p); err != nil || !bytes.Equal(got, content(p)) {
			t.Errorf("acknowledged file %s (#%d) reads back %d bytes, %v", p, i, len(got), err)
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

// content is the 8 KiB a file of the failover test holds: its name repeated.
func content(p string) []byte {
	return bytes.Repeat([]byte(p+"\n"), 8192/(len(p)+1)+1)[:8192]
}
