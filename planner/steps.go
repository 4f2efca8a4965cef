package planner

import (
	"slices"

	"github.com/hactl/hactl/internal/daemon"
)

// Action is what a step does. The names are the vocabulary of the plan output
// and of the plan file (part of its format).
type Action string

// StepKind is one kind of plan step: its action and what the planner and the
// executor need to know of it. A new kind of step is an Action here, its row
// in stepKinds, and its runner: one file in internal/apply that registers
// itself (apply.Register); nothing else lists the kinds.
type StepKind struct {
	Action Action
	// Change is how the step shows in the plan and counts in its summary
	// (a step may say otherwise, e.g. an update of the installed runtime).
	Change Change
	// HostLocal steps touch only their own host and no running service's
	// availability: apply runs consecutive ones on every host at once
	// (each host's still in plan order).
	HostLocal bool
}

// The actions that are not a daemon's start, restart or stop (those come
// from the daemon registry: DaemonAction).
const (
	ActInstallRuntime Action = "install-runtime"
	ActWriteConfig    Action = "write-config"
	// ActRecordStorage adds the configuration's storage dirs to the host's
	// storage record where write-config does not run (it records them
	// itself); it touches no data.
	ActRecordStorage        Action = "record-storage"
	ActInstallZooKeeper     Action = "install-zookeeper"
	ActWriteZooKeeperConfig Action = "write-zookeeper-config"
	ActFormatNameNode       Action = "format-namenode"
	ActBootstrapStandby     Action = "bootstrap-standby"
	ActFormatZK             Action = "format-zk"
	ActTransitionToActive   Action = "transition-to-active"
	ActFailover             Action = "failover"
	ActSyncJournal          Action = "sync-journal"
	ActVerifyHA             Action = "verify-ha"
	ActRemoveConfig         Action = "remove-config"
	ActRemoveRuntime        Action = "remove-runtime"
	ActPurgeData            Action = "purge-data"
	// ActVerifyStopped checks destroy's postcondition on a host before its
	// files go: no hactl process, no listener on a daemon's address.
	ActVerifyStopped Action = "verify-stopped"
	// ActDecommissionDataNode moves a removed DataNode's replicas elsewhere
	// before it stops (Hadoop's dfs.hosts.exclude and refreshNodes): its
	// address goes into the exclude file on every NameNode host, every
	// NameNode re-reads it, and the step waits until each reports the
	// DataNode Decommissioned.
	ActDecommissionDataNode Action = "decommission-datanode"
)

// stepKinds is every kind of step that is not a daemon's start, restart or
// stop, roughly in the order a fresh cluster needs them.
var stepKinds = []StepKind{
	{Action: ActInstallRuntime, Change: ChangeCreate, HostLocal: true},
	{Action: ActWriteConfig, Change: ChangeCreate, HostLocal: true},
	{Action: ActRecordStorage, Change: ChangeUpdate, HostLocal: true},
	{Action: ActInstallZooKeeper, Change: ChangeCreate, HostLocal: true},
	{Action: ActWriteZooKeeperConfig, Change: ChangeCreate, HostLocal: true},
	{Action: ActFormatNameNode, Change: ChangeCreate},
	{Action: ActBootstrapStandby, Change: ChangeCreate},
	{Action: ActFormatZK, Change: ChangeCreate},
	{Action: ActTransitionToActive, Change: ChangeUpdate},
	{Action: ActFailover, Change: ChangeUpdate},
	{Action: ActSyncJournal, Change: ChangeUpdate},
	{Action: ActDecommissionDataNode, Change: ChangeUpdate},
	{Action: ActVerifyHA, Change: ChangeRead},
	{Action: ActVerifyStopped, Change: ChangeRead},
	{Action: ActRemoveConfig, Change: ChangeDestroy, HostLocal: true},
	{Action: ActRemoveRuntime, Change: ChangeDestroy, HostLocal: true},
	{Action: ActPurgeData, Change: ChangeDestroy, HostLocal: true},
}

// The start, restart and stop actions of each daemon kind (DaemonAction),
// named for the planner's and tests' use.
const (
	ActStartZooKeeper     = Action("start-" + daemon.ZooKeeper)
	ActRestartZooKeeper   = Action("restart-" + daemon.ZooKeeper)
	ActStopZooKeeper      = Action("stop-" + daemon.ZooKeeper)
	ActStartJournalNode   = Action("start-" + daemon.JournalNode)
	ActRestartJournalNode = Action("restart-" + daemon.JournalNode)
	ActStopJournalNode    = Action("stop-" + daemon.JournalNode)
	ActStartNameNode      = Action("start-" + daemon.NameNode)
	ActRestartNameNode    = Action("restart-" + daemon.NameNode)
	ActStopNameNode       = Action("stop-" + daemon.NameNode)
	ActStartZKFC          = Action("start-" + daemon.ZKFC)
	ActRestartZKFC        = Action("restart-" + daemon.ZKFC)
	ActStopZKFC           = Action("stop-" + daemon.ZKFC)
	ActStartDataNode      = Action("start-" + daemon.DataNode)
	ActRestartDataNode    = Action("restart-" + daemon.DataNode)
	ActStopDataNode       = Action("stop-" + daemon.DataNode)
)

// The verbs of a daemon's steps.
const (
	VerbStart   = "start"
	VerbRestart = "restart"
	VerbStop    = "stop"
)

// DaemonAction is the start, restart or stop action of a daemon kind
// ("start-namenode"): every kind of the daemon registry has the three.
func DaemonAction(verb string, k daemon.Kind) Action { return Action(verb + "-" + string(k)) }

// daemonStepKinds are the start, restart and stop of every registered daemon
// kind: a start is host-local when the kind's registry entry says starting
// it disturbs nothing that runs (ParallelStart).
func daemonStepKinds() []StepKind {
	var out []StepKind
	for _, s := range daemon.Registry {
		out = append(out,
			StepKind{Action: DaemonAction(VerbStart, s.Kind), Change: ChangeCreate, HostLocal: s.ParallelStart},
			StepKind{Action: DaemonAction(VerbRestart, s.Kind), Change: ChangeReplace},
			StepKind{Action: DaemonAction(VerbStop, s.Kind), Change: ChangeDestroy})
	}
	return out
}

// StepKinds is every kind of step this build plans and runs.
func StepKinds() []StepKind { return append(slices.Clone(stepKinds), daemonStepKinds()...) }

// KindOf is the step kind of action a (false for an action this build does
// not know, e.g. from a newer hactl's plan file).
func KindOf(a Action) (StepKind, bool) {
	for _, k := range StepKinds() {
		if k.Action == a {
			return k, true
		}
	}
	return StepKind{}, false
}
