package hdfs

import (
	"context"
	"errors"
	"io/fs"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// Errors of the block calls, besides webhdfs's sentinels. Transports map each
// to the Hadoop exception named in its message.
var (
	// ErrLeaseExpired: the caller does not hold the file's lease
	// (org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException).
	ErrLeaseExpired = errors.New("LeaseExpiredException")
	// ErrAlreadyBeingCreated: another client holds the lease
	// (org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException).
	ErrAlreadyBeingCreated = errors.New("AlreadyBeingCreatedException")
	// ErrNotReplicatedYet: the previous block has not reached its minimum
	// replication; the client retries addBlock
	// (org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException).
	ErrNotReplicatedYet = errors.New("NotReplicatedYetException")
	// ErrSafeMode: the NameNode is in safe mode
	// (org.apache.hadoop.hdfs.server.namenode.SafeModeException).
	ErrSafeMode = errors.New("SafeModeException")
	// ErrRecoveryInProgress: lease recovery of the file is under way
	// (org.apache.hadoop.hdfs.protocol.RecoveryInProgressException).
	ErrRecoveryInProgress = errors.New("RecoveryInProgressException")
	// ErrNoDatanodes: not enough DataNodes to place a block
	// (an IOException: "could only be written to 0 of the 1 minReplication nodes").
	ErrNoDatanodes = errors.New("not enough DataNodes")
)

// CreateOptions are create's arguments besides the path (Hadoop's create:
// masked permission, CreateFlag OVERWRITE, createParent, replication,
// blockSize).
type CreateOptions struct {
	Perm         fs.FileMode `json:"perm"`
	Overwrite    bool        `json:"overwrite"`
	CreateParent bool        `json:"createParent"`
	Replication  int16       `json:"replication"` // 0: dfs.replication
	BlockSize    int64       `json:"blockSize"`   // 0: dfs.blocksize
}

// DatanodeReportType selects getDatanodeReport's DataNodes.
type DatanodeReportType string

const (
	ReportAll  DatanodeReportType = "ALL"
	ReportLive DatanodeReportType = "LIVE"
	ReportDead DatanodeReportType = "DEAD"
	// ReportDecommissioning: DataNodes in DECOMMISSION_INPROGRESS.
	ReportDecommissioning DatanodeReportType = "DECOMMISSIONING"
)

// SafeModeAction is setSafeMode's action (Hadoop's SafeModeAction, with
// its wire numbers).
type SafeModeAction int

const (
	SafeModeLeave     SafeModeAction = 1 // dfsadmin -safemode leave
	SafeModeEnter     SafeModeAction = 2 // dfsadmin -safemode enter
	SafeModeGet       SafeModeAction = 3 // dfsadmin -safemode get (and wait)
	SafeModeForceExit SafeModeAction = 4 // dfsadmin -safemode forceExit
)

// ParseSafeModeAction reads dfsadmin's spelling of an action.
func ParseSafeModeAction(s string) (SafeModeAction, bool) {
	switch s {
	case "leave":
		return SafeModeLeave, true
	case "enter":
		return SafeModeEnter, true
	case "get":
		return SafeModeGet, true
	case "forceExit":
		return SafeModeForceExit, true
	}
	return 0, false
}

// ClientProtocol is the NameNode's side of writing and reading file data
// (Hadoop's ClientProtocol, block calls). clientName identifies the writer
// holding a file's lease (Hadoop's DFSClient_<…> name). fileID is the
// inode id create returned (FileStatus.FileID); 0 means "by path only".
//
// A standby answers every call with webhdfs.ErrStandby (category READ for
// GetBlockLocations and GetServerDefaults, WRITE for the others).
type ClientProtocol interface {
	// Create makes an empty file under construction leased to clientName
	// and returns its status. No block is allocated yet.
	Create(ctx context.Context, path, clientName string, opts CreateOptions, user string) (webhdfs.FileStatus, error)
	// Append reopens a closed file for clientName. When the file's last
	// block is partial it is returned (under construction again, with a
	// new generation stamp) and the writer continues it; otherwise nil.
	Append(ctx context.Context, path, clientName, user string) (*LocatedBlock, webhdfs.FileStatus, error)
	// AddBlock commits previous (its final length) and allocates the next
	// block on DataNodes chosen by the placement policy, never one of
	// excluded. ErrNotReplicatedYet while previous lacks minimum replicas.
	AddBlock(ctx context.Context, path, clientName string, previous *ExtendedBlock, excluded []DatanodeID, fileID int64, user string) (LocatedBlock, error)
	// AbandonBlock drops a block the client could not write.
	AbandonBlock(ctx context.Context, b ExtendedBlock, fileID int64, path, clientName, user string) error
	// Complete commits last and closes the file: true once every block has
	// its minimum replication (the client retries on false).
	Complete(ctx context.Context, path, clientName string, last *ExtendedBlock, fileID int64, user string) (bool, error)
	// GetBlockLocations returns the blocks overlapping [offset, offset+length).
	GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (LocatedBlocks, error)
	// GetAdditionalDatanode picks numAdditional more DataNodes for a
	// pipeline that lost some (pipeline recovery).
	GetAdditionalDatanode(ctx context.Context, path string, fileID int64, b ExtendedBlock, existing []DatanodeInfo, excluded []DatanodeID, numAdditional int, clientName, user string) (LocatedBlock, error)
	// UpdateBlockForPipeline gives a block being written a new generation
	// stamp, for pipeline recovery.
	UpdateBlockForPipeline(ctx context.Context, b ExtendedBlock, clientName, user string) (LocatedBlock, error)
	// UpdatePipeline records the recovered pipeline: newBlock (same id, the
	// stamp UpdateBlockForPipeline gave, the length acknowledged) on newNodes.
	UpdatePipeline(ctx context.Context, clientName string, oldBlock, newBlock ExtendedBlock, newNodes []DatanodeID, user string) error
	// Fsync persists the length of the file's last block (hflush/hsync).
	Fsync(ctx context.Context, path string, fileID int64, clientName string, lastBlockLength int64, user string) error
	// RenewLease keeps every lease of clientName alive.
	RenewLease(ctx context.Context, clientName, user string) error
	// RecoverLease starts lease recovery of path; true when the file is
	// already closed.
	RecoverLease(ctx context.Context, path, clientName, user string) (bool, error)
	// GetDatanodeReport lists DataNodes.
	GetDatanodeReport(ctx context.Context, kind DatanodeReportType, user string) ([]DatanodeInfo, error)
	// ReportBadBlocks names replicas a reader found corrupt.
	ReportBadBlocks(ctx context.Context, blocks []LocatedBlock, user string) error
	// GetServerDefaults returns the defaults writers use.
	GetServerDefaults(ctx context.Context) (ServerDefaults, error)
}

type clientMachineKey struct{}

// WithClientMachine tells the NameNode, through ctx, the host a
// ClientProtocol caller writes from (Hadoop takes it from the RPC
// connection): placement puts a new block's first replica on a DataNode of
// that host when there is one, and GetBlockLocations lists it first. A
// transport sets it from the caller's address or the DataNode's own host.
func WithClientMachine(ctx context.Context, host string) context.Context {
	return context.WithValue(ctx, clientMachineKey{}, host)
}

// ClientMachine returns the host WithClientMachine set ("" when none).
func ClientMachine(ctx context.Context) string {
	s, _ := ctx.Value(clientMachineKey{}).(string)
	return s
}

type retryIDsKey struct{}

type retryIDs struct {
	client []byte
	call   int32
}

// WithRetryIDs tells the NameNode, through ctx, the client id and call id of
// an at-most-once call (Hadoop's rpcClientId and rpcCallId): the edit it
// logs carries them, so whichever NameNode applies the edit (the active, or
// a standby tailing it) remembers the call's answer and a retry of it after
// a failover is answered, not run again. A transport sets it only for the
// calls Hadoop marks @AtMostOnce; a nil client clears it (a call made on
// the caller's behalf that is not the answer, as rename2's delete).
func WithRetryIDs(ctx context.Context, clientID []byte, callID int32) context.Context {
	return context.WithValue(ctx, retryIDsKey{}, retryIDs{clientID, callID})
}

// RetryIDs returns what WithRetryIDs set; ok is false without a client id.
func RetryIDs(ctx context.Context) (clientID []byte, callID int32, ok bool) {
	v, _ := ctx.Value(retryIDsKey{}).(retryIDs)
	return v.client, v.call, len(v.client) > 0
}
