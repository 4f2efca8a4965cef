package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// configDirToken stands for the absolute fixture directory in golden files,
// so target local's rooted paths do not depend on where the checkout lives.
const configDirToken = "${CONFIG_DIR}"

// TestRenderGolden loads every testdata/valid/<name> fixture and compares the
// rendered files of each host with testdata/valid/<name>/render/<host>/
// (go test ./schema -run Render -update rewrites them).
func TestRenderGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "valid", "*"))
	if err != nil || len(dirs) < 4 {
		t.Fatalf("valid fixtures: %v (found %d)", err, len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, diags := Load(dir, LoadOptions{})
			if diags.HasErrors() {
				t.Fatalf("fixture does not load: %s", diags.Error())
			}
			hosts, err := RenderAll(c)
			if err != nil {
				t.Fatal(err)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]byte{}
			for _, h := range hosts {
				for name, data := range map[string][]byte{"core-site.xml": h.Core.Marshal(), "hdfs-site.xml": h.HDFS.Marshal()} {
					want[filepath.Join(h.Host, name)] = bytes.ReplaceAll(data, []byte(abs), []byte(configDirToken))
				}
			}
			golden := filepath.Join(dir, "render")
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				for rel, data := range want {
					p := filepath.Join(golden, rel)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			var have []string
			err = filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(golden, p)
				have = append(have, rel)
				return nil
			})
			if err != nil {
				t.Fatalf("%v (run with -update to create the golden files)", err)
			}
			var wantNames []string
			for rel := range want {
				wantNames = append(wantNames, rel)
			}
			sort.Strings(have)
			sort.Strings(wantNames)
			if strings.Join(have, " ") != strings.Join(wantNames, " ") {
				t.Fatalf("golden files %v, rendered %v", have, wantNames)
			}
			for rel, data := range want {
				g, err := os.ReadFile(filepath.Join(golden, rel))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(g, data) {
					t.Errorf("%s differs from golden:\n%s", rel, data)
				}
			}
		})
	}
}

// TestExamplesLoadWithoutErrors loads every examples/* directory and renders
// each host, so a shipped example never stops validating.
func TestExamplesLoadWithoutErrors(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "examples", "*"))
	if err != nil || len(dirs) < 3 {
		t.Fatalf("examples: %v (found %d)", err, len(dirs))
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, diags := Load(dir, LoadOptions{})
			if diags.HasErrors() {
				t.Fatalf("%s: %s", dir, diags.Error())
			}
			for _, d := range diags {
				t.Logf("%s: warning: %s", dir, d.Summary)
			}
			hosts, err := RenderAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(hosts) < 3 {
				t.Fatalf("%s renders %d hosts", dir, len(hosts))
			}
			for _, h := range hosts {
				if v, ok := h.HDFS.Lookup(KeySharedEditsDir); !ok || !strings.HasPrefix(v, "qjournal://") {
					t.Errorf("%s host %s: no qjournal shared edits dir (%q)", dir, h.Host, v)
				}
			}
		})
	}
}

// TestRenderLocalExampleStaysInsideStateDir: on target local nothing a host
// stores may point outside <state_dir>/hosts/<host>/.
func TestRenderLocalExampleStaysInsideStateDir(t *testing.T) {
	dir := filepath.Join("..", "examples", "local")
	c, diags := Load(dir, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	abs, _ := filepath.Abs(dir)
	for _, h := range c.Hosts {
		r, err := Render(c, h.Name)
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(abs, ".hactl", "hosts", h.Name) + "/"
		for _, k := range []string{KeyNameDir, KeyJournalEditsDir, KeyClusterSecretFile} {
			v, ok := r.HDFS.Lookup(k)
			if !ok || !strings.HasPrefix(v, root) {
				t.Errorf("host %s: %s = %q, want it under %s", h.Name, k, v, root)
			}
		}
		if v, _ := r.HDFS.Lookup(KeyJournalRPCAddress); v != h.Address+":8485" {
			t.Errorf("host %s binds its JournalNode on %q", h.Name, v)
		}
	}
}
