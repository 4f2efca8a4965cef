package targets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

func loadIn(t *testing.T, dir, hcl string) *schema.Cluster {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	return c
}

// After a destroy without --purge-data the installed configuration is gone,
// but the storage record apply wrote next to the secret is kept. A
// configuration that renames the nameservice and moves name_dir and
// edits_dir must still find the old formatted dirs through the record, and
// plan must refuse to format next to them, naming the old dir.
func TestProbeFindsStorageThroughRecord(t *testing.T) {
	dir := t.TempDir()
	oldHCL := strings.NewReplacer(`nameservice "ns1"`, `nameservice "old"`,
		`"/hdfs/journal"`, `"/old/journal"`, `"/hdfs/name"`, `"/old/name"`).Replace(localClusterHCL)
	old := loadIn(t, dir, oldHCL)
	for _, h := range []string{"p1", "p2", "p3"} {
		rec, err := targets.StorageRecord(old, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := targets.StorageRecordPath(old, h)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, rec, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hostFile(t, old, "p1", "/old/name/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, old, "p2", "/old/journal/old/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))

	c := loadIn(t, dir, localClusterHCL)
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oldName, oldJournal := c.HostDir("p1", "/old/name"), c.HostDir("p2", "/old/journal")
	obs := probeLocal(t, c, hosts)
	if nn := obs.Hosts["p1"].NameNodes["old/nn1"]; nn == nil || !nn.Formatted || nn.ClusterID != "CID-old" || len(nn.Dirs) != 1 || nn.Dirs[0] != oldName {
		t.Errorf("old namespace's NameNode storage, found through the record: %+v", nn)
	}
	if j := obs.Hosts["p2"].JournalNodes["old"]; j == nil || !j.Formatted || j.Dir != oldJournal+"/old" {
		t.Errorf("old journal, found through the record: %+v", j)
	}

	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = planner.PlanDesired(d, obs, planner.Options{RuntimeSHA256: strings.Repeat("a", 64)})
	if !errors.Is(err, planner.ErrOtherNamespace) {
		t.Fatalf("plan over the recorded old namespace: err = %v", err)
	}
	for _, want := range []string{"p1: NameNode storage of nameservice old, NameNode nn1 in " + oldName, "clusterID CID-old",
		"p2: journal old in " + oldJournal + "/old"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal does not say %q:\n%v", want, err)
		}
	}
}

// The record only grows: dirs the configuration no longer names stay in it,
// and one that cannot be read is an error rather than overwritten.
func TestStorageRecordMerges(t *testing.T) {
	dir := t.TempDir()
	oldHCL := strings.NewReplacer(`nameservice "ns1"`, `nameservice "old"`, `"/hdfs/name"`, `"/old/name"`).Replace(localClusterHCL)
	rec, err := targets.StorageRecord(loadIn(t, dir, oldHCL), "p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := loadIn(t, dir, localClusterHCL)
	merged, err := targets.StorageRecord(c, "p1", rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"old/nn1"`, c.HostDir("p1", "/old/name"), `"ns1/nn1"`, c.HostDir("p1", "/hdfs/name"), c.HostDir("p1", "/hdfs/journal")} {
		if !strings.Contains(string(merged), want) {
			t.Errorf("merged record lacks %s:\n%s", want, merged)
		}
	}
	if strings.Count(string(merged), c.HostDir("p1", "/hdfs/journal")) != 1 {
		t.Errorf("edits dir recorded twice:\n%s", merged)
	}
	if _, err := targets.StorageRecord(c, "p1", []byte("not json")); err == nil {
		t.Error("an unreadable record was overwritten")
	}
}

// A dir the record keeps for an ID the configuration still names (name_dir
// and edits_dir moved, the old copies left in place) is not merged into that
// ID's storage: the configured dirs are empty, and must look empty.
func TestStorageRecordIgnoresMovedDirsOfConfiguredIDs(t *testing.T) {
	dir := t.TempDir()
	oldHCL := strings.NewReplacer(`"/hdfs/journal"`, `"/old/journal"`, `"/hdfs/name"`, `"/old/name"`).Replace(localClusterHCL)
	old := loadIn(t, dir, oldHCL)
	rec, err := targets.StorageRecord(old, "p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := targets.StorageRecordPath(old, "p1")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	hostFile(t, old, "p1", "/old/name/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, old, "p1", "/old/journal/ns1/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))
	hostFile(t, old, "p1", "/old/journal/ns1/current/edits_0000000000000000001-0000000000000000042", []byte("x"))

	c := loadIn(t, dir, localClusterHCL)
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obs := probeLocal(t, c, hosts)
	p1 := obs.Hosts["p1"]
	if !p1.Reachable {
		t.Fatalf("p1: %s", p1.Error)
	}
	if nn := p1.NameNodes["ns1/nn1"]; nn != nil && (nn.Formatted || nn.HasData) {
		t.Errorf("the configured NameNode's empty name dir looks formatted through the record's old dir: %+v", nn)
	}
	if j := p1.JournalNodes["ns1"]; j != nil && (j.Formatted || j.HasData) {
		t.Errorf("the configured journal's empty edits dir looks full through the record's old root: %+v", j)
	}
}

// A record larger than the probe's 64 KiB bound for small files (a host that
// over the years held many NameNode dirs) is read whole: the old namespace
// whose dirs come last in it is still found and still stops a format. A
// record larger than hactl reads at all is refused, saying so, never parsed
// from its first bytes.
func TestProbeReadsLargeStorageRecordWhole(t *testing.T) {
	dir := t.TempDir()
	oldHCL := strings.NewReplacer(`nameservice "ns1"`, `nameservice "old"`,
		`"/hdfs/journal"`, `"/old/journal"`, `"/hdfs/name"`, `"/old/name"`).Replace(localClusterHCL)
	old := loadIn(t, dir, oldHCL)
	rec, err := targets.StorageRecord(old, "p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		NameDirs   map[string][]string `json:"name_dirs"`
		EditsRoots []string            `json:"edits_roots"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	// Padding sorts before "old/nn1" (the encoder sorts map keys), so
	// the old namespace's entries sit past the first 64 KiB.
	for i := range 1200 {
		id := fmt.Sprintf("aaa/nn%04d", i)
		r.NameDirs[id] = []string{old.HostDir("p1", fmt.Sprintf("/retired/name-%04d/%s", i, strings.Repeat("x", 20)))}
	}
	big, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if len(big) <= 96<<10 {
		t.Fatalf("record of %d bytes is not past the 64 KiB the probe used to read", len(big))
	}
	p := targets.StorageRecordPath(old, "p1")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(big, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	hostFile(t, old, "p1", "/old/name/current/VERSION", []byte("namespaceID=4242\nclusterID=CID-old\n"))

	c := loadIn(t, dir, localClusterHCL)
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obs := probeLocal(t, c, hosts)
	if nn := obs.Hosts["p1"].NameNodes["old/nn1"]; nn == nil || !nn.Formatted || nn.ClusterID != "CID-old" {
		t.Errorf("old namespace's NameNode storage, named at the end of a %d-byte record: %+v (host error %q)", len(big), nn, obs.Hosts["p1"].Error)
	}
	if merged, err := targets.StorageRecord(c, "p1", append(big, '\n')); err != nil || !strings.Contains(string(merged), "old/nn1") {
		t.Errorf("merging into the large record: %v", err)
	}

	// Past the bound: refused, with the size, whatever its first bytes say.
	huge := make([]byte, 0, targets.MaxStorageRecord+2)
	huge = append(huge, append(big[:len(big)-1], ',')...)
	huge = append(huge, []byte(`"pad":"`)...)
	for len(huge) < targets.MaxStorageRecord {
		huge = append(huge, 'x')
	}
	huge = append(huge, []byte("\"}\n")...)
	if err := os.WriteFile(p, huge, 0o600); err != nil {
		t.Fatal(err)
	}
	obs2, err := targets.ProbeAll(context.Background(), c, hosts, targets.ProbeOptions{SkipZooKeeper: true})
	msg := ""
	if err != nil {
		msg = err.Error()
	} else if obs2 != nil && obs2.Hosts["p1"] != nil {
		msg = obs2.Hosts["p1"].Error
		if obs2.Hosts["p1"].Reachable {
			t.Errorf("a host whose storage record is too large to read was described as reachable: %+v", obs2.Hosts["p1"])
		}
	}
	if !strings.Contains(msg, strconv.Itoa(len(huge))+" bytes") {
		t.Errorf("too large a record: the refusal does not give its size %d: %q", len(huge), msg)
	}
	if _, err := targets.StorageRecord(c, "p1", huge); err == nil {
		t.Error("a record past the bound was merged and would be written")
	}
}

// The probe names the configuration's storage dirs the host's record lacks
// (a cluster an older hactl applied), and none once the record holds them.
func TestProbeReportsUnrecordedStorage(t *testing.T) {
	dir := t.TempDir()
	c := loadIn(t, dir, localClusterHCL)
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obs := probeLocal(t, c, hosts)
	got := obs.Hosts["p1"].StorageUnrecorded
	for _, want := range []string{c.HostDir("p1", "/hdfs/name"), c.HostDir("p1", "/hdfs/journal")} {
		if !slices.Contains(got, want) {
			t.Errorf("p1 without a record: unrecorded %v lacks %s", got, want)
		}
	}
	for _, h := range []string{"p1", "p2", "p3"} {
		rec, err := targets.StorageRecord(c, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := targets.StorageRecordPath(c, h)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, rec, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	obs = probeLocal(t, c, hosts)
	for _, h := range []string{"p1", "p2", "p3"} {
		if got := obs.Hosts[h].StorageUnrecorded; len(got) != 0 {
			t.Errorf("%s with its record written: unrecorded %v", h, got)
		}
	}
}
