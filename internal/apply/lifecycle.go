package apply

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// The postconditions of stopping: a stop, a destroy and a purge never take
// a supervisor record's word for it. They look at the host's processes (by
// command line, see targets.ScanProcesses) and listening sockets, kill what
// of the daemon is left when its record was lost, and fail naming the
// process when something survives.

// processes scans host (Env.Processes in tests).
func (e *Env) processes(ctx context.Context, host string) (*targets.ProcScan, error) {
	if e.Processes != nil {
		return e.Processes(ctx, e, host)
	}
	h, err := e.host(host)
	if err != nil {
		return nil, err
	}
	return targets.ScanProcesses(ctx, h, e.Cluster, host)
}

// daemonAddr is an address the configuration gives a daemon of a host.
type daemonAddr struct {
	daemon string
	addr   string
	port   int
}

func (a daemonAddr) String() string { return net.JoinHostPort(a.addr, strconv.Itoa(a.port)) }

// daemonAddrs lists the addresses the configuration gives the daemons of
// host: NameNode RPC and HTTP, ZKFC, JournalNode RPC and HTTP, DataNode data
// transfer, HTTP and IPC, and a managed
// ZooKeeper's client, peer and election ports.
func daemonAddrs(c *schema.Cluster, host string) []daemonAddr {
	addr := c.HostAddr(host)
	var out []daemonAddr
	add := func(daemon string, port int) {
		a := daemonAddr{daemon, addr, port}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host != host {
				continue
			}
			add(daemon.OfNameNode(daemon.NameNode, ns.Name, nn.ID).Name(), nn.EffectiveRPCPort())
			add(daemon.OfNameNode(daemon.NameNode, ns.Name, nn.ID).Name(), nn.EffectiveHTTPPort())
			if ns.AutomaticFailover {
				add(daemon.OfNameNode(daemon.ZKFC, ns.Name, nn.ID).Name(), c.ZKFCPort(ns.Name, nn.ID))
			}
		}
		if j := ns.Journal; j != nil && slices.Contains(j.Hosts, host) {
			add(daemon.Host(daemon.JournalNode).Name(), j.EffectiveRPCPort())
			add(daemon.Host(daemon.JournalNode).Name(), j.EffectiveHTTPPort())
		}
	}
	if g := c.DataNodeGroupOf(host); g != nil {
		add(daemon.Host(daemon.DataNode).Name(), g.EffectivePort())
		add(daemon.Host(daemon.DataNode).Name(), g.EffectiveHTTPPort())
		add(daemon.Host(daemon.DataNode).Name(), g.EffectiveIPCPort())
	}
	if z := c.ZooKeeper; z != nil && z.Managed && slices.Contains(z.Servers, host) {
		add(daemon.Host(daemon.ZooKeeper).Name(), z.EffectiveClientPort())
		add(daemon.Host(daemon.ZooKeeper).Name(), z.EffectivePeerPort())
		add(daemon.Host(daemon.ZooKeeper).Name(), z.EffectiveElectionPort())
	}
	return out
}

// describe names a process for an operator: pid and command line, the
// binary by its base name.
func describe(p targets.Process) string {
	argv := slices.Clone(p.Argv)
	if len(argv) > 0 {
		argv[0] = filepath.Base(argv[0])
	}
	cmd := strings.Join(argv, " ")
	if len(cmd) > 160 {
		cmd = cmd[:157] + "..."
	}
	return fmt.Sprintf("pid %d (%s)", p.PID, cmd)
}

// killScript signals each process with sig, but only while /proc/PID/stat
// still shows the start time it was seen with (a recycled PID is another
// process); a daemon's whole process group goes with it.
func killScript(procs []targets.Process, sig string) string {
	var b strings.Builder
	b.WriteString(`k() { [ "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f20)" = "$2" ] || return 0; kill -s ` + sig + ` $1 2>/dev/null; [ "$3" = "$1" ] && kill -s ` + sig + ` -- -$1 2>/dev/null; return 0; }` + "\n")
	for _, p := range procs {
		fmt.Fprintf(&b, "k %d %d %d\n", p.PID, p.Start, p.PGID)
	}
	return b.String()
}

// alive returns the processes of procs still alive in scan (same pid and
// start time).
func alive(scan *targets.ProcScan, procs []targets.Process) []targets.Process {
	var out []targets.Process
	for _, p := range procs {
		if slices.ContainsFunc(scan.Procs, func(q targets.Process) bool { return q.PID == p.PID && q.Start == p.Start }) {
			out = append(out, p)
		}
	}
	return out
}

// killProcs stops procs: SIGTERM (supervisors first, so none restarts its
// daemon), then SIGKILL after timeout; it returns the processes that still
// live after that.
func killProcs(ctx context.Context, env *Env, host string, procs []targets.Process, timeout time.Duration) ([]targets.Process, error) {
	if len(procs) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(procs, func(a, b targets.Process) int {
		switch {
		case a.Supervisor == b.Supervisor:
			return 0
		case a.Supervisor:
			return -1
		}
		return 1
	})
	var names []string
	for _, p := range procs {
		names = append(names, describe(p))
	}
	left := procs
	for _, sig := range []string{"TERM", "KILL"} {
		script := killScript(left, sig)
		if err := env.wetRun(ctx, host, "kill -"+sig+" "+strings.Join(names, ", "), targets.Command{Shell: script, Sudo: true}); err != nil {
			return left, err
		}
		if env.Guard.DryRun {
			return nil, nil
		}
		wait := timeout
		if sig == "KILL" {
			wait = 5 * time.Second
		}
		deadline := env.now().Add(wait)
		for {
			scan, err := env.processes(ctx, host)
			if err != nil {
				return left, err
			}
			if left = alive(scan, left); len(left) == 0 {
				return nil, nil
			}
			if !env.now().Before(deadline) {
				break
			}
			if err := env.sleep(ctx, 200*time.Millisecond); err != nil {
				return left, err
			}
		}
	}
	return left, nil
}

// stopEverything stops daemon on host, whatever keeps it: its supervisor
// through its record (named record: an earlier hactl's name, or daemon; a
// systemd unit included; cleared when forget), then every process of it or
// its supervisor (either name) that the host still
// runs (a record lost, a supervisor that outlived its record). It fails
// naming what survives.
func stopEverything(ctx context.Context, env *Env, host, daemon, record string, forget bool) error {
	scan, err := env.processes(ctx, host)
	if err != nil {
		return err
	}
	// The installed runtime stops through the record (systemd units too);
	// without it (a destroy interrupted after remove-runtime) what is left
	// is found below by command line.
	if scan.Binary {
		if err := superviseStop(ctx, env, host, record, forget); err != nil {
			return err
		}
		if env.Guard.DryRun {
			return nil
		}
		if scan, err = env.processes(ctx, host); err != nil {
			return err
		}
	}
	procs := scan.Of(daemon, true)
	if record != daemon {
		procs = append(procs, scan.Of(record, true)...)
	}
	left, err := killProcs(ctx, env, host, procs, 15*time.Second)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		var names []string
		for _, p := range left {
			names = append(names, describe(p))
		}
		return fmt.Errorf("%s on host %s survives SIGKILL: %s", daemon, host, strings.Join(names, ", "))
	}
	return nil
}

// leftOnHost lists, for host, every hactl process still running and every
// listener on an address the configuration gives a daemon, as
// "daemon pid N (command) [on addr:port]".
func leftOnHost(env *Env, host string, scan *targets.ProcScan) []string {
	var out []string
	seen := map[int]bool{}
	for _, a := range daemonAddrs(env.Cluster, host) {
		for _, p := range scan.Holding(a.addr, a.port) {
			seen[p.PID] = true
			out = append(out, fmt.Sprintf("%s: %s listens on %s", a.daemon, describe(p), a))
		}
	}
	for _, p := range scan.Procs {
		if seen[p.PID] {
			continue
		}
		what := p.Daemon
		if p.Supervisor {
			what += "'s supervisor"
		}
		out = append(out, fmt.Sprintf("%s: %s", what, describe(p)))
	}
	return out
}

// checkNothingRuns fails when anything of hactl still runs on host, or
// anything listens on a daemon's address: destroy's postcondition, and the
// precondition of removing a host's files and data.
func checkNothingRuns(ctx context.Context, env *Env, host string) error {
	if env.Guard.DryRun {
		return nil
	}
	scan, err := env.processes(ctx, host)
	if err != nil {
		return err
	}
	if left := leftOnHost(env, host, scan); len(left) > 0 {
		return fmt.Errorf("host %s still runs: %s", host, strings.Join(left, "; "))
	}
	return nil
}

// claimPorts prepares a daemon's start: processes of it that no live record
// names (its record was lost) are this configuration's and are stopped; any
// other process holding one of its addresses is named, and the start
// refused, instead of a daemon that crash-loops on "address already in use".
func claimPorts(ctx context.Context, env *Env, host, daemon string) error {
	if env.Guard.DryRun {
		return nil
	}
	scan, err := env.processes(ctx, host)
	if err != nil {
		return err
	}
	if strays := scan.Of(daemon, false); len(strays) > 0 {
		left, err := killProcs(ctx, env, host, strays, 15*time.Second)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			return fmt.Errorf("%s runs without its supervisor record and survives SIGKILL: %s", daemon, describe(left[0]))
		}
		if scan, err = env.processes(ctx, host); err != nil {
			return err
		}
	}
	for _, a := range daemonAddrs(env.Cluster, host) {
		if a.daemon != daemon {
			continue
		}
		for _, p := range scan.Holding(a.addr, a.port) {
			if p.Daemon == daemon && p.Recorded {
				continue // itself, already running: supervise start keeps it
			}
			return fmt.Errorf("%s is held by %s, not started by this configuration", a, describe(p))
		}
	}
	return nil
}
