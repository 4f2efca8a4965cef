package zkfc

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
)

func TestParseACLs(t *testing.T) {
	got, err := ParseACLs("world:anyone:rwcda, digest:hdfs:xYz/abc=:rw,sasl:hdfs/h@R:cd")
	if err != nil {
		t.Fatal(err)
	}
	want := []zk.ACL{
		{Perms: zk.PermAll, Scheme: "world", ID: "anyone"},
		{Perms: zk.PermRead | zk.PermWrite, Scheme: "digest", ID: "hdfs:xYz/abc="},
		{Perms: zk.PermCreate | zk.PermDelete, Scheme: "sasl", ID: "hdfs/h@R"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if got, _ := ParseACLs(" "); !reflect.DeepEqual(got, zk.AuthACL(zk.PermAll)) {
		t.Fatalf("empty ACL must be CREATOR_ALL: %+v", got)
	}
	for _, bad := range []string{"world:anyone", "world:anyone:rwx", "nocolon"} {
		if _, err := ParseACLs(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestParseAuthsAndIndirection(t *testing.T) {
	f := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(f, []byte("digest:hdfs:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := ResolveIndirection("@" + f)
	if err != nil || v != "digest:hdfs:s3cret" {
		t.Fatalf("indirection %q %v", v, err)
	}
	if v, _ := ResolveIndirection("world:anyone:r"); v != "world:anyone:r" {
		t.Fatalf("plain value changed: %q", v)
	}
	if _, err := ResolveIndirection("@/nonexistent/x"); err == nil {
		t.Fatal("missing file accepted")
	}
	a, err := ParseAuths(v)
	if err != nil || len(a) != 1 || a[0].Scheme != "digest" || string(a[0].Auth) != "hdfs:s3cret" {
		t.Fatalf("auths %+v %v", a, err)
	}
	if _, err := ParseAuths("digest"); err == nil {
		t.Fatal("auth without data accepted")
	}
}

// TestZKSecurityFromConfig: explicit ha.zookeeper.acl/auth win (with @file
// references, as Hadoop's); with neither, both derive from the cluster
// secret by default, matching ZooKeeper's own digest of user:password, and
// KeySecretACL = false gives Hadoop's world ACL back.
func TestZKSecurityFromConfig(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "cluster.secret")
	secret := []byte("0123456789abcdef0123456789abcdef")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	authFile := filepath.Join(dir, "zk-auth")
	if err := os.WriteFile(authFile, []byte("digest:hdfs:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(kv ...string) ZKConfig {
		t.Helper()
		c := hadoopconf.New()
		c.Set(KeyQuorum, "127.0.0.1:2181")
		c.Set(auth.ConfKey, secretFile)
		for i := 0; i < len(kv); i += 2 {
			c.Set(kv[i], kv[i+1])
		}
		z, err := LoadZKConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	if z := load(KeySecretACL, "false"); !reflect.DeepEqual(z.ACLs, zk.WorldACL(zk.PermAll)) || len(z.Auths) != 0 {
		t.Fatalf("%s = false (Hadoop's default): %+v %+v", KeySecretACL, z.ACLs, z.Auths)
	}
	pw := auth.ZooKeeperPassword(secret)
	if z := load(); !reflect.DeepEqual(z.ACLs, zk.DigestACL(zk.PermAll, auth.ZooKeeperUser, pw)) || len(z.Auths) != 1 {
		t.Fatalf("default: %+v %+v, want the ACL from the cluster secret", z.ACLs, z.Auths)
	}
	z := load(KeySecretACL, "true")
	if want := zk.DigestACL(zk.PermAll, auth.ZooKeeperUser, pw); !reflect.DeepEqual(z.ACLs, want) {
		t.Fatalf("ACL from the secret %+v, want ZooKeeper's digest %+v", z.ACLs, want)
	}
	if len(z.Auths) != 1 || z.Auths[0].Scheme != "digest" || string(z.Auths[0].Auth) != auth.ZooKeeperUser+":"+pw {
		t.Fatalf("auth from the secret: %+v", z.Auths)
	}
	z = load(KeySecretACL, "true", KeyACL, "digest:hdfs:"+digestOf("hdfs:s3cret")+":cdrwa", KeyAuth, "@"+authFile)
	if len(z.ACLs) != 1 || z.ACLs[0].ID != "hdfs:"+digestOf("hdfs:s3cret") || len(z.Auths) != 1 || string(z.Auths[0].Auth) != "hdfs:s3cret" {
		t.Fatalf("explicit acl and @file auth: %+v %+v", z.ACLs, z.Auths)
	}
}
