package targets

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// oneSSHHost is an in-process SSH server reached through one pooled host
// "h"; srv.conns counts the connections it accepted.
func oneSSHHost(t *testing.T) (*testServer, map[string]Host) {
	t.Helper()
	f := newSSHFixture(t)
	hk := ed25519Signer(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	f.trust(t, srv.addr, hk.PublicKey())
	p := NewPool(Options{})
	t.Cleanup(func() { p.Close() })
	return srv, map[string]Host{"h": f.host(p, srv.addr)}
}

// A refused connection means the address is reachable and nothing listens:
// the ZooKeeper probe does not go on to try it through every SSH host.
func TestZooKeeperDialRefusedIsNotTunnelled(t *testing.T) {
	srv, hosts := oneSSHHost(t)
	l, err := net.Listen("tcp", "127.0.2.40:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, err = zkDialer(hosts)(context.Background(), closed, time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", closed, err)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Errorf("%d SSH connections for a refused address, want 0", n)
	}
}

// An address this machine cannot reach (timeout, no route) is dialled
// through an SSH host, which can.
func TestZooKeeperDialTunnelsWhenUnreachable(t *testing.T) {
	srv, hosts := oneSSHHost(t)
	l, err := net.Listen("tcp", "127.0.2.41:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("imok"))
			c.Close()
		}
	}()
	unreachable := func(context.Context, string, time.Duration) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	conn, err := tunnelDialer(unreachable, hosts)(context.Background(), l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("through the SSH host: %v", err)
	}
	b, _ := io.ReadAll(conn)
	conn.Close()
	if string(b) != "imok" || srv.conns.Load() != 1 {
		t.Errorf("read %q over %d SSH connections", b, srv.conns.Load())
	}
}

func TestZooKeeperTunnelHostsPrefersTheServersOwnHost(t *testing.T) {
	p := NewPool(Options{})
	defer p.Close()
	a := p.Host("a", "10.0.0.1", SSHConfig{})
	b := p.Host("b", "10.0.0.2", SSHConfig{})
	c := p.Host("c", "10.0.0.3", SSHConfig{})
	got := tunnelHosts([]*SSHHost{a, b, c}, "10.0.0.3:2181")
	if len(got) != 2 || got[0] != c || got[1] != a {
		t.Errorf("tunnel hosts for c's server: %v", got)
	}
	got = tunnelHosts([]*SSHHost{a, b, c}, "zk.example:2181")
	if len(got) != 1 || got[0] != a {
		t.Errorf("tunnel hosts for an outside server: %v", got)
	}
}

// A host reached through a bastion has a private address: the target's
// dialer never tries it directly (a private address from outside costs a
// connect timeout per call) and goes through the host's SSH connection,
// which itself runs through the bastion.
func TestDialerGoesThroughSSHForHostsBehindABastion(t *testing.T) {
	f := newSSHFixture(t)
	hk := ed25519Signer(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	f.trust(t, srv.addr, hk.PublicKey())
	p := NewPool(Options{})
	t.Cleanup(func() { p.Close() })
	h := f.host(p, srv.addr, func(c *SSHConfig) { c.Bastion = srv.addr })
	hosts := map[string]Host{"h": h}

	ip, _, _ := net.SplitHostPort(srv.addr)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ready"))
			c.Close()
		}
	}()
	direct := 0
	never := func(context.Context, string, time.Duration) (net.Conn, error) {
		direct++
		return nil, errors.New("dialled directly")
	}
	conn, err := tunnelDialer(never, hosts)(context.Background(), l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("through the bastion: %v", err)
	}
	b, _ := io.ReadAll(conn)
	conn.Close()
	if string(b) != "ready" || direct != 0 {
		t.Errorf("read %q, %d direct dials", b, direct)
	}
	// Bastion, then the host through it.
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("%d SSH connections, want 2 (the bastion, the host through it)", n)
	}

	// The exported dialer, as apply gets it.
	conn, err = Dialer(hosts, 5*time.Second)(context.Background(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

// An EC2 instance with a public address: SSH connects there, the cluster
// names the private one, which this machine cannot reach. The dialer goes
// straight through the instance's SSH connection.
func TestDialerGoesThroughSSHForHostsReachedAtAnotherAddress(t *testing.T) {
	f := newSSHFixture(t)
	hk := ed25519Signer(t)
	srv := newTestServer(t, f.signer.PublicKey(), hk)
	f.trust(t, srv.addr, hk.PublicKey())
	p := NewPool(Options{})
	t.Cleanup(func() { p.Close() })
	sshIP, _, _ := net.SplitHostPort(srv.addr)
	l, err := net.Listen("tcp", "127.0.2.43:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ready"))
			c.Close()
		}
	}()
	// The host's (private) address is the listener's; SSH goes to the server.
	h := f.host(p, srv.addr, func(c *SSHConfig) { c.ConnectAddress = sshIP })
	h.address = "127.0.2.43"
	direct := 0
	never := func(context.Context, string, time.Duration) (net.Conn, error) {
		direct++
		return nil, errors.New("dialled directly")
	}
	conn, err := tunnelDialer(never, map[string]Host{"h": h})(context.Background(), l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("through the instance's SSH: %v", err)
	}
	b, _ := io.ReadAll(conn)
	conn.Close()
	if string(b) != "ready" || direct != 0 || srv.conns.Load() != 1 {
		t.Errorf("read %q, %d direct dials, %d SSH connections", b, direct, srv.conns.Load())
	}
}
