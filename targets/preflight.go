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
	"github.com/hactl/hactl/runtime/probe"
	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
)

// The probe of a host is one shell script, run as root in one round trip. It
// reads everything a shell can read, on every host, installed or bare
// (nothing is uploaded to do so):
//
//   - the OS and architecture (uname);
//   - every NameNode storage dir and JournalNode edits dir the
//     configuration puts on the host: present, non-empty, VERSION,
//     seen_txid, epochs, committed txid, segment names;
//   - the runtime binary's sha256 (its sidecar bin/hactl.sha256 when that is
//     not older than the binary), the config files' hashes, ZooKeeper's myid
//     and jar;
//   - the supervisor records (RUN/NAME.json), /proc/PID/stat of each
//     daemon's process (systemd's MainPID for a unit), the binary it runs
//     when its record does not say, and the TCP ports its process group
//     listens on.
//
// Then, where hactl's runtime is installed, it runs the installed
// `hactl runtime probe`, which reports only what needs the binary (JSON,
// probe.Report): its version, the local NameNodes' HA state over their
// signed HTTP, and the storage dirs the installed configuration names.
//
// The script is the one reader of each of these facts and this file the one
// place that interprets them (readStorage for storage, describeHost for the
// rest; runtime/probe reads neither); observed combines the two reports, no
// field coming from both.
//
// The output is line-oriented ("<tag> <fields…>", file contents in hex) and
// interpreted here, so the script stays small and POSIX (sh, od, tr, ls,
// sed, awk, cut, grep, readlink, sha256sum) and every judgement is made, and
// tested, in Go.

// journalDefaultEditsDir is where the JournalNode keeps its journals when
// the configuration names no edits dir (runtime/journal's default).
const journalDefaultEditsDir = "/tmp/hadoop/dfs/journalnode"

// preflightMagic starts the script's output (and versions its format).
const preflightMagic = "hactl-preflight 1"

// zooKeeperJar is the file whose presence means Debian's zookeeper package
// is installed (runtime/zookeeper.Jar; that package's tests import this one).
const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// The env keys the executor passes with `supervise start --env`
// (internal/apply): the config and binary a daemon was started with.
const (
	envConfigSHA256  = "HACTL_CONFIG_SHA256"
	envRuntimeSHA256 = "HACTL_RUNTIME_SHA256"
)

// maxProbeFile bounds the bytes of one small file the script sends.
const maxProbeFile = 65536

// nameDirCheck is one NameNode storage dir on a host.
type nameDirCheck struct {
	key string // planner.NameNodeKey(ns, id)
	ns  string
	id  string
	dir string
}

// storageDirs are the dirs whose contents the probe script reads on a host.
type storageDirs struct {
	names []nameDirCheck
	roots []string // JournalNode edits dirs, each holding <jid>/current
}

// hostStorage lists the storage dirs the configuration puts on host.
func hostStorage(c *schema.Cluster, host string) storageDirs {
	var s storageDirs
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host != host {
				continue
			}
			for _, d := range ns.EffectiveNameDirs(nn) {
				d = strings.TrimPrefix(d, "file://")
				s.names = append(s.names, nameDirCheck{key: planner.NameNodeKey(ns.Name, nn.ID), ns: ns.Name, id: nn.ID, dir: c.HostDir(host, d)})
			}
		}
		if j := ns.Journal; j != nil && slices.Contains(j.Hosts, host) {
			root := journalDefaultEditsDir
			if j.EditsDir != "" {
				root = c.HostDir(host, strings.TrimPrefix(j.EditsDir, "file://"))
			}
			if !slices.Contains(s.roots, root) {
				s.roots = append(s.roots, root)
			}
		}
	}
	return s
}

// with returns s plus the dirs the installed configuration names (as the
// installed runtime reported them: real paths on the host) that s lacks, and
// whether there were any. A configuration changed since it was installed
// (another name_dir or edits_dir, a NameNode moved away) must not hide the
// data of the dirs the host still uses. A dir the script cannot read (not
// absolute, a line break in its name) is an error: the host's storage cannot
// be described, so it must not be taken for empty.
func (s storageDirs) with(in *probe.StorageDirs) (storageDirs, bool, error) {
	if in == nil {
		return s, false, nil
	}
	out := storageDirs{names: slices.Clone(s.names), roots: slices.Clone(s.roots)}
	usable := func(what, d string) error {
		if !path.IsAbs(d) || strings.ContainsAny(d, "\n\r") {
			return fmt.Errorf("the installed configuration names %s %q, which the probe cannot read", what, d)
		}
		return nil
	}
	keys := make([]string, 0, len(in.NameDirs))
	for k := range in.NameDirs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	added := false
	for _, key := range keys {
		ns, id, _ := strings.Cut(key, "/")
		for _, d := range in.NameDirs[key] {
			if err := usable("name dir", d); err != nil {
				return s, false, err
			}
			if !slices.ContainsFunc(out.names, func(n nameDirCheck) bool { return n.key == key && n.dir == d }) {
				out.names = append(out.names, nameDirCheck{key: key, ns: ns, id: id, dir: d})
				added = true
			}
		}
	}
	for _, r := range in.EditsRoots {
		if err := usable("edits dir", r); err != nil {
			return s, false, err
		}
		if !slices.Contains(out.roots, r) {
			out.roots = append(out.roots, r)
			added = true
		}
	}
	return out, added, nil
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

// writeStorageScript writes the script lines that read the dirs of s.
func writeStorageScript(b *strings.Builder, s storageDirs) {
	q := ShellQuote
	for i, n := range s.names {
		tag := "nn" + strconv.Itoa(i)
		fmt.Fprintf(b, "d %[1]s %[2]s; x %[1]s.version %[2]s/current/VERSION; x %[1]s.seen %[2]s/current/seen_txid\n", tag, q(n.dir))
	}
	for i, r := range s.roots {
		// One line per journal dir under the root (dot dirs are not journals).
		fmt.Fprintf(b, `for j in %[2]s/*; do
  [ -d "$j" ] || continue; id=${j##*/}
  case $id in *[[:space:]]*) continue;; esac
  t="jn%[1]d:$id"; echo "$t journal"; c="$j/current"
  d "$t" "$c"; e "$t" "$c"; x "$t.version" "$c/VERSION"; x "$t.promised" "$c/last-promised-epoch"
  x "$t.writer" "$c/last-writer-epoch"; x "$t.committed" "$c/committed-txid"; d "$t.paxos" "$c/paxos"
done
`, i, q(r))
	}
}

// storageScript renders a script that only reads the dirs of s (the second
// round trip, when the installed configuration names dirs the cluster
// configuration does not).
func storageScript(s storageDirs) string {
	var b strings.Builder
	b.WriteString(preflightFuncs)
	fmt.Fprintf(&b, "echo %s\n", ShellQuote(preflightMagic))
	writeStorageScript(&b, s)
	b.WriteString("echo end\n")
	return b.String()
}

// preflightScript renders the probe script for host, reading the storage
// dirs of s (see the comment at the top of this file).
func preflightScript(c *schema.Cluster, host, address string, s storageDirs) string {
	p := c.PathsFor(host)
	q := ShellQuote
	var b strings.Builder
	b.WriteString(preflightFuncs)
	fmt.Fprintf(&b, "echo %s\necho \"os $(uname -s) $(uname -m)\"\n", q(preflightMagic))
	writeStorageScript(&b, s)
	args := " runtime probe --conf " + q(p.ConfDir) + " --run-dir " + q(p.RunDir) +
		" --install-dir " + q(p.InstallDir) + " --address " + q(address)
	fmt.Fprintf(&b, `b=%[1]s
if [ -e "$b" ]; then
  c=
  if [ -f "$b.sha256" ] && [ ! "$b.sha256" -ot "$b" ]; then
    c=$(cut -c1-64 "$b.sha256" | head -n 1); case $c in *[!0-9a-f]*) c=;; esac; [ ${#c} = 64 ] || c=
  fi
  if [ -n "$c" ]; then echo "bin sha $c"; else s bin "$b"; fi
fi
s cfg:core-site.xml %[3]s; s cfg:hdfs-site.xml %[4]s; s cfg:cluster.secret %[5]s
zc=%[6]s; s cfg:zoo.cfg "$zc"
if [ -f "$zc" ]; then zd=$(sed -n 's/^[[:space:]]*dataDir=[[:space:]]*//p' "$zc" | head -n 1 | sed 's/[[:space:]]*$//'); [ -n "$zd" ] && s cfg:myid "$zd/myid"; fi
[ -f %[7]s ] && echo zkjar
pids=
for r in %[8]s/*.json; do
  [ -f "$r" ] || continue; n=${r##*/}; n=${n%%.json}; x "rec:$n" "$r"
  p=$(sed -n 's/.*"child_pid": *\([0-9][0-9]*\).*/\1/p' "$r" | head -n 1)
  if grep -q '"manager": *"systemd"' "$r" && command -v systemctl >/dev/null 2>&1; then
    p=$(systemctl show -p MainPID --value "hactl-$n.service" 2>/dev/null); echo "mainpid:$n $p"
  fi
  if [ -n "$p" ] && [ "$p" != 0 ] && [ -f "/proc/$p/stat" ]; then
    x "stat:$p" "/proc/$p/stat"; pids="$pids $p"
    if ! grep -q '%[9]s=' "$r" && l=$(readlink "/proc/$p/exe" 2>/dev/null); then
      echo "exe:$p $l"
      case ${l##*/} in "hactl"|"hactl (deleted)") [ "$l" = "$b" ] || s "exesha:$p" "/proc/$p/exe";; esac
    fi
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
if [ -f "$b" ] && [ -x "$b" ]; then
  echo installed
  %[10]s=%[11]s "$b"%[2]s; rc=$?
  printf '\nprobe-exit %%d\n' "$rc"
fi
echo end
`, q(p.Binary), args, q(path.Join(p.ConfDir, "core-site.xml")), q(path.Join(p.ConfDir, "hdfs-site.xml")),
		q(p.SecretFile), q(path.Join(p.ConfDir, "zookeeper", "zoo.cfg")), q(zooKeeperJar), q(p.RunDir),
		envRuntimeSHA256, probe.ReportEnv, probe.ReportFormat)
	return b.String()
}

// preflight is the parsed output of the probe script.
type preflight struct {
	os, arch string
	// storage: the NameNode and JournalNode facts, from the shell (the one
	// reader of storage) and the errors found reading them.
	nameNodes   map[string]*planner.ObservedNameNode
	journals    map[string]*planner.ObservedJournal
	storageErrs []string
	// host: the rest of the host as the shell read it (runtime and config
	// hashes, ZooKeeper, daemons), and the errors found reading it.
	host *planner.ObservedHost
	errs []string
	// installed: the installed runtime's probe ran; its report (nil unless
	// it exited 0) and exit code.
	installed bool
	runtime   *probe.Report
	probeExit int
	stderr    string // the script's stderr (tail), for a failed installed probe
}

// scanned is the probe script's output, split into its tagged lines.
type scanned struct {
	fields      map[string]map[string]string // tag -> kind -> value
	ents        map[string][]string
	journalTags []string
	recs        map[string][]byte
	stats       map[int][]byte
	mainPIDs    map[string]int
	exes        map[int]string          // pid -> the binary it runs (readlink /proc/PID/exe)
	listen      map[string]int          // socket inode -> port
	socks       map[int]map[string]bool // pgid -> socket inodes
	ended       bool
}

// scanPreflight splits the script's output (without the installed probe's
// part) into its tagged lines.
func scanPreflight(out []byte, pf *preflight) (*scanned, error) {
	s := &scanned{fields: map[string]map[string]string{}, ents: map[string][]string{}, recs: map[string][]byte{},
		stats: map[int][]byte{}, mainPIDs: map[string]int{}, exes: map[int]string{}, listen: map[string]int{}, socks: map[int]map[string]bool{}}
	sawMagic := false
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
		case tag == "end":
			s.ended = true
		case tag == "zkjar":
			s.fields["zkjar"] = map[string]string{"": "1"}
		case tag == "listen":
			inode, addr, _ := strings.Cut(rest, " ")
			if k := strings.LastIndexByte(addr, ':'); k >= 0 {
				if port, err := strconv.ParseUint(addr[k+1:], 16, 16); err == nil {
					s.listen[inode] = int(port)
				}
			}
		case tag == "sock":
			g, inode, _ := strings.Cut(rest, " ")
			pg, _ := strconv.Atoi(g)
			if s.socks[pg] == nil {
				s.socks[pg] = map[string]bool{}
			}
			s.socks[pg][inode] = true
		case strings.HasPrefix(tag, "rec:"):
			b, err := hex.DecodeString(rest)
			if err != nil {
				return nil, fmt.Errorf("bad %s line", tag)
			}
			s.recs[strings.TrimPrefix(tag, "rec:")] = b
		case strings.HasPrefix(tag, "stat:"):
			pid, _ := strconv.Atoi(strings.TrimPrefix(tag, "stat:"))
			if b, err := hex.DecodeString(rest); err == nil {
				s.stats[pid] = b
			}
		case strings.HasPrefix(tag, "exe:"):
			pid, _ := strconv.Atoi(strings.TrimPrefix(tag, "exe:"))
			s.exes[pid] = rest
		case strings.HasPrefix(tag, "mainpid:"):
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			s.mainPIDs[strings.TrimPrefix(tag, "mainpid:")] = n
		default:
			kind, value, _ := strings.Cut(rest, " ")
			if rest == "journal" {
				s.journalTags = append(s.journalTags, tag)
				continue
			}
			if kind == "ent" {
				s.ents[tag] = append(s.ents[tag], value)
				continue
			}
			if s.fields[tag] == nil {
				s.fields[tag] = map[string]string{}
			}
			switch kind {
			case "dir", "sha":
				s.fields[tag][kind] = value
			default: // "<tag> <hex>": a file's content
				s.fields[tag]["hex"] = rest
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !sawMagic {
		return nil, fmt.Errorf("no %q line", preflightMagic)
	}
	return s, nil
}

// file returns the content of the file the script sent under tag.
func (s *scanned) file(tag string) ([]byte, bool) {
	f, ok := s.fields[tag]["hex"]
	if !ok {
		return nil, false
	}
	b, err := hex.DecodeString(f)
	return b, err == nil
}

// readStorage judges what the script saw in the storage dirs of dirs. It is
// the one place that does (runtime/probe reads no storage). The rules:
//   - a dir that cannot be listed, or is not a dir, holds data (with the
//     reason in errs): it can never be called empty;
//   - a non-empty dir holds data, VERSION or not;
//   - a VERSION present means formatted (a formatted journal holds data);
//   - a journal holds data when it has an edits segment, paxos state or a
//     promised epoch.
func readStorage(dirs storageDirs, s *scanned) (map[string]*planner.ObservedNameNode, map[string]*planner.ObservedJournal, []string) {
	nns := map[string]*planner.ObservedNameNode{}
	jns := map[string]*planner.ObservedJournal{}
	var errs []string
	for i, n := range dirs.names {
		tag := "nn" + strconv.Itoa(i)
		o := nns[n.key]
		if o == nil {
			o = &planner.ObservedNameNode{Nameservice: n.ns, ID: n.id}
			nns[n.key] = o
		}
		switch st := s.fields[tag]["dir"]; st {
		case "absent", "empty":
		case "full":
			o.HasData = true
		default:
			// Unreadable or not a directory: it cannot be called empty.
			o.HasData = true
			errs = append(errs, fmt.Sprintf("namenode %s name dir %s: %s", n.key, n.dir, orWord(st, "not checked")))
		}
		if v, ok := s.file(tag + ".version"); ok {
			props := properties(v)
			o.Formatted = true
			if o.ClusterID == "" {
				o.ClusterID = props["clusterID"]
				o.NamespaceID, _ = strconv.ParseInt(props["namespaceID"], 10, 64)
			}
		}
		if v, ok := s.file(tag + ".seen"); ok {
			if t, ok := parseLong(v); ok && t > o.LastTxid {
				o.LastTxid = t
			}
		}
	}
	// JournalNode storage: <root>/<jid>/current.
	for _, tag := range s.journalTags {
		_, jid, _ := strings.Cut(tag, ":")
		j := &planner.ObservedJournal{JournalID: jid}
		switch st := s.fields[tag]["dir"]; st {
		case "absent":
		case "empty", "full":
			if v, ok := s.file(tag + ".version"); ok {
				props := properties(v)
				j.Formatted = true
				j.ClusterID = props["clusterID"]
				j.NamespaceID, _ = strconv.ParseInt(props["namespaceID"], 10, 64)
			}
			for name, dst := range map[string]*int64{"promised": &j.LastPromisedEpoch, "writer": &j.LastWriterEpoch, "committed": &j.CommittedTxid} {
				if v, ok := s.file(tag + "." + name); ok {
					*dst, _ = parseLong(v)
				}
			}
			for _, n := range s.ents[tag] {
				switch {
				case strings.HasPrefix(n, "edits_inprogress_"):
					// The in-progress segment's end is only known by reading
					// it; at least its first txid is there.
					if first, err := strconv.ParseInt(strings.TrimPrefix(n, "edits_inprogress_"), 10, 64); err == nil {
						j.HasData, j.LastTxid = true, max(j.LastTxid, first)
					}
				case strings.HasPrefix(n, "edits_"):
					if _, end, ok := strings.Cut(strings.TrimPrefix(n, "edits_"), "-"); ok {
						if e, err := strconv.ParseInt(end, 10, 64); err == nil {
							j.HasData, j.LastTxid = true, max(j.LastTxid, e)
						}
					}
				}
			}
			if s.fields[tag+".paxos"]["dir"] == "full" {
				j.HasData = true
			}
			if j.Formatted || j.LastPromisedEpoch > 0 {
				j.HasData = true // a formatted journal holds a namespace
			}
		default:
			j.HasData = true
			errs = append(errs, fmt.Sprintf("journal %s: current dir %s", jid, orWord(st, "not checked")))
		}
		if prev := jns[jid]; prev != nil {
			// The same journal ID under two edits roots: keep what holds data.
			j = mergeJournal(prev, j)
		}
		jns[jid] = j
	}
	return nns, jns, errs
}

// parsePreflight interprets the output of preflightScript(…, dirs); binary is
// the runtime binary's path on the host.
func parsePreflight(dirs storageDirs, binary string, out []byte) (*preflight, error) {
	pf := &preflight{}
	// The installed probe's JSON sits between "installed" and "probe-exit N".
	var probeJSON []byte
	if i := bytes.Index(out, []byte("\ninstalled\n")); i >= 0 {
		rest := out[i+len("\ninstalled\n"):]
		j := bytes.LastIndex(rest, []byte("\nprobe-exit "))
		if j < 0 {
			return nil, errors.New("output ends inside the installed runtime's probe")
		}
		pf.installed = true
		probeJSON = rest[:j]
		tailLines := rest[j+1:]
		line, after, _ := bytes.Cut(tailLines, []byte("\n"))
		n, err := strconv.Atoi(strings.TrimPrefix(string(line), "probe-exit "))
		if err != nil {
			return nil, fmt.Errorf("bad probe exit line %q", line)
		}
		pf.probeExit = n
		out = append(append([]byte{}, out[:i+1]...), after...)
	}
	s, err := scanPreflight(out, pf)
	if err != nil {
		return nil, err
	}
	if !s.ended {
		return nil, errors.New("output ends before the host was described")
	}
	pf.nameNodes, pf.journals, pf.storageErrs = readStorage(dirs, s)
	if pf.host, pf.errs, err = describeHost(s, binary); err != nil {
		return nil, err
	}
	if pf.installed && pf.probeExit == 0 {
		pf.runtime = &probe.Report{}
		if err := json.Unmarshal(bytes.TrimSpace(probeJSON), pf.runtime); err != nil {
			return nil, fmt.Errorf("bad output of the installed runtime's probe: %w: %q", err, tail(probeJSON, 200))
		}
	}
	return pf, nil
}

// describeHost judges what the script saw outside the storage dirs: the
// runtime binary's and the config files' hashes, ZooKeeper's jar, and the
// daemons. It is the one place that does (runtime/probe reads none of it).
// The rules:
//   - a hash that is not a sha256 (no sha256sum on the host) is an error:
//     the host cannot be described;
//   - a daemon runs only when the process its record names is alive (not a
//     zombie) and started at the time the record says: a recycled PID is
//     another process; a systemd unit's is its MainPID;
//   - a running daemon listens on the ports its process group listens on,
//     and runs the binary its record's HACTL_RUNTIME_SHA256 names, else the
//     one /proc/PID/exe shows when that is hactl.
func describeHost(s *scanned, binary string) (*planner.ObservedHost, []string, error) {
	oh := &planner.ObservedHost{}
	var errs []string
	if sum, ok := s.fields["bin"]["sha"]; ok {
		if !isSHA256(sum) {
			return nil, nil, fmt.Errorf("cannot hash the installed runtime (%q): no sha256sum on the host?", sum)
		}
		oh.RuntimeSHA256 = sum
	}
	for _, f := range []string{planner.FileCoreSite, planner.FileHDFSSite, planner.FileSecret, planner.FileZooCfg, planner.FileZooKeeperID} {
		sum, ok := s.fields["cfg:"+f]["sha"]
		if !ok {
			continue
		}
		if !isSHA256(sum) {
			return nil, nil, fmt.Errorf("cannot hash %s (%q): no sha256sum on the host?", f, sum)
		}
		if oh.ConfigSHA256 == nil {
			oh.ConfigSHA256 = map[string]string{}
		}
		oh.ConfigSHA256[f] = sum
	}
	oh.ZooKeeperInstalled = s.fields["zkjar"] != nil
	for name, data := range s.recs {
		var r supervise.Record
		if err := json.Unmarshal(data, &r); err != nil {
			errs = append(errs, fmt.Sprintf("supervisor record %s: %v", name, err))
			continue
		}
		if r.Name == "" {
			r.Name = name
		}
		d := &planner.ObservedDaemon{}
		for _, kv := range r.Env {
			if v, ok := strings.CutPrefix(kv, envConfigSHA256+"="); ok {
				d.ConfigSHA256 = v
			}
			if v, ok := strings.CutPrefix(kv, envRuntimeSHA256+"="); ok {
				d.RuntimeSHA256 = v
			}
		}
		pid, start := r.ChildPID, r.ChildStart
		if r.Manager == supervise.ManagerSystemd {
			pid, start = s.mainPIDs[name], 0
		}
		if pid > 0 && procAlive(s.stats[pid], start) {
			d.Running, d.PID, d.StartedAt = true, pid, r.StartedAt
			for inode := range s.socks[pid] {
				if port, ok := s.listen[inode]; ok && !slices.Contains(d.Listening, port) {
					d.Listening = append(d.Listening, port)
				}
			}
			sort.Ints(d.Listening)
			if d.RuntimeSHA256 == "" {
				switch exe := s.exes[pid]; {
				case exe != "" && exe == binary:
					d.RuntimeSHA256 = oh.RuntimeSHA256
				case isSHA256(s.fields["exesha:"+strconv.Itoa(pid)]["sha"]):
					d.RuntimeSHA256 = s.fields["exesha:"+strconv.Itoa(pid)]["sha"]
				}
			}
		}
		if oh.Daemons == nil {
			oh.Daemons = map[string]*planner.ObservedDaemon{}
		}
		oh.Daemons[r.Name] = d
	}
	return oh, errs, nil
}

// parseStorage interprets the output of storageScript(dirs): it replaces the
// storage facts of pf.
func (pf *preflight) parseStorage(dirs storageDirs, out []byte) error {
	s, err := scanPreflight(out, pf)
	if err != nil {
		return err
	}
	if !s.ended {
		return errors.New("output ends before the storage dirs were read")
	}
	pf.nameNodes, pf.journals, pf.storageErrs = readStorage(dirs, s)
	return nil
}

// observed is the host as plan sees it, a plain combination of two reports
// with no fact from both: from the shell, storage (formatted, has_data,
// clusterID, namespaceID, seen_txid, journals) and the rest of the host
// (hashes, daemons, ZooKeeper); from the installed runtime's probe, only what
// needs it: its version and the HA state, health and applied txid of the
// NameNodes it asked. A NameNode's last txid is the larger of its seen_txid
// on disk and the txid the running NameNode says it applied; its HA state is
// only taken while the shell saw its daemon running (and a running NameNode
// without one is named in Error: unknown, never guessed).
func (pf *preflight) observed() (*planner.ObservedHost, error) {
	if pf.host == nil {
		return nil, errors.New("the host was not described")
	}
	o := *pf.host
	oh := &o
	var errs []string
	var ha map[string]*probe.NameNode
	switch {
	case pf.runtime != nil:
		oh.RuntimeVersion = pf.runtime.RuntimeVersion
		if pf.runtime.Error != "" {
			errs = append(errs, pf.runtime.Error)
		}
		ha = pf.runtime.NameNodes
	case pf.installed:
		msg := fmt.Sprintf("the installed runtime's probe failed (exit %d", pf.probeExit)
		if pf.stderr != "" {
			msg += ": " + pf.stderr
		}
		errs = append(errs, msg+"); its version and the NameNodes' HA state are unknown")
	}
	// The supervisor ships inside the runtime binary.
	oh.Supervisor = pf.installed
	if oh.RuntimeSHA256 != "" && oh.RuntimeVersion == "" {
		oh.RuntimeVersion = "unknown"
	}
	oh.NameNodes, oh.JournalNodes = nil, nil
	if len(pf.nameNodes) > 0 || len(ha) > 0 {
		oh.NameNodes = map[string]*planner.ObservedNameNode{}
	}
	for k, s := range pf.nameNodes {
		o := *s
		oh.NameNodes[k] = &o
	}
	keys := make([]string, 0, len(ha))
	for k := range ha {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := ha[k]
		o := oh.NameNodes[k]
		if o == nil {
			o = &planner.ObservedNameNode{Nameservice: r.Nameservice, ID: r.ID}
			oh.NameNodes[k] = o
		}
		d := oh.Daemons[planner.NameNodeDaemon(r.ID)]
		switch {
		case d == nil || !d.Running:
			// Not ours to ask about: whatever answered is not the daemon.
		case r.HAState == "":
			errs = append(errs, fmt.Sprintf("namenode %s runs (pid %d) but its HA state is unknown", k, d.PID))
		default:
			o.HAState, o.Healthy = r.HAState, r.Healthy
			o.LastTxid = max(o.LastTxid, r.LastAppliedTxid)
		}
	}
	if len(pf.journals) > 0 {
		oh.JournalNodes = pf.journals
	}
	if want := goArch(pf.arch); pf.os != "" && (pf.os != "Linux" || want != runtime.GOARCH) {
		errs = append(errs, fmt.Sprintf("the host is %s %s, this hactl is linux/%s: its runtime would not run there", pf.os, pf.arch, runtime.GOARCH))
	}
	errs = append(append(errs, pf.storageErrs...), pf.errs...)
	oh.Error = strings.Join(errs, "; ")
	return oh, nil
}

// mergeJournal combines one journal ID found under two edits roots.
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
