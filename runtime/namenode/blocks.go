package namenode

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// The first block ID and generation stamp handed out, as Hadoop's
// (SequentialBlockIdGenerator.LAST_RESERVED_BLOCK_ID + 1 and
// GenerationStamp.LAST_RESERVED_STAMP + 1).
const (
	firstBlockID  = 1 << 30
	firstGenStamp = 1001
)

// recoveryHolder is the lease holder of a file whose lease the NameNode
// took over for recovery (Hadoop's HdfsServerConstants.NAMENODE_LEASE_HOLDER).
const recoveryHolder = "HDFS_NameNode"

// fileUC is what a file under construction has besides its blocks
// (Hadoop's FileUnderConstructionFeature).
type fileUC struct {
	holder  string // the client holding the lease
	machine string // its host, where placement puts the first replica
}

// length is a file's length: its inline data or the sum of its blocks.
func (n *inode) length() int64 {
	if len(n.blocks) == 0 {
		return int64(len(n.data))
	}
	var l int64
	for _, b := range n.blocks {
		l += b.NumBytes
	}
	return l
}

// freeFile releases what a removed file held: its lease and its blocks
// (the active then has their replicas deleted).
func (ns *Namespace) freeFile(f *inode) {
	if f.dir {
		return
	}
	if f.uc != nil {
		delete(ns.uc, f.id)
	}
	if ns.bm != nil {
		for _, b := range f.blocks {
			ns.bm.RemoveBlock(b)
		}
	}
}

func (ns *Namespace) freeTree(n *inode) {
	if !n.dir {
		ns.freeFile(n)
		return
	}
	for _, c := range n.children {
		ns.freeTree(c)
	}
}

// allBlocks returns every block of every file.
func (ns *Namespace) allBlocks() []*blockmgmt.BlockInfo {
	var out []*blockmgmt.BlockInfo
	var walk func(n *inode)
	walk = func(n *inode) {
		out = append(out, n.blocks...)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(ns.root)
	return out
}

// attach makes bm index the namespace's blocks from now on.
func (ns *Namespace) attach(bm *blockmgmt.Manager) {
	ns.bm = bm
	bm.Rebuild(ns.allBlocks())
}

// LastBlockID and GenStamp are the last block ID and stamp handed out.
func (ns *Namespace) LastBlockID() int64 { return ns.lastBlockID }
func (ns *Namespace) GenStamp() int64    { return ns.genStamp }

// ucFile returns the file under construction at p.
func (ns *Namespace) ucFile(p string) (*inode, error) {
	n, err := ns.resolve(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, fmt.Errorf("%w: %s is a directory", webhdfs.ErrNotFound, p)
	}
	if n.uc == nil {
		return nil, fmt.Errorf("%w: No lease on %s: File is not open for writing.", hdfs.ErrLeaseExpired, p)
	}
	return n, nil
}

// prepareBlockOp checks an op of a file in blocks against the tree. The
// NameNode checked the lease and the blocks before building it.
func (ns *Namespace) prepareBlockOp(op *Op) (bool, error) {
	switch op.Code {
	case OpAppendFile:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return false, err
		}
		switch {
		case n.dir:
			return false, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, op.Path)
		case n.uc != nil:
			return false, fmt.Errorf("%w: %s is already being created by %s", hdfs.ErrAlreadyBeingCreated, op.Path, n.uc.holder)
		case len(n.data) > 0:
			return false, fmt.Errorf("%w: %s is stored inline in the NameNode (written with %s > 0): it cannot be appended to in blocks", webhdfs.ErrIOException, op.Path, KeyMaxInline)
		}
		return true, nil
	case OpAddBlock, OpUpdateBlocks, OpClose, OpReassignLease:
		n, err := ns.ucFile(op.Path)
		if err != nil {
			return false, err
		}
		if op.Code == OpAddBlock && (len(op.Blocks) == 0 || len(op.Blocks) > 2) {
			return false, fmt.Errorf("%w: %s with %d blocks", ErrBadEdit, op.Code, len(op.Blocks))
		}
		if op.Code == OpUpdateBlocks || op.Code == OpClose {
			for i, b := range op.Blocks {
				if i < len(n.blocks) && n.blocks[i].ID != b.ID {
					return false, fmt.Errorf("%w: block %d of %s is %s, not %s", ErrBadEdit, i, op.Path, n.blocks[i].Block, b)
				}
			}
		}
		return true, nil
	case OpSetGenStamp:
		return op.GenStamp > ns.genStamp, nil
	case OpTruncateFile:
		return false, fmt.Errorf("%w: %s is logged for OP_TRUNCATE of a file in blocks only", ErrBadEdit, op.Code)
	case OpConvertInline:
		_, _, err := ns.convertPair(op)
		return err == nil, err
	}
	return false, fmt.Errorf("unknown operation %d", op.Code)
}

// prepareTruncateBlocks turns a truncate of a file in blocks into
// OpTruncateFile: on a block boundary the blocks past it are freed at once;
// within a block the file is under construction again, leased to the
// client, until block recovery cut the last block (Hadoop's in-place
// truncate; the client is told false and waits for the file to close).
func (ns *Namespace) prepareTruncateBlocks(op *Op, n *inode) (bool, error) {
	if n.uc != nil {
		return false, fmt.Errorf("%w: Failed to TRUNCATE_FILE %s for %s because %s is already being created by %s",
			hdfs.ErrAlreadyBeingCreated, op.Path, op.ClientName, op.Path, n.uc.holder)
	}
	op.Code = OpTruncateFile
	op.GenStamp = 0
	var end int64
	for _, b := range n.blocks {
		if end == op.Length {
			break
		}
		if end+b.NumBytes > op.Length {
			op.GenStamp = ns.genStamp + 1
			break
		}
		end += b.NumBytes
	}
	if op.ClientName == "" {
		op.ClientName = recoveryHolder
	}
	return true, nil
}

func (ns *Namespace) noteBlock(b hdfs.Block) {
	ns.lastBlockID = max(ns.lastBlockID, b.ID)
	ns.genStamp = max(ns.genStamp, b.GenStamp)
}

// setBlock gives b a new stamp and length and, unless it stays under
// construction, commits it.
func (ns *Namespace) setBlock(b *blockmgmt.BlockInfo, nb hdfs.Block, uc bool) {
	old := b.GenStamp
	changed := b.GenStamp != nb.GenStamp || b.NumBytes != nb.NumBytes
	b.GenStamp, b.NumBytes = nb.GenStamp, nb.NumBytes
	ns.noteBlock(nb)
	if ns.bm == nil {
		b.State = blockmgmt.Complete
		if uc {
			b.State = blockmgmt.UnderConstruction
		}
		return
	}
	switch {
	case !uc && b.State == blockmgmt.UnderConstruction:
		if changed {
			ns.bm.UpdateBlock(b, old) // replicas of the old stamp go first
		}
		ns.bm.Commit(b)
	case uc && b.State != blockmgmt.UnderConstruction:
		b.State = blockmgmt.UnderConstruction
		holders := append([]*blockmgmt.Datanode(nil), b.Locs()...)
		ns.bm.UpdateBlock(b, old)
		ns.bm.SetExpected(b, holders)
	case changed:
		ns.bm.UpdateBlock(b, old)
	}
}

func (ns *Namespace) newBlock(f *inode, nb hdfs.Block, uc bool) {
	b := &blockmgmt.BlockInfo{Block: nb, FileID: f.id, Replication: f.repl, State: blockmgmt.Complete}
	if uc {
		b.State = blockmgmt.UnderConstruction
	}
	f.blocks = append(f.blocks, b)
	ns.noteBlock(nb)
	if ns.bm != nil {
		ns.bm.AddBlock(b)
	}
}

// applyBlockOp applies the ops of files in blocks, live and on replay.
func (ns *Namespace) applyBlockOp(op *Op) error {
	switch op.Code {
	case OpSetGenStamp:
		ns.genStamp = max(ns.genStamp, op.GenStamp)
		return nil
	case OpAppendFile:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if n.dir || n.uc != nil || len(n.data) > 0 {
			return fmt.Errorf("%w: append to %s", ErrBadEdit, op.Path)
		}
		n.uc = &fileUC{holder: op.ClientName, machine: op.ClientMachine}
		ns.uc[n.id] = n
		if op.GenStamp > 0 && len(n.blocks) > 0 {
			last := n.blocks[len(n.blocks)-1]
			ns.setBlock(last, hdfs.Block{ID: last.ID, GenStamp: op.GenStamp, NumBytes: last.NumBytes}, true)
		}
		return nil
	case OpTruncateFile:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if n.dir || n.uc != nil || op.Length < 0 || op.Length > n.length() {
			return fmt.Errorf("%w: truncate %s to %d bytes", ErrBadEdit, op.Path, op.Length)
		}
		var end int64
		keep := 0
		for keep < len(n.blocks) && end < op.Length {
			end += n.blocks[keep].NumBytes
			keep++
		}
		for _, b := range n.blocks[keep:] {
			if ns.bm != nil {
				ns.bm.RemoveBlock(b)
			}
		}
		clear(n.blocks[keep:])
		n.blocks = n.blocks[:keep]
		if len(n.blocks) == 0 {
			n.blocks = nil
		}
		n.mtime = op.Time
		if op.GenStamp > 0 {
			ns.genStamp = max(ns.genStamp, op.GenStamp)
			n.uc = &fileUC{holder: op.ClientName, machine: op.ClientMachine}
			ns.uc[n.id] = n
			if len(n.blocks) > 0 {
				last := n.blocks[len(n.blocks)-1]
				ns.setBlock(last, last.Block, true)
			}
		}
		return nil
	}
	if op.Code == OpConvertInline {
		target, src, err := ns.convertPair(op)
		if err != nil {
			return err
		}
		parts, _ := splitPath(op.Dst)
		parent, err := ns.lookup(parts[:len(parts)-1])
		if err != nil {
			return err
		}
		j, _ := parent.child(parts[len(parts)-1])
		parent.children = slices.Delete(parent.children, j, j+1)
		ns.files--
		target.data, target.blocks, target.blockSize = nil, src.blocks, src.blockSize
		for _, b := range target.blocks {
			b.FileID, b.Replication = target.id, target.repl
			if ns.bm != nil {
				ns.bm.Touch(b)
			}
		}
		return nil
	}
	n, err := ns.ucFile(op.Path)
	if err != nil {
		return err
	}
	switch op.Code {
	case OpReassignLease:
		n.uc.holder = op.ClientName
		return nil
	case OpAddBlock:
		if len(op.Blocks) == 2 {
			prev := op.Blocks[0]
			if len(n.blocks) == 0 || n.blocks[len(n.blocks)-1].ID != prev.ID {
				return fmt.Errorf("%w: %s: previous block %s is not the file's last", ErrBadEdit, op.Path, prev)
			}
			ns.setBlock(n.blocks[len(n.blocks)-1], prev, false)
		} else if len(n.blocks) > 0 && n.blocks[len(n.blocks)-1].State == blockmgmt.UnderConstruction {
			// A client that names no previous block (a retry after the
			// first block) leaves the last one as it was: commit it.
			last := n.blocks[len(n.blocks)-1]
			ns.setBlock(last, last.Block, false)
		}
		ns.newBlock(n, op.Blocks[len(op.Blocks)-1], true)
		return nil
	case OpUpdateBlocks, OpClose:
		closing := op.Code == OpClose
		for i, nb := range op.Blocks {
			uc := !closing && i == len(op.Blocks)-1
			if i < len(n.blocks) {
				if n.blocks[i].ID != nb.ID {
					return fmt.Errorf("%w: block %d of %s is %s, not %s", ErrBadEdit, i, op.Path, n.blocks[i].Block, nb)
				}
				ns.setBlock(n.blocks[i], nb, uc)
				continue
			}
			ns.newBlock(n, nb, uc)
		}
		if len(op.Blocks) < len(n.blocks) {
			for _, b := range n.blocks[len(op.Blocks):] {
				if ns.bm != nil {
					ns.bm.RemoveBlock(b)
				}
			}
			clear(n.blocks[len(op.Blocks):])
			n.blocks = n.blocks[:len(op.Blocks)]
			if len(n.blocks) == 0 {
				n.blocks = nil
			}
		}
		if closing {
			n.uc = nil
			delete(ns.uc, n.id)
			if op.Time > 0 {
				n.mtime, n.atime = op.Time, op.Time
			}
		}
		return nil
	}
	return fmt.Errorf("unknown operation %d", op.Code)
}

// blockList is a file's blocks as an edit records them.
func blockList(n *inode) []hdfs.Block {
	out := make([]hdfs.Block, len(n.blocks))
	for i, b := range n.blocks {
		out[i] = b.Block
	}
	return out
}

// convertPair checks an OpConvertInline: Path is still the inline file
// InodeID, Dst a closed file in blocks of the same length.
func (ns *Namespace) convertPair(op *Op) (target, src *inode, err error) {
	target, err = ns.resolve(op.Path)
	if err != nil {
		return nil, nil, err
	}
	src, err = ns.resolve(op.Dst)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case target.dir || target.id != op.InodeID || len(target.data) == 0 || len(target.blocks) > 0:
		return nil, nil, fmt.Errorf("%w: %s is no longer inline file %d", webhdfs.ErrIOException, op.Path, op.InodeID)
	case src.dir || src.uc != nil || len(src.data) > 0 || src == target:
		return nil, nil, fmt.Errorf("%w: %s is not a closed file in blocks", webhdfs.ErrIOException, op.Dst)
	case src.length() != int64(len(target.data)):
		return nil, nil, fmt.Errorf("%w: %s holds %d bytes, %s %d", webhdfs.ErrIOException, op.Dst, src.length(), op.Path, len(target.data))
	}
	return target, src, nil
}

// inlineFile is a file stored inline, as the converter copies it.
type inlineFile struct {
	path      string
	id        int64
	data      []byte
	repl      int16
	blockSize int64
}

// inlineFiles returns up to max files stored inline, in tree order.
func (ns *Namespace) inlineFiles(max int) []inlineFile {
	var out []inlineFile
	var walk func(n *inode, p string) bool
	walk = func(n *inode, p string) bool {
		if !n.dir {
			if len(n.data) > 0 {
				out = append(out, inlineFile{path: p, id: n.id, data: bytes.Clone(n.data), repl: n.repl, blockSize: n.blockSize})
			}
			return len(out) < max
		}
		for _, c := range n.children {
			if c.name == convertDir[1:] && n == ns.root {
				continue
			}
			if !walk(c, strings.TrimSuffix(p, "/")+"/"+c.name) {
				return false
			}
		}
		return true
	}
	walk(ns.root, "/")
	return out
}
