package namenode

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/hactl/hactl/runtime/jmx"
)

// activity holds the NameNodeActivity counters (Hadoop's NameNodeMetrics),
// counted when a call succeeds as Hadoop's RPC server counts them.
type activity struct {
	createFileOps, filesCreated, filesAppended, getBlockLocations, filesRenamed,
	getListingOps, deleteFileOps, filesDeleted, fileInfoOps atomic.Int64
	// Hadoop's MutableRates: Transactions times an edit's logging (the
	// append to the writer's buffer), Syncs each journal flush, which under
	// group commit carries several edits (TransactionsBatchedInSync counts
	// the edits a flush carried beyond one).
	transactions, syncs jmx.Rate
	batchedInSync       atomic.Int64
	syncsFromWriter     atomic.Bool // the writer reports its flushes (qjm); else each mutation's wait counts
}

// blockFigures are the DataNode, block and capacity figures monitors read.
// hactl's NameNode keeps file data inline in the namespace: there are no
// DataNodes and no blocks, so these are the true values of an HDFS with no
// DataNode registered (all zero), computed here rather than written as
// literals so that they read from one place once DataNodes exist.
type blockFigures struct {
	live, dead                     int64
	capacity, used, remaining      int64
	blocks, missing, underRepl     int64
	pendingRepl, pendingDel, xceiv int64
}

func (n *NameNode) blockFigures() blockFigures { return blockFigures{} }

// percent is Hadoop's DFSUtilClient.getPercentUsed/getPercentRemaining:
// with no capacity, used is 100% and remaining 0%.
func percent(part, capacity int64, emptyIs float32) float32 {
	if capacity <= 0 {
		return emptyIs
	}
	return float32(part) * 100 / float32(capacity)
}

// Beans returns the JMX beans the NameNode publishes, in Hadoop's names.
func (n *NameNode) Beans(ctx context.Context) []jmx.Bean {
	s := n.State()
	t := n.Totals()
	jns := n.jnStatus(ctx)
	lagTxns, lagMs := n.tailLag(jns)
	hostPort := n.cfg.RPCAddr
	if hostPort == "" {
		hostPort = n.cfg.HTTPAddr
	}
	host := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		host = h
	}
	n.mu.RLock()
	info := n.info
	n.mu.RUnlock()
	bf := n.blockFigures()
	inodes := t.Files + t.Dirs
	lagTotal, lagRecent, lagMax := n.applyLag.snapshot(n.nowMs())
	fsState := "Operational"
	if s != StateActive && s != StateStandby {
		fsState = "safeMode"
	}
	dirs := map[string]string{}
	for _, d := range n.cfg.NameDirs {
		dirs[d] = "IMAGE_AND_EDITS"
	}
	a := &n.act
	actAttrs := map[string]any{
		"tag.ProcessName": "NameNode", "tag.SessionId": nil, "tag.Context": "dfs", "tag.Hostname": host,
		"CreateFileOps": a.createFileOps.Load(), "FilesCreated": a.filesCreated.Load(),
		"FilesAppended": a.filesAppended.Load(), "GetBlockLocations": a.getBlockLocations.Load(),
		"FilesRenamed": a.filesRenamed.Load(), "GetListingOps": a.getListingOps.Load(),
		"DeleteFileOps": a.deleteFileOps.Load(), "FilesDeleted": a.filesDeleted.Load(),
		"FileInfoOps": a.fileInfoOps.Load(), "TransactionsBatchedInSync": a.batchedInSync.Load(),
	}
	a.transactions.AddAttrs(actAttrs, "Transactions")
	a.syncs.AddAttrs(actAttrs, "Syncs")
	return []jmx.Bean{
		{
			Name: "Hadoop:service=NameNode,name=NameNodeStatus", ModelerType: "org.apache.hadoop.hdfs.server.namenode.NameNode",
			Attrs: map[string]any{
				"NNRole": "NameNode", "HostAndPort": hostPort, "SecurityEnabled": false,
				"LastHATransitionTime": n.lastTransition.Load(), "BytesWithFutureGenerationStamps": int64(0),
				"SlowPeersReport": nil, "SlowDisksReport": nil, "State": s.String(),
			},
		},
		{
			Name: "Hadoop:service=NameNode,name=FSNamesystem", ModelerType: "FSNamesystem", Record: "FSNamesystem",
			Attrs: map[string]any{
				"tag.Context": "dfs", "tag.HAState": s.String(), "tag.Hostname": host,
				"MissingBlocks": bf.missing, "MissingReplOneBlocks": int64(0), "ExpiredHeartbeats": int64(0),
				"TransactionsSinceLastCheckpoint": t.LastTxid - t.LastCheckpointTxid,
				"LastWrittenTransactionId":        t.LastTxid,
				"LastCheckpointTime":              t.LastCheckpointTime.UnixMilli(),
				"CapacityTotal":                   bf.capacity, "CapacityTotalGB": float32(bf.capacity) / (1 << 30),
				"CapacityUsed": bf.used, "CapacityUsedGB": float32(bf.used) / (1 << 30),
				"CapacityRemaining": bf.remaining, "CapacityRemainingGB": float32(bf.remaining) / (1 << 30),
				"CapacityUsedNonDFS": int64(0), "TotalLoad": bf.xceiv,
				"BlocksTotal": bf.blocks, "UnderReplicatedBlocks": bf.underRepl, "LowRedundancyBlocks": bf.underRepl,
				"PendingReplicationBlocks": bf.pendingRepl, "PendingDeletionBlocks": bf.pendingDel,
				"CorruptBlocks": int64(0), "ScheduledReplicationBlocks": int64(0), "ExcessBlocks": int64(0),
				"FilesTotal": inodes, "NumLiveDataNodes": bf.live, "NumDeadDataNodes": bf.dead,
				"NumFilesUnderConstruction": int64(0), "TotalSyncCount": a.syncs.NumOps(),
				// hactl's: directories and files apart, and the standby's tail.
				"TotalDirectories": t.Dirs, "TailLagTxns": lagTxns, "TailLagMillis": lagMs, "JournalEpoch": t.Epoch,
				// How long after the active accepted an edit this standby
				// applied it. The quantiles and maximum cover the last one to
				// two minutes (-1: no edit tailed then); the bucket counts are
				// since start, for a monitor to diff two samples.
				"TailApplyLagP50Millis":     LagQuantile(lagRecent, lagMax, 0.50),
				"TailApplyLagP99Millis":     LagQuantile(lagRecent, lagMax, 0.99),
				"TailApplyLagMaxMillis":     lagMax,
				"TailApplyLagBucketsMillis": TailLagBoundsMillis(),
				"TailApplyLagBucketCounts":  lagTotal,
			},
			Counters: map[string]bool{"ExpiredHeartbeats": true, "TotalSyncCount": true},
		},
		{
			Name: "Hadoop:service=NameNode,name=FSNamesystemState", ModelerType: "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
			Attrs: map[string]any{
				"CapacityTotal": bf.capacity, "CapacityUsed": bf.used, "CapacityRemaining": bf.remaining,
				"TotalLoad": bf.xceiv, "BlocksTotal": bf.blocks, "FilesTotal": inodes,
				"UnderReplicatedBlocks": bf.underRepl, "PendingReplicationBlocks": bf.pendingRepl,
				"PendingDeletionBlocks": bf.pendingDel, "ScheduledReplicationBlocks": int64(0),
				"FSState": fsState, "NumLiveDataNodes": bf.live, "NumDeadDataNodes": bf.dead,
				"NumDecomLiveDataNodes": int64(0), "NumDecomDeadDataNodes": int64(0), "NumDecommissioningDataNodes": int64(0),
				"NumStaleDataNodes": int64(0), "VolumeFailuresTotal": int64(0), "EstimatedCapacityLostTotal": int64(0),
				"MaxObjects": int64(0), "SnapshotStats": `{"SnapshottableDirectories":0,"Snapshots":0}`,
				"TotalSyncCount": a.syncs.NumOps(),
			},
		},
		{
			Name: "Hadoop:service=NameNode,name=NameNodeInfo", ModelerType: "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
			Attrs: map[string]any{
				"Total": bf.capacity, "Used": bf.used, "Free": bf.remaining, "NonDfsUsedSpace": int64(0),
				"PercentUsed": percent(bf.used, bf.capacity, 100), "PercentRemaining": percent(bf.remaining, bf.capacity, 0),
				"BlockPoolUsedSpace": bf.used, "PercentBlockPoolUsed": percent(bf.used, bf.capacity, 100),
				"TotalBlocks": bf.blocks, "TotalFiles": inodes, "NumberOfMissingBlocks": bf.missing,
				"NumberOfMissingBlocksWithReplicationFactorOne": int64(0),
				// No DataNode registers with hactl's NameNode: empty maps.
				"LiveNodes": "{}", "DeadNodes": "{}", "DecomNodes": "{}", "EnteringMaintenanceNodes": "{}",
				"ClusterId": info.ClusterID, "BlockPoolId": info.BlockPoolID,
				"Version": jmx.Version(), "SoftwareVersion": jmx.Version(),
				// Hadoop's Safemode is "" when off; hactl's NameNode has no safe mode.
				"Safemode": "", "UpgradeFinalized": true, "Threads": int64(runtime.NumGoroutine()),
				"NNStartedTimeInMillis": n.started,
				"NameDirStatuses":       jsonString(map[string]any{"active": dirs, "failed": map[string]string{}}),
				"JournalTransactionInfo": jsonString(map[string]string{
					"LastAppliedOrWrittenTxId": itoa(t.LastTxid), "MostRecentCheckpointTxId": itoa(t.LastCheckpointTxid)}),
			},
		},
		{
			Name: "Hadoop:service=NameNode,name=NameNodeActivity", ModelerType: "NameNodeActivity", Record: "NameNodeActivity",
			Attrs: actAttrs,
			Counters: map[string]bool{"CreateFileOps": true, "FilesCreated": true, "FilesAppended": true,
				"GetBlockLocations": true, "FilesRenamed": true, "GetListingOps": true, "DeleteFileOps": true,
				"FilesDeleted": true, "FileInfoOps": true, "TransactionsNumOps": true, "SyncsNumOps": true,
				"TransactionsBatchedInSync": true},
		},
		jmx.JvmMetrics("NameNode", host),
	}
}

func (n *NameNode) jmxBeans(r *http.Request) []jmx.Bean { return n.Beans(r.Context()) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(i int64) string {
	b, _ := json.Marshal(i)
	return string(b)
}
