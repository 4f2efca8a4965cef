package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

// A converged cluster whose hosts have no storage record (applied by an
// hactl older than the record): plan records the storage dirs on each host
// and apply writes exactly the record, touching no daemon; the next plan is
// empty.
func TestRecordStorageOnConvergedOldCluster(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)
	s := newSim(t, c)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	// What an older hactl left: no record anywhere.
	for _, h := range c.Hosts {
		s.fakes[h.Name].SetFile(targets.StorageRecordPath(c, h.Name), nil, 0o600)
	}
	obs := s.observe()
	for _, h := range c.Hosts {
		obs.Hosts[h.Name].StorageUnrecorded = []string{"/hdfs/namenode", "/hdfs/journalnode"}
	}
	plan, err := planner.Plan(c, obs, planner.Options{RuntimeSHA256: bin.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != len(c.Hosts) {
		var b strings.Builder
		plan.WriteText(&b)
		t.Fatalf("want one record-storage step per host:\n%s", b.String())
	}
	before := map[string]int{}
	for _, h := range c.Hosts {
		before[h.Name] = len(s.fakes[h.Name].Calls())
	}
	var out strings.Builder
	if _, err := Execute(context.Background(), s.env(c, bin, false, &out), plan); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	for _, h := range c.Hosts {
		f, ok := s.fakes[h.Name].File(targets.StorageRecordPath(c, h.Name))
		if !ok || !strings.Contains(string(f.Data), "/hdfs/namenode") || !strings.Contains(string(f.Data), "/hdfs/journalnode") {
			t.Errorf("%s: record after apply: %q", h.Name, f.Data)
		}
		for _, call := range s.fakes[h.Name].Calls()[before[h.Name]:] {
			switch op := call.Op.(type) {
			case fake.FileRead:
			case fake.Upload:
				if op.Path != targets.StorageRecordPath(c, h.Name) {
					t.Errorf("%s: record-storage uploaded %s", h.Name, op.Path)
				}
			default:
				t.Errorf("%s: record-storage ran %#v", h.Name, op)
			}
		}
	}
}
