package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	osuser "os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// fsTestNameNode serves an in-memory namespace over WebHDFS on ip (127.0.5.x).
func fsTestNameNode(t *testing.T, ip string) (*webhdfstest.Mem, string) {
	t.Helper()
	mem := webhdfstest.NewMem()
	mem.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 0, 0, time.Local) }
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", webhdfs.Handler(mem, webhdfs.HandlerOptions{}))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln) //nolint:errcheck // returns when closed
	t.Cleanup(func() { srv.Close() })
	return mem, ln.Addr().String()
}

func fsRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	isolateFsCache(t)
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"hactl", "fs"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

var fsCaches sync.Map // *testing.T → its XDG_CACHE_HOME

// isolateFsCache points the active-NameNode cache of hactl fs at a
// directory of the test (one per test, so that its invocations share it),
// never the user's real cache.
func isolateFsCache(t *testing.T) string {
	t.Helper()
	if d, ok := fsCaches.Load(t); ok {
		return d.(string)
	}
	d := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", d)
	fsCaches.Store(t, d)
	t.Cleanup(func() { fsCaches.Delete(t) })
	return d
}

func writeXMLConf(t *testing.T, addrs ...string) string {
	t.Helper()
	dir := t.TempDir()
	var ids []string
	var props strings.Builder
	for i, a := range addrs {
		id := fmt.Sprintf("nn%d", i+1)
		ids = append(ids, id)
		fmt.Fprintf(&props, "<property><name>dfs.namenode.http-address.hacluster.%s</name><value>%s</value></property>\n", id, a)
	}
	hdfs := "<configuration>\n<property><name>dfs.nameservices</name><value>hacluster</value></property>\n" +
		"<property><name>dfs.ha.namenodes.hacluster</name><value>" + strings.Join(ids, ",") + "</value></property>\n" +
		"<property><name>dfs.client.failover.sleep.base.millis</name><value>1</value></property>\n" +
		props.String() + "</configuration>\n"
	core := "<configuration><property><name>fs.defaultFS</name><value>hdfs://hacluster</value></property></configuration>\n"
	if err := os.WriteFile(filepath.Join(dir, "hdfs-site.xml"), []byte(hdfs), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "core-site.xml"), []byte(core), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFsCommandsAgainstHANameservice(t *testing.T) {
	standby, a1 := fsTestNameNode(t, "127.0.5.3")
	active, a2 := fsTestNameNode(t, "127.0.5.4")
	standby.SetStandby(true)
	conf := writeXMLConf(t, a1, a2)
	local := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(local, []byte("hello hdfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(args ...string) string {
		t.Helper()
		out, errOut, code := fsRun(t, append(args, "--config", conf, "--user", "alice")...)
		if code != 0 {
			t.Fatalf("hactl fs %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	fail := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		_, errOut, code := fsRun(t, append(args, "--config", conf)...)
		if code != wantCode || !strings.Contains(errOut, wantErr) {
			t.Fatalf("hactl fs %v: exit %d %q, want %d and %q", args, code, errOut, wantCode, wantErr)
		}
	}

	fail(1, "No such file or directory", "mkdir", "hdfs://hacluster/a/b")
	ok("mkdir", "-p", "hdfs://hacluster/a/b")
	// The active is remembered for the next invocation, under the user's cache dir.
	cached, _ := filepath.Glob(filepath.Join(isolateFsCache(t), "hactl", "active-hacluster-*"))
	if len(cached) != 1 {
		t.Fatalf("cache files %v, want one for hacluster", cached)
	}
	if b, err := os.ReadFile(cached[0]); err != nil || strings.TrimSpace(string(b)) != a2 {
		t.Fatalf("cache %q %v, want the active %s", b, err, a2)
	}
	fail(1, "File exists", "mkdir", "hdfs://hacluster/a/b")
	ok("mkdir", "/a/c") // fs.defaultFS
	ok("put", local, "hdfs://hacluster/a/b")
	fail(1, "File exists", "put", local, "hdfs://hacluster/a/b/hello.txt")
	ok("put", "-f", local, "hdfs://hacluster/a/b/hello.txt")
	if got := ok("cat", "hdfs://hacluster/a/b/hello.txt"); got != "hello hdfs\n" {
		t.Fatalf("cat %q", got)
	}

	ls := ok("ls", "hdfs://hacluster/a")
	want := "Found 2 items\n" +
		"drwxr-xr-x  - alice supergroup 0 2026-01-02 03:04 /a/b\n" +
		"drwxr-xr-x  - alice supergroup 0 2026-01-02 03:04 /a/c\n"
	if ls != want {
		t.Fatalf("ls:\n%s\nwant:\n%s", ls, want)
	}
	ls = ok("ls", "hdfs://hacluster/a/b")
	if !strings.Contains(ls, "-rw-r--r--  3 alice supergroup 11 2026-01-02 03:04 /a/b/hello.txt\n") {
		t.Fatalf("ls of a file's dir:\n%s", ls)
	}

	var st struct{ FileStatus webhdfs.FileStatus }
	if err := json.Unmarshal([]byte(ok("stat", "hdfs://hacluster/a/b/hello.txt")), &st); err != nil {
		t.Fatal(err)
	}
	if st.FileStatus.Type != "FILE" || st.FileStatus.Length != 11 || st.FileStatus.Owner != "alice" {
		t.Fatalf("stat %+v", st.FileStatus)
	}

	ok("mv", "hdfs://hacluster/a/b/hello.txt", "hdfs://hacluster/a/c/moved.txt")
	fail(1, "different nameservices", "mv", "hdfs://hacluster/a/c/moved.txt", "hdfs://other/x")
	fail(1, "Is a directory", "rm", "hdfs://hacluster/a")
	if out := ok("rm", "hdfs://hacluster/a/c/moved.txt"); out != "Deleted /a/c/moved.txt\n" {
		t.Fatalf("rm printed %q", out)
	}
	ok("rm", "-r", "hdfs://hacluster/a")
	fail(1, "No such file or directory", "ls", "hdfs://hacluster/a")
	fail(1, "dfs.ha.namenodes.nope is not set", "ls", "hdfs://nope/")
	fail(2, "want", "cat")

	// Everything went to the active; the standby's namespace stayed empty.
	if list, err := active.ListStatus(context.Background(), "/", "hdfs"); err != nil || len(list) != 0 {
		t.Fatalf("active after rm -r: %v %v", list, err)
	}
	standby.SetStandby(false)
	if list, _ := standby.ListStatus(context.Background(), "/", "hdfs"); len(list) != 0 {
		t.Fatalf("the standby was written to: %v", list)
	}
}

func TestFsConfigFromHCLCluster(t *testing.T) {
	mem, addr := fsTestNameNode(t, "127.0.5.5")
	host, port, _ := net.SplitHostPort(addr)
	if err := mem.Mkdirs(context.Background(), "/from-hcl", 0o755, "hdfs"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hcl := fmt.Sprintf(`
host "a" { address = %q }
host "b" { address = "127.0.5.6" }
host "c" { address = "127.0.5.7" }
zookeeper {
  managed = true
  servers = ["a", "b", "c"]
}
nameservice "hacluster" {
  namenode "nn1" {
    host      = "a"
    http_port = %s
  }
  namenode "nn2" { host = "b" }
  journal {
    hosts     = ["a", "b", "c"]
    edits_dir = "/hdfs/journalnode"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/namenode"
}
target "local" {}
`, host, port)
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := fsRun(t, "ls", "/", "--config", dir)
	if code != 0 || !strings.Contains(out, "/from-hcl") {
		t.Fatalf("ls with an HCL config: exit %d, out %q, err %q", code, out, errOut)
	}
}

// The user hactl fs sends is Hadoop's client's: --user, $HADOOP_USER_NAME,
// else the OS user (not $USER, which sudo and su leave pointing elsewhere).
func TestFsUser(t *testing.T) {
	env := map[string]string{"USER": "someone-else", "HADOOP_USER_NAME": ""}
	getenv := func(k string) string { return env[k] }
	if got := fsUser("alice", getenv); got != "alice" {
		t.Errorf("--user: %q", got)
	}
	if u, err := osuser.Current(); err == nil {
		if got := fsUser("", getenv); got != u.Username {
			t.Errorf("default: %q, want the OS user %q", got, u.Username)
		}
	}
	env["HADOOP_USER_NAME"] = "bob"
	if got := fsUser("", getenv); got != "bob" {
		t.Errorf("HADOOP_USER_NAME: %q", got)
	}
}

// A permission refusal prints as hdfs dfs prints it: the message alone.
func TestFsAccessDenied(t *testing.T) {
	const msg = `Permission denied: user=alice, access=WRITE, inode="/":hdfs:supergroup:drwxr-xr-x`
	var gotUser string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser = r.URL.Query().Get("user.name")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"RemoteException":{"exception":"AccessControlException","javaClassName":"org.apache.hadoop.security.AccessControlException","message":%q}}`, msg)
	}))
	defer srv.Close()
	_, errOut, code := fsRun(t, "mkdir", "--user", "alice", "webhdfs://"+strings.TrimPrefix(srv.URL, "http://")+"/x")
	if code != 1 || !strings.Contains(errOut, "mkdir: "+msg) || strings.Contains(errOut, "AccessControlException") || gotUser != "alice" {
		t.Errorf("exit %d, user.name %q, stderr %q; want `mkdir: %s`", code, gotUser, errOut, msg)
	}
}
