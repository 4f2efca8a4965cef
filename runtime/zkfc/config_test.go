package zkfc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/fence"
)

func testHadoopConf(t *testing.T) *hadoopconf.Config {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := hadoopconf.New()
	for k, v := range map[string]string{
		"ha.zookeeper.quorum":                   "127.0.6.1:2181,127.0.6.2:2181",
		"dfs.nameservices":                      "ns1,ns2",
		"dfs.ha.namenodes.ns1":                  "nn1,nn2",
		"dfs.ha.namenodes.ns2":                  "nn3,nn4",
		"dfs.namenode.rpc-address.ns1.nn1":      "127.0.6.11:8020",
		"dfs.namenode.http-address.ns1.nn1":     "127.0.6.11:9870",
		"dfs.namenode.rpc-address.ns1.nn2":      "127.0.6.12:8020",
		"dfs.namenode.http-address.ns1.nn2":     "127.0.6.12:9870",
		"dfs.ha.automatic-failover.enabled.ns1": "true",
		"dfs.ha.fencing.methods.ns1":            "shell(/bin/true)",
		"dfs.ha.fencing.methods.ns2":            "shell(/bin/false)",
		"ha.health-monitor.check-interval.ms":   "250",
		"hactl.cluster.secret.file":             secret,
	} {
		c.Set(k, v)
	}
	return c
}

func TestLoadConfig(t *testing.T) {
	c := testHadoopConf(t)
	cfg, err := LoadConfig(c, "", "nn2")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Nameservice != "ns1" || cfg.Self.RPCHost != "127.0.6.12" || cfg.Self.ZKFCAddr != "127.0.6.12:8019" ||
		len(cfg.Peers) != 1 || cfg.Peers[0].HTTPAddr != "127.0.6.11:9870" {
		t.Fatalf("addresses %+v", cfg)
	}
	if !cfg.AutoFailover {
		t.Fatal("dfs.ha.automatic-failover.enabled.ns1 ignored")
	}
	if len(cfg.Fencers) != 1 || cfg.Fencers[0].String() != "shell(/bin/true)" {
		t.Fatalf("the nameservice's fencing methods: %v %v", cfg.Fencers, cfg.FencerErr)
	}
	if cfg.ZK.SessionTimeout != 5*time.Second || cfg.ZK.ParentZnode != "/hadoop-ha" || cfg.ZK.ScopedParent("ns1") != "/hadoop-ha/ns1" {
		t.Fatalf("zk defaults %+v", cfg.ZK)
	}
	if cfg.Health.CheckInterval != 250*time.Millisecond || cfg.Health.RPCTimeout != 45*time.Second || cfg.GracefulTimeout != 5*time.Second {
		t.Fatalf("timeouts %+v %s", cfg.Health, cfg.GracefulTimeout)
	}
	info := cfg.SelfInfo()
	if info != (NodeInfo{Nameservice: "ns1", NamenodeID: "nn2", Host: "127.0.6.12", Port: 8020, ZKFCPort: 8019}) {
		t.Fatalf("self info %+v", info)
	}

	c.Unset("dfs.ha.fencing.methods.ns1")
	cfg, err = LoadConfig(c, "ns1", "nn1")
	if err != nil || len(cfg.Fencers) != 0 || !errors.Is(cfg.FencerErr, fence.ErrNoMethods) {
		t.Fatalf("no fencing: %v %v", err, cfg.FencerErr)
	}
	for _, bad := range []struct{ ns, id, want string }{
		{"", "nn9", "not listed"},
		{"ns1", "nn3", "not in dfs.ha.namenodes.ns1"},
	} {
		if _, err := LoadConfig(c, bad.ns, bad.id); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("%s/%s: %v", bad.ns, bad.id, err)
		}
	}
	c.Unset("hactl.cluster.secret.file")
	if _, err := LoadConfig(c, "", "nn1"); err == nil || !strings.Contains(err.Error(), "hactl.cluster.secret.file") {
		t.Fatalf("no secret: %v", err)
	}
}

func TestExitCodesAreHadoops(t *testing.T) {
	for err, code := range map[error]int{ErrFormatDenied: 2, ErrNoParentZnode: 3, ErrNoFencer: 4, ErrAutoFailoverOff: 5, ErrNoZooKeeper: 6, errors.New("x"): 1, nil: 0} {
		if got := ExitCode(err); got != code {
			t.Errorf("%v: %d, want %d", err, got, code)
		}
	}
}

// Two nameservices whose NameNodes are both nn1 and nn2, on the same hosts:
// each ZKFC resolves its own nameservice's NameNodes, and its peers' ZKFC
// ports are theirs (dfs.ha.zkfc.port.<ns>), not its own.
func TestLoadConfigFederationRepeatedIDs(t *testing.T) {
	c := testHadoopConf(t)
	c.Set("dfs.ha.namenodes.ns2", "nn1,nn2")
	c.Set("dfs.namenode.rpc-address.ns2.nn1", "127.0.6.11:8021")
	c.Set("dfs.namenode.http-address.ns2.nn1", "127.0.6.11:9871")
	c.Set("dfs.namenode.rpc-address.ns2.nn2", "127.0.6.12:8021")
	c.Set("dfs.namenode.http-address.ns2.nn2", "127.0.6.12:9871")
	c.Set("dfs.ha.zkfc.port.ns2", "8029")
	c.Set("dfs.ha.zkfc.port.ns1.nn1", "8018")
	if _, err := LoadConfig(c, "", "nn1"); err == nil || !strings.Contains(err.Error(), "ns1, ns2") {
		t.Errorf("nn1 without its nameservice: %v", err)
	}
	cfg, err := LoadConfig(c, "ns2", "nn1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Nameservice != "ns2" || cfg.Self.ZKFCAddr != "127.0.6.11:8029" || cfg.Self.HTTPAddr != "127.0.6.11:9871" ||
		len(cfg.Peers) != 1 || cfg.Peers[0].ID != "nn2" || cfg.Peers[0].ZKFCAddr != "127.0.6.12:8029" || cfg.Peers[0].HTTPAddr != "127.0.6.12:9871" {
		t.Errorf("ns2/nn1: %+v", cfg)
	}
	cfg, err = LoadConfig(c, "ns1", "nn2")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Self.ZKFCAddr != "127.0.6.12:8019" || len(cfg.Peers) != 1 || cfg.Peers[0].ZKFCAddr != "127.0.6.11:8018" {
		t.Errorf("ns1/nn2: self %+v peers %+v", cfg.Self, cfg.Peers)
	}
}
