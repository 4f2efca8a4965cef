package datanode

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
)

// ConfigFromHadoop reads a DataNode's options from the Hadoop XML (see
// docs/notes/datanode.md for every key). The NameNodes are reached through
// nnrpc's signed-HTTP DatanodeProtocol client, one per NameNode.
func ConfigFromHadoop(c *hadoopconf.Config) (Options, error) {
	var o Options
	var err error
	if o.DataDirs, err = StorageDirs(c.Strings("dfs.datanode.data.dir")); err != nil {
		return o, fmt.Errorf("dfs.datanode.data.dir: %w", err)
	}
	o.XferAddr = c.Get("dfs.datanode.address", "0.0.0.0:9866")
	o.HTTPAddr = c.Get("dfs.datanode.http.address", "0.0.0.0:9864")
	o.IPCAddr = c.Get("dfs.datanode.ipc.address", "0.0.0.0:9867")
	hc, err := c.Int("dfs.datanode.handler.count", 10)
	if err != nil {
		return o, err
	}
	o.IPCHandlers = int(hc)
	// Hadoop's DataNode names its configuration by these two keys.
	o.ConfigVersion = "core-" + c.Get("hadoop.common.configuration.version", "UNSPECIFIED") +
		",hdfs-" + c.Get("hadoop.hdfs.configuration.version", "UNSPECIFIED")
	o.BalancerBandwidth = c.Size("dfs.datanode.balance.bandwidthPerSec", 100<<20)
	if o.PermissionsEnabled, err = c.Bool("dfs.permissions.enabled", true); err != nil {
		return o, err
	}
	o.Supergroup = c.Get("dfs.permissions.superusergroup", "supergroup")
	o.Hostname = c.Get("dfs.datanode.hostname", "")
	if host, _, err := net.SplitHostPort(o.XferAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			o.IP = host
		}
	}
	if o.Heartbeat, err = c.Seconds("dfs.heartbeat.interval", 3*time.Second); err != nil {
		return o, err
	}
	if o.BlockReport, err = c.Millis("dfs.blockreport.intervalMsec", 6*time.Hour); err != nil {
		return o, err
	}
	bpc, err := c.Int("dfs.bytes-per-checksum", 512)
	if err != nil {
		return o, err
	}
	o.BytesPerChecksum = int(bpc)
	o.Reserved = c.Size("dfs.datanode.du.reserved", 0)
	tol, err := c.Int("dfs.datanode.failed.volumes.tolerated", 0)
	if err != nil {
		return o, err
	}
	o.FailedVolumesTolerated = int(tol)
	mx, err := c.Int("dfs.datanode.max.transfer.threads", 4096)
	if err != nil {
		return o, err
	}
	o.MaxXceivers = int(mx)
	if o.SocketTimeout, err = c.Millis("dfs.client.socket-timeout", time.Minute); err != nil {
		return o, err
	}
	if o.ReuseKeepalive, err = c.Millis("dfs.datanode.socket.reuse.keepalive", 4*time.Second); err != nil {
		return o, err
	}
	// On by default, unlike Hadoop's: hactl fsyncs every replica before
	// finalizing it (Hadoop only with dfs.datanode.synconclose), and
	// starting the writeback as the block streams in keeps that fsync short.
	if o.SyncBehindWrites, err = c.Bool("dfs.datanode.sync.behind.writes", true); err != nil {
		return o, err
	}
	if o.DropCacheBehindWrites, err = c.Bool("dfs.datanode.drop.cache.behind.writes", true); err != nil {
		return o, err
	}
	if o.ReadaheadBytes, err = c.Int("dfs.datanode.readahead.bytes", 4<<20); err != nil {
		return o, err
	}
	hours, err := c.Int("dfs.datanode.scan.period.hours", 504)
	if err != nil {
		return o, err
	}
	switch {
	case hours < 0:
		o.ScanPeriod = -1 // disabled, as Hadoop
	case hours == 0:
		o.ScanPeriod = 504 * time.Hour
	default:
		o.ScanPeriod = time.Duration(hours) * time.Hour
	}
	if o.ScanBytesPerSec, err = c.Int("dfs.block.scanner.volume.bytes.per.second", 1<<20); err != nil {
		return o, err
	}
	if o.BlockTokens, err = c.Bool("dfs.block.access.token.enable", false); err != nil {
		return o, err
	}
	if o.Secret, err = nnrpc.LoadSecret(c); err != nil {
		return o, err
	}
	nns, err := nnrpc.NameNodes(c)
	if err != nil {
		return o, err
	}
	for _, nn := range nns {
		o.NameNodes = append(o.NameNodes, NameNode{Nameservice: nn.Nameservice, ID: nn.ID, Addr: nn.HTTPAddr, RPCAddr: nn.RPCAddr,
			Proto: nnrpc.NewDatanodeClient(nn.HTTPAddr, o.Secret, nil)})
	}
	return o, nil
}

// Run is `hactl runtime datanode`: the DataNode of the configuration until
// ctx ends. Each hook runs once the DataNode has started (e.g. to mount the
// WebHDFS data path with SetWebHDFS); a hook's error stops it.
func Run(ctx context.Context, conf *hadoopconf.Config, logger *log.Logger, hooks ...func(*DataNode) error) error {
	opts, err := ConfigFromHadoop(conf)
	if err != nil {
		return fmt.Errorf("datanode: %w", err)
	}
	opts.Logger = logger
	dn, err := Start(opts)
	if err != nil {
		return fmt.Errorf("datanode: %w", err)
	}
	for _, h := range hooks {
		if err := h(dn); err != nil {
			dn.Close()
			return fmt.Errorf("datanode: %w", err)
		}
	}
	if logger != nil {
		logger.Printf("datanode serving DataTransferProtocol on %s, HTTP on %s, ClientDatanodeProtocol on %s, data dirs %v", dn.XferAddr(), dn.HTTPAddr(), dn.IPCAddr(), opts.DataDirs)
	}
	var fatal error
	select {
	case <-ctx.Done():
	case fatal = <-dn.Fatal():
	}
	if logger != nil {
		logger.Printf("datanode stopping")
	}
	err = dn.Close()
	if fatal != nil {
		return fmt.Errorf("datanode: %w", fatal)
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
