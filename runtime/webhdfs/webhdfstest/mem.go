// Package webhdfstest provides an in-memory webhdfs.Namesystem for tests,
// benchmarks and the off-the-shelf client test.
package webhdfstest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
)

type node struct {
	id          int64
	dir         bool
	perm        fs.FileMode
	owner       string
	group       string
	mtime       int64
	atime       int64
	data        []byte
	replication int16
	blockSize   int64
	children    map[string]*node
}

// Mem is an in-memory namespace with HDFS semantics for the calls WebHDFS
// makes (mkdirs -p, create with overwrite, non-recursive delete refusing a
// non-empty directory, rename into a directory). It records the user as the
// owner of what it creates but checks no permissions (the NameNode's
// checker is tested in runtime/namenode). It can pretend to be a standby
// NameNode, refusing every call with webhdfs.ErrStandby.
type Mem struct {
	mu      sync.RWMutex
	root    *node
	nextID  int64
	standby atomic.Bool
	// Now gives modification times; tests replace it for fixed output.
	Now func() time.Time
	// Supergroup is the group of new inodes, as dfs.permissions.superusergroup.
	Supergroup string
}

// NewMem returns an empty namespace holding only "/".
func NewMem() *Mem {
	m := &Mem{Now: time.Now, Supergroup: "supergroup", nextID: 16385}
	m.root = &node{id: m.nextID, dir: true, perm: 0o755, owner: "hdfs", group: "supergroup", children: map[string]*node{}}
	m.nextID++
	return m
}

// SetStandby makes every call fail with webhdfs.ErrStandby (true) or serve (false).
func (m *Mem) SetStandby(standby bool) { m.standby.Store(standby) }

func (m *Mem) check(category string) error {
	if m.standby.Load() {
		return webhdfs.StandbyError(category)
	}
	return nil
}

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// lookup returns the node at p, or ErrNotFound / ErrParentNotDir.
func (m *Mem) lookup(p string) (*node, error) {
	n := m.root
	for _, c := range split(p) {
		if !n.dir {
			return nil, fmt.Errorf("%w: %s", webhdfs.ErrParentNotDir, p)
		}
		next, ok := n.children[c]
		if !ok {
			return nil, fmt.Errorf("%w: %s", webhdfs.ErrNotFound, p)
		}
		n = next
	}
	return n, nil
}

// lookupFile is lookup for the calls that act on a file's data and refuse a
// directory with HDFS's FileNotFoundException.
func (m *Mem) lookupFile(p string) (*node, error) {
	n, err := m.lookup(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, fmt.Errorf("%w: %s is not a file", webhdfs.ErrNotFound, p)
	}
	return n, nil
}

func (m *Mem) now() int64 { return m.Now().UnixMilli() }

func (m *Mem) newNode(dir bool, perm fs.FileMode, user string) *node {
	t := m.now()
	n := &node{id: m.nextID, dir: dir, perm: perm, owner: user, group: m.Supergroup, mtime: t, atime: t}
	m.nextID++
	if dir {
		n.children = map[string]*node{}
	}
	return n
}

// Mkdirs creates p and any missing parents, like mkdir -p.
func (m *Mem) Mkdirs(_ context.Context, p string, perm fs.FileMode, user string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, c := range split(p) {
		next, ok := n.children[c]
		if !ok {
			next = m.newNode(true, perm, user)
			n.children[c] = next
			n.mtime = next.mtime
		} else if !next.dir {
			return fmt.Errorf("%w: %s is a file, not a directory: %s", webhdfs.ErrParentNotDir, c, p)
		}
		n = next
	}
	return nil
}

func (m *Mem) parentOf(p string) (*node, string, error) {
	dir, name := path.Split(strings.TrimSuffix(p, "/"))
	if name == "" {
		return nil, "", fmt.Errorf("%w: cannot use the root: %s", webhdfs.ErrInvalidPath, p)
	}
	parent, err := m.lookup(dir)
	if err != nil {
		return nil, "", err
	}
	if !parent.dir {
		return nil, "", fmt.Errorf("%w: %s", webhdfs.ErrParentNotDir, dir)
	}
	return parent, name, nil
}

// Create writes a whole file, creating missing parents as HDFS's create does.
func (m *Mem) Create(ctx context.Context, p string, data []byte, overwrite bool, perm fs.FileMode, replication int16, blockSize int64, user string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	if err := m.Mkdirs(ctx, path.Dir(p), 0o755, user); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, name, err := m.parentOf(p)
	if err != nil {
		return err
	}
	if old, ok := parent.children[name]; ok {
		if old.dir {
			return fmt.Errorf("%w: %s already exists as a directory", webhdfs.ErrExists, p)
		}
		if !overwrite {
			return fmt.Errorf("%w: %s", webhdfs.ErrExists, p)
		}
	}
	n := m.newNode(false, perm, user)
	n.data = append([]byte(nil), data...)
	n.replication, n.blockSize = replication, blockSize
	parent.children[name] = n
	parent.mtime = n.mtime
	return nil
}

// Append adds data at the end of an existing file.
func (m *Mem) Append(_ context.Context, p string, data []byte, _ string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(p)
	if err != nil {
		return err
	}
	if n.dir {
		return fmt.Errorf("%w: Failed to append to a directory: %s", webhdfs.ErrNotFound, p)
	}
	n.data = append(n.data, data...)
	n.mtime = m.now()
	return nil
}

// Open reads length bytes from offset; a negative length reads to the end.
func (m *Mem) Open(_ context.Context, p string, offset, length int64, _ string) ([]byte, error) {
	if err := m.check("READ"); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, fmt.Errorf("%w: Path is not a file: %s", webhdfs.ErrNotFound, p)
	}
	size := int64(len(n.data))
	if offset > size || offset < 0 {
		return nil, webhdfs.OffsetError(offset, size, p)
	}
	end := size
	if length >= 0 && length < size-offset { // not offset+length: it may overflow
		end = offset + length
	}
	return append([]byte(nil), n.data[offset:end]...), nil
}

func (n *node) status(name string) webhdfs.FileStatus {
	st := webhdfs.FileStatus{
		PathSuffix: name, Type: webhdfs.TypeFile, Length: int64(len(n.data)),
		Owner: n.owner, Group: n.group, Permission: webhdfs.PermissionString(n.perm),
		AccessTime: n.atime, ModificationTime: n.mtime, BlockSize: n.blockSize,
		Replication: n.replication, FileID: n.id,
	}
	if n.dir {
		st.Type, st.Length, st.AccessTime, st.ChildrenNum = webhdfs.TypeDirectory, 0, 0, len(n.children)
	}
	return st
}

// GetFileStatus describes p (PathSuffix is its base name).
func (m *Mem) GetFileStatus(_ context.Context, p, _ string) (webhdfs.FileStatus, error) {
	if err := m.check("READ"); err != nil {
		return webhdfs.FileStatus{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(p)
	if err != nil {
		return webhdfs.FileStatus{}, err
	}
	return n.status(path.Base(p)), nil
}

// ListStatus lists a directory's children by name, or a file as itself.
func (m *Mem) ListStatus(_ context.Context, p, _ string) ([]webhdfs.FileStatus, error) {
	if err := m.check("READ"); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(p)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return []webhdfs.FileStatus{n.status("")}, nil
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]webhdfs.FileStatus, 0, len(names))
	for _, name := range names {
		out = append(out, n.children[name].status(name))
	}
	return out, nil
}

// Delete removes p; false when it did not exist. A non-empty directory needs recursive.
func (m *Mem) Delete(_ context.Context, p string, recursive bool, _ string) (bool, error) {
	if err := m.check("WRITE"); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(split(p)) == 0 {
		return false, nil // HDFS refuses to delete the root
	}
	parent, name, err := m.parentOf(p)
	if err != nil {
		return false, nil //nolint:nilerr // a missing parent means nothing to delete
	}
	n, ok := parent.children[name]
	if !ok {
		return false, nil
	}
	if n.dir && len(n.children) > 0 && !recursive {
		return false, fmt.Errorf("`%s is non empty': %w", p, webhdfs.ErrNotEmpty)
	}
	delete(parent.children, name)
	parent.mtime = m.now()
	return true, nil
}

// Rename moves src to dst, or into dst when dst is a directory; false when
// src is missing, dst exists as a file, or dst is inside src.
func (m *Mem) Rename(_ context.Context, src, dst, _ string) (bool, error) {
	if err := m.check("WRITE"); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if src == dst {
		return true, nil
	}
	if len(split(src)) == 0 || dst == src || strings.HasPrefix(dst, strings.TrimSuffix(src, "/")+"/") {
		return false, nil
	}
	sp, sname, err := m.parentOf(src)
	if err != nil {
		return false, nil //nolint:nilerr // HDFS's rename answers false, not an error
	}
	n, ok := sp.children[sname]
	if !ok {
		return false, nil
	}
	if d, err := m.lookup(dst); err == nil {
		if !d.dir {
			return false, nil
		}
		if _, taken := d.children[sname]; taken {
			return false, nil
		}
		delete(sp.children, sname)
		d.children[sname] = n
		return true, nil
	}
	dp, dname, err := m.parentOf(dst)
	if err != nil {
		return false, nil //nolint:nilerr // missing destination parent: false, as HDFS
	}
	delete(sp.children, sname)
	dp.children[dname] = n
	return true, nil
}

// SetPermission changes p's mode.
func (m *Mem) SetPermission(_ context.Context, p string, perm fs.FileMode, _ string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(p)
	if err != nil {
		return err
	}
	n.perm = perm
	return nil
}

// SetOwner changes p's owner and/or group (an empty one is left alone).
func (m *Mem) SetOwner(_ context.Context, p, owner, group, _ string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(p)
	if err != nil {
		return err
	}
	if owner != "" {
		n.owner = owner
	}
	if group != "" {
		n.group = group
	}
	return nil
}

// GetContentSummary sums sizes and counts below p (p itself included).
func (m *Mem) GetContentSummary(_ context.Context, p, _ string) (webhdfs.ContentSummary, error) {
	if err := m.check("READ"); err != nil {
		return webhdfs.ContentSummary{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(p)
	if err != nil {
		return webhdfs.ContentSummary{}, err
	}
	cs := webhdfs.ContentSummary{Quota: -1, SpaceQuota: -1}
	var walk func(*node)
	walk = func(n *node) {
		if !n.dir {
			cs.FileCount++
			cs.Length += int64(len(n.data))
			cs.SpaceConsumed += int64(len(n.data)) * int64(n.replication)
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

// SetReplication sets a file's replication; false for a directory or a
// missing path, as HDFS answers.
func (m *Mem) SetReplication(_ context.Context, p string, replication int16, _ string) (bool, error) {
	if err := m.check("WRITE"); err != nil {
		return false, err
	}
	if replication < 1 || replication > 512 {
		return false, fmt.Errorf("%w: Requested replication factor of %d is outside [1, 512] for %s", webhdfs.ErrIOException, replication, p)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(p)
	if err != nil || n.dir {
		return false, nil
	}
	n.replication = replication
	return true, nil
}

// SetTimes sets p's modification and access times; -1 leaves one alone.
func (m *Mem) SetTimes(_ context.Context, p string, mtime, atime int64, _ string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(p)
	if err != nil {
		return err
	}
	if mtime != -1 {
		n.mtime = mtime
	}
	if atime != -1 {
		n.atime = atime
	}
	return nil
}

// Truncate cuts a file to newLength bytes, refusing to grow it.
func (m *Mem) Truncate(_ context.Context, p string, newLength int64, _ string) (bool, error) {
	if err := m.check("WRITE"); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupFile(p)
	if err != nil {
		return false, err
	}
	if newLength < 0 || newLength > int64(len(n.data)) {
		return false, webhdfs.IllegalArgumentError("Cannot truncate to a larger file size. Current size: %d, truncate size: %d.", len(n.data), newLength)
	}
	n.data = n.data[:newLength:newLength]
	n.mtime = m.now()
	return true, nil
}

// Concat appends the sources' data to target and removes them; a source
// that is the target, a directory, empty or repeated is refused as HDFS does.
func (m *Mem) Concat(_ context.Context, target string, srcs []string, _ string) error {
	if err := m.check("WRITE"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.lookupFile(target)
	if err != nil {
		return err
	}
	seen := map[*node]bool{}
	for _, src := range srcs {
		n, err := m.lookup(src)
		if err != nil {
			return err
		}
		if n == t || n.dir || len(n.data) == 0 || seen[n] {
			return webhdfs.IllegalArgumentError("concat: source file %s is invalid or empty or underConstruction", src)
		}
		seen[n] = true
	}
	for _, src := range srcs {
		parent, name, err := m.parentOf(src)
		if err != nil {
			return err
		}
		t.data = append(t.data, parent.children[name].data...)
		delete(parent.children, name)
		parent.mtime = m.now()
	}
	t.mtime = m.now()
	return nil
}

var _ webhdfs.Namesystem = (*Mem)(nil)
