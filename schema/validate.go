package schema

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
)

// Validate runs every validation rule over a decoded cluster. Load already
// calls it; it is exported for models built in code (import, tests).
func Validate(c *Cluster) hcl.Diagnostics {
	d := validate(c)
	sortDiags(d)
	return d
}

type validator struct {
	c     *Cluster
	diags hcl.Diagnostics
	local bool
	ec2   bool
	// used records hosts some daemon or instance group refers to.
	used map[string]bool
	// sharedHost marks NameNodes already reported for sharing a host with a
	// NameNode of their nameservice, so their ports and dirs are not reported again.
	sharedHost map[*NameNode]bool
}

func validate(c *Cluster) hcl.Diagnostics {
	v := &validator{c: c, used: map[string]bool{}, sharedHost: map[*NameNode]bool{}}
	if c.Target != nil {
		v.local = c.Target.Kind == TargetLocal
		v.ec2 = c.Target.Kind == TargetEC2
	}
	v.hosts()
	v.target()
	v.nameservices()
	v.dataNodes()
	v.zookeeper()
	v.journalsShared()
	v.ports()
	v.storageDirs()
	v.runtimeDirs()
	v.pathCharacters()
	v.textCharacters()
	v.runtimeDirsSafe()
	v.passthrough()
	v.unusedHosts()
	return v.diags
}

// report adds a diagnostic with the rule's default severity.
func (v *validator) report(rule string, rng hcl.Range, summary, format string, args ...any) {
	r, _ := RuleByID(rule)
	v.diags = append(v.diags, newDiag(rule, r.Severity, summary, fmt.Sprintf(format, args...), &rng))
}

// at returns the range of attr in ranges, else fallback.
func at(ranges Ranges, attr string, fallback hcl.Range) hcl.Range {
	if r, ok := ranges[attr]; ok {
		return r
	}
	return fallback
}

// elemAt returns the range of element i of a list attribute.
func elemAt(ranges Ranges, attr string, i int, fallback hcl.Range) hcl.Range {
	if _, ok := ranges[attr]; !ok {
		return fallback
	}
	return ranges.Elem(attr, i)
}

func (v *validator) hostNames() []string {
	out := make([]string, 0, len(v.c.Hosts))
	for _, h := range v.c.Hosts {
		out = append(out, h.Name)
	}
	return out
}

// hostRef checks that name refers to a declared host and marks it used.
func (v *validator) hostRef(name string, rng hcl.Range, what string) bool {
	if v.c.Host(name) != nil {
		v.used[name] = true
		return true
	}
	hint := suggestFrom(name, v.hostNames())
	if hint == "" && strings.Contains(name, ":") {
		hint = " Give the host's name; ports are set by the *_port attributes."
	}
	v.report(RuleHostReference, rng, "Reference to undeclared host",
		"%s names the host %q, but no host block declares it.%s", what, name, hint)
	return false
}

var hadoopIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (v *validator) identifier(id, what string, rng hcl.Range) {
	if !hadoopIDPattern.MatchString(id) {
		v.report(RuleIdentifier, rng, "Invalid "+what,
			"%q is not a valid %s: Hadoop builds keys such as dfs.namenode.rpc-address.<ns>.<nn> from it, so use only letters, digits, '-' and '_' (no dots, commas or spaces).", id, what)
	}
}

// validAddress reports why addr is not a hostname or IP address, or "".
func validAddress(addr string) string {
	if addr == "" {
		return "it is empty"
	}
	if strings.Contains(addr, "://") {
		return "it looks like a URL; give only the hostname or IP address"
	}
	if _, err := netip.ParseAddr(addr); err == nil {
		return ""
	}
	if h, p, err := net.SplitHostPort(addr); err == nil && h != "" && p != "" {
		return "it includes a port; give only the hostname or IP address"
	}
	if len(addr) > 253 {
		return "a hostname is at most 253 characters"
	}
	labels := strings.Split(strings.TrimSuffix(addr, "."), ".")
	allNumeric := true
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "a hostname label is 1 to 63 characters"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "a hostname label cannot begin or end with '-'"
		}
		for _, r := range l {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-':
				allNumeric = false
			default:
				return fmt.Sprintf("a hostname contains only letters, digits, '-' and '.', not %q", r)
			}
		}
	}
	if allNumeric {
		return "it is neither a valid IP address nor a hostname"
	}
	return ""
}

func (v *validator) hosts() {
	byName := map[string]*Host{}
	byAddr := map[string]*Host{}
	inGroup := map[string]bool{}
	if v.ec2 {
		for _, g := range v.c.Target.EC2.InstanceGroups {
			for _, h := range g.Hosts {
				inGroup[h] = true
			}
		}
	}
	for _, h := range v.c.Hosts {
		nameRng := at(h.Ranges, LabelRangeKey, h.DeclRange)
		if prev, dup := byName[h.Name]; dup {
			v.report(RuleHostDuplicate, nameRng, "Duplicate host",
				"A host named %q is already declared at %s.", h.Name, prev.DeclRange)
			continue
		}
		byName[h.Name] = h
		if h.Name == "" || strings.ContainsAny(h.Name, "/ \t\n,:;") || h.Name == "." || h.Name == ".." {
			v.report(RuleIdentifier, nameRng, "Invalid host name",
				"%q cannot name a host: host names become directory and daemon names, so use letters, digits, '.', '-' and '_'.", h.Name)
		}
		if h.Address == "" {
			if v.ec2 && inGroup[h.Name] {
				continue // the instance provides the address
			}
			v.report(RuleRequired, h.DeclRange, "Missing required argument",
				"The host %q needs an address (a hostname or IP address).", h.Name)
			continue
		}
		addrRng := at(h.Ranges, "address", h.DeclRange)
		if why := validAddress(h.Address); why != "" {
			v.report(RuleAddress, addrRng, "Invalid host address",
				"The address %q of host %q is not valid: %s.", h.Address, h.Name, why)
			continue
		}
		if v.local {
			if ip, err := netip.ParseAddr(h.Address); err != nil || !ip.IsLoopback() {
				v.report(RuleLocalLoopback, addrRng, "Address is not a loopback address",
					"On target local every host is a distinct loopback address (such as 127.0.1.1, 127.0.1.2, …) on this machine; %q is not.", h.Address)
			}
		}
		key := strings.ToLower(strings.TrimSuffix(h.Address, "."))
		if prev, dup := byAddr[key]; dup {
			v.report(RuleAddressDuplicate, addrRng, "Duplicate host address",
				"Hosts %q and %q both have the address %q; their daemons would collide.", prev.Name, h.Name, h.Address)
			continue
		}
		byAddr[key] = h
	}
}

func (v *validator) target() {
	if t := v.c.Target; t != nil && v.ec2 {
		v.ec2Target(t) // ec2.go
	}
}

func (v *validator) nameservices() {
	seen := map[string]*Nameservice{}
	for _, ns := range v.c.Nameservices {
		nameRng := at(ns.Ranges, LabelRangeKey, ns.DeclRange)
		v.identifier(ns.Name, "nameservice ID", nameRng)
		if prev, dup := seen[ns.Name]; dup {
			v.report(RuleIDDuplicate, nameRng, "Duplicate nameservice",
				"A nameservice named %q is already declared at %s.", ns.Name, prev.DeclRange)
			continue
		}
		seen[ns.Name] = ns
		v.nameservice(ns)
	}
}

func (v *validator) nameservice(ns *Nameservice) {
	ids := map[string]*NameNode{}
	hostsSeen := map[string]*NameNode{}
	for _, nn := range ns.NameNodes {
		idRng := at(nn.Ranges, LabelRangeKey, nn.DeclRange)
		v.identifier(nn.ID, "NameNode ID", idRng)
		if prev, dup := ids[nn.ID]; dup {
			v.report(RuleIDDuplicate, idRng, "Duplicate NameNode ID",
				"Nameservice %q already has a NameNode %q at %s; dfs.ha.namenodes.%s lists each ID once.", ns.Name, nn.ID, prev.DeclRange, ns.Name)
			continue
		}
		ids[nn.ID] = nn
		hostRng := at(nn.Ranges, "host", nn.DeclRange)
		if v.hostRef(nn.Host, hostRng, fmt.Sprintf("NameNode %s.%s", ns.Name, nn.ID)) {
			if prev, dup := hostsSeen[nn.Host]; dup {
				v.sharedHost[nn] = true
				v.report(RuleNameNodeHosts, hostRng, "NameNodes share a host",
					"NameNodes %q and %q of nameservice %q both run on host %q; losing that host would take both down. Put each NameNode on its own host.", prev.ID, nn.ID, ns.Name, nn.Host)
			} else {
				hostsSeen[nn.Host] = nn
			}
		}
		dirs := ns.EffectiveNameDirs(nn)
		if len(dirs) == 0 {
			v.report(RuleNameDirMissing, nn.DeclRange, "No name_dir",
				"NameNode %s.%s has no name_dir; Hadoop's default lies under /tmp, which is wiped on reboot. Set name_dir on the nameservice or the namenode.", ns.Name, nn.ID)
		}
		for i, d := range nn.NameDirs {
			v.absolute(d, "name_dir", elemAt(nn.Ranges, "name_dir", i, nn.DeclRange))
		}
	}
	for i, d := range ns.NameDirs {
		v.absolute(d, "name_dir", elemAt(ns.Ranges, "name_dir", i, ns.DeclRange))
	}
	switch n := len(ns.NameNodes); {
	case n < 2:
		v.report(RuleTooFewNameNodes, ns.DeclRange, "Too few NameNodes",
			"Nameservice %q has %d NameNode(s); high availability needs at least 2 (Hadoop recommends 3).", ns.Name, n)
	case n > 5:
		v.report(RuleManyNameNodes, ns.DeclRange, "Many NameNodes",
			"Nameservice %q has %d NameNodes; Hadoop recommends 3 and at most 5, since every extra standby adds checkpoint and edit-tailing load.", ns.Name, n)
	}
	v.journal(ns)
	v.fencing(ns)
	if ns.AutomaticFailover && v.c.ZooKeeper == nil {
		v.report(RuleZKRequired, at(ns.Ranges, "automatic_failover", ns.DeclRange), "ZooKeeper required",
			"Nameservice %q has automatic_failover = true, but there is no zookeeper block: the ZKFCs elect the active NameNode through ZooKeeper.", ns.Name)
	}
}

func (v *validator) absolute(dir, what string, rng hcl.Range) {
	if !strings.HasPrefix(dir, "/") {
		hint := ""
		if strings.HasPrefix(dir, "file://") {
			hint = " Give the path without the file:// scheme; hactl adds what Hadoop needs."
		} else if strings.HasPrefix(dir, "~") {
			hint = " The daemons do not expand ~; write the full path."
		}
		v.report(RuleAbsolutePath, rng, "Path is not absolute",
			"%s %q is not an absolute path; the daemons would resolve it against their working directory.%s", what, dir, hint)
	}
}

// qjEntry is one host:port of a qjournal URI, with its offset in the URI.
type qjEntry struct {
	Host   string
	Port   int
	Offset int
	Raw    string
}

// parseQJournal parses Hadoop's qjournal://host:port;host:port/journalId.
// A missing port means the JournalNode default, as Hadoop's NetUtils does.
func parseQJournal(uri string) (entries []qjEntry, journalID string, err error) {
	const scheme = "qjournal://"
	if !strings.HasPrefix(strings.ToLower(uri), scheme) {
		return nil, "", fmt.Errorf("it does not start with %s", scheme)
	}
	rest := uri[len(scheme):]
	authority, jid, _ := strings.Cut(rest, "/")
	if authority == "" {
		return nil, jid, fmt.Errorf("it names no JournalNodes")
	}
	if strings.Contains(authority, ",") {
		// Hadoop's QuorumJournalManager splits the authority on ';' only, so
		// a comma makes "a:8485,b:8485" one JournalNode with a bad port.
		return nil, jid, fmt.Errorf("it separates JournalNodes with ',' but Hadoop splits them on ';'; write %q",
			uri[:len(scheme)]+strings.ReplaceAll(authority, ",", ";")+rest[len(authority):])
	}
	off := len(scheme)
	for _, part := range strings.Split(authority, ";") {
		e := qjEntry{Offset: off, Raw: part, Port: DefaultJournalRPCPort}
		off += len(part) + 1
		if part == "" {
			return nil, jid, fmt.Errorf("it has an empty entry (a stray ';')")
		}
		host := part
		if strings.Contains(part, ":") {
			h, p, err := net.SplitHostPort(part)
			if err != nil {
				return nil, jid, fmt.Errorf("entry %q is not host:port", part)
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, jid, fmt.Errorf("entry %q has an invalid port", part)
			}
			host, e.Port = h, n
		}
		if why := validAddress(host); why != "" {
			return nil, jid, fmt.Errorf("entry %q: %s", part, why)
		}
		e.Host = host
		entries = append(entries, e)
	}
	return entries, jid, nil
}

// subRange narrows the range of a quoted string literal to s[off:off+n]
// when the literal spells the string exactly (one line, no escapes).
func subRange(r hcl.Range, s string, off, n int) hcl.Range {
	if r.Start.Line != r.End.Line || r.End.Byte-r.Start.Byte != len(s)+2 || off < 0 || off+n > len(s) {
		return r
	}
	out := r
	out.Start.Byte += 1 + off
	out.Start.Column += 1 + off
	out.End.Byte = out.Start.Byte + n
	out.End.Column = out.Start.Column + n
	return out
}

// hostByNameOrAddress finds the declared host a URI or server entry means.
func (v *validator) hostByNameOrAddress(s string) *Host {
	if h := v.c.Host(s); h != nil {
		return h
	}
	for _, h := range v.c.Hosts {
		if h.Address != "" && strings.EqualFold(h.Address, s) {
			return h
		}
	}
	return nil
}

func (v *validator) journal(ns *Nameservice) {
	j := ns.Journal
	if j == nil && ns.SharedEdits == "" {
		v.report(RuleSharedEdits, ns.DeclRange, "No shared edits",
			"Nameservice %q needs a journal block (hosts and edits_dir of its JournalNodes) or shared_edits = \"qjournal://…\".", ns.Name)
		return
	}
	count := 0
	countRng := at(ns.Ranges, "shared_edits", ns.DeclRange)
	if j != nil {
		countRng = at(j.Ranges, "hosts", j.DeclRange)
		seen := map[string]bool{}
		for i, h := range j.Hosts {
			rng := elemAt(j.Ranges, "hosts", i, j.DeclRange)
			if seen[h] {
				v.report(RuleJournalDuplicate, rng, "Duplicate JournalNode",
					"The journal of nameservice %q lists host %q twice; each host runs one JournalNode.", ns.Name, h)
				continue
			}
			seen[h] = true
			count++
			v.hostRef(h, rng, fmt.Sprintf("The journal of nameservice %q", ns.Name))
		}
		if j.EditsDir != "" {
			v.absolute(j.EditsDir, "edits_dir", at(j.Ranges, "edits_dir", j.DeclRange))
		}
		if _, set := j.Ranges["journal_id"]; set {
			v.identifier(j.JournalID, "journal ID", j.Ranges["journal_id"])
		}
	}

	if ns.SharedEdits != "" {
		rng := at(ns.Ranges, "shared_edits", ns.DeclRange)
		entries, jid, err := parseQJournal(ns.SharedEdits)
		if err != nil {
			v.report(RuleQJournalSyntax, rng, "Invalid qjournal URI",
				"shared_edits %q is not a qjournal URI (qjournal://host:port;host:port;…/journalId): %s.", ns.SharedEdits, err)
			return
		}
		if jid == "" {
			v.report(RuleJournalIDMissing, rng, "qjournal URI without journal ID",
				"shared_edits %q ends without /<journalId>; write qjournal://…/%s.", ns.SharedEdits, ns.Name)
		} else {
			idRng := subRange(rng, ns.SharedEdits, len(ns.SharedEdits)-len(jid), len(jid))
			v.identifier(jid, "journal ID", idRng)
			if j != nil && j.JournalID != jid {
				if _, explicit := j.Ranges["journal_id"]; explicit {
					v.report(RuleQJournalMismatch, idRng, "Journal ID mismatch",
						"shared_edits names journal %q but the journal block says journal_id = %q.", jid, j.JournalID)
				}
			}
			if jid != ns.Name {
				v.report(RuleJournalIDDiffers, idRng, "Journal ID differs from the nameservice",
					"The journal ID %q differs from the nameservice name %q; that is legal, but an operator reading the JournalNode's edits dir looks for %q.", jid, ns.Name, ns.Name)
			}
		}
		seen := map[string]bool{}
		listed := map[string]bool{}
		for _, e := range entries {
			erng := subRange(rng, ns.SharedEdits, e.Offset, len(e.Raw))
			h := v.hostByNameOrAddress(e.Host)
			key := strings.ToLower(e.Host)
			if h != nil {
				key = h.Name
				v.used[h.Name] = true
			}
			if seen[key] {
				v.report(RuleJournalDuplicate, erng, "Duplicate qjournal entry",
					"The qjournal URI lists %q twice; a duplicate counts once toward the quorum.", e.Raw)
				continue
			}
			seen[key] = true
			if j == nil {
				count++
				continue
			}
			inJournal := h != nil && slices.Contains(j.Hosts, h.Name)
			if !inJournal {
				hint := ""
				if h == nil {
					hint = suggestFrom(e.Host, j.Hosts)
				}
				v.report(RuleQJournalMismatch, erng, "qjournal entry names no JournalNode",
					"The qjournal URI names %q, which runs no JournalNode of this nameservice (journal hosts: %s).%s", e.Host, strings.Join(slices.Compact(slices.Clone(j.Hosts)), ", "), hint)
				continue
			}
			listed[h.Name] = true
			if e.Port != j.RPCPort {
				v.report(RuleQJournalMismatch, erng, "qjournal port mismatch",
					"The qjournal URI gives port %d for %q, but its JournalNode listens on rpc_port %d.", e.Port, e.Host, j.RPCPort)
			}
		}
		if j != nil {
			for _, h := range j.Hosts {
				if v.c.Host(h) != nil && !listed[h] {
					v.report(RuleQJournalMismatch, rng, "JournalNode missing from qjournal URI",
						"Host %q runs a JournalNode of nameservice %q but the qjournal URI does not list it.", h, ns.Name)
				}
			}
		}
	}

	switch {
	case count < 3:
		v.report(RuleTooFewJournals, countRng, "Too few JournalNodes",
			"Nameservice %q has %d JournalNode(s); the quorum journal needs at least 3 so that one may fail.", ns.Name, count)
	case count%2 == 0:
		v.report(RuleEvenJournals, countRng, "Even number of JournalNodes",
			"Nameservice %q has %d JournalNodes; %d tolerate as many failures (%d) as %d would. Use an odd number.", ns.Name, count, count, (count-1)/2, count-1)
	}
}

// fenceMethod is one parsed dfs.ha.fencing.methods line.
type fenceMethod struct {
	Name string // "sshfence" | "shell"
	Arg  string
}

// parseFenceMethod follows Hadoop's NodeFencer: `name` or `name(arg)`, where
// sshfence takes [[user][:port]] and shell a non-empty command.
func parseFenceMethod(s string) (fenceMethod, error) {
	s = strings.TrimSpace(s)
	m := fenceMethod{Name: s}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		// Render joins the methods with newlines into dfs.ha.fencing.methods,
		// which Hadoop and hactl's ZKFC read one method per line: a newline
		// inside one method would split it into two broken ones.
		return m, fmt.Errorf("it contains the control character %s at byte %d; a method is one line", controlName(firstRune(s[i:])), i)
	}
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return m, fmt.Errorf("it opens '(' without closing ')' at the end")
		}
		m.Name, m.Arg = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	switch m.Name {
	case "sshfence":
		if m.Arg == "" {
			return m, nil
		}
		user, port, hasPort := strings.Cut(m.Arg, ":")
		if strings.ContainsAny(user, " \t@") {
			return m, fmt.Errorf("sshfence's argument is [user][:port], and %q is not a user name", user)
		}
		if hasPort {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return m, fmt.Errorf("sshfence's port %q is not a port number", port)
			}
		}
		return m, nil
	case "shell":
		if strings.TrimSpace(m.Arg) == "" {
			return m, fmt.Errorf("shell needs a command: shell(/path/to/fence.sh)")
		}
		return m, nil
	case "":
		return m, fmt.Errorf("it is empty")
	}
	return m, fmt.Errorf("%q is not a fencing method hactl runs (sshfence or shell)%s", m.Name, suggestFrom(m.Name, []string{"sshfence", "shell"}))
}

// splitFenceList splits a fencing entry at the commas outside parentheses,
// returning the parts only when each is a method on its own.
func splitFenceList(raw string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range raw {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(raw[start:i]))
				start = i + 1
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	parts = append(parts, strings.TrimSpace(raw[start:]))
	for _, p := range parts {
		if _, err := parseFenceMethod(p); err != nil {
			return nil
		}
	}
	return parts
}

// commaMisread says how Hadoop's NodeFencer reads a comma-joined line: the
// name up to the first '(' and everything to the last ')' as the argument.
func commaMisread(raw string) string {
	i, j := strings.IndexByte(raw, '('), strings.LastIndexByte(raw, ')')
	if i < 0 || j < i || j != len(raw)-1 {
		return fmt.Sprintf("a method named %q", raw)
	}
	return fmt.Sprintf("%s with the argument %q", raw[:i], raw[i+1:j])
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func (v *validator) fencing(ns *Nameservice) {
	f := ns.Fencing
	if f == nil || len(f.Methods) == 0 {
		if ns.AutomaticFailover {
			rng := at(ns.Ranges, "automatic_failover", ns.DeclRange)
			if f != nil {
				rng = at(f.Ranges, "methods", f.DeclRange)
			}
			v.report(RuleFencingRequired, rng, "Fencing required",
				"Nameservice %q has automatic failover but no fencing methods; Hadoop's ZKFC refuses to start without dfs.ha.fencing.methods. Add fencing { methods = [\"sshfence\", \"shell(/bin/true)\"] }.", ns.Name)
		}
		return
	}
	sshfence, shell := false, false
	for i, raw := range f.Methods {
		rng := elemAt(f.Ranges, "methods", i, f.DeclRange)
		if parts := splitFenceList(raw); len(parts) > 1 {
			v.report(RuleFencingSyntax, rng, "Fencing methods joined by a comma",
				"%q is %d methods joined by a comma, but Hadoop reads dfs.ha.fencing.methods one method per line, so it would take this as a single method (%s). List each method on its own: methods = [%s].",
				raw, len(parts), commaMisread(raw), quoteList(parts))
			continue
		}
		m, err := parseFenceMethod(raw)
		if err != nil {
			v.report(RuleFencingSyntax, rng, "Invalid fencing method",
				"The fencing method %q does not parse: %s.", raw, err)
			continue
		}
		switch m.Name {
		case "sshfence":
			sshfence = true
			if v.local {
				v.report(RuleLocalSSHFence, rng, "sshfence on target local",
					"On target local every host is this machine, so sshfence would kill the wrong process; use shell fencing, such as \"shell(/bin/true)\" or a script that stops the old active by its pid file.")
			} else if len(f.PrivateKeyFiles) == 0 {
				v.report(RuleSSHFenceKey, rng, "sshfence without a private key",
					"sshfence logs in to the old active's host with dfs.ha.fencing.ssh.private-key-files; set private_key_files in the fencing block.")
			}
		case "shell":
			shell = true
		}
	}
	if sshfence && !shell && !v.local {
		v.report(RuleFencingFallback, at(f.Ranges, "methods", f.DeclRange), "sshfence without a fallback",
			"If the old active's host is down, sshfence cannot connect and every failover attempt fails. End the list with a shell() method, such as \"shell(/bin/true)\", as the Hadoop HA guide suggests.")
	}
	for i, k := range f.PrivateKeyFiles {
		rng := elemAt(f.Ranges, "private_key_files", i, f.DeclRange)
		if priv, ok := strings.CutSuffix(k, ".pub"); ok {
			v.report(RuleSSHFencePublicKey, rng, "Public key given as the private key",
				"%q is an SSH public key; sshfence logs in with the private key, so list %q (the file without .pub) and keep the .pub in the NameNode hosts' authorized_keys.", k, priv)
		}
		v.absolute(k, "private_key_files entry", rng)
	}
}

func (v *validator) zookeeper() {
	z := v.c.ZooKeeper
	if z == nil {
		return
	}
	serversRng := at(z.Ranges, "servers", z.DeclRange)
	seen := map[string]bool{}
	n := 0 // distinct servers, valid or not: the size the operator meant
	for i, s := range z.Servers {
		rng := elemAt(z.Ranges, "servers", i, z.DeclRange)
		key, _ := v.zkServer(z, s, rng)
		if seen[key] {
			v.report(RuleZKDuplicate, rng, "Duplicate ZooKeeper server", "%q is listed twice.", s)
			continue
		}
		seen[key] = true
		n++
	}
	switch {
	case len(z.Servers) == 0:
		v.report(RuleRequired, serversRng, "No ZooKeeper servers", "servers lists no ZooKeeper server.")
	case n == 1 && !v.local:
		v.report(RuleZKSingle, serversRng, "Single ZooKeeper server",
			"Hadoop runs on a single ZooKeeper server, but it is a single point of failure: when it is down no NameNode can become active or fail over; use 3 (or 5).")
	case n == 1:
		v.report(RuleZKQuorumSize, serversRng, "Single ZooKeeper server",
			"One ZooKeeper server is fine for a local test cluster, but tolerates no failure.")
	case n > 0 && (n < 3 || n%2 == 0):
		v.report(RuleZKQuorumSize, serversRng, "ZooKeeper quorum size",
			"%d ZooKeeper servers tolerate %d failure(s), no more than %d would; use an odd number, at least 3.", n, (n-1)/2, n-1)
	}
	if z.Managed && z.TickTime > 0 && z.SessionTimeout > 0 {
		lo, hi := 2*z.TickTime, 20*z.TickTime
		if z.SessionTimeout < lo || z.SessionTimeout > hi {
			v.report(RuleZKSessionTimeout, at(z.Ranges, "session_timeout", at(z.Ranges, "tick_time", z.DeclRange)), "Session timeout out of ZooKeeper's bounds",
				"session_timeout %s lies outside %s..%s (2 to 20 times tick_time %s); ZooKeeper would silently negotiate it into that range.", z.SessionTimeout, lo, hi, z.TickTime)
		}
	}
	zn := z.ParentZnode
	if !strings.HasPrefix(zn, "/") || zn == "/" || strings.HasSuffix(zn, "/") || strings.Contains(zn, "//") {
		v.report(RuleZKZnode, at(z.Ranges, "parent_znode", z.DeclRange), "Invalid parent znode",
			"parent_znode %q is not an absolute ZooKeeper path such as \"/hadoop-ha\".", zn)
	}
	if z.DataDir != "" {
		v.absolute(z.DataDir, "data_dir", at(z.Ranges, "data_dir", z.DeclRange))
	}
}

// zkServer checks one servers entry and returns the key that identifies the
// server (host name, or host:port for an external quorum).
func (v *validator) zkServer(z *ZooKeeper, s string, rng hcl.Range) (string, bool) {
	if z.Managed {
		if strings.Contains(s, ":") && v.c.Host(s) == nil {
			v.report(RuleZKServer, rng, "Managed ZooKeeper server with a port",
				"A managed quorum lists host names and sets client_port; for an existing quorum given as host:port set managed = false.")
			return s, false
		}
		return s, v.hostRef(s, rng, "The managed ZooKeeper quorum")
	}
	host, port := s, ""
	if strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			v.report(RuleZKServer, rng, "Invalid ZooKeeper server", "%q is not \"host\" or \"host:port\".", s)
			return s, false
		}
		host, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			v.report(RuleZKServer, rng, "Invalid ZooKeeper server", "%q has an invalid port.", s)
			return s, false
		}
	}
	if h := v.hostByNameOrAddress(host); h != nil {
		v.used[h.Name] = true
		host = h.Name
	} else if why := validAddress(host); why != "" {
		v.report(RuleZKServer, rng, "Invalid ZooKeeper server", "%q: %s.", s, why)
		return s, false
	}
	if port == "" {
		port = strconv.Itoa(z.ClientPort)
	}
	return strings.ToLower(host) + ":" + port, true
}

// journalsShared checks JournalNodes that serve several nameservices: one
// JournalNode process per host serves every journal on it.
func (v *validator) journalsShared() {
	type jnUse struct {
		ns *Nameservice
		j  *Journal
	}
	first := map[string]jnUse{}
	type hostJID struct{ host, jid string }
	jids := map[hostJID]*Nameservice{}
	type pair struct {
		a, b *Nameservice
		rule string
	}
	reported := map[pair]bool{}
	for _, ns := range v.c.Nameservices {
		j := ns.Journal
		if j == nil {
			continue
		}
		for i, h := range j.Hosts {
			rng := elemAt(j.Ranges, "hosts", i, j.DeclRange)
			if prev, ok := jids[hostJID{h, j.JournalID}]; ok && prev != ns {
				if reported[pair{prev, ns, RuleJournalIDShared}] {
					continue
				}
				reported[pair{prev, ns, RuleJournalIDShared}] = true
				v.report(RuleJournalIDShared, at(j.Ranges, "journal_id", rng), "Journal ID shared by two nameservices",
					"Nameservices %q and %q both write journal %q on the JournalNode of host %q; their edit logs would overwrite each other. Give each nameservice its own journal_id.", prev.Name, ns.Name, j.JournalID, h)
			} else {
				jids[hostJID{h, j.JournalID}] = ns
			}
			prev, ok := first[h]
			if !ok {
				first[h] = jnUse{ns, j}
				continue
			}
			if prev.ns == ns {
				continue
			}
			pj := prev.j
			if pj.RPCPort != j.RPCPort || pj.HTTPPort != j.HTTPPort || path.Clean(pj.EditsDir) != path.Clean(j.EditsDir) {
				if reported[pair{prev.ns, ns, RuleJournalConflict}] {
					continue
				}
				reported[pair{prev.ns, ns, RuleJournalConflict}] = true
				v.report(RuleJournalConflict, rng, "Conflicting JournalNode settings",
					"Host %q runs one JournalNode for nameservices %q and %q, but they disagree on rpc_port, http_port or edits_dir (%d/%d %s vs %d/%d %s).",
					h, prev.ns.Name, ns.Name, pj.RPCPort, pj.HTTPPort, pj.EditsDir, j.RPCPort, j.HTTPPort, j.EditsDir)
			}
		}
	}
}

type binding struct {
	host, daemon string
	port         int
	rng          hcl.Range
}

func (v *validator) ports() {
	var binds []binding
	add := func(host, daemon string, port int, rng hcl.Range) {
		if v.c.Host(host) != nil && port > 0 {
			binds = append(binds, binding{host, daemon, port, rng})
		}
	}
	jnSeen := map[string]bool{}
	for _, ns := range v.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if v.sharedHost[nn] {
				continue
			}
			who := fmt.Sprintf("NameNode %s.%s", ns.Name, nn.ID)
			add(nn.Host, who+" RPC", nn.RPCPort, at(nn.Ranges, "rpc_port", nn.DeclRange))
			add(nn.Host, who+" HTTP", nn.HTTPPort, at(nn.Ranges, "http_port", nn.DeclRange))
			if ns.AutomaticFailover {
				add(nn.Host, fmt.Sprintf("ZKFC %s.%s", ns.Name, nn.ID), v.c.ZKFCPort(ns.Name, nn.ID), nn.DeclRange)
			}
		}
		if j := ns.Journal; j != nil {
			for i, h := range j.Hosts {
				key := fmt.Sprintf("%s/%d/%d", h, j.RPCPort, j.HTTPPort)
				if jnSeen[key] {
					continue // the same JournalNode serves several journals
				}
				jnSeen[key] = true
				rng := elemAt(j.Ranges, "hosts", i, j.DeclRange)
				add(h, "JournalNode RPC", j.RPCPort, at(j.Ranges, "rpc_port", rng))
				add(h, "JournalNode HTTP", j.HTTPPort, at(j.Ranges, "http_port", rng))
			}
		}
	}
	dnSeen := map[string]bool{}
	for _, g := range v.c.DataNodes {
		for i, h := range g.Hosts {
			if dnSeen[h] {
				continue // HA101 says so: one DataNode per host
			}
			dnSeen[h] = true
			rng := elemAt(g.Ranges, "hosts", i, g.DeclRange)
			add(h, "DataNode data transfer", g.Port, at(g.Ranges, "port", rng))
			add(h, "DataNode HTTP", g.HTTPPort, at(g.Ranges, "http_port", rng))
			add(h, "DataNode IPC", g.IPCPort, at(g.Ranges, "ipc_port", rng))
		}
	}
	if z := v.c.ZooKeeper; z != nil && z.Managed {
		seen := map[string]bool{}
		for i, s := range z.Servers {
			if seen[s] {
				continue
			}
			seen[s] = true
			rng := elemAt(z.Ranges, "servers", i, z.DeclRange)
			add(s, "ZooKeeper client", z.ClientPort, at(z.Ranges, "client_port", rng))
			add(s, "ZooKeeper peer", z.PeerPort, at(z.Ranges, "peer_port", rng))
			add(s, "ZooKeeper election", z.ElectionPort, at(z.Ranges, "election_port", rng))
		}
	}
	type hp struct {
		host string
		port int
	}
	owner := map[hp]binding{}
	reported := map[hcl.Range]bool{}
	for _, b := range binds {
		k := hp{b.host, b.port}
		if prev, dup := owner[k]; dup {
			// One setting shared by several hosts conflicts on each: say it once.
			if reported[b.rng] {
				continue
			}
			reported[b.rng] = true
			v.report(RulePortConflict, b.rng, "Port conflict",
				"%s and %s both bind %s:%d.", prev.daemon, b.daemon, b.host, b.port)
			continue
		}
		owner[k] = b
	}
}

func (v *validator) storageDirs() {
	type use struct {
		dir, owner string
		rng        hcl.Range
	}
	perHost := map[string][]use{}
	add := func(host, dir, owner string, rng hcl.Range) {
		if dir == "" || !strings.HasPrefix(dir, "/") || v.c.Host(host) == nil {
			return
		}
		perHost[host] = append(perHost[host], use{path.Clean(dir), owner, rng})
	}
	for _, ns := range v.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if v.sharedHost[nn] {
				continue
			}
			ranges := nn.Ranges
			if len(nn.NameDirs) == 0 {
				ranges = ns.Ranges
			}
			for i, d := range ns.EffectiveNameDirs(nn) {
				add(nn.Host, d, fmt.Sprintf("the name dir of NameNode %s.%s", ns.Name, nn.ID), elemAt(ranges, "name_dir", i, nn.DeclRange))
			}
		}
		if j := ns.Journal; j != nil {
			for i, h := range j.Hosts {
				add(h, j.EditsDir, "the JournalNode edits dir", at(j.Ranges, "edits_dir", elemAt(j.Ranges, "hosts", i, j.DeclRange)))
			}
		}
	}
	v.dataNodeStorage(add)
	if z := v.c.ZooKeeper; z != nil && z.Managed {
		for _, s := range z.Servers {
			add(s, z.DataDir, "the ZooKeeper data dir", at(z.Ranges, "data_dir", z.DeclRange))
		}
	}
	reported := map[string]bool{}
	for _, h := range v.c.Hosts {
		h := h.Name
		uses := perHost[h]
		for i := 1; i < len(uses); i++ {
			for k := 0; k < i; k++ {
				a, b := uses[k], uses[i]
				if a.owner == b.owner || !nestedOrSame(a.dir, b.dir) {
					continue
				}
				key := a.rng.String() + "|" + b.rng.String()
				if reported[key] {
					continue
				}
				reported[key] = true
				rel := "is the same directory as"
				if a.dir != b.dir {
					rel = "overlaps"
				}
				v.report(RuleDirOverlap, b.rng, "Storage directories overlap",
					"On host %q, %s (%s) %s %s (%s); formatting one would wipe or corrupt the other.", h, b.owner, b.dir, rel, a.owner, a.dir)
			}
		}
	}
}

func nestedOrSame(a, b string) bool {
	if a == b {
		return true
	}
	return strings.HasPrefix(a, strings.TrimSuffix(b, "/")+"/") || strings.HasPrefix(b, strings.TrimSuffix(a, "/")+"/")
}

func (v *validator) runtimeDirs() {
	r := v.c.Runtime
	if r == nil {
		return
	}
	for _, f := range []struct{ attr, val string }{
		{"install_dir", r.InstallDir}, {"conf_dir", r.ConfDir}, {"log_dir", r.LogDir},
		{"run_dir", r.RunDir}, {"secret_file", r.SecretFile},
	} {
		if rng, set := r.Ranges[f.attr]; set {
			v.absolute(f.val, f.attr, rng)
		}
	}
}

func (v *validator) passthrough() {
	h := v.c.Hadoop
	if h == nil {
		return
	}
	remote := RemoteNameservices(v.c)
	anyJournal := slices.ContainsFunc(v.c.Nameservices, func(ns *Nameservice) bool { return ns.Journal != nil })
	known := append(v.nameserviceNames(), remote...)
	check := func(attr string, core bool, m map[string]string) {
		for _, k := range keysOf(m) {
			rng := at(h.Ranges, attr+"."+k, at(h.Ranges, attr, h.DeclRange))
			if ns, ok := strings.CutPrefix(k, KeyFailoverProxyProvider+"."); ok && !core && !slices.Contains(known, ns) {
				v.report(RuleUndeclaredNameservice, rng, "Proxy provider for an undeclared nameservice",
					"%s names nameservice %q, which is neither declared nor a remote nameservice (dfs.ha.namenodes.%s); clients never read it.%s Declared: %s.",
					k, ns, ns, suggestFrom(ns, known), strings.Join(known, ", "))
				continue
			}
			if !core && remoteNameserviceKey(k, remote) {
				continue
			}
			// With only shared_edits URIs the JournalNodes are not hactl's:
			// the model renders no JournalNode key, the passthrough's stand.
			if !core && !anyJournal && (k == KeyJournalEditsDir || strings.HasPrefix(k, KeyJournalEditsDir+".")) {
				continue
			}
			if near := nearKnownKey(k, v.c); near != "" {
				v.report(RuleKeyMisspelled, rng, "Misspelled Hadoop key",
					"%s is not a key Hadoop or hactl knows, and Hadoop ignores unknown keys without a word; did you mean %s? Rename it (or, if your Hadoop version does know it, ignore this warning).", k, near)
				continue
			}
			if ModelledHadoopKey(core, k) || (!core && modelledDataNodeKey(k) && v.c.dataNodeKeysModelled()) {
				v.report(RulePassthroughModelled, rng, "Passthrough key is modelled",
					"%s is part of the cluster model: rendered as well, it would either be overwritten by the model or, in a per-nameservice or per-NameNode form Hadoop prefers, silently override it. Remove it from %s and set %s instead.", k, attr, modelledAttribute(k))
			}
		}
	}
	check("core_site", true, h.CoreSite)
	check("hdfs_site", false, h.HDFSSite)
}

func (v *validator) nameserviceNames() []string {
	names := make([]string, len(v.c.Nameservices))
	for i, ns := range v.c.Nameservices {
		names[i] = ns.Name
	}
	return names
}

// modelledAttribute names the HCL that carries a modelled Hadoop key.
func modelledAttribute(key string) string {
	for _, m := range []struct{ prefix, attr string }{
		{KeyZKQuorum, "zookeeper { servers }"},
		{KeyZKSessionTimeout, "zookeeper { session_timeout }"},
		{KeyZKParentZnode, "zookeeper { parent_znode }"},
		{KeyNameservices, "the nameservice blocks"},
		{KeyInternalNameservices, "the nameservice blocks (remote nameservices are those only the passthrough's dfs.ha.namenodes.<ns> describes)"},
		{KeyHANameNodes, "the namenode blocks"},
		{KeyNameNodeRPCAddress, "namenode { host, rpc_port }"},
		{KeyNameNodeHTTPAddress, "namenode { host, http_port }"},
		{KeySharedEditsDir, "nameservice { journal {} } or shared_edits"},
		{KeyJournalEditsDir, "journal { edits_dir }"},
		{KeyJournalRPCAddress, "journal { rpc_port }"},
		{KeyJournalHTTPAddress, "journal { http_port }"},
		{KeyNameDir, "name_dir on the nameservice or namenode"},
		{KeyFencingMethods, "fencing { methods }"},
		{KeyFencingSSHKeyFiles, "fencing { private_key_files }"},
		{KeyFencingSSHTimeout, "fencing { connect_timeout }"},
		{KeyAutomaticFailover, "automatic_failover"},
		{KeyNotActiveInSafemode, "not_become_active_in_safemode"},
		{KeyTailEditsPeriod, "tail_edits_period"},
		{KeyTailEditsInProgress, "tail_edits_in_progress"},
		{KeyClusterSecretFile, "runtime { secret_file }"},
		{KeyDataNodeDataDir, "datanode { data_dirs }"},
		{KeyDataNodeAddress, "datanode { port }"},
		{KeyDataNodeHTTPAddress, "datanode { http_port }"},
		{KeyDataNodeIPCAddress, "datanode { ipc_port }"},
		{KeyDataNodeHostname, "the host's address"},
		{KeyReplication, "hdfs { replication }"},
		{KeyHeartbeatInterval, "hdfs { heartbeat_interval }"},
		{KeyBlockReportInterval, "hdfs { block_report_interval }"},
		{KeyHostsExclude, "the datanode blocks (hactl keeps the exclude file: remove a host from its datanode block to decommission it)"},
	} {
		if key == m.prefix || strings.HasPrefix(key, m.prefix+".") {
			return m.attr
		}
	}
	for _, t := range qjournalTimeoutAttrs {
		if key == t.key || strings.HasPrefix(key, t.key+".") {
			return "qjournal { " + t.attr + " }"
		}
	}
	return "the matching HCL attribute"
}

func (v *validator) unusedHosts() {
	for _, ns := range v.c.Nameservices {
		for _, nn := range ns.NameNodes {
			v.used[nn.Host] = true
		}
	}
	var unused []*Host
	for _, h := range v.c.Hosts {
		if !v.used[h.Name] {
			unused = append(unused, h)
		}
	}
	sort.SliceStable(unused, func(i, j int) bool { return unused[i].DeclRange.Start.Byte < unused[j].DeclRange.Start.Byte })
	for _, h := range unused {
		v.report(RuleHostUnused, at(h.Ranges, LabelRangeKey, h.DeclRange), "Host runs nothing",
			"Host %q runs no NameNode, JournalNode, DataNode or ZooKeeper server and belongs to no instance group.", h.Name)
	}
}
