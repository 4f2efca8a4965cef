package schema

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

func boolp(b bool) *bool { return &b }

// threeHostCluster is examples/baremetal's layout, built in Go so render is tested
// independently of the loader.
func threeHostCluster() *Cluster {
	return &Cluster{
		Hosts: []*Host{
			{Name: "dim", Address: "192.168.1.6"},
			{Name: "oim", Address: "192.168.1.132"},
			{Name: "jim", Address: "192.168.1.11"},
		},
		ZooKeeper: &ZooKeeper{Managed: true, Servers: []string{"dim", "oim", "jim"},
			ClientPort: 2181, SessionTimeout: 5 * time.Second},
		Nameservices: []*Nameservice{{
			Name: "hacluster",
			NameNodes: []*NameNode{
				{ID: "dnn", Host: "dim"}, {ID: "onn", Host: "oim"}, {ID: "jnn", Host: "jim", RPCPort: 8021},
			},
			Journal:           &Journal{Hosts: []string{"dim", "oim", "jim"}, EditsDir: "/hdfs/journalnode"},
			AutomaticFailover: true,
			Fencing: &Fencing{Methods: []string{"sshfence", "shell(/bin/true)"},
				PrivateKeyFiles: []string{"/home/hadoop/.ssh/id_rsa"}, KnownHostsFile: "/home/hadoop/.ssh/known_hosts", ConnectTimeout: 30 * time.Second},
			NameDirs:                  []string{"/hdfs/namenode"},
			TailEditsPeriod:           500 * time.Millisecond,
			TailEditsInProgress:       boolp(true),
			QJournalWriteTimeout:      20 * time.Second,
			QJournalNewEpochTimeout:   1500 * time.Millisecond,
			NotBecomeActiveInSafemode: boolp(true),
		}},
		Target:  &Target{Kind: TargetSSH},
		Runtime: &Runtime{ConfDir: "/etc/hactl"},
	}
}

func asMap(c *hadoopconf.Config) map[string]string {
	m := map[string]string{}
	for _, p := range c.Properties() {
		m[p.Name] = p.Value
	}
	return m
}

func diffMaps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: missing %s (want %q)", what, k, w)
		} else if g != w {
			t.Errorf("%s: %s = %q, want %q", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %q", what, k, g)
		}
	}
}

func TestRenderThreeHostLayoutKeyForKey(t *testing.T) {
	r, err := Render(threeHostCluster(), "oim")
	if err != nil {
		t.Fatal(err)
	}
	diffMaps(t, "core-site", asMap(r.Core), map[string]string{
		"fs.defaultFS":                    "hdfs://hacluster",
		"ha.zookeeper.quorum":             "192.168.1.6:2181,192.168.1.132:2181,192.168.1.11:2181",
		"ha.zookeeper.session-timeout.ms": "5000",
		"ha.zookeeper.parent-znode":       "/hadoop-ha",
	})
	diffMaps(t, "hdfs-site", asMap(r.HDFS), map[string]string{
		"dfs.nameservices":                             "hacluster",
		"dfs.ha.namenodes.hacluster":                   "dnn,onn,jnn",
		"dfs.namenode.rpc-address.hacluster.dnn":       "192.168.1.6:8020",
		"dfs.namenode.rpc-address.hacluster.onn":       "192.168.1.132:8020",
		"dfs.namenode.rpc-address.hacluster.jnn":       "192.168.1.11:8021",
		"dfs.namenode.http-address.hacluster.dnn":      "192.168.1.6:9870",
		"dfs.namenode.http-address.hacluster.onn":      "192.168.1.132:9870",
		"dfs.namenode.http-address.hacluster.jnn":      "192.168.1.11:9870",
		"dfs.namenode.shared.edits.dir":                "qjournal://192.168.1.6:8485;192.168.1.132:8485;192.168.1.11:8485/hacluster",
		"dfs.journalnode.edits.dir":                    "/hdfs/journalnode",
		"dfs.journalnode.rpc-address":                  "192.168.1.132:8485",
		"dfs.journalnode.http-address":                 "192.168.1.132:8480",
		"dfs.namenode.name.dir":                        "/hdfs/namenode",
		"dfs.client.failover.proxy.provider.hacluster": ConfiguredFailoverProxyProvider,
		"dfs.ha.fencing.methods":                       "sshfence\nshell(/bin/true)",
		"dfs.ha.fencing.ssh.private-key-files":         "/home/hadoop/.ssh/id_rsa",
		"hactl.ha.fencing.ssh.known-hosts-file":        "/home/hadoop/.ssh/known_hosts",
		"dfs.ha.fencing.ssh.connect-timeout":           "30000",
		"dfs.ha.automatic-failover.enabled":            "true",
		"dfs.ha.nn.not-become-active-in-safemode":      "true",
		"dfs.ha.tail-edits.period":                     "500ms",
		"dfs.ha.tail-edits.in-progress":                "true",
		"dfs.ha.tail-edits.period.backoff-max":         "1s",
		"dfs.qjournal.write-txns.timeout.ms":           "20000",
		"dfs.qjournal.new-epoch.timeout.ms":            "1500",
		"dfs.ha.zkfc.port":                             "8019",
		"hactl.cluster.secret.file":                    "/etc/hactl/cluster.secret",
		"hactl.namenode.max-inline-file-bytes":         "1048576",
	})
	if k := r.HDFS.Keys(); !slices.IsSorted(k) {
		t.Errorf("hdfs-site keys not sorted: %v", k)
	}
	// The daemons read the same file back through hadoopconf.
	back, err := hadoopconf.Parse("hdfs-site.xml", r.HDFS.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if m := back.Lines(KeyFencingMethods); len(m) != 2 || m[1] != "shell(/bin/true)" {
		t.Errorf("fencing methods after XML round trip = %q", m)
	}
}

func TestRenderAllDiffersOnlyInPerHostKeys(t *testing.T) {
	c := threeHostCluster()
	// A fourth host that runs no daemon gets the client view only.
	c.Hosts = append(c.Hosts, &Host{Name: "edge", Address: "edge.example.com"})
	all, err := RenderAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Host != "dim" || all[3].Host != "edge" {
		t.Fatalf("hosts = %v", all)
	}
	dim, edge := asMap(all[0].HDFS), asMap(all[3].HDFS)
	for _, k := range []string{KeyJournalRPCAddress, KeyJournalHTTPAddress, KeyJournalEditsDir, KeyNameDir} {
		if _, ok := edge[k]; ok {
			t.Errorf("edge host without daemons got %s", k)
		}
		if _, ok := dim[k]; !ok {
			t.Errorf("dim lacks %s", k)
		}
		delete(dim, k)
	}
	diffMaps(t, "dim vs edge (shared keys)", edge, dim)
}

func TestRenderFederationSuffixesPerNameservice(t *testing.T) {
	c := &Cluster{
		Hosts: []*Host{
			{Name: "a", Address: "10.0.0.1"}, {Name: "b", Address: "10.0.0.2"},
			{Name: "c", Address: "10.0.0.3"}, {Name: "d", Address: "10.0.0.4"},
		},
		Nameservices: []*Nameservice{
			{Name: "ns1", NameNodes: []*NameNode{{ID: "nn1", Host: "a"}, {ID: "nn2", Host: "b"}},
				Journal:           &Journal{Hosts: []string{"a", "b", "c"}, EditsDir: "/jn"},
				AutomaticFailover: true, Fencing: &Fencing{Methods: []string{"shell(/bin/true)"}},
				NameDirs: []string{"/nn1"}},
			{Name: "ns2", NameNodes: []*NameNode{{ID: "nn1", Host: "c"}, {ID: "nn2", Host: "d", NameDirs: []string{"/x", "/y"}}},
				Journal:           &Journal{Hosts: []string{"a", "b", "c"}, EditsDir: "/jn2", JournalID: "second"},
				AutomaticFailover: false, NameDirs: []string{"/nn2"}},
		},
	}
	rc, err := Render(c, "c")
	if err != nil {
		t.Fatal(err)
	}
	got := asMap(rc.HDFS)
	want := map[string]string{
		"dfs.nameservices":                      "ns1,ns2",
		"dfs.namenode.shared.edits.dir.ns1":     "qjournal://10.0.0.1:8485;10.0.0.2:8485;10.0.0.3:8485/ns1",
		"dfs.namenode.shared.edits.dir.ns2":     "qjournal://10.0.0.1:8485;10.0.0.2:8485;10.0.0.3:8485/second",
		"dfs.namenode.shared.edits.dir":         "qjournal://10.0.0.1:8485;10.0.0.2:8485;10.0.0.3:8485/second",
		"dfs.ha.automatic-failover.enabled.ns1": "true",
		"dfs.ha.automatic-failover.enabled.ns2": "false",
		"dfs.ha.automatic-failover.enabled":     "false", // host c's NameNode is in ns2
		"dfs.ha.fencing.methods.ns1":            "shell(/bin/true)",
		"dfs.namenode.name.dir":                 "/nn2",
		"dfs.namenode.name.dir.ns2.nn1":         "/nn2",
		"dfs.journalnode.edits.dir":             "/jn",
		"dfs.journalnode.edits.dir.ns1":         "/jn",
		"dfs.journalnode.edits.dir.ns2":         "/jn2",
		"dfs.ha.namenodes.ns2":                  "nn1,nn2",
		"dfs.namenode.rpc-address.ns2.nn2":      "10.0.0.4:8020",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if _, ok := got["dfs.ha.fencing.methods"]; ok {
		t.Error("host of ns2 (no fencing) got ns1's generic fencing methods")
	}
	if v := asMap(rc.Core)["fs.defaultFS"]; v != "hdfs://ns1" {
		t.Errorf("fs.defaultFS = %q", v)
	}
	rd, err := Render(c, "d")
	if err != nil {
		t.Fatal(err)
	}
	if v := asMap(rd.HDFS)["dfs.namenode.name.dir.ns2.nn2"]; v != "/x,/y" {
		t.Errorf("namenode name_dir override = %q", v)
	}
	ra, _ := Render(c, "a")
	if v := asMap(ra.HDFS)["dfs.ha.fencing.methods"]; v != "shell(/bin/true)" {
		t.Errorf("host a (ns1) generic fencing = %q", v)
	}
}

func TestRenderLocalTargetRootsEveryDirectoryPerHost(t *testing.T) {
	c := threeHostCluster()
	for i, h := range c.Hosts {
		h.Address = "127.0.8." + string(rune('1'+i))
	}
	c.Target = &Target{Kind: TargetLocal, StateDir: "state"}
	c.ConfigDir = "/cfg"
	c.Nameservices[0].NameDirs = []string{"/hdfs/nn", "file:///hdfs/nn2"}
	r, err := Render(c, "jim")
	if err != nil {
		t.Fatal(err)
	}
	m := asMap(r.HDFS)
	root := "/cfg/state/hosts/jim"
	for k, w := range map[string]string{
		KeyNameDir:                               root + "/hdfs/nn,file://" + root + "/hdfs/nn2",
		KeyJournalEditsDir:                       root + "/hdfs/journalnode",
		KeyClusterSecretFile:                     root + "/etc/hactl/cluster.secret",
		KeyJournalRPCAddress:                     "127.0.8.3:8485",
		KeyNameNodeRPCAddress + ".hacluster.dnn": "127.0.8.1:8020",
	} {
		if m[k] != w {
			t.Errorf("%s = %q, want %q", k, m[k], w)
		}
	}
	// An absolute state_dir is used as is.
	c.Target.StateDir = "/var/tmp/s"
	r, _ = Render(c, "dim")
	if v := asMap(r.HDFS)[KeyJournalEditsDir]; v != "/var/tmp/s/hosts/dim/hdfs/journalnode" {
		t.Errorf("absolute state_dir: edits dir = %q", v)
	}
}

func TestRenderPassthroughNeverDropped(t *testing.T) {
	c := threeHostCluster()
	c.Nameservices[0].TailEditsPeriod = 0
	c.Hadoop = &HadoopPassthrough{
		CoreSite: map[string]string{
			"hadoop.tmp.dir":      "/data/tmp",
			"ha.zookeeper.quorum": "wrong:1", // collides with the model: the model wins
			"fs.defaultFS":        "hdfs://other",
		},
		HDFSSite: map[string]string{
			"dfs.replication": "2",
			"dfs.client.failover.proxy.provider.hacluster": "org.apache.hadoop.hdfs.server.namenode.ha.RequestHedgingProxyProvider",
			"dfs.ha.zkfc.port":         "9019",
			"dfs.ha.tail-edits.period": "2s", // modelled but unset in the model: kept
		},
	}
	r, err := Render(c, "dim")
	if err != nil {
		t.Fatal(err)
	}
	core, hdfs := asMap(r.Core), asMap(r.HDFS)
	for k, w := range map[string]string{
		"hadoop.tmp.dir":      "/data/tmp",
		"ha.zookeeper.quorum": "192.168.1.6:2181,192.168.1.132:2181,192.168.1.11:2181",
		"fs.defaultFS":        "hdfs://other",
	} {
		if core[k] != w {
			t.Errorf("core %s = %q, want %q", k, core[k], w)
		}
	}
	for k, w := range map[string]string{
		"dfs.replication":                              "2",
		"dfs.ha.zkfc.port":                             "9019",
		"dfs.ha.tail-edits.period":                     "2s",
		"dfs.client.failover.proxy.provider.hacluster": "org.apache.hadoop.hdfs.server.namenode.ha.RequestHedgingProxyProvider",
	} {
		if hdfs[k] != w {
			t.Errorf("hdfs %s = %q, want %q", k, hdfs[k], w)
		}
	}
	if !ModelledHadoopKey(true, "ha.zookeeper.quorum") || ModelledHadoopKey(true, "fs.defaultFS") ||
		!ModelledHadoopKey(false, "dfs.namenode.shared.edits.dir.ns1") || ModelledHadoopKey(false, "dfs.replication") ||
		ModelledHadoopKey(false, "dfs.ha.zkfc.port") || !ModelledHadoopKey(false, "dfs.namenode.rpc-address.ns.nn") {
		t.Error("ModelledHadoopKey classifies wrongly")
	}
}

// TestRenderTailEditsDefaults: with neither the model nor the passthrough
// setting them, hactl renders its own tailing defaults (in-progress tailing
// every 10 ms, backing off to 1 s when idle), not Hadoop's (60 s, finalized
// segments only); the model wins over the passthrough, which wins over the
// defaults; the backoff is never below the period.
func TestRenderTailEditsDefaults(t *testing.T) {
	f := false
	for _, tc := range []struct {
		name        string
		period      time.Duration
		inProgress  *bool
		passthrough map[string]string
		want        map[string]string
	}{
		{name: "defaults", want: map[string]string{
			KeyTailEditsPeriod: "10ms", KeyTailEditsInProgress: "true", KeyTailEditsBackoffMax: "1s"}},
		{name: "model", period: 3 * time.Second, inProgress: &f, want: map[string]string{
			KeyTailEditsPeriod: "3s", KeyTailEditsInProgress: "false", KeyTailEditsBackoffMax: "3s"}},
		{name: "passthrough", passthrough: map[string]string{
			KeyTailEditsPeriod: "2s", KeyTailEditsInProgress: "false", KeyTailEditsBackoffMax: "30s"},
			want: map[string]string{KeyTailEditsPeriod: "2s", KeyTailEditsInProgress: "false", KeyTailEditsBackoffMax: "30s"}},
		{name: "suffixed passthrough", passthrough: map[string]string{
			KeyTailEditsPeriod + ".hacluster": "2s", KeyTailEditsInProgress + ".hacluster": "false"},
			want: map[string]string{KeyTailEditsPeriod: "", KeyTailEditsPeriod + ".hacluster": "2s",
				KeyTailEditsInProgress: "", KeyTailEditsInProgress + ".hacluster": "false", KeyTailEditsBackoffMax: "1s"}},
		{name: "model over passthrough", period: 50 * time.Millisecond, passthrough: map[string]string{KeyTailEditsPeriod: "2s"},
			want: map[string]string{KeyTailEditsPeriod: "50ms", KeyTailEditsInProgress: "true", KeyTailEditsBackoffMax: "1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := threeHostCluster()
			c.Nameservices[0].TailEditsPeriod = tc.period
			c.Nameservices[0].TailEditsInProgress = tc.inProgress
			if tc.passthrough != nil {
				c.Hadoop = &HadoopPassthrough{HDFSSite: tc.passthrough}
			}
			r, err := Render(c, "dim")
			if err != nil {
				t.Fatal(err)
			}
			hdfs := asMap(r.HDFS)
			for k, w := range tc.want {
				if hdfs[k] != w {
					t.Errorf("%s = %q, want %q", k, hdfs[k], w)
				}
			}
		})
	}
	if ModelledHadoopKey(false, KeyTailEditsBackoffMax) || !ModelledHadoopKey(false, KeyTailEditsPeriod) {
		t.Error("the backoff is a default a passthrough replaces, the period is modelled")
	}
}

func TestRenderExternalZooKeeperAndExplicitSharedEdits(t *testing.T) {
	c := threeHostCluster()
	c.ZooKeeper = &ZooKeeper{Servers: []string{"zk1.example.com:2281", "zk2.example.com", "[::1]:2181"}, ClientPort: 2182,
		SessionTimeout: 10 * time.Second, ParentZnode: "/ha"}
	c.Nameservices[0].Journal = nil
	c.Nameservices[0].SharedEdits = "qjournal://j1:8485;j2:8485;j3:8485/hacluster"
	r, err := Render(c, "dim")
	if err != nil {
		t.Fatal(err)
	}
	core, hdfs := asMap(r.Core), asMap(r.HDFS)
	if v := core[KeyZKQuorum]; v != "zk1.example.com:2281,zk2.example.com:2182,[::1]:2181" {
		t.Errorf("quorum = %q", v)
	}
	if core[KeyZKSessionTimeout] != "10000" || core[KeyZKParentZnode] != "/ha" {
		t.Errorf("zk keys = %v", core)
	}
	if v := hdfs[KeySharedEditsDir]; v != "qjournal://j1:8485;j2:8485;j3:8485/hacluster" {
		t.Errorf("shared edits = %q", v)
	}
	if _, ok := hdfs[KeyJournalRPCAddress]; ok {
		t.Error("journal keys rendered without a journal block")
	}
}

func TestRenderRefusesUnknownReferences(t *testing.T) {
	c := threeHostCluster()
	if _, err := Render(c, "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown host: err = %v", err)
	}
	c.Nameservices[0].NameNodes[1].Host = "ghost"
	if _, err := RenderAll(c); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Errorf("namenode on undeclared host: err = %v", err)
	}
	c = threeHostCluster()
	c.ZooKeeper.Servers = []string{"dim", "typo"}
	if _, err := Render(c, "dim"); err == nil || !strings.Contains(err.Error(), "typo") {
		t.Errorf("managed zookeeper on undeclared host: err = %v", err)
	}
}

func TestHadoopDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		60 * time.Second:        "60s",
		2 * time.Minute:         "120s",
		1500 * time.Millisecond: "1500ms",
		10 * time.Microsecond:   "10us",
		7:                       "7ns",
	} {
		if got := HadoopDuration(d); got != want {
			t.Errorf("HadoopDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(HadoopDuration(d)); err != nil || back != d {
			t.Errorf("%q is not the Go duration %v", HadoopDuration(d), d)
		}
	}
}
