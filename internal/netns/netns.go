// Package netns gives integration tests real hosts: network namespaces on a
// private bridge, each with its own sshd and its own /opt, /var/lib, /tmp and
// hactl directories, created per test and always torn down.
package netns

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultPrivateDirs are bind-mounted per host from empty directories, so
// each host sees its own (and hactl's dirs below them are ordinary, removable
// directories, as on a real machine). /var/run is /run on Debian. /root is
// private so that the test machine's shell start-up files (pyenv, nvm…) do
// not run in every SSH session: the hosts look like fresh machines.
var DefaultPrivateDirs = []string{"/opt", "/var/lib", "/var/log", "/run", "/tmp", "/root"}

// DefaultCopiedDirs are private per host but start as a copy of this
// machine's (sshd and every program need /etc; hactl writes /etc/hactl).
var DefaultCopiedDirs = []string{"/etc"}

// Options shape the test hosts.
type Options struct {
	Hosts       int      // how many (1..200)
	PrivateDirs []string // default DefaultPrivateDirs
	CopiedDirs  []string // default DefaultCopiedDirs
}

// Host is one namespace host.
type Host struct {
	Name    string // h1, h2, …
	NS      string // network namespace name
	Addr    string // 10.231.S.(10+i)
	Root    string // per-host directory; Root+"/opt" is what the host sees as /opt
	HostKey ssh.PublicKey
	veth    string
	sshd    *exec.Cmd
	exited  chan struct{}
	log     string
}

// Path returns where the host's view of abs (a private dir or below) lives.
func (h *Host) Path(abs string) string { return filepath.Join(h.Root, abs) }

// Cluster is a set of namespace hosts on one bridge.
type Cluster struct {
	Hosts      []*Host
	Subnet     string // 10.231.S.0/24
	Gateway    string // the bridge's address (this machine, seen from the hosts)
	Dir        string
	ClientKey  string // private key file (ed25519) authorized for root on every host
	KnownHosts string // known_hosts listing every host's key
	bridge     string
	t          testing.TB
}

// Available says why namespace hosts cannot be made here (nil when they can).
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	for _, p := range []string{"ip", "unshare", "mount"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s not found (apt-get install iproute2 util-linux)", p)
		}
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		return errors.New("sshd not found (scripts/install-test-deps.sh installs openssh-server)")
	}
	// The real test: can this machine (container) make a namespace at all?
	name := "hactl-probe-" + randHex(3)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot create network namespaces: %s", strings.TrimSpace(string(out)))
	}
	exec.Command("ip", "netns", "del", name).Run()
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pickSubnet chooses a random free 10.231.S.0/24 (S in 10..250).
func pickSubnet() int {
	out, _ := exec.Command("ip", "-4", "addr").Output()
	for range 50 {
		n, _ := rand.Int(rand.Reader, big.NewInt(241))
		s := int(n.Int64()) + 10
		if !strings.Contains(string(out), fmt.Sprintf("10.231.%d.", s)) {
			return s
		}
	}
	return 10
}

// New creates the hosts, or skips the test when this machine cannot.
// Everything is removed in t.Cleanup, also when the test fails.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("netns hosts unavailable: %v", err)
	}
	if o.Hosts <= 0 || o.Hosts > 200 {
		t.Fatalf("netns: %d hosts", o.Hosts)
	}
	if o.PrivateDirs == nil {
		o.PrivateDirs = DefaultPrivateDirs
	}
	if o.CopiedDirs == nil {
		o.CopiedDirs = DefaultCopiedDirs
	}
	suffix := randHex(3)
	subnet := pickSubnet()
	// Not under /tmp: each host gets its own /tmp, yet sshd must still read
	// its keys from here after the bind mounts.
	dir, err := os.MkdirTemp("/var/tmp", "hactl-netns-")
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	c := &Cluster{
		Subnet: fmt.Sprintf("10.231.%d.0/24", subnet), Gateway: fmt.Sprintf("10.231.%d.1", subnet),
		Dir: dir, bridge: "hb" + suffix, t: t,
	}
	t.Cleanup(func() {
		c.Teardown()
		os.RemoveAll(dir)
	})
	fail := func(err error) {
		t.Helper()
		t.Fatalf("netns: %v", err)
	}
	// Mount points for the private dirs must exist on the shared filesystem.
	for _, d := range append(append([]string{"/run/sshd"}, o.PrivateDirs...), o.CopiedDirs...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fail(err)
		}
	}
	clientKey, clientPub, err := writeKey(filepath.Join(c.Dir, "id_ed25519"))
	if err != nil {
		fail(err)
	}
	c.ClientKey = clientKey
	authorized := filepath.Join(c.Dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		fail(err)
	}
	for _, cmd := range [][]string{
		{"ip", "link", "add", c.bridge, "type", "bridge"},
		{"ip", "addr", "add", c.Gateway + "/24", "dev", c.bridge},
		{"ip", "link", "set", c.bridge, "up"},
	} {
		if err := run(cmd...); err != nil {
			fail(err)
		}
	}
	var known strings.Builder
	for i := range o.Hosts {
		h := &Host{
			Name: "h" + strconv.Itoa(i+1), NS: fmt.Sprintf("hactl-%s-h%d", suffix, i+1),
			Addr: fmt.Sprintf("10.231.%d.%d", subnet, 11+i), Root: filepath.Join(c.Dir, "h"+strconv.Itoa(i+1)),
			veth: fmt.Sprintf("hv%s%d", suffix, i+1),
		}
		c.Hosts = append(c.Hosts, h)
		if err := c.startHost(h, authorized, o.PrivateDirs, o.CopiedDirs); err != nil {
			fail(fmt.Errorf("%s: %w", h.Name, err))
		}
		fmt.Fprintln(&known, knownhosts.Line([]string{h.Addr}, h.HostKey))
	}
	c.KnownHosts = filepath.Join(c.Dir, "known_hosts")
	if err := os.WriteFile(c.KnownHosts, []byte(known.String()), 0o600); err != nil {
		fail(err)
	}
	for _, h := range c.Hosts {
		if err := c.waitSSH(h, 15*time.Second); err != nil {
			fail(err)
		}
	}
	return c
}

func writeKey(path string) (string, ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		return "", nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	return path, sp, err
}

func (c *Cluster) startHost(h *Host, authorized string, private, copied []string) error {
	for _, cmd := range [][]string{
		{"ip", "netns", "add", h.NS},
		{"ip", "link", "add", h.veth, "type", "veth", "peer", "name", h.veth + "p"},
		{"ip", "link", "set", h.veth + "p", "netns", h.NS},
		{"ip", "link", "set", h.veth, "master", c.bridge},
		{"ip", "link", "set", h.veth, "up"},
		{"ip", "netns", "exec", h.NS, "ip", "addr", "add", h.Addr + "/24", "dev", h.veth + "p"},
		{"ip", "netns", "exec", h.NS, "ip", "link", "set", h.veth + "p", "up"},
		{"ip", "netns", "exec", h.NS, "ip", "link", "set", "lo", "up"},
	} {
		if err := run(cmd...); err != nil {
			return err
		}
	}
	var mounts []string
	for _, d := range copied {
		src := h.Path(d)
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			return err
		}
		if err := run("cp", "-a", d, src); err != nil {
			return err
		}
		mounts = append(mounts, fmt.Sprintf("mount --bind %s %s", shq(src), shq(d)))
	}
	for _, d := range private {
		src := h.Path(d)
		if err := os.MkdirAll(src, 0o755); err != nil {
			return err
		}
		switch d {
		case "/tmp":
			os.Chmod(src, 0o1777)
		case "/root":
			os.Chmod(src, 0o700)
		case "/run":
			os.MkdirAll(filepath.Join(src, "sshd"), 0o755) // sshd's privilege separation dir
			os.MkdirAll(filepath.Join(src, "lock"), 0o755) // /var/lock points here
			os.Chmod(filepath.Join(src, "lock"), 0o1777)
		}
		mounts = append(mounts, fmt.Sprintf("mount --bind %s %s", shq(src), shq(d)))
	}
	_, hostPub, err := writeKey(filepath.Join(h.Root, "ssh_host_ed25519_key"))
	if err != nil {
		return err
	}
	h.HostKey = hostPub
	h.log = filepath.Join(h.Root, "sshd.log")
	sshd := strings.Join([]string{"exec /usr/sbin/sshd -D -e -f /dev/null",
		"-o HostKey=" + shq(filepath.Join(h.Root, "ssh_host_ed25519_key")),
		"-o AuthorizedKeysFile=" + shq(authorized),
		"-o PidFile=none -o ListenAddress=" + h.Addr,
		"-o StrictModes=no -o PermitRootLogin=prohibit-password -o UsePAM=no",
		"-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no",
		"-o MaxStartups=200 -o MaxSessions=20 -o UseDNS=no -o PrintMotd=no -o LogLevel=ERROR",
		"-o AllowTcpForwarding=yes",
	}, " ")
	script := strings.Join(append(mounts, sshd), " && ")
	logf, err := os.Create(h.log)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", h.NS, "unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.sshd, h.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(h.exited) }()
	return nil
}

func (c *Cluster) waitSSH(h *Host, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr, "22"), 500*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-h.exited:
			log, _ := os.ReadFile(h.log)
			return fmt.Errorf("%s: sshd exited: %s", h.Name, log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: sshd not listening on %s after %s: %v", h.Name, h.Addr, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	c.t.Fatalf("netns: no host %s", name)
	return nil
}

// Cut takes host name off the network (its link goes down); its processes
// keep running, as with a pulled cable.
func (c *Cluster) Cut(name string) {
	if err := run("ip", "link", "set", c.host(name).veth, "down"); err != nil {
		c.t.Fatal(err)
	}
}

// Restore puts a cut host back on the network.
func (c *Cluster) Restore(name string) {
	if err := run("ip", "link", "set", c.host(name).veth, "up"); err != nil {
		c.t.Fatal(err)
	}
}

// Exec runs a command inside host name's network namespace (it sees the
// shared filesystem, not the host's private dirs; use Host.Path for those).
func (c *Cluster) Exec(name string, args ...string) ([]byte, error) {
	h := c.host(name)
	return exec.Command("ip", append([]string{"netns", "exec", h.NS}, args...)...).CombinedOutput()
}

// Teardown kills every process in the hosts' namespaces (sshd and whatever
// the test started through it), then deletes namespaces and the bridge.
// It is registered with t.Cleanup by New and safe to call twice.
func (c *Cluster) Teardown() {
	for _, h := range c.Hosts {
		if out, err := exec.Command("ip", "netns", "pids", h.NS).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if h.sshd != nil && h.sshd.Process != nil {
			syscall.Kill(-h.sshd.Process.Pid, syscall.SIGKILL)
			select {
			case <-h.exited:
			case <-time.After(5 * time.Second):
			}
		}
		exec.Command("ip", "netns", "del", h.NS).Run()
		exec.Command("ip", "link", "del", h.veth).Run() // gone with the namespace, normally
	}
	if c.bridge != "" {
		exec.Command("ip", "link", "del", c.bridge).Run()
	}
	c.Hosts = nil
	c.bridge = ""
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }

// HostsHCL renders a `host` block per namespace host (names h1, h2, …).
func (c *Cluster) HostsHCL() string {
	var b strings.Builder
	for _, h := range c.Hosts {
		fmt.Fprintf(&b, "host %q { address = %q }\n", h.Name, h.Addr)
	}
	return b.String()
}

// SSHHCL renders the `ssh` block that reaches the hosts as root with the
// generated key and known_hosts. Data directories of a cluster on these
// hosts must lie in a private dir (e.g. /var/lib/…): the rest of the
// filesystem is shared between them.
func (c *Cluster) SSHHCL() string {
	return fmt.Sprintf("ssh {\n  user        = \"root\"\n  private_key = %q\n  known_hosts = %q\n}\n", c.ClientKey, c.KnownHosts)
}
