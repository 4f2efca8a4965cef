package zkfc

import (
	"fmt"
	"os"
	"strings"

	"github.com/go-zookeeper/zk"
)

// Keys of the ZooKeeper side of automatic failover (Hadoop's names and defaults).
const (
	KeyQuorum          = "ha.zookeeper.quorum"
	KeySessionTimeout  = "ha.zookeeper.session-timeout.ms"
	KeyParentZnode     = "ha.zookeeper.parent-znode"
	KeyACL             = "ha.zookeeper.acl"
	KeyAuth            = "ha.zookeeper.auth"
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
