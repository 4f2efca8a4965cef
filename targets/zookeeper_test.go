package targets_test

import (
	"context"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/zkfc"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

func TestBreadcrumbNameNode(t *testing.T) {
	pb := zkfc.NodeInfo{Nameservice: "ns", NamenodeID: "nn2", Host: "10.0.0.2", Port: 8020, ZKFCPort: 8019}.Encode()
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{pb, "nn2"},
		{[]byte(`{"namenodeId":"nn1"}`), "nn1"},
		{[]byte("garbage\xff"), ""},
		{nil, ""},
	} {
		if got := targets.BreadcrumbNameNode(tc.data); got != tc.want {
			t.Errorf("BreadcrumbNameNode(%q) = %q, want %q", tc.data, got, tc.want)
		}
	}
}

func TestProbeZooKeeperNoServer(t *testing.T) {
	c := &schema.Cluster{
		Hosts:     []*schema.Host{{Name: "a", Address: "127.0.2.250"}},
		ZooKeeper: &schema.ZooKeeper{Managed: true, Servers: []string{"a"}, ClientPort: 1},
	}
	z := targets.ProbeZooKeeper(context.Background(), c, nil, time.Second)
	if z.Reachable || len(z.ServersUp) != 0 || z.Error == "" {
		t.Errorf("no server: %+v", z)
	}
}
