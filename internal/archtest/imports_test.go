// Package archtest checks the import graph docs/ARCHITECTURE.md describes:
// which package may import which. It reads the import clauses of the
// module's non-test files with go/build (no go command, no network).
package archtest

import (
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/hactl/hactl"

// rules say, for each package (a path under the module, the longest prefix
// of it wins), which of the module's packages it may import (prefixes; a
// package's own subtree is always allowed). Keep in step with
// docs/ARCHITECTURE.md, "Who may import what".
var rules = map[string][]string{
	"cmd/hactl": {"cli"},
	"cli":       {"internal/apply", "internal/daemon", "internal/hadoopconf", "planner", "schema", "targets", "runtime"},
	"internal/apply": {"internal/daemon", "internal/zkserver", "planner", "schema", "targets",
		"runtime/auth", "runtime/rpc"},
	"targets":      {"internal/daemon", "internal/zkserver", "planner", "schema", "runtime/auth", "runtime/probe", "runtime/supervise"},
	"targets/fake": {"targets"},
	"planner":      {"internal/daemon", "schema"},
	"schema":       {"internal/hadoopconf"},
	// The daemons: what runs on the hosts never reads hactl's HCL model or
	// plans, only the Hadoop XML apply rendered.
	"runtime":             {"runtime", "internal/hadoopconf", "internal/zkserver"},
	"internal/daemon":     {},
	"internal/zkserver":   {},
	"internal/hadoopconf": {},
	"internal/netns":      {},
	"internal/archtest":   {},
	"e2e":                 {"internal/netns", "planner"},
	"bench":               {"e2e", "internal/netns", "runtime"},
	// hactl-ec2, a module of its own (the AWS SDK): the language and the
	// host list contract only.
	"ec2": {"schema", "targets"},
}

// pure lists standard packages the planner may not import: it does no I/O.
var impure = []string{"os", "os/exec", "net/http", "syscall", "io/fs"}

type pkg struct {
	rel     string   // path under the module
	imports []string // the module's packages it imports, relative
	std     []string // everything else it imports
}

func modulePackages(t *testing.T) []pkg {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var out []pkg
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
			return filepath.SkipDir
		}
		bp, err := build.ImportDir(p, 0)
		if err != nil {
			return nil // no buildable Go files here (or only tests)
		}
		rel, _ := filepath.Rel(root, p)
		k := pkg{rel: filepath.ToSlash(rel)}
		for _, imp := range bp.Imports {
			if r, ok := strings.CutPrefix(imp, module+"/"); ok {
				k.imports = append(k.imports, r)
			} else {
				k.std = append(k.std, imp)
			}
		}
		out = append(out, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("only %d packages found under %s", len(out), root)
	}
	return out
}

func under(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }

// ruleFor is the rule of the longest prefix of rel.
func ruleFor(rel string) (string, []string, bool) {
	best := ""
	for k := range rules {
		if under(rel, k) && len(k) > len(best) {
			best = k
		}
	}
	allowed, ok := rules[best]
	return best, allowed, ok
}

func TestImportGraph(t *testing.T) {
	pkgs := modulePackages(t)
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[p.rel] = p
		rule, allowed, ok := ruleFor(p.rel)
		if !ok {
			t.Errorf("%s: no rule says what it may import: add it to rules and docs/ARCHITECTURE.md", p.rel)
			continue
		}
		for _, imp := range p.imports {
			if under(imp, rule) || slices.ContainsFunc(allowed, func(a string) bool { return under(imp, a) }) {
				continue
			}
			t.Errorf("%s imports %s: %s may import only %v (docs/ARCHITECTURE.md)", p.rel, imp, rule, allowed)
		}
	}
	// The rule that matters most, checked through every path: nothing
	// under runtime/ reaches the planner or the HCL model.
	for _, p := range pkgs {
		if !under(p.rel, "runtime") {
			continue
		}
		for dep, via := range reach(byPath, p.rel) {
			if under(dep, "planner") || under(dep, "schema") {
				t.Errorf("%s reaches %s (through %s)", p.rel, dep, via)
			}
		}
	}
	if p, ok := byPath["planner"]; !ok {
		t.Error("no planner package found")
	} else {
		for _, s := range p.std {
			if slices.Contains(impure, s) {
				t.Errorf("planner imports %s: the planner is pure (no I/O)", s)
			}
		}
	}
}

// reach is every module package from reaches, each with the package that
// first imported it.
func reach(byPath map[string]pkg, from string) map[string]string {
	seen := map[string]string{}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		imps := slices.Clone(byPath[cur].imports)
		sort.Strings(imps)
		for _, imp := range imps {
			if _, ok := seen[imp]; !ok && imp != from {
				seen[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	return seen
}

// The checker must find a forbidden edge: a rule set without runtime's
// entry falls back to no rule, and an edge from runtime to schema breaks
// the transitive rule.
func TestImportGraphCatchesAForbiddenEdge(t *testing.T) {
	byPath := map[string]pkg{
		"runtime/a":           {rel: "runtime/a", imports: []string{"internal/hadoopconf", "runtime/b"}},
		"runtime/b":           {rel: "runtime/b", imports: []string{"internal/x"}},
		"internal/x":          {rel: "internal/x", imports: []string{"schema"}},
		"schema":              {rel: "schema"},
		"internal/hadoopconf": {rel: "internal/hadoopconf"},
	}
	got := reach(byPath, "runtime/a")
	if got["schema"] != "internal/x" {
		t.Errorf("runtime/a reaches schema through %q, want internal/x: %v", got["schema"], got)
	}
	rule, allowed, _ := ruleFor("runtime/b")
	if rule != "runtime" || slices.ContainsFunc(allowed, func(a string) bool { return under("internal/x", a) }) {
		t.Errorf("runtime/b may import internal/x under rule %s %v", rule, allowed)
	}
	if _, _, ok := ruleFor("newtoplevel"); ok {
		t.Error("a package no rule names has a rule")
	}
	if !under("runtime/zkfc/zktest", "runtime") || under("runtimes", "runtime") || path.Clean("a/b") != "a/b" {
		t.Error("under misreads paths")
	}
}
