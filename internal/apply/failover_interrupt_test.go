package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets/fake"
)

// A rolling restart with manual failover, interrupted (Ctrl-C) right after
// haadmin made the active NameNode standby: the failover step still ends
// with a NameNode active, never with none.
func TestManualFailoverInterruptedLeavesAnActive(t *testing.T) {
	c := loadFixture(t, "manual", nil)
	bin := testBinary(t)
	s := newSim(t, c)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if s.active["hacluster"] == "" {
		t.Fatal("no active NameNode after the first apply")
	}
	c2 := loadFixture(t, "manual", withHandlerCount)
	s.c = c2
	plan, err := planner.Plan(c2, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	plan.WriteText(&b)
	if !strings.Contains(b.String(), "failover") {
		t.Fatalf("no failover step in the rolling restart:\n%s", b.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.onEffect = func(what string) {
		if strings.Contains(what, "-transitionToStandby") {
			cancel()
		}
	}
	var out strings.Builder
	_, err = Execute(ctx, s.env(c2, bin, false, &out), plan)
	if err == nil {
		t.Fatalf("interrupted apply returned no error\n%s", out.String())
	}
	if s.active["hacluster"] == "" {
		t.Errorf("interrupted during the failover, the nameservice has no active NameNode: %v\n%s", err, out.String())
	}
}

// The transitionToStandby of the active took effect but its answer was lost
// (the SSH connection dropped): the failover still ends with the step's
// NameNode active; when the active did not go standby, it stays active.
func TestManualFailoverStandbyAnswerLost(t *testing.T) {
	for _, took := range []bool{true, false} {
		c := loadFixture(t, "manual", nil)
		bin := testBinary(t)
		s := newSim(t, c)
		if _, out, err := s.apply(c, bin, false); err != nil {
			t.Fatalf("apply: %v\n%s", err, out)
		}
		before := s.active["hacluster"]
		c2 := loadFixture(t, "manual", withHandlerCount)
		s.c = c2
		plan, err := planner.Plan(c2, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		standby := func(op fake.Op) bool {
			r, ok := op.(fake.Runtime)
			return ok && r.Flag("-transitionToStandby") != ""
		}
		if took {
			s.lostAfterMatch = standby // the command ran; its answer is lost
		} else {
			s.failMatch = standby // refused: the active stays active
		}
		var out strings.Builder
		_, err = Execute(context.Background(), s.env(c2, bin, false, &out), plan)
		got := s.active["hacluster"]
		switch {
		case got == "":
			t.Errorf("took effect %v: no active NameNode (err %v)\n%s", took, err, out.String())
		case !took && (err == nil || got != before):
			t.Errorf("refused standby: err %v, active %q, want the error and %q still active", err, got, before)
		}
	}
}
