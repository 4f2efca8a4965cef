package schema

import (
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The facts every layer derives from the model (addresses, ports with
// Hadoop's defaults, the ZooKeeper quorum) are computed here, once. Load
// fills the defaults in, but models built in code (import, tests) may leave
// a port 0: each method falls back to the default itself.

// DefaultZooKeeperDataDir is where a managed ZooKeeper keeps its data when
// the configuration names no data_dir.
const DefaultZooKeeperDataDir = "/var/lib/hactl/zookeeper"

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Addr is the address the host's daemons bind and peers dial; its name
// when it has no address yet (an ec2 host before it is provisioned).
func (h *Host) Addr() string { return orDefault(h.Address, h.Name) }

// HostAddr is Addr of the host named name, or name itself when no such host
// is declared.
func (c *Cluster) HostAddr(name string) string {
	if h := c.Host(name); h != nil {
		return h.Addr()
	}
	return name
}

// EffectiveRPCPort is the NameNode's RPC port (8020 when unset).
func (nn *NameNode) EffectiveRPCPort() int { return orDefault(nn.RPCPort, DefaultNameNodeRPCPort) }

// EffectiveHTTPPort is the NameNode's HTTP port (9870 when unset).
func (nn *NameNode) EffectiveHTTPPort() int { return orDefault(nn.HTTPPort, DefaultNameNodeHTTPPort) }

// EffectiveRPCPort is the JournalNodes' RPC port (8485 when unset).
func (j *Journal) EffectiveRPCPort() int { return orDefault(j.RPCPort, DefaultJournalRPCPort) }

// EffectiveHTTPPort is the JournalNodes' HTTP port (8480 when unset).
func (j *Journal) EffectiveHTTPPort() int { return orDefault(j.HTTPPort, DefaultJournalHTTPPort) }

// EffectiveClientPort is the ZooKeeper client port (2181 when unset).
func (z *ZooKeeper) EffectiveClientPort() int {
	return orDefault(z.ClientPort, DefaultZooKeeperClientPort)
}

// EffectivePeerPort is a managed ensemble's peer port (2888 when unset).
func (z *ZooKeeper) EffectivePeerPort() int { return orDefault(z.PeerPort, DefaultZooKeeperPeerPort) }

// EffectiveElectionPort is a managed ensemble's leader election port (3888
// when unset).
func (z *ZooKeeper) EffectiveElectionPort() int {
	return orDefault(z.ElectionPort, DefaultZooKeeperElectionPort)
}

// EffectiveTickTime is a managed ensemble's tickTime (2s when unset).
func (z *ZooKeeper) EffectiveTickTime() time.Duration {
	return orDefault(z.TickTime, DefaultZooKeeperTickTime)
}

// EffectiveSessionTimeout is ha.zookeeper.session-timeout.ms (5s when unset).
func (z *ZooKeeper) EffectiveSessionTimeout() time.Duration {
	return orDefault(z.SessionTimeout, DefaultSessionTimeout)
}

// EffectiveParentZnode is ha.zookeeper.parent-znode (/hadoop-ha when unset).
func (z *ZooKeeper) EffectiveParentZnode() string {
	return orDefault(z.ParentZnode, DefaultParentZnode)
}

// EffectiveDataDir is a managed server's dataDir as configured (before
// Cluster.HostDir roots it on target local).
func (z *ZooKeeper) EffectiveDataDir() string { return orDefault(z.DataDir, DefaultZooKeeperDataDir) }

// ZooKeeperServer is one server of the quorum.
type ZooKeeperServer struct {
	Name string // host name (managed) or the entry as given (external)
	Addr string // host:port of its client port, IPv6 in brackets
}

// ZooKeeperQuorum lists the servers the ZKFCs use, as ha.zookeeper.quorum
// names them: a managed server at its host's address and the client port;
// an external entry as given (host or host:port, an IPv6 address bare or in
// brackets), the client port added where it names none.
func (c *Cluster) ZooKeeperQuorum() []ZooKeeperServer {
	z := c.ZooKeeper
	if z == nil {
		return nil
	}
	port := strconv.Itoa(z.EffectiveClientPort())
	out := make([]ZooKeeperServer, 0, len(z.Servers))
	for _, s := range z.Servers {
		addr := s
		switch {
		case z.Managed:
			addr = net.JoinHostPort(c.HostAddr(s), port)
		case hasPort(s):
		default:
			addr = net.JoinHostPort(strings.Trim(s, "[]"), port)
		}
		out = append(out, ZooKeeperServer{Name: s, Addr: addr})
	}
	return out
}

// hasPort says whether an external quorum entry names its port ("zk1:2181",
// "[::1]:2181"; not "::1" nor "[::1]").
func hasPort(s string) bool {
	_, _, err := net.SplitHostPort(s)
	return err == nil
}

// ZooKeeperQuorumString is the ha.zookeeper.quorum value.
func (c *Cluster) ZooKeeperQuorumString() string {
	var addrs []string
	for _, s := range c.ZooKeeperQuorum() {
		addrs = append(addrs, s.Addr)
	}
	return strings.Join(addrs, ",")
}

// ZooKeeperClientAddr is host:port of the managed ZooKeeper server on host.
func (c *Cluster) ZooKeeperClientAddr(host string) string {
	port := DefaultZooKeeperClientPort
	if c.ZooKeeper != nil {
		port = c.ZooKeeper.EffectiveClientPort()
	}
	return net.JoinHostPort(c.HostAddr(host), strconv.Itoa(port))
}

// hostJournal is the journal block whose JournalNode host runs: one
// JournalNode process per host serves every journal on it, with the ports
// of the first nameservice that puts a journal there.
func (c *Cluster) hostJournal(host string) *Journal {
	for _, ns := range c.Nameservices {
		if j := ns.Journal; j != nil && slices.Contains(j.Hosts, host) {
			return j
		}
	}
	return nil
}

// JournalRPCAddr is host:port of the JournalNode RPC server on host.
func (c *Cluster) JournalRPCAddr(host string) string {
	port := DefaultJournalRPCPort
	if j := c.hostJournal(host); j != nil {
		port = j.EffectiveRPCPort()
	}
	return net.JoinHostPort(c.HostAddr(host), strconv.Itoa(port))
}

// JournalHTTPAddr is host:port of the JournalNode HTTP server on host.
func (c *Cluster) JournalHTTPAddr(host string) string {
	port := DefaultJournalHTTPPort
	if j := c.hostJournal(host); j != nil {
		port = j.EffectiveHTTPPort()
	}
	return net.JoinHostPort(c.HostAddr(host), strconv.Itoa(port))
}

// NameNodeRPCAddr is host:port of the NameNode's RPC server.
func (c *Cluster) NameNodeRPCAddr(nn *NameNode) string {
	return net.JoinHostPort(c.HostAddr(nn.Host), strconv.Itoa(nn.EffectiveRPCPort()))
}

// NameNodeHTTPAddr is host:port of the NameNode's HTTP server.
func (c *Cluster) NameNodeHTTPAddr(nn *NameNode) string {
	return net.JoinHostPort(c.HostAddr(nn.Host), strconv.Itoa(nn.EffectiveHTTPPort()))
}

// ZKFCAddr is host:port of the ZKFC of NameNode nn of nameservice ns.
func (c *Cluster) ZKFCAddr(ns string, nn *NameNode) string {
	return net.JoinHostPort(c.HostAddr(nn.Host), strconv.Itoa(c.ZKFCPort(ns, nn.ID)))
}

// HAZnode is the znode of nameservice ns's election: <parent_znode>/<ns>.
func (c *Cluster) HAZnode(ns string) string {
	parent := DefaultParentZnode
	if c.ZooKeeper != nil {
		parent = c.ZooKeeper.EffectiveParentZnode()
	}
	return path.Join(parent, ns)
}
