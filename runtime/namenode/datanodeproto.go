package namenode

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/jmx"
	"github.com/hactl/hactl/runtime/webhdfs"
)

func init() {
	// A DataNode refused registration gets Hadoop's exception by name.
	webhdfs.RegisterException(blockmgmt.ErrDisallowed, "DisallowedDatanodeException",
		"org.apache.hadoop.hdfs.server.protocol.DisallowedDatanodeException", http.StatusForbidden)
}

// DatanodeRPC is the NameNode's hdfs.DatanodeProtocol. Active and standby
// both serve it (a standby must know where the blocks are to take over at
// once); only the active's answers carry commands.
type DatanodeRPC struct{ n *NameNode }

// DatanodeProtocol returns the NameNode's side of the DataNodes' calls.
func (n *NameNode) DatanodeProtocol() *DatanodeRPC { return &DatanodeRPC{n} }

var _ hdfs.DatanodeProtocol = (*DatanodeRPC)(nil)

// errInitializing refuses DataNode calls before the namespace is loaded.
var errInitializing = errors.New("NameNode is still loading its namespace")

// lockServing takes the namespace lock for a DataNode call.
func (n *NameNode) lockServing() error {
	n.mu.Lock()
	if s := n.State(); s != StateActive && s != StateStandby {
		n.mu.Unlock()
		return fmt.Errorf("%w: %w (state %s)", webhdfs.ErrIOException, errInitializing, s)
	}
	return nil
}

// haStatus is a heartbeat answer's NNHAStatusHeartbeat. A DataNode obeys
// the active claiming the highest txid it has seen, so a new active must
// claim more than its predecessor's last txid from its first answer on:
// it claims at least the first txid of its segment, as Hadoop's, whose
// OP_START_LOG_SEGMENT takes that txid as it becomes active (hactl writes
// no such edit, so the txid is its next edit's).
func (n *NameNode) haStatus() hdfs.NNHAStatus {
	st := hdfs.NNHAStatus{State: hdfs.HAStandby, Txid: n.ns.lastTxid}
	if n.State() == StateActive {
		st.State = hdfs.HAActive
		st.Txid = max(st.Txid, n.segmentStart)
	}
	return st
}

func (r *DatanodeRPC) VersionRequest(ctx context.Context) (hdfs.NamespaceInfo, error) {
	n := r.n
	if err := n.lockServing(); err != nil {
		return hdfs.NamespaceInfo{}, err
	}
	defer n.mu.Unlock()
	return hdfs.NamespaceInfo{NamespaceID: n.info.NamespaceID, ClusterID: n.info.ClusterID, BlockPoolID: n.info.BlockPoolID,
		SoftwareVersion: jmx.Version()}, nil
}

func (r *DatanodeRPC) RegisterDatanode(ctx context.Context, reg hdfs.Registration) (hdfs.Registration, error) {
	n := r.n
	if err := n.lockServing(); err != nil {
		return hdfs.Registration{}, err
	}
	defer n.mu.Unlock()
	if _, err := n.bm.Register(reg, n.info.ClusterID); err != nil {
		return hdfs.Registration{}, err
	}
	n.logf("namenode %s: registered datanode %s (%s)", n.cfg.ID, reg.XferAddr(), reg.UUID)
	out := reg
	out.BlockPoolID = n.info.BlockPoolID
	return out, nil
}

func (r *DatanodeRPC) SendHeartbeat(ctx context.Context, hb hdfs.Heartbeat) (hdfs.HeartbeatResponse, error) {
	n := r.n
	if err := n.lockServing(); err != nil {
		return hdfs.HeartbeatResponse{}, err
	}
	defer n.mu.Unlock()
	cmds, err := n.bm.Heartbeat(hb)
	if err != nil {
		return hdfs.HeartbeatResponse{}, err
	}
	return hdfs.HeartbeatResponse{Commands: cmds, HAStatus: n.haStatus()}, nil
}

func (r *DatanodeRPC) BlockReport(ctx context.Context, reg hdfs.Registration, replicas []hdfs.ReplicaReport) ([]hdfs.Command, error) {
	n := r.n
	if err := n.lockServing(); err != nil {
		return nil, err
	}
	defer n.mu.Unlock()
	return n.bm.FullReport(reg, replicas)
}

func (r *DatanodeRPC) BlockReceivedAndDeleted(ctx context.Context, reg hdfs.Registration, events []hdfs.ReplicaEvent) error {
	n := r.n
	if err := n.lockServing(); err != nil {
		return err
	}
	defer n.mu.Unlock()
	return n.bm.Incremental(reg, events)
}

func (r *DatanodeRPC) ReportBadBlocks(ctx context.Context, reg hdfs.Registration, blocks []hdfs.LocatedBlock) error {
	n := r.n
	if err := n.lockServing(); err != nil {
		return err
	}
	defer n.mu.Unlock()
	if d := n.bm.Node(reg.UUID); d == nil || d.Dead() {
		return fmt.Errorf("%w: datanode %s", hdfs.ErrNotRegistered, reg.XferAddr())
	}
	for _, lb := range blocks {
		n.logf("namenode %s: datanode %s reports corrupt %s", n.cfg.ID, reg.XferAddr(), lb.Block)
	}
	n.bm.ReportBad(blocks)
	return nil
}

// CommitBlockSynchronization ends a block recovery (Hadoop's
// FSNamesystem.commitBlockSynchronization): the last block of the file
// takes the stamp and the length every replica the primary synchronized
// agrees on, on the DataNodes that hold it, and the file is closed when
// the primary says so (lease recovery) or stays open (pipeline recovery).
func (r *DatanodeRPC) CommitBlockSynchronization(ctx context.Context, c hdfs.CommitSync) error {
	n := r.n
	var path string
	return n.write(ctx, "", "commitBlockSynchronization of", c.Block.String(), func(*caller) ([]*Op, func(), error) {
		b := n.bm.Get(c.Block.ID)
		if b == nil {
			return nil, nil, fmt.Errorf("%w: Block (=%s) not found", webhdfs.ErrIOException, c.Block)
		}
		if f := n.ns.uc[b.FileID]; f == nil {
			// Already closed: a retry of a commit that went through.
			if b.GenStamp == c.NewGenStamp && !c.DeleteBlock {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("%w: Unexpected block (=%s) since the file (=%d) is not under construction", webhdfs.ErrIOException, c.Block, b.FileID)
		}
		if id := n.bm.RecoveryID(b); id != c.NewGenStamp {
			return nil, nil, fmt.Errorf("%w: The recovery id %d does not match current recovery id %d for block %s", webhdfs.ErrIOException, c.NewGenStamp, id, c.Block)
		}
		b2, f, p, err := n.ucFileOfBlock(c.Block.ID)
		if err != nil {
			return nil, nil, err
		}
		path = p
		list := blockList(f)
		if list[len(list)-1].ID != b2.ID {
			return nil, nil, fmt.Errorf("%w: %s is not the last block of %s", webhdfs.ErrIOException, c.Block, p)
		}
		if c.DeleteBlock {
			list = list[:len(list)-1]
		} else {
			list[len(list)-1] = hdfs.Block{ID: b2.ID, GenStamp: c.NewGenStamp, NumBytes: c.NewLength}
		}
		code := OpUpdateBlocks
		if c.CloseFile {
			code = OpClose
		}
		holder := f.uc.holder
		targets := n.nodesOf(c.NewTargets)
		n.logf("namenode %s: commitBlockSynchronization(%s, newgenerationstamp=%d, newlength=%d, newtargets=%s, closeFile=%t, deleteBlock=%t) of %s",
			n.cfg.ID, c.Block, c.NewGenStamp, c.NewLength, nodeNames(blockmgmt.Infos(targets)), c.CloseFile, c.DeleteBlock, path)
		return []*Op{{Code: code, Path: p, Blocks: list}}, func() {
			if !c.DeleteBlock {
				if c.CloseFile {
					n.bm.AddReplicas(b2, targets)
				} else {
					n.bm.SetExpected(b2, targets)
				}
			}
			if c.CloseFile {
				n.dropLeaseIfIdle(holder)
			}
		}, nil
	})
}
