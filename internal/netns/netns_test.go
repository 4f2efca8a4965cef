package netns

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestHostsAreSeparateMachines(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (creates network namespaces; needs root)")
	}
	c := New(t, Options{Hosts: 2})
	h1, h2 := c.Hosts[0], c.Hosts[1]
	if len(c.Hosts) != 2 || h1.Addr == h2.Addr || !strings.HasPrefix(h1.Addr, "10.231.") {
		t.Fatalf("hosts: %+v", c.Hosts)
	}
	if hcl := c.HostsHCL() + c.SSHHCL(); !strings.Contains(hcl, `host "h2" { address = "`+h2.Addr+`" }`) || !strings.Contains(hcl, c.ClientKey) {
		t.Errorf("HCL:\n%s", hcl)
	}
	ctx := context.Background()
	// Over real SSH with the generated key and known_hosts: each host has
	// its own address and its own writable trees, and sees this machine's
	// packages.
	ssh := func(h *Host, script string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ssh", "-i", c.ClientKey, "-o", "UserKnownHostsFile="+c.KnownHosts,
			"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "root@"+h.Addr, script).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh %s %q: %v: %s", h.Addr, script, err, out)
		}
		return string(out)
	}
	ssh(h1, "mkdir -p /opt/hactl /var/lib/nt && echo one > /opt/hactl/x && echo one > /var/lib/nt/x && echo one > /etc/nt-x && echo one > /tmp/nt-x && echo one > /root/nt-x")
	if out := ssh(h2, "ls /opt; cat /var/lib/nt/x /etc/nt-x /tmp/nt-x /root/nt-x 2>&1; true"); strings.Contains(out, "hactl") || strings.Contains(out, "one") {
		t.Fatalf("h2 sees h1's files: %s", out)
	}
	for _, p := range []string{"/etc/nt-x", "/var/lib/nt", "/root/nt-x"} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("a host's write to %s reached this machine", p)
		}
	}
	for _, p := range []string{"/opt/hactl/x", "/var/lib/nt/x", "/etc/nt-x", "/tmp/nt-x", "/root/nt-x"} {
		if b, err := os.ReadFile(h1.Path(p)); err != nil || string(b) != "one\n" {
			t.Errorf("h1.Path(%s): %q %v", p, b, err)
		}
	}
	if out := ssh(h1, "ip -o -4 addr show | grep -c "+h1.Addr+"; test -d /usr/share && echo shared-usr"); !strings.Contains(out, "shared-usr") {
		t.Fatalf("h1: %s", out)
	}
	out, err := h2.Exec(ctx, "ip -4 addr; ls /opt")
	if err != nil || !strings.Contains(out, h2.Addr+"/24") || strings.Contains(out, h1.Addr+"/") || strings.Contains(out, "hactl") {
		t.Fatalf("Exec on h2: %q %v", out, err)
	}
	dial := func(h *Host) error {
		conn, err := net.DialTimeout("tcp", h.Addr+":22", 500*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := c.Cut("h1"); err != nil {
		t.Fatal(err)
	}
	if dial(h1) == nil {
		t.Error("h1 reachable while cut")
	}
	if err := dial(h2); err != nil {
		t.Errorf("h2 affected by cutting h1: %v", err)
	}
	if err := c.Restore("h1"); err != nil {
		t.Fatal(err)
	}
	if err := c.waitSSH(ctx, h1, 5*time.Second); err != nil {
		t.Errorf("after restore: %v", err)
	}
	// A daemon started over SSH is killed by KillDaemons; sshd survives.
	ssh(h2, "nohup sleep 300 >/dev/null 2>&1 &")
	victims, err := h2.KillDaemons()
	if err != nil || len(victims) == 0 {
		t.Fatalf("KillDaemons: %v %v", victims, err)
	}
	if dial(h2) != nil {
		t.Fatal("sshd died with the daemons")
	}
	ns, bridge, dir := h1.NS, c.bridge, c.Dir
	c.Close()
	list, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(list), ns) {
		t.Errorf("namespace %s survives Close", ns)
	}
	if exec.Command("ip", "link", "show", bridge).Run() == nil {
		t.Errorf("bridge %s survives Close", bridge)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s survives Close", dir)
	}
}
