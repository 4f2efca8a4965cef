package fence

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestIntegrationSSHFenceOverRealSSH fences a "NameNode" on a network-namespace
// host (10.231.106.11, this package's test host) through OpenSSH's sshd.
func TestIntegrationSSHFenceOverRealSSH(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (needs root, ip and OpenSSH's sshd)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Skip("OpenSSH server not installed (scripts/install-test-deps.sh)")
	}
	suffix := fmt.Sprint(os.Getpid() % 100000)
	ns, veth, peer := "hzf"+suffix, "hzf"+suffix+"a", "hzf"+suffix+"b"
	const hostIP, nsIP = "10.231.106.1", "10.231.106.11"
	// Another test host on the same address would answer instead of ours.
	if out, _ := exec.Command("ip", "-o", "addr").Output(); strings.Contains(string(out), " 10.231.106.") {
		t.Skip("10.231.106.0/24 is already in use on this machine")
	}
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", ns).Run()
		exec.Command("ip", "link", "del", veth).Run()
	})
	sh("ip", "netns", "add", ns)
	sh("ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
	sh("ip", "link", "set", peer, "netns", ns)
	sh("ip", "addr", "add", hostIP+"/24", "dev", veth)
	sh("ip", "link", "set", veth, "up")
	sh("ip", "netns", "exec", ns, "ip", "addr", "add", nsIP+"/24", "dev", peer)
	sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

	dir := t.TempDir()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostBlock, _ := ssh.MarshalPrivateKey(hostPriv, "")
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	os.WriteFile(hostKey, pem.EncodeToMemory(hostBlock), 0o600)
	clientKey, clientPub := writeKey(t)
	authorized := filepath.Join(dir, "authorized_keys")
	os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600)
	os.MkdirAll("/run/sshd", 0o755)

	sshd := exec.Command("ip", "netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null",
		"-o", "HostKey="+hostKey, "-o", "AuthorizedKeysFile="+authorized, "-o", "PidFile="+filepath.Join(dir, "sshd.pid"),
		"-o", "ListenAddress="+nsIP, "-o", "StrictModes=no", "-o", "PermitRootLogin=prohibit-password",
		"-o", "UsePAM=no")
	sshdLog, _ := os.Create(filepath.Join(dir, "sshd.log"))
	sshd.Stdout, sshd.Stderr = sshdLog, sshdLog
	sshd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	sshdDone := make(chan struct{})
	go func() { sshd.Wait(); close(sshdDone) }()
	t.Cleanup(func() { syscall.Kill(-sshd.Process.Pid, syscall.SIGKILL); <-sshdDone })

	// The "NameNode": this test binary listening on the host's RPC port.
	nn := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	nn.Env = append(os.Environ(), "HACTL_FENCE_HELPER_LISTEN="+nsIP+":8020")
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", nsIP+":22", 300*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd on %s not reachable: %v\n%s", nsIP, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}

	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	f := &SSH{User: "root", Port: 22, KeyFiles: []string{clientKey}, ConnectTimeout: 5 * time.Second,
		HostKeyCallback: ssh.FixedHostKey(hostSigner.PublicKey())} // it must be our sshd that answers
	target := Target{Nameservice: "ns1", NamenodeID: "nn1", Host: nsIP, Port: 8020}
	if err := f.Fence(context.Background(), target); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
		t.Fatalf("sshfence: %v\nsshd log:\n%s", err, log)
	}
	select {
	case <-nnDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the NameNode stand-in on the namespace host survived sshfence")
	}
	if c, err := net.DialTimeout("tcp", nsIP+":8020", time.Second); err == nil {
		c.Close()
		t.Fatal("the RPC port is still open")
	}
	// Fencing an already dead NameNode succeeds (its port is closed).
	if err := f.Fence(context.Background(), target); err != nil {
		t.Fatalf("second sshfence: %v", err)
	}
}
