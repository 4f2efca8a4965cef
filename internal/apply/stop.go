package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
)

// stopDaemon stops a supervised daemon (destroy, or a daemon no longer in
// the configuration) and clears its record; whatever of it runs without a
// record is stopped too, and a process of it that survives fails the step.
type stopDaemon struct{ s *planner.Step }

// The stop step of every registered daemon kind.
func init() {
	for _, d := range daemon.Registry {
		register(planner.DaemonAction(planner.VerbStop, d.Kind), func(s *planner.Step) Runner { return &stopDaemon{s} })
	}
}

func (r *stopDaemon) Title() string { return r.s.Title() }

func (r *stopDaemon) Run(ctx context.Context, env *Env) error {
	record := r.s.Daemon
	if r.s.Record != "" {
		record = r.s.Record // an earlier hactl's record of the daemon
	}
	if err := stopEverything(ctx, env, r.s.Host, r.s.Daemon, record, true); err != nil {
		return fmt.Errorf("stop %s: %w", record, err)
	}
	return nil
}
