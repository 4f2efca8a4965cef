package planner

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The invariant check refuses a plan whose NameNode becomes the writer on a
// changed JournalNode set without sync-journal first, whether through a
// failover (NameNodes running) or the first start (NameNodes stopped).
func TestInvariantSyncJournalBeforeTheNewSetIsWritten(t *testing.T) {
	for _, name := range []string{"journalnodes-shrunk-five-to-three", "journalnodes-shrunk-namenodes-stopped", "journalnode-replaced"} {
		s := parseScenario(t, plansDir+"/"+name+".txt")
		_, plan, c, obs := runScenario(t, s)
		if plan == nil {
			t.Fatalf("%s: no plan", name)
		}
		i := slices.IndexFunc(plan.Steps, func(st *Step) bool { return st.Action == ActSyncJournal })
		if i < 0 {
			t.Fatalf("%s: no sync-journal step", name)
		}
		if err := CheckInvariants(c, obs, plan); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan.Steps = slices.Delete(plan.Steps, i, i+1)
		err := CheckInvariants(c, obs, plan)
		if !errors.Is(err, ErrInvariant) || !strings.Contains(err.Error(), "new JournalNode set") {
			t.Errorf("%s without sync-journal: %v", name, err)
		}
	}
}
