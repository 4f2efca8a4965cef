package namenode

import (
	"context"
	"fmt"
	"net"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// haService is the NameNode as HAServiceProtocol serves it.
type haService struct{ n *NameNode }

func (h haService) ServiceStatus() (pb.HAServiceStateProto, string) {
	switch h.n.State() {
	case StateActive:
		return pb.HAServiceStateProto_ACTIVE, ""
	case StateStandby:
		return pb.HAServiceStateProto_STANDBY, ""
	case StateInitializing:
		return pb.HAServiceStateProto_INITIALIZING, "NameNode is still loading its namespace"
	}
	return pb.HAServiceStateProto_INITIALIZING, "NameNode is stopping"
}

func (h haService) TransitionToActive(ctx context.Context) error { return h.n.TransitionToActive(ctx) }
func (h haService) TransitionToStandby(ctx context.Context) error {
	return h.n.TransitionToStandby(ctx)
}

// isSuperuser is the permission checker's superuser rule (anyone when
// dfs.permissions.enabled is false), which Hadoop applies to HA transitions.
func (n *NameNode) isSuperuser(user string) bool {
	var c caller
	cc := n.caller(&c, user)
	return cc == nil || cc.super
}

// ipcListeners are the NameNode's native RPC addresses: the rpc-address and,
// when set and different, dfs.namenode.servicerpc-address; each binds to its
// *-bind-host when that is set, as Hadoop's.
func ipcListeners(c *hadoopconf.Config, rpcAddr string) ([]string, error) {
	var out []string
	for _, a := range []struct{ addr, bindKey string }{
		{rpcAddr, "dfs.namenode.rpc-bind-host"},
		{c.Get("dfs.namenode.servicerpc-address", ""), "dfs.namenode.servicerpc-bind-host"},
	} {
		if a.addr == "" || len(out) > 0 && a.addr == rpcAddr {
			continue
		}
		host, port, err := net.SplitHostPort(a.addr)
		if err != nil {
			return nil, fmt.Errorf("native RPC address %q: %w", a.addr, err)
		}
		if bh := c.Get(a.bindKey, ""); bh != "" {
			host = bh
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

// StartIPC serves ClientNamenodeProtocol and HAServiceProtocol on the
// NameNode's native RPC addresses until the returned server is closed, and
// returns the addresses it listens on (nil server: no rpc-address is set).
func StartIPC(c *hadoopconf.Config, n *NameNode, wh webhdfs.HandlerOptions, logf func(string, ...any)) (*ipc.Server, []string, error) {
	addrs, err := ipcListeners(c, n.cfg.RPCAddr)
	if err != nil {
		return nil, nil, err
	}
	if len(addrs) == 0 {
		return nil, nil, nil
	}
	maxData, err := c.Int("ipc.maximum.data.length", ipc.DefaultMaxDataLength)
	if err != nil {
		return nil, nil, err
	}
	maxConns, err := c.Int("ipc.server.max.connections", ipc.DefaultMaxConnections)
	if err != nil {
		return nil, nil, err
	}
	idleThreshold, err := c.Int("ipc.client.idlethreshold", ipc.DefaultIdleThreshold)
	if err != nil {
		return nil, nil, err
	}
	maxIdle, err := c.Millis("ipc.client.connection.maxidletime", ipc.DefaultMaxIdleTime/2)
	if err != nil {
		return nil, nil, err
	}
	handlers, err := c.Int("dfs.namenode.handler.count", 10)
	if err != nil {
		return nil, nil, err
	}
	queue, err := c.Int("ipc.server.handler.queue.size", 100)
	if err != nil {
		return nil, nil, err
	}
	transitions, err := c.Bool(ipc.KeyIPCTransitions, false)
	if err != nil {
		return nil, nil, err
	}
	bpc, err := c.Int("dfs.bytes-per-checksum", 512)
	if err != nil {
		return nil, nil, err
	}
	packet, err := c.Int("dfs.client-write-packet-size", 64<<10)
	if err != nil {
		return nil, nil, err
	}
	buf, err := c.Int("io.file.buffer.size", 4096)
	if err != nil {
		return nil, nil, err
	}
	o := ipc.NamenodeOptions{Namesystem: n, Blocks: n.ClientProtocol(), HA: haService{n}, AutoFailover: n.cfg.AutoFailover, TransitionsEnabled: transitions,
		MayTransition: n.isSuperuser, SafeMode: n.SetSafeMode, ListLimit: wh.ListLimit,
		Defaults: hdfs.ServerDefaults{BlockSize: wh.DefaultBlockSize, BytesPerChecksum: int(bpc), WritePacketSize: int(packet),
			Replication: wh.DefaultReplication, FileBufferSize: int(buf), TrashInterval: wh.TrashInterval, ChecksumType: c.Get("dfs.checksum.type", "CRC32C")}}
	opts := ipc.Options{MaxDataLength: int(maxData), MaxConnections: int(maxConns), IdleThreshold: int(idleThreshold),
		MaxIdleTime: 2 * maxIdle, MaxQueuedCalls: int(max(handlers, 1) * max(queue, 1)), Logf: logf}
	if n.retry != nil {
		// The NameNode's own cache, which its tailer fills from the edits
		// of calls the active ran, so a retry after a failover is answered.
		opts.RetryCache = n.retry
		opts.RetryGate = func() error {
			if s := n.State(); s != StateActive {
				return standbyError("WRITE", s)
			}
			return nil
		}
	}
	srv := ipc.NewServer(opts, ipc.NamenodeProtocols(o)...)
	var bound []string
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			srv.Close()
			return nil, nil, fmt.Errorf("native RPC: listen on %s: %w", a, err)
		}
		bound = append(bound, ln.Addr().String())
		go func() {
			if err := srv.Serve(ln); err != nil {
				logf("namenode: native RPC on %s: %v", a, err)
			}
		}()
	}
	return srv, bound, nil
}
