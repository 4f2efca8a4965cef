package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/netns"
	"github.com/hactl/hactl/internal/zkserver"
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
	// hactl fs remembers the active NameNode under the user's cache dir:
	// keep that with the tests (set after the build, which uses Go's cache).
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needIntegration(t *testing.T) {
	t.Helper()
	if !integration() {
		t.Skip("end-to-end test: set HACTL_INTEGRATION=1 (needs ZooKeeper from scripts/install-test-deps.sh)")
	}
	if _, err := os.Stat(zkserver.Jar); err != nil {
		t.Fatalf("ZooKeeper is not installed (run scripts/install-test-deps.sh): %v", err)
	}
}

// needLab skips unless network namespaces can be made here.
func needLab(t *testing.T) {
	t.Helper()
	needIntegration(t)
	if err := netns.Available(); err != nil {
		t.Skipf("SSH end-to-end test needs network namespaces, which this machine cannot create: %v", err)
	}
}

// newLab builds n namespace hosts, torn down at the end of the test.
func newLab(t *testing.T, n int) *netns.Cluster {
	t.Helper()
	needLab(t)
	start := time.Now()
	lab := netns.New(t, netns.Options{Hosts: n, Dir: t.TempDir()})
	t.Logf("lab of %d hosts on %s up in %s", n, lab.Subnet, time.Since(start).Round(time.Millisecond))
	return lab
}
