package hdfs

import (
	"context"
	"errors"
)

// ErrNotRegistered: the NameNode does not know the calling DataNode (it
// restarted or declared it dead); the DataNode registers again and sends a
// full block report (org.apache.hadoop.hdfs.protocol.UnregisteredNodeException).
var ErrNotRegistered = errors.New("UnregisteredNodeException")

// NamespaceInfo is the NameNode's answer to the handshake (Hadoop's
// versionRequest): a DataNode refuses a NameNode whose ClusterID differs
// from its storage's, and keeps one block pool per BlockPoolID.
type NamespaceInfo struct {
	NamespaceID     int64  `json:"namespaceID"`
	ClusterID       string `json:"clusterID"`
	BlockPoolID     string `json:"blockPoolID"`
	SoftwareVersion string `json:"softwareVersion"`
}

// StorageReport is one data dir's figures in a heartbeat.
type StorageReport struct {
	StorageUUID   string `json:"storageUuid"` // "DS-<uuid>", stable per data dir
	Failed        bool   `json:"failed"`
	Capacity      int64  `json:"capacity"`
	DFSUsed       int64  `json:"dfsUsed"`
	Remaining     int64  `json:"remaining"`
	BlockPoolUsed int64  `json:"blockPoolUsed"`
}

// Registration is a DataNode's registration with one block pool (Hadoop's
// DatanodeRegistration).
type Registration struct {
	DatanodeID
	ClusterID       string   `json:"clusterID"`
	BlockPoolID     string   `json:"blockPoolID"`
	StorageUUIDs    []string `json:"storageUuids"`
	SoftwareVersion string   `json:"softwareVersion"`
}

// Heartbeat is sent every dfs.heartbeat.interval.
type Heartbeat struct {
	Reg           Registration    `json:"reg"`
	Reports       []StorageReport `json:"reports"`
	XceiverCount  int             `json:"xceiverCount"`
	FailedVolumes int             `json:"failedVolumes"`
}

// HAState is a NameNode's state as a heartbeat answer carries it (Hadoop's
// NNHAStatusHeartbeat).
type HAState string

const (
	HAActive  HAState = "active"
	HAStandby HAState = "standby"
)

// NNHAStatus lets a DataNode tell which NameNode to obey: among those
// claiming HAActive it follows the one with the highest Txid it has seen,
// and ignores commands from any other (Hadoop's BPOfferService).
type NNHAStatus struct {
	State HAState `json:"state"`
	// Txid is the NameNode's last applied txid; an active claims at
	// least the first txid of the segment it opened (Hadoop's
	// OP_START_LOG_SEGMENT txid), so a new active's claim is above its
	// predecessor's from its first answer.
	Txid int64 `json:"txid"`
}

// HeartbeatResponse carries commands and the NameNode's HA status.
type HeartbeatResponse struct {
	Commands []Command  `json:"cmds"`
	HAStatus NNHAStatus `json:"haStatus"`
}

// CommandAction is what a Command asks (Hadoop's DatanodeProtocol DNA_*).
type CommandAction string

const (
	// ActionTransfer: copy each Blocks[i] to Targets[i] (re-replication).
	ActionTransfer CommandAction = "TRANSFER"
	// ActionInvalidate: delete the replicas of Blocks.
	ActionInvalidate CommandAction = "INVALIDATE"
	// ActionRecover: run block recovery of Recovering as its primary.
	ActionRecover CommandAction = "RECOVERBLOCK"
	// ActionRegister: register again, then send a full block report.
	ActionRegister CommandAction = "REGISTER"
)

// RecoveringBlock is a block to recover to NewGenStamp, on Locations
// (Hadoop's RecoveringBlock); the primary DataNode runs the recovery and
// reports with CommitBlockSynchronization.
type RecoveringBlock struct {
	Block       ExtendedBlock  `json:"b"`
	Locations   []DatanodeInfo `json:"locs"`
	NewGenStamp int64          `json:"newGS"`
	// TruncateTo, when set, is the length a truncate recovery cuts to.
	TruncateTo *int64 `json:"truncateTo,omitempty"`
}

// Command is one instruction in a heartbeat answer.
type Command struct {
	Action     CommandAction     `json:"action"`
	PoolID     string            `json:"pool"`
	Blocks     []Block           `json:"blocks,omitempty"`
	Targets    [][]DatanodeInfo  `json:"targets,omitempty"` // ActionTransfer: per block
	Recovering []RecoveringBlock `json:"recovering,omitempty"`
}

// ReplicaState is a replica's state on a DataNode (Hadoop's ReplicaState).
type ReplicaState string

const (
	ReplicaFinalized ReplicaState = "FINALIZED"
	ReplicaRBW       ReplicaState = "RBW" // being written
	ReplicaRWR       ReplicaState = "RWR" // waiting to be recovered (after a restart)
	ReplicaRUR       ReplicaState = "RUR" // under recovery
	ReplicaTemporary ReplicaState = "TEMPORARY"
)

// ReplicaReport is one replica in a full block report.
type ReplicaReport struct {
	Block
	State       ReplicaState `json:"state"`
	StorageUUID string       `json:"storage"`
}

// ReceivedStatus is an incremental report's event (Hadoop's
// ReceivedDeletedBlockInfo.BlockStatus).
type ReceivedStatus string

const (
	StatusReceiving ReceivedStatus = "RECEIVING_BLOCK"
	StatusReceived  ReceivedStatus = "RECEIVED_BLOCK"
	StatusDeleted   ReceivedStatus = "DELETED_BLOCK"
)

// ReplicaEvent is one entry of an incremental block report.
type ReplicaEvent struct {
	Block       Block          `json:"b"`
	Status      ReceivedStatus `json:"status"`
	DelHint     string         `json:"delHint,omitempty"` // UUID of a DataNode whose copy may go (after a move)
	StorageUUID string         `json:"storage"`
}

// CommitSync is block recovery's result (Hadoop's
// commitBlockSynchronization arguments).
type CommitSync struct {
	Block       ExtendedBlock `json:"b"`
	NewGenStamp int64         `json:"newGS"`
	NewLength   int64         `json:"newLength"`
	CloseFile   bool          `json:"closeFile"`
	DeleteBlock bool          `json:"deleteBlock"`
	NewTargets  []DatanodeID  `json:"newTargets"`
	NewStorages []string      `json:"newStorages"`
}

// DatanodeProtocol is what a DataNode calls on each NameNode. Every call
// but VersionRequest and RegisterDatanode answers ErrNotRegistered for an
// unknown DataNode. A standby NameNode serves all of it (it must know block
// locations to take over at once) but answers heartbeats without commands.
type DatanodeProtocol interface {
	VersionRequest(ctx context.Context) (NamespaceInfo, error)
	RegisterDatanode(ctx context.Context, reg Registration) (Registration, error)
	SendHeartbeat(ctx context.Context, hb Heartbeat) (HeartbeatResponse, error)
	// BlockReport is a full report of one block pool's replicas, all
	// storages at once; the NameNode's answer may carry commands.
	BlockReport(ctx context.Context, reg Registration, replicas []ReplicaReport) ([]Command, error)
	// BlockReceivedAndDeleted is an incremental report.
	BlockReceivedAndDeleted(ctx context.Context, reg Registration, events []ReplicaEvent) error
	// ReportBadBlocks names replicas found corrupt (by the scanner or a reader).
	ReportBadBlocks(ctx context.Context, reg Registration, blocks []LocatedBlock) error
	CommitBlockSynchronization(ctx context.Context, c CommitSync) error
}
