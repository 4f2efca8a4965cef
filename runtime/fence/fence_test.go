package fence

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// The test binary doubles as a "NameNode" that only listens, so the kill
// script is tested against a real process holding a real socket.
func TestMain(m *testing.M) {
	if addr := os.Getenv("HACTL_FENCE_HELPER_LISTEN"); addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		for {
			c, err := l.Accept()
			if err == nil {
				c.Close()
			}
		}
	}
	os.Exit(m.Run())
}

// startListener runs the helper on addr; the returned channel closes when it
// exits. It is killed at cleanup in any case.
func startListener(t *testing.T, addr string) <-chan struct{} {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HACTL_FENCE_HELPER_LISTEN="+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	exited := make(chan struct{})
	go func() { io.Copy(io.Discard, out); cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper did not start: %q", line)
	}
	return exited
}

func freePort(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func confWith(kv ...string) *hadoopconf.Config {
	c := hadoopconf.New()
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

func TestParseMethods(t *testing.T) {
	key := filepath.Join(t.TempDir(), "id")
	c := confWith(KeyMethods, "sshfence\n  sshfence(hdfs:2222)\nshell(/bin/echo a b)\norg.apache.hadoop.ha.ShellCommandFencer(true)",
		KeySSHKeyFiles, key, KeySSHTimeout, "1500", KeySSHKnownHosts, "/etc/hactl/fencing_known_hosts")
	ms, err := Parse(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 4 {
		t.Fatalf("%d methods", len(ms))
	}
	s1 := ms[1].(*SSH)
	if s1.User != "hdfs" || s1.Port != 2222 || s1.ConnectTimeout != 1500*time.Millisecond || s1.KeyFiles[0] != key || s1.KnownHosts != "/etc/hactl/fencing_known_hosts" {
		t.Fatalf("sshfence(hdfs:2222) parsed as %+v", s1)
	}
	if ms[0].(*SSH).Port != 22 || ms[0].(*SSH).User == "" {
		t.Fatalf("default sshfence %+v", ms[0])
	}
	if ms[2].(*Shell).Command != "/bin/echo a b" || ms[3].(*Shell).Command != "true" {
		t.Fatalf("shell commands %q %q", ms[2], ms[3])
	}
	if _, err := Parse(confWith()); !errors.Is(err, ErrNoMethods) {
		t.Fatalf("empty: %v", err)
	}
	for _, bad := range []string{"fuser", "shell()", "shell(x", "sshfence(:notaport)"} {
		if _, err := Parse(confWith(KeyMethods, bad, KeySSHKeyFiles, key)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	if _, err := Parse(confWith(KeyMethods, "sshfence")); err == nil || !strings.Contains(err.Error(), KeySSHKeyFiles) {
		t.Fatalf("sshfence without keys: %v", err)
	}
}

var target = Target{Nameservice: "ns1", NamenodeID: "nn2", Host: "127.0.6.9", Port: 8020}

func TestShellFencerEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	s := &Shell{Command: "env > " + out, Conf: confWith("dfs.ha.fencing.methods", "shell(x)", "my.custom.key", "v1")}
	if err := s.Fence(context.Background(), target); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	for _, want := range []string{"target_host=127.0.6.9", "target_port=8020", "target_address=127.0.6.9:8020",
		"target_nameserviceid=ns1", "target_namenodeid=nn2", "my_custom_key=v1", "dfs_ha_fencing_methods=shell(x)"} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("environment lacks %s", want)
		}
	}
}

func TestShellFencerFailureAndTimeout(t *testing.T) {
	err := (&Shell{Command: "echo nope >&2; exit 3"}).Fence(context.Background(), target)
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("failing command: %v", err)
	}
	// bash -e: a failing command in the middle fails the fence.
	if err := (&Shell{Command: "false; true"}).Fence(context.Background(), target); err == nil {
		t.Fatal("bash -e not honoured")
	}
	start := time.Now()
	marker := filepath.Join(t.TempDir(), "late")
	err = (&Shell{Command: "(sleep 0.6; touch " + marker + ") & sleep 5", Timeout: 100 * time.Millisecond}).Fence(context.Background(), target)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Fatalf("timeout took %s", d)
	}
	time.Sleep(time.Second) // past the child's touch, had it survived
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command's background child survived the timeout")
	}
}

type fakeMethod struct {
	err   error
	calls *[]string
	name  string
}

func (f fakeMethod) Fence(ctx context.Context, t Target) error {
	*f.calls = append(*f.calls, f.name)
	return f.err
}
func (f fakeMethod) String() string { return f.name }

func TestFenceWithMethodsInOrder(t *testing.T) {
	var calls []string
	log := slog.New(slog.DiscardHandler)
	ms := []Method{fakeMethod{errors.New("x"), &calls, "a"}, fakeMethod{nil, &calls, "b"}, fakeMethod{nil, &calls, "c"}}
	if err := FenceWithMethods(context.Background(), log, ms, target); err != nil {
		t.Fatal(err)
	}
	if strings.Join(calls, ",") != "a,b" {
		t.Fatalf("calls %v", calls)
	}
	calls = nil
	err := FenceWithMethods(context.Background(), log, ms[:1], target)
	if !errors.Is(err, ErrAllFailed) {
		t.Fatalf("all failed: %v", err)
	}
	if err := FenceWithMethods(context.Background(), log, nil, target); !errors.Is(err, ErrNoMethods) {
		t.Fatalf("none: %v", err)
	}
}

func TestKillListenerScript(t *testing.T) {
	port := freePort(t, "127.0.6.20")
	exited := startListener(t, fmt.Sprintf("127.0.6.20:%d", port))
	out, err := exec.Command("sh", "-c", KillListenerScript(port)).CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("listener still alive after the script:\n%s", out)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.6.20:%d", port), time.Second); err == nil {
		c.Close()
		t.Fatal("port still open")
	}
	// Nothing listening: already fenced.
	out, err = exec.Command("sh", "-c", KillListenerScript(port)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nothing listens") {
		t.Fatalf("idle port: %v %s", err, out)
	}
}

func TestKillListenerScriptWithoutSS(t *testing.T) {
	// The /proc fallback, as on a host without iproute2 (and without fuser).
	port := freePort(t, "127.0.6.21")
	exited := startListener(t, fmt.Sprintf("127.0.6.21:%d", port))
	bin := t.TempDir()
	for _, tool := range []string{"sh", "cat", "awk", "sort", "readlink", "kill", "sleep", "printf", "grep", "cut"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.Replace(KillListenerScript(port), "PATH=$PATH:/sbin:/usr/sbin:/bin:/usr/bin", "PATH="+bin, 1)
	c := exec.Command(filepath.Join(bin, "sh"), "-c", script)
	c.Env = []string{"PATH=" + bin}
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("listener alive:\n%s", out)
	}
}
