package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/hashicorp/hcl/v2"
	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/schema"
)

func init() { register(validateCommand) }

func validateCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "validate",
		Usage:     "check a cluster description against hactl's rules",
		UsageText: "hactl validate [--format text|json|sarif] [--var k=v]... [--var-file F]... [--rules] [PATH]",
		Description: "Loads PATH (a directory whose *.hcl files load together, or one file; default \".\"),\n" +
			"evaluates variables, locals and functions, and checks the cluster against every rule.\n" +
			"Variables come from HACTL_VAR_<name> in the environment, then --var-file, then --var.\n" +
			"Exit status: 0 valid (warnings allowed), 1 errors, 2 usage.\n\n" +
			"Examples:\n" +
			"  hactl validate examples/baremetal\n" +
			"  hactl validate --var ssh_user=hdfs --var-file prod.tfvars .\n" +
			"  hactl validate --format sarif . > hactl.sarif   # for code scanning in CI\n" +
			"  hactl validate --format json cluster.hcl | jq .error_count\n" +
			"  hactl validate --rules",
		// --var values may contain commas (lists, maps): never split them.
		DisableSliceFlagSeparator: true,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "format", Value: "text", Usage: "output format: text, json or sarif"},
			&ucli.StringSliceFlag{Name: "var", Usage: "set a variable: `NAME=VALUE` (repeatable)"},
			&ucli.StringSliceFlag{Name: "var-file", Usage: "read variables from an HCL or JSON `FILE` (repeatable)"},
			&ucli.BoolFlag{Name: "rules", Usage: "list the validation rules and exit"},
		},
		Action: runValidate,
	}
}

func runValidate(ctx context.Context, c *ucli.Command) error {
	out := c.Root().Writer
	if c.Bool("rules") {
		return printValidateRules(out)
	}
	format := c.String("format")
	switch format {
	case "text", "json", "sarif":
	default:
		return usageError("--format must be text, json or sarif, not %q", format)
	}
	path, err := pathArgOrDot(c)
	if err != nil {
		return err
	}
	cluster, diags := schema.Load(path, schema.LoadOptions{
		Vars:     c.StringSlice("var"),
		VarFiles: c.StringSlice("var-file"),
		Env:      schema.EnvFromOS(),
	})
	switch format {
	case "json":
		err = schema.WriteJSON(out, diags)
	case "sarif":
		err = schema.WriteSARIF(out, diags, Version)
	default:
		err = writeDiagnosticsText(out, cluster.Files, diags)
	}
	if err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	if diags.HasErrors() {
		return exitCode(1, nil)
	}
	return nil
}

// pathArgOrDot returns the PATH argument (default ".").
func pathArgOrDot(c *ucli.Command) (string, error) {
	args := c.Args().Slice()
	switch len(args) {
	case 0:
		return ".", nil
	case 1:
		return args[0], nil
	}
	return "", usageError("expected at most one PATH, got %d arguments", len(args))
}

func writeDiagnosticsText(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	colour, width := false, uint(0)
	if diagIsTerminal(w) {
		colour, width = true, 100
	}
	dw := hcl.NewDiagnosticTextWriter(w, files, width, colour)
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warns++
		} else {
			errs++
		}
		// Prefix the rule ID so an operator can look it up with --rules.
		shown := *d
		if id := schema.RuleID(d); id != "" {
			shown.Summary = id + ": " + d.Summary
		}
		if err := dw.WriteDiagnostic(&shown); err != nil {
			return err
		}
	}
	switch {
	case errs > 0:
		_, err := fmt.Fprintf(w, "Invalid: %s, %s.\n", diagPlural(errs, "error"), diagPlural(warns, "warning"))
		return err
	case warns > 0:
		_, err := fmt.Fprintf(w, "Valid, with %s.\n", diagPlural(warns, "warning"))
		return err
	}
	_, err := fmt.Fprintln(w, "Success! The configuration is valid.")
	return err
}

func diagPlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func diagIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func printValidateRules(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tDESCRIPTION")
	for _, r := range schema.Rules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, schema.SeverityName(r.Severity), r.Description)
	}
	return tw.Flush()
}
