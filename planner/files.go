package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

// File names as the probe reports them in ObservedHost.ConfigSHA256.
const (
	FileCoreSite    = daemon.FileCoreSite
	FileHDFSSite    = daemon.FileHDFSSite
	FileSecret      = daemon.FileSecret
	FileZooCfg      = daemon.FileZooCfg
	FileZooKeeperID = daemon.FileZooKeeperID
)

// Desired is what every host should hold: the rendered files and their
// hashes. Rendering is pure, so the planner computes it itself.
type Desired struct {
	Cluster *schema.Cluster
	Hosts   map[string]*DesiredHost
}

// DesiredHost is one host's rendered files.
type DesiredHost struct {
	Files  map[string][]byte // core-site.xml, hdfs-site.xml; zoo.cfg and myid on managed ZooKeeper servers
	SHA256 map[string]string // file name -> sha256 hex
}

// ConfigSHA256 is the hash a daemon of kind k on the host is expected to
// run with: its registry entry's ConfigFiles, combined.
func (d *DesiredHost) ConfigSHA256(k daemon.Kind) string {
	var files []string
	if s := daemon.Lookup(k); s != nil {
		files = s.ConfigFiles
	}
	return CombinedSHA256(d.SHA256, files...)
}

// CombinedSHA256 hashes "name=sha256\n" lines of the named files, in the given
// order: the value a daemon's ObservedDaemon.ConfigSHA256 carries when it was
// started by apply (passed as HACTL_CONFIG_SHA256 in its environment).
func CombinedSHA256(hashes map[string]string, names ...string) string {
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%s\n", n, hashes[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SHA256Hex is the hex sha256 of data.
func SHA256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// RenderDesired renders every host's files. It fails on a configuration the
// renderer cannot resolve, which a validated configuration never is.
func RenderDesired(c *schema.Cluster) (*Desired, error) {
	d := &Desired{Cluster: c, Hosts: map[string]*DesiredHost{}}
	for _, h := range c.Hosts {
		r, err := schema.Render(c, h.Name)
		if err != nil {
			return nil, err
		}
		dh := &DesiredHost{Files: map[string][]byte{
			FileCoreSite: r.Core.Marshal(),
			FileHDFSSite: r.HDFS.Marshal(),
		}}
		if id := ZooKeeperServerID(c, h.Name); id > 0 {
			dh.Files[FileZooCfg] = RenderZooCfg(c, h.Name)
			dh.Files[FileZooKeeperID] = []byte(strconv.Itoa(id) + "\n")
		}
		dh.SHA256 = map[string]string{}
		for n, b := range dh.Files {
			dh.SHA256[n] = SHA256Hex(b)
		}
		d.Hosts[h.Name] = dh
	}
	return d, nil
}

// ZooKeeperServerID is host's myid in a managed ensemble (1-based, in the
// order of zookeeper.servers), or 0 when host runs no managed ZooKeeper.
func ZooKeeperServerID(c *schema.Cluster, host string) int {
	if c.ZooKeeper == nil || !c.ZooKeeper.Managed {
		return 0
	}
	if i := slices.Index(c.ZooKeeper.Servers, host); i >= 0 {
		return i + 1
	}
	return 0
}

// ZooKeeperDataDir is the managed ZooKeeper's data dir on host (rooted under
// the host's tree on target local).
func ZooKeeperDataDir(c *schema.Cluster, host string) string {
	dir := schema.DefaultZooKeeperDataDir
	if c.ZooKeeper != nil {
		dir = c.ZooKeeper.EffectiveDataDir()
	}
	return c.HostDir(host, dir)
}

// ZooKeeperConfPath is where zoo.cfg goes on host.
func ZooKeeperConfPath(c *schema.Cluster, host string) string {
	return filepath.Join(c.PathsFor(host).ConfDir, "zookeeper", FileZooCfg)
}

// RenderZooCfg renders zoo.cfg of a managed ZooKeeper server on host.
func RenderZooCfg(c *schema.Cluster, host string) []byte {
	zk := c.ZooKeeper
	lines := []string{
		"# Written by hactl; changes are overwritten by the next apply.",
		"tickTime=" + strconv.FormatInt(int64(zk.EffectiveTickTime()/time.Millisecond), 10),
		"initLimit=10",
		"syncLimit=5",
		"dataDir=" + ZooKeeperDataDir(c, host),
		"clientPort=" + strconv.Itoa(zk.EffectiveClientPort()),
		"clientPortAddress=" + c.HostAddr(host),
		"admin.enableServer=false",
		"4lw.commands.whitelist=ruok,srvr,mntr",
		"autopurge.purgeInterval=24",
	}
	if len(zk.Servers) > 1 {
		for i, s := range zk.Servers {
			// server.N=host:peer:election, an IPv6 address in brackets.
			peer := net.JoinHostPort(c.HostAddr(s), strconv.Itoa(zk.EffectivePeerPort()))
			lines = append(lines, fmt.Sprintf("server.%d=%s:%d", i+1, peer, zk.EffectiveElectionPort()))
		}
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// JournalHosts are the hosts that run a JournalNode for any nameservice, in
// declaration order.
func JournalHosts(c *schema.Cluster) []string {
	var out []string
	for _, h := range c.Hosts {
		for _, ns := range c.Nameservices {
			if ns.Journal != nil && slices.Contains(ns.Journal.Hosts, h.Name) {
				out = append(out, h.Name)
				break
			}
		}
	}
	return out
}

// JournalID is the journal of a nameservice.
func JournalID(ns *schema.Nameservice) string {
	if ns.Journal != nil && ns.Journal.JournalID != "" {
		return ns.Journal.JournalID
	}
	if ns.SharedEdits != "" {
		if i := strings.LastIndex(ns.SharedEdits, "/"); i >= 0 && i < len(ns.SharedEdits)-1 {
			return ns.SharedEdits[i+1:]
		}
	}
	return ns.Name
}

// NameNodeKey is how Observed indexes a NameNode: "<ns>/<nnid>".
func NameNodeKey(ns, id string) string { return ns + "/" + id }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
