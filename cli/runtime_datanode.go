package cli

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/datanode"
	"github.com/hactl/hactl/runtime/dfsclient/dnweb"
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
			// The data path the NameNode's WebHDFS redirects CREATE,
			// APPEND, OPEN and GETFILECHECKSUM to.
			webhdfs := func(dn *datanode.DataNode) error {
				h, err := dnweb.FromConfig(conf, logger.Printf)
				if err != nil {
					return fmt.Errorf("webhdfs data path: %w", err)
				}
				dn.SetWebHDFS(h)
				return nil
			}
			if err := datanode.Run(ctx, conf, logger, webhdfs); err != nil {
				return exitCode(1, err)
			}
			return nil
		},
	}
}
