package apply

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// applyThenDestroyFiles writes hactl's files on a real local host the way
// apply does (install-runtime, write-config, write-zookeeper-config, plus the
// supervisor's records and logs), then runs destroy's remove-config and
// remove-runtime steps (remove-config planned with --purge-data or not).
func applyThenDestroyFiles(t *testing.T, c *schema.Cluster, host string, purgeData bool) {
	t.Helper()
	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Cluster: c, Desired: d, Guard: &Guard{}, Binary: testBinary(t),
		Hosts:     map[string]targets.Host{host: targets.NewLocal(host, "127.0.0.1", "")},
		NewSecret: func() ([]byte, error) { return []byte("0123456789abcdef0123456789abcdef"), nil }}
	run := func(act planner.Action) {
		t.Helper()
		r, err := New(&planner.Step{Host: host, Action: act, PurgeData: purgeData && act == planner.ActRemoveConfig})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Run(context.Background(), env); err != nil {
			t.Fatalf("%s: %v", act, err)
		}
	}
	run(planner.ActInstallRuntime)
	run(planner.ActWriteConfig)
	run(planner.ActWriteZooKeeperConfig)
	p := c.PathsFor(host)
	// Current names and an earlier hactl's (namenode-<id>).
	// The exclude file a decommission left on a NameNode host.
	writeFile(t, c.HostsExcludeFile(host), "192.168.1.12\n")
	for _, daemon := range []string{"datanode", "journalnode", "namenode.hacluster.dnn", "zkfc.hacluster.dnn", "namenode-dnn", "zkfc-dnn", "zookeeper"} {
		for _, f := range []string{filepath.Join(p.LogDir, daemon+".log"), filepath.Join(p.RunDir, daemon+".json"),
			filepath.Join(p.RunDir, daemon+".pid"), filepath.Join(p.RunDir, "."+daemon+".lock")} {
			writeFile(t, f, "x")
		}
	}
	run(planner.ActRemoveConfig)
	run(planner.ActRemoveRuntime)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func treeOf(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != root {
			out = append(out, strings.TrimPrefix(p, root))
		}
		return nil
	})
	return out
}

// TestDestroyRemovesOnlyWhatHactlWrote: runtime dirs pointed at data (as a
// config from before validation refused it, or an old plan file, would)
// lose hactl's files and nothing else.
func TestDestroyRemovesOnlyWhatHactlWrote(t *testing.T) {
	tmp := t.TempDir()
	c := loadFixture(t, "three", nil)
	hdfs := filepath.Join(tmp, "hdfs")
	c.Nameservice("hacluster").NameDirs = []string{filepath.Join(hdfs, "namenode")}
	c.Nameservice("hacluster").Journal.EditsDir = filepath.Join(hdfs, "journalnode")
	c.ZooKeeper.DataDir = filepath.Join(tmp, "zk")
	c.Runtime.ConfDir = hdfs                              // conf_dir = "/hdfs"
	c.Runtime.LogDir = filepath.Join(hdfs, "namenode")    // log_dir = "/hdfs/namenode"
	c.Runtime.RunDir = filepath.Join(tmp, "etc")          // run_dir = a dir of others' files
	c.Runtime.InstallDir = filepath.Join(tmp, "usrlocal") // install_dir = a shared prefix
	c.Runtime.SecretFile = filepath.Join(hdfs, "cluster.secret")

	data := map[string]string{
		"hdfs/namenode/current/VERSION":                  "namespaceID=1\n",
		"hdfs/namenode/current/fsimage_0000000000000042": "image",
		"hdfs/journalnode/hacluster/current/VERSION":     "namespaceID=1\n",
		"hdfs/important.txt":                             "keep me",
		"etc/passwd":                                     "root:x:0:0::/root:/bin/sh\n",
		"usrlocal/bin/other-tool":                        "#!/bin/sh\n",
	}
	for f, v := range data {
		writeFile(t, filepath.Join(tmp, f), v)
	}
	applyThenDestroyFiles(t, c, "dim", false)
	// The secret stays, owner-only and unchanged: ZooKeeper's znodes, kept
	// with the data, carry a digest ACL derived from it.
	secret := filepath.Join(hdfs, "cluster.secret")
	if fi, err := os.Stat(secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cluster secret after destroy without --purge-data: %v %v, want kept with mode 0600", fi, err)
	} else if got, _ := os.ReadFile(secret); strings.TrimSpace(string(got)) != "0123456789abcdef0123456789abcdef" {
		t.Errorf("cluster secret after destroy: %q", got)
	}
	data["hdfs/cluster.secret"] = "0123456789abcdef0123456789abcdef\n"
	// The storage record stays with the secret, naming the kept dirs, so a
	// later plan finds them with the configuration gone.
	rec, err := os.ReadFile(filepath.Join(hdfs, "storage-dirs.json"))
	if err != nil {
		t.Fatalf("storage record after destroy without --purge-data: %v", err)
	}
	for _, want := range []string{`"hacluster/dnn"`, filepath.Join(hdfs, "namenode"), filepath.Join(hdfs, "journalnode")} {
		if !strings.Contains(string(rec), want) {
			t.Errorf("storage record lacks %s:\n%s", want, rec)
		}
	}
	data["hdfs/storage-dirs.json"] = string(rec)

	for f, v := range data {
		got, err := os.ReadFile(filepath.Join(tmp, f))
		if err != nil || string(got) != v {
			t.Errorf("%s: destroy without --purge-data changed it (%q, %v)", f, got, err)
		}
	}
	// Only the data, the others' files and the ZooKeeper data dir (myid) remain.
	for _, f := range treeOf(t, tmp) {
		switch {
		case strings.HasPrefix(f, "/zk"):
		case data[strings.TrimPrefix(f, "/")] != "":
		default:
			if fi, err := os.Stat(filepath.Join(tmp, f)); err == nil && fi.IsDir() {
				continue // a parent of kept data
			}
			t.Errorf("%s left behind by destroy", f)
		}
	}
}

// TestDestroyLeavesNoHactlDir: with dirs of its own, hactl's files are all
// removed by destroy --purge-data and the emptied dirs with them (the file
// list is complete); a plain destroy leaves only the secret, the storage
// record and their dir (still marked as created by hactl).
func TestDestroyLeavesNoHactlDir(t *testing.T) {
	tmp := t.TempDir()
	c := loadFixture(t, "three", nil)
	c.ZooKeeper.DataDir = filepath.Join(tmp, "zk")
	c.Runtime.ConfDir = filepath.Join(tmp, "etc/hactl")
	c.Runtime.LogDir = filepath.Join(tmp, "var/log/hactl")
	c.Runtime.RunDir = filepath.Join(tmp, "var/run/hactl")
	c.Runtime.InstallDir = filepath.Join(tmp, "opt/hactl")
	c.Runtime.SecretFile = filepath.Join(tmp, "etc/hactl/cluster.secret")
	applyThenDestroyFiles(t, c, "dim", false)
	for _, f := range treeOf(t, tmp) {
		// The kept secret's dir stays hactl's, marked, for a later --purge-data.
		if strings.Contains(f, "hactl") && f != "/etc/hactl" && f != "/etc/hactl/cluster.secret" && f != "/etc/hactl/"+CreatedMarker && f != "/etc/hactl/storage-dirs.json" {
			t.Errorf("%s left behind by destroy", f)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "etc/hactl/storage-dirs.json")); err != nil {
		t.Errorf("storage record after destroy without --purge-data: %v", err)
	}
	applyThenDestroyFiles(t, c, "dim", true)
	for _, f := range treeOf(t, tmp) {
		if strings.Contains(f, "hactl") {
			t.Errorf("%s left behind by destroy --purge-data", f)
		}
	}
}

// TestDestroyRefusesSystemDirs: a conf_dir = "/etc" that bypassed validation
// is refused before anything runs.
func TestDestroyRefusesSystemDirs(t *testing.T) {
	for _, tc := range []struct {
		set func(r *schema.Runtime)
		act planner.Action
	}{
		{func(r *schema.Runtime) { r.ConfDir = "/etc" }, planner.ActRemoveConfig},
		{func(r *schema.Runtime) { r.LogDir = "/var/log" }, planner.ActRemoveConfig},
		{func(r *schema.Runtime) { r.SecretFile = "/root/secret" }, planner.ActRemoveConfig},
		{func(r *schema.Runtime) { r.InstallDir = "/usr" }, planner.ActRemoveRuntime},
		{nil, planner.ActPurgeData}, // name_dir = "/var"
	} {
		c := loadFixture(t, "three", nil)
		if tc.set != nil {
			tc.set(c.Runtime)
		} else {
			c.Nameservice("hacluster").NameDirs = []string{"/var"}
		}
		s := newSim(t, c)
		env := s.env(c, testBinary(t), false, &strings.Builder{})
		r, _ := New(&planner.Step{Host: "dim", Action: tc.act, PurgeData: tc.act == planner.ActPurgeData})
		err := r.Run(context.Background(), env)
		if err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("%s with %+v: err = %v", tc.act, c.Runtime, err)
		}
		if n := len(mutatingCalls(s)); n != 0 {
			t.Errorf("%s: %d mutations despite the refusal", tc.act, n)
		}
	}
}

// TestDestroyKeepsDirsItDidNotCreate: runtime dirs that existed before apply,
// even empty ones, survive destroy --purge-data (emptied of hactl's files);
// the same dirs made by apply are removed.
func TestDestroyKeepsDirsItDidNotCreate(t *testing.T) {
	tmp := t.TempDir()
	c := loadFixture(t, "three", nil)
	c.ZooKeeper.DataDir = filepath.Join(tmp, "zk")
	c.Runtime.ConfDir = filepath.Join(tmp, "srv/conf")
	c.Runtime.LogDir = filepath.Join(tmp, "srv/log")
	c.Runtime.RunDir = filepath.Join(tmp, "srv/run")
	c.Runtime.InstallDir = filepath.Join(tmp, "srv/opt")
	c.Runtime.SecretFile = filepath.Join(tmp, "srv/conf/cluster.secret")
	p := c.PathsFor("dim")
	pre := []string{p.ConfDir, p.LogDir, p.RunDir, p.InstallDir}
	for _, d := range pre {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	applyThenDestroyFiles(t, c, "dim", true)
	// What apply made inside them (conf/zookeeper, opt/bin) goes.
	want := []string{"/srv", "/srv/conf", "/srv/log", "/srv/opt", "/srv/run", "/zk"}
	if got := treeOf(t, tmp); !slices.Equal(got, want) && !slices.Equal(got, append(want, "/zk/myid")) {
		t.Errorf("after destroy of pre-existing runtime dirs: %q, want %q (+ /zk/myid)", got, want)
	}

	// Now apply creates them: destroy removes them, the operator's /srv stays.
	for _, d := range pre {
		if err := os.Remove(d); err != nil {
			t.Fatal(err)
		}
	}
	applyThenDestroyFiles(t, c, "dim", true)
	for _, f := range treeOf(t, tmp) {
		if strings.HasPrefix(f, "/srv/") {
			t.Errorf("%s left behind by destroy of dirs apply created", f)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "srv")); err != nil {
		t.Errorf("/srv existed before apply: %v", err)
	}
}
