package zkfc

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
)

// Keys of the ZooKeeper side of automatic failover (Hadoop's names and defaults).
const (
	KeyQuorum         = "ha.zookeeper.quorum"
	KeySessionTimeout = "ha.zookeeper.session-timeout.ms"
	KeyParentZnode    = "ha.zookeeper.parent-znode"
	KeyACL            = "ha.zookeeper.acl"
	KeyAuth           = "ha.zookeeper.auth"
	// KeySecretACL (default true) derives the ACL from the cluster secret
	// when neither KeyACL nor KeyAuth is set (see loadZKSecurity); false
	// leaves Hadoop's world-writable default. It is safe as the default
	// because the secret outlives what it locks: destroy keeps it as long as
	// it keeps ZooKeeper's data, and apply reuses it.
	KeySecretACL       = "hactl.zookeeper.acl-from-secret"
	DefaultParentZnode = "/hadoop-ha"
	DefaultACL         = "world:anyone:rwcda"
	LockName           = "ActiveStandbyElectorLock"
	BreadcrumbName     = "ActiveBreadCrumb"
)

// ResolveIndirection implements Hadoop's ZKUtil.resolveConfIndirection: a value
// starting with @ names a file whose (trimmed) contents are the value.
func ResolveIndirection(v string) (string, error) {
	v = strings.TrimSpace(v)
	path, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return strings.TrimSpace(string(data)), nil
}

// ParseACLs parses Hadoop's ha.zookeeper.acl: comma-separated scheme:id:perms,
// perms from r w c d a (e.g. world:anyone:rwcda, digest:user:base64hash:rwcda).
// An empty list means CREATOR_ALL_ACL (auth::cdrwa), as in Hadoop.
func ParseACLs(s string) ([]zk.ACL, error) {
	var out []zk.ACL
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		first := strings.Index(a, ":")
		last := strings.LastIndex(a, ":")
		if first < 0 || first == last {
			return nil, fmt.Errorf("%s: ACL %q must look like scheme:id:perms", KeyACL, a)
		}
		perms, err := parsePerms(a[last+1:])
		if err != nil {
			return nil, fmt.Errorf("%s: ACL %q: %w", KeyACL, a, err)
		}
		out = append(out, zk.ACL{Scheme: a[:first], ID: a[first+1 : last], Perms: perms})
	}
	if len(out) == 0 {
		return zk.AuthACL(zk.PermAll), nil
	}
	return out, nil
}

func parsePerms(p string) (int32, error) {
	var perms int32
	for _, c := range strings.ToLower(p) {
		switch c {
		case 'r':
			perms |= zk.PermRead
		case 'w':
			perms |= zk.PermWrite
		case 'c':
			perms |= zk.PermCreate
		case 'd':
			perms |= zk.PermDelete
		case 'a':
			perms |= zk.PermAdmin
		default:
			return 0, fmt.Errorf("invalid permission %q (use r, w, c, d, a)", c)
		}
	}
	return perms, nil
}

// Auth is one ha.zookeeper.auth entry, passed to ZooKeeper's addAuth.
type Auth struct {
	Scheme string
	Auth   []byte
}

// ParseAuths parses Hadoop's ha.zookeeper.auth: comma-separated scheme:auth
// (e.g. digest:user:password).
func ParseAuths(s string) ([]Auth, error) {
	var out []Auth
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		scheme, auth, ok := strings.Cut(a, ":")
		if !ok || scheme == "" || auth == "" {
			return nil, fmt.Errorf("%s: entry must look like scheme:auth (e.g. digest:user:password)", KeyAuth)
		}
		out = append(out, Auth{Scheme: scheme, Auth: []byte(auth)})
	}
	return out, nil
}

// loadZKSecurity sets z's ACLs and auths. Explicit ha.zookeeper.acl or
// ha.zookeeper.auth are used as Hadoop does (either given: the other takes
// Hadoop's default). With neither, KeySecretACL not false and a cluster
// secret configured, both derive from the secret: every znode gets
// digest:hactl:base64(sha1(hactl:password)):cdrwa and every client of hactl
// authenticates as digest hactl:password, so a client without the secret
// can neither change nor delete the election znodes.
func loadZKSecurity(c *hadoopconf.Config, z *ZKConfig) error {
	aclConf, aclSet := c.Lookup(KeyACL)
	authConf, authSet := c.Lookup(KeyAuth)
	fromSecret, err := c.Bool(KeySecretACL, true)
	if err != nil {
		return err
	}
	if !aclSet && !authSet && fromSecret {
		if secretFile := c.Get(auth.ConfKey, ""); secretFile != "" {
			secret, err := auth.LoadSecret(secretFile)
			if err != nil {
				return fmt.Errorf("ZooKeeper ACL from the cluster secret: %w", err)
			}
			z.ACLs, z.Auths = SecretACL(secret)
			return nil
		}
	}
	if !aclSet {
		aclConf = DefaultACL
	}
	aclConf, err = ResolveIndirection(aclConf)
	if err != nil {
		return fmt.Errorf("%s: %w", KeyACL, err)
	}
	if z.ACLs, err = ParseACLs(aclConf); err != nil {
		return err
	}
	authConf, err = ResolveIndirection(authConf)
	if err != nil {
		return fmt.Errorf("%s: %w", KeyAuth, err)
	}
	z.Auths, err = ParseAuths(authConf)
	return err
}

// SecretACL is the ACL and the credentials derived from the cluster secret
// (the equivalent of ha.zookeeper.acl = digest:hactl:<digest>:cdrwa and
// ha.zookeeper.auth = digest:hactl:<password>).
func SecretACL(secret []byte) ([]zk.ACL, []Auth) {
	pw := auth.ZooKeeperPassword(secret)
	return []zk.ACL{{Scheme: "digest", ID: auth.ZooKeeperDigestID(auth.ZooKeeperUser, pw), Perms: zk.PermAll}},
		[]Auth{{Scheme: "digest", Auth: []byte(auth.ZooKeeperUser + ":" + pw)}}
}

// SecureZnodes sets acls on p and every znode below it where they differ,
// and AncestorACLs(acls) on p's ancestors where anyone may change them: the
// upgrade of znodes a former hactl created world-writable. It needs ADMIN
// on them, which the former world ACL grants; a znode below p whose ACL this
// client may not change is an error.
func SecureZnodes(conn *zk.Conn, p string, acls []zk.ACL) (changed []string, err error) {
	var walk func(string, bool) error
	set := func(q string) error {
		cur, stat, err := conn.GetACL(q)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get ACL of %s: %w", q, err)
		}
		if sameACLs(cur, acls) {
			return nil
		}
		if _, err := conn.SetACL(q, acls, stat.Aversion); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("set ACL of %s: %w", q, err)
		}
		changed = append(changed, q)
		return nil
	}
	walk = func(q string, down bool) error {
		if err := set(q); err != nil {
			return err
		}
		if !down {
			return nil
		}
		children, _, err := conn.Children(q)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", q, err)
		}
		for _, ch := range children {
			if err := walk(path.Join(q, ch), true); err != nil {
				return err
			}
		}
		return nil
	}
	// Ancestors may be shared with other clusters of the same ZooKeeper:
	// secure them where this client may, leave them otherwise.
	for a := path.Dir(p); a != "/"; a = path.Dir(a) {
		if err := setIfOpen(conn, a, AncestorACLs(acls), &changed); err != nil && !errors.Is(err, zk.ErrNoAuth) {
			return changed, err
		}
	}
	return changed, walk(p, true)
}

// AncestorACLs is the ACL of the znodes above a nameservice's (the parent
// znode, /hadoop-ha): acls, plus read and create for anyone, so that other
// nameservices, and other clusters sharing the ZooKeeper with their own
// credentials, can add theirs, while only acls may delete or change it.
func AncestorACLs(acls []zk.ACL) []zk.ACL {
	world := zk.ACL{Perms: zk.PermRead | zk.PermCreate, Scheme: "world", ID: "anyone"}
	for _, a := range acls {
		if a.Scheme == "world" && a.ID == "anyone" {
			return acls
		}
	}
	return append(slices.Clone(acls), world)
}

// setIfOpen sets acls on an ancestor q that anyone may delete or change (as
// an earlier hactl left it); one with a stricter ACL belongs to whoever set
// it and is left alone.
func setIfOpen(conn *zk.Conn, q string, acls []zk.ACL, changed *[]string) error {
	cur, stat, err := conn.GetACL(q)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get ACL of %s: %w", q, err)
	}
	open := false
	for _, a := range cur {
		if a.Scheme == "world" && a.ID == "anyone" && a.Perms&(zk.PermDelete|zk.PermAdmin|zk.PermWrite) != 0 {
			open = true
		}
	}
	if !open || sameACLs(cur, acls) {
		return nil
	}
	if _, err := conn.SetACL(q, acls, stat.Aversion); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("set ACL of %s: %w", q, err)
	}
	*changed = append(*changed, q)
	return nil
}

func sameACLs(a, b []zk.ACL) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}
