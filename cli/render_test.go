package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/schema"
)

func runHactl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(context.Background(), append([]string{"hactl"}, args...), &o, &e)
	return code, o.String(), e.String()
}

var baremetal = filepath.Join("..", "examples", "baremetal")

func TestRenderPrintsEveryHostWithHeaders(t *testing.T) {
	code, out, errOut := runHactl(t, "render", "--var", "ssh_user=hdfs", baremetal)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"==> dim/core-site.xml <==", "==> jim/hdfs-site.xml <==",
		"<name>dfs.namenode.rpc-address.hacluster.onn</name>", "sshfence(hdfs:22)"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestRenderOutWritesOneSetPerHost(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runHactl(t, "render", "--out", dir, baremetal)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, h := range []string{"dim", "oim", "jim"} {
		c, err := hadoopconf.LoadDir(filepath.Join(dir, h))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Get("dfs.ha.namenodes.hacluster", ""); got != "dnn,onn,jnn" {
			t.Errorf("%s: namenodes = %q", h, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "core-site.xml")); err == nil {
		t.Error("a top-level core-site.xml was written although the hosts differ")
	}
}

func TestRenderOneHost(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runHactl(t, "render", "--host", "oim", "--out", dir, baremetal)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c, err := hadoopconf.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get(schema.KeyJournalRPCAddress, ""); got != "192.168.1.132:8485" {
		t.Errorf("journalnode rpc-address = %q", got)
	}
	if code, _, _ := runHactl(t, "render", "--host", "nope", baremetal); code != 2 {
		t.Errorf("unknown host: exit %d, want 2", code)
	}
}

func TestRenderRefusesAConfigWithErrors(t *testing.T) {
	src := t.TempDir()
	bad := `host "a" { address = "10.0.0.1" }
nameservice "ns" {
  namenode "nn1" { host = "a" }
  name_dir = "/nn"
}
target "ssh" {}
`
	if err := os.WriteFile(filepath.Join(src, "c.hcl"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runHactl(t, "render", "--out", out, src)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	if !strings.Contains(stderr, "Error") || !strings.Contains(stderr, "nothing rendered") {
		t.Errorf("stderr lacks the diagnostics: %s", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %s", stdout)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory was created: %v", err)
	}
}

func TestRenderFilesSingleSetWhenHostsAgree(t *testing.T) {
	mk := func(host, v string) *schema.RenderedHost {
		core, hdfs := hadoopconf.New(), hadoopconf.New()
		core.Set("fs.defaultFS", "hdfs://ns")
		hdfs.Set("k", v)
		return &schema.RenderedHost{Host: host, Core: core, HDFS: hdfs}
	}
	same := renderFiles([]*schema.RenderedHost{mk("a", "1"), mk("b", "1")}, false)
	if len(same) != 2 || same[0].path != "core-site.xml" || same[1].path != "hdfs-site.xml" {
		t.Errorf("agreeing hosts: %v", same)
	}
	differ := renderFiles([]*schema.RenderedHost{mk("a", "1"), mk("b", "2")}, false)
	if len(differ) != 4 || differ[2].path != filepath.Join("b", "core-site.xml") {
		t.Errorf("differing hosts: %v", differ)
	}
}
