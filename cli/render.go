package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/schema"
)

func init() { register(renderCommand) }

func renderCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "render",
		Usage:     "write the Hadoop core-site.xml and hdfs-site.xml the hosts' daemons read",
		UsageText: "hactl render [--out DIR] [--host NAME] [--var k=v]... [--var-file F]... [PATH]",
		Description: "Loads and validates the configuration in PATH (a directory of *.hcl files or one file,\n" +
			"default \".\") and renders Hadoop's XML from it. A configuration with errors renders nothing.\n\n" +
			"When every host gets the same files, one core-site.xml and hdfs-site.xml are written;\n" +
			"otherwise one pair per host, in DIR/<host>/. Without --out the files are printed with\n" +
			"\"==> name <==\" headers.\n\n" +
			"Examples:\n" +
			"  hactl render examples/baremetal\n" +
			"  hactl render --out /tmp/conf examples/local\n" +
			"  hactl render --host dim --out /etc/hadoop/conf examples/baremetal",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "out", Usage: "write the files under `DIR` instead of printing them"},
			&ucli.StringFlag{Name: "host", Usage: "render only host `NAME` (its files go straight into DIR)"},
			&ucli.StringSliceFlag{Name: "var", Usage: "set an input variable (`NAME=VALUE`), repeatable"},
			&ucli.StringSliceFlag{Name: "var-file", Usage: "read input variables from `FILE` (.hcl, .tfvars or .json), repeatable"},
		},
		Action: runRender,
	}
}

// renderedFile is one file to write or print, relative to the output directory.
type renderedFile struct {
	path string
	data []byte
}

func runRender(ctx context.Context, cmd *ucli.Command) error {
	if cmd.Args().Len() > 1 {
		return usageError("render takes at most one PATH, got %d", cmd.Args().Len())
	}
	path := cmd.Args().First()
	if path == "" {
		path = "."
	}
	stdout, stderr := cmd.Root().Writer, cmd.Root().ErrWriter
	c, diags := schema.Load(path, schema.LoadOptions{
		Vars: cmd.StringSlice("var"), VarFiles: cmd.StringSlice("var-file"), Env: schema.EnvFromOS(),
	})
	if len(diags) > 0 {
		writeRenderDiags(stderr, c, diags)
	}
	if diags.HasErrors() || c == nil {
		return exitCode(1, fmt.Errorf("%s has errors; nothing rendered", path))
	}
	// What apply would write: the provisioned instances' addresses.
	if _, err := provisionedAddresses(c); err != nil {
		return exitCode(1, err)
	}

	var hosts []*schema.RenderedHost
	if name := cmd.String("host"); name != "" {
		if c.Host(name) == nil {
			var names []string
			for _, h := range c.Hosts {
				names = append(names, h.Name)
			}
			return usageError("no host %q in %s (hosts: %v)", name, path, names)
		}
		r, err := schema.Render(c, name)
		if err != nil {
			return exitCode(1, err)
		}
		hosts = []*schema.RenderedHost{r}
	} else {
		all, err := schema.RenderAll(c)
		if err != nil {
			return exitCode(1, err)
		}
		if len(all) == 0 {
			return exitCode(1, fmt.Errorf("%s declares no hosts; nothing to render", path))
		}
		hosts = all
	}
	files := renderFiles(hosts, cmd.String("host") != "")

	out := cmd.String("out")
	if out == "" {
		for i, f := range files {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "==> %s <==\n", f.path)
			stdout.Write(f.data)
		}
		return nil
	}
	for _, f := range files {
		p := filepath.Join(out, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return exitCode(1, fmt.Errorf("render: %w", err))
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return exitCode(1, fmt.Errorf("render: %w", err))
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return nil
}

// renderFiles lays the hosts' files out: one pair when every host agrees (or
// one host was asked for), else one pair per host directory.
func renderFiles(hosts []*schema.RenderedHost, single bool) []renderedFile {
	same := true
	for _, h := range hosts[1:] {
		if !bytes.Equal(h.Core.Marshal(), hosts[0].Core.Marshal()) ||
			!bytes.Equal(h.HDFS.Marshal(), hosts[0].HDFS.Marshal()) {
			same = false
			break
		}
	}
	if single || same {
		return []renderedFile{
			{"core-site.xml", hosts[0].Core.Marshal()},
			{"hdfs-site.xml", hosts[0].HDFS.Marshal()},
		}
	}
	var files []renderedFile
	for _, h := range hosts {
		files = append(files,
			renderedFile{filepath.Join(h.Host, "core-site.xml"), h.Core.Marshal()},
			renderedFile{filepath.Join(h.Host, "hdfs-site.xml"), h.HDFS.Marshal()})
	}
	return files
}

// writeRenderDiags prints diagnostics with source snippets, in colour only on a terminal.
func writeRenderDiags(w io.Writer, c *schema.Cluster, diags hcl.Diagnostics) {
	files := map[string]*hcl.File{}
	if c != nil && c.Files != nil {
		files = c.Files
	}
	color := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			color = true
		}
	}
	_ = hcl.NewDiagnosticTextWriter(w, files, 0, color).WriteDiagnostics(diags)
}
