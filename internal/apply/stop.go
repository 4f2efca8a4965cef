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
	if err := superviseStop(ctx, env, r.s.Host, r.s.Daemon); err != nil {
		return fmt.Errorf("stop %s: %w", r.s.Daemon, err)
	}
	return nil
}
