package schema

import (
	"testing"
)

func TestZooKeeperQuorumBracketsIPv6(t *testing.T) {
	managed := &Cluster{
		Hosts:     []*Host{{Name: "a", Address: "fd00::1"}, {Name: "b", Address: "10.0.0.2"}, {Name: "c"}},
		ZooKeeper: &ZooKeeper{Managed: true, Servers: []string{"a", "b", "c"}, ClientPort: 2182},
	}
	if got, want := managed.ZooKeeperQuorumString(), "[fd00::1]:2182,10.0.0.2:2182,c:2182"; got != want {
		t.Errorf("managed quorum = %q, want %q", got, want)
	}
	if got, want := managed.ZooKeeperClientAddr("a"), "[fd00::1]:2182"; got != want {
		t.Errorf("client address of a = %q, want %q", got, want)
	}

	// External entries: a bare or bracketed IPv6 address gets the port in
	// brackets, once; one that names its port is kept as given.
	external := &Cluster{ZooKeeper: &ZooKeeper{Servers: []string{"::1", "[fd00::2]", "[fd00::3]:2190", "zk1", "zk2:2191"}}}
	want := []ZooKeeperServer{
		{Name: "::1", Addr: "[::1]:2181"},
		{Name: "[fd00::2]", Addr: "[fd00::2]:2181"},
		{Name: "[fd00::3]:2190", Addr: "[fd00::3]:2190"},
		{Name: "zk1", Addr: "zk1:2181"},
		{Name: "zk2:2191", Addr: "zk2:2191"},
	}
	got := external.ZooKeeperQuorum()
	if len(got) != len(want) {
		t.Fatalf("external quorum = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("external entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if (&Cluster{}).ZooKeeperQuorum() != nil || (&Cluster{}).ZooKeeperQuorumString() != "" {
		t.Error("a cluster without ZooKeeper has a quorum")
	}
}

func TestDerivedPortsFallBackToHadoopsDefaults(t *testing.T) {
	nn := &NameNode{ID: "nn1", Host: "h1"}
	set := &NameNode{ID: "nn2", Host: "h2", RPCPort: 9000, HTTPPort: 9001}
	c := &Cluster{
		Hosts: []*Host{{Name: "h1", Address: "10.0.0.1"}, {Name: "h2", Address: "fd00::2"}, {Name: "h3", Address: "10.0.0.3"}},
		Nameservices: []*Nameservice{
			{Name: "ns1", NameNodes: []*NameNode{nn, set}, Journal: &Journal{Hosts: []string{"h1"}}},
			{Name: "ns2", Journal: &Journal{Hosts: []string{"h1", "h2"}, RPCPort: 9485, HTTPPort: 9480}},
		},
	}
	for _, tc := range []struct{ name, got, want string }{
		{"default NameNode RPC", c.NameNodeRPCAddr(nn), "10.0.0.1:8020"},
		{"default NameNode HTTP", c.NameNodeHTTPAddr(nn), "10.0.0.1:9870"},
		{"set NameNode RPC", c.NameNodeRPCAddr(set), "[fd00::2]:9000"},
		{"set NameNode HTTP", c.NameNodeHTTPAddr(set), "[fd00::2]:9001"},
		// One JournalNode per host: the first nameservice's journal block
		// that puts one there gives its ports.
		{"JournalNode RPC, first journal", c.JournalRPCAddr("h1"), "10.0.0.1:8485"},
		{"JournalNode HTTP, first journal", c.JournalHTTPAddr("h1"), "10.0.0.1:8480"},
		{"JournalNode RPC, second journal", c.JournalRPCAddr("h2"), "[fd00::2]:9485"},
		{"JournalNode HTTP, no journal", c.JournalHTTPAddr("h3"), "10.0.0.3:8480"},
		{"undeclared host", c.HostAddr("nowhere"), "nowhere"},
		{"ZooKeeper client, no zookeeper block", c.ZooKeeperClientAddr("h1"), "10.0.0.1:2181"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	z := &ZooKeeper{}
	if z.EffectiveClientPort() != 2181 || z.EffectivePeerPort() != 2888 || z.EffectiveElectionPort() != 3888 ||
		z.EffectiveTickTime() != DefaultZooKeeperTickTime || z.EffectiveSessionTimeout() != DefaultSessionTimeout ||
		z.EffectiveParentZnode() != "/hadoop-ha" || z.EffectiveDataDir() != DefaultZooKeeperDataDir {
		t.Errorf("ZooKeeper defaults: %d %d %d %s %s %s %s", z.EffectiveClientPort(), z.EffectivePeerPort(), z.EffectiveElectionPort(),
			z.EffectiveTickTime(), z.EffectiveSessionTimeout(), z.EffectiveParentZnode(), z.EffectiveDataDir())
	}
}

// dfs.ha.zkfc.port resolves with Hadoop's suffixes, most specific first:
// apply must dial the port validation checked and render wrote.
func TestZKFCPortResolvesHadoopsSuffixes(t *testing.T) {
	nn1, nn2 := &NameNode{ID: "nn1", Host: "h1"}, &NameNode{ID: "nn2", Host: "h1"}
	c := &Cluster{Hosts: []*Host{{Name: "h1", Address: "10.0.0.1"}}}
	if got := c.ZKFCPort("ns1", "nn1"); got != DefaultZKFCPort {
		t.Errorf("no key: %d", got)
	}
	c.Hadoop = &HadoopPassthrough{HDFSSite: map[string]string{
		KeyZKFCPort:                 "8100",
		KeyZKFCPort + ".ns1":        "8200",
		KeyZKFCPort + ".ns1.nn2":    "8300",
		KeyZKFCPort + ".ns2.nn1":    "not a port",
		KeyZKFCPort + ".ns3":        "70000",
		KeyZKFCPort + ".ns4.nn1":    " 8400 ",
		KeyZKFCPort + ".other.nn1x": "1",
	}}
	for _, tc := range []struct {
		ns   string
		nn   *NameNode
		want string
	}{
		{"ns1", nn1, "10.0.0.1:8200"},
		{"ns1", nn2, "10.0.0.1:8300"},
		{"ns2", nn1, "10.0.0.1:8100"},
		{"ns3", nn1, "10.0.0.1:8100"},
		{"ns4", nn1, "10.0.0.1:8400"},
	} {
		if got := c.ZKFCAddr(tc.ns, tc.nn); got != tc.want {
			t.Errorf("ZKFC of %s.%s = %s, want %s", tc.ns, tc.nn.ID, got, tc.want)
		}
	}
}
