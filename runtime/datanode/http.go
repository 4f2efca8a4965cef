package datanode

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/jmx"
)

// metrics are Hadoop's DataNodeActivity counters.
type metrics struct {
	bytesWritten, bytesRead          atomic.Int64
	blocksWritten, blocksRead        atomic.Int64
	blocksReplicated, blocksRemoved  atomic.Int64
	blocksVerified, badBlocks        atomic.Int64
	blocksRecovered, recoveryFailure atomic.Int64
}

func (dn *DataNode) startHTTP() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/jmx", jmx.Handler(func(*http.Request) []jmx.Bean { return dn.Beans() }))
	mux.Handle("/prom", jmx.PromHandler(func(*http.Request) []jmx.Bean { return dn.Beans() }))
	// Callers name this DataNode by its listen address, its advertised IP or
	// its hostname (dfs.datanode.hostname).
	id := dn.ID()
	verifier := auth.NewVerifier(dn.opts.Secret, dn.httpLn.Addr().String(), id.InfoAddr(),
		net.JoinHostPort(id.Hostname, strconv.Itoa(id.InfoPort)))
	signed := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(dn.opts.Secret) == 0 || verifier.Verify(r) != nil {
				http.Error(w, `{"RemoteException":{"exception":"AccessControlException","javaClassName":"org.apache.hadoop.security.AccessControlException","message":"unsigned or badly signed call"}}`, http.StatusUnauthorized)
				return
			}
			h(w, r)
		})
	}
	mux.Handle("GET /dn/status", signed(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, dn.Status()) }))
	mux.Handle("POST /dn/initReplicaRecovery", signed(dn.serveInitRecovery))
	mux.Handle("POST /dn/updateReplicaUnderRecovery", signed(dn.serveUpdateRecovery))
	if dn.opts.WebHDFS != nil {
		dn.SetWebHDFS(dn.opts.WebHDFS)
	}
	mux.Handle("/webhdfs/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, _ := dn.webhdfs.Load().(http.Handler)
		if h == nil {
			http.Error(w, `{"RemoteException":{"exception":"UnsupportedOperationException","javaClassName":"java.lang.UnsupportedOperationException","message":"this DataNode serves no WebHDFS data path"}}`, http.StatusNotImplemented)
			return
		}
		h.ServeHTTP(w, r)
	}))
	return httpserve.Start(dn.httpLn, mux, httpserve.Limits{}, dn.opts.Logger)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// Beans are the DataNode's JMX beans in Hadoop's names.
func (dn *DataNode) Beans() []jmx.Bean {
	id := dn.ID()
	// NamenodeAddresses lists the NameNodes this DataNode is registered with
	// (host:port → block pool): non-empty for every nameservice means ready.
	nnAddrs := map[string]string{}
	var actors []map[string]string
	for _, ns := range dn.bpOrder {
		bp := dn.bps[ns]
		for _, a := range bp.actors {
			state := "CONNECTING"
			if a.isRegistered() {
				state = "RUNNING"
				nnAddrs[a.nn.Addr] = bp.PoolID()
			}
			haState := "standby"
			if bp.activeNN() == a.nn.ID {
				haState = "active"
			}
			actors = append(actors, map[string]string{"NamenodeAddress": a.nn.Addr, "BlockPoolID": bp.PoolID(),
				"ActorState": state, "NamenodeHaState": haState, "Nameservice": ns, "NamenodeID": a.nn.ID})
		}
	}
	nnJSON, _ := json.Marshal(nnAddrs)
	actorJSON, _ := json.Marshal(actors)
	var capacity, used, remaining int64
	volInfo := map[string]map[string]any{}
	reports := dn.st.Reports("")
	for _, r := range reports {
		capacity += r.Capacity
		used += r.DFSUsed
		remaining += r.Remaining
	}
	for _, v := range dn.st.volumesView() {
		volInfo[v.root] = map[string]any{"usedSpace": v.used, "freeSpace": v.free, "reservedSpace": dn.opts.Reserved, "failed": v.failed}
	}
	volJSON, _ := json.Marshal(volInfo)
	failed := dn.st.FailedVolumes()
	failedLocs := make([]string, len(failed))
	for i, f := range failed {
		failedLocs[i], _, _ = strings.Cut(f, ": ")
	}
	m := &dn.metrics
	activity := "DataNodeActivity-" + strings.ReplaceAll(id.Hostname, ":", "-") + "-" + strconv.Itoa(id.XferPort)
	return []jmx.Bean{
		{
			Name: "Hadoop:service=DataNode,name=DataNodeInfo", ModelerType: "org.apache.hadoop.hdfs.server.datanode.DataNode",
			Attrs: map[string]any{
				"ClusterId": dn.st.ClusterID(), "Version": jmx.Version(), "SoftwareVersion": softwareVersion,
				"DatanodeHostname": id.Hostname, "DatanodeUuid": id.UUID,
				"NamenodeAddresses": string(nnJSON), "BPServiceActorInfo": string(actorJSON), "VolumeInfo": string(volJSON),
				"XceiverCount": dn.xceiverCount(), "DataPort": id.XferPort, "HttpPort": id.InfoPort, "RpcPort": strconv.Itoa(id.IPCPort),
			},
		},
		{
			Name: "Hadoop:service=DataNode,name=FSDatasetState", ModelerType: "org.apache.hadoop.hdfs.server.datanode.fsdataset.impl.FsDatasetImpl", Record: "FSDatasetState",
			Attrs: map[string]any{
				"tag.Context": "FSDatasetState", "tag.StorageInfo": "FSDataset{dirpath='" + strings.Join(dn.opts.DataDirs, ",") + "'}", "tag.Hostname": id.Hostname,
				"Capacity": capacity, "DfsUsed": used, "Remaining": remaining,
				"NumFailedVolumes": len(failed), "FailedStorageLocations": failedLocs,
			},
		},
		{
			Name: "Hadoop:service=DataNode,name=" + activity, ModelerType: activity, Record: "DataNodeActivity",
			Attrs: map[string]any{
				"tag.Context": "dfs", "tag.SessionId": nil, "tag.Hostname": id.Hostname,
				"BytesWritten": m.bytesWritten.Load(), "BytesRead": m.bytesRead.Load(),
				"BlocksWritten": m.blocksWritten.Load(), "BlocksRead": m.blocksRead.Load(),
				"BlocksReplicated": m.blocksReplicated.Load(), "BlocksRemoved": m.blocksRemoved.Load(),
				"BlocksVerified": m.blocksVerified.Load(), "BlockVerificationFailures": m.badBlocks.Load(),
				"BlocksRecovered": m.blocksRecovered.Load(), "BlocksRecoveryFailures": m.recoveryFailure.Load(),
			},
			Counters: map[string]bool{"BytesWritten": true, "BytesRead": true, "BlocksWritten": true, "BlocksRead": true,
				"BlocksReplicated": true, "BlocksRemoved": true, "BlocksVerified": true, "BlockVerificationFailures": true,
				"BlocksRecovered": true, "BlocksRecoveryFailures": true},
		},
		jmx.JvmMetrics("DataNode", id.Hostname),
	}
}

type volumeView struct {
	root       string
	used, free int64
	failed     bool
}

func (s *Storage) volumesView() []volumeView {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []volumeView
	for _, v := range s.vols {
		vv := volumeView{root: v.root, failed: v.failed}
		for _, u := range v.used {
			vv.used += u
		}
		if !v.failed {
			_, vv.free = diskSpace(v.root)
		}
		out = append(out, vv)
	}
	return out
}

// SetWebHDFS mounts h at /webhdfs/v1/ (the data path the NameNode's 307
// redirects to); it may be called after Start, once h can use the DataNode.
func (dn *DataNode) SetWebHDFS(h http.Handler) { dn.webhdfs.Store(h) }

// signingTransport signs calls to other DataNodes with the cluster secret.
type signingTransport struct {
	secret []byte
	base   http.RoundTripper
}

func (t *signingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return (&auth.Transport{Secret: t.secret, Base: t.base, Now: time.Now}).RoundTrip(r)
}
