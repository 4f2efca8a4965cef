package namenode

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// fsAction is Hadoop's FsAction: a set of read, write and execute bits in
// the order of one octal digit of a mode. 0 means "no check" (Hadoop's null).
type fsAction uint16

const (
	actExecute fsAction = 1
	actWrite   fsAction = 2
	actRead    fsAction = 4
	actAll              = actRead | actWrite | actExecute
)

// actionNames are FsAction's names, as an AccessControlException shows them.
var actionNames = [8]string{"NONE", "EXECUTE", "WRITE", "WRITE_EXECUTE", "READ", "READ_EXECUTE", "READ_WRITE", "ALL"}

// caller is the identity an operation runs as (Hadoop's
// UserGroupInformation as FSPermissionChecker sees it), resolved before the
// namespace lock is taken since group lookup may read /etc/group.
type caller struct {
	user   string
	groups []string
	super  bool // the NameNode's user or a member of dfs.permissions.superusergroup
}

func (c *caller) inGroup(g string) bool { return slices.Contains(c.groups, g) }

// accessError is Hadoop's AccessControlException; it is webhdfs.ErrPermission
// (403 over WebHDFS) with Hadoop's full message as its text.
type accessError struct{ msg string }

func (e *accessError) Error() string { return e.msg }
func (e *accessError) Unwrap() error { return webhdfs.ErrPermission }

// modeString is FsPermission's symbolic form with the type letter, as
// "drwxr-xr-x" or, with the sticky bit, "drwxrwxrwt" ("T" without other's x).
func modeString(n *inode) string {
	b := []byte("-rwxrwxrwx")
	if n.dir {
		b[0] = 'd'
	}
	for i := 0; i < 9; i++ {
		if n.perm&(1<<(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	if n.perm&0o1000 != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	return string(b)
}

func pathOf(parts []string) string { return "/" + strings.Join(parts, "/") }

// inodesOf returns the inodes along parts: [0] is the root, [i] the inode of
// parts[i-1], nil from the first component that does not exist (or whose
// parent is a file) on (Hadoop's INodesInPath).
func (ns *Namespace) inodesOf(parts []string) []*inode {
	out := make([]*inode, len(parts)+1)
	cur := ns.root
	out[0] = cur
	for i, c := range parts {
		if !cur.dir {
			break
		}
		j, ok := cur.child(c)
		if !ok {
			break
		}
		cur = cur.children[j]
		out[i+1] = cur
	}
	return out
}

// allowed is FSPermissionChecker.check: the owner's bits if c owns n, else
// the group's if c is in n's group, else the other bits, must grant act.
func (ns *Namespace) allowed(c *caller, n *inode, act fsAction) bool {
	var bits uint16
	switch {
	case ns.names[n.owner] == c.user:
		bits = n.perm >> 6
	case c.inGroup(ns.names[n.group]):
		bits = n.perm >> 3
	default:
		bits = n.perm
	}
	return fsAction(bits&7)&act == act
}

// check is allowed, with Hadoop's AccessControlException when it is not
// (the path is only formatted then).
func (ns *Namespace) check(c *caller, n *inode, parts []string, act fsAction) error {
	if ns.allowed(c, n, act) {
		return nil
	}
	return ns.denied(c, n, pathOf(parts), act)
}

func (ns *Namespace) denied(c *caller, n *inode, path string, act fsAction) error {
	return &accessError{fmt.Sprintf("Permission denied: user=%s, access=%s, inode=%q:%s:%s:%s",
		c.user, actionNames[act], path, ns.names[n.owner], ns.names[n.group], modeString(n))}
}

// permCheck says what checkPermission verifies beyond traversal, as the
// arguments of Hadoop's FSPermissionChecker.checkPermission.
type permCheck struct {
	owner          bool     // the caller owns the last inode
	ancestor       fsAction // on the nearest existing ancestor of the last component
	parent         fsAction // on the parent, if it exists (WRITE also checks its sticky bit)
	access         fsAction // on the last inode, if it exists
	sub            fsAction // on every directory of the subtree at the last inode
	ignoreEmptyDir bool     // sub skips empty directories
}

// checkPermission is FSPermissionChecker.checkPermission for a path already
// split into parts: EXECUTE on every existing ancestor directory, then what
// pc asks for. A nil caller (dfs.permissions.enabled=false) and the
// superuser pass. Conditions that are not permission questions (a missing
// path, a file as a parent) pass here and are reported by the operation.
func (ns *Namespace) checkPermission(c *caller, parts []string, pc permCheck) error {
	if c == nil || c.super {
		return nil
	}
	iip := ns.inodesOf(parts)
	n := len(parts)
	last := iip[n]
	ai := n - 1 // the nearest existing ancestor
	for ai >= 0 && iip[ai] == nil {
		ai--
	}
	for i := 0; i <= ai; i++ {
		if !iip[i].dir {
			return nil
		}
		if err := ns.check(c, iip[i], parts[:i], actExecute); err != nil {
			return err
		}
	}
	if n == 0 {
		ai = 0 // "/": its own ancestor for an ancestor check, as in Hadoop's INodesInPath
	}
	var parent *inode
	if n > 0 {
		parent = iip[n-1]
	}
	if pc.parent&actWrite != 0 && parent != nil && last != nil {
		if err := ns.checkStickyBit(c, parent, last, parts); err != nil {
			return err
		}
	}
	if pc.ancestor != 0 && n > 0 {
		if err := ns.check(c, iip[ai], parts[:ai], pc.ancestor); err != nil {
			return err
		}
	}
	if pc.parent != 0 && parent != nil {
		if err := ns.check(c, parent, parts[:n-1], pc.parent); err != nil {
			return err
		}
	}
	if last == nil {
		return nil
	}
	if pc.access != 0 {
		if err := ns.check(c, last, parts, pc.access); err != nil {
			return err
		}
	}
	if pc.sub != 0 {
		if err := ns.checkSubAccess(c, last, pathOf(parts), pc.sub, pc.ignoreEmptyDir); err != nil {
			return err
		}
	}
	if pc.owner && ns.names[last.owner] != c.user {
		return &accessError{fmt.Sprintf("Permission denied. user=%s is not the owner of inode=%s", c.user, pathOf(parts))}
	}
	return nil
}

// checkStickyBit: in a directory with the sticky bit only the superuser,
// the directory's owner and the entry's owner may delete or move an entry.
func (ns *Namespace) checkStickyBit(c *caller, parent, n *inode, parts []string) error {
	if parent.perm&0o1000 == 0 || ns.names[parent.owner] == c.user || ns.names[n.owner] == c.user {
		return nil
	}
	return &accessError{fmt.Sprintf("Permission denied by sticky bit: user=%s, path=%q:%s:%s:%s, parent=%q:%s:%s:%s",
		c.user, pathOf(parts), ns.names[n.owner], ns.names[n.group], modeString(n),
		pathOf(parts[:len(parts)-1]), ns.names[parent.owner], ns.names[parent.group], modeString(parent))}
}

// checkSubAccess checks act on every directory of the subtree at n (n
// included), skipping empty ones when ignoreEmpty (a recursive delete needs
// ALL on each non-empty directory it empties).
func (ns *Namespace) checkSubAccess(c *caller, n *inode, p string, act fsAction, ignoreEmpty bool) error {
	if !n.dir {
		return nil
	}
	if (!ignoreEmpty || len(n.children) > 0) && !ns.allowed(c, n, act) {
		return ns.denied(c, n, p, act)
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	for _, ch := range n.children {
		if ch.dir {
			if err := ns.checkSubAccess(c, ch, prefix+ch.name, act, ignoreEmpty); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOp checks a client mutation against the tree, as the FSDir*Op
// classes of Hadoop do before changing anything. It runs under the
// namespace lock, right before Prepare.
func (ns *Namespace) checkOp(c *caller, op *Op) error {
	if c == nil || c.super {
		return nil
	}
	parts, err := splitPath(op.Path)
	if err != nil {
		return nil // Prepare reports the invalid path
	}
	switch op.Code {
	case OpMkdirs:
		// An existing directory only needs traversal; a new one WRITE on
		// the nearest existing ancestor (where the first new one goes).
		if last := ns.inodesOf(parts)[len(parts)]; last != nil {
			return ns.checkPermission(c, parts, permCheck{})
		}
		return ns.checkPermission(c, parts, permCheck{ancestor: actWrite})
	case OpCreate:
		pc := permCheck{ancestor: actWrite}
		if last := ns.inodesOf(parts)[len(parts)]; op.Overwrite && last != nil && !last.dir {
			pc.access = actWrite
		}
		return ns.checkPermission(c, parts, pc)
	case OpAppend:
		return ns.checkPermission(c, parts, permCheck{access: actWrite})
	case OpDelete:
		return ns.checkPermission(c, parts, permCheck{parent: actWrite, sub: actAll, ignoreEmptyDir: true})
	case OpRename:
		if err := ns.checkPermission(c, parts, permCheck{parent: actWrite}); err != nil {
			return err
		}
		dst, err := splitPath(op.Dst)
		if err != nil {
			return nil
		}
		// The old rename moves into an existing directory: the target
		// checked is the entry it would create there.
		if d := ns.inodesOf(dst)[len(dst)]; d != nil && d.dir && len(parts) > 0 {
			dst = append(dst, parts[len(parts)-1])
		}
		return ns.checkPermission(c, dst, permCheck{ancestor: actWrite})
	case OpSetPermission:
		return ns.checkPermission(c, parts, permCheck{owner: true})
	case OpConcat:
		// FSDirConcatOp: WRITE on the target; READ on each source and
		// WRITE on its parent (it is deleted).
		if err := ns.checkPermission(c, parts, permCheck{access: actWrite}); err != nil {
			return err
		}
		for _, src := range op.Srcs {
			sp, err := splitPath(src)
			if err != nil {
				continue // Prepare reports the invalid path
			}
			// Two checks in Hadoop's order: READ on the file first.
			if err := ns.checkPermission(c, sp, permCheck{access: actRead}); err != nil {
				return err
			}
			if err := ns.checkPermission(c, sp, permCheck{parent: actWrite}); err != nil {
				return err
			}
		}
		return nil
	case OpSetReplication, OpTimes, OpTruncate:
		// FSDirAttrOp.setReplication / setTimes and FSDirTruncateOp:
		// WRITE on the path itself.
		return ns.checkPermission(c, parts, permCheck{access: actWrite})
	case OpSetOwner:
		if err := ns.checkPermission(c, parts, permCheck{owner: true}); err != nil {
			return err
		}
		if op.Owner != "" && op.Owner != c.user {
			return &accessError{fmt.Sprintf("User %s is not a super user (non-super user cannot change owner).", c.user)}
		}
		if op.Group != "" && !c.inGroup(op.Group) {
			return &accessError{fmt.Sprintf("User %s does not belong to %s", c.user, op.Group)}
		}
		return nil
	}
	return nil
}

// readKind is the read operation checkRead checks for.
type readKind int

const (
	readStatus  readKind = iota // GETFILESTATUS: traversal only
	readOpen                    // OPEN: READ on the file
	readList                    // LISTSTATUS: READ_EXECUTE on a directory
	readSummary                 // GETCONTENTSUMMARY: READ_EXECUTE on every directory below
)

// checkRead checks a read of p, as Hadoop's getFileInfo, getBlockLocations,
// getListing and getContentSummary do; the caller holds the read lock.
// GETFILESTATUS, OPEN and LISTSTATUS are most of the traffic: their check
// walks p without allocating unless it refuses.
func (ns *Namespace) checkRead(c *caller, p string, kind readKind) error {
	if c == nil || c.super {
		return nil
	}
	if kind == readSummary {
		parts, err := splitPath(p)
		if err != nil {
			return nil // the read reports the invalid path
		}
		return ns.checkPermission(c, parts, permCheck{sub: actRead | actExecute})
	}
	if !strings.HasPrefix(p, "/") {
		return nil
	}
	cur := ns.root
	end := 0 // p[:end] is cur's path
	for rest := p[1:]; rest != ""; {
		off := len(p) - len(rest)
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		if comp == "" {
			continue
		}
		if comp == "." || comp == ".." || strings.ContainsAny(comp, ":\x00") || !cur.dir {
			return nil // an invalid path or a file as a parent: the read reports it
		}
		if !ns.allowed(c, cur, actExecute) {
			return ns.denied(c, cur, displayPath(p[:end]), actExecute)
		}
		j, ok := cur.child(comp)
		if !ok {
			return nil // the read reports the missing path
		}
		cur = cur.children[j]
		end = off + len(comp)
	}
	var act fsAction
	switch {
	case kind == readOpen:
		act = actRead
	case kind == readList && cur.dir:
		act = actRead | actExecute
	}
	if act != 0 && !ns.allowed(c, cur, act) {
		return ns.denied(c, cur, displayPath(p), act)
	}
	return nil
}

// displayPath is p as Hadoop prints an inode's path ("/a/b", "/" for the root).
func displayPath(p string) string {
	parts, _ := splitPath(p)
	return pathOf(parts)
}
