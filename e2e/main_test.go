package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// hactlBin is the binary every test runs, built once by TestMain.
var hactlBin string

func integration() bool { return os.Getenv("HACTL_INTEGRATION") == "1" }

func TestMain(m *testing.M) {
	if !integration() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "hactl-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	hactlBin, err = BuildHactl(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needIntegration(t *testing.T) {
	t.Helper()
	if !integration() {
		t.Skip("end-to-end test: set HACTL_INTEGRATION=1 (needs ZooKeeper from scripts/install-test-deps.sh)")
	}
	if _, err := os.Stat("/usr/share/java/zookeeper.jar"); err != nil {
		t.Fatalf("ZooKeeper is not installed (run scripts/install-test-deps.sh): %v", err)
	}
}

// needLab skips unless network namespaces can be made here.
func needLab(t *testing.T) {
	t.Helper()
	needIntegration(t)
	if err := CanCreateNamespaces(); err != nil {
		t.Skipf("SSH end-to-end test needs network namespaces, which this machine cannot create: %v", err)
	}
}

// newLab builds n namespace hosts, torn down at the end of the test.
func newLab(t *testing.T, n int) *Lab {
	t.Helper()
	needLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	lab, err := NewLab(ctx, t.TempDir(), n, t.Logf)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Logf("lab of %d hosts on %s.0/24 up in %s", n, lab.Subnet, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		s := time.Now()
		lab.Close()
		t.Logf("lab torn down in %s", time.Since(s).Round(time.Millisecond))
	})
	return lab
}

// TestLabHostsAreSeparateMachines checks the harness itself: over real SSH
// each host has its own address, its own /opt and /var/lib, and shares the
// machine's packages.
func TestLabHostsAreSeparateMachines(t *testing.T) {
	lab := newLab(t, 2)
	ssh := func(h *LabHost, script string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ssh", "-i", lab.KeyFile, "-o", "UserKnownHostsFile="+lab.KnownHosts,
			"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "root@"+h.Addr, script).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh %s %q: %v: %s", h.Addr, script, err, out)
		}
		return string(out)
	}
	h1, h2 := lab.Hosts[0], lab.Hosts[1]
	ssh(h1, "mkdir -p /opt/hactl /var/lib/e2e && echo one > /opt/hactl/x && echo one > /var/lib/e2e/x && echo one > /etc/e2e-x")
	if out := ssh(h2, "ls /opt; ls /var/lib/e2e 2>&1; cat /etc/e2e-x 2>&1; true"); strings.Contains(out, "hactl") || strings.Contains(out, "one") {
		t.Fatalf("h2 sees h1's files: %s", out)
	}
	if _, err := os.Stat("/etc/e2e-x"); err == nil {
		t.Fatal("a host's /etc write reached this machine")
	}
	if out := ssh(h1, "cat /opt/hactl/x; ip -o -4 addr show | grep -c "+h1.Addr+"; test -f /usr/share/java/zookeeper.jar && echo zk"); !strings.Contains(out, "one") || !strings.Contains(out, "zk") {
		t.Fatalf("h1: %s", out)
	}
	out, err := h2.Exec(context.Background(), "ls /opt")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("Exec on h2: %q %v", out, err)
	}
}
