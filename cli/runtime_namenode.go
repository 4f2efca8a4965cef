package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/runtime/namenode"
)

func init() { registerRuntime(runtimeNamenodeCommand) }

// confirm asks a Hadoop-style (Y or N) question on stdin.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "%s (Y or N) ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.TrimSpace(strings.ToLower(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func commonNNFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "conf", Usage: "directory holding core-site.xml and hdfs-site.xml", Required: true},
		&ucli.StringFlag{Name: "id", Usage: "NameNode ID (from dfs.ha.namenodes.<ns>)", Required: true},
		&ucli.StringFlag{Name: "nameservice", Usage: "nameservice of the NameNode (default: the one listing --id; needed when several do)"},
	}
}

func runtimeNamenodeCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "namenode",
		Usage: "run an HA NameNode (Hadoop's hdfs namenode): namespace, quorum journal, WebHDFS, /jmx, HA admin",
		Description: "Starts in standby, tails the shared edits and checkpoints; becomes active on\n" +
			"/ha/transitionToActive (haadmin or the ZKFC). Serves WebHDFS, /jmx, a status page and the\n" +
			"signed HA admin calls on dfs.namenode.http-address.<ns>.<id>. SIGTERM stops it cleanly.",
		Flags: commonNNFlags(),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			env, err := namenode.LoadEnv(cmd.String("conf"), cmd.String("nameservice"), cmd.String("id"))
			if err != nil {
				return exitCode(1, fmt.Errorf("namenode: %w", err))
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger := log.New(cmd.Root().ErrWriter, "", log.LstdFlags|log.Lmicroseconds)
			if err := namenode.Run(ctx, env, logger); err != nil {
				return exitCode(1, err)
			}
			return nil
		},
	}
}
