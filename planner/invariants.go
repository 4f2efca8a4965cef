package planner

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

// ErrInvariant marks a plan that breaks one of the safety invariants
// (README.md, "How apply keeps data safe"). Plan checks its own output and returns this rather than an
// unsafe plan: it is a planner bug, never an operator error.
var ErrInvariant = errors.New("plan breaks a safety invariant")

// CheckInvariants replays plan over observed and reports the first broken
// invariant: a format over data, a bootstrap onto data or without a
// formatted peer, a formatZK over an existing znode, more than one NameNode
// or more than (N-1)/2 JournalNodes down at once, the active NameNode
// restarted without a failover first, or a step on an unreachable host.
func CheckInvariants(c *schema.Cluster, obs *Observed, plan *ClusterPlan) error {
	if plan == nil || plan.Destroy {
		return nil
	}
	if obs == nil {
		obs = &Observed{}
	}
	fail := func(s *Step, format string, args ...any) error {
		return fmt.Errorf("%w: step %s: %s", ErrInvariant, s.ID, fmt.Sprintf(format, args...))
	}
	host := func(name string) *ObservedHost {
		if obs.Hosts == nil {
			return nil
		}
		return obs.Hosts[name]
	}
	reachable := func(name string) bool { h := host(name); return h != nil && h.Reachable }
	running := func(h, d string) bool {
		oh := host(h)
		return oh != nil && oh.Reachable && oh.Daemons[d] != nil && oh.Daemons[d].Running
	}
	nnObs := func(h, ns, id string) *ObservedNameNode {
		oh := host(h)
		if oh == nil || !oh.Reachable {
			return nil
		}
		return oh.NameNodes[NameNodeKey(ns, id)]
	}

	// Simulated state: which NameNodes serve (running on formatted storage),
	// which JournalNodes run, who is active, what is formatted.
	nnUp := map[string]bool{}
	nnFormatted := map[string]bool{}
	active := map[string]string{}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			k := NameNodeKey(ns.Name, nn.ID)
			o := nnObs(nn.Host, ns.Name, nn.ID)
			nnFormatted[k] = o != nil && o.Formatted
			nnUp[k] = running(nn.Host, daemon.NameNodeID(ns.Name, nn.ID).Name()) && nnFormatted[k]
			if o != nil && o.HAState == "active" && nnUp[k] {
				active[ns.Name] = nn.ID
			}
		}
	}
	jnHosts := JournalHosts(c)
	jnUp := map[string]bool{}
	for _, h := range jnHosts {
		jnUp[h] = running(h, daemon.Host(daemon.JournalNode).Name())
	}
	jnLimit := quorumBudget(len(jnHosts))
	// A changed JournalNode set must be synced before a NameNode writes to it.
	journalMoves, journalSynced := map[string]bool{}, map[string]bool{}
	for _, ns := range c.Nameservices {
		_, journalMoves[ns.Name] = JournalSetChange(c, obs, ns)
	}
	firstWriter := func(s *Step) error {
		if journalMoves[s.Nameservice] && !journalSynced[s.Nameservice] {
			return fail(s, "a NameNode of %s writes to the new JournalNode set before a majority of it holds the old writer's last txid (no sync-journal first)", s.Nameservice)
		}
		return nil
	}

	decommissioned := map[string]bool{} // DataNode hosts decommissioned so far
	for _, s := range plan.Steps {
		if !reachable(s.Host) {
			return fail(s, "host %s is unreachable", s.Host)
		}
		ns := c.Nameservice(s.Nameservice)
		k := NameNodeKey(s.Nameservice, s.NameNode)
		switch s.Action {
		case ActFormatNameNode:
			if ns == nil {
				return fail(s, "unknown nameservice")
			}
			if s.Force {
				nnFormatted[k] = true
				break
			}
			for _, nn := range ns.NameNodes {
				o := nnObs(nn.Host, ns.Name, nn.ID)
				if !reachable(nn.Host) || (o != nil && (o.Formatted || o.HasData)) {
					return fail(s, "format while NameNode %s holds data or cannot be probed", nn.ID)
				}
			}
			if ns.Journal != nil {
				for _, h := range ns.Journal.Hosts {
					oh := host(h)
					if !reachable(h) {
						return fail(s, "format while JournalNode %s cannot be probed", h)
					}
					if j := oh.JournalNodes[JournalID(ns)]; j != nil && (j.Formatted || j.HasData) {
						return fail(s, "format while JournalNode %s holds data", h)
					}
				}
			}
			for _, nn := range ns.NameNodes {
				if nnFormatted[NameNodeKey(ns.Name, nn.ID)] {
					return fail(s, "second format in nameservice %s", ns.Name)
				}
			}
			nnFormatted[k] = true
		case ActBootstrapStandby:
			if o := nnObs(s.Host, s.Nameservice, s.NameNode); o != nil && (o.Formatted || o.HasData) {
				return fail(s, "bootstrapStandby onto storage that holds data")
			}
			peer := false
			for _, nn := range ns.NameNodes {
				pk := NameNodeKey(ns.Name, nn.ID)
				peer = peer || (pk != k && nnFormatted[pk] && nnUp[pk])
			}
			if !peer {
				return fail(s, "bootstrapStandby without a formatted, running peer")
			}
			nnFormatted[k] = true
		case ActFormatZK:
			if z := obs.ZooKeeper; z != nil && z.Reachable && z.ParentZnodes[s.Nameservice] {
				return fail(s, "formatZK while the parent znode exists")
			}
		case ActStartNameNode:
			if !nnFormatted[k] {
				return fail(s, "start of an unformatted NameNode")
			}
			if ns != nil && !slices.ContainsFunc(ns.NameNodes, func(nn *schema.NameNode) bool { return nnUp[NameNodeKey(ns.Name, nn.ID)] }) {
				if err := firstWriter(s); err != nil {
					return err
				}
			}
			nnUp[k] = true
		case ActSyncJournal:
			journalSynced[s.Nameservice] = true
		case ActTransitionToActive:
			if err := firstWriter(s); err != nil {
				return err
			}
		case ActRestartNameNode, ActStopNameNode, ActRestartZKFC:
			if ns == nil || ns.NameNode(s.NameNode) == nil {
				break // a NameNode no longer in the configuration
			}
			if s.Action == ActRestartZKFC && !nnUp[k] {
				break
			}
			down := 0
			for _, nn := range ns.NameNodes {
				pk := NameNodeKey(ns.Name, nn.ID)
				if !nnUp[pk] && pk != k {
					down++
				}
			}
			if s.Action != ActRestartZKFC && down+1 > 1 && nnUp[k] {
				return fail(s, "%d NameNodes of %s would be down at once", down+1, ns.Name)
			}
			if active[ns.Name] == s.NameNode && len(ns.NameNodes) > 1 && nnUp[k] {
				return fail(s, "the active NameNode %s is taken down without a failover first", s.NameNode)
			}
			if s.Action == ActStopNameNode {
				nnUp[k] = false
			}
		case ActFailover:
			if err := firstWriter(s); err != nil {
				return err
			}
			active[s.Nameservice] = s.NameNode
			if !nnUp[k] {
				return fail(s, "failover to a NameNode that is not up")
			}
		case ActStartJournalNode:
			jnUp[s.Host] = true
		case ActRestartJournalNode:
			down := 0
			for _, h := range jnHosts {
				if !jnUp[h] && h != s.Host {
					down++
				}
			}
			if down+1 > jnLimit {
				return fail(s, "%d of %d JournalNodes would be down at once (at most %d)", down+1, len(jnHosts), jnLimit)
			}
		case ActStopJournalNode:
			if slices.Contains(jnHosts, s.Host) {
				return fail(s, "stops a JournalNode that is still in the configuration")
			}
		case ActDecommissionDataNode:
			decommissioned[s.Host] = true
		case ActStopDataNode:
			if c.DataNodeGroupOf(s.Host) != nil {
				return fail(s, "stops a DataNode that is still in the configuration")
			}
			if running(s.Host, daemon.Host(daemon.DataNode).Name()) && !decommissioned[s.Host] {
				return fail(s, "stops a running DataNode without decommissioning it first (its replicas would be lost until re-replicated)")
			}
		}
	}
	return nil
}
