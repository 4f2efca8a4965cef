package targets

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is a tiny in-process SSH server on a loopback listener: exec
// requests run under sh -c, direct-tcpip channels are forwarded (bastion).
type testServer struct {
	addr     string
	hostKeys []ssh.Signer
	conns    atomic.Int32 // connections accepted
	frozen   atomic.Bool  // while set, the server reads nothing: a peer that vanished
	mu       sync.Mutex
	live     []net.Conn
}

func newTestServer(t *testing.T, clientKey ssh.PublicKey, hostKeys ...ssh.Signer) *testServer {
	t.Helper()
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(clientKey.Marshal()) {
			return nil, nil
		}
		return nil, os.ErrPermission
	}}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{addr: l.Addr().String(), hostKeys: hostKeys}
	t.Cleanup(func() { l.Close(); s.dropAll() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.mu.Lock()
			s.live = append(s.live, c)
			s.mu.Unlock()
			go s.serve(&freezable{Conn: c, frozen: &s.frozen}, cfg)
		}
	}()
	return s
}

// dropAll cuts every connection, as a network failure would.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.live {
		c.Close()
	}
	s.live = nil
}

func (s *testServer) serve(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go s.session(ch, creqs)
		case "direct-tcpip":
			p := nc.ExtraData()
			hl := binary.BigEndian.Uint32(p)
			host := string(p[4 : 4+hl])
			port := binary.BigEndian.Uint32(p[4+hl:])
			out, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
			if err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				out.Close()
				continue
			}
			go ssh.DiscardRequests(creqs)
			go func() { io.Copy(ch, out); ch.Close() }()
			go func() { io.Copy(out, ch); out.Close() }()
		default:
			nc.Reject(ssh.UnknownChannelType, "no")
		}
	}
}

func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for r := range reqs {
		if r.Type != "exec" {
			r.Reply(false, nil)
			continue
		}
		r.Reply(true, nil)
		n := binary.BigEndian.Uint32(r.Payload)
		cmd := exec.Command("/bin/sh", "-c", string(r.Payload[4:4+n]))
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
		code := 0
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.Sys().(syscall.WaitStatus).ExitStatus()
			} else {
				code = 127
			}
		}
		ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
		return
	}
}

func ed25519Signer(t *testing.T) ssh.Signer {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rsaSigner(t *testing.T) ssh.Signer {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ecdsaSigner(t *testing.T) ssh.Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeClientKey writes an OpenSSH private key file and returns its signer.
func writeClientKey(t *testing.T, dir string, passphrase string) (string, ssh.Signer) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	var blk *pem.Block
	var err error
	if passphrase == "" {
		blk, err = ssh.MarshalPrivateKey(k, "test")
	} else {
		blk, err = ssh.MarshalPrivateKeyWithPassphrase(k, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "id_"+strconv.Itoa(len(passphrase)))
	if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(k)
	return p, s
}

// freezable stops delivering data while frozen, like a host whose cable was
// pulled: nothing is refused, nothing is answered.
type freezable struct {
	net.Conn
	frozen *atomic.Bool
}

func (f *freezable) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	for f.frozen.Load() && err == nil {
		time.Sleep(5 * time.Millisecond)
	}
	return n, err
}
