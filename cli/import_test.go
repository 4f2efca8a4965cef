package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/hadoopconf"
)

var classic = filepath.Join("..", "testdata", "import", "classic")

func TestImportThenRenderFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	hcl := filepath.Join(dir, "main.hcl")
	core, hdfs := filepath.Join(classic, "core-site.xml"), filepath.Join(classic, "hdfs-site.xml")
	code, out, errOut := runHactl(t, "import", "--core-site", core, "--hdfs-site", hdfs, "--out", hcl)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "wrote "+hcl) {
		t.Errorf("stdout = %q", out)
	}
	// Never overwrite an existing file silently.
	if code, _, errOut := runHactl(t, "import", "--core-site", core, "--hdfs-site", hdfs, "--out", hcl); code != 1 ||
		!strings.Contains(errOut, "--force") {
		t.Errorf("second import without --force: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runHactl(t, "import", "--core-site", core, "--hdfs-site", hdfs, "--out", hcl, "--force"); code != 0 {
		t.Errorf("--force: exit %d, %s", code, errOut)
	}

	conf := filepath.Join(dir, "conf")
	if code, _, errOut := runHactl(t, "render", "--host", "machine1", "--out", conf, dir); code != 0 {
		t.Fatalf("render of the import: exit %d: %s", code, errOut)
	}
	got, err := hadoopconf.LoadDir(conf)
	if err != nil {
		t.Fatal(err)
	}
	src, err := hadoopconf.LoadDir(classic)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dfs.namenode.shared.edits.dir", "ha.zookeeper.quorum", "dfs.ha.fencing.methods",
		"dfs.namenode.rpc-address.mycluster.nn2", "dfs.replication", "hadoop.tmp.dir"} {
		if g, w := got.Get(k, ""), src.Get(k, ""); g != w {
			t.Errorf("%s = %q after import and render, source had %q", k, g, w)
		}
	}
}

func TestImportToStdoutAndBadInput(t *testing.T) {
	core, hdfs := filepath.Join(classic, "core-site.xml"), filepath.Join(classic, "hdfs-site.xml")
	code, out, _ := runHactl(t, "import", "--core-site", core, "--hdfs-site", hdfs)
	if code != 0 || !strings.Contains(out, `nameservice "mycluster"`) {
		t.Fatalf("exit %d, stdout:\n%s", code, out)
	}
	// hdfs-site.xml without dfs.nameservices is not an HA configuration.
	bad := filepath.Join(t.TempDir(), "hdfs-site.xml")
	if err := os.WriteFile(bad, []byte("<configuration><property><name>dfs.replication</name><value>3</value></property></configuration>"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runHactl(t, "import", "--core-site", core, "--hdfs-site", bad)
	if code != 1 || out != "" || !strings.Contains(errOut, "dfs.nameservices") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runHactl(t, "import", "--hdfs-site", hdfs); code == 0 {
		t.Error("import without --core-site succeeded")
	}
}

func TestImportPrintsWarnings(t *testing.T) {
	dir := filepath.Join("..", "testdata", "import", "duplicate-property")
	code, out, errOut := runHactl(t, "import", "--core-site", filepath.Join(dir, "core-site.xml"),
		"--hdfs-site", filepath.Join(dir, "hdfs-site.xml"))
	if code != 0 || !strings.Contains(out, `nameservice "prod"`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "warning: hdfs-site.xml declares dfs.replication more than once") {
		t.Errorf("stderr lacks the duplicate-key warning:\n%s", errOut)
	}
}

// --workers names the DataNode hosts: the import has a datanode block for
// them, and their render carries the source's data dirs and ports.
func TestImportWithWorkers(t *testing.T) {
	dir := filepath.Join("..", "testdata", "import", "workers")
	out := filepath.Join(t.TempDir(), "main.hcl")
	code, _, errOut := runHactl(t, "import", "--core-site", filepath.Join(dir, "core-site.xml"),
		"--hdfs-site", filepath.Join(dir, "hdfs-site.xml"), "--workers", filepath.Join(dir, "workers"), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	conf := filepath.Join(t.TempDir(), "conf")
	if code, _, errOut := runHactl(t, "render", "--host", "worker2", "--out", conf, filepath.Dir(out)); code != 0 {
		t.Fatalf("render of the import: exit %d: %s", code, errOut)
	}
	got, err := hadoopconf.LoadDir(conf)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"dfs.datanode.data.dir": "/data/1/dfs/dn,/data/ssd/dfs/dn", "dfs.datanode.address": "worker2.example.com:50010",
		"dfs.replication": "3", "hactl.namenode.max-inline-file-bytes": "0",
	} {
		if g := got.Get(k, ""); g != want {
			t.Errorf("%s = %q, want %q", k, g, want)
		}
	}
	empty := filepath.Join(t.TempDir(), "workers")
	if err := os.WriteFile(empty, []byte("# nobody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runHactl(t, "import", "--core-site", filepath.Join(dir, "core-site.xml"),
		"--hdfs-site", filepath.Join(dir, "hdfs-site.xml"), "--workers", empty); code != 1 || !strings.Contains(errOut, "lists no host") {
		t.Errorf("empty workers file: exit %d, %s", code, errOut)
	}
}
