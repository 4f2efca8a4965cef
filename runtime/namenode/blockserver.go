package namenode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// writeFn builds the edits of one block call under the namespace lock; after,
// when set, runs under the same lock once they are applied (the block
// manager's side: pipelines, recoveries, the result).
type writeFn func(c *caller) (ops []*Op, after func(), err error)

// write runs a block call as user on the active: what fn builds is
// prepared, applied and appended under the namespace lock and synced to a
// quorum outside it, as mutate does for namespace calls. Every edit it
// appended is synced even when a later one fails.
func (n *NameNode) write(ctx context.Context, user, what, path string, fn writeFn) error {
	var who caller
	c := n.caller(&who, user)
	now := n.nowMs()
	n.mu.Lock()
	if s := n.State(); s != StateActive || n.writer == nil {
		n.mu.Unlock()
		return standbyError("WRITE", s)
	}
	if n.bm.InSafeMode() {
		n.mu.Unlock()
		return n.safeModeError(what, path)
	}
	ops, after, err := fn(c)
	w := n.writer
	var last int64
	for _, op := range ops {
		if err != nil {
			break
		}
		if op.Time == 0 {
			op.Time = now
		}
		var changed bool
		if changed, err = n.ns.Prepare(op); err != nil || !changed {
			continue
		}
		txid := n.ns.lastTxid + 1
		if aerr := n.ns.Apply(txid, op); aerr != nil {
			n.mu.Unlock()
			n.writerFailed(w, aerr)
			return aerr
		}
		if got := n.logEdit(w, op); got != txid {
			n.mu.Unlock()
			aerr := fmt.Errorf("%w: journal gave txid %d to namespace txid %d", ErrJournal, got, txid)
			n.writerFailed(w, aerr)
			return aerr
		}
		last = txid
	}
	if err == nil && after != nil {
		after()
	}
	if last == 0 {
		n.mu.Unlock()
		return err
	}
	n.inflight.Add(1)
	n.mu.Unlock()
	defer n.inflight.Done()
	if serr := n.syncEdits(ctx, w, last); serr != nil {
		return serr
	}
	return err
}

// safeModeError is Hadoop's SafeModeException for an operation; from an
// HA active NameNode in start-up safe mode (not entered by hand) a
// RetriableException wrapping it, as Hadoop's checkNameNodeSafeMode: the
// clients wait for the safe mode to end instead of failing (a NameNode
// restarted over data stays in it for dfs.namenode.safemode.extension
// after its blocks were reported).
func (n *NameNode) safeModeError(what, path string) error {
	err := fmt.Errorf("%w: Cannot %s %s. Name node is in safe mode.\n%s", hdfs.ErrSafeMode, what, path, n.bm.SafeModeTip())
	if len(n.cfg.Peers) > 0 && n.State() == StateActive && n.bm.InStartupSafeMode() {
		return fmt.Errorf("%w: %w", webhdfs.ErrRetriable, err)
	}
	return err
}

// leaseOf checks that clientName holds the lease of the file at path
// (fileID, when not 0, must be its inode: the file may have been replaced)
// and returns the file (Hadoop's FSNamesystem.checkLease).
func (n *NameNode) leaseOf(path string, fileID int64, clientName string) (*inode, error) {
	f, err := n.ns.resolve(path)
	if err != nil || (fileID != 0 && f.id != fileID) {
		if fileID != 0 {
			if g := n.ns.uc[fileID]; g != nil {
				f, err = g, nil
			}
		}
		if err == nil && f.id != fileID {
			err = fmt.Errorf("%w: %s (inode %d)", webhdfs.ErrNotFound, path, fileID)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: No lease on %s: File does not exist. Holder %s does not have any open files.", hdfs.ErrLeaseExpired, path, clientName)
		}
	}
	if f.dir {
		return nil, fmt.Errorf("%w: %s is a directory", webhdfs.ErrNotFound, path)
	}
	if f.uc == nil {
		return nil, fmt.Errorf("%w: No lease on %s (inode %d): File is not open for writing.", hdfs.ErrLeaseExpired, path, f.id)
	}
	if f.uc.holder != clientName {
		return nil, fmt.Errorf("%w: Client (=%s) is not the lease owner (=%s) of %s", hdfs.ErrLeaseExpired, clientName, f.uc.holder, path)
	}
	return f, nil
}

// pathOf returns the path of the inode with id (a walk of the tree: only
// the calls that name a block and not a file need it).
func (ns *Namespace) pathOf(id int64) (string, bool) {
	var walk func(n *inode, p string) (string, bool)
	walk = func(n *inode, p string) (string, bool) {
		if n.id == id {
			if p == "" {
				p = "/"
			}
			return p, true
		}
		for _, c := range n.children {
			if c.id == id || c.dir {
				if r, ok := walk(c, p+"/"+c.name); ok {
					return r, true
				}
			}
		}
		return "", false
	}
	return walk(ns.root, "")
}

// ucFileOfBlock returns the file under construction a block belongs to.
func (n *NameNode) ucFileOfBlock(id int64) (*blockmgmt.BlockInfo, *inode, string, error) {
	b := n.bm.Get(id)
	if b == nil {
		return nil, nil, "", fmt.Errorf("%w: Block blk_%d does not exist", webhdfs.ErrIOException, id)
	}
	f := n.ns.uc[b.FileID]
	if f == nil {
		return b, nil, "", fmt.Errorf("%w: Unexpected BlockUCState: %s is not under construction", webhdfs.ErrIOException, b.Block)
	}
	p, ok := n.ns.pathOf(f.id)
	if !ok {
		return b, nil, "", fmt.Errorf("%w: the file of %s is gone", webhdfs.ErrNotFound, b.Block)
	}
	return b, f, p, nil
}

func (n *NameNode) ext(b hdfs.Block) hdfs.ExtendedBlock {
	return hdfs.ExtendedBlock{PoolID: n.info.BlockPoolID, Block: b}
}

// located is a block as a client is told it: its live, good replicas best
// first, or its corrupt ones (Corrupt set) when it has no other.
func (n *NameNode) located(b *blockmgmt.BlockInfo, offset int64, reader, user, mode string) hdfs.LocatedBlock {
	lb := hdfs.LocatedBlock{Block: n.ext(b.Block), Offset: offset}
	var nodes []*blockmgmt.Datanode
	if b.State == blockmgmt.UnderConstruction {
		nodes = n.bm.Expected(b)
	}
	if len(nodes) == 0 {
		nodes = n.bm.Sorted(b, reader)
	}
	if len(nodes) == 0 {
		if cs := n.bm.CorruptReplicas(b.ID); len(cs) > 0 {
			nodes, lb.Corrupt = cs, true
		}
	}
	lb.Locations = blockmgmt.Infos(nodes)
	lb.Token = n.blockToken(lb.Block, user, mode)
	return lb
}

// --- the lease manager (Hadoop's LeaseManager), the active's ---

// renew records that holder is alive (under n.mu).
func (n *NameNode) renew(holder string) {
	if n.leases == nil {
		n.leases = map[string]int64{}
	}
	n.leases[holder] = n.nowMs()
}

// dropLeaseIfIdle forgets holder once it has no file open.
func (n *NameNode) dropLeaseIfIdle(holder string) {
	for _, f := range n.ns.uc {
		if f.uc.holder == holder {
			return
		}
	}
	delete(n.leases, holder)
}

// resetLeases gives every file under construction's holder a fresh lease
// (a new active: Hadoop's leases are not in the edits, their clocks restart).
func (n *NameNode) resetLeases() {
	n.leases = map[string]int64{}
	for _, f := range n.ns.uc {
		n.renew(f.uc.holder)
	}
}

// softExpired reports whether holder's lease passed the soft limit.
func (n *NameNode) softExpired(holder string) bool {
	t, ok := n.leases[holder]
	return !ok || n.nowMs()-t > n.cfg.LeaseSoftLimit.Milliseconds()
}

// releaseLease is Hadoop's internalReleaseLease for file f at path: a file
// whose blocks are all complete is closed; one whose last block is still
// being written goes to block recovery (a new stamp, the lease to the
// NameNode, RECOVERBLOCK to a primary DataNode), and is closed by
// CommitBlockSynchronization. The ops come back to be logged; closed says
// the file is closed by them.
func (n *NameNode) releaseLease(f *inode, path string) (ops []*Op, after func(), closed bool, err error) {
	blocks := blockList(f)
	if len(f.blocks) == 0 {
		return []*Op{{Code: OpClose, Path: path, Blocks: blocks}}, nil, true, nil
	}
	last := f.blocks[len(f.blocks)-1]
	if len(f.blocks) > 1 {
		if pen := f.blocks[len(f.blocks)-2]; pen.State != blockmgmt.Complete && !n.bm.HasMinReplicas(pen) {
			return nil, nil, false, fmt.Errorf("%w: DIR* NameSystem.internalReleaseLease: Failed to release lease for file %s. Committed blocks are waiting to be minimally replicated. Try again later.", hdfs.ErrAlreadyBeingCreated, path)
		}
	}
	switch last.State {
	case blockmgmt.Complete:
		return []*Op{{Code: OpClose, Path: path, Blocks: blocks}}, nil, true, nil
	case blockmgmt.Committed:
		if n.bm.HasMinReplicas(last) {
			return []*Op{{Code: OpClose, Path: path, Blocks: blocks}}, nil, true, nil
		}
		return nil, nil, false, fmt.Errorf("%w: DIR* NameSystem.internalReleaseLease: Failed to release lease for file %s. Committed blocks are waiting to be minimally replicated. Try again later.", hdfs.ErrAlreadyBeingCreated, path)
	}
	if len(n.bm.Expected(last)) == 0 && len(last.Locs()) == 0 && last.NumBytes == 0 {
		// Allocated but never written to any DataNode: drop it.
		return []*Op{{Code: OpClose, Path: path, Blocks: blocks[:len(blocks)-1]}}, nil, true, nil
	}
	gs := n.ns.genStamp + 1
	ops = []*Op{{Code: OpSetGenStamp, GenStamp: gs}}
	if f.uc.holder != recoveryHolder {
		ops = append(ops, &Op{Code: OpReassignLease, Path: path, ClientName: recoveryHolder})
	}
	after = func() {
		n.renew(recoveryHolder)
		if !n.bm.StartRecovery(last, gs, nil) {
			n.logf("namenode %s: lease recovery of %s: no live DataNode holds %s", n.cfg.ID, path, last.Block)
		}
	}
	return ops, after, false, nil
}

// checkLeases is the lease monitor's round (Hadoop's LeaseManager.Monitor):
// the files of every holder past the hard limit go to lease recovery.
func (n *NameNode) checkLeases(ctx context.Context) {
	n.mu.RLock()
	if n.State() != StateActive || n.bm.InSafeMode() {
		n.mu.RUnlock()
		return
	}
	now := n.nowMs()
	var due []int64
	holding := map[string]bool{}
	for id, f := range n.ns.uc {
		holding[f.uc.holder] = true
		if t, ok := n.leases[f.uc.holder]; !ok || now-t > n.cfg.LeaseHardLimit.Milliseconds() {
			due = append(due, id)
		}
	}
	var idle []string
	for h := range n.leases {
		if !holding[h] {
			idle = append(idle, h) // its files were deleted or closed otherwise
		}
	}
	n.mu.RUnlock()
	if len(idle) > 0 {
		n.mu.Lock()
		for _, h := range idle {
			n.dropLeaseIfIdle(h)
		}
		n.mu.Unlock()
	}
	for _, id := range due {
		var path string
		err := n.write(ctx, "", "recover lease of", fmt.Sprint(id), func(*caller) ([]*Op, func(), error) {
			f := n.ns.uc[id]
			if f == nil {
				return nil, nil, nil
			}
			p, ok := n.ns.pathOf(id)
			if !ok {
				return nil, nil, nil
			}
			path = p
			n.logf("namenode %s: lease of %s on %s passed the hard limit: recovering", n.cfg.ID, f.uc.holder, p)
			ops, after, _, err := n.releaseLease(f, p)
			return ops, after, err
		})
		if err != nil {
			n.logf("namenode %s: lease recovery of %s: %v", n.cfg.ID, path, err)
		}
	}
}

// recoverOrRefuse is Hadoop's recoverLeaseInternal for a create or append
// of a file under construction by another client: past the soft limit its
// lease is recovered; otherwise the call is refused. closed says the file
// is closed by the returned ops (recoverLease itself forces the recovery:
// it calls releaseLease).
func (n *NameNode) recoverOrRefuse(what string, f *inode, path, clientName string) (ops []*Op, after func(), closed bool, err error) {
	if f.uc.holder == clientName {
		return nil, nil, false, fmt.Errorf("%w: Failed to %s %s for %s because the current leaseholder is trying to recreate file.", hdfs.ErrAlreadyBeingCreated, what, path, clientName)
	}
	if !n.softExpired(f.uc.holder) {
		return nil, nil, false, fmt.Errorf("%w: Failed to %s %s for %s because this file lease is currently owned by %s on %s",
			hdfs.ErrAlreadyBeingCreated, what, path, clientName, f.uc.holder, f.uc.machine)
	}
	ops, after, closed, err = n.releaseLease(f, path)
	if err != nil || closed {
		return ops, after, closed, err
	}
	return ops, after, false, fmt.Errorf("%w: Failed to %s %s for %s because lease recovery is in progress. Try again later.", hdfs.ErrRecoveryInProgress, what, path, clientName)
}

// errAfterOps lets a write log the recovery it started and still refuse
// the call.
type errAfterOps struct{ err error }

func (e errAfterOps) Error() string { return e.err.Error() }
func (e errAfterOps) Unwrap() error { return e.err }

// writeThen is write for a call that may log a lease recovery and then
// refuse (the refusal comes back after the recovery's edits are durable).
func (n *NameNode) writeThen(ctx context.Context, user, what, path string, fn writeFn) error {
	var refusal error
	err := n.write(ctx, user, what, path, func(c *caller) ([]*Op, func(), error) {
		ops, after, err := fn(c)
		var ea errAfterOps
		if errors.As(err, &ea) {
			refusal = ea.err
			return ops, after, nil
		}
		return ops, after, err
	})
	if err != nil {
		return err
	}
	return refusal
}

// BlockTick runs the block manager's monitors and the lease monitor once
// (the daemon calls it every dfs.namenode.replication.interval).
func (n *NameNode) BlockTick(ctx context.Context) {
	n.mu.Lock()
	if n.ns != nil {
		n.bm.Tick()
	}
	n.mu.Unlock()
	n.checkLeases(ctx)
}

// runBlockMonitor calls BlockTick every interval until ctx ends.
func (n *NameNode) runBlockMonitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s := n.State(); s == StateActive || s == StateStandby {
				n.BlockTick(ctx)
				n.convertTick(ctx)
			}
		}
	}
}

// BlockManager returns the block manager (tests and /jmx read it under
// the namespace lock).
func (n *NameNode) BlockManager() *blockmgmt.Manager { return n.bm }

// locatedBlocks lists the blocks of f overlapping [offset, offset+length)
// (length < 0: to the end), as Hadoop's createLocatedBlocks: a last block
// being written is not among them nor in FileLength, it is LastBlock.
func (n *NameNode) locatedBlocks(f *inode, offset, length int64, reader, user string) hdfs.LocatedBlocks {
	out := hdfs.LocatedBlocks{UnderConstruction: f.uc != nil}
	blocks := f.blocks
	var ucLast *blockmgmt.BlockInfo
	if f.uc != nil && len(blocks) > 0 && blocks[len(blocks)-1].State == blockmgmt.UnderConstruction {
		ucLast, blocks = blocks[len(blocks)-1], blocks[:len(blocks)-1]
	}
	end := offset + length
	if length < 0 || end < offset {
		end = 1<<63 - 1
	}
	var pos int64
	for _, b := range blocks {
		if pos+b.NumBytes > offset && pos < end {
			out.Blocks = append(out.Blocks, n.located(b, pos, reader, user, hdfs.AccessRead))
		}
		pos += b.NumBytes
	}
	out.FileLength = pos
	switch {
	case ucLast != nil:
		lb := n.located(ucLast, pos, reader, user, hdfs.AccessRead)
		out.LastBlock = &lb
	case len(blocks) > 0:
		last := blocks[len(blocks)-1]
		lb := n.located(last, pos-last.NumBytes, reader, user, hdfs.AccessRead)
		out.LastBlock, out.LastBlockComplete = &lb, true
	default:
		out.LastBlockComplete = true
	}
	return out
}

// nodesOf maps DataNode IDs to the descriptors known (unknown ones are left out).
func (n *NameNode) nodesOf(ids []hdfs.DatanodeID) []*blockmgmt.Datanode {
	var out []*blockmgmt.Datanode
	for _, id := range ids {
		if d := n.bm.Node(id.UUID); d != nil && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// defaultBlockConfig fills the block keys a Config built by hand leaves
// zero with Hadoop's defaults.
func (n *NameNode) defaultBlockConfig() {
	c := &n.cfg
	if c.DefaultReplication <= 0 {
		c.DefaultReplication = 3
	}
	if c.DefaultBlockSize <= 0 {
		c.DefaultBlockSize = 128 << 20
	}
	if c.BytesPerChecksum <= 0 {
		c.BytesPerChecksum = 512
	}
	if c.LeaseSoftLimit <= 0 {
		c.LeaseSoftLimit = 60 * time.Second
	}
	if c.LeaseHardLimit <= 0 {
		c.LeaseHardLimit = 20 * time.Minute
	}
	if c.ReplicationInterval <= 0 {
		c.ReplicationInterval = 3 * time.Second
	}
	if c.BlockTokenLifetime <= 0 {
		c.BlockTokenLifetime = 10 * time.Hour
	}
	if c.BlockManager == (blockmgmt.Config{}) {
		c.BlockManager = blockmgmt.DefaultConfig()
		c.BlockManager.DefaultReplication = c.DefaultReplication
	}
}

// opVerb names an operation as Hadoop's SafeModeException does ("Cannot
// create directory /a. Name node is in safe mode.").
func opVerb(c OpCode) string {
	switch c {
	case OpMkdirs:
		return "create directory"
	case OpCreate, OpAddFile:
		return "create file"
	case OpAppend, OpAppendFile:
		return "append to file"
	case OpDelete:
		return "delete"
	case OpRename:
		return "rename"
	case OpSetPermission:
		return "set permission for"
	case OpSetOwner:
		return "set owner for"
	case OpSetReplication:
		return "set replication for"
	case OpTimes:
		return "set times"
	case OpTruncate, OpTruncateFile:
		return "truncate"
	case OpConcat:
		return "concat"
	}
	return "modify"
}

// chooseDataNode is where WebHDFS's first step sends a CREATE, APPEND or
// OPEN (Hadoop's NamenodeWebHdfsMethods.chooseDatanode): a file stored
// inline (and, with hactl.namenode.max-inline-file-bytes > 0, every new
// one) is served here (""); otherwise CREATE goes to a live DataNode, one
// on the client's host first, APPEND to a holder of the last block and OPEN
// to a holder of the block at offset. Never to a DataNode exclude names
// (the client's excludedatanodes: ones it could not reach), and to a
// stale one (silent past dfs.namenode.stale.datanode.interval) only when
// no fresh one will do.
func (n *NameNode) chooseDataNode(ctx context.Context, op, path string, offset int64, user, clientHost string, exclude []string) (string, error) {
	var who caller
	c := n.caller(&who, user)
	// Only CREATE's placement draws from the block manager's random
	// source; OPEN and APPEND (most of the traffic) only read.
	if op == "CREATE" {
		n.mu.Lock()
		defer n.mu.Unlock()
	} else {
		n.mu.RLock()
		defer n.mu.RUnlock()
	}
	category := "WRITE"
	if op == "OPEN" {
		category = "READ"
	}
	if s := n.State(); s != StateActive && !(s == StateStandby && n.allowStale && op == "OPEN") {
		return "", standbyError(category, s)
	}
	excluded := func(d *blockmgmt.Datanode) bool {
		for _, e := range exclude {
			if d.Named(e) {
				return true
			}
		}
		return false
	}
	// first is the first of ds (a holder list, fresh before stale) the
	// client did not exclude.
	first := func(ds []*blockmgmt.Datanode) *blockmgmt.Datanode {
		for _, d := range ds {
			if !d.Dead() && !excluded(d) {
				return d
			}
		}
		return nil
	}
	f := n.ns.walk(path)
	var pick *blockmgmt.Datanode
	switch op {
	case "CREATE":
		if n.cfg.MaxInline > 0 {
			return "", nil
		}
	case "APPEND":
		if f == nil || f.dir || len(f.data) > 0 || (n.cfg.MaxInline > 0 && len(f.blocks) == 0) {
			return "", nil // served here: the namespace answers or refuses
		}
		if len(f.blocks) > 0 {
			pick = first(n.bm.Sorted(f.blocks[len(f.blocks)-1], clientHost))
		}
	case "OPEN":
		if f == nil || f.dir || len(f.blocks) == 0 {
			return "", nil // inline or empty: the data step here reads it
		}
		if err := n.ns.checkRead(c, path, readOpen); err != nil {
			return "", err
		}
		var pos int64
		for _, b := range f.blocks {
			if offset < pos+b.NumBytes || b == f.blocks[len(f.blocks)-1] {
				if pick = first(n.bm.Sorted(b, clientHost)); pick == nil {
					pick = first(n.bm.Expected(b))
				}
				break
			}
			pos += b.NumBytes
		}
	default:
		return "", nil
	}
	if pick == nil && op == "CREATE" {
		var avoid, stale []*blockmgmt.Datanode
		for _, d := range n.bm.Nodes() {
			if excluded(d) {
				avoid = append(avoid, d)
			} else if n.bm.Stale(d) {
				stale = append(stale, d)
			}
		}
		if t := n.bm.ChooseTargets(1, clientHost, append(slices.Clone(avoid), stale...), 0); len(t) > 0 {
			pick = t[0]
		} else if t := n.bm.ChooseTargets(1, clientHost, avoid, 0); len(t) > 0 {
			pick = t[0]
		}
	}
	if pick == nil {
		pick = n.bm.AnyLive(clientHost, excluded)
	}
	if pick == nil {
		ex := "null"
		if len(exclude) > 0 {
			ex = strings.Join(exclude, ",")
		}
		return "", fmt.Errorf("%w: Failed to find datanode, suggest to check cluster health. excludeDatanodes=%s", webhdfs.ErrIOException, ex)
	}
	return pick.Info.InfoAddr(), nil
}

// blockToken is the block access token of b for user and mode when
// dfs.block.access.token.enable is set (nil otherwise), valid for
// dfs.block.access.token.lifetime, signed with the cluster secret as the
// DataNodes check it (hdfs.VerifyBlockToken).
func (n *NameNode) blockToken(b hdfs.ExtendedBlock, user, mode string) *hdfs.Token {
	if !n.cfg.BlockTokens {
		return nil
	}
	modes := []string{mode}
	if mode == hdfs.AccessWrite {
		// A writer also copies to a replacement DataNode in pipeline recovery.
		modes = append(modes, hdfs.AccessCopy)
	}
	return hdfs.NewBlockToken(n.cfg.Secret, b, defUser(user), modes, n.now().Add(n.cfg.BlockTokenLifetime))
}
