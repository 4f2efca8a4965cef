package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lab is a set of SSH hosts, each a network namespace on a private bridge
// with its own sshd and its own /opt, /etc, /var/lib, /var/log, /run and /tmp
// (bind mounts and overlays in a private mount namespace), so that hactl's
// ssh target sees bare machines. Everything it creates is named with a random
// prefix and removed by Close.
type Lab struct {
	Dir        string // holds keys, known_hosts and every host's private trees
	Prefix     string // random name prefix of the bridge, namespaces and links
	Subnet     string // "10.231.N"
	Bridge     string
	Gateway    string // the bridge's address, which this machine uses to reach the hosts
	KeyFile    string // client private key (root on every host)
	KnownHosts string // every host's key, as known_hosts lines
	Hosts      []*LabHost
	logf       func(string, ...any)
}

// LabHost is one namespace host.
type LabHost struct {
	Name string // h1, h2, …
	NS   string // network namespace name
	Addr string // 10.231.N.(10+i)
	Root string // host-private trees on this machine: opt/, upper dirs, tmp/
	veth string
	sshd *exec.Cmd
}

// CanCreateNamespaces returns nil when this machine lets us build a Lab
// (root, ip, sshd, overlayfs, network namespaces), else why not.
func CanCreateNamespaces() error {
	if os.Geteuid() != 0 {
		return errors.New("network-namespace hosts need root")
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/ssh-keygen"} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing (scripts/install-test-deps.sh installs openssh-server): %w", p, err)
		}
	}
	for _, p := range []string{"ip", "unshare", "nsenter"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is missing: %w", p, err)
		}
	}
	name := "hxprobe" + randHex(3)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot create a network namespace (ip netns add): %v: %s", err, out)
	}
	_ = exec.Command("ip", "netns", "del", name).Run()
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pickSubnet chooses 10.231.N.0/24 with N random and unused on this machine.
func pickSubnet() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	used := map[string]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip4 := ipn.IP.To4(); ip4 != nil && ip4[0] == 10 && ip4[1] == 231 {
				used[strconv.Itoa(int(ip4[2]))] = true
			}
		}
	}
	for range 50 {
		b := make([]byte, 1)
		_, _ = rand.Read(b)
		n := 1 + int(b[0])%253
		if !used[strconv.Itoa(n)] {
			return fmt.Sprintf("10.231.%d", n), nil
		}
	}
	return "", errors.New("no free 10.231.N.0/24 subnet")
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// NewLab creates n hosts under dir. On error everything made so far is torn
// down; otherwise the caller must Close the lab.
func NewLab(ctx context.Context, dir string, n int, logf func(string, ...any)) (_ *Lab, err error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	subnet, err := pickSubnet()
	if err != nil {
		return nil, err
	}
	prefix := "hx" + randHex(3)
	l := &Lab{Dir: dir, Prefix: prefix, Subnet: subnet, Bridge: prefix + "br", Gateway: subnet + ".1", logf: logf}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l.KeyFile = filepath.Join(dir, "id_ed25519")
	if err := run(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hactl-e2e", "-f", l.KeyFile); err != nil {
		return nil, err
	}
	pub, err := os.ReadFile(l.KeyFile + ".pub")
	if err != nil {
		return nil, err
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, pub, 0o600); err != nil {
		return nil, err
	}
	if err := run(ctx, "ip", "link", "add", l.Bridge, "type", "bridge"); err != nil {
		return nil, err
	}
	if err := run(ctx, "ip", "addr", "add", l.Gateway+"/24", "dev", l.Bridge); err != nil {
		return nil, err
	}
	if err := run(ctx, "ip", "link", "set", l.Bridge, "up"); err != nil {
		return nil, err
	}
	var known strings.Builder
	for i := 1; i <= n; i++ {
		h := &LabHost{
			Name: fmt.Sprintf("h%d", i),
			NS:   fmt.Sprintf("%sh%d", prefix, i),
			Addr: fmt.Sprintf("%s.%d", subnet, 10+i),
			Root: filepath.Join(dir, fmt.Sprintf("h%d", i)),
			veth: fmt.Sprintf("%sv%d", prefix, i),
		}
		l.Hosts = append(l.Hosts, h)
		if err := l.addHost(ctx, h, authKeys); err != nil {
			return nil, err
		}
		hk, err := os.ReadFile(filepath.Join(h.Root, "hostkey.pub"))
		if err != nil {
			return nil, err
		}
		f := strings.Fields(string(hk))
		fmt.Fprintf(&known, "%s %s %s\n", h.Addr, f[0], f[1])
	}
	l.KnownHosts = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(l.KnownHosts, []byte(known.String()), 0o600); err != nil {
		return nil, err
	}
	for _, h := range l.Hosts {
		if err := waitTCP(ctx, h.Addr+":22", 10*time.Second); err != nil {
			return nil, fmt.Errorf("sshd of %s: %w (log: %s)", h.Name, err, readTail(filepath.Join(h.Root, "sshd.log")))
		}
	}
	return l, nil
}

func readTail(p string) string {
	b, _ := os.ReadFile(p)
	return tail(string(b), 2000)
}

func waitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	return Eventually(timeout, 100*time.Millisecond, func() error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// addHost makes the namespace, links it to the bridge and starts its sshd in
// a private mount namespace.
func (l *Lab) addHost(ctx context.Context, h *LabHost, authKeys string) error {
	for _, d := range []string{"opt", "tmp", "etc.up", "etc.wk", "varlib.up", "varlib.wk", "varlog.up", "varlog.wk"} {
		if err := os.MkdirAll(filepath.Join(h.Root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(h.Root, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := run(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(h.Root, "hostkey")); err != nil {
		return err
	}
	steps := [][]string{
		{"ip", "netns", "add", h.NS},
		{"ip", "link", "add", h.veth, "type", "veth", "peer", "name", h.veth + "p"},
		{"ip", "link", "set", h.veth + "p", "netns", h.NS},
		{"ip", "link", "set", h.veth, "master", l.Bridge},
		{"ip", "link", "set", h.veth, "up"},
		{"ip", "netns", "exec", h.NS, "ip", "addr", "add", h.Addr + "/24", "dev", h.veth + "p"},
		{"ip", "netns", "exec", h.NS, "ip", "link", "set", h.veth + "p", "up"},
		{"ip", "netns", "exec", h.NS, "ip", "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := run(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	r := h.Root
	// sshd's keys are copied to the private /run because /tmp (where the
	// test keeps them) is replaced by the host's own.
	// Overlays keep the machine's packages (java, ZooKeeper's jars, dpkg's
	// database) visible while every write stays on this host.
	script := fmt.Sprintf(`set -e
mount --bind %[1]s/opt /opt
mount -t overlay overlay -o lowerdir=/etc,upperdir=%[1]s/etc.up,workdir=%[1]s/etc.wk /etc
mount -t overlay overlay -o lowerdir=/var/lib,upperdir=%[1]s/varlib.up,workdir=%[1]s/varlib.wk /var/lib
mount -t overlay overlay -o lowerdir=/var/log,upperdir=%[1]s/varlog.up,workdir=%[1]s/varlog.wk /var/log
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/e2e-sshd /run/lock
chmod 1777 /run/lock
cp %[1]s/hostkey %[2]s /run/e2e-sshd/
mount --bind %[1]s/tmp /tmp
exec /usr/sbin/sshd -D -e -f /dev/null -o HostKey=/run/e2e-sshd/hostkey -o AuthorizedKeysFile=/run/e2e-sshd/authorized_keys \
  -o PidFile=none -o ListenAddress=%[3]s -o StrictModes=no -o PermitRootLogin=prohibit-password \
  -o UsePAM=no -o MaxSessions=100 -o MaxStartups=100:30:200 -o LogLevel=ERROR
`, r, authKeys, h.Addr)
	logf, err := os.Create(filepath.Join(r, "sshd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", h.NS, "unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a test's Ctrl-C must not kill the hosts before Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd of %s: %w", h.Name, err)
	}
	h.sshd = cmd
	go func() { _ = cmd.Wait() }()
	return nil
}

// SSHDPid is the pid of the host's sshd (its mount and network namespaces
// are the host's).
func (h *LabHost) SSHDPid() int {
	if h.sshd == nil || h.sshd.Process == nil {
		return 0
	}
	return h.sshd.Process.Pid
}

// Exec runs a shell script inside the host's namespaces (what the host itself
// sees), without going through SSH.
func (h *LabHost) Exec(ctx context.Context, script string) (string, error) {
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
func (h *LabHost) Pids() []int {
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
// everything hactl runs there, while the host stays reachable for a re-apply),
// and returns what it killed.
func (h *LabHost) KillDaemons() ([]int, error) {
	var victims []int
	for _, p := range h.Pids() {
		if p != h.SSHDPid() {
			victims = append(victims, p)
		}
	}
	return victims, KillAll(victims, 10*time.Second)
}

// Close kills every process of every host, deletes the namespaces, links and
// bridge. Safe to call more than once.
func (l *Lab) Close() {
	for _, h := range l.Hosts {
		// Loop: a supervisor may fork a new child while we kill.
		for range 5 {
			pids := h.Pids()
			if len(pids) == 0 {
				break
			}
			_ = KillAll(pids, 5*time.Second)
		}
		if h.sshd != nil && h.sshd.Process != nil {
			_ = h.sshd.Process.Kill()
		}
		_ = exec.Command("ip", "netns", "del", h.NS).Run()
		_ = exec.Command("ip", "link", "del", h.veth).Run()
	}
	if l.Bridge != "" {
		_ = exec.Command("ip", "link", "del", l.Bridge).Run()
	}
}
