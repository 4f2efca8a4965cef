// Package zktest starts a real Apache ZooKeeper ensemble (Debian's zookeeper package) for integration tests, and always tears it down.
package zktest

import (
	"context"
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

	"github.com/hactl/hactl/internal/zkserver"
)

// Options describe the ensemble. Every server listens on its own loopback
// address with the same ports, like distinct hosts.
type Options struct {
	Hosts             []string      // one server per address, e.g. 127.0.6.1-3 (required)
	ClientPort        int           // default 2181
	PeerPort          int           // default 2888
	ElectionPort      int           // default 3888
	TickTime          time.Duration // default 200 ms
	MaxSessionTimeout time.Duration // default 20 × TickTime (ZooKeeper's own default)
	StartTimeout      time.Duration // default 60 s
}

// Server is one ZooKeeper process.
type Server struct {
	ID      int
	Host    string
	Client  string // host:clientPort
	dir     string
	cfgPath string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Ensemble is a running set of servers.
type Ensemble struct {
	t       testing.TB
	opts    Options
	Servers []*Server
}

// Available says why an ensemble cannot start here (nil when it can).
func Available() error {
	if _, err := os.Stat(zkserver.Jar); err != nil {
		return fmt.Errorf("ZooKeeper is not installed (%s: apt-get install zookeeper, or scripts/install-test-deps.sh): %w", zkserver.Jar, err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return fmt.Errorf("java not found: %w", err)
	}
	return nil
}

// Start starts the ensemble and waits until every server serves (leader or
// follower). Everything is killed in t.Cleanup, also when the test fails.
func Start(t testing.TB, o Options) *Ensemble {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	if len(o.Hosts) == 0 {
		t.Fatal("zktest: Options.Hosts is empty")
	}
	if o.ClientPort == 0 {
		o.ClientPort = 2181
	}
	if o.PeerPort == 0 {
		o.PeerPort = 2888
	}
	if o.ElectionPort == 0 {
		o.ElectionPort = 3888
	}
	if o.TickTime == 0 {
		o.TickTime = 200 * time.Millisecond
	}
	if o.MaxSessionTimeout == 0 {
		o.MaxSessionTimeout = 20 * o.TickTime
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	e := &Ensemble{t: t, opts: o}
	t.Cleanup(e.killAll)
	root := t.TempDir()
	var servers strings.Builder
	for i, h := range o.Hosts {
		fmt.Fprintf(&servers, "server.%d=%s:%d:%d\n", i+1, h, o.PeerPort, o.ElectionPort)
	}
	for i, h := range o.Hosts {
		s := &Server{ID: i + 1, Host: h, Client: net.JoinHostPort(h, strconv.Itoa(o.ClientPort)),
			dir: filepath.Join(root, "zk"+strconv.Itoa(i+1))}
		if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, "data", "myid"), []byte(strconv.Itoa(s.ID)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf("tickTime=%d\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=%s\n"+
			"maxSessionTimeout=%d\nadmin.enableServer=false\n4lw.commands.whitelist=srvr,ruok\n"+
			"quorumListenOnAllIPs=false\nstandaloneEnabled=false\n%s",
			o.TickTime.Milliseconds(), filepath.Join(s.dir, "data"), o.ClientPort, h,
			o.MaxSessionTimeout.Milliseconds(), servers.String())
		if len(o.Hosts) == 1 {
			cfg = strings.Replace(cfg, "standaloneEnabled=false\n", "", 1)
			cfg = strings.Replace(cfg, servers.String(), "", 1)
		}
		s.cfgPath = filepath.Join(s.dir, "zoo.cfg")
		s.logPath = filepath.Join(s.dir, "server.log")
		if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		e.Servers = append(e.Servers, s)
	}
	for _, s := range e.Servers {
		if err := e.start(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.WaitServing(o.StartTimeout, e.Servers...); err != nil {
		e.dumpLogs()
		t.Fatal(err)
	}
	return e
}

// Quorum is the ha.zookeeper.quorum value: host:port,host:port,…
func (e *Ensemble) Quorum() string {
	var q []string
	for _, s := range e.Servers {
		q = append(q, s.Client)
	}
	return strings.Join(q, ",")
}

// Addrs is the quorum as a list.
func (e *Ensemble) Addrs() []string { return strings.Split(e.Quorum(), ",") }

func classpath() string {
	cp := []string{zkserver.Jar}
	jars, _ := filepath.Glob("/usr/share/java/*.jar")
	return strings.Join(append(cp, jars...), ":")
}

func (e *Ensemble) start(s *Server) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("java", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.admin.enableServer=false", "-Djava.net.preferIPv4Stack=true",
		"-cp", classpath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain", s.cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ZooKeeper %d: %w", s.ID, err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) { c.Wait(); close(ch) }(cmd, s.exited)
	return nil
}

// Kill stops server i (0-based) with SIGKILL and waits for it to exit.
func (e *Ensemble) Kill(i int) {
	s := e.Servers[i]
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		e.t.Errorf("zktest: ZooKeeper %d did not exit after SIGKILL", s.ID)
	}
	s.cmd = nil
}

// Restart starts a killed server i again and waits until it serves.
func (e *Ensemble) Restart(i int) {
	s := e.Servers[i]
	if s.cmd != nil {
		return
	}
	if err := e.start(s); err != nil {
		e.t.Fatal(err)
	}
	if err := e.WaitServing(e.opts.StartTimeout, s); err != nil {
		e.dumpLogs()
		e.t.Fatal(err)
	}
}

// WaitServing waits until each server answers srvr as leader or follower.
func (e *Ensemble) WaitServing(timeout time.Duration, servers ...*Server) error {
	deadline := time.Now().Add(timeout)
	for _, s := range servers {
		for {
			mode := Mode(s.Client)
			if mode == "leader" || mode == "follower" || (mode == "standalone" && len(e.Servers) == 1) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("zktest: ZooKeeper %d at %s not serving after %s (mode %q); log %s", s.ID, s.Client, timeout, mode, s.logPath)
			}
			select {
			case <-s.exited:
				return fmt.Errorf("zktest: ZooKeeper %d exited; log %s", s.ID, s.logPath)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// Mode returns the server's mode from the srvr four-letter word ("" when it
// does not answer or is up without a quorum).
func Mode(addr string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m, _ := zkserver.Mode(ctx, nil, addr)
	return m
}

func (e *Ensemble) dumpLogs() {
	for _, s := range e.Servers {
		data, _ := os.ReadFile(s.logPath)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		e.t.Logf("zktest: ZooKeeper %d log tail:\n%s", s.ID, data)
	}
}

func (e *Ensemble) killAll() {
	for i := range e.Servers {
		e.Kill(i)
	}
}
