package zkfc

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-zookeeper/zk"
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
