package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/runtime/namenode"
)

func init() { registerRuntime(runtimeFormatCommand) }

func runtimeFormatCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "format",
		Usage: "format a new namespace on this NameNode's dirs and every JournalNode (hdfs namenode -format)",
		Description: "Refuses when any name dir or JournalNode holds data unless --force; with\n" +
			"--non-interactive it then exits 1 touching nothing, otherwise it asks (Y or N).\n" +
			"Exit codes as Hadoop's: 0 formatted, 1 aborted or failed. Hadoop's spellings -clusterid,\n" +
			"-force and -nonInteractive are accepted.",
		Flags: append(commonNNFlags(),
			&ucli.StringFlag{Name: "clusterid", Usage: "cluster ID to use (default: a new CID-<uuid>)"},
			&ucli.BoolFlag{Name: "force", Usage: "format even when data exists (destroys it)"},
			&ucli.BoolFlag{Name: "non-interactive", Aliases: []string{"nonInteractive"}, Usage: "never prompt: refuse (exit 1) when data exists"},
		),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
			env, err := namenode.LoadEnv(cmd.String("conf"), cmd.String("nameservice"), cmd.String("id"))
			if err != nil {
				return exitCode(1, fmt.Errorf("format: %w", err))
			}
			j, err := env.OpenJournal()
			if err != nil {
				return exitCode(1, fmt.Errorf("format: %w", err))
			}
			defer j.Close()
			st := &namenode.Storage{Dirs: env.Config.NameDirs}
			where, err := namenode.DataLocations(ctx, st, j)
			if err != nil {
				return exitCode(1, fmt.Errorf("format: %w", err))
			}
			force := cmd.Bool("force")
			if len(where) > 0 && !force {
				list := strings.Join(where, ", ")
				if cmd.Bool("non-interactive") {
					fmt.Fprintf(errw, "Running in non-interactive mode, and data appears to exist in %s. Not formatting.\n", list)
					return exitCode(1, nil)
				}
				if !confirm(os.Stdin, out, "Re-format filesystem in "+list+" ?") {
					fmt.Fprintf(errw, "Format aborted in %s\n", list)
					return exitCode(1, nil)
				}
				force = true
			}
			host, _, _ := net.SplitHostPort(env.Config.HTTPAddr)
			now := time.Now()
			info := namenode.NewNamespaceInfo(cmd.String("clusterid"), host, now)
			if err := namenode.Format(ctx, env.Config, j, info, force || len(where) > 0, now); err != nil {
				return exitCode(1, fmt.Errorf("format: %w", err))
			}
			for _, d := range env.Config.NameDirs {
				fmt.Fprintf(out, "Storage directory %s has been successfully formatted.\n", d)
			}
			fmt.Fprintf(out, "Formatted namespace %d, cluster %s, block pool %s.\n", info.NamespaceID, info.ClusterID, info.BlockPoolID)
			return nil
		},
	}
}
