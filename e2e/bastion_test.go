package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSSHClusterBehindBastion: four cluster hosts this machine cannot reach
// (their routes to it are refused, as instances in a private VPC), and a
// fifth host, the bastion, that it can. hactl plans and applies through the
// bastion alone: SSH hops through it, and every call to a daemon (readiness
// checks, HA admin, JournalNode sync, ZooKeeper) goes through the target's
// dialer. A second plan then finds nothing to do, which needs the probe of
// every daemon and of ZooKeeper to pass through the bastion too.
func TestSSHClusterBehindBastion(t *testing.T) {
	lab := newLab(t, 5)
	bastion := lab.Host("h5")
	spec := DefaultSpec()
	spec.Hosts = 4
	spec.Bastion = "root@" + bastion.Addr
	spec.DataNodes = []string{"h2", "h3", "h4"}
	dir := filepath.Join(t.TempDir(), "cluster")
	writeSSHCluster(t, dir, lab, spec)
	for _, h := range lab.Hosts[:4] {
		if err := lab.Isolate(h.Name); err != nil {
			t.Fatal(err)
		}
	}
	// The premise: the cluster hosts are out of reach, the bastion is not.
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(lab.Hosts[0].Addr, "22"), 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s is reachable from this machine: the test would prove nothing", lab.Hosts[0].Name)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(bastion.Addr, "22"), 5*time.Second); err != nil {
		t.Fatalf("the bastion is unreachable: %v", err)
	} else {
		c.Close()
	}

	h := &Hactl{Bin: hactlBin}
	t.Cleanup(func() {
		if r := h.Run(context.Background(), 90*time.Second, "destroy", "--auto-approve", "--purge-data", dir); r.Code != 0 {
			t.Logf("cleanup destroy: %s", r)
		}
	})
	ctx := context.Background()
	r := h.Run(ctx, 6*time.Minute, "apply", "--auto-approve", dir)
	if r.Code != 0 {
		t.Fatalf("apply through the bastion: %s", r)
	}
	r = h.Run(ctx, 2*time.Minute, "plan", "--detailed-exitcode", dir)
	if r.Code != 0 {
		t.Fatalf("plan after apply through the bastion: exit %d, want 0 (converged): %s", r.Code, r)
	}
	if !strings.Contains(r.Stdout, "No changes") {
		t.Errorf("plan: %s", r.Stdout)
	}
	// status reads the same way: one active NameNode, the other standby.
	r = h.Run(ctx, 2*time.Minute, "status", "--format", "json", dir)
	nns, err := ParseStatusNameNodes([]byte(r.Stdout))
	if err != nil {
		t.Fatalf("status through the bastion: %v (%s)", err, r)
	}
	if err := CheckOneActive(nns); err != nil || len(nns) != 2 {
		t.Errorf("status through the bastion: %v: %+v", err, nns)
	}

	// hactl fs with the HCL as its configuration goes the same way: the
	// NameNodes and the DataNodes they redirect to, through the bastion.
	data := bytes.Repeat([]byte("through the bastion\n"), 150_000) // 3 MiB: a real block
	local := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"fs", "mkdir", "--config", dir, "-p", "/bastion"},
		{"fs", "put", "--config", dir, local, "/bastion/f"},
	} {
		if r := h.Run(ctx, 2*time.Minute, args...); r.Code != 0 {
			t.Fatalf("hactl %s: %s", strings.Join(args[:2], " "), r)
		}
	}
	r = h.Run(ctx, 2*time.Minute, "fs", "cat", "--config", dir, "/bastion/f")
	if r.Code != 0 || r.Stdout != string(data) {
		t.Fatalf("hactl fs cat through the bastion: exit %d, %d bytes of %d (%s)", r.Code, len(r.Stdout), len(data), r.Stderr)
	}
}
