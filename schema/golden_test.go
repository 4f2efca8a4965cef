package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const invalidDir = "../testdata/invalid"

// goldenLines renders diagnostics one per line, file names relative to dir.
func goldenLines(dir string, diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		loc := "-"
		if s := d.Subject; s != nil {
			name := s.Filename
			if rel, err := filepath.Rel(dir, name); err == nil {
				name = filepath.ToSlash(rel)
			}
			loc = fmt.Sprintf("%s:%d:%d", name, s.Start.Line, s.Start.Column)
		}
		fmt.Fprintf(&b, "%s: %s %s: %s\n", loc, SeverityName(d.Severity), RuleID(d), d.Summary)
	}
	return b.String()
}

func invalidCases(t testing.TB) []string {
	entries, err := os.ReadDir(invalidDir)
	if err != nil {
		t.Fatalf("read %s: %v", invalidDir, err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(invalidDir, e.Name()))
		}
	}
	return dirs
}

// TestInvalidGolden loads every testdata/invalid case and compares its
// diagnostics with diagnostics.golden (go test ./schema -update rewrites them).
func TestInvalidGolden(t *testing.T) {
	dirs := invalidCases(t)
	if len(dirs) < 40 {
		t.Fatalf("only %d invalid cases; the corpus should hold at least 40", len(dirs))
	}
	seenRules := map[string]bool{}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, diags := Load(dir, LoadOptions{})
			if len(diags) == 0 {
				t.Fatal("an invalid case produced no diagnostics")
			}
			for _, d := range diags {
				id := RuleID(d)
				if id == "" {
					t.Errorf("diagnostic without a rule ID: %s", d.Error())
				}
				if d.Subject == nil {
					t.Errorf("diagnostic without a source range: %s", d.Error())
				}
				seenRules[id] = true
			}
			got := goldenLines(dir, diags)
			golden := filepath.Join(dir, "diagnostics.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./schema -update)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s\n--- got:\n%s--- want:\n%s", golden, got, want)
			}
		})
	}
	// Every rule is exercised by at least one case.
	for _, r := range Rules() {
		if !seenRules[r.ID] {
			t.Errorf("rule %s (%s) is not exercised by any testdata/invalid case", r.ID, r.Description)
		}
	}
}
