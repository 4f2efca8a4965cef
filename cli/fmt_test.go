package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fmtUgly = "host \"a\" {\naddress=\"127.0.9.1\"\n  }\n"
const fmtPretty = "host \"a\" {\n  address = \"127.0.9.1\"\n}\n"

func fmtWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fmtRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFmtCheckDiffWrite(t *testing.T) {
	dir := t.TempDir()
	ugly, pretty, nested := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl"), filepath.Join(dir, "sub", "c.hcl")
	fmtWrite(t, ugly, fmtUgly)
	fmtWrite(t, pretty, fmtPretty)
	fmtWrite(t, nested, fmtUgly)

	code, out, _ := validateRun(t, "fmt", "--check", "--diff", dir)
	if code != 3 || !strings.Contains(out, ugly) || strings.Contains(out, pretty) || strings.Contains(out, nested) {
		t.Errorf("--check: code %d\n%s", code, out)
	}
	if !strings.Contains(out, "-address=\"127.0.9.1\"\n-  }\n+  address = \"127.0.9.1\"\n+}\n") || !strings.Contains(out, "@@ -1,3 +1,3 @@") {
		t.Errorf("--diff output:\n%s", out)
	}
	if fmtRead(t, ugly) != fmtUgly {
		t.Error("--check changed a file")
	}

	code, out, _ = validateRun(t, "fmt", "--recursive", dir)
	if code != 0 || !strings.Contains(out, nested) {
		t.Errorf("fmt --recursive: code %d\n%s", code, out)
	}
	if fmtRead(t, ugly) != fmtPretty || fmtRead(t, nested) != fmtPretty {
		t.Error("fmt did not rewrite the files")
	}
	if code, out, _ := validateRun(t, "fmt", "--check", "--recursive", dir); code != 0 || out != "" {
		t.Errorf("after fmt, --check: code %d %q", code, out)
	}

	broken := filepath.Join(dir, "broken.hcl")
	fmtWrite(t, broken, "host \"a\" {\n")
	code, _, errOut := validateRun(t, "fmt", "--check", dir)
	if code != 2 || !strings.Contains(errOut, "Unclosed configuration block") {
		t.Errorf("parse error: code %d\n%s", code, errOut)
	}
	if fmtRead(t, broken) != "host \"a\" {\n" {
		t.Error("a file that does not parse was rewritten")
	}
}

// The edit script must turn a into b exactly.
func TestFmtDiffLinesReconstructs(t *testing.T) {
	cases := [][2]string{
		{"a\nb\nc", "a\nc"},
		{"", "x\ny"},
		{"x\ny", ""},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10", "1\n2\nthree\n4\n5\n6\n7\n8\nnine\n10\n11"},
	}
	for _, tc := range cases {
		a, b := fmtSplitLines(tc[0]), fmtSplitLines(tc[1])
		var gotA, gotB []string
		for _, op := range fmtDiffLines(a, b) {
			if op.kind != '+' {
				gotA = append(gotA, op.text)
			}
			if op.kind != '-' {
				gotB = append(gotB, op.text)
			}
		}
		if strings.Join(gotA, "\n") != strings.Join(a, "\n") || strings.Join(gotB, "\n") != strings.Join(b, "\n") {
			t.Errorf("%q → %q: script gives %q / %q", tc[0], tc[1], gotA, gotB)
		}
	}
}
