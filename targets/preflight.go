package targets

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
)

// The probe of a host is one shell script, run as root in one round trip. It
// first describes what plan must know even where hactl is not installed
// (nothing is uploaded to do so):
//
//   - the OS and architecture (uname);
//   - every NameNode storage dir and JournalNode edits dir the
//     configuration puts on the host: present, non-empty, VERSION,
//     seen_txid, epochs, committed txid, segment names.
//
// Then, when hactl's runtime is installed, it runs the installed
// `hactl runtime probe` (JSON: daemons, HA state, …). Where it is not (or that
// probe fails), the script goes on to describe the rest in shell: the binary's
// hash, config file hashes, ZooKeeper's jar, the supervisor records with the
// liveness of their processes (/proc/PID/stat) and the ports they listen on.
//
// The output is line-oriented ("<tag> <fields…>", file contents in hex) and
// interpreted here, so the script stays small and POSIX (sh, od, tr, ls,
// sed, awk, sha256sum) and every judgement is made, and tested, in Go.

// journalDefaultEditsDir is where the JournalNode keeps its journals when
// the configuration names no edits dir (runtime/journal's default).
const journalDefaultEditsDir = "/tmp/hadoop/dfs/journalnode"

// preflightMagic starts the script's output (and versions its format).
const preflightMagic = "hactl-preflight 1"

// maxProbeFile bounds the bytes of one small file the script sends.
const maxProbeFile = 65536

// nameDirCheck is one NameNode storage dir on a host.
type nameDirCheck struct {
	key string // planner.NameNodeKey(ns, id)
	ns  string
	id  string
	dir string
}

// hostStorage lists the storage dirs the configuration puts on host.
func hostStorage(c *schema.Cluster, host string) (names []nameDirCheck, editsRoots []string) {
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host != host {
				continue
			}
			for _, d := range ns.EffectiveNameDirs(nn) {
				d = strings.TrimPrefix(d, "file://")
				names = append(names, nameDirCheck{key: planner.NameNodeKey(ns.Name, nn.ID), ns: ns.Name, id: nn.ID, dir: c.HostDir(host, d)})
			}
		}
		if j := ns.Journal; j != nil && slices.Contains(j.Hosts, host) {
			root := journalDefaultEditsDir
			if j.EditsDir != "" {
				root = c.HostDir(host, strings.TrimPrefix(j.EditsDir, "file://"))
			}
			if !slices.Contains(editsRoots, root) {
				editsRoots = append(editsRoots, root)
			}
		}
	}
	return names, editsRoots
}

// preflightFuncs are the script's helpers.
//
//	x TAG FILE   "TAG <hex>" of FILE's first bytes, when it is a file
//	d TAG DIR    "TAG dir absent|notdir|empty|full|error"
//	e TAG DIR    "TAG ent <name>" per entry of DIR
//	s TAG FILE   "TAG sha <sha256>" when FILE is a file
var preflightFuncs = `x() { if [ -f "$2" ]; then printf '%s ' "$1"; od -An -v -tx1 -N ` + strconv.Itoa(maxProbeFile) + ` "$2" | tr -d ' \n'; echo; fi; }
d() {
  if [ -d "$2" ]; then
    if l=$(ls -A "$2" 2>/dev/null); then
      if [ -n "$l" ]; then echo "$1 dir full"; else echo "$1 dir empty"; fi
    else echo "$1 dir error"; fi
  elif [ -e "$2" ]; then echo "$1 dir notdir"
  else echo "$1 dir absent"; fi
}
e() { ls -A "$2" 2>/dev/null | while IFS= read -r n; do echo "$1 ent $n"; done; }
s() {
  if [ -f "$2" ]; then
    if command -v sha256sum >/dev/null 2>&1; then h=$(sha256sum <"$2")
    elif command -v shasum >/dev/null 2>&1; then h=$(shasum -a 256 <"$2")
    else h=$(openssl dgst -sha256 -r <"$2" 2>/dev/null); fi
    echo "$1 sha $(printf '%s' "$h" | cut -c1-64)"
  fi
}
`

// preflightScript renders the probe script for host (see the comment at the
// top of this file).
func preflightScript(c *schema.Cluster, host, address string) string {
	p := c.PathsFor(host)
	q := ShellQuote
	var b strings.Builder
	b.WriteString(preflightFuncs)
	fmt.Fprintf(&b, "echo %s\necho \"os $(uname -s) $(uname -m)\"\n", q(preflightMagic))
	names, roots := hostStorage(c, host)
	for i, n := range names {
		tag := "nn" + strconv.Itoa(i)
		fmt.Fprintf(&b, "d %[1]s %[2]s; x %[1]s.version %[2]s/current/VERSION; x %[1]s.seen %[2]s/current/seen_txid\n", tag, q(n.dir))
	}
	for i, r := range roots {
		// One line per journal dir under the root (dot dirs are not journals).
		fmt.Fprintf(&b, `for j in %[2]s/*; do
  [ -d "$j" ] || continue; id=${j##*/}
  case $id in *[[:space:]]*) continue;; esac
  t="jn%[1]d:$id"; echo "$t journal"; c="$j/current"
  d "$t" "$c"; e "$t" "$c"; x "$t.version" "$c/VERSION"; x "$t.promised" "$c/last-promised-epoch"
  x "$t.writer" "$c/last-writer-epoch"; x "$t.committed" "$c/committed-txid"; d "$t.paxos" "$c/paxos"
done
`, i, q(r))
	}
	args := " runtime probe --conf " + q(p.ConfDir) + " --run-dir " + q(p.RunDir) +
		" --install-dir " + q(p.InstallDir) + " --address " + q(address)
	fmt.Fprintf(&b, `b=%[1]s
if [ -x "$b" ]; then
  echo installed
  "$b"%[2]s; rc=$?
  printf '\nprobe-exit %%d\n' "$rc"
  [ "$rc" = 0 ] && exit 0
fi
echo bare
if [ -e "$b" ]; then s bin "$b"; fi
s cfg:core-site.xml %[3]s; s cfg:hdfs-site.xml %[4]s; s cfg:cluster.secret %[5]s
zc=%[6]s; s cfg:zoo.cfg "$zc"
if [ -f "$zc" ]; then zd=$(sed -n 's/^[[:space:]]*dataDir=[[:space:]]*//p' "$zc" | head -n 1 | sed 's/[[:space:]]*$//'); [ -n "$zd" ] && s cfg:myid "$zd/myid"; fi
[ -f %[7]s ] && echo zkjar
pids=
for r in %[8]s/*.json; do
  [ -f "$r" ] || continue; n=${r##*/}; n=${n%%.json}; x "rec:$n" "$r"
  for k in child_pid supervisor_pid; do
    pid=$(sed -n "s/.*\"$k\": *\([0-9][0-9]*\).*/\1/p" "$r" | head -n 1)
    if [ -n "$pid" ] && [ -f "/proc/$pid/stat" ]; then x "stat:$pid" "/proc/$pid/stat"; pids="$pids $pid"; fi
  done
  if grep -q '"manager": *"systemd"' "$r" && command -v systemctl >/dev/null 2>&1; then
    pid=$(systemctl show -p MainPID --value "hactl-$n.service" 2>/dev/null)
    echo "mainpid:$n $pid"
    if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -f "/proc/$pid/stat" ]; then x "stat:$pid" "/proc/$pid/stat"; pids="$pids $pid"; fi
  fi
done
if [ -n "$pids" ]; then
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { print "listen", $10, $2 }'
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pids="$pids" 'BEGIN { n = split(pids, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
    { s = $0; sub(/.*\) /, "", s); split(s, f, " "); if (f[3] in w) print $1, f[3] }' |
  while read -r p g; do
    ls -l "/proc/$p/fd" 2>/dev/null | sed -n "s/.*socket:\[\([0-9]*\)\].*/sock $g \1/p"
  done
fi
echo end
`, q(p.Binary), args, q(path.Join(p.ConfDir, "core-site.xml")), q(path.Join(p.ConfDir, "hdfs-site.xml")),
		q(p.SecretFile), q(path.Join(p.ConfDir, "zookeeper", "zoo.cfg")), q(zooKeeperJar), q(p.RunDir))
	return b.String()
}

// zooKeeperJar is the file whose presence means Debian's zookeeper package is
// installed (runtime/probe.DefaultZooKeeperJar).
const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// preflight is the parsed output of the probe script.
type preflight struct {
	os, arch string
	// storage: the NameNode and JournalNode facts, from the shell.
	nameNodes map[string]*planner.ObservedNameNode
	journals  map[string]*planner.ObservedJournal
	errs      []string
	// installed: the installed runtime's probe ran; its JSON and exit code.
	installed bool
	probeJSON []byte
	probeExit int
	stderr    string // the script's stderr (tail), for a failed installed probe
	// bare: the script described the rest itself (no runtime, or its probe failed).
	bare *planner.ObservedHost
}

// parsePreflight interprets the probe script's output for host.
func parsePreflight(c *schema.Cluster, host string, out []byte) (*preflight, error) {
	pf := &preflight{nameNodes: map[string]*planner.ObservedNameNode{}, journals: map[string]*planner.ObservedJournal{}}
	// The installed probe's JSON sits between "installed" and "probe-exit N".
	if i := bytes.Index(out, []byte("\ninstalled\n")); i >= 0 {
		rest := out[i+len("\ninstalled\n"):]
		j := bytes.LastIndex(rest, []byte("\nprobe-exit "))
		if j < 0 {
			return nil, errors.New("output ends inside the installed runtime's probe")
		}
		pf.installed = true
		pf.probeJSON = rest[:j]
		tailLines := rest[j+1:]
		line, after, _ := bytes.Cut(tailLines, []byte("\n"))
		n, err := strconv.Atoi(strings.TrimPrefix(string(line), "probe-exit "))
		if err != nil {
			return nil, fmt.Errorf("bad probe exit line %q", line)
		}
		pf.probeExit = n
		out = append(append([]byte{}, out[:i+1]...), after...)
	}
	names, _ := hostStorage(c, host)
	fields := map[string]map[string]string{} // tag -> kind -> value
	ents := map[string][]string{}
	recs := map[string][]byte{}
	stats := map[int][]byte{}
	mainPIDs := map[string]int{}
	listen := map[string]int{}         // socket inode -> port
	socks := map[int]map[string]bool{} // pgid -> socket inodes
	var journalTags []string
	bare, ended, sawMagic := false, false, false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*maxProbeFile)
	for sc.Scan() {
		line := sc.Text()
		if !sawMagic {
			sawMagic = line == preflightMagic
			continue
		}
		tag, rest, _ := strings.Cut(line, " ")
		switch {
		case tag == "os":
			pf.os, pf.arch, _ = strings.Cut(rest, " ")
		case tag == "bare":
			bare = true
		case tag == "end":
			ended = true
		case tag == "zkjar":
			fields["zkjar"] = map[string]string{"": "1"}
		case tag == "listen":
			inode, addr, _ := strings.Cut(rest, " ")
			if k := strings.LastIndexByte(addr, ':'); k >= 0 {
				if port, err := strconv.ParseUint(addr[k+1:], 16, 16); err == nil {
					listen[inode] = int(port)
				}
			}
		case tag == "sock":
			g, inode, _ := strings.Cut(rest, " ")
			pg, _ := strconv.Atoi(g)
			if socks[pg] == nil {
				socks[pg] = map[string]bool{}
			}
			socks[pg][inode] = true
		case strings.HasPrefix(tag, "rec:"):
			b, err := hex.DecodeString(rest)
			if err != nil {
				return nil, fmt.Errorf("bad %s line", tag)
			}
			recs[strings.TrimPrefix(tag, "rec:")] = b
		case strings.HasPrefix(tag, "stat:"):
			pid, _ := strconv.Atoi(strings.TrimPrefix(tag, "stat:"))
			if b, err := hex.DecodeString(rest); err == nil {
				stats[pid] = b
			}
		case strings.HasPrefix(tag, "mainpid:"):
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			mainPIDs[strings.TrimPrefix(tag, "mainpid:")] = n
		default:
			kind, value, _ := strings.Cut(rest, " ")
			if rest == "journal" {
				journalTags = append(journalTags, tag)
				continue
			}
			if kind == "ent" {
				ents[tag] = append(ents[tag], value)
				continue
			}
			if fields[tag] == nil {
				fields[tag] = map[string]string{}
			}
			switch kind {
			case "dir", "sha":
				fields[tag][kind] = value
			default: // "<tag> <hex>": a file's content
				fields[tag]["hex"] = rest
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !sawMagic {
		return nil, fmt.Errorf("no %q line", preflightMagic)
	}
	file := func(tag string) ([]byte, bool) {
		f, ok := fields[tag]["hex"]
		if !ok {
			return nil, false
		}
		b, err := hex.DecodeString(f)
		return b, err == nil
	}
	// NameNode storage.
	for i, n := range names {
		tag := "nn" + strconv.Itoa(i)
		o := pf.nameNodes[n.key]
		if o == nil {
			o = &planner.ObservedNameNode{Nameservice: n.ns, ID: n.id}
			pf.nameNodes[n.key] = o
		}
		switch st := fields[tag]["dir"]; st {
		case "absent", "empty":
		case "full":
			o.HasData = true
		default:
			// Unreadable or not a directory: it cannot be called empty.
			o.HasData = true
			pf.errs = append(pf.errs, fmt.Sprintf("namenode %s name dir %s: %s", n.key, n.dir, orWord(st, "not checked")))
		}
		if v, ok := file(tag + ".version"); ok {
			props := properties(v)
			o.Formatted = true
			if o.ClusterID == "" {
				o.ClusterID = props["clusterID"]
				o.NamespaceID, _ = strconv.ParseInt(props["namespaceID"], 10, 64)
			}
		}
		if v, ok := file(tag + ".seen"); ok {
			if t, ok := parseLong(v); ok && t > o.LastTxid {
				o.LastTxid = t
			}
		}
	}
	// JournalNode storage: <root>/<jid>/current.
	for _, tag := range journalTags {
		_, jid, _ := strings.Cut(tag, ":")
		j := &planner.ObservedJournal{JournalID: jid}
		switch st := fields[tag]["dir"]; st {
		case "absent":
		case "empty", "full":
			if v, ok := file(tag + ".version"); ok {
				props := properties(v)
				j.Formatted = true
				j.ClusterID = props["clusterID"]
				j.NamespaceID, _ = strconv.ParseInt(props["namespaceID"], 10, 64)
			}
			for name, dst := range map[string]*int64{"promised": &j.LastPromisedEpoch, "writer": &j.LastWriterEpoch, "committed": &j.CommittedTxid} {
				if v, ok := file(tag + "." + name); ok {
					*dst, _ = parseLong(v)
				}
			}
			for _, n := range ents[tag] {
				switch {
				case strings.HasPrefix(n, "edits_inprogress_"):
					if s, err := strconv.ParseInt(strings.TrimPrefix(n, "edits_inprogress_"), 10, 64); err == nil {
						j.HasData, j.LastTxid = true, max(j.LastTxid, s)
					}
				case strings.HasPrefix(n, "edits_"):
					if _, end, ok := strings.Cut(strings.TrimPrefix(n, "edits_"), "-"); ok {
						if e, err := strconv.ParseInt(end, 10, 64); err == nil {
							j.HasData, j.LastTxid = true, max(j.LastTxid, e)
						}
					}
				}
			}
			if fields[tag+".paxos"]["dir"] == "full" {
				j.HasData = true
			}
			if j.Formatted || j.LastPromisedEpoch > 0 {
				j.HasData = true // a formatted journal holds a namespace
			}
		default:
			j.HasData = true
			pf.errs = append(pf.errs, fmt.Sprintf("journal %s: current dir %s", jid, orWord(st, "not checked")))
		}
		if prev := pf.journals[jid]; prev != nil {
			// The same journal ID under two edits roots: keep what holds data.
			j = mergeJournal(prev, j)
		}
		pf.journals[jid] = j
	}
	if !bare {
		if !pf.installed {
			return nil, errors.New("output ends before the host was described")
		}
		return pf, nil
	}
	if !ended {
		return nil, errors.New("output ends before the host was described")
	}
	oh := &planner.ObservedHost{}
	if s := fields["bin"]["sha"]; s != "" {
		if !isSHA256(s) {
			return nil, fmt.Errorf("cannot hash the installed runtime (%q): no sha256sum on the host?", s)
		}
		oh.RuntimeSHA256, oh.RuntimeVersion = s, "unknown"
	}
	for _, f := range []string{planner.FileCoreSite, planner.FileHDFSSite, planner.FileSecret, planner.FileZooCfg, planner.FileZooKeeperID} {
		s, ok := fields["cfg:"+f]["sha"]
		if !ok {
			continue
		}
		if !isSHA256(s) {
			return nil, fmt.Errorf("cannot hash %s (%q): no sha256sum on the host?", f, s)
		}
		if oh.ConfigSHA256 == nil {
			oh.ConfigSHA256 = map[string]string{}
		}
		oh.ConfigSHA256[f] = s
	}
	oh.ZooKeeperInstalled = fields["zkjar"] != nil
	for name, data := range recs {
		var r supervise.Record
		if err := json.Unmarshal(data, &r); err != nil {
			pf.errs = append(pf.errs, fmt.Sprintf("supervisor record %s: %v", name, err))
			continue
		}
		if r.Name == "" {
			r.Name = name
		}
		d := &planner.ObservedDaemon{}
		for _, kv := range r.Env {
			if v, ok := strings.CutPrefix(kv, "HACTL_CONFIG_SHA256="); ok {
				d.ConfigSHA256 = v
			}
			if v, ok := strings.CutPrefix(kv, "HACTL_RUNTIME_SHA256="); ok {
				d.RuntimeSHA256 = v
			}
		}
		pid, start := r.ChildPID, r.ChildStart
		if r.Manager == supervise.ManagerSystemd {
			pid, start = mainPIDs[r.Name], 0
		}
		if pid > 0 && procAlive(stats[pid], start) {
			d.Running, d.PID, d.StartedAt = true, pid, r.StartedAt
			for inode := range socks[pid] {
				if port, ok := listen[inode]; ok && !slices.Contains(d.Listening, port) {
					d.Listening = append(d.Listening, port)
				}
			}
			sort.Ints(d.Listening)
		}
		if oh.Daemons == nil {
			oh.Daemons = map[string]*planner.ObservedDaemon{}
		}
		oh.Daemons[r.Name] = d
	}
	pf.bare = oh
	return pf, nil
}

// observed is the host as plan sees it: the installed runtime's probe with
// the shell's storage facts merged in (any data either saw counts), or the
// shell's description of a host without a (working) runtime.
func (pf *preflight) observed() (*planner.ObservedHost, error) {
	var oh *planner.ObservedHost
	var errs []string
	switch {
	case pf.installed && pf.probeExit == 0:
		oh = &planner.ObservedHost{}
		if err := json.Unmarshal(bytes.TrimSpace(pf.probeJSON), oh); err != nil {
			return nil, fmt.Errorf("bad output of the installed runtime's probe: %w: %q", err, tail(pf.probeJSON, 200))
		}
		if oh.Error != "" {
			errs = append(errs, oh.Error)
		}
	case pf.bare != nil:
		oh = pf.bare
		if pf.installed {
			msg := fmt.Sprintf("the installed runtime's probe failed (exit %d", pf.probeExit)
			if pf.stderr != "" {
				msg += ": " + pf.stderr
			}
			errs = append(errs, msg+"); described by the shell instead")
		}
	default:
		return nil, errors.New("the host was not described")
	}
	for k, s := range pf.nameNodes {
		if oh.NameNodes == nil {
			oh.NameNodes = map[string]*planner.ObservedNameNode{}
		}
		if o := oh.NameNodes[k]; o != nil {
			oh.NameNodes[k] = mergeNameNode(o, s)
		} else {
			oh.NameNodes[k] = s
		}
	}
	for k, s := range pf.journals {
		if oh.JournalNodes == nil {
			oh.JournalNodes = map[string]*planner.ObservedJournal{}
		}
		if o := oh.JournalNodes[k]; o != nil {
			oh.JournalNodes[k] = mergeJournal(o, s)
		} else {
			oh.JournalNodes[k] = s
		}
	}
	if want := goArch(pf.arch); pf.os != "" && (pf.os != "Linux" || want != runtime.GOARCH) {
		errs = append(errs, fmt.Sprintf("the host is %s %s, this hactl is linux/%s: its runtime would not run there", pf.os, pf.arch, runtime.GOARCH))
	}
	errs = append(errs, pf.errs...)
	oh.Error = strings.Join(errs, "; ")
	return oh, nil
}

// mergeNameNode combines two views of one NameNode's storage: the runtime's
// (a, from the host's current config, with HA state) and the shell's (b, the
// dirs the configuration names). Data either saw is data.
func mergeNameNode(a, b *planner.ObservedNameNode) *planner.ObservedNameNode {
	out := *a
	out.HasData = a.HasData || b.HasData
	if !a.Formatted && b.Formatted {
		out.Formatted, out.ClusterID, out.NamespaceID = true, b.ClusterID, b.NamespaceID
	}
	out.LastTxid = max(a.LastTxid, b.LastTxid)
	return &out
}

func mergeJournal(a, b *planner.ObservedJournal) *planner.ObservedJournal {
	out := *a
	if !a.Formatted && b.Formatted {
		out = *b
	}
	out.HasData = a.HasData || b.HasData
	out.LastTxid = max(a.LastTxid, b.LastTxid)
	out.LastPromisedEpoch = max(a.LastPromisedEpoch, b.LastPromisedEpoch)
	out.LastWriterEpoch = max(a.LastWriterEpoch, b.LastWriterEpoch)
	out.CommittedTxid = max(a.CommittedTxid, b.CommittedTxid)
	return &out
}

// procAlive says whether a /proc/PID/stat (nil: no such process) is a live
// process that started at start clock ticks (0: any start).
func procAlive(stat []byte, start uint64) bool {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return false
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return err == nil && (start == 0 || st == start)
}

// properties parses a Java properties file such as Hadoop's VERSION.
func properties(data []byte) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// parseLong reads a number file: decimal text (Hadoop's PersistentLongFile) or
// 8 big-endian bytes (BestEffortLongFile, committed-txid).
func parseLong(data []byte) (int64, bool) {
	if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil {
		return n, true
	}
	if len(data) == 8 {
		return int64(binary.BigEndian.Uint64(data)), true
	}
	return 0, false
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// goArch maps `uname -m` to Go's GOARCH.
func goArch(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64", "armv8l":
		return "arm64"
	case "i386", "i686":
		return "386"
	case "ppc64le":
		return "ppc64le"
	case "s390x":
		return "s390x"
	case "riscv64":
		return "riscv64"
	}
	if strings.HasPrefix(m, "armv") {
		return "arm"
	}
	return m
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
