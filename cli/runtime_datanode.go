package cli

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/datanode"
	ucli "github.com/urfave/cli/v3"
)

func init() { registerRuntime(datanodeCommand) }

func datanodeCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "datanode",
		Usage:     "run a DataNode (block storage, DataTransferProtocol, reports to every NameNode) from DIR/core-site.xml and DIR/hdfs-site.xml",
		UsageText: "hactl runtime datanode --conf DIR",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "conf", Usage: "directory holding core-site.xml and hdfs-site.xml", Required: true},
		},
		Action: func(ctx context.Context, c *ucli.Command) error {
			conf, err := hadoopconf.LoadDir(c.String("conf"))
			if err != nil {
				return exitCode(1, err)
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
			defer stop()
			logger := log.New(c.Root().ErrWriter, "datanode: ", log.LstdFlags|log.LUTC)
			if err := datanode.Run(ctx, conf, logger); err != nil {
				return exitCode(1, err)
			}
			return nil
		},
	}
}
