package probe

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/supervise"
)

// Env keys the executor may pass with `supervise start --env` so that probe
// can tell which configuration and binary a daemon was started with.
const (
	EnvConfigSHA256  = "HACTL_CONFIG_SHA256"
	EnvRuntimeSHA256 = "HACTL_RUNTIME_SHA256"
)

func (g *gatherer) daemons() {
	sts, err := supervise.StatusAll(g.opts.RunDir)
	if err != nil {
		g.fail("supervisor records: %v", err)
		return
	}
	if len(sts) == 0 {
		return
	}
	var listening map[int][]int
	g.out.Daemons = map[string]*planner.ObservedDaemon{}
	for _, s := range sts {
		d := &planner.ObservedDaemon{Running: s.ChildAlive}
		for _, kv := range s.Env {
			if v, ok := strings.CutPrefix(kv, EnvConfigSHA256+"="); ok {
				d.ConfigSHA256 = v
			}
			if v, ok := strings.CutPrefix(kv, EnvRuntimeSHA256+"="); ok {
				d.RuntimeSHA256 = v
			}
		}
		if s.ChildAlive {
			d.PID = s.ChildPID
			d.StartedAt = s.StartedAt
			if listening == nil {
				listening = listeningByGroup()
			}
			d.Listening = listening[s.ChildPID]
			if d.RuntimeSHA256 == "" {
				d.RuntimeSHA256 = g.exeSHA256(s.ChildPID)
			}
		}
		g.out.Daemons[s.Name] = d
	}
}

// exeSHA256 hashes the binary pid runs when it is hactl (a replaced binary is
// still readable through /proc/PID/exe), so an upgrade shows as stale.
func (g *gatherer) exeSHA256(pid int) string {
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil || filepath.Base(strings.TrimSuffix(link, " (deleted)")) != "hactl" {
		return ""
	}
	if !strings.HasSuffix(link, " (deleted)") {
		if s, err := g.fileSHA256(link); err == nil {
			return s
		}
	}
	s, _ := g.fileSHA256("/proc/" + strconv.Itoa(pid) + "/exe")
	return s
}

// listeningByGroup maps a process group ID to the TCP ports its processes
// listen on (a daemon's children, such as a JVM's, count as the daemon).
func listeningByGroup() map[int][]int {
	inodes := map[string]int{} // socket inode -> port
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		readListen(f, inodes)
	}
	out := map[int][]int{}
	if len(inodes) == 0 {
		return out
	}
	seen := map[int]map[int]bool{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		pgid := procGroup(pid)
		if pgid <= 0 {
			continue
		}
		fds, err := os.ReadDir("/proc/" + p.Name() + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			l, err := os.Readlink("/proc/" + p.Name() + "/fd/" + fd.Name())
			if err != nil || !strings.HasPrefix(l, "socket:[") {
				continue
			}
			port, ok := inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")]
			if !ok {
				continue
			}
			if seen[pgid] == nil {
				seen[pgid] = map[int]bool{}
			}
			if !seen[pgid][port] {
				seen[pgid][port] = true
				out[pgid] = append(out[pgid], port)
			}
		}
	}
	for _, ports := range out {
		sort.Ints(ports)
	}
	return out
}

// readListen adds the LISTEN sockets of a /proc/net/tcp{,6} table.
func readListen(path string, inodes map[string]int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fl) < 10 || fl[3] != "0A" { // 0A = TCP_LISTEN
			continue
		}
		i := strings.LastIndexByte(fl[1], ':')
		port, err := strconv.ParseUint(fl[1][i+1:], 16, 16)
		if err != nil {
			continue
		}
		inodes[fl[9]] = int(port)
	}
}

func procGroup(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(f[2])
	return n
}
