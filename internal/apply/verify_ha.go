package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hactl/hactl/planner"
)

// verifyHA waits until exactly one NameNode of the nameservice is active and
// every other one standby (read-only; skipped in a dry run).
type verifyHA struct{ s *planner.Step }

func init() {
	register(planner.ActVerifyHA, func(s *planner.Step) Runner { return &verifyHA{s} })
}

func (r *verifyHA) Title() string { return r.s.Title() }

func (r *verifyHA) Run(ctx context.Context, env *Env) error {
	if env.Guard.DryRun {
		return nil
	}
	ns := env.Cluster.Nameservice(r.s.Nameservice)
	if ns == nil {
		return fmt.Errorf("verify: no nameservice %q", r.s.Nameservice)
	}
	client, err := env.client(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	deadline := env.now().Add(env.readyTimeout())
	for {
		states := map[string]string{}
		active := 0
		ok := true
		for _, nn := range ns.NameNodes {
			hp, err := NameNodeHTTPAddr(env.Cluster, ns.Name, nn.ID)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			st, err := GetHAStatus(ctx, client, hp)
			switch {
			case err != nil:
				states[nn.ID], ok = "unreachable", false
			case st.State == "active":
				states[nn.ID] = st.State
				active++
			case st.State == "standby":
				states[nn.ID] = st.State
			default:
				states[nn.ID], ok = st.State, false
			}
		}
		if ok && active == 1 {
			return nil
		}
		if env.now().After(deadline) {
			var parts []string
			for id, s := range states {
				parts = append(parts, id+"="+s)
			}
			sort.Strings(parts)
			return fmt.Errorf("verify %s: want exactly one active NameNode and the rest standby, have %s", ns.Name, strings.Join(parts, ", "))
		}
		if err := env.sleep(ctx, 500e6); err != nil {
			return err
		}
	}
}
