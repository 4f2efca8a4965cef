package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/planner"
)

// failover makes the step's NameNode active: with automatic failover through
// its ZKFC's gracefulFailover (the current active's ZKFC cedes first), else
// by hand with haadmin (every other NameNode to standby, then this one to
// active). It waits until the NameNode reports active. With DataNodes it
// first waits until that NameNode has left safe mode.
type failover struct{ s *planner.Step }

func init() {
	register(planner.ActFailover, func(s *planner.Step) Runner { return &failover{s} })
}

func (r *failover) Title() string { return r.s.Title() }

func (r *failover) Run(ctx context.Context, env *Env) error {
	c := env.Cluster
	ns := c.Nameservice(r.s.Nameservice)
	if ns == nil || ns.NameNode(r.s.NameNode) == nil {
		return fmt.Errorf("failover: no NameNode %s in the configuration", r.s.Subject())
	}
	// A NameNode just restarted over blocks is in safe mode until the
	// DataNodes reported them: the active stays until it is out.
	if err := waitSafeModeOff(ctx, env, ns.Name, r.s.NameNode); err != nil {
		return fmt.Errorf("failover to %s: %w", r.s.NameNode, err)
	}
	if !ns.AutomaticFailover {
		// Once a NameNode went standby the step runs to its end even when
		// apply is interrupted (bounded by its own timeout): stopping between
		// the two halves would leave the nameservice with no active NameNode,
		// and with manual failover nothing would bring one back.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*env.readyTimeout()+30*time.Second)
		defer cancel()
		p := env.paths(r.s.Host)
		haadmin := func(flag, id string) error {
			return env.wetArgs(ctx, r.s.Host, p.Binary, "runtime", "haadmin", "--conf", p.ConfDir, "-ns", ns.Name, flag, id)
		}
		for _, nn := range ns.NameNodes {
			if nn.ID == r.s.NameNode {
				continue
			}
			if err := haadmin("-transitionToStandby", nn.ID); err != nil {
				err = fmt.Errorf("failover: make %s standby: %w", nn.ID, err)
				// Interrupted or cut off after it took effect, nn is standby
				// now: the step's NameNode takes over, as the step meant.
				// When nn's state is not known to be standby, nothing more
				// is changed (it may still be the active).
				if !reportsStandby(ctx, env, ns.Name, nn.ID) {
					return err
				}
				if aerr := haadmin("-transitionToActive", r.s.NameNode); aerr != nil {
					return errors.Join(err, fmt.Errorf("then making %s active: %w; nameservice %s may have no active NameNode: "+
						"run apply again or `hactl runtime haadmin -ns %s -transitionToActive <id>`", r.s.NameNode, aerr, ns.Name, ns.Name))
				}
				return err
			}
		}
		if err := haadmin("-transitionToActive", r.s.NameNode); err != nil {
			return fmt.Errorf("failover: make %s active: %w; nameservice %s may have no active NameNode: "+
				"run apply again or `hactl runtime haadmin -ns %s -transitionToActive <id>`", r.s.NameNode, err, ns.Name, ns.Name)
		}
		return waitActive(ctx, env, ns.Name, r.s.NameNode)
	}
	zkfc, err := ZKFCAddr(c, ns.Name, r.s.NameNode)
	if err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	client, err := env.client(ctx)
	if err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	err = env.Guard.Wet(r.s.Host, "POST http://"+zkfc+"/zkfc/gracefulFailover (make "+r.s.NameNode+" active)", func() error {
		// A ZKFC restarted a moment ago may not have joined the election
		// yet: retry for a bounded time.
		deadline := env.now().Add(min(env.readyTimeout(), 60*time.Second))
		for {
			err := GracefulFailover(ctx, client, zkfc)
			if err == nil || ctx.Err() != nil || !env.now().Before(deadline) {
				return err
			}
			if err := env.sleep(ctx, time.Second); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return fmt.Errorf("failover to %s: %w", r.s.NameNode, err)
	}
	return waitActive(ctx, env, ns.Name, r.s.NameNode)
}

// waitActive polls until NameNode id reports active (skipped in a dry run).
func waitActive(ctx context.Context, env *Env, ns, id string) error {
	if env.Guard.DryRun {
		return nil
	}
	hp, err := NameNodeHTTPAddr(env.Cluster, ns, id)
	if err != nil {
		return err
	}
	client, err := env.client(ctx)
	if err != nil {
		return err
	}
	deadline := env.now().Add(env.readyTimeout())
	for {
		st, err := GetHAStatus(ctx, client, hp)
		if err == nil && st.State == "active" {
			return nil
		}
		if env.now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("state %s", st.State)
			}
			return fmt.Errorf("NameNode %s/%s did not become active: %w", ns, id, err)
		}
		if err := env.sleep(ctx, 300e6); err != nil {
			return err
		}
	}
}

// reportsStandby says whether NameNode id answers that it is standby.
func reportsStandby(ctx context.Context, env *Env, ns, id string) bool {
	if env.Guard.DryRun {
		return false
	}
	hp, err := NameNodeHTTPAddr(env.Cluster, ns, id)
	if err != nil {
		return false
	}
	client, err := env.client(ctx)
	if err != nil {
		return false
	}
	st, err := GetHAStatus(ctx, client, hp)
	return err == nil && st.State == "standby"
}
