package targets_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
)

// A nameservice renamed (old -> ns1) with name_dir and edits_dir moved: the
// installed configuration still names the old namespace's dirs, and the new
// edits root holds a journal of yet another ID. The probe reports all of it
// under their own IDs, with dirs and cluster IDs, and plan refuses to format
// ns1 next to it, naming host, dir and clusterID.
func TestProbeFindsStorageOfAnotherNamespace(t *testing.T) {
	c, hosts := loadLocalCluster(t)
	oldName, oldJournal := c.HostDir("p1", "/old/name"), c.HostDir("p1", "/old/journal")
	installRuntime(t, c, `{"runtime_version":"9.9","supervisor":true,"namenodes":{},`+
		`"storage_dirs":{"name_dirs":{"old/nn1":["`+oldName+`"]},"edits_roots":["`+oldJournal+`"]}}`, 0)
	hostFile(t, c, "p1", "/old/name/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, c, "p1", "/old/journal/old/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	// A journal ID the configuration never named, in the configured edits dir.
	hostFile(t, c, "p2", "/hdfs/journal/stray/current/VERSION", []byte("namespaceID=99\nclusterID=CID-stray\n"))

	obs := probeLocal(t, c, hosts)
	p1, p2 := obs.Hosts["p1"], obs.Hosts["p2"]
	if nn := p1.NameNodes["old/nn1"]; nn == nil || !nn.Formatted || nn.ClusterID != "CID-old" || len(nn.Dirs) != 1 || nn.Dirs[0] != oldName {
		t.Errorf("old namespace's NameNode storage: %+v", nn)
	}
	if j := p1.JournalNodes["old"]; j == nil || !j.Formatted || j.Dir != oldJournal+"/old" {
		t.Errorf("old journal: %+v", j)
	}
	if j := p2.JournalNodes["stray"]; j == nil || !j.Formatted || j.ClusterID != "CID-stray" {
		t.Errorf("journal of another ID in the configured edits dir: %+v", j)
	}

	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = planner.PlanDesired(d, obs, planner.Options{RuntimeSHA256: strings.Repeat("a", 64)})
	if !errors.Is(err, planner.ErrOtherNamespace) {
		t.Fatalf("plan over another namespace's storage: err = %v", err)
	}
	for _, want := range []string{"p1: NameNode storage of nameservice old, NameNode nn1 in " + oldName, "clusterID CID-old",
		"p1: journal old in " + oldJournal + "/old", "p2: journal stray", "CID-stray", "nameservice ns1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal does not say %q:\n%v", want, err)
		}
	}
}
