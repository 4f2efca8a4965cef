package namenode

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
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

// blockFigures are the DataNode, block and capacity figures monitors read
// (Hadoop's FSNamesystem and NameNodeInfo), from the block manager.
type blockFigures struct {
	blockmgmt.Stats
	ucFiles                     int64
	safeMode                    bool
	SafeModeTip                 string
	liveNodes, deadNodes, decom string // NameNodeInfo's JSON strings
}

// adminStateName is Hadoop's DatanodeInfo.AdminStates.toString.
func adminStateName(s hdfs.AdminState) string {
	switch s {
	case hdfs.AdminDecommissionInProgress:
		return "Decommission In Progress"
	case hdfs.AdminDecommissioned:
		return "Decommissioned"
	}
	return "In Service"
}

func (n *NameNode) blockFigures() blockFigures {
	n.mu.RLock()
	defer n.mu.RUnlock()
	f := blockFigures{Stats: n.bm.Stats(), safeMode: n.bm.InSafeMode(), SafeModeTip: n.bm.SafeModeTip()}
	if n.ns != nil {
		f.ucFiles = int64(len(n.ns.uc))
	}
	now := n.nowMs()
	live, dead, decom := map[string]any{}, map[string]any{}, map[string]any{}
	for _, d := range n.bm.Nodes() {
		i := d.Info
		host := i.Hostname
		if host == "" {
			host = i.IP
		}
		key := net.JoinHostPort(host, strconv.Itoa(i.XferPort))
		state := adminStateName(i.AdminState)
		if d.Dead() {
			dead[key] = map[string]any{"lastContact": (now - d.LastContact()) / 1000, "xferaddr": i.XferAddr(),
				"decommissioned": i.AdminState == hdfs.AdminDecommissioned, "adminState": state}
			continue
		}
		used := i.DFSUsed
		live[key] = map[string]any{"infoAddr": i.InfoAddr(), "infoSecureAddr": net.JoinHostPort(i.IP, "0"), "xferaddr": i.XferAddr(),
			"lastContact": (now - d.LastContact()) / 1000, "usedSpace": used, "adminState": state, "nonDfsUsedSpace": i.NonDFSUsed,
			"capacity": i.Capacity, "numBlocks": d.NumBlocks(), "version": jmx.Version(), "used": used, "remaining": i.Remaining,
			"blockScheduled": 0, "blockPoolUsed": i.BlockPoolUsed, "blockPoolUsedPercent": percent(i.BlockPoolUsed, i.Capacity, 0),
			"volfails": 0}
		if i.AdminState == hdfs.AdminDecommissionInProgress {
			under, only := n.bm.DecomProgress(d)
			decom[key] = map[string]any{"xferaddr": i.XferAddr(), "adminState": state, "underReplicatedBlocks": under,
				"decommissionOnlyReplicas": only, "underReplicateInOpenFiles": 0}
		}
	}
	f.liveNodes, f.deadNodes, f.decom = jsonString(live), jsonString(dead), jsonString(decom)
	return f
}

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
	if s != StateActive && s != StateStandby || bf.safeMode {
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
				"MissingBlocks": bf.MissingBlocks, "MissingReplOneBlocks": int64(0), "ExpiredHeartbeats": bf.ExpiredHeartbeats,
				"TransactionsSinceLastCheckpoint": t.LastTxid - t.LastCheckpointTxid,
				"LastWrittenTransactionId":        t.LastTxid,
				"LastCheckpointTime":              t.LastCheckpointTime.UnixMilli(),
				"CapacityTotal":                   bf.CapacityTotal, "CapacityTotalGB": float32(bf.CapacityTotal) / (1 << 30),
				"CapacityUsed": bf.CapacityUsed, "CapacityUsedGB": float32(bf.CapacityUsed) / (1 << 30),
				"CapacityRemaining": bf.CapacityRemaining, "CapacityRemainingGB": float32(bf.CapacityRemaining) / (1 << 30),
				"CapacityUsedNonDFS": bf.NonDFSUsed, "TotalLoad": int64(bf.TotalLoad),
				"BlocksTotal": bf.BlocksTotal, "UnderReplicatedBlocks": bf.UnderReplicatedBlocks, "LowRedundancyBlocks": bf.UnderReplicatedBlocks,
				"PendingReplicationBlocks": bf.PendingReplicationBlocks, "PendingDeletionBlocks": bf.PendingDeletionBlocks,
				"CorruptBlocks": bf.CorruptBlocks, "ScheduledReplicationBlocks": bf.PendingReplicationBlocks, "ExcessBlocks": int64(0),
				"FilesTotal": inodes, "NumLiveDataNodes": int64(bf.NumLive), "NumDeadDataNodes": int64(bf.NumDead),
				"NumDecommissioningDataNodes": int64(bf.NumDecommissioning), "PendingDataNodeMessageCount": bf.QueuedMessages,
				"NumFilesUnderConstruction": bf.ucFiles, "TotalSyncCount": a.syncs.NumOps(),
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
				"CapacityTotal": bf.CapacityTotal, "CapacityUsed": bf.CapacityUsed, "CapacityRemaining": bf.CapacityRemaining,
				"TotalLoad": int64(bf.TotalLoad), "BlocksTotal": bf.BlocksTotal, "FilesTotal": inodes,
				"UnderReplicatedBlocks": bf.UnderReplicatedBlocks, "PendingReplicationBlocks": bf.PendingReplicationBlocks,
				"PendingDeletionBlocks": bf.PendingDeletionBlocks, "ScheduledReplicationBlocks": bf.PendingReplicationBlocks,
				"MissingBlocks": bf.MissingBlocks, "CorruptBlocks": bf.CorruptBlocks,
				"FSState": fsState, "NumLiveDataNodes": int64(bf.NumLive), "NumDeadDataNodes": int64(bf.NumDead),
				"NumDecomLiveDataNodes": int64(bf.NumDecommissioned), "NumDecomDeadDataNodes": int64(0),
				"NumDecommissioningDataNodes": int64(bf.NumDecommissioning),
				"NumStaleDataNodes":           int64(bf.NumStale), "VolumeFailuresTotal": int64(0), "EstimatedCapacityLostTotal": int64(0),
				"MaxObjects": int64(0), "SnapshotStats": `{"SnapshottableDirectories":0,"Snapshots":0}`,
				"TotalSyncCount": a.syncs.NumOps(),
			},
		},
		{
			Name: "Hadoop:service=NameNode,name=NameNodeInfo", ModelerType: "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
			Attrs: map[string]any{
				"Total": bf.CapacityTotal, "Used": bf.CapacityUsed, "Free": bf.CapacityRemaining, "NonDfsUsedSpace": bf.NonDFSUsed,
				"PercentUsed": percent(bf.CapacityUsed, bf.CapacityTotal, 100), "PercentRemaining": percent(bf.CapacityRemaining, bf.CapacityTotal, 0),
				"BlockPoolUsedSpace": bf.BlockPoolUsed, "PercentBlockPoolUsed": percent(bf.BlockPoolUsed, bf.CapacityTotal, 100),
				"TotalBlocks": bf.BlocksTotal, "TotalFiles": inodes, "NumberOfMissingBlocks": bf.MissingBlocks,
				"NumberOfMissingBlocksWithReplicationFactorOne": int64(0),
				"LiveNodes": bf.liveNodes, "DeadNodes": bf.deadNodes, "DecomNodes": bf.decom, "EnteringMaintenanceNodes": "{}",
				"ClusterId": info.ClusterID, "BlockPoolId": info.BlockPoolID,
				"Version": jmx.Version(), "SoftwareVersion": jmx.Version(),
				// Hadoop's getSafeModeTip, "" when off.
				"Safemode": bf.SafeModeTip, "UpgradeFinalized": true, "Threads": int64(runtime.NumGoroutine()),
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
