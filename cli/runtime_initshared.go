package cli

import (
	"context"
	"fmt"
	"os"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/runtime/namenode"
)

func init() { registerRuntime(runtimeInitSharedCommand) }

func runtimeInitSharedCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "initialize-shared-edits",
		Usage: "format the JournalNodes with this NameNode's namespace (hdfs namenode -initializeSharedEdits)",
		Description: "For a NameNode formatted before its JournalNodes existed: formats the shared edits\n" +
			"with the namespace in the local VERSION and continues the journal after the local image.\n" +
			"Edits the JournalNodes hold for the same namespace are first folded into a new local\n" +
			"image, so nothing is lost. Run it with the NameNodes stopped. Refuses when the\n" +
			"JournalNodes hold data unless --force (--non-interactive: exit 1).",
		Flags: append(commonNNFlags(),
			&ucli.BoolFlag{Name: "force", Usage: "re-format JournalNodes that hold data"},
			&ucli.BoolFlag{Name: "non-interactive", Usage: "never prompt: exit 1 when the JournalNodes hold data"},
		),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
			env, err := namenode.LoadEnv(cmd.String("conf"), cmd.String("nameservice"), cmd.String("id"))
			if err != nil {
				return exitCode(1, fmt.Errorf("initialize-shared-edits: %w", err))
			}
			j, err := env.OpenJournal()
			if err != nil {
				return exitCode(1, fmt.Errorf("initialize-shared-edits: %w", err))
			}
			defer j.Close()
			force := cmd.Bool("force")
			has, err := j.HasSomeData(ctx)
			if err != nil {
				return exitCode(1, fmt.Errorf("initialize-shared-edits: %w", err))
			}
			if has && !force {
				if cmd.Bool("non-interactive") {
					fmt.Fprintln(errw, "Running in non-interactive mode, and data appears to exist in the shared edits (JournalNodes). Not formatting.")
					return exitCode(1, nil)
				}
				if !confirm(os.Stdin, out, "Re-format the shared edits (JournalNodes) ?") {
					fmt.Fprintln(errw, "Format aborted in the shared edits (JournalNodes)")
					return exitCode(1, nil)
				}
				force = true
			}
			if err := namenode.InitializeSharedEdits(ctx, env.Config, j, force); err != nil {
				return exitCode(1, fmt.Errorf("initialize-shared-edits: %w", err))
			}
			fmt.Fprintf(out, "Shared edits of nameservice %s initialized from NameNode %s.\n", env.Config.Nameservice, env.Config.ID)
			return nil
		},
	}
}
