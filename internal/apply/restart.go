package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
)

// restartDaemon stops a daemon and starts it with the current configuration
// and binary, then waits until it serves again: the plan restarts one daemon
// at a time, so the wait is what keeps a second one from going down.
type restartDaemon struct{ s *planner.Step }

// The restart step of every registered daemon kind.
func init() {
	for _, d := range daemon.Registry {
		register(planner.DaemonAction(planner.VerbRestart, d.Kind), func(s *planner.Step) Runner { return &restartDaemon{s} })
	}
}

func (r *restartDaemon) Title() string { return r.s.Title() }

func (r *restartDaemon) Run(ctx context.Context, env *Env) error {
	d, err := specFor(env, r.s)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	// A daemon an earlier hactl named otherwise is stopped under that
	// record, which is then forgotten (it lives on under its identity's
	// name), and started under its identity's name.
	stop := d.name
	if r.s.Record != "" {
		stop = r.s.Record
	}
	if d.id.Kind == daemon.JournalNode && !env.Guard.DryRun {
		if err := journalRestartSafe(ctx, env, r.s.Host); err != nil {
			return fmt.Errorf("restart journalnode: %w", err)
		}
	}
	if err := superviseStop(ctx, env, r.s.Host, stop, r.s.Record != ""); err != nil {
		return fmt.Errorf("restart %s: stop %s: %w", d.name, stop, err)
	}
	if err := claimPorts(ctx, env, r.s.Host, d.name); err != nil {
		return fmt.Errorf("restart %s: %w", d.name, err)
	}
	if err := superviseStart(ctx, env, r.s.Host, d); err != nil {
		return fmt.Errorf("restart %s: start: %w", d.name, err)
	}
	if err := waitReady(ctx, env, r.s.Host, d.name); err != nil {
		return err
	}
	// A ZooKeeper server that answers ruok may still be looking for its
	// leader; the next server may only go down once this one serves again,
	// or the ensemble loses its quorum.
	if d.id.Kind == daemon.ZooKeeper && env.ZooKeeperServing != nil && !env.Guard.DryRun {
		if err := env.ZooKeeperServing(ctx, env, r.s.Host); err != nil {
			return fmt.Errorf("restart zookeeper: %w", err)
		}
	}
	if d.id.Kind == daemon.JournalNode && env.JournalInSync != nil && !env.Guard.DryRun {
		if err := env.JournalInSync(ctx, env, r.s.Host); err != nil {
			return fmt.Errorf("restart journalnode: %w", err)
		}
	}
	return nil
}
