package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
)

// startDaemon starts a supervised daemon (ZooKeeper, JournalNode, NameNode,
// ZKFC) and waits until it serves, so the next step can rely on it.
type startDaemon struct{ s *planner.Step }

// The start step of every registered daemon kind.
func init() {
	for _, d := range daemon.Registry {
		register(planner.DaemonAction(planner.VerbStart, d.Kind), func(s *planner.Step) Runner { return &startDaemon{s} })
	}
}

func (r *startDaemon) Title() string { return r.s.Title() }

func (r *startDaemon) Run(ctx context.Context, env *Env) error {
	d, err := specFor(env, r.s)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := claimPorts(ctx, env, r.s.Host, d.name); err != nil {
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	if err := recommission(ctx, env, r.s.Host, d.id); err != nil {
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	if err := superviseStart(ctx, env, r.s.Host, d); err != nil {
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	return waitReady(ctx, env, r.s.Host, d.name)
}
