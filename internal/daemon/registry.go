package daemon

import "strings"

// File names of the configuration hactl writes, as the probe reports their
// hashes (planner.ObservedHost.ConfigSHA256).
const (
	FileCoreSite    = "core-site.xml"
	FileHDFSSite    = "hdfs-site.xml"
	FileSecret      = "cluster.secret"
	FileZooCfg      = "zoo.cfg"
	FileZooKeeperID = "myid"
)

// Check is how apply tells a started daemon serves.
type Check int

const (
	// CheckZooKeeperRuok: the host's ZooKeeper client port answers "ruok"
	// with "imok".
	CheckZooKeeperRuok Check = iota + 1
	// CheckJournalRPC: the host's JournalNode RPC port accepts TCP.
	CheckJournalRPC
	// CheckNameNodeHA: the NameNode's signed GET /ha/status says active or
	// standby (not initializing).
	CheckNameNodeHA
	// CheckZKFCStatus: the ZKFC's GET /zkfc/status answers.
	CheckZKFCStatus
	// CheckDataNode: the DataNode's signed GET /dn/status says ready
	// (registered with a NameNode of every nameservice), so a rolling
	// restart may take the next one down.
	CheckDataNode
)

// Args is what a daemon's command line is built from.
type Args struct {
	ID      ID
	Binary  string // the installed hactl
	ConfDir string // core-site.xml, hdfs-site.xml
	LogDir  string
	ZooCfg  string // the managed ZooKeeper's zoo.cfg
}

// Spec is everything hactl knows of one daemon kind that is not its runtime
// package: adding a kind is one entry here plus that package.
type Spec struct {
	Kind  Kind
	Title string // as the operator reads it: "NameNode"
	// PerNameNode: one daemon per NameNode (identity with nameservice and
	// NameNode ID); otherwise one per host.
	PerNameNode bool
	// ConfigFiles are hashed, in this order, into the configuration hash the
	// daemon is started with (planner.CombinedSHA256): a change to any of
	// them restarts it.
	ConfigFiles []string
	// ConfigName names ConfigFiles in plan reasons ("zoo.cfg changed");
	// "" is the Hadoop configuration.
	ConfigName string
	// RunsHactl: the daemon is the hactl binary, so installing another
	// binary restarts it.
	RunsHactl bool
	// Argv is its command line under the supervisor.
	Argv func(a Args) []string
	// Ready is how apply waits for it to serve.
	Ready Check
	// ParallelStart: starting it disturbs nothing that runs (a new member of
	// a quorum, not a NameNode that may become active), so apply starts it on
	// every host at once.
	ParallelStart bool
	// StatusColumn, for a per-NameNode kind other than the NameNode itself,
	// is the column of the status NameNode table that shows whether it runs.
	StatusColumn string
}

// Registry is every kind, in stop order: a shutdown stops DataNodes first
// (a NameNode going away first would only make them retry), then ZKFCs (so
// no failover races it), then NameNodes, JournalNodes, ZooKeeper last.
var Registry = []Spec{
	{
		// One per host, serving every nameservice (federation), as Hadoop's.
		// Started after the NameNodes are up; starting one disturbs nothing.
		Kind: DataNode, Title: "DataNode", RunsHactl: true, ParallelStart: true,
		ConfigFiles: []string{FileCoreSite, FileHDFSSite},
		Argv: func(a Args) []string {
			return []string{a.Binary, "runtime", "datanode", "--conf", a.ConfDir}
		},
		Ready: CheckDataNode,
	},
	{
		Kind: ZKFC, Title: "ZKFC", PerNameNode: true, RunsHactl: true,
		ConfigFiles: []string{FileCoreSite, FileHDFSSite},
		Argv: func(a Args) []string {
			return []string{a.Binary, "runtime", "zkfc", "--conf", a.ConfDir,
				"--id", a.ID.NameNode, "--nameservice", a.ID.Nameservice}
		},
		Ready: CheckZKFCStatus, StatusColumn: "ZKFC",
	},
	{
		Kind: NameNode, Title: "NameNode", PerNameNode: true, RunsHactl: true,
		ConfigFiles: []string{FileCoreSite, FileHDFSSite},
		Argv: func(a Args) []string {
			return []string{a.Binary, "runtime", "namenode", "--conf", a.ConfDir,
				"--nameservice", a.ID.Nameservice, "--id", a.ID.NameNode}
		},
		Ready: CheckNameNodeHA,
	},
	{
		Kind: JournalNode, Title: "JournalNode", RunsHactl: true, ParallelStart: true,
		ConfigFiles: []string{FileCoreSite, FileHDFSSite},
		Argv: func(a Args) []string {
			return []string{a.Binary, "runtime", "journalnode", "--conf", a.ConfDir}
		},
		Ready: CheckJournalRPC,
	},
	{
		Kind: ZooKeeper, Title: "ZooKeeper", ParallelStart: true,
		ConfigFiles: []string{FileZooCfg, FileZooKeeperID}, ConfigName: "zoo.cfg",
		Argv: func(a Args) []string {
			// Debian's layout: every jar of /usr/share/java on the class
			// path, as zkServer.sh does; exec so the supervisor signals java
			// itself.
			script := `exec java -cp "$(ls /usr/share/java/*.jar | tr '\n' ':')" -Dzookeeper.log.dir=` + shq(a.LogDir) +
				` org.apache.zookeeper.server.quorum.QuorumPeerMain ` + shq(a.ZooCfg)
			return []string{"/bin/sh", "-c", script}
		},
		Ready: CheckZooKeeperRuok,
	},
}

// StopRank orders a shutdown: lower stops first; an unknown kind last.
func StopRank(k Kind) int {
	for i, s := range Registry {
		if s.Kind == k {
			return i
		}
	}
	return len(Registry)
}

// shq quotes s for a POSIX shell as targets.ShellQuote does (a path of
// plain characters stays bare), so the command line, which the supervisor
// record keeps, reads the same whichever package built it.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
