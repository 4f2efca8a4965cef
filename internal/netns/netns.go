// Package netns gives integration tests and benchmarks real hosts: network
// namespaces on a private bridge, each with its own sshd, its own /opt, /tmp,
// /root and /run, and its own view of /etc, /var/lib and /var/log (overlays
// over this machine's: installed packages such as ZooKeeper stay visible,
// every write stays on the host). Everything is named with a random prefix
// and removed by Close (New registers it with t.Cleanup).
package netns

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
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

// Options shape the hosts.
type Options struct {
	Hosts int    // how many (1..200)
	Dir   string // where keys and the hosts' private trees live; default a new dir under /var/tmp
	// Logf, when set, receives progress lines.
	Logf func(format string, args ...any)
}

// Host is one namespace host.
type Host struct {
	Name    string // h1, h2, …
	NS      string // network namespace name
	Addr    string // 10.231.S.(10+i)
	Root    string // this machine's directory holding the host's private trees
	HostKey ssh.PublicKey
	veth    string
	sshd    *exec.Cmd
	exited  chan struct{}
}

// trees maps what a host sees to where this machine keeps it: private
// directories directly, overlays by their upper (written) layer.
var trees = []struct{ hostPath, sub string }{
	{"/opt", "opt"}, {"/tmp", "tmp"}, {"/root", "root"},
	{"/etc", "etc.up"}, {"/var/lib", "varlib.up"}, {"/var/log", "varlog.up"},
}

// Path returns where this machine sees the host's file abs, for abs under
// /opt, /tmp or /root (the host's own trees) or under /etc, /var/lib or
// /var/log (what the host wrote there; the rest is this machine's).
func (h *Host) Path(abs string) string {
	for _, t := range trees {
		if abs == t.hostPath || strings.HasPrefix(abs, t.hostPath+"/") {
			return filepath.Join(h.Root, t.sub, strings.TrimPrefix(abs, t.hostPath))
		}
	}
	panic(fmt.Sprintf("netns: %s is not in a host-private tree", abs))
}

// Trees lists the host-private trees as (path on the host, path on this
// machine) pairs, for checks that walk everything a host wrote.
func (h *Host) Trees() [][2]string {
	var out [][2]string
	for _, t := range trees {
		out = append(out, [2]string{t.hostPath, filepath.Join(h.Root, t.sub)})
	}
	return out
}

// SSHDPid is the pid of the host's sshd (its mount and network namespaces
// are the host's), 0 once it is gone.
func (h *Host) SSHDPid() int {
	if h.sshd == nil || h.sshd.Process == nil {
		return 0
	}
	return h.sshd.Process.Pid
}

// Exec runs a shell script inside the host's namespaces (what the host
// itself sees), without going through SSH.
func (h *Host) Exec(ctx context.Context, script string) (string, error) {
	pid := h.SSHDPid()
	if pid == 0 {
		return "", fmt.Errorf("%s: sshd not running", h.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(pid), "-m", "-n", "--", "sh", "-c", script).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s: %w: %s", h.Name, script, err, out)
	}
	return string(out), nil
}

// Pids returns every process in the host's network namespace.
func (h *Host) Pids() []int {
	out, err := exec.Command("ip", "netns", "pids", h.NS).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// KillDaemons kill -9s every process of the host except its sshd (a crash of
// everything running there while the host stays reachable) and returns what
// it killed.
func (h *Host) KillDaemons() ([]int, error) {
	var victims []int
	for _, p := range h.Pids() {
		if p != h.SSHDPid() {
			victims = append(victims, p)
		}
	}
	return victims, KillAll(victims, 10*time.Second)
}

// Cluster is a set of namespace hosts on one bridge.
type Cluster struct {
	Hosts      []*Host
	Subnet     string // 10.231.S.0/24
	Gateway    string // the bridge's address (this machine, seen from the hosts)
	Dir        string
	ClientKey  string // private key file (ed25519) authorized for root on every host
	KnownHosts string // known_hosts listing every host's key
	bridge     string
	ownDir     bool
	logf       func(string, ...any)
}

// Available says why namespace hosts cannot be made here (nil when they can).
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	for _, p := range []string{"ip", "unshare", "nsenter", "mount"} {
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
	_ = exec.Command("ip", "netns", "del", name).Run()
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func run(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pickSubnet chooses a random 10.231.S.0/24 (S in 10..250) unused here.
func pickSubnet() (int, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip4 := ipn.IP.To4(); ip4 != nil && ip4[0] == 10 && ip4[1] == 231 {
				used[int(ip4[2])] = true
			}
		}
	}
	for range 100 {
		b := make([]byte, 1)
		_, _ = rand.Read(b)
		if s := 10 + int(b[0])%241; !used[s] {
			return s, nil
		}
	}
	return 0, errors.New("no free 10.231.S.0/24 subnet")
}

// New creates the hosts for a test, or skips it when this machine cannot.
// Everything is removed in t.Cleanup, also when the test fails.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("netns hosts unavailable: %v", err)
	}
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Create(ctx, o)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Create makes the hosts and waits for every sshd. On error everything made
// so far is removed; otherwise the caller must Close the cluster.
func Create(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Hosts <= 0 || o.Hosts > 200 {
		return nil, fmt.Errorf("%d hosts (1 to 200)", o.Hosts)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	subnet, err := pickSubnet()
	if err != nil {
		return nil, err
	}
	prefix := "hx" + randHex(3)
	c := &Cluster{
		Subnet: fmt.Sprintf("10.231.%d.0/24", subnet), Gateway: fmt.Sprintf("10.231.%d.1", subnet),
		Dir: o.Dir, bridge: prefix + "br", logf: o.Logf,
	}
	if c.Dir == "" {
		// Not under /tmp: each host gets its own /tmp, yet sshd must still
		// read its keys from here after the mounts.
		if c.Dir, err = os.MkdirTemp("/var/tmp", "hactl-netns-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	} else if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	clientKey, clientPub, err := writeKey(filepath.Join(c.Dir, "id_ed25519"))
	if err != nil {
		return nil, err
	}
	c.ClientKey = clientKey
	authorized := filepath.Join(c.Dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		return nil, err
	}
	for _, cmd := range [][]string{
		{"ip", "link", "add", c.bridge, "type", "bridge"},
		{"ip", "addr", "add", c.Gateway + "/24", "dev", c.bridge},
		{"ip", "link", "set", c.bridge, "up"},
	} {
		if err := run(ctx, cmd...); err != nil {
			return nil, err
		}
	}
	var known strings.Builder
	for i := range o.Hosts {
		h := &Host{
			Name: "h" + strconv.Itoa(i+1), NS: fmt.Sprintf("%sh%d", prefix, i+1),
			Addr: fmt.Sprintf("10.231.%d.%d", subnet, 11+i), Root: filepath.Join(c.Dir, "h"+strconv.Itoa(i+1)),
			veth: fmt.Sprintf("%sv%d", prefix, i+1),
		}
		c.Hosts = append(c.Hosts, h)
		if err := c.startHost(ctx, h, authorized); err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		fmt.Fprintln(&known, knownhosts.Line([]string{h.Addr}, h.HostKey))
	}
	c.KnownHosts = filepath.Join(c.Dir, "known_hosts")
	if err := os.WriteFile(c.KnownHosts, []byte(known.String()), 0o600); err != nil {
		return nil, err
	}
	for _, h := range c.Hosts {
		if err := c.waitSSH(ctx, h, 15*time.Second); err != nil {
			return nil, err
		}
	}
	o.Logf("netns: %d hosts on %s", len(c.Hosts), c.Subnet)
	return c, nil
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

// startHost makes the namespace, links it to the bridge and starts its sshd
// in a private mount namespace.
func (c *Cluster) startHost(ctx context.Context, h *Host, authorized string) error {
	for _, d := range []string{"opt", "tmp", "root", "etc.up", "etc.wk", "varlib.up", "varlib.wk", "varlog.up", "varlog.wk"} {
		if err := os.MkdirAll(filepath.Join(h.Root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(h.Root, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(h.Root, "root"), 0o700); err != nil {
		return err
	}
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
		if err := run(ctx, cmd...); err != nil {
			return err
		}
	}
	hostKey := filepath.Join(h.Root, "ssh_host_ed25519_key")
	_, hostPub, err := writeKey(hostKey)
	if err != nil {
		return err
	}
	h.HostKey = hostPub
	// sshd's keys are copied to the private /run, and /tmp is mounted last,
	// because Root may lie under this machine's /tmp (t.TempDir()). /root is private so that this machine's
	// shell start-up files (pyenv, nvm…) do not run in every SSH session.
	script := fmt.Sprintf(`set -e
mount --bind %[1]s/opt /opt
mount -t overlay overlay -o lowerdir=/etc,upperdir=%[1]s/etc.up,workdir=%[1]s/etc.wk /etc
mount -t overlay overlay -o lowerdir=/var/lib,upperdir=%[1]s/varlib.up,workdir=%[1]s/varlib.wk /var/lib
mount -t overlay overlay -o lowerdir=/var/log,upperdir=%[1]s/varlog.up,workdir=%[1]s/varlog.wk /var/log
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/netns-sshd /run/lock
chmod 1777 /run/lock
cp %[2]s %[3]s /run/netns-sshd/
mount --bind %[1]s/root /root
mount --bind %[1]s/tmp /tmp
exec /usr/sbin/sshd -D -e -f /dev/null -o HostKey=/run/netns-sshd/ssh_host_ed25519_key \
  -o AuthorizedKeysFile=/run/netns-sshd/authorized_keys -o PidFile=none -o ListenAddress=%[4]s \
  -o StrictModes=no -o PermitRootLogin=prohibit-password -o UsePAM=no -o PasswordAuthentication=no \
  -o KbdInteractiveAuthentication=no -o MaxSessions=100 -o MaxStartups=200 -o UseDNS=no \
  -o PrintMotd=no -o LogLevel=ERROR -o AllowTcpForwarding=yes
`, shq(h.Root), shq(hostKey), shq(authorized), h.Addr)
	logf, err := os.Create(filepath.Join(h.Root, "sshd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", h.NS, "unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a test's Ctrl-C must not kill the hosts before Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	h.sshd, h.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(h.exited) }()
	return nil
}

func (c *Cluster) waitSSH(ctx context.Context, h *Host, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr, "22"), 500*time.Millisecond)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-h.exited:
			log, _ := os.ReadFile(filepath.Join(h.Root, "sshd.log"))
			return fmt.Errorf("%s: sshd exited: %s", h.Name, log)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: sshd not listening on %s after %s: %v", h.Name, h.Addr, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Host returns the host called name, or nil.
func (c *Cluster) Host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

func (c *Cluster) link(name, state string) error {
	h := c.Host(name)
	if h == nil {
		return fmt.Errorf("netns: no host %s", name)
	}
	return run(context.Background(), "ip", "link", "set", h.veth, state)
}

// Cut takes host name off the network (its link goes down); its processes
// keep running, as with a pulled cable.
func (c *Cluster) Cut(name string) error { return c.link(name, "down") }

// Restore puts a cut host back on the network.
func (c *Cluster) Restore(name string) error { return c.link(name, "up") }

// Isolate makes host name unreachable from this machine while it stays on
// the network: its packets to the bridge's address (this machine) are
// refused by its own routing table, so this machine's connections to it
// time out and the other hosts still reach it (a host in a private VPC,
// reached only through a bastion).
func (c *Cluster) Isolate(name string) error {
	h := c.Host(name)
	if h == nil {
		return fmt.Errorf("netns: no host %s", name)
	}
	return run(context.Background(), "ip", "netns", "exec", h.NS, "ip", "route", "add", "prohibit", c.Gateway+"/32")
}

// Close kills every process in the hosts' namespaces (sshd and whatever ran
// through it), then deletes the namespaces, links and bridge, and the
// directory when Create made it. Safe to call more than once.
func (c *Cluster) Close() {
	for _, h := range c.Hosts {
		// Loop: a supervisor may fork a new child while we kill.
		for range 5 {
			pids := h.Pids()
			if len(pids) == 0 {
				break
			}
			_ = KillAll(pids, 5*time.Second)
		}
		if pid := h.SSHDPid(); pid != 0 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-h.exited:
			case <-time.After(5 * time.Second):
			}
		}
		_ = exec.Command("ip", "netns", "del", h.NS).Run()
		_ = exec.Command("ip", "link", "del", h.veth).Run() // gone with the namespace, normally
	}
	if c.bridge != "" {
		_ = exec.Command("ip", "link", "del", c.bridge).Run()
	}
	if c.ownDir {
		_ = os.RemoveAll(c.Dir)
	}
	c.Hosts, c.bridge, c.ownDir = nil, "", false
}

// KillAll sends SIGKILL to pids and waits (bounded) until they are gone.
func KillAll(pids []int, wait time.Duration) error {
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		alive := 0
		for _, p := range pids {
			if Alive(p) {
				alive++
			}
		}
		if alive == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("processes %v still alive after SIGKILL and %s", pids, wait)
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
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
// hosts must lie in a host-private tree (/opt, /var/lib, /var/log, /tmp).
func (c *Cluster) SSHHCL() string {
	return fmt.Sprintf("ssh {\n  user        = \"root\"\n  private_key = %q\n  known_hosts = %q\n}\n", c.ClientKey, c.KnownHosts)
}
