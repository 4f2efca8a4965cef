package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// removeRuntime removes the hactl binary and its checksum file, and the
// install dir only when nothing else is left in it.
type removeRuntime struct{ s *planner.Step }

func init() {
	register(planner.ActRemoveRuntime, func(s *planner.Step) Runner { return &removeRuntime{s} })
}

func (r *removeRuntime) Title() string { return r.s.Title() }

func (r *removeRuntime) Run(ctx context.Context, env *Env) error {
	script, err := runtimeFilesScript(env.Cluster, r.s.Host)
	if err != nil {
		return fmt.Errorf("remove runtime: %w", err)
	}
	if err := env.wetRun(ctx, r.s.Host, oneLine(script), targets.Command{Shell: script, Sudo: true}); err != nil {
		return fmt.Errorf("remove runtime: %w", err)
	}
	// A probe copy uploaded while the installed runtime was stale (an upgrade).
	if err := env.wetRun(ctx, r.s.Host, "remove probe copies /tmp/hactl-probe-*",
		targets.Command{Shell: "rm -f /tmp/hactl-probe-*", Sudo: true}); err != nil {
		return fmt.Errorf("remove runtime: %w", err)
	}
	return nil
}
