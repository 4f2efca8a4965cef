package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// formatNameNode formats the one NameNode of a new namespace. It runs
// non-interactively, so the runtime itself refuses (exit 1, touching
// nothing) if it finds data the probe did not: a second guard against the
// one unforgivable bug. --force only with the plan's explicit Force.
type formatNameNode struct{ s *planner.Step }

func init() {
	register(planner.ActFormatNameNode, func(s *planner.Step) Runner { return &formatNameNode{s} })
}

func (r *formatNameNode) Title() string { return r.s.Title() }

func (r *formatNameNode) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	args := []string{p.Binary, "runtime", "format", "--conf", p.ConfDir, "--nameservice", r.s.Nameservice, "--id", r.s.NameNode, "--non-interactive"}
	if r.s.Force {
		args = append(args, "--force")
	}
	if err := env.wetArgs(ctx, r.s.Host, args...); err != nil {
		return fmt.Errorf("format namenode %s: %w", r.s.NameNode, err)
	}
	return nil
}
