package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// removeConfig removes hactl's configuration (with the cluster secret and
// zoo.cfg), logs and pid files/records of a host.
type removeConfig struct{ s *planner.Step }

func (r *removeConfig) Title() string { return r.s.Title() }

func (r *removeConfig) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	if err := env.wetArgs(ctx, r.s.Host, "rm", "-rf", p.ConfDir, p.LogDir, p.RunDir, p.SecretFile); err != nil {
		return fmt.Errorf("remove config: %w", err)
	}
	return nil
}
