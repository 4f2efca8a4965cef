package apply

import (
	"errors"
	"testing"

	"github.com/hactl/hactl/planner"
)

// Every step kind the planner knows has a runner, and no runner is
// registered for an action the planner does not know: the step table and the
// step files agree.
func TestEveryStepKindHasARunner(t *testing.T) {
	known := map[planner.Action]bool{}
	for _, k := range planner.StepKinds() {
		if known[k.Action] {
			t.Errorf("step kind %s listed twice", k.Action)
		}
		known[k.Action] = true
		r, err := New(&planner.Step{Action: k.Action, Host: "h"})
		if err != nil || r == nil {
			t.Errorf("%s: no runner: %v", k.Action, err)
		}
	}
	for a := range runners {
		if !known[a] {
			t.Errorf("runner registered for %s, which is not a planner step kind", a)
		}
	}
	if _, err := New(&planner.Step{Action: "launch-rocket"}); !errors.Is(err, ErrUnknownAction) {
		t.Errorf("unknown action: %v", err)
	}
}

// Host-local steps (run on every host at once) are exactly the preparation
// and removal steps and the starts of quorum members, as before the table.
func TestParallelSafeSteps(t *testing.T) {
	want := map[planner.Action]bool{
		planner.ActInstallRuntime: true, planner.ActWriteConfig: true, planner.ActRecordStorage: true, planner.ActInstallZooKeeper: true,
		planner.ActWriteZooKeeperConfig: true, planner.ActStartZooKeeper: true, planner.ActStartJournalNode: true, planner.ActStartDataNode: true,
		planner.ActRemoveConfig: true, planner.ActRemoveRuntime: true, planner.ActPurgeData: true,
	}
	for _, k := range planner.StepKinds() {
		if got := parallelSafe(k.Action); got != want[k.Action] {
			t.Errorf("%s: parallel-safe %v, want %v", k.Action, got, want[k.Action])
		}
	}
}
