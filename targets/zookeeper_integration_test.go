package targets_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/runtime/zkfc"
	"github.com/hactl/hactl/runtime/zkfc/zktest"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// ProbeZooKeeper against a real ensemble on 127.0.2.11-13: servers up, the
// parent znode and the breadcrumb's NameNode, and a lost server.
func TestProbeZooKeeperIntegration(t *testing.T) {
	integration(t)
	addrs := []string{"127.0.2.11", "127.0.2.12", "127.0.2.13"}
	ens := zktest.Start(t, zktest.Options{Hosts: addrs, ClientPort: 2191, PeerPort: 2898, ElectionPort: 3898})
	c := &schema.Cluster{
		ZooKeeper:    &schema.ZooKeeper{Managed: true, ClientPort: 2191, Servers: []string{"z1", "z2", "z3"}},
		Nameservices: []*schema.Nameservice{{Name: "ns"}, {Name: "other"}},
	}
	for i, a := range addrs {
		c.Hosts = append(c.Hosts, &schema.Host{Name: []string{"z1", "z2", "z3"}[i], Address: a})
	}
	ctx := context.Background()
	z := targets.ProbeZooKeeper(ctx, c, nil, 5*time.Second)
	if !z.Reachable || len(z.ServersUp) != 3 || z.ParentZnodes["ns"] || z.ParentZnodes["other"] || len(z.ActiveNameNodes) != 0 {
		t.Fatalf("fresh ensemble: %+v", z)
	}
	conn, _, err := zk.Connect(ens.Addrs(), 5*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	acl := zk.WorldACL(zk.PermAll)
	for _, p := range []string{"/hadoop-ha", "/hadoop-ha/ns"} {
		if _, err := conn.Create(p, nil, 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	crumb := zkfc.NodeInfo{Nameservice: "ns", NamenodeID: "nn2", Host: "127.0.2.12", Port: 8020, ZKFCPort: 8019}.Encode()
	if _, err := conn.Create("/hadoop-ha/ns/ActiveBreadCrumb", crumb, 0, acl); err != nil {
		t.Fatal(err)
	}
	// A breadcrumb under the digest ACL derived from the cluster secret is
	// read with the secret a host holds.
	secret := []byte("0123456789abcdef0123456789abcdef")
	acls, auths := zkfc.SecretACL(secret)
	sconn, _, err := zk.Connect(ens.Addrs(), 5*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer sconn.Close()
	if err := sconn.AddAuth(auths[0].Scheme, auths[0].Auth); err != nil {
		t.Fatal(err)
	}
	c.Nameservices = append(c.Nameservices, &schema.Nameservice{Name: "sec"})
	if _, err := sconn.Create("/hadoop-ha/sec", nil, 0, acls); err != nil {
		t.Fatal(err)
	}
	secCrumb := zkfc.NodeInfo{Nameservice: "sec", NamenodeID: "nn1", Host: "127.0.2.11", Port: 8020, ZKFCPort: 8019}.Encode()
	if _, err := sconn.Create("/hadoop-ha/sec/ActiveBreadCrumb", secCrumb, 0, acls); err != nil {
		t.Fatal(err)
	}
	// Every server catches up with the leader first: the probe's sessions
	// and conn may sit on a follower that has not applied sconn's creates
	// yet (ZooKeeper orders reads only within a session).
	for _, addr := range ens.Addrs() {
		fc, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = fc.Sync("/hadoop-ha/sec/ActiveBreadCrumb")
		fc.Close()
		if err != nil {
			t.Fatalf("sync %s: %v", addr, err)
		}
	}
	if _, _, err := conn.Get("/hadoop-ha/sec/ActiveBreadCrumb"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("the secured breadcrumb is readable without credentials: %v", err)
	}
	hosts := map[string]targets.Host{"z1": secretHost{name: "z1", secret: secret, path: c.PathsFor("z1").SecretFile}}
	if z := targets.ProbeZooKeeper(ctx, c, hosts, 5*time.Second); z.ActiveNameNodes["sec"] != "nn1" || z.ActiveNameNodes["ns"] != "nn2" {
		t.Fatalf("secured breadcrumb with the secret from a host: %+v", z)
	}
	ens.Kill(0)
	z = targets.ProbeZooKeeper(ctx, c, nil, 5*time.Second)
	if !z.Reachable || !slices.Equal(z.ServersUp, []string{"z2", "z3"}) {
		t.Errorf("one server down: %+v", z)
	}
	if !z.ParentZnodes["ns"] || z.ParentZnodes["other"] || z.ActiveNameNodes["ns"] != "nn2" || !z.ParentZnodes["sec"] || z.ActiveNameNodes["sec"] != "" {
		t.Errorf("znodes: %+v", z)
	}
	ens.Kill(1)
	z = targets.ProbeZooKeeper(ctx, c, nil, 3*time.Second)
	if z.Reachable || z.Error == "" {
		t.Errorf("no quorum reported as reachable: %+v", z)
	}
}

// secretHost answers `cat <secret file>` with the secret, as a host of a
// deployed cluster does; nothing else.
type secretHost struct {
	name, path string
	secret     []byte
}

func (h secretHost) Name() string    { return h.name }
func (h secretHost) Address() string { return h.name }
func (h secretHost) Close() error    { return nil }
func (h secretHost) Run(_ context.Context, cmd targets.Command) (targets.Result, error) {
	if len(cmd.Args) == 2 && cmd.Args[0] == "cat" && cmd.Args[1] == h.path {
		return targets.Result{Stdout: append(h.secret, '\n')}, nil
	}
	return targets.Result{}, fmt.Errorf("unexpected command %q", cmd.Args)
}
func (h secretHost) Upload(context.Context, string, io.Reader, fs.FileMode, string) error {
	return errors.New("no uploads")
}
