package schema

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Cluster is a loaded, decoded cluster description. Every block keeps its
// declaration range and the range of each attribute it was given, so that
// validation, plan output and errors can point at the exact source.
type Cluster struct {
	Hosts        []*Host        // in declaration order
	SSH          *SSH           // defaults for every host; nil when no ssh block
	ZooKeeper    *ZooKeeper     // nil when no zookeeper block
	Nameservices []*Nameservice // in declaration order (several = federation)
	Target       *Target        // nil when no target block
	Runtime      *Runtime       // never nil after Load (defaults filled in)
	// Hadoop holds Hadoop keys hactl does not model, carried through to the
	// rendered files untouched (from `hadoop { core_site = {…} hdfs_site = {…} }`).
	Hadoop *HadoopPassthrough
	// DataNodes are the datanode blocks in declaration order (each a group
	// of hosts sharing data dirs and ports); HDFS holds the cluster-wide
	// block settings (nil when no hdfs block). See datanode.go.
	DataNodes []*DataNodeGroup
	HDFS      *HDFSSettings

	// Files are the parsed sources, by filename, for diagnostic snippets.
	Files map[string]*hcl.File
	// ConfigDir is the directory the configuration was loaded from (relative
	// paths such as a local target's state_dir are resolved against it).
	ConfigDir string
}

// Ranges maps an attribute name to the range of its value expression.
type Ranges map[string]hcl.Range

// Host is a machine that runs daemons.
type Host struct {
	Name      string
	Address   string // hostname or IP
	SSH       *SSH   // per-host override merged over the cluster defaults; nil if none
	DeclRange hcl.Range
	Ranges    Ranges
}

// SSH holds connection settings (cluster defaults or a host's override).
type SSH struct {
	User           string
	Port           int // 22 when unset
	PrivateKey     string
	KnownHosts     string
	Bastion        string // "user@host:port", optional
	Sudo           *bool  // nil: sudo when user is not root
	ConnectTimeout time.Duration
	DeclRange      hcl.Range
	Ranges         Ranges
}

// ZooKeeper describes the ZooKeeper quorum the ZKFCs use.
type ZooKeeper struct {
	Managed        bool     // hactl installs and runs it (Debian package `zookeeper`)
	Servers        []string // host names (managed) or host[:port] entries (external)
	ClientPort     int      // 2181
	PeerPort       int      // 2888 (managed)
	ElectionPort   int      // 3888 (managed)
	TickTime       time.Duration
	SessionTimeout time.Duration // ha.zookeeper.session-timeout.ms
	ParentZnode    string        // ha.zookeeper.parent-znode, "/hadoop-ha"
	DataDir        string        // managed: where zoo.cfg's dataDir points
	DeclRange      hcl.Range
	Ranges         Ranges
}

// Nameservice is one HDFS nameservice (dfs.nameservices entry).
type Nameservice struct {
	Name              string
	NameNodes         []*NameNode
	Journal           *Journal // nil when only SharedEdits is given
	SharedEdits       string   // explicit qjournal:// URI, "" when derived from Journal
	AutomaticFailover bool
	Fencing           *Fencing // nil when absent
	NameDirs          []string // dfs.namenode.name.dir (name_dir = string or list)
	// Tuning, each zero when unset (the renderer then leaves Hadoop's default).
	TailEditsPeriod           time.Duration // dfs.ha.tail-edits.period
	TailEditsInProgress       *bool         // dfs.ha.tail-edits.in-progress
	QJournalWriteTimeout      time.Duration // dfs.qjournal.write-txns.timeout.ms
	QJournalStartTimeout      time.Duration // dfs.qjournal.start-segment.timeout.ms
	QJournalPrepareTimeout    time.Duration // dfs.qjournal.prepare-recovery.timeout.ms
	QJournalAcceptTimeout     time.Duration // dfs.qjournal.accept-recovery.timeout.ms
	QJournalFinalizeTimeout   time.Duration // dfs.qjournal.finalize-segment.timeout.ms
	QJournalSelectTimeout     time.Duration // dfs.qjournal.select-input-streams.timeout.ms
	QJournalNewEpochTimeout   time.Duration // dfs.qjournal.new-epoch.timeout.ms
	NotBecomeActiveInSafemode *bool         // dfs.ha.nn.not-become-active-in-safemode
	DeclRange                 hcl.Range
	Ranges                    Ranges
}

// NameNode is one NameNode of a nameservice (an entry of dfs.ha.namenodes.<ns>).
type NameNode struct {
	ID        string
	Host      string   // name of a Host
	RPCPort   int      // 8020
	HTTPPort  int      // 9870
	NameDirs  []string // override of the nameservice's name dirs; nil = inherit
	DeclRange hcl.Range
	Ranges    Ranges
}

// Journal describes the JournalNode quorum of a nameservice.
type Journal struct {
	Hosts     []string // names of Hosts running a JournalNode
	EditsDir  string   // dfs.journalnode.edits.dir
	RPCPort   int      // 8485
	HTTPPort  int      // 8480
	JournalID string   // defaults to the nameservice name
	DeclRange hcl.Range
	Ranges    Ranges
}

// Fencing holds dfs.ha.fencing.* settings.
type Fencing struct {
	Methods         []string      // raw Hadoop method strings, in order
	PrivateKeyFiles []string      // dfs.ha.fencing.ssh.private-key-files
	KnownHostsFile  string        // hactl.ha.fencing.ssh.known-hosts-file: sshfence checks host keys against it
	ConnectTimeout  time.Duration // dfs.ha.fencing.ssh.connect-timeout
	DeclRange       hcl.Range
	Ranges          Ranges
}

// TargetKind is where the cluster runs.
type TargetKind string

const (
	TargetLocal TargetKind = "local"
	TargetSSH   TargetKind = "ssh"
	TargetEC2   TargetKind = "ec2"
)

// Target says how hactl reaches the hosts.
type Target struct {
	Kind TargetKind
	// local: the directory under which each host gets its own tree; ec2:
	// where the provisioning state lives (relative to the config's dir).
	StateDir string
	// EC2 holds the ec2 target's settings (ec2.go); nil on other targets.
	EC2       *EC2
	DeclRange hcl.Range
	Ranges    Ranges
}

// Runtime holds settings of hactl's bundled daemons on the hosts.
type Runtime struct {
	InstallDir string // where the hactl binary and configs go, "/opt/hactl"
	ConfDir    string // Hadoop XML for the daemons, "/etc/hactl" (… per host under local)
	LogDir     string // "/var/log/hactl"
	RunDir     string // pid files, "/var/run/hactl"
	SecretFile string // per-cluster RPC secret (mode 0600), "<conf_dir>/cluster.secret"
	DeclRange  hcl.Range
	Ranges     Ranges
}

// HadoopPassthrough carries Hadoop keys hactl does not model.
type HadoopPassthrough struct {
	CoreSite  map[string]string
	HDFSSite  map[string]string
	DeclRange hcl.Range
	Ranges    Ranges
}

// Defaults, as Hadoop ships them.
const (
	DefaultNameNodeRPCPort       = 8020
	DefaultNameNodeHTTPPort      = 9870
	DefaultJournalRPCPort        = 8485
	DefaultJournalHTTPPort       = 8480
	DefaultZooKeeperClientPort   = 2181
	DefaultZooKeeperPeerPort     = 2888
	DefaultZooKeeperElectionPort = 3888
	DefaultZooKeeperTickTime     = 2 * time.Second
	DefaultSessionTimeout        = 5 * time.Second // ha.zookeeper.session-timeout.ms
	DefaultParentZnode           = "/hadoop-ha"
	DefaultSSHPort               = 22
)

// Host returns the host named name, or nil.
func (c *Cluster) Host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Nameservice returns the nameservice named name, or nil.
func (c *Cluster) Nameservice(name string) *Nameservice {
	for _, ns := range c.Nameservices {
		if ns.Name == name {
			return ns
		}
	}
	return nil
}

// NameNode returns the NameNode with id, or nil.
func (ns *Nameservice) NameNode(id string) *NameNode {
	for _, nn := range ns.NameNodes {
		if nn.ID == id {
			return nn
		}
	}
	return nil
}

// EffectiveNameDirs returns the NameNode's own name dirs or the nameservice's.
func (ns *Nameservice) EffectiveNameDirs(nn *NameNode) []string {
	if len(nn.NameDirs) > 0 {
		return nn.NameDirs
	}
	return ns.NameDirs
}

// EffectiveSSH merges a host's SSH override over the cluster defaults.
func (c *Cluster) EffectiveSSH(h *Host) SSH {
	var out SSH
	if c.SSH != nil {
		out = *c.SSH
	}
	if h != nil && h.SSH != nil {
		o := h.SSH
		if o.User != "" {
			out.User = o.User
		}
		if o.Port != 0 {
			out.Port = o.Port
		}
		if o.PrivateKey != "" {
			out.PrivateKey = o.PrivateKey
		}
		if o.KnownHosts != "" {
			out.KnownHosts = o.KnownHosts
		}
		if o.Bastion != "" {
			out.Bastion = o.Bastion
		}
		if o.Sudo != nil {
			out.Sudo = o.Sudo
		}
		if o.ConnectTimeout != 0 {
			out.ConnectTimeout = o.ConnectTimeout
		}
	}
	if out.Port == 0 {
		out.Port = DefaultSSHPort
	}
	return out
}
