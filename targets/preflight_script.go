package targets

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/internal/zkserver"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/probe"
	"github.com/hactl/hactl/schema"
)

// This file renders the probe script (see preflight.go for what it reads and
// why it is a shell script).

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

// storageDirs are the dirs whose contents the probe script reads on a host.
type storageDirs struct {
	names []nameDirCheck
	roots []string // JournalNode edits dirs, each holding <jid>/current
	data  []string // DataNode data dirs (recorded only; the probe does not read them)
	// The NameNode keys and journal IDs the configuration puts on the host,
	// and the roots only the storage record names (see withRecord).
	nnKeys, jids map[string]bool
	recordRoots  map[string]bool
}

// hostStorage lists the storage dirs the configuration puts on host.
func hostStorage(c *schema.Cluster, host string) storageDirs {
	s := storageDirs{nnKeys: map[string]bool{}, jids: map[string]bool{}}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host != host {
				continue
			}
			s.nnKeys[planner.NameNodeKey(ns.Name, nn.ID)] = true
			for _, d := range ns.EffectiveNameDirs(nn) {
				d = strings.TrimPrefix(d, "file://")
				s.names = append(s.names, nameDirCheck{key: planner.NameNodeKey(ns.Name, nn.ID), ns: ns.Name, id: nn.ID, dir: c.HostDir(host, d)})
			}
		}
		if j := ns.Journal; j != nil && slices.Contains(j.Hosts, host) {
			s.jids[planner.JournalID(ns)] = true
			root := journalDefaultEditsDir
			if j.EditsDir != "" {
				root = c.HostDir(host, strings.TrimPrefix(j.EditsDir, "file://"))
			}
			if !slices.Contains(s.roots, root) {
				s.roots = append(s.roots, root)
			}
		}
	}
	s.data = hostDataDirs(c, host)
	return s
}

// with returns s plus the dirs the installed configuration names (as the
// installed runtime reported them: real paths on the host) that s lacks, and
// whether there were any. A configuration changed since it was installed
// (another name_dir or edits_dir, a NameNode moved away) must not hide the
// data of the dirs the host still uses. A dir the script cannot read (not
// absolute, a line break in its name) is an error: the host's storage cannot
// be described, so it must not be taken for empty.
//
// The storage record apply keeps on the host (storage_record.go) is added
// the same way; source names where in came from, for the error.
func (s storageDirs) with(in *probe.StorageDirs, source string) (storageDirs, bool, error) {
	if in == nil {
		return s, false, nil
	}
	out := s
	out.names, out.roots = slices.Clone(s.names), slices.Clone(s.roots)
	usable := func(what, d string) error {
		if !path.IsAbs(d) || strings.ContainsAny(d, "\n\r") {
			return fmt.Errorf("%s names %s %q, which the probe cannot read", source, what, d)
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

// withRecord returns s plus the dirs of the storage record rec, for storage
// under IDs the configuration does not name on the host: the record is there
// to find a namespace left behind (a renamed nameservice or journal_id with
// moved dirs). A dir it keeps for an ID the configuration still names (a
// name_dir or edits_dir moved since, its old copy left in place) is not
// read: it would be merged into that ID's observed storage and make an empty
// dir look formatted, or an empty journal look like it holds edits.
func (s storageDirs) withRecord(rec *probe.StorageDirs, source string) (storageDirs, bool, error) {
	if rec == nil {
		return s, false, nil
	}
	foreign := &probe.StorageDirs{NameDirs: map[string][]string{}, EditsRoots: rec.EditsRoots}
	for k, d := range rec.NameDirs {
		if !s.nnKeys[k] {
			foreign.NameDirs[k] = d
		}
	}
	out, added, err := s.with(foreign, source)
	if err != nil || !added {
		return out, added, err
	}
	out.recordRoots = map[string]bool{}
	for r := range s.recordRoots {
		out.recordRoots[r] = true
	}
	for _, r := range out.roots {
		if !slices.Contains(s.roots, r) {
			out.recordRoots[r] = true
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
	var procScan strings.Builder
	procScanScript(&procScan, p)
	// The installed runtime may be the previous release's, which runs its
	// probe only for a caller that sets probeReportEnv (this one ignores it).
	args := " runtime probe --conf " + q(p.ConfDir) +
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
r=%[13]s
if [ -f "$r" ]; then
  echo "storerec size $(wc -c <"$r" | tr -d ' ')"; printf 'storerec '; od -An -v -tx1 -N %[14]d "$r" | tr -d ' \n'; echo
fi
zc=%[6]s; s cfg:zoo.cfg "$zc"
if [ -f "$zc" ]; then zd=$(sed -n 's/^[[:space:]]*dataDir=[[:space:]]*//p' "$zc" | head -n 1 | sed 's/[[:space:]]*$//'); [ -n "$zd" ] && s cfg:myid "$zd/myid"; fi
[ -f %[7]s ] && echo zkjar
pids=
for r in %[8]s/*.json; do
  [ -f "$r" ] || continue; n=${r##*/}; n=${n%%.json}; x "rec:$n" "$r"
  p=$(sed -n 's/.*"child_pid": *\([0-9][0-9]*\).*/\1/p' "$r" | head -n 1)
  if grep -q '"manager": *"systemd"' "$r" && command -v systemctl >/dev/null 2>&1; then
    p=$(systemctl show -p MainPID --value "hactl-$n.service" 2>/dev/null); echo "mainpid:$n $p"
    echo "unitstate:$n $(systemctl show -p ActiveState --value "hactl-$n.service" 2>/dev/null)"
  fi
  sp=$(sed -n 's/.*"supervisor_pid": *\([0-9][0-9]*\).*/\1/p' "$r" | head -n 1)
  [ -n "$sp" ] && [ -f "/proc/$sp/stat" ] && x "stat:$sp" "/proc/$sp/stat"
  if [ -n "$p" ] && [ "$p" != 0 ] && [ -f "/proc/$p/stat" ]; then
    x "stat:$p" "/proc/$p/stat"; pids="$pids $p"
    if ! grep -q '%[9]s=' "$r" && l=$(readlink "/proc/$p/exe" 2>/dev/null); then
      echo "exe:$p $l"
      case ${l##*/} in "hactl"|"hactl (deleted)") [ "$l" = "$b" ] || s "exesha:$p" "/proc/$p/exe";; esac
    fi
  fi
done
echo "now $(date +%%s)"
%[10]s
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
  %[11]s=%[12]s "$b"%[2]s; rc=$?
  printf '\nprobe-exit %%d\n' "$rc"
fi
echo end
`, q(p.Binary), args, q(path.Join(p.ConfDir, "core-site.xml")), q(path.Join(p.ConfDir, "hdfs-site.xml")),
		q(p.SecretFile), q(path.Join(p.ConfDir, "zookeeper", "zoo.cfg")), q(zkserver.Jar), q(p.RunDir),
		daemon.EnvRuntimeSHA256, procScan.String(), probeReportEnv, probeReportFormat, q(StorageRecordPath(c, host)), MaxStorageRecord+1)
	return b.String()
}

// The previous release's runtime answers `runtime probe` only when the
// caller sets HACTL_PROBE_REPORT=2 (it exits 3 otherwise, and a cluster it
// runs would be planned without its NameNodes' HA states, so an upgrade
// could restart the active without a failover). This release's runtime
// ignores the variable.
const (
	probeReportEnv    = "HACTL_PROBE_REPORT"
	probeReportFormat = "2"
)
