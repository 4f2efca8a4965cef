package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	ucli "github.com/urfave/cli/v3"
)

func init() { register(fmtCommand) }

func fmtCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "fmt",
		Usage:     "rewrite HCL files in the canonical format",
		UsageText: "hactl fmt [--check] [--diff] [--recursive] [PATH]",
		Description: "Formats PATH (a directory's *.hcl and *.tfvars files, or one file; default \".\")\n" +
			"in place, as terraform fmt does, and lists the files it changed.\n" +
			"Exit status: 0 formatted, 3 (with --check) some file needs formatting, 2 a parse error or usage.\n\n" +
			"Examples:\n" +
			"  hactl fmt                          # format ./*.hcl in place\n" +
			"  hactl fmt --check --recursive .    # CI: fail when any file is unformatted\n" +
			"  hactl fmt --diff cluster.hcl       # show what would change, and change it\n" +
			"  hactl fmt --check --diff examples  # show without changing",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "check", Usage: "change nothing; exit 3 and list the files that need formatting"},
			&ucli.BoolFlag{Name: "diff", Usage: "print a unified diff of the changes"},
			&ucli.BoolFlag{Name: "recursive", Usage: "also format files in subdirectories"},
		},
		Action: runFmt,
	}
}

func runFmt(ctx context.Context, c *ucli.Command) error {
	out, errOut := c.Root().Writer, c.Root().ErrWriter
	path, err := pathArgOrDot(c)
	if err != nil {
		return err
	}
	files, err := fmtCollectFiles(path, c.Bool("recursive"))
	if err != nil {
		return exitCode(2, err)
	}
	check, diff := c.Bool("check"), c.Bool("diff")
	parseFailed, unformatted := false, false
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			return exitCode(2, fmt.Errorf("read %s: %w", name, err))
		}
		// hclwrite formats tokens without checking the syntax: parse first so
		// a broken file is reported, never "formatted" into something else.
		if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
			parseFailed = true
			dw := hcl.NewDiagnosticTextWriter(errOut, map[string]*hcl.File{name: {Bytes: src}}, 0, false)
			_ = dw.WriteDiagnostics(diags)
			continue
		}
		formatted := hclwrite.Format(src)
		if bytes.Equal(src, formatted) {
			continue
		}
		unformatted = true
		fmt.Fprintln(out, name)
		if diff {
			fmtUnifiedDiff(out, name, string(src), string(formatted))
		}
		if !check {
			st, err := os.Stat(name)
			if err != nil {
				return exitCode(2, fmt.Errorf("stat %s: %w", name, err))
			}
			if err := os.WriteFile(name, formatted, st.Mode().Perm()); err != nil {
				return exitCode(1, fmt.Errorf("write %s: %w", name, err))
			}
		}
	}
	switch {
	case parseFailed:
		return exitCode(2, nil)
	case check && unformatted:
		return exitCode(3, nil)
	}
	return nil
}

// fmtCollectFiles lists the files fmt formats under path, sorted.
func fmtCollectFiles(path string, recursive bool) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && (!recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".hcl") || strings.HasSuffix(p, ".tfvars") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// fmtUnifiedDiff writes a unified diff (3 lines of context) of a → b.
func fmtUnifiedDiff(w io.Writer, name, a, b string) {
	al, bl := fmtSplitLines(a), fmtSplitLines(b)
	ops := fmtDiffLines(al, bl)
	rel := strings.TrimPrefix(filepath.ToSlash(name), "/")
	fmt.Fprintf(w, "--- old/%s\n+++ new/%s\n", rel, rel)
	const ctxLines = 3
	// Group the edit script into hunks separated by more than 2*ctx equal lines.
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctxLines, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*ctxLines {
				end = min(end+ctxLines, len(ops))
				break
			}
			end = run
		}
		aStart, bStart, aN, bN := ops[start].a, ops[start].b, 0, 0
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				aN++
			}
			if op.kind != '-' {
				bN++
			}
		}
		fmt.Fprintf(w, "@@ -%s +%s @@\n", fmtHunkRange(aStart, aN), fmtHunkRange(bStart, bN))
		for _, op := range ops[start:end] {
			fmt.Fprintf(w, "%c%s\n", op.kind, op.text)
		}
		i = end
	}
}

func fmtHunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func fmtSplitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type fmtDiffOp struct {
	kind byte // ' ', '-', '+'
	text string
	a, b int // line index (0-based) in a and b where the op starts
}

// fmtDiffLines computes a line edit script by longest common subsequence.
// Formatting changes are local, so the quadratic table stays small; past a
// bound it degrades to replacing everything, which is still a correct diff.
func fmtDiffLines(a, b []string) []fmtDiffOp {
	n, m := len(a), len(b)
	var ops []fmtDiffOp
	if n*m > 16_000_000 {
		for i, l := range a {
			ops = append(ops, fmtDiffOp{'-', l, i, 0})
		}
		for j, l := range b {
			ops = append(ops, fmtDiffOp{'+', l, n, j})
		}
		return ops
	}
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, fmtDiffOp{' ', a[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, fmtDiffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, fmtDiffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
