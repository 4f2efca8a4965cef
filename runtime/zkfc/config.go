package zkfc

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/fence"
	"github.com/hactl/hactl/runtime/httpserve"
)

// Exit codes of Hadoop's ZKFailoverController, kept by hactl's commands.
const (
	ExitFormatDenied        = 2
	ExitNoParentZnode       = 3
	ExitNoFencer            = 4
	ExitAutoFailoverOff     = 5
	ExitNoZooKeeper         = 6
	DefaultZKFCPort         = 8019
	defaultSessionTimeout   = 5 * time.Second
	defaultGracefulTimeout  = 5 * time.Second
	defaultNewActiveTimeout = 60 * time.Second
)

// Sentinel errors for the refusals of Hadoop's ZKFC, each mapped to its exit code by ExitCode.
var (
	ErrFormatDenied    = errors.New("the parent znode already exists")
	ErrNoParentZnode   = errors.New("the parent znode does not exist")
	ErrNoFencer        = errors.New("fencing is not configured")
	ErrAutoFailoverOff = errors.New("automatic failover is not enabled")
	ErrNoZooKeeper     = errors.New("unable to connect to the ZooKeeper quorum")
)

// ExitCode maps the sentinel errors to Hadoop's exit codes (1 for anything else, 0 for nil).
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrFormatDenied):
		return ExitFormatDenied
	case errors.Is(err, ErrNoParentZnode):
		return ExitNoParentZnode
	case errors.Is(err, ErrNoFencer):
		return ExitNoFencer
	case errors.Is(err, ErrAutoFailoverOff):
		return ExitAutoFailoverOff
	case errors.Is(err, ErrNoZooKeeper):
		return ExitNoZooKeeper
	}
	return 1
}

// NameNodeAddrs are one NameNode's addresses from the configuration.
type NameNodeAddrs struct {
	ID       string
	RPCHost  string
	RPCPort  int
	HTTPAddr string // host:port of dfs.namenode.http-address
	ZKFCAddr string // RPC host : dfs.ha.zkfc.port
}

// ZKConfig is the ZooKeeper side: quorum, session, znodes and security.
type ZKConfig struct {
	Quorum         []string
	SessionTimeout time.Duration
	ParentZnode    string // ha.zookeeper.parent-znode, without the nameservice
	ACLs           []zk.ACL
	Auths          []Auth
}

// ScopedParent is the znode holding one nameservice's lock and breadcrumb.
func (z ZKConfig) ScopedParent(ns string) string {
	return strings.TrimRight(z.ParentZnode, "/") + "/" + ns
}

// Config is everything a ZKFC reads from core-site.xml and hdfs-site.xml.
type Config struct {
	Nameservice      string
	Self             NameNodeAddrs
	Peers            []NameNodeAddrs // the other NameNodes of the nameservice
	ZK               ZKConfig
	Health           HealthConfig
	GracefulTimeout  time.Duration // ha.failover-controller.graceful-fence.rpc-timeout.ms
	NewActiveTimeout time.Duration // ha.failover-controller.new-active.rpc-timeout.ms
	AutoFailover     bool
	Fencers          []fence.Method
	FencerErr        error // why Fencers is empty, reported at start (exit 4)
	Secret           []byte
	HTTPLimits       httpserve.Limits // the ZKFC's HTTP server; zero fields: httpserve.Defaults
}

// LoadZKConfig reads the ha.zookeeper.* keys.
func LoadZKConfig(c *hadoopconf.Config) (ZKConfig, error) {
	var z ZKConfig
	z.Quorum = c.Strings(KeyQuorum)
	if len(z.Quorum) == 0 {
		return z, fmt.Errorf("%s is not set: it must list the ZooKeeper servers (host:port,…)", KeyQuorum)
	}
	var err error
	if z.SessionTimeout, err = c.Millis(KeySessionTimeout, defaultSessionTimeout); err != nil {
		return z, err
	}
	if z.SessionTimeout <= 0 {
		return z, fmt.Errorf("%s must be positive", KeySessionTimeout)
	}
	z.ParentZnode = c.Get(KeyParentZnode, DefaultParentZnode)
	if !strings.HasPrefix(z.ParentZnode, "/") {
		return z, fmt.Errorf("%s %q must be an absolute znode path", KeyParentZnode, z.ParentZnode)
	}
	return z, loadZKSecurity(c, &z)
}

// FindNameservice returns the nameservice whose dfs.ha.namenodes lists nnID.
func FindNameservice(c *hadoopconf.Config, nnID string) (string, error) {
	var found []string
	for _, ns := range c.Strings("dfs.nameservices") {
		if slices.Contains(c.Strings("dfs.ha.namenodes."+ns), nnID) {
			found = append(found, ns)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("NameNode %q is not listed in dfs.ha.namenodes.<ns> of any nameservice in dfs.nameservices", nnID)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("NameNode ID %q is in several nameservices (%s): pass --nameservice", nnID, strings.Join(found, ", "))
}

func nameNodeAddrs(c *hadoopconf.Config, ns, id string, zkfcPort int) (NameNodeAddrs, error) {
	a := NameNodeAddrs{ID: id}
	rpcKey := "dfs.namenode.rpc-address." + ns + "." + id
	rpc, ok := c.Lookup(rpcKey)
	if !ok {
		return a, fmt.Errorf("%s is not set", rpcKey)
	}
	host, port, err := net.SplitHostPort(strings.TrimSpace(rpc))
	if err != nil {
		return a, fmt.Errorf("%s: %w", rpcKey, err)
	}
	a.RPCHost = host
	if a.RPCPort, err = strconv.Atoi(port); err != nil {
		return a, fmt.Errorf("%s: port %q: %w", rpcKey, port, err)
	}
	httpKey := "dfs.namenode.http-address." + ns + "." + id
	if a.HTTPAddr = strings.TrimSpace(c.Get(httpKey, "")); a.HTTPAddr == "" {
		return a, fmt.Errorf("%s is not set", httpKey)
	}
	a.ZKFCAddr = net.JoinHostPort(host, strconv.Itoa(zkfcPort))
	return a, nil
}

// LoadConfig reads a ZKFC's configuration for NameNode nnID (nameservice ns, or
// the one listing nnID when ns is empty). Missing fencing is not an error here:
// it is reported by Run with Hadoop's exit code.
func LoadConfig(c *hadoopconf.Config, ns, nnID string) (*Config, error) {
	var err error
	if ns == "" {
		if ns, err = FindNameservice(c, nnID); err != nil {
			return nil, err
		}
	}
	all := c
	c = namenodeView(c, ns, nnID)
	cfg := &Config{Nameservice: ns}
	ids := c.Strings("dfs.ha.namenodes." + ns)
	if !slices.Contains(ids, nnID) {
		return nil, fmt.Errorf("NameNode %q is not in dfs.ha.namenodes.%s (%s)", nnID, ns, strings.Join(ids, ","))
	}
	for _, id := range ids {
		// Each ZKFC's port is its own NameNode's dfs.ha.zkfc.port[.<ns>[.<nn>]]:
		// federated NameNodes sharing a host give their ZKFCs distinct ports.
		zkfcPort, err := namenodeView(all, ns, id).Int("dfs.ha.zkfc.port", DefaultZKFCPort)
		if err != nil {
			return nil, err
		}
		a, err := nameNodeAddrs(c, ns, id, int(zkfcPort))
		if err != nil {
			return nil, err
		}
		if id == nnID {
			cfg.Self = a
		} else {
			cfg.Peers = append(cfg.Peers, a)
		}
	}
	if cfg.AutoFailover, err = c.AutomaticFailover(ns); err != nil {
		return nil, err
	}
	if cfg.ZK, err = LoadZKConfig(c); err != nil {
		return nil, err
	}
	ms := func(key string, def time.Duration) time.Duration {
		if err != nil {
			return 0
		}
		var d time.Duration
		d, err = c.Millis(key, def)
		return d
	}
	cfg.Health = HealthConfig{
		CheckInterval:        ms("ha.health-monitor.check-interval.ms", time.Second),
		ConnectRetryInterval: ms("ha.health-monitor.connect-retry-interval.ms", time.Second),
		RPCTimeout:           ms("ha.health-monitor.rpc-timeout.ms", 45*time.Second),
	}
	cfg.GracefulTimeout = ms("ha.failover-controller.graceful-fence.rpc-timeout.ms", defaultGracefulTimeout)
	cfg.NewActiveTimeout = ms("ha.failover-controller.new-active.rpc-timeout.ms", defaultNewActiveTimeout)
	if err != nil {
		return nil, err
	}
	cfg.Fencers, cfg.FencerErr = fence.Parse(c)
	if secretFile := c.Get(auth.ConfKey, ""); secretFile != "" {
		if cfg.Secret, err = auth.LoadSecret(secretFile); err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("%s is not set: the ZKFC signs its calls to the NameNode with the cluster secret", auth.ConfKey)
	}
	return cfg, nil
}

// SelfInfo is the NodeInfo this ZKFC writes into the lock and the breadcrumb.
func (c *Config) SelfInfo() NodeInfo {
	_, p, _ := net.SplitHostPort(c.Self.ZKFCAddr)
	zp, _ := strconv.Atoi(p)
	return NodeInfo{Nameservice: c.Nameservice, NamenodeID: c.Self.ID, Host: c.Self.RPCHost, Port: c.Self.RPCPort, ZKFCPort: zp}
}

// Peer returns the configured addresses of NameNode id (self included).
func (c *Config) Peer(id string) (NameNodeAddrs, bool) {
	if id == c.Self.ID {
		return c.Self, true
	}
	for _, p := range c.Peers {
		if p.ID == id {
			return p, true
		}
	}
	return NameNodeAddrs{}, false
}

// namenodeView is hadoopconf.NameNodeView (Hadoop's
// NameNode.initializeGenericKeys): dfs.ha.fencing.methods.<ns> is this
// nameservice's dfs.ha.fencing.methods.
func namenodeView(c *hadoopconf.Config, ns, nn string) *hadoopconf.Config {
	return hadoopconf.NameNodeView(c, ns, nn)
}
