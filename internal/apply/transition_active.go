package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// transitionToActive makes a NameNode active by hand (automatic failover off
// and no NameNode active yet).
type transitionToActive struct{ s *planner.Step }

func init() {
	register(planner.ActTransitionToActive, func(s *planner.Step) Runner { return &transitionToActive{s} })
}

func (r *transitionToActive) Title() string { return r.s.Title() }

func (r *transitionToActive) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	if err := env.wetArgs(ctx, r.s.Host, p.Binary, "runtime", "haadmin", "--conf", p.ConfDir, "-ns", r.s.Nameservice, "-transitionToActive", r.s.NameNode); err != nil {
		return fmt.Errorf("transition %s to active: %w", r.s.NameNode, err)
	}
	return waitActive(ctx, env, r.s.Nameservice, r.s.NameNode)
}
