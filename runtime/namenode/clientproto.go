package namenode

import (
	"context"
	"fmt"
	"strings"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// ClientRPC is the NameNode's hdfs.ClientProtocol (a type of its own: its
// Create and Append are the block calls, not webhdfs.Namesystem's).
type ClientRPC struct{ n *NameNode }

// ClientProtocol returns the NameNode's block calls for clients.
func (n *NameNode) ClientProtocol() *ClientRPC { return &ClientRPC{n} }

var _ hdfs.ClientProtocol = (*ClientRPC)(nil)

func (n *NameNode) replicationOf(r int16) (int16, error) {
	if r == 0 {
		r = n.cfg.DefaultReplication
	}
	if r < minReplication {
		return 0, fmt.Errorf("%w: Requested replication factor of %d is less than the required minimum of %d", webhdfs.ErrIOException, r, minReplication)
	}
	if r > maxReplication {
		return 0, fmt.Errorf("%w: Requested replication factor of %d exceeds maximum of %d", webhdfs.ErrIOException, r, maxReplication)
	}
	return r, nil
}

func (r *ClientRPC) Create(ctx context.Context, path, clientName string, opts hdfs.CreateOptions, user string) (webhdfs.FileStatus, error) {
	n := r.n
	if clientName == "" {
		return webhdfs.FileStatus{}, webhdfs.IllegalArgumentError("create %s: no client name", path)
	}
	repl, err := n.replicationOf(opts.Replication)
	if err != nil {
		return webhdfs.FileStatus{}, err
	}
	bs := opts.BlockSize
	if bs <= 0 {
		bs = n.cfg.DefaultBlockSize
	}
	machine := hdfs.ClientMachine(ctx)
	var st webhdfs.FileStatus
	err = n.writeThen(ctx, user, "create file", path, func(c *caller) ([]*Op, func(), error) {
		op := &Op{Code: OpAddFile, Path: path, Perm: permOf(opts.Perm), Owner: defUser(user), Overwrite: opts.Overwrite,
			Replication: repl, BlockSize: bs, ClientName: clientName, ClientMachine: machine}
		check := *op
		check.Code = OpCreate
		if err := n.ns.checkOp(c, &check); err != nil {
			return nil, nil, err
		}
		parts, err := splitPath(path)
		if err != nil {
			return nil, nil, err
		}
		if !opts.CreateParent && len(parts) > 1 {
			p, err := n.ns.lookup(parts[:len(parts)-1])
			if err != nil {
				return nil, nil, fmt.Errorf("%w: Parent directory doesn't exist: %s", webhdfs.ErrNotFound, pathOf(parts[:len(parts)-1]))
			}
			if !p.dir {
				return nil, nil, fmt.Errorf("%w: %s (is not a directory)", webhdfs.ErrParentNotDir, pathOf(parts[:len(parts)-1]))
			}
		}
		var ops []*Op
		var recovery func()
		if f := n.ns.walk(path); f != nil && !f.dir && f.uc != nil {
			// Past the soft limit the recovery closed the file (else err).
			rops, after, _, err := n.recoverOrRefuse("CREATE_FILE", f, path, clientName)
			if err != nil {
				return rops, after, errAfterOps{err}
			}
			ops, recovery = rops, after
			if !opts.Overwrite {
				// The recovered file exists: create without overwrite fails.
				return ops, recovery, errAfterOps{fmt.Errorf("%w: %s for client %s already exists", webhdfs.ErrExists, path, clientName)}
			}
		}
		tagRetry(ctx, op)
		ops = append(ops, op)
		return ops, func() {
			if recovery != nil {
				recovery()
			}
			n.renew(clientName)
			st, _ = n.ns.Stat(path)
		}, nil
	})
	if err == nil {
		n.act.createFileOps.Add(1)
		n.act.filesCreated.Add(1)
	}
	return st, err
}

func (r *ClientRPC) Append(ctx context.Context, path, clientName, user string) (*hdfs.LocatedBlock, webhdfs.FileStatus, error) {
	n := r.n
	if clientName == "" {
		return nil, webhdfs.FileStatus{}, webhdfs.IllegalArgumentError("append %s: no client name", path)
	}
	machine := hdfs.ClientMachine(ctx)
	var (
		st webhdfs.FileStatus
		lb *hdfs.LocatedBlock
	)
	err := n.writeThen(ctx, user, "append to file", path, func(c *caller) ([]*Op, func(), error) {
		if err := n.ns.checkOp(c, &Op{Code: OpAppend, Path: path}); err != nil {
			return nil, nil, err
		}
		f, err := n.ns.resolve(path)
		if err != nil {
			return nil, nil, err
		}
		if f.dir {
			return nil, nil, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, path)
		}
		if f.uc != nil {
			rops, after, _, err := n.recoverOrRefuse("APPEND_FILE", f, path, clientName)
			if err != nil {
				return rops, after, errAfterOps{err}
			}
			// Closed by the recovery (else err): the append proceeds after it.
			op := n.appendOp(f, path, clientName, machine)
			tagRetry(ctx, op)
			return append(rops, op), n.appendAfter(f, path, clientName, user, &lb, &st), nil
		}
		op := n.appendOp(f, path, clientName, machine)
		tagRetry(ctx, op)
		return []*Op{op}, n.appendAfter(f, path, clientName, user, &lb, &st), nil
	})
	if err == nil {
		n.act.filesAppended.Add(1)
	}
	return lb, st, err
}

// AppendedBlock is what a retried append continues when the retry cache
// holds the append's answer (its file status): path's last block if it is
// under construction, located with a write token as the append itself
// answered it (a read token would not let the client write to it); nil
// when the append reopened no partial block.
func (r *ClientRPC) AppendedBlock(ctx context.Context, path, user string) (*hdfs.LocatedBlock, error) {
	n := r.n
	if err := n.readChecked(path, user, readOpen); err != nil {
		return nil, err
	}
	defer n.mu.RUnlock()
	f, err := n.ns.resolve(path)
	if err != nil {
		return nil, err
	}
	if f.dir || len(f.blocks) == 0 {
		return nil, nil
	}
	last := f.blocks[len(f.blocks)-1]
	if last.State != blockmgmt.UnderConstruction {
		return nil, nil
	}
	l := n.located(last, f.length()-last.NumBytes, "", user, hdfs.AccessWrite)
	return &l, nil
}

// appendOp reopens f; a partial last block gets a new stamp and is
// continued (Hadoop's prepareFileForAppend and the client's
// updateBlockForPipeline in one edit).
func (n *NameNode) appendOp(f *inode, path, clientName, machine string) *Op {
	op := &Op{Code: OpAppendFile, Path: path, ClientName: clientName, ClientMachine: machine}
	if len(f.blocks) > 0 && f.blocks[len(f.blocks)-1].NumBytes < f.blockSize {
		op.GenStamp = n.ns.genStamp + 1
	}
	return op
}

func (n *NameNode) appendAfter(f *inode, path, clientName, user string, lb **hdfs.LocatedBlock, st *webhdfs.FileStatus) func() {
	return func() {
		n.renew(clientName)
		*st, _ = n.ns.Stat(path)
		if len(f.blocks) > 0 {
			last := f.blocks[len(f.blocks)-1]
			if last.State == blockmgmt.UnderConstruction {
				l := n.located(last, f.length()-last.NumBytes, "", user, hdfs.AccessWrite)
				*lb = &l
			}
		}
	}
}

func (r *ClientRPC) AddBlock(ctx context.Context, path, clientName string, previous *hdfs.ExtendedBlock, excluded []hdfs.DatanodeID, fileID int64, user string) (hdfs.LocatedBlock, error) {
	n := r.n
	machine := hdfs.ClientMachine(ctx)
	var out hdfs.LocatedBlock
	err := n.write(ctx, user, "add block to", path, func(*caller) ([]*Op, func(), error) {
		f, err := n.leaseOf(path, fileID, clientName)
		if err != nil {
			return nil, nil, err
		}
		blocks := f.blocks
		var last *blockmgmt.BlockInfo
		if len(blocks) > 0 {
			last = blocks[len(blocks)-1]
		}
		// A retried addBlock (the answer was lost): the block it
		// allocated is the file's last, still empty, and previous is the
		// one before it (Hadoop's analyzeFileState).
		if last != nil && last.State == blockmgmt.UnderConstruction && last.NumBytes == 0 && len(last.Locs()) == 0 &&
			(previous == nil && len(blocks) == 1 || previous != nil && len(blocks) > 1 && blocks[len(blocks)-2].ID == previous.ID) {
			// Its pipeline is not in the edits: after a failover the new
			// active chooses one again (Hadoop's onRetryBlock without
			// locations).
			var targets []*blockmgmt.Datanode
			if len(n.bm.Expected(last)) == 0 {
				targets = n.bm.ChooseTargets(int(f.repl), machine, n.nodesOf(excluded), f.blockSize)
				if len(targets) < int(n.bm.Config().MinReplication) {
					return nil, nil, fmt.Errorf("%w: %w: File %s could only be written to %d of the %d minReplication nodes. There are %d datanode(s) running and %d node(s) are excluded in this operation.",
						webhdfs.ErrIOException, hdfs.ErrNoDatanodes, path, len(targets), n.bm.Config().MinReplication, n.bm.NumUsable(), len(excluded))
				}
			}
			off := f.length() - last.NumBytes
			return nil, func() {
				if targets != nil {
					n.bm.SetExpected(last, targets)
				}
				n.renew(clientName)
				out = n.located(last, off, machine, user, hdfs.AccessWrite)
			}, nil
		}
		var ops []*Op
		var prevBlock []hdfs.Block
		switch {
		case previous == nil && last != nil && last.State == blockmgmt.UnderConstruction:
			return nil, nil, fmt.Errorf("%w: addBlock of %s names no previous block but %s is being written", webhdfs.ErrIOException, path, last.Block)
		case previous != nil && (last == nil || last.ID != previous.ID):
			return nil, nil, fmt.Errorf("%w: addBlock of %s: previous block %s is not the file's last block", webhdfs.ErrIOException, path, previous.Block)
		case previous != nil:
			if previous.GenStamp < last.GenStamp || previous.GenStamp > n.ns.genStamp {
				return nil, nil, fmt.Errorf("%w: addBlock of %s: previous block %s has stamp %d, the NameNode %d", webhdfs.ErrIOException, path, previous.Block, previous.GenStamp, last.GenStamp)
			}
			prevBlock = []hdfs.Block{previous.Block}
			// Hadoop's checkFileProgress: the block before previous must
			// have its minimum replication before another is allocated.
			if len(blocks) > 1 {
				if pen := blocks[len(blocks)-2]; pen.State != blockmgmt.Complete && !n.bm.HasMinReplicas(pen) {
					return nil, nil, fmt.Errorf("%w: Not replicated yet: %s", hdfs.ErrNotReplicatedYet, path)
				}
			}
		}
		targets := n.bm.ChooseTargets(int(f.repl), machine, n.nodesOf(excluded), f.blockSize)
		if len(targets) < int(n.bm.Config().MinReplication) {
			return nil, nil, fmt.Errorf("%w: %w: File %s could only be written to %d of the %d minReplication nodes. There are %d datanode(s) running and %d node(s) are excluded in this operation.",
				webhdfs.ErrIOException, hdfs.ErrNoDatanodes, path, len(targets), n.bm.Config().MinReplication, n.bm.NumUsable(), len(excluded))
		}
		nb := hdfs.Block{ID: n.ns.lastBlockID + 1, GenStamp: n.ns.genStamp + 1}
		ops = append(ops, &Op{Code: OpAddBlock, Path: path, Blocks: append(prevBlock, nb)})
		return ops, func() {
			b := f.blocks[len(f.blocks)-1]
			n.bm.SetExpected(b, targets)
			n.renew(clientName)
			out = n.located(b, f.length()-b.NumBytes, machine, user, hdfs.AccessWrite)
		}, nil
	})
	return out, err
}

func (r *ClientRPC) AbandonBlock(ctx context.Context, b hdfs.ExtendedBlock, fileID int64, path, clientName, user string) error {
	n := r.n
	return n.write(ctx, user, "abandon block of", path, func(*caller) ([]*Op, func(), error) {
		f, err := n.leaseOf(path, fileID, clientName)
		if err != nil {
			return nil, nil, err
		}
		if len(f.blocks) == 0 || f.blocks[len(f.blocks)-1].ID != b.ID {
			return nil, nil, nil // already gone: abandonBlock is idempotent
		}
		list := blockList(f)
		return []*Op{{Code: OpUpdateBlocks, Path: path, Blocks: list[:len(list)-1]}}, func() { n.renew(clientName) }, nil
	})
}

func (r *ClientRPC) Complete(ctx context.Context, path, clientName string, last *hdfs.ExtendedBlock, fileID int64, user string) (bool, error) {
	n := r.n
	done := false
	err := n.write(ctx, user, "complete file", path, func(*caller) ([]*Op, func(), error) {
		if f, err := n.ns.resolve(path); err == nil && !f.dir && f.uc == nil && (fileID == 0 || f.id == fileID) {
			// A retried complete of a file already closed.
			if last == nil || (len(f.blocks) > 0 && f.blocks[len(f.blocks)-1].ID == last.ID) {
				done = true
				return nil, nil, nil
			}
		}
		f, err := n.leaseOf(path, fileID, clientName)
		if err != nil {
			return nil, nil, err
		}
		list := blockList(f)
		switch {
		case last == nil && len(f.blocks) > 0 && f.blocks[len(f.blocks)-1].State == blockmgmt.UnderConstruction:
			return nil, nil, fmt.Errorf("%w: complete of %s names no last block but %s is being written", webhdfs.ErrIOException, path, f.blocks[len(f.blocks)-1].Block)
		case last != nil && (len(f.blocks) == 0 || f.blocks[len(f.blocks)-1].ID != last.ID):
			return nil, nil, fmt.Errorf("%w: complete of %s: %s is not the file's last block", webhdfs.ErrIOException, path, last.Block)
		case last != nil:
			list[len(list)-1] = last.Block
		}
		// Hadoop's checkFileProgress(checkall): every block has its
		// minimum replication, the last one counted with the replicas
		// reported of what the client committed.
		for i, b := range f.blocks {
			if b.State == blockmgmt.Complete {
				continue
			}
			if !n.bm.HasMinReplicas(b) || (i == len(f.blocks)-1 && last != nil && last.GenStamp != b.GenStamp) {
				return nil, nil, nil // not yet: the client retries
			}
		}
		done = true
		return []*Op{{Code: OpClose, Path: path, Blocks: list}}, func() { n.dropLeaseIfIdle(clientName) }, nil
	})
	return done && err == nil, err
}

func (r *ClientRPC) GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (hdfs.LocatedBlocks, error) {
	n := r.n
	if offset < 0 || length < 0 {
		return hdfs.LocatedBlocks{}, webhdfs.IllegalArgumentError("Negative offset (%d) or length (%d) is not supported", offset, length)
	}
	if err := n.readChecked(path, user, readOpen); err != nil {
		return hdfs.LocatedBlocks{}, err
	}
	defer n.mu.RUnlock()
	f, err := n.ns.resolve(path)
	if err != nil {
		return hdfs.LocatedBlocks{}, err
	}
	if f.dir {
		return hdfs.LocatedBlocks{}, fmt.Errorf("%w: %s is a directory", webhdfs.ErrNotFound, path)
	}
	if len(f.data) > 0 {
		return hdfs.LocatedBlocks{}, fmt.Errorf("%w: %s is stored inline in the NameNode (%s > 0 when it was written): read it with WebHDFS OPEN on the NameNode", webhdfs.ErrIOException, path, KeyMaxInline)
	}
	n.act.getBlockLocations.Add(1)
	return n.locatedBlocks(f, offset, length, hdfs.ClientMachine(ctx), user), nil
}

func (r *ClientRPC) GetAdditionalDatanode(ctx context.Context, path string, fileID int64, b hdfs.ExtendedBlock, existing []hdfs.DatanodeInfo, excluded []hdfs.DatanodeID, numAdditional int, clientName, user string) (hdfs.LocatedBlock, error) {
	n := r.n
	if s := n.State(); s != StateActive {
		return hdfs.LocatedBlock{}, standbyError("READ", s)
	}
	n.mu.Lock() // placement draws from the manager's random source
	defer n.mu.Unlock()
	f, err := n.leaseOf(path, fileID, clientName)
	if err != nil {
		return hdfs.LocatedBlock{}, err
	}
	have := make([]hdfs.DatanodeID, len(existing))
	for i, e := range existing {
		have[i] = e.DatanodeID
	}
	chosen := n.bm.ChooseTargets(numAdditional, hdfs.ClientMachine(ctx), n.nodesOf(append(have, excluded...)), f.blockSize)
	if len(chosen) < numAdditional {
		return hdfs.LocatedBlock{}, fmt.Errorf("%w: %w: Failed to find %d more datanode(s) for the pipeline of %s (found %d)", webhdfs.ErrIOException, hdfs.ErrNoDatanodes, numAdditional, b, len(chosen))
	}
	return hdfs.LocatedBlock{Block: b, Locations: append(append([]hdfs.DatanodeInfo(nil), existing...), blockmgmt.Infos(chosen)...),
		Token: n.blockToken(b, user, hdfs.AccessCopy)}, nil
}

func (r *ClientRPC) UpdateBlockForPipeline(ctx context.Context, b hdfs.ExtendedBlock, clientName, user string) (hdfs.LocatedBlock, error) {
	n := r.n
	var out hdfs.LocatedBlock
	err := n.write(ctx, user, "get a new generation stamp for", b.String(), func(*caller) ([]*Op, func(), error) {
		blk, f, _, err := n.ucFileOfBlock(b.ID)
		if err != nil {
			return nil, nil, err
		}
		if f.uc.holder != clientName {
			return nil, nil, fmt.Errorf("%w: Client %s is not the lease owner (%s) of %s", hdfs.ErrLeaseExpired, clientName, f.uc.holder, b)
		}
		if blk.State != blockmgmt.UnderConstruction {
			return nil, nil, fmt.Errorf("%w: %s is not under construction", webhdfs.ErrIOException, b)
		}
		gs := n.ns.genStamp + 1
		return []*Op{{Code: OpSetGenStamp, GenStamp: gs}}, func() {
			n.renew(clientName)
			out = n.located(blk, f.length()-blk.NumBytes, "", user, hdfs.AccessWrite)
			out.Block.GenStamp = gs
			out.Token = n.blockToken(out.Block, user, hdfs.AccessWrite)
		}, nil
	})
	return out, err
}

func (r *ClientRPC) UpdatePipeline(ctx context.Context, clientName string, oldBlock, newBlock hdfs.ExtendedBlock, newNodes []hdfs.DatanodeID, user string) error {
	n := r.n
	return n.write(ctx, user, "update the pipeline of", oldBlock.String(), func(*caller) ([]*Op, func(), error) {
		blk, f, path, err := n.ucFileOfBlock(oldBlock.ID)
		if err != nil {
			return nil, nil, err
		}
		if f.uc.holder != clientName {
			return nil, nil, fmt.Errorf("%w: Client %s is not the lease owner (%s) of %s", hdfs.ErrLeaseExpired, clientName, f.uc.holder, oldBlock)
		}
		if newBlock.ID != oldBlock.ID || newBlock.GenStamp <= blk.GenStamp || newBlock.GenStamp > n.ns.genStamp || newBlock.NumBytes < 0 {
			return nil, nil, fmt.Errorf("%w: Update %s (len = %d) to an older state: %s (len = %d)", webhdfs.ErrIOException, oldBlock.Block, blk.NumBytes, newBlock.Block, newBlock.NumBytes)
		}
		list := blockList(f)
		if list[len(list)-1].ID != blk.ID {
			return nil, nil, fmt.Errorf("%w: %s is not the last block of %s", webhdfs.ErrIOException, oldBlock, path)
		}
		list[len(list)-1] = newBlock.Block
		nodes := n.nodesOf(newNodes)
		op := &Op{Code: OpUpdateBlocks, Path: path, Blocks: list}
		tagRetry(ctx, op)
		return []*Op{op}, func() {
			n.bm.SetExpected(blk, nodes)
			n.renew(clientName)
		}, nil
	})
}

func (r *ClientRPC) Fsync(ctx context.Context, path string, fileID int64, clientName string, lastBlockLength int64, user string) error {
	n := r.n
	return n.write(ctx, user, "fsync", path, func(*caller) ([]*Op, func(), error) {
		f, err := n.leaseOf(path, fileID, clientName)
		if err != nil {
			return nil, nil, err
		}
		after := func() { n.renew(clientName) }
		if lastBlockLength <= 0 || len(f.blocks) == 0 {
			return nil, after, nil
		}
		list := blockList(f)
		last := &list[len(list)-1]
		if f.blocks[len(f.blocks)-1].State != blockmgmt.UnderConstruction || lastBlockLength <= last.NumBytes {
			return nil, after, nil
		}
		last.NumBytes = lastBlockLength
		return []*Op{{Code: OpUpdateBlocks, Path: path, Blocks: list}}, after, nil
	})
}

func (r *ClientRPC) RenewLease(ctx context.Context, clientName, user string) error {
	n := r.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.State(); s != StateActive {
		return standbyError("WRITE", s)
	}
	if n.bm.InSafeMode() {
		return n.safeModeError("renew lease for", clientName)
	}
	if _, ok := n.leases[clientName]; ok {
		n.renew(clientName)
	}
	return nil
}

func (r *ClientRPC) RecoverLease(ctx context.Context, path, clientName, user string) (bool, error) {
	n := r.n
	closed := false
	err := n.writeThen(ctx, user, "recover lease of", path, func(c *caller) ([]*Op, func(), error) {
		if err := n.ns.checkOp(c, &Op{Code: OpAppend, Path: path}); err != nil {
			return nil, nil, err
		}
		f, err := n.ns.resolve(path)
		if err != nil {
			return nil, nil, err
		}
		if f.dir {
			return nil, nil, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, path)
		}
		if f.uc == nil {
			closed = true
			return nil, nil, nil
		}
		// recoverLease forces the recovery whoever holds the lease, but
		// one already under way is left to finish (Hadoop's
		// recoverLeaseInternal with force).
		if f.uc.holder == recoveryHolder && len(f.blocks) > 0 && n.bm.RecoveryID(f.blocks[len(f.blocks)-1]) != 0 {
			return nil, nil, nil
		}
		ops, after, c2, err := n.releaseLease(f, path)
		closed = c2
		return ops, after, err
	})
	return closed && err == nil, err
}

func (r *ClientRPC) GetDatanodeReport(ctx context.Context, kind hdfs.DatanodeReportType, user string) ([]hdfs.DatanodeInfo, error) {
	n := r.n
	var who caller
	c := n.caller(&who, user)
	// Hadoop's getDatanodeReport is of category UNCHECKED: a standby
	// answers too (it knows the DataNodes as well as the active).
	n.mu.RLock()
	defer n.mu.RUnlock()
	if s := n.State(); s != StateActive && s != StateStandby {
		return nil, standbyError("READ", s)
	}
	if c != nil && !c.super {
		return nil, &accessError{fmt.Sprintf("Access denied for user %s. Superuser privilege is required", c.user)}
	}
	var out []hdfs.DatanodeInfo
	for _, d := range n.bm.Nodes() {
		ok := false
		switch kind {
		case hdfs.ReportAll, "":
			ok = true
		case hdfs.ReportLive:
			ok = !d.Dead()
		case hdfs.ReportDead:
			ok = d.Dead()
		case hdfs.ReportDecommissioning:
			ok = d.Info.AdminState == hdfs.AdminDecommissionInProgress
		default:
			return nil, webhdfs.IllegalArgumentError("unknown datanode report type %q", kind)
		}
		if ok {
			out = append(out, d.Info)
		}
	}
	return out, nil
}

func (r *ClientRPC) ReportBadBlocks(ctx context.Context, blocks []hdfs.LocatedBlock, user string) error {
	n := r.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.State(); s != StateActive {
		return standbyError("WRITE", s)
	}
	for _, lb := range blocks {
		n.logf("namenode %s: client %s reports corrupt %s on %s", n.cfg.ID, defUser(user), lb.Block, nodeNames(lb.Locations))
	}
	n.bm.ReportBad(blocks)
	return nil
}

func nodeNames(infos []hdfs.DatanodeInfo) string {
	s := make([]string, len(infos))
	for i, d := range infos {
		s[i] = d.XferAddr()
	}
	return strings.Join(s, ",")
}

func (r *ClientRPC) GetServerDefaults(ctx context.Context) (hdfs.ServerDefaults, error) {
	n := r.n
	if s := n.State(); s != StateActive && !(s == StateStandby && n.allowStale) {
		return hdfs.ServerDefaults{}, standbyError("READ", s)
	}
	return hdfs.ServerDefaults{BlockSize: n.cfg.DefaultBlockSize, BytesPerChecksum: n.cfg.BytesPerChecksum, WritePacketSize: 64 << 10,
		Replication: n.cfg.DefaultReplication, FileBufferSize: 4096, TrashInterval: n.cfg.TrashInterval, ChecksumType: "CRC32C"}, nil
}
