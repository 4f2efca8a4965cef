package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// removeConfig removes the files hactl wrote as configuration (with zoo.cfg),
// the daemons' logs and supervisor records of a host — by name, never a whole
// directory (ownedFilesScript) — and the cluster secret only when the step
// was planned with --purge-data, since kept data stays locked to it.
type removeConfig struct{ s *planner.Step }

func init() {
	register(planner.ActRemoveConfig, func(s *planner.Step) Runner { return &removeConfig{s} })
}

func (r *removeConfig) Title() string { return r.s.Title() }

func (r *removeConfig) Run(ctx context.Context, env *Env) error {
	script, err := ownedFilesScript(env.Cluster, r.s.Host, r.s.PurgeData)
	if err != nil {
		return fmt.Errorf("remove config: %w", err)
	}
	if err := env.wetRun(ctx, r.s.Host, oneLine(script),
		targets.Command{Shell: script, Sudo: true}); err != nil {
		return fmt.Errorf("remove config: %w", err)
	}
	return nil
}
