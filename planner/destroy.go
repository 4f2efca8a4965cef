package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/schema"
)

// DestroyOptions tune a destroy plan.
type DestroyOptions struct {
	// PurgeData also removes NameNode, JournalNode and ZooKeeper data dirs.
	PurgeData bool
}

// PlanDestroy returns the steps that stop every daemon and remove what hactl
// installed: ZKFCs, then standby NameNodes, then the active ones, then
// JournalNodes and ZooKeeper, then configs and the binary. Data dirs stay
// unless opts.PurgeData. Unreachable hosts are skipped with a warning.
func PlanDestroy(c *schema.Cluster, obs *Observed, opts DestroyOptions) (*ClusterPlan, error) {
	if c == nil {
		return nil, fmt.Errorf("plan destroy: %w: no cluster", ErrInvalidConfig)
	}
	if obs == nil {
		obs = &Observed{}
	}
	p := &planner{c: c, obs: obs, plan: &ClusterPlan{Destroy: true}, ids: map[string]bool{}, unreachable: map[string]bool{}}
	for _, h := range c.Hosts {
		if !p.reachable(h.Name) {
			p.unreachable[h.Name] = true
			p.warn("host %s is unreachable: nothing of hactl is removed from it; re-run destroy when it is back", h.Name)
		}
	}
	stop := func(host, daemon string, act Action, ns, nn string) {
		if p.unreachable[host] || !p.running(host, daemon) {
			return
		}
		p.add(&Step{Host: host, Action: act, Daemon: daemon, Nameservice: ns, NameNode: nn, Disruptive: true,
			Reason: "destroy: stop " + daemon})
	}
	// Every daemon of every host, whether the configuration still names it
	// or not: destroy leaves nothing of hactl running.
	byRank := func(rank int) {
		for _, h := range c.Hosts {
			if p.unreachable[h.Name] {
				continue
			}
			oh := p.host(h.Name)
			names := sortedKeys(oh.Daemons)
			// Standby NameNodes before the active one, so clients see at
			// most one failover-free shutdown.
			if rank == 1 {
				slices.SortStableFunc(names, func(a, b string) int { return activeRank(oh, a) - activeRank(oh, b) })
			}
			for _, name := range names {
				switch {
				case rank == 0 && strings.HasPrefix(name, "zkfc-"):
					stop(h.Name, name, ActStopZKFC, nsOfDaemon(c, h.Name, name), strings.TrimPrefix(name, "zkfc-"))
				case rank == 1 && strings.HasPrefix(name, "namenode-"):
					stop(h.Name, name, ActStopNameNode, nsOfDaemon(c, h.Name, name), strings.TrimPrefix(name, "namenode-"))
				case rank == 2 && name == DaemonJournalNode:
					stop(h.Name, name, ActStopJournalNode, "", "")
				case rank == 3 && name == DaemonZooKeeper:
					stop(h.Name, name, ActStopZooKeeper, "", "")
				}
			}
		}
	}
	for rank := 0; rank < 4; rank++ {
		byRank(rank)
	}
	for _, h := range c.Hosts {
		if p.unreachable[h.Name] {
			continue
		}
		oh := p.host(h.Name)
		if len(oh.ConfigSHA256) > 0 {
			p.add(&Step{Host: h.Name, Action: ActRemoveConfig, Reason: "destroy: remove hactl's configuration, logs and pid files"})
		}
		if oh.RuntimeSHA256 != "" {
			p.add(&Step{Host: h.Name, Action: ActRemoveRuntime, Reason: "destroy: remove the hactl binary"})
		}
		if opts.PurgeData && hostHasData(oh) {
			p.add(&Step{Host: h.Name, Action: ActPurgeData, PurgeData: true, Disruptive: true,
				Reason: "--purge-data: DELETE NameNode, JournalNode and ZooKeeper data dirs"})
		}
	}
	if !opts.PurgeData {
		for _, h := range c.Hosts {
			if !p.unreachable[h.Name] && hostHasData(p.host(h.Name)) {
				p.warn("data dirs stay (NameNode, JournalNode, ZooKeeper); destroy --purge-data removes them too")
				break
			}
		}
	}
	return p.plan, nil
}

func activeRank(oh *ObservedHost, daemon string) int {
	id := strings.TrimPrefix(daemon, "namenode-")
	for _, nn := range oh.NameNodes {
		if nn.ID == id && nn.HAState == "active" {
			return 1
		}
	}
	return 0
}

func nsOfDaemon(c *schema.Cluster, host, daemon string) string {
	id := daemon[strings.Index(daemon, "-")+1:]
	for _, ns := range c.Nameservices {
		if nn := ns.NameNode(id); nn != nil && nn.Host == host {
			return ns.Name
		}
	}
	return ""
}

func hostHasData(oh *ObservedHost) bool {
	if oh == nil {
		return false
	}
	for _, nn := range oh.NameNodes {
		if nn.Formatted || nn.HasData {
			return true
		}
	}
	for _, j := range oh.JournalNodes {
		if j.Formatted || j.HasData {
			return true
		}
	}
	return oh.Daemons[DaemonZooKeeper] != nil || oh.ConfigSHA256[FileZooCfg] != ""
}
