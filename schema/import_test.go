package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// importSamples are the Hadoop XML samples under testdata/import/<name>/.
func importSamples(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "import", "*"))
	if err != nil || len(dirs) < 3 {
		t.Fatalf("import samples: %v (found %d)", err, len(dirs))
	}
	return dirs
}

// readWorkers reads the sample's workers file (the DataNode hosts), if any.
func readWorkers(t *testing.T, dir string) ImportOptions {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "workers"))
	if os.IsNotExist(err) {
		return ImportOptions{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return ImportOptions{Workers: ParseWorkers(data)}
}

func readSample(t *testing.T, dir string) (core, hdfs *hadoopconf.Config) {
	t.Helper()
	core, err := hadoopconf.ReadFile(filepath.Join(dir, "core-site.xml"))
	if err != nil {
		t.Fatal(err)
	}
	hdfs, err = hadoopconf.ReadFile(filepath.Join(dir, "hdfs-site.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return core, hdfs
}

// TestImportGolden imports each sample and checks, against files in
// testdata/import/<name>/ (go test ./schema -run ImportGolden -update):
// import.hcl, the HCL written; diagnostics.golden, the import's warnings or
// its error, then what validate says of the HCL; render.golden, the Hadoop
// keys rendered for every host when the HCL validates without error.
func TestImportGolden(t *testing.T) {
	for _, dir := range importSamples(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			core, hdfs := readSample(t, dir)
			got, warnings, err := ImportReportWith(core, hdfs, readWorkers(t, dir))
			var diag strings.Builder
			for _, w := range warnings {
				fmt.Fprintf(&diag, "import: warning: %s\n", w)
			}
			if err != nil {
				fmt.Fprintf(&diag, "import: error: %s\n", err)
				checkGolden(t, filepath.Join(dir, "diagnostics.golden"), []byte(diag.String()))
				return
			}
			if _, diags := hclsyntax.ParseConfig(got, "import.hcl", hcl.InitialPos); diags.HasErrors() {
				t.Fatalf("import wrote unparsable HCL: %s\n%s", diags, got)
			}
			checkGolden(t, filepath.Join(dir, "import.hcl"), got)
			c, diags := LoadSources(map[string][]byte{"import.hcl": got}, LoadOptions{})
			// With the detail: what each diagnostic tells the operator to write.
			for _, line := range strings.SplitAfter(goldenLines(".", diags), "\n") {
				if line == "" {
					continue
				}
				diag.WriteString(line)
				fmt.Fprintf(&diag, "    %s\n", diags[0].Detail)
				diags = diags[1:]
			}
			checkGolden(t, filepath.Join(dir, "diagnostics.golden"), []byte(diag.String()))
			if diags.HasErrors() {
				return
			}
			hosts, err := RenderAll(c)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			var r strings.Builder
			for _, h := range hosts {
				for _, f := range []struct {
					name string
					c    *hadoopconf.Config
				}{{"core-site.xml", h.Core}, {"hdfs-site.xml", h.HDFS}} {
					fmt.Fprintf(&r, "# %s %s\n", h.Host, f.name)
					for _, k := range f.c.SortedKeys() {
						v, _ := f.c.Lookup(k)
						fmt.Fprintf(&r, "%s = %q\n", k, v)
					}
				}
			}
			checkGolden(t, filepath.Join(dir, "render.golden"), []byte(r.String()))
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

func TestImportClassicCarriesEveryUnmodelledKey(t *testing.T) {
	core, hdfs := readSample(t, filepath.Join("..", "testdata", "import", "classic"))
	out, err := Import(core, hdfs)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(strings.Fields(string(out)), " ") // alignment-independent
	for _, want := range []string{
		`host "machine1"`, `address = "machine1.example.com"`, `host "machine3"`,
		`managed = false`, `"zk1.example.com:2181"`,
		`nameservice "mycluster"`, `namenode "nn2"`, `host = "machine2"`,
		`hosts = ["machine1", "machine2", "machine3"]`, `edits_dir = "/data/hadoop/journal"`,
		`methods = ["sshfence", "shell(/bin/true)"]`,
		`name_dir = ["/data/hadoop/name1", "/data/hadoop/name2"]`,
		`"dfs.namenode.servicerpc-address.mycluster.nn1" = "machine1.example.com:8022"`,
		`"dfs.replication"`, `"hadoop.tmp.dir" = "/data/hadoop/tmp"`, `target "ssh"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("imported HCL lacks %q:\n%s", want, s)
		}
	}
	// Modelled keys and defaults the renderer fills in are not passed through twice.
	for _, absent := range []string{`"fs.defaultFS"`, `"dfs.client.failover.proxy.provider.mycluster"`,
		`"dfs.ha.fencing.methods"`, `journal_id`, `rpc_port`} {
		if strings.Contains(s, absent) {
			t.Errorf("imported HCL has %s:\n%s", absent, s)
		}
	}
}

func TestImportHostNames(t *testing.T) {
	hdfs := hadoopconf.New()
	hdfs.Set(KeyNameservices, "ns")
	hdfs.Set("dfs.ha.namenodes.ns", "a,b,c,d")
	hdfs.Set("dfs.namenode.rpc-address.ns.a", "nn.dc1.example.com:8020")
	hdfs.Set("dfs.namenode.rpc-address.ns.b", "nn.dc2.example.com:8020")
	hdfs.Set("dfs.namenode.rpc-address.ns.c", "10.0.0.7:8020")
	hdfs.Set("dfs.namenode.rpc-address.ns.d", "[fd00::8]:8020")
	hdfs.Set(KeySharedEditsDir, "qjournal://10.0.0.7:8485;nn.dc1.example.com:8485;jn3:8485/ns")
	out, err := Import(nil, hdfs)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(strings.Fields(string(out)), " ") // alignment-independent
	for _, want := range []string{`host "nn"`, `host "nn-2"`, `host "h1"`, `address = "10.0.0.7"`,
		`host "h2"`, `address = "fd00::8"`, `host "jn3"`, `hosts = ["h1", "nn", "jn3"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, `host "`) != 5 {
		t.Errorf("hosts not deduplicated by address:\n%s", s)
	}
}

func TestImportKeepsURIWhenJournalPortsDiffer(t *testing.T) {
	hdfs := hadoopconf.New()
	hdfs.Set(KeyNameservices, "ns")
	hdfs.Set("dfs.ha.namenodes.ns", "a,b")
	hdfs.Set("dfs.namenode.rpc-address.ns.a", "x1:8020")
	hdfs.Set("dfs.namenode.rpc-address.ns.b", "x2:8020")
	uri := "qjournal://x1:8485;x2:8486;x3:8485/ns"
	hdfs.Set(KeySharedEditsDir, uri)
	out, err := Import(nil, hdfs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `shared_edits = "`+uri+`"`) || strings.Contains(string(out), "journal {") {
		t.Errorf("want the explicit URI and no journal block:\n%s", out)
	}
}

func TestImportRefusesWhatItCannotModel(t *testing.T) {
	base := func() *hadoopconf.Config {
		c := hadoopconf.New()
		c.Set(KeyNameservices, "ns")
		c.Set("dfs.ha.namenodes.ns", "a,b")
		c.Set("dfs.namenode.rpc-address.ns.a", "x1:8020")
		c.Set("dfs.namenode.rpc-address.ns.b", "x2:8020")
		return c
	}
	for name, tc := range map[string]struct {
		edit func(c *hadoopconf.Config)
		want string
	}{
		"no nameservices":     {func(c *hadoopconf.Config) { c.Unset(KeyNameservices) }, "dfs.nameservices is not set"},
		"no namenode ids":     {func(c *hadoopconf.Config) { c.Unset("dfs.ha.namenodes.ns") }, "dfs.ha.namenodes.ns"},
		"no rpc address":      {func(c *hadoopconf.Config) { c.Unset("dfs.namenode.rpc-address.ns.b") }, "dfs.namenode.rpc-address.ns.b"},
		"http elsewhere":      {func(c *hadoopconf.Config) { c.Set("dfs.namenode.http-address.ns.a", "y:9870") }, "different hosts"},
		"bad port":            {func(c *hadoopconf.Config) { c.Set("dfs.namenode.rpc-address.ns.a", "x1:80x") }, "bad port"},
		"uri without journal": {func(c *hadoopconf.Config) { c.Set(KeySharedEditsDir, "qjournal://x1:8485;x2:8485") }, "no journal ID"},
		"bad bool":            {func(c *hadoopconf.Config) { c.Set(KeyAutomaticFailover, "yes") }, "not true or false"},
		"bad millis":          {func(c *hadoopconf.Config) { c.Set(KeyQJWriteTimeout, "20s") }, "milliseconds"},
		"bad duration":        {func(c *hadoopconf.Config) { c.Set(KeyTailEditsPeriod, "soon") }, "not a duration"},
	} {
		t.Run(name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			_, err := Import(nil, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestImportParseDurationAcceptsHadoopSuffixes(t *testing.T) {
	for in, want := range map[string]string{"60": "60s", "60s": "60s", "1m": "60s", "500ms": "500ms",
		"2H": "7200s", "1d": "86400s", "10us": "10us"} {
		d, err := importParseDuration(in, 1e9)
		if err != nil || HadoopDuration(d) != want {
			t.Errorf("%q -> %v (%v), want %s", in, d, err, want)
		}
	}
}

func TestExpandHadoopVars(t *testing.T) {
	conf := map[string]string{"base": "/data", "nested": "${base}/x", "loop": "${loop}"}
	get := func(k string) string { return conf[k] }
	for in, want := range map[string]struct {
		out        string
		unresolved string
	}{
		"${nested}/y":                {"/data/x/y", ""},
		"${hadoop.tmp.dir}/dfs/name": {"/tmp/hadoop-${user.name}/dfs/name", "user.name"},
		"${user.home}/keys/${base}":  {"${user.home}/keys//data", "user.home"},
		"plain/${unclosed":           {"plain/${unclosed", ""},
		"${loop}":                    {"${loop}", "loop"},
	} {
		got, unresolved := ExpandHadoopVars(in, get)
		if got != want.out || strings.Join(unresolved, ",") != want.unresolved {
			t.Errorf("%q -> %q %v, want %q [%s]", in, got, unresolved, want.out, want.unresolved)
		}
	}
}
