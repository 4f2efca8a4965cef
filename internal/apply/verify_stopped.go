package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// verifyStopped checks destroy's postcondition on a host before its files
// go: no hactl supervisor or daemon process (found by command line, record
// or not), nothing listening on an address the configuration gives a
// daemon. A failure names each survivor and stops the destroy there, so the
// host's configuration, binary and data stay.
type verifyStopped struct{ s *planner.Step }

func init() {
	register(planner.ActVerifyStopped, func(s *planner.Step) Runner { return &verifyStopped{s} })
}

func (r *verifyStopped) Title() string { return r.s.Title() }

func (r *verifyStopped) Run(ctx context.Context, env *Env) error {
	if err := checkNothingRuns(ctx, env, r.s.Host); err != nil {
		return fmt.Errorf("verify stopped: %w", err)
	}
	return nil
}
