// Package planner is hactl's pure core: given the desired cluster (schema) and
// the observed state of the hosts, it returns the ordered steps that converge
// one to the other. No I/O, no clock.
package planner

// Observed is what a probe found on every host, plus ZooKeeper's state.
// targets builds it from each host's probe (its shell preflight plus the
// installed runtime's report) and saved plans carry it as JSON, so field
// names are part of the plan file's contract.
type Observed struct {
	Hosts     map[string]*ObservedHost `json:"hosts"`     // by host name (schema.Host.Name)
	ZooKeeper *ObservedZooKeeper       `json:"zookeeper"` // nil when not probed
}

// ObservedHost is one host's facts, gathered in one round trip.
type ObservedHost struct {
	Name      string `json:"name"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"` // why it could not be probed

	RuntimeVersion string            `json:"runtime_version,omitempty"` // "" when hactl is not installed
	RuntimeSHA256  string            `json:"runtime_sha256,omitempty"`
	ConfigSHA256   map[string]string `json:"config_sha256,omitempty"` // file name (core-site.xml, hdfs-site.xml, cluster.secret, zoo.cfg, myid) -> sha256
	Supervisor     bool              `json:"supervisor"`              // hactl's supervisor (or systemd units) installed and running

	Daemons            map[string]*ObservedDaemon   `json:"daemons,omitempty"`   // by daemon name: journalnode, namenode-<id>, zkfc-<id>, zookeeper
	NameNodes          map[string]*ObservedNameNode `json:"namenodes,omitempty"` // by "<ns>/<nnid>"
	JournalNodes       map[string]*ObservedJournal  `json:"journals,omitempty"`  // by journal ID
	ZooKeeperInstalled bool                         `json:"zookeeper_installed"`
}

// ObservedDaemon is a supervised process.
type ObservedDaemon struct {
	Running       bool   `json:"running"`
	PID           int    `json:"pid,omitempty"`
	Listening     []int  `json:"listening,omitempty"`      // ports it was seen listening on
	StartedAt     int64  `json:"started_at,omitempty"`     // unix seconds
	ConfigSHA256  string `json:"config_sha256,omitempty"`  // hash of the config it was started with
	RuntimeSHA256 string `json:"runtime_sha256,omitempty"` // hash of the binary it runs
}

// ObservedNameNode is a NameNode's storage and HA state.
type ObservedNameNode struct {
	Nameservice string `json:"nameservice"`
	ID          string `json:"id"`
	Formatted   bool   `json:"formatted"` // current/VERSION exists in a name dir
	HasData     bool   `json:"has_data"`  // any name dir non-empty
	ClusterID   string `json:"cluster_id,omitempty"`
	NamespaceID int64  `json:"namespace_id,omitempty"`
	HAState     string `json:"ha_state,omitempty"` // active | standby | initializing | "" (not running / unknown)
	Healthy     bool   `json:"healthy"`
	LastTxid    int64  `json:"last_txid,omitempty"`
	// Dirs are the name dirs that hold data (formatted or not), for messages.
	Dirs []string `json:"dirs,omitempty"`
}

// ObservedJournal is one journal ID's storage on a JournalNode.
type ObservedJournal struct {
	JournalID         string `json:"journal_id"`
	Formatted         bool   `json:"formatted"`
	HasData           bool   `json:"has_data"`
	ClusterID         string `json:"cluster_id,omitempty"`
	NamespaceID       int64  `json:"namespace_id,omitempty"`
	LastPromisedEpoch int64  `json:"last_promised_epoch,omitempty"`
	LastWriterEpoch   int64  `json:"last_writer_epoch,omitempty"`
	LastTxid          int64  `json:"last_txid,omitempty"`
	CommittedTxid     int64  `json:"committed_txid,omitempty"`
	// Dir is <edits_dir>/<journal ID> on the host, for messages.
	Dir string `json:"dir,omitempty"`
}

// ObservedZooKeeper is the quorum's health and the HA znodes.
type ObservedZooKeeper struct {
	Reachable    bool            `json:"reachable"`
	Error        string          `json:"error,omitempty"`
	ServersUp    []string        `json:"servers_up,omitempty"`    // host names (managed) or host:port (external) answering
	ParentZnodes map[string]bool `json:"parent_znodes,omitempty"` // nameservice -> /hadoop-ha/<ns> exists
	// ActiveNameNodes maps nameservice -> NameNode ID named in ActiveBreadCrumb.
	ActiveNameNodes map[string]string `json:"active_namenodes,omitempty"`
}
