package schema

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// DataNodes in the language:
//
//	datanode {
//	  hosts     = ["w1", "w2", "w3"]
//	  data_dirs = ["/data/1/dfs", "/data/2/dfs"]
//	  # port = 9866, http_port = 9864, ipc_port = 9867
//	}
//	hdfs {
//	  replication        = 3     # dfs.replication
//	  heartbeat_interval = "3s"  # dfs.heartbeat.interval
//	  block_report_interval = "6h" # dfs.blockreport.intervalMsec
//	}
//
// Several datanode blocks may be given (hosts with other disks or ports);
// a host appears in one of them only. Each DataNode serves every nameservice
// of the cluster, as Hadoop's do (federation).

// DataNodeGroup is one datanode block: hosts that each run a DataNode with
// the same data dirs and ports.
type DataNodeGroup struct {
	Hosts     []string // names of Hosts
	DataDirs  []string // dfs.datanode.data.dir
	Port      int      // dfs.datanode.address port, 9866
	HTTPPort  int      // dfs.datanode.http.address port, 9864
	IPCPort   int      // dfs.datanode.ipc.address port, 9867
	DeclRange hcl.Range
	Ranges    Ranges
}

// HDFSSettings are the cluster-wide block settings (the hdfs block).
type HDFSSettings struct {
	Replication         int           // dfs.replication; 0 = Hadoop's 3
	HeartbeatInterval   time.Duration // dfs.heartbeat.interval; 0 = 3s
	BlockReportInterval time.Duration // dfs.blockreport.intervalMsec; 0 = 6h
	DeclRange           hcl.Range
	Ranges              Ranges
}

// Hadoop's DataNode defaults (hdfs-default.xml).
const (
	DefaultDataNodePort        = 9866
	DefaultDataNodeHTTPPort    = 9864
	DefaultDataNodeIPCPort     = 9867
	DefaultReplication         = 3
	DefaultHeartbeatInterval   = 3 * time.Second
	DefaultBlockReportInterval = 6 * time.Hour
	// MaxReplication is Hadoop's dfs.replication.max default.
	MaxReplication = 512
	// DefaultInlineFileBytes is the inline limit rendered for a cluster
	// without DataNodes: file data then lives in the NameNodes (edits and
	// image), up to 1 MiB per file, as before DataNodes existed.
	DefaultInlineFileBytes = 1 << 20
	// HostsExcludeFileName is the dfs.hosts.exclude file apply keeps in
	// conf_dir of every NameNode host: the DataNodes being decommissioned.
	HostsExcludeFileName = "dfs.hosts.exclude"
)

// DataNode keys the renderer writes.
const (
	KeyDataNodeDataDir     = "dfs.datanode.data.dir"
	KeyDataNodeAddress     = "dfs.datanode.address"
	KeyDataNodeHTTPAddress = "dfs.datanode.http.address"
	KeyDataNodeIPCAddress  = "dfs.datanode.ipc.address"
	KeyDataNodeHostname    = "dfs.datanode.hostname"
	KeyReplication         = "dfs.replication"
	KeyHeartbeatInterval   = "dfs.heartbeat.interval"
	KeyBlockReportInterval = "dfs.blockreport.intervalMsec"
	KeyHostsExclude        = "dfs.hosts.exclude"
	KeyNameNodeMaxInline   = "hactl.namenode.max-inline-file-bytes"
)

// dataNodeModelledKeys are rendered from the model once the cluster has
// DataNodes or an hdfs block; before that a passthrough may set them (a
// client-side dfs.replication, as configurations always could).
var dataNodeModelledKeys = []string{
	KeyDataNodeDataDir, KeyDataNodeAddress, KeyDataNodeHTTPAddress, KeyDataNodeIPCAddress,
	KeyDataNodeHostname, KeyReplication, KeyHeartbeatInterval, KeyBlockReportInterval, KeyHostsExclude,
}

var (
	datanodeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "hosts", Required: true}, {Name: "data_dirs", Required: true},
		{Name: "port"}, {Name: "http_port"}, {Name: "ipc_port"},
	}}
	hdfsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "replication"}, {Name: "heartbeat_interval"}, {Name: "block_report_interval"},
	}}
)

func (d *decoder) datanode(b *hcl.Block) *DataNodeGroup {
	g := &DataNodeGroup{Port: DefaultDataNodePort, HTTPPort: DefaultDataNodeHTTPPort, IPCPort: DefaultDataNodeIPCPort,
		DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, datanodeSchema).Attributes
	d.strList(a["hosts"], &g.Hosts, g.Ranges)
	d.strOrList(a["data_dirs"], &g.DataDirs, g.Ranges)
	d.port(a["port"], &g.Port, g.Ranges)
	d.port(a["http_port"], &g.HTTPPort, g.Ranges)
	d.port(a["ipc_port"], &g.IPCPort, g.Ranges)
	return g
}

func (d *decoder) hdfs(b *hcl.Block) *HDFSSettings {
	h := &HDFSSettings{DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, hdfsSchema).Attributes
	if n, ok := d.wholeNumber(a["replication"], h.Ranges); ok {
		if n < 1 || n > MaxReplication {
			d.errorf(RuleReplication, a["replication"].Expr.Range(), "Invalid replication",
				"replication is %d; HDFS keeps 1 to %d replicas of a block (dfs.replication.max).", n, MaxReplication)
		} else {
			h.Replication = int(n)
		}
	}
	d.duration(a["heartbeat_interval"], &h.HeartbeatInterval, h.Ranges)
	d.duration(a["block_report_interval"], &h.BlockReportInterval, h.Ranges)
	return h
}

// EffectivePort is the DataNode's data transfer port (9866 when unset).
func (g *DataNodeGroup) EffectivePort() int { return orDefault(g.Port, DefaultDataNodePort) }

// EffectiveHTTPPort is the DataNode's HTTP port (9864 when unset).
func (g *DataNodeGroup) EffectiveHTTPPort() int {
	return orDefault(g.HTTPPort, DefaultDataNodeHTTPPort)
}

// EffectiveIPCPort is the DataNode's IPC port (9867 when unset).
func (g *DataNodeGroup) EffectiveIPCPort() int { return orDefault(g.IPCPort, DefaultDataNodeIPCPort) }

// DataNodeGroupOf is the datanode block that puts a DataNode on host (the
// first, should validation have let two through), or nil.
func (c *Cluster) DataNodeGroupOf(host string) *DataNodeGroup {
	for _, g := range c.DataNodes {
		if slices.Contains(g.Hosts, host) {
			return g
		}
	}
	return nil
}

// DataNodeHosts are the hosts that run a DataNode, in declaration order,
// each once.
func (c *Cluster) DataNodeHosts() []string {
	var out []string
	for _, g := range c.DataNodes {
		for _, h := range g.Hosts {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	return out
}

// HasDataNodes reports whether the cluster stores blocks on DataNodes (else
// file data lives inline in the NameNodes).
func (c *Cluster) HasDataNodes() bool { return len(c.DataNodeHosts()) > 0 }

func (c *Cluster) dataNodeAddr(host string, port func(*DataNodeGroup) int) string {
	p := 0
	if g := c.DataNodeGroupOf(host); g != nil {
		p = port(g)
	}
	return net.JoinHostPort(c.HostAddr(host), strconv.Itoa(p))
}

// DataNodeAddr is host:port of the DataNode's data transfer server on host
// (dfs.datanode.address): how the NameNodes and dfs.hosts.exclude name it.
func (c *Cluster) DataNodeAddr(host string) string {
	return c.dataNodeAddr(host, (*DataNodeGroup).EffectivePort)
}

// DataNodeHTTPAddr is host:port of the DataNode's HTTP server on host.
func (c *Cluster) DataNodeHTTPAddr(host string) string {
	return c.dataNodeAddr(host, (*DataNodeGroup).EffectiveHTTPPort)
}

// DataNodeIPCAddr is host:port of the DataNode's IPC server on host.
func (c *Cluster) DataNodeIPCAddr(host string) string {
	return c.dataNodeAddr(host, (*DataNodeGroup).EffectiveIPCPort)
}

// DataDirs are the data dirs of the DataNode on host as configured (before
// HostDir roots them on target local); nil when host runs none.
func (c *Cluster) DataDirs(host string) []string {
	if g := c.DataNodeGroupOf(host); g != nil {
		return g.DataDirs
	}
	return nil
}

// EffectiveReplication is dfs.replication (3 when unset).
func (c *Cluster) EffectiveReplication() int {
	if c.HDFS != nil && c.HDFS.Replication > 0 {
		return c.HDFS.Replication
	}
	return DefaultReplication
}

// EffectiveHeartbeatInterval is dfs.heartbeat.interval (3s when unset).
func (c *Cluster) EffectiveHeartbeatInterval() time.Duration {
	if c.HDFS != nil && c.HDFS.HeartbeatInterval > 0 {
		return c.HDFS.HeartbeatInterval
	}
	return DefaultHeartbeatInterval
}

// EffectiveBlockReportInterval is dfs.blockreport.intervalMsec (6h when unset).
func (c *Cluster) EffectiveBlockReportInterval() time.Duration {
	if c.HDFS != nil && c.HDFS.BlockReportInterval > 0 {
		return c.HDFS.BlockReportInterval
	}
	return DefaultBlockReportInterval
}

// HostsExcludeFile is the dfs.hosts.exclude file on host (in its conf_dir).
func (c *Cluster) HostsExcludeFile(host string) string {
	return path.Join(c.PathsFor(host).ConfDir, HostsExcludeFileName)
}

// dataNodeKeysModelled reports whether the model renders the DataNode keys
// (dataNodeModelledKeys): once the cluster declares DataNodes or an hdfs block.
func (c *Cluster) dataNodeKeysModelled() bool { return c.HasDataNodes() || c.HDFS != nil }

// modelledDataNodeKey reports whether key is one of dataNodeModelledKeys.
func modelledDataNodeKey(key string) bool { return slices.Contains(dataNodeModelledKeys, key) }

// dataNodes renders the block settings every host reads and, on a DataNode
// host, its storage and bind addresses. A cluster without DataNodes keeps
// file data inline in the NameNodes, with today's 1 MiB limit; one with
// DataNodes renders the limit 0 (blocks only; WebHDFS redirects to the
// DataNodes). A passthrough value of the inline limit is kept either way.
func (r *renderer) dataNodes() {
	c := r.c
	if p := c.Hadoop; p == nil || p.HDFSSite[KeyNameNodeMaxInline] == "" {
		limit := 0
		if !c.HasDataNodes() {
			limit = DefaultInlineFileBytes
		}
		r.hdfs[KeyNameNodeMaxInline] = strconv.Itoa(limit)
	}
	if !c.dataNodeKeysModelled() {
		return
	}
	r.hdfs[KeyReplication] = strconv.Itoa(c.EffectiveReplication())
	// Hadoop reads the heartbeat interval as whole seconds (getTimeDuration
	// in seconds also takes a suffix, but older releases take a bare number).
	r.hdfs[KeyHeartbeatInterval] = strconv.FormatInt(int64(max(c.EffectiveHeartbeatInterval()/time.Second, 1)), 10)
	r.hdfs[KeyBlockReportInterval] = renderMillis(c.EffectiveBlockReportInterval())
	r.hdfs[KeyHostsExclude] = c.HostsExcludeFile(r.h.Name)
	g := c.DataNodeGroupOf(r.h.Name)
	if g == nil {
		return
	}
	dirs := make([]string, len(g.DataDirs))
	for i, d := range g.DataDirs {
		dirs[i] = r.root(d)
	}
	r.hdfs[KeyDataNodeDataDir] = strings.Join(dirs, ",")
	r.hdfs[KeyDataNodeAddress] = c.DataNodeAddr(r.h.Name)
	r.hdfs[KeyDataNodeHTTPAddress] = c.DataNodeHTTPAddr(r.h.Name)
	r.hdfs[KeyDataNodeIPCAddress] = c.DataNodeIPCAddr(r.h.Name)
	r.hdfs[KeyDataNodeHostname] = r.h.Addr()
}

// dataNodes checks the datanode blocks and the hdfs block.
func (v *validator) dataNodes() {
	seen := map[string]hcl.Range{}
	for _, g := range v.c.DataNodes {
		if _, set := g.Ranges["data_dirs"]; set && len(g.DataDirs) == 0 {
			v.report(RuleDataNodeDirs, at(g.Ranges, "data_dirs", g.DeclRange), "No data dirs",
				"This datanode block lists no data_dirs; a DataNode needs at least one directory to store blocks in.")
		}
		for i, d := range g.DataDirs {
			v.absolute(d, "data_dirs entry", elemAt(g.Ranges, "data_dirs", i, g.DeclRange))
		}
		if _, set := g.Ranges["hosts"]; set && len(g.Hosts) == 0 {
			v.report(RuleDataNodeHosts, at(g.Ranges, "hosts", g.DeclRange), "No DataNode hosts",
				"This datanode block lists no hosts; remove it or name the hosts that run a DataNode.")
		}
		for i, h := range g.Hosts {
			rng := elemAt(g.Ranges, "hosts", i, g.DeclRange)
			if !v.hostRef(h, rng, "A datanode block") {
				continue
			}
			if prev, dup := seen[h]; dup {
				v.report(RuleDataNodeHosts, rng, "DataNode declared twice",
					"Host %q already runs a DataNode (declared at %s); a host runs one DataNode, which serves all its data dirs.", h, prev)
				continue
			}
			seen[h] = rng
		}
	}
	n := len(v.c.DataNodeHosts())
	if hs := v.c.HDFS; hs != nil && n > 0 && hs.Replication > n {
		v.report(RuleReplication, at(hs.Ranges, "replication", hs.DeclRange), "Replication above the DataNode count",
			"replication is %d but the cluster has %d DataNode(s): every block would stay under-replicated (HDFS puts each replica on a distinct DataNode). Add DataNodes or lower replication.", hs.Replication, n)
	}
	if n > 0 && (v.c.HDFS == nil || v.c.HDFS.Replication == 0) && n < DefaultReplication {
		rng := v.c.DataNodes[0].DeclRange
		if v.c.HDFS != nil {
			rng = v.c.HDFS.DeclRange
		}
		v.report(RuleReplication, rng, "Replication above the DataNode count",
			"dfs.replication defaults to %d but the cluster has %d DataNode(s): every block would stay under-replicated. Set hdfs { replication = %d } or add DataNodes.", DefaultReplication, n, n)
	}
	if n == 0 && len(v.c.Nameservices) > 0 {
		rng := v.c.Nameservices[0].DeclRange
		if v.c.HDFS != nil {
			rng = v.c.HDFS.DeclRange
		}
		v.report(RuleNoDataNodes, rng, "No DataNodes",
			"The cluster declares no datanode block, so file data lives inline in the NameNodes (edits and image, at most %d bytes per file). Add datanode { hosts = [...] data_dirs = [...] } to store blocks on DataNodes.", DefaultInlineFileBytes)
	}
}

// dataNodeStorage lists each DataNode data dir for the storage overlap
// checks: each dir its own owner, so two dirs of one DataNode that nest are
// caught too.
func (v *validator) dataNodeStorage(add func(host, dir, owner string, rng hcl.Range)) {
	for _, g := range v.c.DataNodes {
		for i, h := range g.Hosts {
			hostRng := elemAt(g.Ranges, "hosts", i, g.DeclRange)
			for k, d := range g.DataDirs {
				rng := hostRng
				if _, set := g.Ranges["data_dirs"]; set {
					rng = elemAt(g.Ranges, "data_dirs", k, g.DeclRange)
				}
				add(h, d, fmt.Sprintf("DataNode data dir %d", k+1), rng)
			}
		}
	}
}
