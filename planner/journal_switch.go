package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/schema"
)

// JournalSetChange reports the JournalNodes that hold ns's journal now (the
// reachable hosts whose storage of it is formatted or holds edits) and
// whether they differ from the configured set. When they do, the NameNodes
// must not start writing to the configured set until a majority of it holds
// the last txid the old writer wrote: a write acknowledged by a majority of
// the old set (3 of 5, say) may sit on a single member of a new 3-node set,
// and recovery from the other two would lose it.
func JournalSetChange(c *schema.Cluster, obs *Observed, ns *schema.Nameservice) (holders []string, changed bool) {
	if ns.Journal == nil || obs == nil {
		return nil, false
	}
	jid := JournalID(ns)
	var want []string
	for _, h := range c.Hosts {
		oh := obs.Hosts[h.Name]
		if oh == nil || !oh.Reachable {
			continue
		}
		if slices.Contains(ns.Journal.Hosts, h.Name) {
			want = append(want, h.Name)
		}
		if j := oh.JournalNodes[jid]; j != nil && (j.Formatted || j.HasData) {
			holders = append(holders, h.Name)
		}
	}
	if len(holders) == 0 {
		return nil, false // no namespace yet: nothing to carry over
	}
	return holders, !slices.Equal(holders, want)
}

// syncJournal adds the step that brings a majority of ns's configured
// JournalNodes to the old writer's last txid before a NameNode writes to
// them. to is the NameNode that becomes the writer (the step hands over to
// it with writes paused), or nil when no NameNode runs.
func (p *planner) syncJournal(ns *schema.Nameservice, to *nnState, deps ...string) string {
	holders, changed := JournalSetChange(p.c, p.obs, ns)
	if !changed {
		return ""
	}
	host := ""
	for _, h := range ns.Journal.Hosts {
		if host == "" && !p.unreachable[h] && p.reachable(h) {
			host = h
		}
	}
	if host == "" && to == nil {
		return ""
	}
	s := &Step{Host: host, Action: ActSyncJournal, Nameservice: ns.Name, SyncFrom: holders, Disruptive: true}
	set := fmt.Sprintf("the JournalNode set changes (%s -> %s)", strings.Join(holders, ","), strings.Join(ns.Journal.Hosts, ","))
	if to != nil {
		s.Host, s.NameNode = to.host, to.nn.ID
		s.Reason = set + ": writes pause while a majority of the new set copies the writer's last txid, then " + to.nn.ID + " becomes active on it"
	} else {
		s.Reason = set + ": a majority of the new set copies the last txid before a NameNode starts on it"
	}
	return p.add(s, deps...)
}
