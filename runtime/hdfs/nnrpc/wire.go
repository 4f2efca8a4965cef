package nnrpc

import (
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// PathPrefix is where the NameNode mounts Handler on its HTTP mux.
const PathPrefix = "/nnrpc/v1/"

// The calls' paths under PathPrefix, Hadoop's method names.
const (
	opCreate                 = "client/create"
	opAppend                 = "client/append"
	opAddBlock               = "client/addBlock"
	opAbandonBlock           = "client/abandonBlock"
	opComplete               = "client/complete"
	opGetBlockLocations      = "client/getBlockLocations"
	opGetAdditionalDatanode  = "client/getAdditionalDatanode"
	opUpdateBlockForPipeline = "client/updateBlockForPipeline"
	opUpdatePipeline         = "client/updatePipeline"
	opFsync                  = "client/fsync"
	opRenewLease             = "client/renewLease"
	opRecoverLease           = "client/recoverLease"
	opGetDatanodeReport      = "client/getDatanodeReport"
	opClientReportBadBlocks  = "client/reportBadBlocks"
	opGetServerDefaults      = "client/getServerDefaults"

	opVersionRequest             = "datanode/versionRequest"
	opRegisterDatanode           = "datanode/registerDatanode"
	opSendHeartbeat              = "datanode/sendHeartbeat"
	opBlockReport                = "datanode/blockReport"
	opBlockReceivedAndDeleted    = "datanode/blockReceivedAndDeleted"
	opDatanodeReportBadBlocks    = "datanode/reportBadBlocks"
	opCommitBlockSynchronization = "datanode/commitBlockSynchronization"
)

// Argument and result bodies. Renaming a tag is a protocol change.

type createArgs struct {
	Path       string             `json:"path"`
	ClientName string             `json:"clientName"`
	Opts       hdfs.CreateOptions `json:"opts"`
	User       string             `json:"user"`
}

type appendArgs struct {
	Path       string `json:"path"`
	ClientName string `json:"clientName"`
	User       string `json:"user"`
}

type appendResult struct {
	Block  *hdfs.LocatedBlock `json:"block,omitempty"`
	Status webhdfs.FileStatus `json:"status"`
}

type addBlockArgs struct {
	Path       string              `json:"path"`
	ClientName string              `json:"clientName"`
	Previous   *hdfs.ExtendedBlock `json:"previous,omitempty"`
	Excluded   []hdfs.DatanodeID   `json:"excluded,omitempty"`
	FileID     int64               `json:"fileId"`
	User       string              `json:"user"`
}

type abandonBlockArgs struct {
	Block      hdfs.ExtendedBlock `json:"b"`
	FileID     int64              `json:"fileId"`
	Path       string             `json:"path"`
	ClientName string             `json:"clientName"`
	User       string             `json:"user"`
}

type completeArgs struct {
	Path       string              `json:"path"`
	ClientName string              `json:"clientName"`
	Last       *hdfs.ExtendedBlock `json:"last,omitempty"`
	FileID     int64               `json:"fileId"`
	User       string              `json:"user"`
}

type boolResult struct {
	Boolean bool `json:"boolean"`
}

type getBlockLocationsArgs struct {
	Path   string `json:"path"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	User   string `json:"user"`
}

type getAdditionalDatanodeArgs struct {
	Path          string              `json:"path"`
	FileID        int64               `json:"fileId"`
	Block         hdfs.ExtendedBlock  `json:"b"`
	Existing      []hdfs.DatanodeInfo `json:"existing"`
	Excluded      []hdfs.DatanodeID   `json:"excluded,omitempty"`
	NumAdditional int                 `json:"numAdditional"`
	ClientName    string              `json:"clientName"`
	User          string              `json:"user"`
}

type updateBlockForPipelineArgs struct {
	Block      hdfs.ExtendedBlock `json:"b"`
	ClientName string             `json:"clientName"`
	User       string             `json:"user"`
}

type updatePipelineArgs struct {
	ClientName string             `json:"clientName"`
	OldBlock   hdfs.ExtendedBlock `json:"oldBlock"`
	NewBlock   hdfs.ExtendedBlock `json:"newBlock"`
	NewNodes   []hdfs.DatanodeID  `json:"newNodes"`
	User       string             `json:"user"`
}

type fsyncArgs struct {
	Path            string `json:"path"`
	FileID          int64  `json:"fileId"`
	ClientName      string `json:"clientName"`
	LastBlockLength int64  `json:"lastBlockLength"`
	User            string `json:"user"`
}

type renewLeaseArgs struct {
	ClientName string `json:"clientName"`
	User       string `json:"user"`
}

type recoverLeaseArgs struct {
	Path       string `json:"path"`
	ClientName string `json:"clientName"`
	User       string `json:"user"`
}

type getDatanodeReportArgs struct {
	Kind hdfs.DatanodeReportType `json:"type"`
	User string                  `json:"user"`
}

type clientReportBadBlocksArgs struct {
	Blocks []hdfs.LocatedBlock `json:"blocks"`
	User   string              `json:"user"`
}

type noArgs struct{}

type registrationArgs struct {
	Reg hdfs.Registration `json:"reg"`
}

type blockReportArgs struct {
	Reg      hdfs.Registration    `json:"reg"`
	Replicas []hdfs.ReplicaReport `json:"replicas"`
}

type commandsResult struct {
	Commands []hdfs.Command `json:"cmds"`
}

type blockReceivedAndDeletedArgs struct {
	Reg    hdfs.Registration   `json:"reg"`
	Events []hdfs.ReplicaEvent `json:"events"`
}

type datanodeReportBadBlocksArgs struct {
	Reg    hdfs.Registration   `json:"reg"`
	Blocks []hdfs.LocatedBlock `json:"blocks"`
}
