package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// bootstrapStandby copies the namespace image from a running formatted peer
// into this NameNode's empty dirs. Non-interactive: the runtime refuses
// (exit 5) when the local storage holds data.
type bootstrapStandby struct{ s *planner.Step }

func init() {
	register(planner.ActBootstrapStandby, func(s *planner.Step) Runner { return &bootstrapStandby{s} })
}

func (r *bootstrapStandby) Title() string { return r.s.Title() }

func (r *bootstrapStandby) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	if err := env.wetArgs(ctx, r.s.Host, p.Binary, "runtime", "bootstrap-standby", "--conf", p.ConfDir, "--nameservice", r.s.Nameservice, "--id", r.s.NameNode, "--non-interactive"); err != nil {
		return fmt.Errorf("bootstrap standby %s: %w", r.s.NameNode, err)
	}
	return nil
}
