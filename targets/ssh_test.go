package targets

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

type sshFixture struct {
	dir, key, known string
	signer          ssh.Signer
}

func newSSHFixture(t *testing.T) sshFixture {
	t.Setenv("SSH_AUTH_SOCK", "") // hermetic: no agent keys from the environment
	dir := t.TempDir()
	key, signer := writeClientKey(t, dir, "")
	return sshFixture{dir: dir, key: key, known: filepath.Join(dir, "known_hosts"), signer: signer}
}

func (f sshFixture) trust(t *testing.T, addr string, k ssh.PublicKey) {
	fh, err := os.OpenFile(f.known, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, k) + "\n")
}

func (f sshFixture) host(p *Pool, addr string, mod ...func(*SSHConfig)) *SSHHost {
	h, port, _ := net.SplitHostPort(addr)
	cfg := SSHConfig{User: "root", Port: atoi(port), PrivateKey: f.key, KnownHosts: f.known, ConnectTimeout: 5 * time.Second, Attempts: 1}
	for _, m := range mod {
		m(&cfg)
	}
	return p.Host("h", h, cfg)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestSSHUnknownHostKeyIsRefusedWithFingerprint(t *testing.T) {
	f := newSSHFixture(t)
	hk := ed25519Signer(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	p := NewPool(Options{})
	defer p.Close()
	_, err := f.host(p, srv.addr).Run(context.Background(), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrUnknownHostKey) {
		t.Fatalf("err = %v, want ErrUnknownHostKey", err)
	}
	fp := ssh.FingerprintSHA256(hk.PublicKey())
	if !strings.Contains(err.Error(), fp) || !strings.Contains(err.Error(), "--accept-new-host-keys") {
		t.Errorf("error does not show the fingerprint %s and how to trust it: %v", fp, err)
	}
	if _, err := os.Stat(f.known); err == nil {
		t.Error("known_hosts was written without --accept-new-host-keys")
	}
}

func TestSSHAcceptNewHostKeysThenKnown(t *testing.T) {
	f := newSSHFixture(t)
	hk := ed25519Signer(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	var log bytes.Buffer
	p := NewPool(Options{AcceptNewHostKeys: true, Log: &log})
	r, err := f.host(p, srv.addr).Run(context.Background(), Command{Args: []string{"echo", "hi"}})
	p.Close()
	if err != nil || string(r.Stdout) != "hi\n" {
		t.Fatalf("Run = %q, %v", r.Stdout, err)
	}
	data, _ := os.ReadFile(f.known)
	if !strings.Contains(string(data), knownhosts.Normalize(srv.addr)) || !strings.Contains(log.String(), ssh.FingerprintSHA256(hk.PublicKey())) {
		t.Errorf("known_hosts = %q, log = %q", data, log.String())
	}
	// Now known: a strict pool connects.
	p2 := NewPool(Options{})
	defer p2.Close()
	if _, err := f.host(p2, srv.addr).Run(context.Background(), Command{Args: []string{"true"}}); err != nil {
		t.Errorf("after trusting: %v", err)
	}
}

func TestSSHChangedHostKeyAlwaysFails(t *testing.T) {
	f := newSSHFixture(t)
	srv := newTestServer(t, f.signer.PublicKey(), ed25519Signer(t))
	f.trust(t, srv.addr, ed25519Signer(t).PublicKey()) // some other key
	before, _ := os.ReadFile(f.known)
	p := NewPool(Options{AcceptNewHostKeys: true})
	defer p.Close()
	_, err := f.host(p, srv.addr).Run(context.Background(), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrHostKeyChanged) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrHostKeyChanged (even with accept-new)", err)
	}
	if after, _ := os.ReadFile(f.known); !bytes.Equal(before, after) {
		t.Error("known_hosts changed after a host key mismatch")
	}
}

func TestSSHNegotiatesTheKnownHostKeyType(t *testing.T) {
	f := newSSHFixture(t)
	ed, rs, ec := ed25519Signer(t), rsaSigner(t), ecdsaSigner(t)
	srv := newTestServer(t, f.signer.PublicKey(), ed, ec, rs)
	f.trust(t, srv.addr, rs.PublicKey()) // only the RSA key is known
	p := NewPool(Options{})
	defer p.Close()
	if _, err := f.host(p, srv.addr).Run(context.Background(), Command{Args: []string{"true"}}); err != nil {
		t.Fatalf("host with several keys, RSA known: %v", err)
	}
	kh := &knownHosts{path: f.known, mu: &p.knownMu}
	if got := kh.algorithms(srv.addr); len(got) == 0 || got[0] != ssh.KeyAlgoRSASHA512 {
		t.Errorf("algorithms = %v", got)
	}
	if got := kh.algorithms("127.0.0.1:1"); got != nil {
		t.Errorf("algorithms of an unknown host = %v, want nil (server's choice)", got)
	}
}

func TestSSHRunUploadAndReuse(t *testing.T) {
	f := newSSHFixture(t)
	hk := ecdsaSigner(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	f.trust(t, srv.addr, hk.PublicKey())
	p := NewPool(Options{})
	defer p.Close()
	h := f.host(p, srv.addr)
	ctx := context.Background()
	r, err := h.Run(ctx, Command{Args: []string{"sh", "-c", `cat; echo " $A"; echo e >&2; exit 4`}, Stdin: strings.NewReader("in"), Env: map[string]string{"A": "it's"}})
	if err != nil || string(r.Stdout) != "in it's\n" || string(r.Stderr) != "e\n" || r.ExitCode != 4 {
		t.Fatalf("Run = %q %q %d %v", r.Stdout, r.Stderr, r.ExitCode, err)
	}
	dst := filepath.Join(t.TempDir(), "d", "file")
	if err := h.Upload(ctx, dst, strings.NewReader("payload"), 0o640, sha("payload")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "payload" {
		t.Errorf("uploaded %q", b)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	err = h.Upload(ctx, dst, strings.NewReader("evil"), 0o640, sha("payload"))
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "payload" {
		t.Errorf("a failed upload replaced the file: %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dst)); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	for range 5 {
		h.Run(ctx, Command{Args: []string{"true"}})
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for 8 calls, want 1 (reused)", n)
	}
	// A dropped connection is redialled on the next call.
	srv.dropAll()
	time.Sleep(50 * time.Millisecond)
	if r, err := h.Run(ctx, Command{Args: []string{"echo", "back"}}); err != nil || string(r.Stdout) != "back\n" {
		t.Fatalf("after a dropped connection: %q %v", r.Stdout, err)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("connections = %d, want 2", n)
	}
}

func TestSSHBastion(t *testing.T) {
	f := newSSHFixture(t)
	bk, tk := ed25519Signer(t), ed25519Signer(t)
	bastion := newTestServer(t, f.signer.PublicKey(), bk)
	target := newTestServer(t, f.signer.PublicKey(), tk)
	f.trust(t, bastion.addr, bk.PublicKey())
	f.trust(t, target.addr, tk.PublicKey())
	p := NewPool(Options{})
	defer p.Close()
	h := f.host(p, target.addr, func(c *SSHConfig) { c.Bastion = "root@" + bastion.addr })
	r, err := h.Run(context.Background(), Command{Args: []string{"echo", "via"}})
	if err != nil || string(r.Stdout) != "via\n" {
		t.Fatalf("through bastion: %q %v", r.Stdout, err)
	}
	if bastion.conns.Load() != 1 || target.conns.Load() != 1 {
		t.Errorf("connections: bastion %d, target %d", bastion.conns.Load(), target.conns.Load())
	}
}

func TestSSHKeys(t *testing.T) {
	f := newSSHFixture(t)
	enc, _ := writeClientKey(t, f.dir, "secret")
	_, err := LoadPrivateKey(enc)
	if !errors.Is(err, ErrEncryptedKey) || !strings.Contains(err.Error(), "ssh-add") {
		t.Errorf("encrypted key: %v", err)
	}
	srv := newTestServer(t, f.signer.PublicKey(), ed25519Signer(t))
	p := NewPool(Options{AcceptNewHostKeys: true, Log: io.Discard})
	defer p.Close()
	_, err = f.host(p, srv.addr, func(c *SSHConfig) { c.PrivateKey = enc }).Run(context.Background(), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrEncryptedKey) {
		t.Errorf("connecting with an encrypted key and no agent: %v", err)
	}
	// A wrong key fails at once (no retries), as not unreachable.
	other, _ := writeClientKey(t, t.TempDir(), "")
	begin := time.Now()
	_, err = f.host(p, srv.addr, func(c *SSHConfig) { c.PrivateKey = other; c.Attempts = 3 }).Run(context.Background(), Command{Args: []string{"true"}})
	if err == nil || errors.Is(err, ErrUnreachable) || time.Since(begin) > 2*time.Second {
		t.Errorf("wrong key: %v after %s", err, time.Since(begin))
	}
}

func TestSSHUnreachableRetriesThenFails(t *testing.T) {
	f := newSSHFixture(t)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	p := NewPool(Options{})
	defer p.Close()
	begin := time.Now()
	_, err := f.host(p, addr, func(c *SSHConfig) { c.Attempts = 3 }).Run(context.Background(), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v", err)
	}
	// 250 ms + 500 ms of backoff between the three attempts.
	if d := time.Since(begin); d < 700*time.Millisecond || d > 5*time.Second {
		t.Errorf("three attempts took %s", d)
	}
}

func TestSSHCommandLine(t *testing.T) {
	no := false
	p := NewPool(Options{})
	for _, tc := range []struct {
		user string
		sudo *bool
		cmd  Command
		want string
	}{
		{"root", nil, Command{Args: []string{"ls", "/a b"}, Sudo: true}, "ls '/a b'"},
		{"hadoop", nil, Command{Args: []string{"ls"}, Sudo: true}, "sudo -n ls"},
		{"hadoop", nil, Command{Args: []string{"ls"}}, "ls"},
		{"hadoop", &no, Command{Args: []string{"ls"}, Sudo: true}, "ls"},
		{"hadoop", nil, Command{Shell: "a | b", Sudo: true, Env: map[string]string{"B": "2", "A": "x y"}}, "sudo -n env 'A=x y' B=2 sh -c 'a | b'"},
	} {
		h := p.Host("h", "10.0.0.1", SSHConfig{User: tc.user, Sudo: tc.sudo})
		if got, _ := h.commandLine(tc.cmd); got != tc.want {
			t.Errorf("%s %+v: %q, want %q", tc.user, tc.cmd, got, tc.want)
		}
	}
}

func TestSSHKeepaliveDropsADeadConnection(t *testing.T) {
	f := newSSHFixture(t)
	hk := ed25519Signer(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	f.trust(t, srv.addr, hk.PublicKey())
	p := NewPool(Options{KeepaliveInterval: 50 * time.Millisecond})
	defer p.Close()
	h := f.host(p, srv.addr)
	ctx := context.Background()
	if _, err := h.Run(ctx, Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	srv.frozen.Store(true)
	pc, _ := p.entry(h.key())
	deadline := time.Now().Add(5 * time.Second)
	for {
		pc.mu.Lock()
		gone := pc.client == nil
		pc.mu.Unlock()
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a connection whose peer stopped answering keepalives was kept")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.frozen.Store(false)
	if r, err := h.Run(ctx, Command{Args: []string{"echo", "again"}}); err != nil || string(r.Stdout) != "again\n" {
		t.Fatalf("after the keepalive failure: %q %v", r.Stdout, err)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("connections = %d, want a fresh second one", n)
	}
}

// Dialling many hosts parses known_hosts and the key once per pool, not once
// per host; a changed file (a line added) is read again.
func TestSSHPoolParsesKnownHostsOnce(t *testing.T) {
	f := newSSHFixture(t)
	p := NewPool(Options{})
	defer p.Close()
	var srvs []*testServer
	var keys []ssh.Signer
	for range 4 {
		hk := ed25519Signer(t)
		srvs, keys = append(srvs, newTestServer(t, f.signer.PublicKey(), hk)), append(keys, hk)
	}
	for i := range 3 {
		f.trust(t, srvs[i].addr, keys[i].PublicKey())
	}
	for i := range 3 {
		if _, err := f.host(p, srvs[i].addr).Run(context.Background(), Command{Args: []string{"true"}}); err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
	}
	// The fourth is trusted only now: the cached parse must not hide it.
	f.trust(t, srvs[3].addr, keys[3].PublicKey())
	last := srvs[3]
	if got := p.known[f.known].loads; got != 1 {
		t.Errorf("known_hosts parsed %d times for 3 hosts, want 1", got)
	}
	if n := len(p.auths); n != 1 {
		t.Errorf("%d auth loads, want 1", n)
	}
	if _, err := f.host(p, last.addr).Run(context.Background(), Command{Args: []string{"true"}}); err != nil {
		t.Fatalf("host trusted after the first parse: %v", err)
	}
	if got := p.known[f.known].loads; got != 2 {
		t.Errorf("known_hosts parsed %d times after it changed, want 2", got)
	}
}

// TestSSHUploadPathIsData uploads to paths full of shell syntax: the file
// must land at exactly that path and nothing in the path may run (the temp
// name was once built from path.Base(dst) unquoted, so
// secret_file = "/etc/hactl/s$(id>/tmp/p)" ran id).
func TestSSHUploadPathIsData(t *testing.T) {
	f := newSSHFixture(t)
	hk := ecdsaSigner(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	f.trust(t, srv.addr, hk.PublicKey())
	p := NewPool(Options{})
	defer p.Close()
	h := f.host(p, srv.addr)
	root := t.TempDir()
	marker := filepath.Join(root, "ran")
	// The in-process server's shell inherits this environment; a file name
	// cannot hold the marker's path (it has slashes), so it names the variable.
	t.Setenv("HACTL_TEST_MARKER", marker)
	for _, name := range []string{
		"s$(touch $HACTL_TEST_MARKER)",
		"s`touch $HACTL_TEST_MARKER`",
		"it's; touch $HACTL_TEST_MARKER",
		"-n \"$HOME\" *",
	} {
		dir := filepath.Join(root, "d $(touch $HACTL_TEST_MARKER)")
		dst := filepath.Join(dir, name)
		if err := h.Upload(context.Background(), dst, strings.NewReader("secret"), 0o600, sha("secret")); err != nil {
			t.Fatalf("upload %q: %v", dst, err)
		}
		if b, err := os.ReadFile(dst); err != nil || string(b) != "secret" {
			t.Errorf("%q holds %q (%v), want the uploaded data", dst, b, err)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("uploading to %q ran a command embedded in the path", dst)
		}
	}
}
