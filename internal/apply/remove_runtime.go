package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// removeRuntime removes the hactl binary and its install dir.
type removeRuntime struct{ s *planner.Step }

func (r *removeRuntime) Title() string { return r.s.Title() }

func (r *removeRuntime) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	if err := env.wetArgs(ctx, r.s.Host, "rm", "-rf", p.InstallDir); err != nil {
		return fmt.Errorf("remove runtime: %w", err)
	}
	// A probe copy uploaded while the installed runtime was stale (an upgrade).
	if err := env.wetRun(ctx, r.s.Host, "remove probe copies /tmp/hactl-probe-*",
		targets.Command{Shell: "rm -f /tmp/hactl-probe-*", Sudo: true}); err != nil {
		return fmt.Errorf("remove runtime: %w", err)
	}
	return nil
}
