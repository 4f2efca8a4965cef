package zkfc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestIntegrationZooKeeperSecurity runs on a real ZooKeeper what an upgrade
// from a hactl that left the znodes world-writable meets, and what a client
// without the cluster secret can then do: the ZKFC sets the secret's digest
// ACL on the existing znodes, an unauthenticated client can neither create,
// change nor delete the election znodes, and a forged breadcrumb naming a
// NameNode ID of the nameservice at another address is refused, not fenced.
func TestIntegrationZooKeeperSecurity(t *testing.T) {
	integration(t)
	ens := startEnsemble(t)
	const parent = "/hactl-acl-test"
	h := newHAEnv(t, ens, "nsacl", 9220, map[string]string{KeyParentZnode: parent})
	z := h.zkConfig()
	if len(z.ACLs) != 1 || z.ACLs[0].Scheme != "digest" || len(z.Auths) != 1 {
		t.Fatalf("with neither %s nor %s set, the ACL derives from the cluster secret by default: %+v %+v", KeyACL, KeyAuth, z.ACLs, z.Auths)
	}
	scoped := z.ScopedParent(h.ns)
	crumb := scoped + "/" + BreadcrumbName

	anon, _, err := zk.Connect(ens.Addrs(), 2*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	// As a former hactl left them: world-writable, and a breadcrumb naming
	// nn2 at an address that is not nn2's (an attacker's victim process).
	forged := NodeInfo{Nameservice: h.ns, NamenodeID: "nn2", Host: "127.0.6.99", Port: 22, ZKFCPort: 9222}
	for _, p := range []string{parent, scoped} {
		if _, err := anon.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := anon.Create(crumb, forged.Encode(), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	h.startZKFC("nn1")
	logFile := filepath.Join(h.dir, "zkfc-nn1.log")
	waitFor(t, 15*time.Second, "the forged breadcrumb refused", func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), "forged or foreign breadcrumb")
	})
	if h.fenced() != "" {
		t.Fatalf("a forged breadcrumb was fenced: %q", h.fenced())
	}
	if h.nn["nn1"].ActiveAlive() {
		t.Fatal("nn1 became active without fencing the NameNode the breadcrumb claims is active")
	}

	// The ZKFC secured the znodes an earlier version left open.
	for _, p := range []string{scoped, crumb} {
		acl, _, err := h.authedConn(z).GetACL(p)
		if err != nil || !sameACLs(acl, z.ACLs) {
			t.Fatalf("ACL of %s after the ZKFC started: %+v, %v; want %+v", p, acl, err, z.ACLs)
		}
	}
	if acl, _, err := h.authedConn(z).GetACL(parent); err != nil || !sameACLs(acl, AncestorACLs(z.ACLs)) {
		t.Fatalf("ACL of the shared parent %s: %+v, %v; want %+v", parent, acl, err, AncestorACLs(z.ACLs))
	}
	if err := anon.Delete(scoped, -1); !errors.Is(err, zk.ErrNoAuth) && !errors.Is(err, zk.ErrNotEmpty) {
		t.Errorf("unauthenticated delete of %s: %v", scoped, err)
	}
	// Without the secret nothing can be changed.
	if _, err := anon.Create(scoped+"/intruder", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("unauthenticated create under %s: %v", scoped, err)
	}
	if _, err := anon.Set(crumb, forged.Encode(), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("unauthenticated write of the breadcrumb: %v", err)
	}
	if err := anon.Delete(crumb, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("unauthenticated delete of the breadcrumb: %v", err)
	}
	if _, err := anon.SetACL(scoped, zk.WorldACL(zk.PermAll), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("unauthenticated setACL: %v", err)
	}

	// The operator removes the forged breadcrumb (with the secret): the
	// election goes on, and the lock nn1's ZKFC holds is out of reach too.
	if err := h.authedConn(z).Delete(crumb, -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "nn1 active", h.nn["nn1"].ActiveAlive)
	lock := scoped + "/" + LockName
	if err := anon.Delete(lock, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("unauthenticated delete of the election lock: %v", err)
	}
	if _, err := anon.Set(crumb, forged.Encode(), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("unauthenticated write of the new breadcrumb: %v", err)
	}
	if h.fenced() != "" {
		t.Fatalf("fenced %q", h.fenced())
	}
}

// authedConn is a ZooKeeper session with z's credentials, closed at the end
// of the test, synced with the leader: a fresh session may land on a
// follower that has not yet applied the ZKFC's last changes (ZooKeeper
// orders reads only within a session).
func (h *haEnv) authedConn(z ZKConfig) *zk.Conn {
	h.t.Helper()
	conn, _, err := Dial(context.Background(), z, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(conn.Close)
	if _, err := conn.Sync("/"); err != nil {
		h.t.Fatal(err)
	}
	return conn
}
