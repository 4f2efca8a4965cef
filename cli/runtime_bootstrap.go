package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/runtime/namenode"
)

func init() { registerRuntime(runtimeBootstrapCommand) }

func runtimeBootstrapCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "bootstrap-standby",
		Usage: "copy the namespace image from a running peer NameNode (hdfs namenode -bootstrapStandby)",
		Description: "Fetches the newest fsimage from another NameNode of the nameservice over HTTP,\n" +
			"verifies its sha256, checks the JournalNodes hold every edit after it, and writes\n" +
			"it to this NameNode's name dirs. Exit codes as Hadoop's BootstrapStandby: 0 done,\n" +
			"1 other failure, 2 no peer reachable, 3 image does not match the namespace,\n" +
			"5 local storage already holds data, 6 edits missing from the JournalNodes. Hadoop's\n" +
			"spellings -force and -nonInteractive are accepted.",
		Flags: append(commonNNFlags(),
			&ucli.BoolFlag{Name: "force", Usage: "overwrite local storage that holds data"},
			&ucli.BoolFlag{Name: "non-interactive", Aliases: []string{"nonInteractive"}, Usage: "never prompt: exit 5 when local storage holds data"},
		),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
			env, err := namenode.LoadEnv(cmd.String("conf"), cmd.String("nameservice"), cmd.String("id"))
			if err != nil {
				return exitCode(1, fmt.Errorf("bootstrap-standby: %w", err))
			}
			force := cmd.Bool("force")
			st := &namenode.Storage{Dirs: env.Config.NameDirs}
			if d, err := st.HasData(); err != nil {
				return exitCode(1, fmt.Errorf("bootstrap-standby: %w", err))
			} else if d != "" && !force {
				if cmd.Bool("non-interactive") {
					fmt.Fprintf(errw, "Running in non-interactive mode, and data appears to exist in Storage Directory %s. Not formatting.\n", d)
					return exitCode(5, nil)
				}
				if !confirm(os.Stdin, out, "Re-format filesystem in Storage Directory "+d+" ?") {
					fmt.Fprintf(errw, "Format aborted in Storage Directory %s\n", d)
					return exitCode(5, nil)
				}
				force = true
			}
			j, err := env.OpenJournal()
			if err != nil {
				return exitCode(1, fmt.Errorf("bootstrap-standby: %w", err))
			}
			defer j.Close()
			client := namenode.NewClient(env.Secret, 5*time.Minute)
			txid, err := namenode.BootstrapStandby(ctx, env.Config, j, client, force)
			if err != nil {
				code := 1
				switch {
				case errors.Is(err, namenode.ErrFailedConnect):
					code = 2
				case errors.Is(err, namenode.ErrInvalidVersion):
					code = 3
				case errors.Is(err, namenode.ErrAlreadyFormatted):
					code = 5
				case errors.Is(err, namenode.ErrLogsUnavailable):
					code = 6
				}
				return exitCode(code, fmt.Errorf("bootstrap-standby: %w", err))
			}
			fmt.Fprintf(out, "Downloaded %s and checked the shared edits; NameNode %s is ready to start as standby.\n", namenode.ImageName(txid), env.Config.ID)
			return nil
		},
	}
}
