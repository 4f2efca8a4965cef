package schema

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// runtimeDirsSafe checks that hactl's own directories (install_dir, conf_dir,
// log_dir, run_dir, secret_file) are dedicated to hactl: not a system
// directory, not the same as or nested with a storage dir (destroy removes
// hactl's files, and a conf_dir inside a name dir would mix them with the
// namespace), and not the same as or nested with each other. Storage dirs
// may not be system directories either (destroy --purge-data removes them).
func (v *validator) runtimeDirsSafe() {
	type dirUse struct {
		dir, what string
		rng       hcl.Range
	}
	var runtime []dirUse
	if r := v.c.Runtime; r != nil {
		for _, f := range []struct{ attr, val, def string }{
			{"install_dir", r.InstallDir, DefaultInstallDir}, {"conf_dir", r.ConfDir, DefaultConfDir},
			{"log_dir", r.LogDir, DefaultLogDir}, {"run_dir", r.RunDir, DefaultRunDir},
			{"secret_file", r.SecretFile, ""},
		} {
			val := f.val
			if val == "" {
				val = f.def
			}
			if !strings.HasPrefix(val, "/") {
				continue // HA070 says so
			}
			rng := at(r.Ranges, f.attr, r.DeclRange)
			runtime = append(runtime, dirUse{path.Clean(val), f.attr, rng})
		}
	}
	// Storage dirs by path: one shared name_dir is reported once, naming
	// every owner.
	var storage []*dirUse
	byDir := map[string]*dirUse{}
	addStorage := func(dir, what string, rng hcl.Range) {
		dir = strings.TrimPrefix(dir, "file://")
		if !strings.HasPrefix(dir, "/") {
			return
		}
		dir = path.Clean(dir)
		if u := byDir[dir]; u != nil {
			if !strings.Contains(u.what, what) {
				u.what += " and " + what
			}
			return
		}
		u := &dirUse{dir, what, rng}
		byDir[dir] = u
		storage = append(storage, u)
	}
	for _, ns := range v.c.Nameservices {
		for _, nn := range ns.NameNodes {
			ranges := nn.Ranges
			if len(nn.NameDirs) == 0 {
				ranges = ns.Ranges
			}
			for i, d := range ns.EffectiveNameDirs(nn) {
				addStorage(d, fmt.Sprintf("the name dir of NameNode %s.%s", ns.Name, nn.ID), elemAt(ranges, "name_dir", i, nn.DeclRange))
			}
		}
		if j := ns.Journal; j != nil && j.EditsDir != "" {
			addStorage(j.EditsDir, "the JournalNode edits dir of "+ns.Name, at(j.Ranges, "edits_dir", j.DeclRange))
		}
	}
	for _, g := range v.c.DataNodes {
		for i, d := range g.DataDirs {
			addStorage(d, "a DataNode data dir", elemAt(g.Ranges, "data_dirs", i, g.DeclRange))
		}
	}
	if z := v.c.ZooKeeper; z != nil && z.Managed {
		addStorage(z.EffectiveDataDir(), "the ZooKeeper data dir", at(z.Ranges, "data_dir", z.DeclRange))
	}

	all := append([]dirUse{}, runtime...)
	for _, u := range storage {
		all = append(all, *u)
	}
	for _, u := range all {
		if sys, why := SystemDir(u.dir); sys {
			v.report(RuleRuntimeDirSafety, u.rng, "System directory",
				"%s is %s, %s; hactl needs a directory of its own there (destroy removes what hactl put in it).", u.what, u.dir, why)
		}
	}
	for _, r := range runtime {
		for _, s := range storage {
			if nestedOrSame(r.dir, s.dir) {
				v.report(RuleRuntimeDirSafety, r.rng, "Runtime directory overlaps a storage directory",
					"%s (%s) overlaps %s (%s); hactl's configuration, logs and binary must stay apart from the data.", r.what, r.dir, s.what, s.dir)
			}
		}
	}
	for i := 1; i < len(runtime); i++ {
		for k := 0; k < i; k++ {
			a, b := runtime[k], runtime[i]
			// The secret file lives in conf_dir by default.
			if b.what == "secret_file" && (a.what == "conf_dir" || a.what == "install_dir") && strings.HasPrefix(b.dir, a.dir+"/") {
				continue
			}
			if nestedOrSame(a.dir, b.dir) {
				v.report(RuleRuntimeDirSafety, b.rng, "Runtime directories overlap",
					"%s (%s) overlaps %s (%s); give each its own directory.", b.what, b.dir, a.what, a.dir)
			}
		}
	}
}
