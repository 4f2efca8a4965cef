package zkfc

import (
	"errors"
	"testing"

	"github.com/hactl/hactl/runtime/fence"
)

// TestFenceTargetOnlyConfiguredNameNodes: a breadcrumb naming anything but a
// configured NameNode of this nameservice at its configured address is
// refused; a genuine one is fenced at the configured address.
func TestFenceTargetOnlyConfiguredNameNodes(t *testing.T) {
	cfg := &Config{
		Nameservice: "ns1",
		Self:        NameNodeAddrs{ID: "nn1", RPCHost: "10.0.0.1", RPCPort: 8020},
		Peers:       []NameNodeAddrs{{ID: "nn2", RPCHost: "10.0.0.2", RPCPort: 8020}},
	}
	got, err := cfg.FenceTarget(NodeInfo{Nameservice: "ns1", NamenodeID: "nn2", Host: "10.0.0.2", Port: 8020})
	if err != nil || got != (fence.Target{Nameservice: "ns1", NamenodeID: "nn2", Host: "10.0.0.2", Port: 8020}) {
		t.Fatalf("genuine breadcrumb: %+v, %v", got, err)
	}
	// A breadcrumb without an address (Hadoop allows it) gets the configured one.
	if got, err := cfg.FenceTarget(NodeInfo{Nameservice: "ns1", NamenodeID: "nn2"}); err != nil || got.Host != "10.0.0.2" || got.Port != 8020 {
		t.Fatalf("breadcrumb without address: %+v, %v", got, err)
	}
	for name, forged := range map[string]NodeInfo{
		"another host":        {Nameservice: "ns1", NamenodeID: "nn2", Host: "10.0.0.99", Port: 8020},
		"another port":        {Nameservice: "ns1", NamenodeID: "nn2", Host: "10.0.0.2", Port: 22},
		"unknown NameNode ID": {Nameservice: "ns1", NamenodeID: "nn9", Host: "10.0.0.2", Port: 8020},
		"other nameservice":   {Nameservice: "ns2", NamenodeID: "nn2", Host: "10.0.0.2", Port: 8020},
	} {
		if got, err := cfg.FenceTarget(forged); !errors.Is(err, ErrUnknownFenceTarget) {
			t.Errorf("%s: fence target %+v, %v; want ErrUnknownFenceTarget", name, got, err)
		}
	}
}
