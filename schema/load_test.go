package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func mustLoad(t *testing.T, path string, opts LoadOptions) *Cluster {
	t.Helper()
	c, diags := Load(path, opts)
	if len(diags) > 0 {
		t.Fatalf("Load(%s): unexpected diagnostics:\n%s", path, goldenLines(path, diags))
	}
	return c
}

// srcAt returns the source text a range covers.
func srcAt(t *testing.T, c *Cluster, r hcl.Range) string {
	t.Helper()
	f := c.Files[r.Filename]
	if f == nil {
		t.Fatalf("no file %q for range %s", r.Filename, r)
	}
	return string(r.SliceBytes(f.Bytes))
}

func TestLoadRichModel(t *testing.T) {
	dir := "../testdata/valid-schema/rich"
	c := mustLoad(t, dir, LoadOptions{})

	if c.ConfigDir != dir {
		t.Errorf("ConfigDir = %q, want %q", c.ConfigDir, dir)
	}
	var hosts []string
	for _, h := range c.Hosts {
		hosts = append(hosts, h.Name+"="+h.Address)
	}
	// cidrhost, a for expression over a list variable, and lower() all evaluated.
	if want := []string{"m1=10.20.0.11", "m2=10.20.0.12", "m3=m3.example.com"}; !reflect.DeepEqual(hosts, want) {
		t.Errorf("hosts = %v, want %v", hosts, want)
	}
	m1 := c.Host("m1")
	if got := srcAt(t, c, m1.Ranges["address"]); got != `local.addresses["m1"]` {
		t.Errorf("m1 address range covers %q", got)
	}
	if got := srcAt(t, c, m1.Ranges[LabelRangeKey]); got != `"m1"` {
		t.Errorf("m1 label range covers %q", got)
	}
	if filepath.Base(m1.DeclRange.Filename) != "hosts.hcl" || m1.DeclRange.Start.Line != 7 {
		t.Errorf("m1 DeclRange = %s", m1.DeclRange)
	}
	ssh := c.EffectiveSSH(m1)
	if ssh.User != "hadoop" || ssh.Port != 2222 || ssh.Sudo == nil || *ssh.Sudo || ssh.ConnectTimeout != 10*time.Second {
		t.Errorf("effective ssh of m1 = %+v", ssh)
	}
	if p := c.EffectiveSSH(c.Host("m2")).Port; p != DefaultSSHPort {
		t.Errorf("m2 ssh port = %d, want default", p)
	}

	z := c.ZooKeeper
	if !z.Managed || !reflect.DeepEqual(z.Servers, []string{"m1", "m2", "m3"}) || z.ClientPort != 2181 ||
		z.PeerPort != 2888 || z.ElectionPort != 3888 || z.TickTime != time.Second ||
		z.SessionTimeout != 6*time.Second || z.ParentZnode != "/hadoop-ha" || z.DataDir != "/data/zookeeper" {
		t.Errorf("zookeeper = %+v", z)
	}
	if got := srcAt(t, c, z.Ranges["session_timeout"]); got != "var.session_timeout" {
		t.Errorf("session_timeout range covers %q", got)
	}

	if len(c.Nameservices) != 2 {
		t.Fatalf("nameservices = %d", len(c.Nameservices))
	}
	ns := c.Nameservice("hacluster")
	if ns.NameNode("nn1").RPCPort != 8020 || ns.NameNode("nn1").HTTPPort != 9870 {
		t.Errorf("nn1 ports = %+v", ns.NameNode("nn1"))
	}
	if got := ns.EffectiveNameDirs(ns.NameNode("nn1")); !reflect.DeepEqual(got, []string{"/data/namenode"}) {
		t.Errorf("nn1 name dirs = %v", got)
	}
	if got := ns.EffectiveNameDirs(ns.NameNode("nn2")); !reflect.DeepEqual(got, []string{"/data/nn-a", "/data/nn-b"}) {
		t.Errorf("nn2 name dirs = %v", got)
	}
	j := ns.Journal
	if j.EditsDir != "/data/journal" || j.RPCPort != 8485 || j.HTTPPort != 8480 || j.JournalID != "hacluster" {
		t.Errorf("journal = %+v", j)
	}
	if ns.SharedEdits != "qjournal://m1:8485;m2:8485;m3:8485/hacluster" {
		t.Errorf("shared_edits = %q", ns.SharedEdits)
	}
	if !ns.AutomaticFailover || ns.Fencing == nil ||
		!reflect.DeepEqual(ns.Fencing.Methods, []string{"sshfence(hdfs:2222)", "shell(/usr/local/bin/fence.sh)"}) ||
		ns.Fencing.ConnectTimeout != 30*time.Second {
		t.Errorf("fencing = %+v", ns.Fencing)
	}
	if got := srcAt(t, c, ns.Fencing.Ranges.Elem("methods", 1)); got != `"shell(/usr/local/bin/fence.sh)"` {
		t.Errorf("methods[1] range covers %q", got)
	}
	if ns.TailEditsPeriod != 500*time.Millisecond || ns.TailEditsInProgress == nil || !*ns.TailEditsInProgress ||
		ns.NotBecomeActiveInSafemode == nil || *ns.NotBecomeActiveInSafemode {
		t.Errorf("tail/safemode = %v %v %v", ns.TailEditsPeriod, ns.TailEditsInProgress, ns.NotBecomeActiveInSafemode)
	}
	if ns.QJournalWriteTimeout != 20*time.Second || ns.QJournalNewEpochTimeout != 2*time.Minute || ns.QJournalStartTimeout != 0 {
		t.Errorf("qjournal timeouts = %v %v %v", ns.QJournalWriteTimeout, ns.QJournalNewEpochTimeout, ns.QJournalStartTimeout)
	}
	if got := srcAt(t, c, ns.Ranges["qjournal.write_timeout"]); got != `"20s"` {
		t.Errorf("qjournal.write_timeout range covers %q", got)
	}
	w := c.Nameservice("warehouse")
	if w.AutomaticFailover || w.Journal.JournalID != "warehouse" || w.NameNode("w1").RPCPort != 8021 || w.Fencing != nil {
		t.Errorf("warehouse = %+v", w)
	}

	rt := c.Runtime
	if rt.InstallDir != "/opt/hactl" || rt.ConfDir != "/etc/hactl" || rt.LogDir != "/srv/log/hactl" ||
		rt.RunDir != "/var/run/hactl" || rt.SecretFile != "/etc/hactl/cluster.secret" {
		t.Errorf("runtime = %+v", rt)
	}
	if len(c.DataNodes) != 2 || c.DataNodes[1].HTTPPort != 9865 || c.DataNodes[0].HTTPPort != DefaultDataNodeHTTPPort ||
		c.DataNodes[1].Port != DefaultDataNodePort || !slices.Equal(c.DataDirs("m3"), []string{"/data/dn", "/data2/dn"}) {
		t.Errorf("datanodes = %+v %+v", c.DataNodes[0], c.DataNodes[1])
	}
	if got := srcAt(t, c, c.DataNodes[1].Ranges.Elem("data_dirs", 1)); got != `"/data2/dn"` {
		t.Errorf("data_dirs[1] range covers %q", got)
	}
	if c.HDFS == nil || c.HDFS.Replication != 3 || c.HDFS.HeartbeatInterval != 2*time.Second || c.EffectiveBlockReportInterval() != DefaultBlockReportInterval {
		t.Errorf("hdfs = %+v", c.HDFS)
	}
	if c.Hadoop.HDFSSite["dfs.blocksize"] != "268435456" || c.Hadoop.CoreSite["hadoop.tmp.dir"] != "/data/tmp" {
		t.Errorf("passthrough = %+v", c.Hadoop)
	}
	if c.Target == nil || c.Target.Kind != TargetSSH {
		t.Errorf("target = %+v", c.Target)
	}
}

func TestLoadDefaultsAndRuntimeNeverNil(t *testing.T) {
	c := mustLoad(t, "../testdata/valid-schema/local/cluster.hcl", LoadOptions{})
	if c.Runtime == nil || c.Runtime.SecretFile != "/etc/hactl/cluster.secret" {
		t.Fatalf("runtime = %+v", c.Runtime)
	}
	if c.Target.Kind != TargetLocal || c.Target.StateDir != ".hactl" {
		t.Errorf("target = %+v", c.Target)
	}
	if c.ConfigDir != "../testdata/valid-schema/local" {
		t.Errorf("ConfigDir of a single file = %q", c.ConfigDir)
	}
	// Even a failed load returns a usable cluster.
	c, diags := Load(filepath.Join(t.TempDir(), "missing"), LoadOptions{})
	if !diags.HasErrors() || c == nil || c.Runtime == nil {
		t.Fatalf("missing path: c=%v diags=%v", c, diags)
	}
}

const varsConfig = `
variable "user" {
  default = "hadoop"
}
variable "servers" {
  type    = list(string)
  default = ["a"]
}
variable "port" {
  type    = number
  default = 8020
}
host "a" {
  address = "127.0.9.1"
}
ssh {
  user = var.user
}
zookeeper {
  servers     = var.servers
  client_port = var.port
}
target "local" {}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	vf := filepath.Join(dir, "prod.tfvars")
	if err := os.WriteFile(vf, []byte("user = \"fromfile\"\nport = 2182\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"main.hcl": []byte(varsConfig)}
	load := func(opts LoadOptions) *Cluster {
		t.Helper()
		c, diags := LoadSources(files, opts)
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				t.Fatalf("error: %s", d.Error())
			}
		}
		return c
	}
	if c := load(LoadOptions{}); c.SSH.User != "hadoop" || c.ZooKeeper.ClientPort != 8020 {
		t.Errorf("defaults: user=%q port=%d", c.SSH.User, c.ZooKeeper.ClientPort)
	}
	env := map[string]string{"HACTL_VAR_user": "fromenv", "HACTL_VAR_unrelated": "x", "PATH": "/bin"}
	if c := load(LoadOptions{Env: env}); c.SSH.User != "fromenv" {
		t.Errorf("env: user=%q", c.SSH.User)
	}
	if c := load(LoadOptions{Env: env, VarFiles: []string{vf}}); c.SSH.User != "fromfile" || c.ZooKeeper.ClientPort != 2182 {
		t.Errorf("var file over env: user=%q port=%d", c.SSH.User, c.ZooKeeper.ClientPort)
	}
	c := load(LoadOptions{Env: env, VarFiles: []string{vf}, Vars: []string{"user=fromflag", `servers=["a"]`, "port=2183"}})
	if c.SSH.User != "fromflag" || c.ZooKeeper.ClientPort != 2183 {
		t.Errorf("--var over all: user=%q port=%d", c.SSH.User, c.ZooKeeper.ClientPort)
	}
	if _, ok := c.Files[vf]; !ok {
		t.Errorf("var file not kept in Files for snippets")
	}
}

func TestVariableErrors(t *testing.T) {
	files := map[string][]byte{"main.hcl": []byte(varsConfig)}
	cases := []struct {
		opts LoadOptions
		want string
	}{
		{LoadOptions{Vars: []string{"usr=x"}}, `Did you mean "user"?`},
		{LoadOptions{Vars: []string{"novalue"}}, "not of the form NAME=VALUE"},
		{LoadOptions{Vars: []string{"port=lots"}}, "--var port"},
		{LoadOptions{Vars: []string{"servers=[unclosed"}}, "not a valid HCL value"},
		{LoadOptions{VarFiles: []string{"/nonexistent/x.tfvars"}}, "no such file"},
	}
	for _, tc := range cases {
		_, diags := LoadSources(files, tc.opts)
		if !diags.HasErrors() {
			t.Errorf("%+v: no error", tc.opts)
			continue
		}
		found := false
		for _, d := range diags {
			if strings.Contains(d.Detail, tc.want) && RuleID(d) == RuleVariable {
				found = true
			}
		}
		if !found {
			t.Errorf("%+v: no HA006 diagnostic containing %q in %v", tc.opts, tc.want, diags)
		}
	}
}

func TestLocalsAcrossFilesAndCycles(t *testing.T) {
	files := map[string][]byte{
		"a.hcl": []byte("locals {\n  c = \"${local.b}/c\"\n}\n"),
		"b.hcl": []byte("locals {\n  a = \"/x\"\n  b = \"${local.a}/b\"\n}\nruntime {\n  log_dir = local.c\n}\ntarget \"ssh\" {}\n"),
	}
	c, diags := LoadSources(files, LoadOptions{})
	if len(diags) != 0 {
		t.Fatalf("diags: %v", diags)
	}
	if c.Runtime.LogDir != "/x/b/c" {
		t.Errorf("log_dir = %q", c.Runtime.LogDir)
	}

	files["c.hcl"] = []byte("locals {\n  x = local.y\n  y = local.z\n  z = local.x\n  self = local.self\n}\n")
	_, diags = LoadSources(files, LoadOptions{})
	var cyc []string
	for _, d := range diags {
		if RuleID(d) == RuleLocalsCycle {
			cyc = append(cyc, srcAt(t, c2(files, diags), *d.Subject))
		}
	}
	if !reflect.DeepEqual(cyc, []string{"x", "y", "z", "self"}) {
		t.Errorf("cycle diagnostics at %v", cyc)
	}
}

// c2 gives srcAt a cluster holding the sources the diagnostics point at.
func c2(files map[string][]byte, _ hcl.Diagnostics) *Cluster {
	c := &Cluster{Files: map[string]*hcl.File{}}
	for n, b := range files {
		c.Files[n] = &hcl.File{Bytes: b}
	}
	return c
}

func TestParseFenceMethod(t *testing.T) {
	good := []string{"sshfence", "sshfence(hdfs)", "sshfence(hdfs:2222)", "sshfence(:2222)", " sshfence ",
		"shell(/bin/true)", "shell(/path/fence.sh --ns $target_nameserviceid (x))"}
	for _, s := range good {
		if _, err := parseFenceMethod(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	bad := []string{"", "sshfence(hdfs:port)", "sshfence(:0)", "shell()", "shell(  )", "shell(/bin/true",
		"org.apache.hadoop.ha.PowerShellFencer", "sshfence(a b)",
		"shell(/bin/true\nrm -rf /data)", "sshfence(hdfs\r:22)", "shell(/bin/fence.sh\x00x)"}
	for _, s := range bad {
		if _, err := parseFenceMethod(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestParseQJournal(t *testing.T) {
	es, jid, err := parseQJournal("qjournal://a:8485;10.0.0.2;[::1]:9000/myjournal")
	if err != nil || jid != "myjournal" || len(es) != 3 {
		t.Fatalf("got %v %q %v", es, jid, err)
	}
	if es[1].Host != "10.0.0.2" || es[1].Port != DefaultJournalRPCPort || es[2].Host != "::1" || es[2].Port != 9000 {
		t.Errorf("entries = %+v", es)
	}
	for _, bad := range []string{"hdfs://a/b", "qjournal:///x", "qjournal://a;;b/x", "qjournal://a:x/y", "qjournal://a:99999/j"} {
		if _, _, err := parseQJournal(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestValidAddress(t *testing.T) {
	for _, ok := range []string{"dim", "192.168.1.6", "::1", "nn1.example.com", "a-b.c"} {
		if why := validAddress(ok); why != "" {
			t.Errorf("%q: %s", ok, why)
		}
	}
	for _, bad := range []string{"", "a_b", "-a", "host:22", "http://x", "1.2.3", "a..b", strings.Repeat("a", 64)} {
		if validAddress(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRulesAndRuleIDs(t *testing.T) {
	rules := Rules()
	if len(rules) < 40 {
		t.Errorf("only %d rules", len(rules))
	}
	for i, r := range rules {
		if r.Description == "" || strings.Contains(r.Description, "\n") {
			t.Errorf("rule %s: description must be one line", r.ID)
		}
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted/unique at %s", r.ID)
		}
	}
	if RuleID(nil) != "" || RuleID(&hcl.Diagnostic{}) != "" {
		t.Error("RuleID of an untagged diagnostic is not empty")
	}
}

func TestDiagnosticsJSONAndSARIF(t *testing.T) {
	dir := filepath.Join(invalidDir, "81-even-jn-and-no-key-common")
	_, diags := Load(dir, LoadOptions{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, diags); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		FormatVersion string `json:"format_version"`
		Valid         bool   `json:"valid"`
		ErrorCount    int    `json:"error_count"`
		WarningCount  int    `json:"warning_count"`
		Diagnostics   []struct {
			Severity, Summary, Detail, Code string
			Range                           struct {
				Filename   string
				Start, End struct{ Line, Column, Byte int }
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.FormatVersion != "1.0" || rep.Valid || rep.ErrorCount != 1 || rep.WarningCount != 1 || len(rep.Diagnostics) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	d := rep.Diagnostics[0]
	if d.Severity != "warning" || d.Code != RuleEvenJournals || d.Range.Start.Line != 27 || d.Range.End.Byte <= d.Range.Start.Byte {
		t.Errorf("diagnostic = %+v", d)
	}

	buf.Reset()
	if err := WriteSARIF(&buf, diags, "test"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID                   string
						ShortDescription     struct{ Text string }
						DefaultConfiguration struct{ Level string }
					}
				}
			}
			Results []struct {
				RuleID    string
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "hactl" {
		t.Fatalf("sarif = %+v", log)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(Rules()) || run.Tool.Driver.Rules[0].DefaultConfiguration.Level == "" {
		t.Errorf("driver rules = %+v", run.Tool.Driver.Rules)
	}
	if len(run.Results) != 2 || run.Results[1].RuleID != RuleSSHFenceKey || run.Results[1].Level != "error" {
		t.Fatalf("results = %+v", run.Results)
	}
	loc := run.Results[1].Locations[0].PhysicalLocation
	if !strings.HasSuffix(loc.ArtifactLocation.URI, "81-even-jn-and-no-key-common/cluster.hcl") || loc.Region.StartLine != 33 || loc.Region.EndColumn <= loc.Region.StartColumn {
		t.Errorf("location = %+v", loc)
	}
}

func TestValidSchemaFixturesAreClean(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/valid-schema/*")
	if len(dirs) < 4 {
		t.Fatalf("only %d fixtures", len(dirs))
	}
	for _, d := range dirs {
		mustLoad(t, d, LoadOptions{})
	}
}

func TestLoadJSONSyntax(t *testing.T) {
	src := `{"host": {"a": {"address": "127.0.9.1"}}, "target": {"local": {}}, "zookeeper": {"servers": ["a", "b"]}}`
	c, diags := LoadSources(map[string][]byte{"c.hcl.json": []byte(src)}, LoadOptions{})
	if len(c.Hosts) != 1 || c.Hosts[0].Address != "127.0.9.1" || c.Target.Kind != TargetLocal {
		t.Fatalf("decoded %+v", c)
	}
	// The unknown server "b" is reported at its place in the JSON source.
	var found bool
	for _, d := range diags {
		if RuleID(d) == RuleHostReference && d.Subject.Start.Column == strings.Index(src, `"b"`)+1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no HA023 at the JSON element: %v", diags)
	}
}

// Validate works on a model built in code (no source ranges), as import does.
func TestValidateModelBuiltInCode(t *testing.T) {
	c := &Cluster{
		Hosts: []*Host{{Name: "a", Address: "10.0.0.1"}, {Name: "b", Address: "10.0.0.2"}, {Name: "c", Address: "10.0.0.3"}},
		Nameservices: []*Nameservice{{
			Name:      "ns",
			NameNodes: []*NameNode{{ID: "nn1", Host: "a", RPCPort: 8020, HTTPPort: 9870}, {ID: "nn2", Host: "b", RPCPort: 8020, HTTPPort: 9870}},
			Journal:   &Journal{Hosts: []string{"a", "b", "c"}, EditsDir: "/jn", RPCPort: 8485, HTTPPort: 8480, JournalID: "ns"},
			NameDirs:  []string{"/nn"},
		}},
		DataNodes: []*DataNodeGroup{{Hosts: []string{"a", "b", "c"}, DataDirs: []string{"/dn"}}},
		Target:    &Target{Kind: TargetSSH},
	}
	if diags := Validate(c); len(diags) != 0 {
		t.Fatalf("clean model: %v", diags)
	}
	c.Nameservices[0].NameNodes[1].Host = "a"
	diags := Validate(c)
	if len(diags) != 1 || RuleID(diags[0]) != RuleNameNodeHosts {
		t.Fatalf("two NameNodes on one host: %v", diags)
	}
}
