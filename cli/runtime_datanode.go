package cli

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/datanode"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/dfsclient/dnweb"
	"github.com/hactl/hactl/runtime/hdfs"
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
				// Its reads take this DataNode's own replicas from
				// their files (short-circuit), others over the wire.
				h, err := dnweb.FromConfig(conf, logger.Printf, localDataNode{dn})
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

// localDataNode is a DataNode as its own WebHDFS's dfsclient.LocalDataNode.
type localDataNode struct{ dn *datanode.DataNode }

func (l localDataNode) IsSelf(node hdfs.DatanodeInfo) bool { return l.dn.IsSelf(node) }

func (l localDataNode) DialSelf() (net.Conn, error) { return l.dn.DialSelf() }

func (l localDataNode) OpenLocal(b hdfs.ExtendedBlock, off, n int64) (dfsclient.LocalReplica, bool) {
	if r, ok := l.dn.OpenLocal(b, off, n); ok {
		return r, true
	}
	return nil, false
}
