package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/zkfc"
)

func init() { registerRuntime(runtimeZKFCCommand) }

func runtimeZKFCCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "zkfc",
		Usage: "run the ZooKeeper failover controller of one NameNode (Hadoop's hdfs zkfc)",
		Description: "Monitors the local NameNode's health, competes for the ActiveStandbyElectorLock znode,\n" +
			"fences the previous active (graceful transitionToStandby, then dfs.ha.fencing.methods) and\n" +
			"makes the local NameNode active. Exit codes as Hadoop's ZKFC: 3 parent znode missing (run\n" +
			"`hactl runtime format-zk`), 4 no fencing method, 5 automatic failover off, 6 ZooKeeper unreachable.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "conf", Usage: "directory holding core-site.xml and hdfs-site.xml", Required: true},
			&ucli.StringFlag{Name: "id", Usage: "NameNode ID this ZKFC watches (from dfs.ha.namenodes.<ns>)", Required: true},
			&ucli.StringFlag{Name: "nameservice", Usage: "nameservice of the NameNode (default: the one listing --id)"},
			&ucli.BoolFlag{Name: "debug", Usage: "log ZooKeeper client details"},
		},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			level := slog.LevelInfo
			if cmd.Bool("debug") {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: level}))
			conf, err := hadoopconf.LoadDir(cmd.String("conf"))
			if err != nil {
				return exitCode(1, fmt.Errorf("zkfc: %w", err))
			}
			cfg, err := zkfc.LoadConfig(conf, cmd.String("nameservice"), cmd.String("id"))
			if err != nil {
				return exitCode(1, fmt.Errorf("zkfc: %w", err))
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			c, err := zkfc.New(ctx, cfg, log)
			if err != nil {
				return exitCode(zkfc.ExitCode(err), fmt.Errorf("unable to start the failover controller: %w", err))
			}
			if err := c.Run(ctx); err != nil {
				return exitCode(1, fmt.Errorf("zkfc: %w", err))
			}
			return nil
		},
	}
}
