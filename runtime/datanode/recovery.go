package datanode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"strings"

	"github.com/hactl/hactl/runtime/hdfs"
)

// Block recovery (Hadoop's BlockRecoveryWorker): the primary DataNode the
// active NameNode chose asks every DataNode holding the block to stop
// writing it and say what it has (initReplicaRecovery), picks the length
// every replica of the best state agrees on, has each cut its replica to it
// under the new stamp (updateReplicaUnderRecovery), and reports the result
// with CommitBlockSynchronization. The calls between DataNodes travel as
// signed HTTP on dfs.datanode.http.address (Hadoop's InterDatanodeProtocol).

type initRecoveryReq struct {
	Block      hdfs.ExtendedBlock `json:"b"`
	RecoveryID int64              `json:"recoveryId"`
}

type updateRecoveryReq struct {
	Block      hdfs.ExtendedBlock `json:"b"`
	RecoveryID int64              `json:"recoveryId"`
	NewLength  int64              `json:"newLength"`
}

type updateRecoveryResp struct {
	StorageUUID string `json:"storageUuid"`
}

type remoteError struct {
	RemoteException struct {
		Exception string `json:"exception"`
		Message   string `json:"message"`
	} `json:"RemoteException"`
}

func writeRemoteError(w http.ResponseWriter, err error) {
	var re remoteError
	re.RemoteException.Exception = "IOException"
	for _, e := range []error{ErrReplicaNotFound, ErrRecoveryInProgress} {
		if errors.Is(err, e) {
			re.RemoteException.Exception = e.Error()
		}
	}
	re.RemoteException.Message = err.Error()
	writeJSON(w, http.StatusConflict, re)
}

func (dn *DataNode) serveInitRecovery(w http.ResponseWriter, r *http.Request) {
	var req initRecoveryReq
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	info, err := dn.st.InitReplicaRecovery(req.Block, req.RecoveryID)
	if err != nil {
		writeRemoteError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (dn *DataNode) serveUpdateRecovery(w http.ResponseWriter, r *http.Request) {
	var req updateRecoveryReq
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sid, err := dn.st.UpdateReplicaUnderRecovery(req.Block, req.RecoveryID, req.NewLength)
	if err != nil {
		writeRemoteError(w, err)
		return
	}
	nb := req.Block
	nb.GenStamp, nb.NumBytes = req.RecoveryID, req.NewLength
	dn.notify(nb, hdfs.StatusReceived, sid, "")
	writeJSON(w, http.StatusOK, updateRecoveryResp{StorageUUID: sid})
}

// peerCall posts a signed JSON call to another DataNode's HTTP server.
func (dn *DataNode) peerCall(ctx context.Context, d hdfs.DatanodeID, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+d.InfoAddr()+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := dn.peers.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var re remoteError
		if json.Unmarshal(data, &re) == nil && re.RemoteException.Message != "" {
			return fmt.Errorf("%s: %s", re.RemoteException.Exception, re.RemoteException.Message)
		}
		return fmt.Errorf("%s %s: %s", path, resp.Status, strings.TrimSpace(string(data)))
	}
	return json.Unmarshal(data, out)
}

func (dn *DataNode) initRecovery(ctx context.Context, d hdfs.DatanodeID, b hdfs.ExtendedBlock, recoveryID int64) (RecoveryInfo, error) {
	if d.UUID == dn.ID().UUID {
		return dn.st.InitReplicaRecovery(b, recoveryID)
	}
	var info RecoveryInfo
	err := dn.peerCall(ctx, d, "/dn/initReplicaRecovery", initRecoveryReq{Block: b, RecoveryID: recoveryID}, &info)
	return info, err
}

func (dn *DataNode) updateRecovery(ctx context.Context, d hdfs.DatanodeID, b hdfs.ExtendedBlock, recoveryID, newLength int64) (string, error) {
	if d.UUID == dn.ID().UUID {
		sid, err := dn.st.UpdateReplicaUnderRecovery(b, recoveryID, newLength)
		if err == nil {
			nb := b
			nb.GenStamp, nb.NumBytes = recoveryID, newLength
			dn.notify(nb, hdfs.StatusReceived, sid, "")
		}
		return sid, err
	}
	var out updateRecoveryResp
	err := dn.peerCall(ctx, d, "/dn/updateReplicaUnderRecovery", updateRecoveryReq{Block: b, RecoveryID: recoveryID, NewLength: newLength}, &out)
	return out.StorageUUID, err
}

type replicaAt struct {
	node hdfs.DatanodeID
	info RecoveryInfo
}

var stateRank = map[hdfs.ReplicaState]int{
	hdfs.ReplicaFinalized: 0, hdfs.ReplicaRBW: 1, hdfs.ReplicaRWR: 2, hdfs.ReplicaRUR: 3, hdfs.ReplicaTemporary: 4,
}

// recoveryPlan is syncBlock's choice: the replicas that take part and the
// length they are cut to. With a finalized replica its length wins and
// only replicas holding exactly that take part; otherwise the replicas of
// the best state (RBW before RWR) agree on the shortest of them, which every
// one of them has in full.
func recoveryPlan(replicas []replicaAt) ([]replicaAt, int64, error) {
	best := -1
	for _, r := range replicas {
		if rk, ok := stateRank[r.info.State]; ok && (best < 0 || rk < best) {
			best = rk
		}
	}
	var part []replicaAt
	switch best {
	case 0:
		var length int64 = -1
		for _, r := range replicas {
			if r.info.State == hdfs.ReplicaFinalized {
				if length >= 0 && r.info.NumBytes != length {
					return nil, 0, fmt.Errorf("inconsistent finalized replicas: %d and %d bytes", length, r.info.NumBytes)
				}
				length = r.info.NumBytes
			}
		}
		for _, r := range replicas {
			if r.info.State == hdfs.ReplicaFinalized || r.info.State == hdfs.ReplicaRBW && r.info.NumBytes == length {
				part = append(part, r)
			}
		}
		return part, length, nil
	case 1, 2:
		var length int64 = -1
		for _, r := range replicas {
			if stateRank[r.info.State] == best {
				part = append(part, r)
				if length < 0 || r.info.NumBytes < length {
					length = r.info.NumBytes
				}
			}
		}
		return part, length, nil
	}
	return nil, 0, errors.New("no replica in a recoverable state")
}

// recoverBlock runs one block's recovery as its primary DataNode.
func (dn *DataNode) recoverBlock(ctx context.Context, bp *bpService, rb hdfs.RecoveringBlock) (err error) {
	defer func() {
		if err != nil {
			dn.metrics.recoveryFailure.Add(1)
		} else {
			dn.metrics.blocksRecovered.Add(1)
		}
	}()
	b, newGS := rb.Block, rb.NewGenStamp
	var replicas []replicaAt
	var errs []string
	for _, loc := range rb.Locations {
		info, err := dn.initRecovery(ctx, loc.DatanodeID, b, newGS)
		if err != nil {
			errs = append(errs, loc.XferAddr()+": "+err.Error())
			continue
		}
		if info.GenStamp >= b.GenStamp && info.NumBytes > 0 {
			replicas = append(replicas, replicaAt{node: loc.DatanodeID, info: info})
		}
	}
	commit := func(c hdfs.CommitSync) error {
		a := bp.activeActor()
		if a == nil {
			return fmt.Errorf("no active NameNode of %s to commit recovery of %s", bp.ns, b)
		}
		return a.nn.Proto.CommitBlockSynchronization(ctx, c)
	}
	if len(replicas) == 0 {
		if len(errs) == len(rb.Locations) && len(errs) > 0 {
			return fmt.Errorf("all DataNodes failed: %s", strings.Join(errs, "; "))
		}
		// No replica holds a byte: the block goes (Hadoop's syncBlock).
		return commit(hdfs.CommitSync{Block: b, NewGenStamp: newGS, CloseFile: true, DeleteBlock: true})
	}
	part, length, err := recoveryPlan(replicas)
	if err != nil {
		return fmt.Errorf("recover %s: %w", b, err)
	}
	if rb.TruncateTo != nil && *rb.TruncateTo < length {
		length = *rb.TruncateTo
	}
	var targets []hdfs.DatanodeID
	var storages []string
	for _, p := range part {
		sid, err := dn.updateRecovery(ctx, p.node, b, newGS, length)
		if err != nil {
			dn.logf("recover %s on %s: %v", b, p.node.XferAddr(), err)
			continue
		}
		targets = append(targets, p.node)
		storages = append(storages, sid)
	}
	if len(targets) == 0 {
		return fmt.Errorf("recover %s: no DataNode could update its replica", b)
	}
	return commit(hdfs.CommitSync{Block: b, NewGenStamp: newGS, NewLength: length, CloseFile: true, NewTargets: targets, NewStorages: storages})
}

// activeActor is the actor of the NameNode obeyed, nil when none.
func (bp *bpService) activeActor() *bpActor {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.active
}
