package schema

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// pathField is one path the configuration gives, with where it was written.
type pathField struct {
	what string
	val  string
	rng  hcl.Range
	// list: Hadoop splits the rendered key on commas, so a comma inside
	// one path would silently become two paths.
	list bool
}

// pathFields lists every path of the configuration: the ones hactl writes
// into scripts run on the hosts and into Hadoop's XML, and the operator's
// own files (keys, known_hosts, the local target's state dir).
func (v *validator) pathFields() []pathField {
	var out []pathField
	add := func(what, val string, rng hcl.Range, list bool) {
		if val != "" {
			out = append(out, pathField{what, val, rng, list})
		}
	}
	if r := v.c.Runtime; r != nil {
		for _, f := range []struct{ attr, val string }{
			{"install_dir", r.InstallDir}, {"conf_dir", r.ConfDir}, {"log_dir", r.LogDir},
			{"run_dir", r.RunDir}, {"secret_file", r.SecretFile},
		} {
			if rng, set := r.Ranges[f.attr]; set {
				add(f.attr, f.val, rng, false)
			}
		}
	}
	for _, ns := range v.c.Nameservices {
		for i, d := range ns.NameDirs {
			add("name_dir", d, elemAt(ns.Ranges, "name_dir", i, ns.DeclRange), true)
		}
		for _, nn := range ns.NameNodes {
			for i, d := range nn.NameDirs {
				add("name_dir", d, elemAt(nn.Ranges, "name_dir", i, nn.DeclRange), true)
			}
		}
		if j := ns.Journal; j != nil {
			add("edits_dir", j.EditsDir, at(j.Ranges, "edits_dir", j.DeclRange), false)
		}
		if f := ns.Fencing; f != nil {
			for i, k := range f.PrivateKeyFiles {
				add("private_key_files entry", k, elemAt(f.Ranges, "private_key_files", i, f.DeclRange), true)
			}
			add("known_hosts_file", f.KnownHostsFile, at(f.Ranges, "known_hosts_file", f.DeclRange), false)
		}
	}
	for _, g := range v.c.DataNodes {
		for i, d := range g.DataDirs {
			add("data_dirs entry", d, elemAt(g.Ranges, "data_dirs", i, g.DeclRange), true)
		}
	}
	if z := v.c.ZooKeeper; z != nil {
		add("data_dir", z.DataDir, at(z.Ranges, "data_dir", z.DeclRange), false)
	}
	sshPaths := func(s *SSH) {
		if s == nil {
			return
		}
		add("private_key", s.PrivateKey, at(s.Ranges, "private_key", s.DeclRange), false)
		add("known_hosts", s.KnownHosts, at(s.Ranges, "known_hosts", s.DeclRange), false)
	}
	sshPaths(v.c.SSH)
	for _, h := range v.c.Hosts {
		sshPaths(h.SSH)
	}
	if t := v.c.Target; t != nil {
		add("state_dir", t.StateDir, at(t.Ranges, "state_dir", t.DeclRange), false)
	}
	return out
}

// pathCharacters refuses control characters (newlines included) in every
// path, and commas in paths Hadoop reads as comma-separated lists. The
// scripts hactl runs on the hosts quote every path, but a newline in a path
// still breaks the line-oriented probe output (leaving the host
// unplannable after apply) and Hadoop's XML.
func (v *validator) pathCharacters() {
	for _, ns := range v.c.Nameservices {
		if f := ns.Fencing; f != nil && f.KnownHostsFile != "" {
			v.absolute(f.KnownHostsFile, "known_hosts_file", at(f.Ranges, "known_hosts_file", f.DeclRange))
		}
	}
	for _, f := range v.pathFields() {
		if i := strings.IndexFunc(f.val, unicode.IsControl); i >= 0 {
			v.report(RulePathControlChar, f.rng, "Control character in path",
				"%s %q contains the control character %s at byte %d; paths may not contain newlines, tabs or other control characters.", f.what, f.val, controlName(firstRune(f.val[i:])), i)
			continue
		}
		if i := strings.Index(f.val, "${"); i >= 0 && strings.Contains(f.val[i:], "}") {
			v.report(RulePathVariable, f.rng, "Variable in path",
				"%s %q contains %s: hactl's daemons and the scripts apply runs on the hosts take paths literally and would create a dir of that name, while Hadoop's own tools would expand it. Write the path out.", f.what, f.val, f.val[i:i+strings.Index(f.val[i:], "}")+1])
		}
		if f.list && strings.Contains(f.val, ",") {
			v.report(RulePathComma, f.rng, "Comma in path",
				"%s %q contains a comma; Hadoop splits this setting on commas, so it would read it as several paths. Choose a path without a comma.", f.what, f.val)
		}
	}
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func controlName(r rune) string {
	switch r {
	case '\n':
		return `\n (newline)`
	case '\r':
		return `\r (carriage return)`
	case '\t':
		return `\t (tab)`
	case 0:
		return "NUL"
	}
	return fmt.Sprintf("U+%04X", r)
}

// textCharacters refuses control characters in the free strings that are not
// paths: the SSH user and bastion go into ssh's command line, parent_znode
// into ZooKeeper paths (which refuse them) and Hadoop's XML; a passthrough
// key with one is no key Hadoop can read, and XML 1.0 cannot carry a control
// character but tab, newline and carriage return at all (Go's encoder writes
// U+FFFD in its place, so the value would reach Hadoop changed). Values may
// keep tab and newline, which Hadoop's multi-line values use; carriage
// return is refused too, since XML parsers turn it into newline.
func (v *validator) textCharacters() {
	check := func(what, val string, rng hcl.Range, allow string) {
		i := strings.IndexFunc(val, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune(allow, r) })
		if i < 0 {
			return
		}
		v.report(RuleTextControlChar, rng, "Control character in "+what,
			"%s %q contains the control character %s at byte %d; it would reach the hosts' commands and Hadoop's XML broken. Remove it.", what, val, controlName(firstRune(val[i:])), i)
	}
	ssh := func(s *SSH) {
		if s != nil {
			check("ssh user", s.User, at(s.Ranges, "user", s.DeclRange), "")
			check("ssh bastion", s.Bastion, at(s.Ranges, "bastion", s.DeclRange), "")
		}
	}
	ssh(v.c.SSH)
	for _, h := range v.c.Hosts {
		ssh(h.SSH)
	}
	if z := v.c.ZooKeeper; z != nil {
		check("parent_znode", z.ParentZnode, at(z.Ranges, "parent_znode", z.DeclRange), "")
	}
	if h := v.c.Hadoop; h != nil {
		for _, site := range []struct {
			attr string
			m    map[string]string
		}{{"core_site", h.CoreSite}, {"hdfs_site", h.HDFSSite}} {
			attr, m := site.attr, site.m
			for _, k := range keysOf(m) {
				rng := at(h.Ranges, attr+"."+k, at(h.Ranges, attr, h.DeclRange))
				check(attr+" key", k, rng, "")
				check(attr+" value of "+strings.TrimSpace(k), m[k], rng, "\t\n")
			}
		}
	}
}
