package fence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshServer is an in-process SSH server that accepts one public key and runs
// exec requests with sh on this machine, recording the commands.
type sshServer struct {
	addr     string
	hostKey  ssh.PublicKey
	mu       sync.Mutex
	commands []string
}

func startSSHServer(t *testing.T, host string, authorized ssh.PublicKey) *sshServer {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), authorized.Marshal()) {
			return nil, nil
		}
		return nil, fmt.Errorf("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sshServer{addr: l.Addr().String(), hostKey: hostSigner.PublicKey()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c, cfg) }()
		}
	}()
	return s
}

func (s *sshServer) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		for r := range creqs {
			if r.Type != "exec" {
				r.Reply(false, nil)
				continue
			}
			n := binary.BigEndian.Uint32(r.Payload)
			command := string(r.Payload[4 : 4+n])
			s.mu.Lock()
			s.commands = append(s.commands, command)
			s.mu.Unlock()
			r.Reply(true, nil)
			cmd := exec.Command("sh", "-c", command)
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			status := uint32(0)
			if err := cmd.Run(); err != nil {
				status = 1
				if ee, ok := err.(*exec.ExitError); ok {
					status = uint32(ee.ExitCode())
				}
			}
			ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
			ch.Close()
			break
		}
	}
}

func writeKnownHosts(t *testing.T, hostport string, key ssh.PublicKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeKey(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	return path, signer.PublicKey()
}

func TestSSHFenceKillsTheListener(t *testing.T) {
	const host = "127.0.6.22"
	keyFile, pub := writeKey(t)
	srv := startSSHServer(t, host, pub)
	_, sshPort, _ := net.SplitHostPort(srv.addr)
	nnPort := freePort(t, host)
	exited := startListener(t, fmt.Sprintf("%s:%d", host, nnPort))

	var port int
	fmt.Sscan(sshPort, &port)
	known := writeKnownHosts(t, srv.addr, srv.hostKey)
	f := &SSH{User: "hdfs", Port: port, KeyFiles: []string{filepath.Join(t.TempDir(), "missing"), keyFile}, ConnectTimeout: 2 * time.Second, KnownHosts: known}
	tgt := Target{Nameservice: "ns1", NamenodeID: "nn1", Host: host, Port: nnPort}

	// The host key is checked before anything runs: an unknown host (no
	// known_hosts, or another key for the address) is not fenced.
	_, otherPub := writeKey(t)
	for name, kh := range map[string]string{
		"missing known_hosts":  filepath.Join(t.TempDir(), "known_hosts"),
		"another key recorded": writeKnownHosts(t, srv.addr, otherPub),
		"host not recorded":    writeKnownHosts(t, "127.0.6.23:22", srv.hostKey),
	} {
		f.KnownHosts = kh
		if err := f.Fence(context.Background(), tgt); err == nil {
			t.Fatalf("%s: fenced", name)
		}
	}
	srv.mu.Lock()
	if len(srv.commands) != 0 {
		t.Fatalf("commands ran on a host whose key was not verified: %q", srv.commands)
	}
	srv.mu.Unlock()
	f.KnownHosts = known
	if err := f.Fence(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the NameNode stand-in survived sshfence")
	}
	srv.mu.Lock()
	ran := strings.Join(srv.commands, "\n")
	srv.mu.Unlock()
	if !strings.Contains(ran, fmt.Sprintf("port=%d", nnPort)) {
		t.Fatalf("remote command did not target port %d:\n%s", nnPort, ran)
	}

	// A key the server does not accept: fencing fails (and says why).
	otherKey, _ := writeKey(t)
	f.KeyFiles = []string{otherKey}
	if err := f.Fence(context.Background(), tgt); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong key: %v", err)
	}
	// No SSH server at all: a connection error, quickly.
	f.KeyFiles, f.Port = []string{keyFile}, freePort(t, host)
	if err := f.Fence(context.Background(), tgt); err == nil {
		t.Fatal("fenced through a closed SSH port")
	}
}
