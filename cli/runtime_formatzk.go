package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/zkfc"
)

func init() { registerRuntime(runtimeFormatZKCommand) }

func runtimeFormatZKCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "format-zk",
		Usage: "create the failover znode of each nameservice in ZooKeeper (Hadoop's hdfs zkfc -formatZK)",
		Description: "Creates <ha.zookeeper.parent-znode>/<nameservice> with ha.zookeeper.acl. When it already exists,\n" +
			"it is cleared only with --force or after a yes at the prompt; with --non-interactive and no\n" +
			"--force the command exits 2 and changes nothing. Exit 5 when automatic failover is not enabled\n" +
			"for a nameservice (checked first, as Hadoop's ZKFC does), 6 when ZooKeeper is unreachable.\n" +
			"Hadoop's spellings -force and -nonInteractive are accepted.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "conf", Usage: "directory holding core-site.xml and hdfs-site.xml", Required: true},
			&ucli.StringFlag{Name: "nameservice", Usage: "format only this nameservice (default: every one in dfs.nameservices)"},
			&ucli.BoolFlag{Name: "force", Usage: "clear an existing parent znode without asking"},
			&ucli.BoolFlag{Name: "non-interactive", Aliases: []string{"nonInteractive"}, Usage: "never prompt: an existing parent znode is an error (exit 2) unless --force"},
		},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			log := slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, nil))
			conf, err := hadoopconf.LoadDir(cmd.String("conf"))
			if err != nil {
				return exitCode(1, fmt.Errorf("format-zk: %w", err))
			}
			z, err := zkfc.LoadZKConfig(conf)
			if err != nil {
				return exitCode(1, fmt.Errorf("format-zk: %w", err))
			}
			nss := conf.Strings("dfs.nameservices")
			if ns := cmd.String("nameservice"); ns != "" {
				nss = []string{ns}
			}
			if err := checkAutoFailover(conf, nss); err != nil {
				return exitCode(zkfc.ExitCode(err), fmt.Errorf("format-zk: %w", err))
			}
			opt := zkfc.FormatOptions{Force: cmd.Bool("force"), Interactive: !cmd.Bool("non-interactive"),
				In: os.Stdin, Out: cmd.Root().ErrWriter}
			if err := zkfc.FormatZK(ctx, z, nss, opt, log); err != nil {
				return exitCode(zkfc.ExitCode(err), fmt.Errorf("format-zk: %w", err))
			}
			return nil
		},
	}
}

// checkAutoFailover refuses, as Hadoop's ZKFailoverController does before
// anything else (formatZK included), when automatic failover is off for a
// nameservice: dfs.ha.automatic-failover.enabled.<ns>, else the global key.
func checkAutoFailover(conf *hadoopconf.Config, nss []string) error {
	for _, ns := range nss {
		on, err := conf.AutomaticFailover(ns)
		if err != nil {
			return err
		}
		if !on {
			return fmt.Errorf("%w for nameservice %s. Please ensure that automatic failover is enabled in the configuration (dfs.ha.automatic-failover.enabled) before running the ZK failover controller", zkfc.ErrAutoFailoverOff, ns)
		}
	}
	return nil
}
