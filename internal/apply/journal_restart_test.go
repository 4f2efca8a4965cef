package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
)

// withHandlerCount adds a passthrough key every daemon reads, so a re-apply
// restarts every JournalNode one by one.
func withHandlerCount(src string) string {
	return src + "\nhadoop {\n  hdfs_site = { \"dfs.namenode.handler.count\" = \"20\" }\n}\n"
}

// A rolling restart of five JournalNodes while the active's writer leaves
// two of them out until its next segment (they missed edits: down a while,
// or just added). Restarting one of the three that receive the segment
// would leave two: the writer could neither acknowledge nor finalize (the
// e2e failure "finalizeLogSegment … no quorum (3 of 5 needed)"). apply rolls
// the edit log first, which takes the running ones back, and never takes a
// JournalNode down with fewer than a majority of the others in sync.
func TestJournalRestartKeepsAMajorityInSync(t *testing.T) {
	for _, tc := range []struct {
		name        string
		stopped     bool // d and e are down, not only left out
		wantRefused bool
	}{
		{"left out, running", false, false},
		{"left out, down", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadFixture(t, "fivejn", nil)
			bin := testBinary(t)
			s := newSim(t, c)
			if _, out, err := s.apply(c, bin, false); err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			s.reportJournal = true
			s.jnOOS["d"], s.jnOOS["e"] = true, true
			c2 := loadFixture(t, "fivejn", withHandlerCount)
			s.c = c2
			if tc.stopped {
				// Down for good (as far as this apply goes): their host's
				// supervisor cannot start them.
				for _, h := range []string{"d", "e"} {
					s.daemons[h][daemon.Host(daemon.JournalNode).Name()].running = false
				}
			}
			plan, err := planner.Plan(c2, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			if tc.stopped {
				// The plan starts d and e first; keep them down to see the
				// refusal.
				var kept []*planner.Step
				for _, st := range plan.Steps {
					if st.Action != planner.ActStartJournalNode {
						kept = append(kept, st)
					}
				}
				plan.Steps = kept
			}
			var out strings.Builder
			_, err = Execute(context.Background(), s.env(c2, bin, false, &out), plan)
			if len(s.violations) > 0 {
				t.Errorf("violations: %v\n%s", s.violations, out.String())
			}
			switch {
			case tc.wantRefused && (err == nil || !strings.Contains(err.Error(), "fewer than a majority (3)")):
				t.Errorf("with two JournalNodes down, apply did not refuse the restart: %v\n%s", err, out.String())
			case !tc.wantRefused && err != nil:
				t.Errorf("apply: %v\n%s", err, out.String())
			}
		})
	}
}
