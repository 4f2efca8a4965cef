package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/schema"
)

func init() { register(importCommand) }

func importCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "import",
		Usage:     "write hactl HCL equivalent to an existing Hadoop core-site.xml and hdfs-site.xml",
		UsageText: "hactl import --core-site FILE --hdfs-site FILE [--workers FILE] [--out FILE] [--force]",
		Description: "Reads a running cluster's Hadoop XML and writes formatted HCL: hosts derived from the\n" +
			"addresses (first DNS label, or h1, h2, … for IPs), nameservices, NameNodes, the JournalNode\n" +
			"quorum from the qjournal URI, the ZooKeeper quorum (as external), fencing and timeouts;\n" +
			"with --workers (Hadoop's etc/hadoop/workers) a datanode block for those hosts from the\n" +
			"dfs.datanode.* keys, and an hdfs block (replication, heartbeat and block report intervals).\n" +
			"Keys hactl does not model go to the hadoop {} passthrough, so `hactl render` gives the\n" +
			"same keys back. The result is validated and any findings printed to stderr.\n\n" +
			"Examples:\n" +
			"  hactl import --core-site /etc/hadoop/conf/core-site.xml --hdfs-site /etc/hadoop/conf/hdfs-site.xml\n" +
			"  hactl import --core-site core-site.xml --hdfs-site hdfs-site.xml --out cluster/main.hcl",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "core-site", Usage: "Hadoop core-site.xml to read (`FILE`)", Required: true},
			&ucli.StringFlag{Name: "hdfs-site", Usage: "Hadoop hdfs-site.xml to read (`FILE`)", Required: true},
			&ucli.StringFlag{Name: "workers", Usage: "the DataNode hosts, one per line (Hadoop's etc/hadoop/workers, `FILE`)"},
			&ucli.StringFlag{Name: "out", Usage: "write the HCL to `FILE` instead of stdout"},
			&ucli.BoolFlag{Name: "force", Usage: "overwrite --out when it exists"},
		},
		Action: runImport,
	}
}

func runImport(ctx context.Context, cmd *ucli.Command) error {
	if cmd.Args().Len() > 0 {
		return usageError("import takes no arguments (got %q); use --core-site and --hdfs-site", cmd.Args().First())
	}
	core, err := hadoopconf.ReadFile(cmd.String("core-site"))
	if err != nil {
		return exitCode(1, fmt.Errorf("import: %w", err))
	}
	hdfs, err := hadoopconf.ReadFile(cmd.String("hdfs-site"))
	if err != nil {
		return exitCode(1, fmt.Errorf("import: %w", err))
	}
	var opts schema.ImportOptions
	if w := cmd.String("workers"); w != "" {
		data, err := os.ReadFile(w)
		if err != nil {
			return exitCode(1, fmt.Errorf("import: %w", err))
		}
		if opts.Workers = schema.ParseWorkers(data); len(opts.Workers) == 0 {
			return exitCode(1, fmt.Errorf("import: %s lists no host", w))
		}
	}
	out, warnings, err := schema.ImportReportWith(core, hdfs, opts)
	for _, w := range warnings {
		fmt.Fprintln(cmd.Root().ErrWriter, "warning:", w)
	}
	if err != nil {
		return exitCode(1, err)
	}

	name := "imported.hcl"
	if p := cmd.String("out"); p != "" {
		name = p
	}
	// Say what the operator will hear from validate, without failing: the
	// import is faithful even when the source cluster breaks a rule.
	if c, diags := schema.LoadSources(map[string][]byte{name: out}, schema.LoadOptions{}); len(diags) > 0 {
		fmt.Fprintln(cmd.Root().ErrWriter, "note: the imported configuration has findings (hactl validate):")
		writeRenderDiags(cmd.Root().ErrWriter, c, diags)
	}

	p := cmd.String("out")
	if p == "" {
		_, err := cmd.Root().Writer.Write(out)
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if cmd.Bool("force") {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(p, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return exitCode(1, fmt.Errorf("import: %s exists (use --force to overwrite)", p))
	}
	if err != nil {
		return exitCode(1, fmt.Errorf("import: %w", err))
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return exitCode(1, fmt.Errorf("import: write %s: %w", p, err))
	}
	if err := f.Close(); err != nil {
		return exitCode(1, fmt.Errorf("import: write %s: %w", p, err))
	}
	fmt.Fprintf(cmd.Root().Writer, "wrote %s\n", p)
	return nil
}
