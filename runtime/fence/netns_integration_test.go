package fence

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hactl/hactl/internal/netns"
)

// TestIntegrationSSHFenceOverRealSSH fences a "NameNode" on a network-namespace
// host through OpenSSH's sshd.
func TestIntegrationSSHFenceOverRealSSH(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (needs root, ip and OpenSSH's sshd)")
	}
	nc := netns.New(t, netns.Options{Hosts: 1})
	h := nc.Hosts[0]

	// The "NameNode": this test binary listening on the host's RPC port (in
	// the host's network namespace; the binary lives in this machine's /tmp).
	nn := exec.Command("ip", "netns", "exec", h.NS, os.Args[0], "-test.run=^$")
	nn.Env = append(os.Environ(), "HACTL_FENCE_HELPER_LISTEN="+h.Addr+":8020")
	out, _ := nn.StdoutPipe()
	if err := nn.Start(); err != nil {
		t.Fatal(err)
	}
	nnDone := make(chan struct{})
	line, _ := bufio.NewReader(out).ReadString('\n')
	go func() { io.Copy(io.Discard, out); nn.Wait(); close(nnDone) }()
	t.Cleanup(func() { nn.Process.Kill(); <-nnDone })
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("NameNode stand-in: %q", line)
	}

	f := &SSH{User: "root", Port: 22, KeyFiles: []string{nc.ClientKey}, ConnectTimeout: 5 * time.Second,
		HostKeyCallback: ssh.FixedHostKey(h.HostKey)} // it must be our sshd that answers
	target := Target{Nameservice: "ns1", NamenodeID: "nn1", Host: h.Addr, Port: 8020}
	sshdLog := func() string {
		b, _ := os.ReadFile(filepath.Join(h.Root, "sshd.log"))
		return string(b)
	}
	if err := f.Fence(context.Background(), target); err != nil {
		t.Fatalf("sshfence: %v\nsshd log:\n%s", err, sshdLog())
	}
	select {
	case <-nnDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the NameNode stand-in on the namespace host survived sshfence")
	}
	if c, err := net.DialTimeout("tcp", h.Addr+":8020", time.Second); err == nil {
		c.Close()
		t.Fatal("the RPC port is still open")
	}
	// Fencing an already dead NameNode succeeds (its port is closed).
	if err := f.Fence(context.Background(), target); err != nil {
		t.Fatalf("second sshfence: %v", err)
	}
}
