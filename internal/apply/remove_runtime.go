package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// removeRuntime removes the hactl binary and its install dir.
type removeRuntime struct{ s *planner.Step }

func (r *removeRuntime) Title() string { return r.s.Title() }

func (r *removeRuntime) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	if err := env.wetArgs(ctx, r.s.Host, "rm", "-rf", p.InstallDir); err != nil {
		return fmt.Errorf("remove runtime: %w", err)
	}
	return nil
}
