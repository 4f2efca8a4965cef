package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// formatZKExists is format-zk's exit code (Hadoop's) when the parent znode
// already exists and it runs non-interactively.
const formatZKExists = 2

// formatZK creates /hadoop-ha/<ns>. Non-interactive and never --force: an
// existing znode is left alone (exit 2), which is the converged state.
type formatZK struct{ s *planner.Step }

func init() {
	register(planner.ActFormatZK, func(s *planner.Step) Runner { return &formatZK{s} })
}

func (r *formatZK) Title() string { return r.s.Title() }

func (r *formatZK) Run(ctx context.Context, env *Env) error {
	p := env.paths(r.s.Host)
	// A ZooKeeper ensemble started moments ago may still be electing its
	// leader: retry for a bounded time before giving up.
	deadline := env.now().Add(min(env.readyTimeout(), 60*time.Second))
	for {
		err := env.wetArgs(ctx, r.s.Host, p.Binary, "runtime", "format-zk", "--conf", p.ConfDir, "--nameservice", r.s.Nameservice, "--non-interactive")
		var ee *targets.ExitError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ee) && ee.Result.ExitCode == formatZKExists:
			return nil
		case ee == nil || !env.now().Before(deadline):
			return fmt.Errorf("format-zk %s: %w", r.s.Nameservice, err)
		}
		if err := env.sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}
