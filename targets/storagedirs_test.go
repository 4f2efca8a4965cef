package targets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/probe"
	"github.com/hactl/hactl/schema"
)

// Where the installed configuration is the one the cluster configuration
// renders, the installed runtime names no storage dir the shell did not
// already read: the probe stays one round trip per host.
func TestInstalledConfigurationNamesTheConfiguredStorageDirs(t *testing.T) {
	dirs := []string{"../examples/local"}
	ents, err := os.ReadDir("../testdata/valid")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		dirs = append(dirs, filepath.Join("../testdata/valid", e.Name()))
	}
	for _, dir := range dirs {
		c, diags := schema.Load(dir, schema.LoadOptions{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", dir, diags)
		}
		nameNodes := 0
		for _, h := range c.Hosts {
			r, err := schema.Render(c, h.Name)
			if err != nil {
				t.Fatal(err)
			}
			conf := t.TempDir()
			for name, data := range map[string][]byte{"core-site.xml": r.Core.Marshal(), "hdfs-site.xml": r.HDFS.Marshal()} {
				if err := os.WriteFile(filepath.Join(conf, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := probe.Gather(context.Background(), probe.Options{ConfDir: conf, InstallDir: filepath.Join(conf, "opt"), Address: h.Address})
			if err != nil {
				t.Fatal(err)
			}
			want := hostStorage(c, h.Name)
			if _, more, err := want.with(rep.Storage, "the installed configuration"); more || err != nil {
				t.Errorf("%s host %s: the installed configuration names other storage dirs (%+v) than the cluster configuration (%+v): %v",
					dir, h.Name, rep.Storage, want, err)
			}
			for _, n := range want.names {
				if rep.Storage == nil || len(rep.Storage.NameDirs[n.key]) == 0 {
					t.Errorf("%s host %s: NameNode %s has no name dir in the installed configuration: %+v", dir, h.Name, n.key, rep.Storage)
				}
				if rep.NameNodes[n.key] == nil {
					t.Errorf("%s host %s: NameNode %s not found in the installed configuration", dir, h.Name, n.key)
				}
				nameNodes++
			}
			for k := range rep.NameNodes {
				ns, id, _ := strings.Cut(k, "/")
				if planner.NameNodeKey(ns, id) != k || c.Nameservice(ns) == nil || c.Nameservice(ns).NameNode(id) == nil || c.Nameservice(ns).NameNode(id).Host != h.Name {
					t.Errorf("%s host %s: the runtime takes NameNode %s for a local one", dir, h.Name, k)
				}
			}
		}
		if nameNodes == 0 {
			t.Errorf("%s: no NameNode storage checked", dir)
		}
	}
}
