package schema

import (
	"strings"
	"testing"
	"time"
)

func TestDataNodeAddressesFallBackToHadoopsDefaults(t *testing.T) {
	c := &Cluster{
		Hosts: []*Host{{Name: "w1", Address: "10.0.1.1"}, {Name: "w2", Address: "fd00::2"}, {Name: "m1", Address: "10.0.0.1"}},
		DataNodes: []*DataNodeGroup{
			{Hosts: []string{"w1"}, DataDirs: []string{"/d1"}},
			{Hosts: []string{"w2"}, DataDirs: []string{"/d1", "/d2"}, Port: 50010, HTTPPort: 50075, IPCPort: 50020},
		},
	}
	for _, tc := range []struct{ name, got, want string }{
		{"default data transfer", c.DataNodeAddr("w1"), "10.0.1.1:9866"},
		{"default HTTP", c.DataNodeHTTPAddr("w1"), "10.0.1.1:9864"},
		{"default IPC", c.DataNodeIPCAddr("w1"), "10.0.1.1:9867"},
		{"set data transfer", c.DataNodeAddr("w2"), "[fd00::2]:50010"},
		{"set HTTP", c.DataNodeHTTPAddr("w2"), "[fd00::2]:50075"},
		{"set IPC", c.DataNodeIPCAddr("w2"), "[fd00::2]:50020"},
		{"exclude file", c.HostsExcludeFile("m1"), "/etc/hactl/dfs.hosts.exclude"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got := c.DataNodeHosts(); strings.Join(got, ",") != "w1,w2" {
		t.Errorf("DataNodeHosts = %v", got)
	}
	if c.DataDirs("m1") != nil || len(c.DataDirs("w2")) != 2 {
		t.Errorf("DataDirs m1 %v, w2 %v", c.DataDirs("m1"), c.DataDirs("w2"))
	}
	if c.EffectiveReplication() != 3 || c.EffectiveHeartbeatInterval() != 3*time.Second || c.EffectiveBlockReportInterval() != 6*time.Hour {
		t.Errorf("block defaults = %d %v %v", c.EffectiveReplication(), c.EffectiveHeartbeatInterval(), c.EffectiveBlockReportInterval())
	}
}

// dnCluster is a valid local cluster; extra HCL is appended.
func dnCluster(extra string) map[string][]byte {
	return map[string][]byte{"c.hcl": []byte(`
host "n1" { address = "127.0.9.1" }
host "n2" { address = "127.0.9.2" }
host "n3" { address = "127.0.9.3" }
zookeeper {
  servers         = ["n1", "n2", "n3"]
  tick_time       = "200ms"
  session_timeout = "2s"
}
nameservice "ns" {
  namenode "nn1" { host = "n1" }
  namenode "nn2" { host = "n2" }
  journal {
    hosts     = ["n1", "n2", "n3"]
    edits_dir = "/jn"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/nn"
}
target "local" { state_dir = "/tmp/dn-state" }
` + extra)}
}

func TestRenderInlineLimitFollowsDataNodes(t *testing.T) {
	for _, tc := range []struct {
		name, extra, host string
		want              map[string]string // "" = key absent
	}{
		{"no DataNodes: inline in the NameNodes", "", "n1", map[string]string{
			KeyNameNodeMaxInline: "1048576", KeyReplication: "", KeyHostsExclude: "", KeyDataNodeDataDir: "",
		}},
		{"no DataNodes, client replication passes through", `hadoop { hdfs_site = { "dfs.replication" = "2" } }`, "n1", map[string]string{
			KeyNameNodeMaxInline: "1048576", KeyReplication: "2",
		}},
		{"DataNodes: blocks only", `datanode {
  hosts = ["n1", "n2", "n3"]
  data_dirs = ["/dn"]
}`, "n3", map[string]string{
			KeyNameNodeMaxInline: "0", KeyReplication: "3", KeyHeartbeatInterval: "3", KeyBlockReportInterval: "21600000",
			KeyHostsExclude:    "/tmp/dn-state/hosts/n3/etc/hactl/dfs.hosts.exclude",
			KeyDataNodeDataDir: "/tmp/dn-state/hosts/n3/dn", KeyDataNodeAddress: "127.0.9.3:9866",
			KeyDataNodeHTTPAddress: "127.0.9.3:9864", KeyDataNodeIPCAddress: "127.0.9.3:9867", KeyDataNodeHostname: "127.0.9.3",
		}},
		{"DataNodes with an explicit inline limit", `datanode {
  hosts = ["n1", "n2", "n3"]
  data_dirs = ["/dn"]
}
hadoop { hdfs_site = { "hactl.namenode.max-inline-file-bytes" = "4096" } }`, "n1", map[string]string{
			KeyNameNodeMaxInline: "4096",
		}},
		{"a host without a DataNode gets the cluster keys only", `datanode {
  hosts = ["n2", "n3"]
  data_dirs = ["/dn"]
}
hdfs { replication = 2 }`, "n1", map[string]string{
			KeyNameNodeMaxInline: "0", KeyReplication: "2", KeyDataNodeDataDir: "", KeyDataNodeAddress: "",
			KeyHostsExclude: "/tmp/dn-state/hosts/n1/etc/hactl/dfs.hosts.exclude",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := LoadSources(dnCluster(tc.extra), LoadOptions{})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			r, err := Render(c, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				got, ok := r.HDFS.Lookup(k)
				if want == "" && ok {
					t.Errorf("%s = %q, want it absent", k, got)
				} else if want != "" && got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestDataNodeDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        []string // rule IDs, in order
	}{
		{"no DataNodes warns that data lives in the NameNodes", "", []string{RuleNoDataNodes}},
		{"three DataNodes are clean", `datanode {
  hosts = ["n1", "n2", "n3"]
  data_dirs = ["/dn"]
}`, nil},
		{"passthrough replication is modelled once DataNodes exist", `datanode {
  hosts = ["n1", "n2", "n3"]
  data_dirs = ["/dn"]
}
hadoop { hdfs_site = { "dfs.replication" = "2" } }`, []string{RulePassthroughModelled}},
		{"data dir inside the JournalNode edits dir", `datanode {
  hosts = ["n1", "n2", "n3"]
  data_dirs = ["/jn/blocks"]
}`,
			[]string{RuleDirOverlap}}, // one data_dirs entry, reported once for all three hosts
		{"the same data dir twice", `datanode {
  hosts = ["n3"]
  data_dirs = ["/dn", "/dn/"]
}
hdfs { replication = 1 }`, []string{RuleDirOverlap}},
		{"DataNode IPC port on the JournalNode RPC port", `datanode {
  hosts = ["n1", "n2", "n3"]
  data_dirs = ["/dn"]
  ipc_port = 8485
}`,
			[]string{RulePortConflict}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := LoadSources(dnCluster(tc.extra), LoadOptions{})
			var got []string
			for _, d := range diags {
				got = append(got, RuleID(d))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("rules = %v, want %v\n%s", got, tc.want, diags.Error())
			}
		})
	}
}
