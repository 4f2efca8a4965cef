package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/planner"
	ucli "github.com/urfave/cli/v3"
)

// converge is what apply and destroy share once the session is open.
type converge struct {
	dry  bool
	plan func(obs *planner.Observed) (*planner.ClusterPlan, error)
	// ask returns whether the operator approved; nil when no question is due.
	ask       func() bool
	cancelled string // printed when the operator declines
	retry     string // appended to a failed step's error: what to do next
}

// run takes the cluster lock (not for a dry run), probes the hosts, plans,
// prints the plan, asks, and runs the steps, stopping at the first failure.
// It returns the plan it ran, or nil when there was nothing to do.
func (s *session) converge(ctx context.Context, cmd *ucli.Command, c converge) (*planner.ClusterPlan, apply.Report, error) {
	out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
	env := s.env(out, c.dry)
	if !c.dry {
		lock, err := apply.AcquireLock(ctx, env, cmd.Duration("lock-timeout"))
		if err != nil {
			return nil, apply.Report{}, exitCode(1, err)
		}
		defer lock.Release(context.WithoutCancel(ctx))
	}
	obs, err := s.probe(ctx)
	if err != nil {
		return nil, apply.Report{}, err
	}
	plan, err := c.plan(obs)
	if err != nil {
		return nil, apply.Report{}, exitCode(1, err)
	}
	if err := plan.WriteText(out); err != nil {
		return nil, apply.Report{}, exitCode(1, err)
	}
	if plan.Empty() {
		return nil, apply.Report{}, nil
	}
	if !c.dry && c.ask != nil && !c.ask() {
		fmt.Fprintln(out, c.cancelled)
		return nil, apply.Report{}, exitCode(1, nil)
	}
	fmt.Fprintln(out)
	rep, err := apply.Execute(ctx, env, plan)
	if err != nil {
		fmt.Fprintf(errw, "\n%d of %d steps done in %s.\n", rep.Done, rep.Total, rep.Elapsed.Round(time.Millisecond))
		var se *apply.StepError
		if errors.As(err, &se) {
			return nil, rep, exitCode(1, fmt.Errorf("%w\n%s", err, c.retry))
		}
		return nil, rep, exitCode(1, err)
	}
	return plan, rep, nil
}
