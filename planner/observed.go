// Package planner is hactl's pure core: given the desired cluster (schema) and
// the observed state of the hosts, it returns the ordered steps that converge
// one to the other. No I/O, no clock.
package planner

import (
	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

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

	Daemons            map[string]*ObservedDaemon   `json:"daemons,omitempty"`   // by supervisor name (daemon.ID.Name); see AdoptLegacyDaemons
	NameNodes          map[string]*ObservedNameNode `json:"namenodes,omitempty"` // by "<ns>/<nnid>"
	JournalNodes       map[string]*ObservedJournal  `json:"journals,omitempty"`  // by journal ID
	ZooKeeperInstalled bool                         `json:"zookeeper_installed"`
	// StorageUnrecorded are the NameNode name dirs and JournalNode edits
	// dirs the configuration puts on the host that the host's storage record
	// (kept next to the secret, see targets.StorageRecord) does not name: a
	// cluster applied by an hactl older than the record, or a record lost.
	StorageUnrecorded []string `json:"storage_unrecorded,omitempty"`
}

// ObservedDaemon is a supervised process.
type ObservedDaemon struct {
	Running       bool   `json:"running"`
	PID           int    `json:"pid,omitempty"`
	Listening     []int  `json:"listening,omitempty"`      // ports it was seen listening on
	StartedAt     int64  `json:"started_at,omitempty"`     // unix seconds
	ConfigSHA256  string `json:"config_sha256,omitempty"`  // hash of the config it was started with
	RuntimeSHA256 string `json:"runtime_sha256,omitempty"` // hash of the binary it runs
	// Record is the supervisor record's name when it is not the key: a
	// daemon an earlier hactl started under a legacy name ("namenode-nn1"),
	// adopted under its identity. Stopping it stops Record.
	Record string `json:"record,omitempty"`

	// The supervisor's view (its record, or the systemd unit's state).
	State           string `json:"state,omitempty"`            // running | backoff | failed | starting | stopping | stopped
	SupervisorAlive bool   `json:"supervisor_alive,omitempty"` // its supervisor lives (a unit is active or activating): it keeps the daemon up, or brings it back
	Restarts        int    `json:"restarts,omitempty"`
	LastExit        string `json:"last_exit,omitempty"`
	NextStartIn     int    `json:"next_start_in_s,omitempty"` // seconds until a supervisor in backoff starts it again
	// Unrecorded are processes of this daemon, or supervisors of it, under
	// the host's paths that no live record names (a lost record).
	Unrecorded []int `json:"unrecorded_pids,omitempty"`
}

// Daemon is the observed daemon of identity id (nil when none).
func (h *ObservedHost) Daemon(id daemon.ID) *ObservedDaemon {
	if h == nil {
		return nil
	}
	return h.Daemons[id.Name()]
}

// AdoptLegacyDaemons files the daemons an earlier hactl named without their
// nameservice ("namenode-nn1", "zkfc-nn1") under their identity, with Record
// keeping the record's name, when the identity is unambiguous: exactly one
// nameservice of c has a NameNode of that ID on the host, or, when several
// do, exactly one of them has formatted storage there. An ambiguous one, or
// one c no longer names, stays under its legacy name: plan stops it as a
// daemon that is no longer in the configuration. A legacy record whose
// identity also has a current record stays too (two copies: the legacy one
// is stopped).
func AdoptLegacyDaemons(c *schema.Cluster, host string, oh *ObservedHost) {
	if oh == nil {
		return
	}
	for _, name := range sortedKeys(oh.Daemons) {
		l, ok := daemon.ParseLegacy(name)
		if !ok {
			continue
		}
		var nss, formatted []string
		for _, ns := range c.Nameservices {
			if nn := ns.NameNode(l.NameNode); nn != nil && nn.Host == host {
				nss = append(nss, ns.Name)
				if o := oh.NameNodes[NameNodeKey(ns.Name, nn.ID)]; o != nil && o.Formatted {
					formatted = append(formatted, ns.Name)
				}
			}
		}
		if len(nss) > 1 {
			nss = formatted
		}
		id, ok := l.Resolve(nss)
		if !ok || oh.Daemons[id.Name()] != nil {
			continue
		}
		d := oh.Daemons[name]
		d.Record = name
		oh.Daemons[id.Name()] = d
		delete(oh.Daemons, name)
	}
}

// StateSupervisorGone is ObservedDaemon.State when the record's supervisor
// no longer runs although the record says it should (killed, or the host
// rebooted): nobody keeps the daemon up.
const StateSupervisorGone = "dead"

// Supervised reports whether stopping the daemon has anything to do: it
// runs, its supervisor lives (also between restarts, with no daemon up), its
// record is failed and not cleared, or processes of it run that no record
// names. Stop steps key on this, not on Running.
func (d *ObservedDaemon) Supervised() bool {
	return d != nil && (d.Running || d.SupervisorAlive || d.State == "failed" || len(d.Unrecorded) > 0)
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
