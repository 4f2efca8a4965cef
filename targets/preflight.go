package targets

import (
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

	"github.com/hactl/hactl/internal/daemon"
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
// place that judges them (readStorage for storage, describeHost for the
// rest; runtime/probe reads neither); observed combines the two reports, no
// field coming from both.
//
// The output is line-oriented ("<tag> <fields…>", file contents in hex) and
// interpreted in Go, so the script stays small and POSIX (sh, od, tr, ls,
// sed, awk, cut, grep, readlink, sha256sum) and every judgement is made, and
// tested, in Go. Three files, one job each: preflight_script.go renders the
// script, preflight_scan.go splits its output into tagged lines, and this
// file judges them.

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
	// record: the storage dirs apply recorded on the host (nil when none).
	record *probe.StorageDirs
	stderr string // the script's stderr (tail), for a failed installed probe
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
			o.Dirs = appendNew(o.Dirs, n.dir)
		default:
			// Unreadable or not a directory: it cannot be called empty.
			o.HasData = true
			o.Dirs = appendNew(o.Dirs, n.dir)
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
		root, jid, _ := strings.Cut(tag, ":")
		j := &planner.ObservedJournal{JournalID: jid}
		if i, err := strconv.Atoi(strings.TrimPrefix(root, "jn")); err == nil && i >= 0 && i < len(dirs.roots) {
			if dirs.recordRoots[dirs.roots[i]] && dirs.jids[jid] {
				continue // see storageDirs.withRecord
			}
			j.Dir = path.Join(dirs.roots[i], jid)
		}
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
func parsePreflight(dirs storageDirs, c *schema.Cluster, host string, out []byte) (*preflight, error) {
	paths := c.PathsFor(host)
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
	if b, ok := s.file("storerec"); ok {
		// The script sends the record's size beside its bytes: fewer
		// bytes than that is a record cut short (or rewritten while read),
		// which would forget the dirs named at its end.
		size, err := strconv.Atoi(s.fields["storerec"]["size"])
		switch {
		case err == nil && size > MaxStorageRecord:
			return nil, fmt.Errorf("hactl's storage record %s is %d bytes, more than the %d hactl reads: it names more storage dirs than hactl can check",
				StorageRecordPath(c, host), size, MaxStorageRecord)
		case err != nil || size != len(b):
			return nil, fmt.Errorf("hactl's storage record %s: read %d bytes of %q", StorageRecordPath(c, host), len(b), s.fields["storerec"]["size"])
		}
		if pf.record, err = parseStorageRecord(b); err != nil {
			return nil, fmt.Errorf("hactl's storage record %s: %w", StorageRecordPath(c, host), err)
		}
	}
	if pf.host, pf.errs, err = describeHost(s, paths.Binary); err != nil {
		return nil, err
	}
	recs := map[string]*supervise.Record{}
	for name, data := range s.recs {
		var r supervise.Record
		if json.Unmarshal(data, &r) == nil {
			recs[name] = &r
		}
	}
	markUnrecorded(pf.host, judgeProcs(c, host, paths, s.cmds, s.stats, recs, s.mainPIDs))
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
			if v, ok := strings.CutPrefix(kv, daemon.EnvConfigSHA256+"="); ok {
				d.ConfigSHA256 = v
			}
			if v, ok := strings.CutPrefix(kv, daemon.EnvRuntimeSHA256+"="); ok {
				d.RuntimeSHA256 = v
			}
		}
		d.State, d.Restarts, d.LastExit = r.State, r.Restarts, r.LastExit
		pid, start := r.ChildPID, r.ChildStart
		if r.Manager == supervise.ManagerSystemd {
			pid, start = s.mainPIDs[name], 0
			// The unit's state stands for the supervisor's (systemctl show).
			if st, ok := s.unitStates[name]; ok {
				d.State = st
			}
			d.SupervisorAlive = d.State == supervise.StateRunning || d.State == supervise.StateBackoff
		} else {
			d.SupervisorAlive = r.SupervisorPID > 0 && procAlive(s.stats[r.SupervisorPID], r.SupervisorStart)
			if !d.SupervisorAlive && (d.State != supervise.StateFailed && d.State != supervise.StateStopped) {
				// Nobody is left to update the record: a supervisor killed
				// (or a host rebooted) leaves "running" or "backoff" behind.
				d.State = planner.StateSupervisorGone
			}
		}
		if d.State == supervise.StateBackoff && r.NextStartAt > 0 && s.now > 0 {
			d.NextStartIn = max(0, int((r.NextStartAt+999)/1000-s.now))
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
		d := oh.Daemon(daemon.NameNodeID(r.Nameservice, r.ID))
		if d == nil {
			// An earlier hactl's record (probeHost adopts it next).
			d = oh.Daemons[daemon.Legacy{Kind: daemon.NameNode, NameNode: r.ID}.Name()]
		}
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
	if (!a.Formatted && b.Formatted) || (!a.HasData && b.HasData) {
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

// appendNew appends v to list unless it is there already.
func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
