package namenode

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// Hadoop's dfs.namenode.replication.min and dfs.replication.max defaults,
// the bounds SETREPLICATION checks a factor against.
const (
	minReplication = 1
	maxReplication = 512
)

// rootInodeID is the id HDFS gives the root directory (INodeId.ROOT_INODE_ID).
const rootInodeID = 16385

// inode is one directory or file. It is kept small on purpose (the target is
// under 300 bytes per inode all told): owner and group are indexes into the
// namespace's string table, children are a sorted slice (no map), and there
// is no parent pointer because every operation resolves paths from the root.
type inode struct {
	name     string
	children []*inode // sorted by name; directories only
	data     []byte   // file contents, stored inline
	// blocks are the file's contents on DataNodes (a file has either
	// inline data or blocks: inline files predate the DataNodes or were
	// written with hactl.namenode.max-inline-file-bytes > 0).
	blocks    []*blockmgmt.BlockInfo
	uc        *fileUC // set while the file is under construction
	id        int64
	mtime     int64 // ms since the epoch
	atime     int64
	blockSize int64
	owner     uint32
	group     uint32
	perm      uint16
	repl      int16
	dir       bool
}

func (n *inode) child(name string) (int, bool) {
	return slices.BinarySearchFunc(n.children, name, func(c *inode, name string) int {
		return strings.Compare(c.name, name)
	})
}

// Namespace is the in-memory directory tree. It is not safe for concurrent
// use: the NameNode guards it with its namespace lock. Every mutation goes
// through Apply so that applying an edit live and replaying it from the
// journal run exactly the same code.
type Namespace struct {
	root        *inode
	lastInodeID int64
	lastTxid    int64
	files, dirs int64
	names       []string
	nameIdx     map[string]uint32
	// lastBlockID and genStamp are the last block ID and generation stamp
	// handed out (Hadoop's SequentialBlockIdGenerator and GenerationStamp).
	lastBlockID int64
	genStamp    int64
	// uc holds the files under construction by inode id (the lease
	// manager's index).
	uc map[int64]*inode
	// bm, when set, indexes the blocks the namespace adds and frees.
	bm *blockmgmt.Manager
	// MaxInline is the largest file the namespace accepts (file contents are
	// inline); enforced when an operation is prepared, not when replayed, so a
	// lowered limit never makes the journal unreadable.
	MaxInline int64
}

// NewNamespace returns an empty tree: the root directory, owned by the
// superuser, as format leaves it.
func NewNamespace(maxInline int64, superuser, supergroup string, mtime int64) *Namespace {
	ns := &Namespace{nameIdx: map[string]uint32{}, MaxInline: maxInline, lastInodeID: rootInodeID, dirs: 1,
		lastBlockID: firstBlockID - 1, genStamp: firstGenStamp - 1, uc: map[int64]*inode{}}
	ns.root = &inode{dir: true, id: rootInodeID, perm: 0o755, mtime: mtime, atime: mtime,
		owner: ns.intern(superuser), group: ns.intern(supergroup)}
	return ns
}

func (ns *Namespace) intern(s string) uint32 {
	if i, ok := ns.nameIdx[s]; ok {
		return i
	}
	i := uint32(len(ns.names))
	ns.names = append(ns.names, s)
	ns.nameIdx[s] = i
	return i
}

// LastTxid is the txid of the last edit applied.
func (ns *Namespace) LastTxid() int64 { return ns.lastTxid }

// Counts returns the number of files and directories (root included).
func (ns *Namespace) Counts() (files, dirs int64) { return ns.files, ns.dirs }

// splitPath validates an absolute HDFS path and returns its components.
func splitPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%w: %q is not an absolute path", webhdfs.ErrInvalidPath, p)
	}
	var parts []string
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "":
			continue
		case c == "." || c == ".." || strings.ContainsAny(c, ":\x00"):
			return nil, fmt.Errorf("%w: %q has an invalid component %q", webhdfs.ErrInvalidPath, p, c)
		}
		parts = append(parts, c)
	}
	return parts, nil
}

// lookup returns the inode at parts, or ErrNotFound / ErrParentNotDir.
func (ns *Namespace) lookup(parts []string) (*inode, error) {
	cur := ns.root
	for i, c := range parts {
		if !cur.dir {
			return nil, fmt.Errorf("%w: /%s is a file", webhdfs.ErrParentNotDir, strings.Join(parts[:i], "/"))
		}
		j, ok := cur.child(c)
		if !ok {
			return nil, fmt.Errorf("%w: /%s", webhdfs.ErrNotFound, strings.Join(parts, "/"))
		}
		cur = cur.children[j]
	}
	return cur, nil
}

func (ns *Namespace) resolve(p string) (*inode, error) {
	if n := ns.walk(p); n != nil {
		return n, nil
	}
	// Not found or not a valid path: splitPath and lookup give the error.
	parts, err := splitPath(p)
	if err != nil {
		return nil, err
	}
	return ns.lookup(parts)
}

// walk is resolve's allocation-free fast path for the common case, a valid
// path that exists (GETFILESTATUS, OPEN, LISTSTATUS): nil when p is not
// absolute, has an invalid component or does not resolve, and the caller
// takes the slow path for the precise error.
func (ns *Namespace) walk(p string) *inode {
	if !strings.HasPrefix(p, "/") {
		return nil
	}
	cur := ns.root
	for rest := p[1:]; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		if c == "" {
			continue
		}
		if c == "." || c == ".." || strings.ContainsAny(c, ":\x00") || !cur.dir {
			return nil
		}
		j, ok := cur.child(c)
		if !ok {
			return nil
		}
		cur = cur.children[j]
	}
	return cur
}

// Prepare checks an operation a client asked for against the tree, fills in
// what the edit must record (the resolved rename target), and reports whether
// it changes anything (a mkdirs of an existing directory, a delete of a
// missing path or a failed rename change nothing and write no edit).
func (ns *Namespace) Prepare(op *Op) (changed bool, err error) {
	switch op.Code {
	case OpMkdirs:
		parts, err := splitPath(op.Path)
		if err != nil {
			return false, err
		}
		cur := ns.root
		for i, c := range parts {
			j, ok := cur.child(c)
			if !ok {
				ns.inheritGroup(op, cur)
				return true, nil
			}
			cur = cur.children[j]
			if !cur.dir {
				if i == len(parts)-1 {
					return false, fmt.Errorf("%w: %s is a file", webhdfs.ErrExists, op.Path)
				}
				return false, fmt.Errorf("%w: /%s is a file", webhdfs.ErrParentNotDir, strings.Join(parts[:i+1], "/"))
			}
		}
		return false, nil
	case OpCreate, OpAddFile:
		if int64(len(op.Data)) > ns.MaxInline {
			return false, fmt.Errorf("%w: %d bytes is over the %d-byte inline limit (hactl.namenode.max-inline-file-bytes)", webhdfs.ErrTooLarge, len(op.Data), ns.MaxInline)
		}
		parts, err := splitPath(op.Path)
		if err != nil {
			return false, err
		}
		if len(parts) == 0 {
			return false, fmt.Errorf("%w: / is a directory", webhdfs.ErrExists)
		}
		cur := ns.root
		for i, c := range parts {
			j, ok := cur.child(c)
			if !ok {
				ns.inheritGroup(op, cur)
				return true, nil
			}
			cur = cur.children[j]
			if i < len(parts)-1 && !cur.dir {
				return false, fmt.Errorf("%w: /%s is a file", webhdfs.ErrParentNotDir, strings.Join(parts[:i+1], "/"))
			}
		}
		if cur.dir {
			return false, fmt.Errorf("%w: %s is a directory", webhdfs.ErrExists, op.Path)
		}
		if !op.Overwrite {
			return false, fmt.Errorf("%w: %s", webhdfs.ErrExists, op.Path)
		}
		ns.inheritGroup(op, cur)
		return true, nil
	case OpAppend:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return false, err
		}
		if n.dir {
			return false, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, op.Path)
		}
		if len(n.blocks) > 0 || n.uc != nil {
			return false, fmt.Errorf("%w: %s is stored in blocks on DataNodes: append through a DataNode", webhdfs.ErrIOException, op.Path)
		}
		if int64(len(n.data))+int64(len(op.Data)) > ns.MaxInline {
			return false, fmt.Errorf("%w: %d bytes is over the %d-byte inline limit (hactl.namenode.max-inline-file-bytes)", webhdfs.ErrTooLarge, len(n.data)+len(op.Data), ns.MaxInline)
		}
		return len(op.Data) > 0, nil
	case OpDelete:
		parts, err := splitPath(op.Path)
		if err != nil {
			return false, err
		}
		if len(parts) == 0 {
			return false, nil // HDFS never deletes the root
		}
		n, err := ns.lookup(parts)
		if errors.Is(err, webhdfs.ErrNotFound) || errors.Is(err, webhdfs.ErrParentNotDir) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if n.dir && len(n.children) > 0 && !op.Recursive {
			return false, fmt.Errorf("%w: %s", webhdfs.ErrNotEmpty, op.Path)
		}
		return true, nil
	case OpRename:
		return ns.prepareRename(op)
	case OpSetPermission, OpSetOwner:
		if _, err := ns.resolve(op.Path); err != nil {
			return false, err
		}
		return true, nil
	case OpSetReplication:
		// Hadoop's BlockManager.verifyReplication, then nothing (and false)
		// for a missing path or a directory.
		if op.Replication < minReplication {
			return false, fmt.Errorf("%w: Requested replication factor of %d is less than the required minimum of %d for %s", webhdfs.ErrIOException, op.Replication, minReplication, op.Path)
		}
		if op.Replication > maxReplication {
			return false, fmt.Errorf("%w: Requested replication factor of %d exceeds maximum of %d for %s", webhdfs.ErrIOException, op.Replication, maxReplication, op.Path)
		}
		n, err := ns.resolve(op.Path)
		if errors.Is(err, webhdfs.ErrNotFound) {
			return false, nil
		}
		if err != nil || n.dir {
			return false, err
		}
		return true, nil
	case OpTimes:
		if _, err := ns.resolve(op.Path); err != nil {
			return false, err
		}
		return op.MTime != -1 || op.ATime != -1, nil
	case OpTruncate:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return false, err
		}
		if n.dir {
			return false, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, op.Path)
		}
		if op.Length < 0 {
			return false, webhdfs.IllegalArgumentError("Cannot truncate to a negative file size: %d.", op.Length)
		}
		if cur := n.length(); op.Length > cur {
			return false, webhdfs.IllegalArgumentError("Cannot truncate to a larger file size. Current size: %d, truncate size: %d.", cur, op.Length)
		}
		if len(n.blocks) > 0 || n.uc != nil {
			return ns.prepareTruncateBlocks(op, n)
		}
		// Truncating to the current length still writes OP_TRUNCATE and
		// moves the modification time, as Hadoop's does.
		return true, nil
	case OpConcat:
		return ns.prepareConcat(op)
	}
	return ns.prepareBlockOp(op)
}

// inheritGroup gives a new inode its parent's group, as HDFS does (BSD
// semantics), unless the client named one.
func (ns *Namespace) inheritGroup(op *Op, parent *inode) {
	if op.Group == "" {
		op.Group = ns.names[parent.group]
	}
}

// prepareRename follows HDFS's rename (the old, boolean one): a missing
// source, an existing file as target, a missing target parent, or a move of a
// directory into itself returns false; an existing directory as target means
// "move into it".
func (ns *Namespace) prepareRename(op *Op) (bool, error) {
	src, err := splitPath(op.Path)
	if err != nil {
		return false, err
	}
	dst, err := splitPath(op.Dst)
	if err != nil {
		return false, err
	}
	if len(src) == 0 {
		return false, nil
	}
	if _, err := ns.lookup(src); err != nil {
		return false, nil
	}
	if d, err := ns.lookup(dst); err == nil && d.dir {
		dst = append(dst, src[len(src)-1])
	}
	if len(src) == len(dst) && isPrefix(src, dst) {
		op.trivial = true // HDFS: renaming a path to itself succeeds and changes nothing
		return false, nil
	}
	if len(dst) == 0 || isPrefix(src, dst) {
		return false, nil // onto / or into its own subtree
	}
	if _, err := ns.lookup(dst); err == nil {
		return false, nil // the target exists
	}
	parent, err := ns.lookup(dst[:len(dst)-1])
	if err != nil || !parent.dir {
		return false, nil
	}
	op.Dst = "/" + strings.Join(dst, "/")
	return true, nil
}

func isPrefix(p, of []string) bool {
	if len(p) > len(of) {
		return false
	}
	for i := range p {
		if p[i] != of[i] {
			return false
		}
	}
	return true
}

// Apply applies a prepared (or replayed) operation with txid. An error means
// the edit does not fit the tree: for a replayed edit, a corrupt or
// misordered journal.
func (ns *Namespace) Apply(txid int64, op *Op) error {
	if txid != ns.lastTxid+1 {
		return fmt.Errorf("edit %d applied after %d: the journal has a gap", txid, ns.lastTxid)
	}
	if err := ns.apply(op); err != nil {
		return fmt.Errorf("apply edit %d (%s %s): %w", txid, op.Code, op.Path, err)
	}
	ns.lastTxid = txid
	return nil
}

func (ns *Namespace) newInode(name string, dir bool, op *Op) *inode {
	ns.lastInodeID++
	n := &inode{name: name, dir: dir, id: ns.lastInodeID, perm: op.Perm & 0o7777, mtime: op.Time, atime: op.Time,
		owner: ns.intern(op.Owner), group: ns.intern(op.Group)}
	if dir {
		ns.dirs++
	} else {
		ns.files++
	}
	return n
}

func insertChild(parent, c *inode) {
	j, _ := parent.child(c.name)
	parent.children = slices.Insert(parent.children, j, c)
}

// mkParents walks parts, creating missing directories (with mode 0755 and the
// op's owner, as HDFS does for implicitly created parents) and returns the last.
func (ns *Namespace) mkParents(parts []string, op *Op, perm uint16) (*inode, error) {
	cur := ns.root
	for _, c := range parts {
		if !cur.dir {
			return nil, fmt.Errorf("%w: %s", webhdfs.ErrParentNotDir, c)
		}
		j, ok := cur.child(c)
		if ok {
			cur = cur.children[j]
			continue
		}
		d := ns.newInode(c, true, op)
		d.perm = perm
		insertChild(cur, d)
		cur.mtime = op.Time
		cur = d
	}
	if !cur.dir {
		return nil, fmt.Errorf("%w: %s", webhdfs.ErrParentNotDir, cur.name)
	}
	return cur, nil
}

func (ns *Namespace) apply(op *Op) error {
	switch op.Code {
	case OpNoop:
		return nil
	case OpMkdirs:
		parts, err := splitPath(op.Path)
		if err != nil {
			return err
		}
		_, err = ns.mkParents(parts, op, op.Perm&0o7777)
		return err
	case OpCreate, OpAddFile:
		parts, err := splitPath(op.Path)
		if err != nil {
			return err
		}
		if len(parts) == 0 {
			return fmt.Errorf("%w: /", webhdfs.ErrExists)
		}
		parent, err := ns.mkParents(parts[:len(parts)-1], op, 0o755)
		if err != nil {
			return err
		}
		name := parts[len(parts)-1]
		j, exists := parent.child(name)
		if exists && parent.children[j].dir {
			return fmt.Errorf("%w: %s is a directory", webhdfs.ErrExists, op.Path)
		}
		f := ns.newInode(name, false, op)
		f.repl, f.blockSize = op.Replication, op.BlockSize
		if len(op.Data) > 0 {
			f.data = slices.Clone(op.Data)
		}
		if op.Code == OpAddFile {
			f.uc = &fileUC{holder: op.ClientName, machine: op.ClientMachine}
			ns.uc[f.id] = f
		}
		if exists {
			ns.files-- // the overwritten file
			ns.freeFile(parent.children[j])
			parent.children[j] = f
		} else {
			parent.children = slices.Insert(parent.children, j, f)
		}
		parent.mtime = op.Time
		return nil
	case OpAppend:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if n.dir {
			return fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, op.Path)
		}
		n.data = append(n.data, op.Data...)
		n.mtime = op.Time
		return nil
	case OpDelete:
		parts, err := splitPath(op.Path)
		if err != nil {
			return err
		}
		if len(parts) == 0 {
			return fmt.Errorf("%w: cannot delete /", webhdfs.ErrInvalidPath)
		}
		parent, err := ns.lookup(parts[:len(parts)-1])
		if err != nil {
			return err
		}
		j, ok := parent.child(parts[len(parts)-1])
		if !ok || !parent.dir {
			return fmt.Errorf("%w: %s", webhdfs.ErrNotFound, op.Path)
		}
		victim := parent.children[j]
		if victim.dir && len(victim.children) > 0 && !op.Recursive {
			return fmt.Errorf("%w: %s", webhdfs.ErrNotEmpty, op.Path)
		}
		parent.children = slices.Delete(parent.children, j, j+1)
		parent.mtime = op.Time
		ns.uncount(victim)
		ns.freeTree(victim)
		return nil
	case OpRename:
		src, err := splitPath(op.Path)
		if err != nil {
			return err
		}
		dst, err := splitPath(op.Dst)
		if err != nil {
			return err
		}
		if len(src) == 0 || len(dst) == 0 || isPrefix(src, dst) {
			return fmt.Errorf("%w: rename %s to %s", webhdfs.ErrInvalidPath, op.Path, op.Dst)
		}
		sp, err := ns.lookup(src[:len(src)-1])
		if err != nil {
			return err
		}
		dp, err := ns.lookup(dst[:len(dst)-1])
		if err != nil {
			return err
		}
		if !dp.dir {
			return fmt.Errorf("%w: %s", webhdfs.ErrParentNotDir, op.Dst)
		}
		j, ok := sp.child(src[len(src)-1])
		if !ok {
			return fmt.Errorf("%w: %s", webhdfs.ErrNotFound, op.Path)
		}
		name := dst[len(dst)-1]
		if _, exists := dp.child(name); exists {
			return fmt.Errorf("%w: %s", webhdfs.ErrExists, op.Dst)
		}
		n := sp.children[j]
		sp.children = slices.Delete(sp.children, j, j+1)
		n.name = name
		insertChild(dp, n)
		sp.mtime, dp.mtime = op.Time, op.Time
		return nil
	case OpSetPermission:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		n.perm = op.Perm & 0o7777
		return nil
	case OpSetOwner:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if op.Owner != "" {
			n.owner = ns.intern(op.Owner)
		}
		if op.Group != "" {
			n.group = ns.intern(op.Group)
		}
		return nil
	case OpSetReplication:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if n.dir {
			return fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, op.Path)
		}
		n.repl = op.Replication
		for _, b := range n.blocks {
			b.Replication = op.Replication
			if ns.bm != nil {
				ns.bm.Touch(b)
			}
		}
		return nil
	case OpTimes:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if op.MTime != -1 {
			n.mtime = op.MTime
		}
		if op.ATime != -1 {
			n.atime = op.ATime
		}
		return nil
	case OpTruncate:
		n, err := ns.resolve(op.Path)
		if err != nil {
			return err
		}
		if n.dir || op.Length < 0 || op.Length > int64(len(n.data)) {
			return fmt.Errorf("%w: truncate %s to %d bytes", ErrBadEdit, op.Path, op.Length)
		}
		n.data = slices.Clip(n.data[:op.Length])
		n.mtime = op.Time
		return nil
	case OpConcat:
		return ns.applyConcat(op)
	}
	return ns.applyBlockOp(op)
}

func (ns *Namespace) uncount(n *inode) {
	if !n.dir {
		ns.files--
		return
	}
	ns.dirs--
	for _, c := range n.children {
		ns.uncount(c)
	}
}

// Stat returns the WebHDFS status of path (PathSuffix empty, as GETFILESTATUS gives it).
func (ns *Namespace) Stat(p string) (webhdfs.FileStatus, error) {
	n, err := ns.resolve(p)
	if err != nil {
		return webhdfs.FileStatus{}, err
	}
	st := ns.status(n)
	st.PathSuffix = ""
	return st, nil
}

// permStrings holds the octal text of every permission with the sticky
// bit (0 to 01777), so a status needs no formatting.
var permStrings = func() []string {
	s := make([]string, 0o2000)
	for i := range s {
		s[i] = strconv.FormatUint(uint64(i), 8)
	}
	return s
}()

// permString is fmt.Sprintf("%o", perm).
func permString(perm uint16) string {
	if int(perm) < len(permStrings) {
		return permStrings[perm]
	}
	return strconv.FormatUint(uint64(perm), 8)
}

func (ns *Namespace) status(n *inode) webhdfs.FileStatus {
	st := webhdfs.FileStatus{
		PathSuffix: n.name, Owner: ns.names[n.owner], Group: ns.names[n.group],
		Permission: permString(n.perm), AccessTime: n.atime, ModificationTime: n.mtime,
		FileID: n.id,
	}
	if n.dir {
		st.Type = webhdfs.TypeDirectory
		st.ChildrenNum = len(n.children)
	} else {
		st.Type = webhdfs.TypeFile
		st.Length = n.length()
		st.BlockSize = n.blockSize
		st.Replication = n.repl
	}
	return st
}

// List returns the children of a directory, or the file itself for a file (as LISTSTATUS does).
func (ns *Namespace) List(p string) ([]webhdfs.FileStatus, error) {
	n, err := ns.resolve(p)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		st := ns.status(n)
		st.PathSuffix = ""
		return []webhdfs.FileStatus{st}, nil
	}
	out := make([]webhdfs.FileStatus, len(n.children))
	for i, c := range n.children {
		out[i] = ns.status(c)
	}
	return out, nil
}

// Read returns up to length bytes of a file from offset (length < 0: to the end).
func (ns *Namespace) Read(p string, offset, length int64) ([]byte, error) {
	n, err := ns.resolve(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, fmt.Errorf("%w: %s is a directory", webhdfs.ErrNotFound, p)
	}
	if len(n.blocks) > 0 {
		return nil, fmt.Errorf("%w: %s is stored in blocks on DataNodes: read it through a DataNode", webhdfs.ErrIOException, p)
	}
	if offset < 0 || offset > int64(len(n.data)) {
		return nil, webhdfs.OffsetError(offset, int64(len(n.data)), p)
	}
	end := int64(len(n.data))
	if length >= 0 && length < end-offset { // not offset+length: it may overflow
		end = offset + length
	}
	return slices.Clone(n.data[offset:end]), nil
}

// Summary returns the content summary of path.
func (ns *Namespace) Summary(p string) (webhdfs.ContentSummary, error) {
	n, err := ns.resolve(p)
	if err != nil {
		return webhdfs.ContentSummary{}, err
	}
	cs := webhdfs.ContentSummary{Quota: -1, SpaceQuota: -1}
	var walk func(n *inode)
	walk = func(n *inode) {
		if !n.dir {
			cs.FileCount++
			cs.Length += n.length()
			cs.SpaceConsumed += n.length() * int64(max(n.repl, 1))
			return
		}
		cs.DirectoryCount++
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return cs, nil
}

// permOf converts an fs.FileMode (permission bits plus sticky) to HDFS's 12-bit mode.
func permOf(m fs.FileMode) uint16 {
	p := uint16(m.Perm())
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// prepareConcat checks a CONCAT as Hadoop's FSDirConcatOp: the target and
// every source are existing files, a source is neither the target nor
// repeated nor empty, and the result fits the inline limit.
func (ns *Namespace) prepareConcat(op *Op) (bool, error) {
	if len(op.Srcs) == 0 {
		return false, webhdfs.IllegalArgumentError("No sources given")
	}
	target, err := ns.resolve(op.Path)
	if err != nil {
		return false, err
	}
	if target.dir {
		return false, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, op.Path)
	}
	if target.uc != nil {
		return false, webhdfs.IllegalArgumentError("concat: target file %s is under construction", op.Path)
	}
	total := int64(len(target.data))
	hasInline, hasBlocks := len(target.data) > 0, len(target.blocks) > 0
	seen := make(map[*inode]bool, len(op.Srcs))
	for _, src := range op.Srcs {
		n, err := ns.resolve(src)
		if err != nil {
			return false, err
		}
		switch {
		case n == target:
			return false, webhdfs.IllegalArgumentError("concat: the src file %s is the same with the target file %s", src, op.Path)
		case n.dir || n.length() == 0 || n.uc != nil:
			return false, webhdfs.IllegalArgumentError("concat: source file %s is invalid or empty or underConstruction", src)
		case seen[n]:
			return false, webhdfs.IllegalArgumentError("concat: source file %s is given more than once", src)
		}
		seen[n] = true
		total += int64(len(n.data))
		hasInline = hasInline || len(n.data) > 0
		hasBlocks = hasBlocks || len(n.blocks) > 0
	}
	if hasInline && hasBlocks {
		return false, webhdfs.IllegalArgumentError("concat: the files are stored differently (some inline in the NameNode, some in blocks on DataNodes)")
	}
	if total > ns.MaxInline {
		return false, fmt.Errorf("%w: %d bytes is over the %d-byte inline limit (hactl.namenode.max-inline-file-bytes)", webhdfs.ErrTooLarge, total, ns.MaxInline)
	}
	return true, nil
}

// applyConcat appends the sources' data to the target in order and removes
// the sources; the directories that changed get the edit's time.
func (ns *Namespace) applyConcat(op *Op) error {
	target, err := ns.resolve(op.Path)
	if err != nil {
		return err
	}
	if target.dir {
		return fmt.Errorf("%w: concat into directory %s", ErrBadEdit, op.Path)
	}
	for _, src := range op.Srcs {
		parts, err := splitPath(src)
		if err != nil {
			return err
		}
		if len(parts) == 0 {
			return fmt.Errorf("%w: concat source /", ErrBadEdit)
		}
		parent, err := ns.lookup(parts[:len(parts)-1])
		if err != nil {
			return err
		}
		j, ok := parent.child(parts[len(parts)-1])
		if !ok || parent.children[j].dir || parent.children[j] == target {
			return fmt.Errorf("%w: concat source %s", ErrBadEdit, src)
		}
		src := parent.children[j]
		target.data = append(target.data, src.data...)
		for _, b := range src.blocks {
			b.FileID, b.Replication = target.id, target.repl
			if ns.bm != nil {
				ns.bm.Touch(b)
			}
		}
		target.blocks = append(target.blocks, src.blocks...)
		parent.children = slices.Delete(parent.children, j, j+1)
		parent.mtime = op.Time
		ns.files--
	}
	target.mtime = op.Time
	return nil
}
