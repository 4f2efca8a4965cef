package namenode

import (
	"fmt"
	"net"
	"os"
	osuser "os/user"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
	"github.com/hactl/hactl/runtime/httpserve"
)

// Configuration keys the NameNode reads beyond Hadoop's.
const (
	KeyMaxInline = "hactl.namenode.max-inline-file-bytes"
	// KeyPProf serves Go's profiler under /debug/pprof/ on the HTTP
	// address (default false: it is for diagnosing performance, and a
	// CPU profile costs the NameNode while it runs).
	KeyPProf = "hactl.namenode.http.pprof"
	// KeyHTTPMaxConns bounds the connections the HTTP server serves at
	// once (default httpserve.Defaults.MaxConns); more wait to be accepted.
	KeyHTTPMaxConns = "hactl.namenode.http.max-connections"
	// DefaultMaxInline is the inline limit hactl used before DataNodes (1
	// MiB); a configuration without the key now stores files in blocks.
	DefaultMaxInline = 1 << 20
)

// Peer is another NameNode of the same nameservice.
type Peer struct {
	ID       string
	HTTPAddr string
	RPCAddr  string
}

// Config is what one NameNode needs to run, resolved from Hadoop's keys.
type Config struct {
	Nameservice      string
	ID               string
	HTTPAddr         string
	RPCAddr          string
	NameDirs         []string
	Peers            []Peer // the other NameNodes of the nameservice
	MaxInline        int64
	TailPeriod       time.Duration // dfs.ha.tail-edits.period
	TailInProgress   bool          // dfs.ha.tail-edits.in-progress
	TailBackoffMax   time.Duration // dfs.ha.tail-edits.period.backoff-max (0: off; see nextTailSleep)
	CheckpointPeriod time.Duration // dfs.namenode.checkpoint.period
	CheckpointTxns   int64         // dfs.namenode.checkpoint.txns
	Retained         int           // dfs.namenode.num.checkpoints.retained
	AutoFailover     bool          // dfs.ha.automatic-failover.enabled[.<ns>]
	Superuser        string        // the user the NameNode runs as: Hadoop's superuser
	Supergroup       string        // dfs.permissions.superusergroup: its members are superusers too
	// PermissionsDisabled is dfs.permissions.enabled=false: no permission
	// checks at all (the zero value enforces them).
	PermissionsDisabled bool
	GroupsCacheTTL      time.Duration // hadoop.security.groups.cache.secs
	GroupsNegativeTTL   time.Duration // hadoop.security.groups.negative-cache.secs
	// HTTPLimits bound the HTTP server's request phases and connections
	// (hadoop.http.idle_timeout.ms, hactl.namenode.http.max-connections);
	// zero fields take httpserve.Defaults.
	HTTPLimits httpserve.Limits
	Secret     []byte
	PProf      bool // hactl.namenode.http.pprof
	// The retry cache of at-most-once native RPC calls:
	// dfs.namenode.enable.retrycache (inverted, so a zero Config has it)
	// and dfs.namenode.retrycache.expirytime.millis (0: 10 min).
	RetryCacheDisabled bool
	RetryCacheExpiry   time.Duration

	// Blocks (zero values take Hadoop's defaults in New).
	DefaultReplication  int16         // dfs.replication
	DefaultBlockSize    int64         // dfs.blocksize
	BytesPerChecksum    int           // dfs.bytes-per-checksum
	TrashInterval       int64         // fs.trash.interval, minutes
	LeaseSoftLimit      time.Duration // Hadoop's 60 s (HdfsConstants.LEASE_SOFTLIMIT_PERIOD)
	LeaseHardLimit      time.Duration // dfs.namenode.lease-hard-limit-sec (20 min)
	ReplicationInterval time.Duration // dfs.namenode.replication.interval (3 s): the monitors' period
	HostsFile           string        // dfs.hosts
	HostsExcludeFile    string        // dfs.hosts.exclude
	BlockTokens         bool          // dfs.block.access.token.enable
	BlockTokenLifetime  time.Duration // dfs.block.access.token.lifetime (600 min)
	BlockManager        blockmgmt.Config
}

// processUser is the OS user this process runs as: Hadoop's NameNode is the
// superuser as the user it runs as, and format makes that user the root's owner.
func processUser() (string, error) {
	if u, err := osuser.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	if u := os.Getenv("USER"); u != "" {
		return u, nil
	}
	return "", fmt.Errorf("cannot tell which user the NameNode runs as (uid %d has no passwd entry and $USER is unset): it is the HDFS superuser", os.Getuid())
}

// FindNameservice returns the nameservice whose dfs.ha.namenodes.<ns> lists
// id, for a caller given no nameservice. A NameNode ID may repeat across
// nameservices (Hadoop allows it): then the nameservice must be given.
func FindNameservice(c *hadoopconf.Config, id string) (string, error) {
	nss := c.Strings("dfs.nameservices")
	if len(nss) == 0 {
		return "", fmt.Errorf("dfs.nameservices is not set")
	}
	var found []string
	for _, ns := range nss {
		if slices.Contains(c.Strings("dfs.ha.namenodes."+ns), id) {
			found = append(found, ns)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("namenode %q is not in dfs.ha.namenodes of any nameservice (%s)", id, strings.Join(nss, ", "))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("namenode %q is in several nameservices (%s): give the nameservice (--nameservice)", id, strings.Join(found, ", "))
}

// NamenodeAddrs returns the http and rpc addresses of one NameNode.
func NamenodeAddrs(c *hadoopconf.Config, ns, id string) (httpAddr, rpcAddr string, err error) {
	httpAddr = c.Get("dfs.namenode.http-address."+ns+"."+id, "")
	if httpAddr == "" {
		return "", "", fmt.Errorf("dfs.namenode.http-address.%s.%s is not set", ns, id)
	}
	if _, _, err := net.SplitHostPort(httpAddr); err != nil {
		return "", "", fmt.Errorf("dfs.namenode.http-address.%s.%s: %w", ns, id, err)
	}
	rpcAddr = c.Get("dfs.namenode.rpc-address."+ns+"."+id, "")
	return httpAddr, rpcAddr, nil
}

// LoadConfig resolves the configuration of NameNode id of nameservice ns
// ("" = the one nameservice listing id).
func LoadConfig(c *hadoopconf.Config, ns, id string) (Config, error) {
	var err error
	if ns == "" {
		if ns, err = FindNameservice(c, id); err != nil {
			return Config{}, err
		}
	} else if !slices.Contains(c.Strings("dfs.ha.namenodes."+ns), id) {
		return Config{}, fmt.Errorf("namenode %q is not in dfs.ha.namenodes.%s (%s)", id, ns, strings.Join(c.Strings("dfs.ha.namenodes."+ns), ","))
	}
	// Keys suffixed with the nameservice and NameNode ID are this
	// NameNode's (a host may run NameNodes of several nameservices, each
	// with its own name dirs), as Hadoop's initializeGenericKeys.
	c = hadoopconf.NameNodeView(c, ns, id)
	cfg := Config{Nameservice: ns, ID: id, Supergroup: c.Get("dfs.permissions.superusergroup", "supergroup")}
	if cfg.Superuser, err = processUser(); err != nil {
		return Config{}, err
	}
	perms, err := c.Bool("dfs.permissions.enabled", true)
	if err != nil {
		return Config{}, err
	}
	cfg.PermissionsDisabled = !perms
	if cfg.GroupsCacheTTL, err = c.Seconds("hadoop.security.groups.cache.secs", 300*time.Second); err != nil {
		return Config{}, err
	}
	if cfg.GroupsNegativeTTL, err = c.Seconds("hadoop.security.groups.negative-cache.secs", 30*time.Second); err != nil {
		return Config{}, err
	}
	idle, err := c.Int("hadoop.http.idle_timeout.ms", httpserve.Defaults.IdleTimeout.Milliseconds())
	if err != nil {
		return Config{}, err
	}
	cfg.HTTPLimits.IdleTimeout = time.Duration(idle) * time.Millisecond
	conns, err := c.Int(KeyHTTPMaxConns, int64(httpserve.Defaults.MaxConns))
	if err != nil {
		return Config{}, err
	}
	cfg.HTTPLimits.MaxConns = int(conns)
	if cfg.HTTPAddr, cfg.RPCAddr, err = NamenodeAddrs(c, ns, id); err != nil {
		return Config{}, err
	}
	for _, other := range c.Strings("dfs.ha.namenodes." + ns) {
		if other == id {
			continue
		}
		h, r, err := NamenodeAddrs(c, ns, other)
		if err != nil {
			return Config{}, err
		}
		cfg.Peers = append(cfg.Peers, Peer{ID: other, HTTPAddr: h, RPCAddr: r})
	}
	for _, d := range c.Strings("dfs.namenode.name.dir") {
		cfg.NameDirs = append(cfg.NameDirs, strings.TrimPrefix(d, "file://"))
	}
	if len(cfg.NameDirs) == 0 {
		return Config{}, fmt.Errorf("dfs.namenode.name.dir is not set")
	}
	// Without the key files live in blocks on DataNodes; a value > 0
	// keeps hactl's former inline storage up to that size.
	if cfg.MaxInline, err = c.Int(KeyMaxInline, 0); err != nil {
		return Config{}, err
	}
	if err := loadBlockConfig(c, &cfg); err != nil {
		return Config{}, err
	}
	if cfg.TailPeriod, err = c.Seconds("dfs.ha.tail-edits.period", 60*time.Second); err != nil {
		return Config{}, err
	}
	if cfg.TailInProgress, err = c.Bool("dfs.ha.tail-edits.in-progress", false); err != nil {
		return Config{}, err
	}
	if cfg.TailBackoffMax, err = c.Seconds("dfs.ha.tail-edits.period.backoff-max", 0); err != nil {
		return Config{}, err
	}
	if cfg.TailBackoffMax > 0 && cfg.TailBackoffMax < cfg.TailPeriod {
		cfg.TailBackoffMax = cfg.TailPeriod // as Hadoop's EditLogTailer (which warns)
	}
	if cfg.CheckpointPeriod, err = c.Seconds("dfs.namenode.checkpoint.period", time.Hour); err != nil {
		return Config{}, err
	}
	if cfg.CheckpointTxns, err = c.Int("dfs.namenode.checkpoint.txns", 1000000); err != nil {
		return Config{}, err
	}
	r, err := c.Int("dfs.namenode.num.checkpoints.retained", 2)
	if err != nil {
		return Config{}, err
	}
	cfg.Retained = int(r)
	if cfg.PProf, err = c.Bool(KeyPProf, false); err != nil {
		return Config{}, err
	}
	if cfg.AutoFailover, err = c.AutomaticFailover(ns); err != nil {
		return Config{}, err
	}
	retryOn, err := c.Bool("dfs.namenode.enable.retrycache", true)
	if err != nil {
		return Config{}, err
	}
	cfg.RetryCacheDisabled = !retryOn
	if cfg.RetryCacheExpiry, err = c.Millis("dfs.namenode.retrycache.expirytime.millis", ipc.DefaultRetryCacheExpiry); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// loadBlockConfig reads the keys of blocks, DataNodes, leases and safe
// mode (Hadoop's names and defaults).
func loadBlockConfig(c *hadoopconf.Config, cfg *Config) error {
	repl, err := c.Int("dfs.replication", 3)
	if err != nil {
		return err
	}
	cfg.DefaultReplication = int16(repl)
	cfg.DefaultBlockSize = c.Size("dfs.blocksize", 128<<20)
	bpc, err := c.Int("dfs.bytes-per-checksum", 512)
	if err != nil {
		return err
	}
	cfg.BytesPerChecksum = int(bpc)
	if cfg.TrashInterval, err = c.Int("fs.trash.interval", 0); err != nil {
		return err
	}
	cfg.LeaseSoftLimit = 60 * time.Second
	if cfg.LeaseHardLimit, err = c.Seconds("dfs.namenode.lease-hard-limit-sec", 20*time.Minute); err != nil {
		return err
	}
	if cfg.ReplicationInterval, err = c.Seconds("dfs.namenode.replication.interval", 3*time.Second); err != nil {
		return err
	}
	if cfg.BlockTokens, err = c.Bool("dfs.block.access.token.enable", false); err != nil {
		return err
	}
	life, err := c.Int("dfs.block.access.token.lifetime", 600) // minutes, as Hadoop
	if err != nil {
		return err
	}
	cfg.BlockTokenLifetime = time.Duration(life) * time.Minute
	cfg.HostsFile = c.Get("dfs.hosts", "")
	cfg.HostsExcludeFile = c.Get("dfs.hosts.exclude", "")
	b := blockmgmt.DefaultConfig()
	b.DefaultReplication = cfg.DefaultReplication
	minRepl, err := c.Int("dfs.namenode.replication.min", 1)
	if err != nil {
		return err
	}
	b.MinReplication = int16(minRepl)
	if b.HeartbeatInterval, err = c.Seconds("dfs.heartbeat.interval", 3*time.Second); err != nil {
		return err
	}
	recheck, err := c.Int("dfs.namenode.heartbeat.recheck-interval", 5*60*1000) // ms, as Hadoop
	if err != nil {
		return err
	}
	b.RecheckInterval = time.Duration(recheck) * time.Millisecond
	streams, err := c.Int("dfs.namenode.replication.max-streams", 2)
	if err != nil {
		return err
	}
	b.MaxStreams = int(streams)
	inv, err := c.Int("dfs.block.invalidate.limit", 1000)
	if err != nil {
		return err
	}
	b.InvalidateLimit = int(inv)
	if b.PendingTimeout, err = c.Seconds("dfs.namenode.reconstruction.pending.timeout-sec", 5*time.Minute); err != nil {
		return err
	}
	stale, err := c.Int("dfs.namenode.stale.datanode.interval", 30*1000) // ms, as Hadoop
	if err != nil {
		return err
	}
	b.StaleInterval = time.Duration(stale) * time.Millisecond
	if v := c.Get("dfs.namenode.safemode.threshold-pct", ""); v != "" {
		if _, err := fmt.Sscanf(v, "%g", &b.SafeModeThreshold); err != nil {
			return fmt.Errorf("dfs.namenode.safemode.threshold-pct: %q is not a number", v)
		}
	}
	minDN, err := c.Int("dfs.namenode.safemode.min.datanodes", 0)
	if err != nil {
		return err
	}
	b.SafeModeMinDatanodes = int(minDN)
	ext, err := c.Int("dfs.namenode.safemode.extension", 30000) // ms, as Hadoop
	if err != nil {
		return err
	}
	b.SafeModeExtension = time.Duration(ext) * time.Millisecond
	cfg.BlockManager = b
	return nil
}
