package planner

import (
	"testing"

	"github.com/hactl/hactl/internal/daemon"
)

// Every daemon kind of the registry has its start, restart and stop steps,
// with the plan's signs, without listing them anywhere else.
func TestDaemonStepKindsComeFromTheRegistry(t *testing.T) {
	for _, s := range daemon.Registry {
		for verb, change := range map[string]Change{VerbStart: ChangeCreate, VerbRestart: ChangeReplace, VerbStop: ChangeDestroy} {
			a := DaemonAction(verb, s.Kind)
			k, ok := KindOf(a)
			if !ok || k.Change != change {
				t.Errorf("%s: kind %+v, %v; want change %s", a, k, ok, change)
			}
		}
	}
	if ActStopZKFC != DaemonAction(VerbStop, daemon.ZKFC) || ActStartNameNode != "start-namenode" {
		t.Error("the named daemon actions differ from DaemonAction")
	}
	if _, ok := KindOf("launch-rocket"); ok {
		t.Error("an unknown action has a kind")
	}
	for a, want := range map[Action]Change{ActVerifyHA: ChangeRead, ActFailover: ChangeUpdate, ActPurgeData: ChangeDestroy, ActFormatZK: ChangeCreate} {
		if got := changeOf(a); got != want {
			t.Errorf("changeOf(%s) = %s, want %s", a, got, want)
		}
	}
}
