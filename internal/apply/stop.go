package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// stopDaemon stops a supervised daemon (destroy, or a daemon no longer in
// the configuration).
type stopDaemon struct{ s *planner.Step }

func (r *stopDaemon) Title() string { return r.s.Title() }

func (r *stopDaemon) Run(ctx context.Context, env *Env) error {
	name := r.s.Daemon
	if r.s.Record != "" {
		name = r.s.Record // an earlier hactl's record of the daemon
	}
	if err := superviseStop(ctx, env, r.s.Host, name); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}
