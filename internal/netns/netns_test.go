package netns

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestHostsCutRestoreTeardown(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (creates network namespaces; needs root)")
	}
	c := New(t, Options{Hosts: 2})
	if len(c.Hosts) != 2 || c.Hosts[0].Addr == c.Hosts[1].Addr || !strings.HasPrefix(c.Hosts[0].Addr, "10.231.") {
		t.Fatalf("hosts: %+v", c.Hosts)
	}
	if hcl := c.HostsHCL() + c.SSHHCL(); !strings.Contains(hcl, `host "h2" { address = "`+c.Hosts[1].Addr+`" }`) || !strings.Contains(hcl, c.ClientKey) {
		t.Errorf("HCL:\n%s", hcl)
	}
	out, err := c.Exec("h2", "ip", "-4", "addr")
	if err != nil || !strings.Contains(string(out), c.Hosts[1].Addr+"/24") || strings.Contains(string(out), c.Hosts[0].Addr+"/") {
		t.Fatalf("h2's addresses: %s %v", out, err)
	}
	dial := func(h *Host) error {
		conn, err := net.DialTimeout("tcp", h.Addr+":22", 500*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err
	}
	c.Cut("h1")
	if dial(c.Hosts[0]) == nil {
		t.Error("h1 reachable while cut")
	}
	if err := dial(c.Hosts[1]); err != nil {
		t.Errorf("h2 affected by cutting h1: %v", err)
	}
	c.Restore("h1")
	if err := c.waitSSH(c.Hosts[0], 5*time.Second); err != nil {
		t.Errorf("after restore: %v", err)
	}
	ns := c.Hosts[0].NS
	bridge := c.bridge
	c.Teardown()
	list, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(list), ns) {
		t.Errorf("namespace %s survives teardown", ns)
	}
	if exec.Command("ip", "link", "show", bridge).Run() == nil {
		t.Errorf("bridge %s survives teardown", bridge)
	}
}
