package targets

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
)

// A host's hactl processes are found by their command lines, not only
// through the supervisor records: a record can be lost (a destroy that
// removed the run dir while a supervisor waited to restart its daemon, a
// run dir wiped by hand) while the supervisor and its daemon live on. Every
// process hactl starts on a host names one of the host's own paths in its
// command line: a supervisor its run dir (--run-dir), a daemon its conf dir
// (--conf), ZooKeeper its zoo.cfg. On target local those paths lie under
// the host's root in the state dir, so another host's or another cluster's
// processes never match.

// quorumPeerMain is ZooKeeper's server class (what zkServer.sh runs).
const quorumPeerMain = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

// Process is one process on a host.
type Process struct {
	PID, PPID, PGID int
	Start           uint64 // clock ticks since boot (/proc/PID/stat field 22)
	Argv            []string
	// Daemon is the hactl daemon the process is (or supervises), "" for a
	// process that is not one of this host's.
	Daemon     string
	Supervisor bool // a `hactl runtime supervise run` process
	// Recorded: a live supervisor record names it (its supervisor, its
	// child, or a process in the child's group), or a systemd unit runs it.
	Recorded bool
}

// Command is the process's command line for messages, shortened.
func (p Process) Command() string {
	s := strings.Join(p.Argv, " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// judgeCmdline says which daemon of host (whose paths are p) the command
// line argv is, if any, by its supervisor name (daemon.ID.Name). A
// NameNode's command line has no nameservice: it is the host's one NameNode
// of that ID, else (an ID repeated across nameservices) its legacy name.
func judgeCmdline(c *schema.Cluster, host string, p schema.HostPaths, argv []string) (name string, supervisor bool) {
	flag := func(name string) (string, bool) {
		i := slices.Index(argv, name)
		if i < 0 || i+1 >= len(argv) {
			return "", false
		}
		return argv[i+1], true
	}
	perNameNode := func(k daemon.Kind, id, ns string) string {
		if ns == "" {
			var nss []string
			for _, n := range c.Nameservices {
				if nn := n.NameNode(id); nn != nil && nn.Host == host {
					nss = append(nss, n.Name)
				}
			}
			if len(nss) != 1 {
				return daemon.Legacy{Kind: k, NameNode: id}.Name()
			}
			ns = nss[0]
		}
		return daemon.OfNameNode(k, ns, id).Name()
	}
	if i := slices.Index(argv, "runtime"); i >= 0 && i+1 < len(argv) {
		// The daemon's own arguments come after "--" of a supervisor.
		if dd := slices.Index(argv, "--"); dd < 0 || dd > i {
			switch k := daemon.Kind(argv[i+1]); {
			case k == "supervise":
				if i+2 < len(argv) && argv[i+2] == "run" {
					if run, ok := flag("--run-dir"); ok && path.Clean(run) == path.Clean(p.RunDir) {
						name, _ := flag("--name")
						return name, name != ""
					}
				}
				return "", false
			case k == daemon.JournalNode || k == daemon.DataNode || k == daemon.NameNode || k == daemon.ZKFC:
				if conf, ok := flag("--conf"); !ok || path.Clean(conf) != path.Clean(p.ConfDir) {
					return "", false
				}
				if k == daemon.JournalNode || k == daemon.DataNode {
					return daemon.Host(k).Name(), false
				}
				id, ok := flag("--id")
				if !ok || id == "" {
					return "", false
				}
				ns, _ := flag("--nameservice")
				return perNameNode(k, id, ns), false
			}
		}
	}
	zooCfg := path.Join(p.ConfDir, "zookeeper", daemon.FileZooCfg)
	switch {
	case len(argv) > 1 && slices.Contains(argv, quorumPeerMain) && argv[len(argv)-1] == zooCfg:
		return daemon.Host(daemon.ZooKeeper).Name(), false
	case len(argv) == 3 && argv[1] == "-c" && strings.Contains(argv[2], quorumPeerMain) &&
		(strings.HasSuffix(argv[2], " "+ShellQuote(zooCfg)) || strings.HasSuffix(argv[2], " "+zooCfg)):
		// The shell of `sh -c 'exec java …'` before its exec.
		return daemon.Host(daemon.ZooKeeper).Name(), false
	}
	return "", false
}

// procScanScript writes script lines that print "cmd:PID <hex>" and
// "stat:PID <hex>" for every process whose command line names one of the
// host's paths (grep is only a prefilter: judgeCmdline decides), and adds
// those PIDs to $pids. It needs preflightFuncs.
func procScanScript(b *strings.Builder, p schema.HostPaths) {
	// A process in another network namespace is another host's, even with
	// the same paths (hosts that share one kernel: containers, the SSH
	// test lab's namespace hosts).
	fmt.Fprintf(b, `myns=$(readlink /proc/$$/ns/net 2>/dev/null)
for f in $(grep -l -a -F -e %s -e %s -e %s /proc/[0-9]*/cmdline 2>/dev/null); do
  p=${f#/proc/}; p=${p%%/cmdline}; case $p in *[!0-9]*) continue;; esac
  [ -z "$myns" ] || [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$myns" ] || continue
  x "cmd:$p" "$f"; x "stat:$p" "/proc/$p/stat"; pids="$pids $p"
done
`, ShellQuote(p.RunDir), ShellQuote(p.ConfDir), ShellQuote(path.Join(p.ConfDir, "zookeeper", daemon.FileZooCfg)))
}

// statFields parses /proc/PID/stat: state, ppid, pgid and start ticks.
func statFields(stat []byte) (state string, ppid, pgid int, start uint64, ok bool) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	start, err := strconv.ParseUint(f[19], 10, 64)
	return f[0], ppid, pgid, start, err == nil
}

// judgeProcs turns the command lines and stats the script sent into the
// host's processes (alive, not zombies), marking those a live record names.
// mainPIDs are the systemd units' MainPIDs by daemon name.
func judgeProcs(c *schema.Cluster, host string, p schema.HostPaths, cmds, stats map[int][]byte, recs map[string]*supervise.Record, mainPIDs map[string]int) []Process {
	var out []Process
	for pid, cmd := range cmds {
		state, ppid, pgid, start, ok := statFields(stats[pid])
		if !ok || state == "Z" || state == "X" {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		pr := Process{PID: pid, PPID: ppid, PGID: pgid, Start: start, Argv: argv}
		pr.Daemon, pr.Supervisor = judgeCmdline(c, host, p, argv)
		if pr.Daemon == "" {
			continue
		}
		if r, rec := recordOf(pr.Daemon, recs); r != nil {
			if r.Manager == supervise.ManagerSystemd {
				pr.Recorded = mainPIDs[rec] > 0 && (pid == mainPIDs[rec] || pgid == mainPIDs[rec])
			} else {
				alive := func(pid int, start uint64) bool { return pid > 0 && procAlive(stats[pid], start) }
				pr.Recorded = (pid == r.SupervisorPID && alive(r.SupervisorPID, r.SupervisorStart)) ||
					((pid == r.ChildPID || pgid == r.ChildPID) && alive(r.ChildPID, r.ChildStart))
			}
		}
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// recordOf is the record (and its name) of the daemon named name: its own, or the one an
// earlier hactl wrote for that identity under its legacy name
// ("namenode-nn1"), which planner.AdoptLegacyDaemons files under the
// identity (an old daemon's command line still reads as its identity).
func recordOf(name string, recs map[string]*supervise.Record) (*supervise.Record, string) {
	if r := recs[name]; r != nil {
		return r, name
	}
	if id, ok := daemon.Parse(name); ok && id.NameNode != "" {
		legacy := daemon.Legacy{Kind: id.Kind, NameNode: id.NameNode}.Name()
		if r := recs[legacy]; r != nil {
			return r, legacy
		}
	}
	return nil, ""
}

// markUnrecorded adds to oh's daemons the processes of theirs that no live
// record names (creating the daemon's entry when its record is gone).
func markUnrecorded(oh *planner.ObservedHost, procs []Process) {
	for _, pr := range procs {
		if pr.Recorded {
			continue
		}
		if oh.Daemons == nil {
			oh.Daemons = map[string]*planner.ObservedDaemon{}
		}
		d := oh.Daemons[pr.Daemon]
		if d == nil {
			d = &planner.ObservedDaemon{}
			oh.Daemons[pr.Daemon] = d
		}
		if !slices.Contains(d.Unrecorded, pr.PID) {
			d.Unrecorded = append(d.Unrecorded, pr.PID)
			sort.Ints(d.Unrecorded)
		}
	}
}

// Listener is a listening TCP socket and the processes holding it.
type Listener struct {
	Addr netip.AddrPort
	PIDs []int
}

// ProcScan is what ScanProcesses found on a host.
type ProcScan struct {
	Procs     []Process  // the host's hactl processes (judged by command line)
	Listeners []Listener // every listening TCP socket
	Holders   map[int]Process
	Binary    bool // the runtime binary is installed (executable)
}

// Of returns the processes of daemon that no live record names; every
// process of it when all is true.
func (s *ProcScan) Of(daemon string, all bool) []Process {
	var out []Process
	for _, p := range s.Procs {
		if p.Daemon == daemon && (all || !p.Recorded) {
			out = append(out, p)
		}
	}
	return out
}

// Holding returns the processes that listen on addr:port, a wildcard
// address included (0.0.0.0 and :: take every address).
func (s *ProcScan) Holding(addr string, port int) []Process {
	want, _ := netip.ParseAddr(addr)
	var out []Process
	for _, l := range s.Listeners {
		if int(l.Addr.Port()) != port {
			continue
		}
		a := l.Addr.Addr().Unmap()
		if addr != "" && a != want.Unmap() && !a.IsUnspecified() {
			continue
		}
		for _, pid := range l.PIDs {
			if p, ok := s.Holders[pid]; ok && !slices.ContainsFunc(out, func(q Process) bool { return q.PID == pid }) {
				out = append(out, p)
			}
		}
	}
	return out
}

// scanScript is the standalone script of ScanProcesses.
func scanScript(p schema.HostPaths) string {
	var b strings.Builder
	b.WriteString(preflightFuncs)
	fmt.Fprintf(&b, "echo %s\npids=\n", ShellQuote(preflightMagic))
	fmt.Fprintf(&b, "[ -x %s ] && echo bin\n", ShellQuote(p.Binary))
	fmt.Fprintf(&b, `for r in %s/*.json; do
  [ -f "$r" ] || continue; n=${r##*/}; n=${n%%.json}; x "rec:$n" "$r"
  for k in child_pid supervisor_pid; do
    q=$(sed -n "s/.*\"$k\": *\([0-9][0-9]*\).*/\1/p" "$r" | head -n 1)
    [ -n "$q" ] && [ -f "/proc/$q/stat" ] && x "stat:$q" "/proc/$q/stat"
  done
  if grep -q '"manager": *"systemd"' "$r" && command -v systemctl >/dev/null 2>&1; then
    echo "mainpid:$n $(systemctl show -p MainPID --value "hactl-$n.service" 2>/dev/null)"
  fi
done
`, ShellQuote(p.RunDir))
	procScanScript(&b, p)
	b.WriteString(`l=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { print "listen", $10, $2 }')
echo "$l"
h=$(ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v inodes=" $(echo "$l" | awk '{ printf "%s ", $2 }')" '
  /^\/proc\/[0-9]+\/fd:$/ { split($0, a, "/"); pid = a[3]; next }
  { if (match($0, /socket:\[[0-9]+\]/)) { i = substr($0, RSTART + 8, RLENGTH - 9); if (index(inodes, " " i " ")) print "holder", pid, i } }')
echo "$h"
for p in $(echo "$h" | awk '{ print $2 }' | sort -u); do x "hcmd:$p" "/proc/$p/cmdline"; x "stat:$p" "/proc/$p/stat"; done
echo end
`)
	return b.String()
}

// ScanProcesses reads, in one round trip, the host's hactl processes (by
// command line, whether or not a record names them), every listening TCP
// socket with the processes that hold it, and whether the runtime binary is
// installed. It only reads.
func ScanProcesses(ctx context.Context, h Host, c *schema.Cluster, host string) (*ProcScan, error) {
	p := c.PathsFor(host)
	cmd := Command{Shell: scanScript(p), Sudo: true}
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("scan processes on %s: %w", h.Name(), err)
	}
	if res.ExitCode != 0 && !strings.Contains(string(res.Stdout), "\nend\n") {
		return nil, fmt.Errorf("scan processes on %s: exit %d: %s", h.Name(), res.ExitCode, strings.TrimSpace(string(tail(res.Stderr, 300))))
	}
	return parseScan(c, host, res.Stdout)
}

func parseScan(c *schema.Cluster, host string, out []byte) (*ProcScan, error) {
	p := c.PathsFor(host)
	s, err := scanPreflight(out, &preflight{})
	if err != nil {
		return nil, err
	}
	if !s.ended {
		return nil, fmt.Errorf("process scan output ends early")
	}
	recs := map[string]*supervise.Record{}
	for name, data := range s.recs {
		var r supervise.Record
		if json.Unmarshal(data, &r) == nil {
			recs[name] = &r
		}
	}
	ps := &ProcScan{Binary: s.fields["bin"] != nil, Holders: map[int]Process{}}
	ps.Procs = judgeProcs(c, host, p, s.cmds, s.stats, recs, s.mainPIDs)
	for inode, addr := range s.listenAddrs {
		ps.Listeners = append(ps.Listeners, Listener{Addr: addr, PIDs: s.holders[inode]})
	}
	sort.Slice(ps.Listeners, func(i, j int) bool { return ps.Listeners[i].Addr.String() < ps.Listeners[j].Addr.String() })
	for pid, cmd := range s.hcmds {
		_, ppid, pgid, start, _ := statFields(s.stats[pid])
		argv := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		pr := Process{PID: pid, PPID: ppid, PGID: pgid, Start: start, Argv: argv}
		pr.Daemon, pr.Supervisor = judgeCmdline(c, host, p, argv)
		for _, q := range ps.Procs {
			if q.PID == pid {
				pr.Recorded = q.Recorded
			}
		}
		ps.Holders[pid] = pr
	}
	return ps, nil
}

// procAddr decodes a /proc/net/tcp{,6} local address ("0101007F:2694").
func procAddr(s string) (netip.AddrPort, bool) {
	h, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	// The kernel prints each 32-bit word in host (little-endian) order.
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	a, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(a, uint16(port)), true
}

// unitState maps a systemd unit's ActiveState to the supervisor's states:
// activating is a unit waiting to restart its daemon (auto-restart).
func unitState(active string) string {
	switch active {
	case "active", "reloading":
		return supervise.StateRunning
	case "activating":
		return supervise.StateBackoff
	case "deactivating":
		return supervise.StateStopping
	case "failed":
		return supervise.StateFailed
	}
	return supervise.StateStopped
}
