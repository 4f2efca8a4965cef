package planner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
)

// dataNodes starts every configured DataNode that is not running, after the
// NameNodes this plan starts (a DataNode registers with every NameNode), and
// restarts the ones whose configuration or binary changed one at a time:
// each restart waits until the DataNode is registered with the NameNodes
// again before the next goes down, so no block loses two replicas at once.
func (p *planner) dataNodes() {
	hosts := p.c.DataNodeHosts()
	if len(hosts) == 0 {
		return
	}
	id := daemon.Host(daemon.DataNode)
	var nnStarts []string
	for _, k := range sortedKeys(p.startedNN) {
		nnStarts = append(nnStarts, p.startedNN[k])
	}
	var restart []string
	for _, host := range hosts {
		if p.unreachable[host] {
			continue
		}
		if !p.running(host, id) {
			deps := append(slices.Clone(p.hostPrep[host]), nnStarts...)
			p.add(&Step{Host: host, Action: ActStartDataNode, Daemon: id.Name(), Reason: "DataNode is not running"}, deps...)
		} else if p.restartReason(host, id) != "" {
			restart = append(restart, host)
		}
	}
	if len(restart) > 0 && p.c.EffectiveReplication() == 1 {
		p.warn("replication is 1: while a DataNode restarts, the blocks it holds cannot be read")
	}
	for _, host := range restart {
		p.add(&Step{Host: host, Action: ActRestartDataNode, Daemon: id.Name(), Disruptive: true,
			Reason: p.restartReason(host, id) + "; one DataNode at a time, each registered with the NameNodes again before the next"},
			p.hostPrep[host]...)
	}
}

// dataNodeRemovals checks what removing DataNodes from the configuration
// would do before any step is planned: with no DataNode left, the blocks of
// the ones still running would have nowhere to go.
func (p *planner) dataNodeRemovals() error {
	if p.c.HasDataNodes() {
		return nil
	}
	var running []string
	for _, h := range p.c.Hosts {
		if p.unreachable[h.Name] {
			continue
		}
		if d := p.daemon(h.Name, daemon.Host(daemon.DataNode)); d != nil && d.Supervised() {
			running = append(running, h.Name)
		}
	}
	if len(running) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the configuration declares no DataNode, but DataNodes run on %s: their blocks would have nowhere to go. Keep at least %d DataNodes (the replication) in datanode blocks; decommission hosts by removing them from a datanode block, or destroy the cluster",
		ErrDataLoss, strings.Join(running, ", "), p.c.EffectiveReplication())
}

// ErrDataLoss marks a plan refused because it would lose stored data.
var ErrDataLoss = errors.New("the plan would lose data")

// decommission plans the decommission of the DataNode on host before its
// stop and returns the step's ID ("" when it is not decommissioned: a
// DataNode that is not up holds no readable replica; the NameNodes
// re-replicate its blocks once they declare it dead).
func (p *planner) decommission(host string) string {
	if d := p.daemon(host, daemon.Host(daemon.DataNode)); d == nil || !d.Running {
		p.warn("the DataNode on %s is removed but not running: it is stopped without decommission; the NameNodes re-replicate its blocks from other replicas once they declare it dead", host)
		return ""
	}
	var nnHosts []string
	for _, ns := range p.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if p.unreachable[nn.Host] && !slices.Contains(nnHosts, nn.Host) {
				nnHosts = append(nnHosts, nn.Host)
			}
		}
	}
	if len(nnHosts) > 0 {
		p.warn("the DataNode on %s is removed, but NameNode host(s) %s are unreachable: its decommission and stop are deferred (every NameNode must exclude it first)", host, strings.Join(nnHosts, ", "))
		return "-"
	}
	// The NameNodes finish a decommission only once every block has its
	// replication on the DataNodes that stay; with fewer reachable than the
	// replication it would wait forever.
	live := 0
	for _, h := range p.c.DataNodeHosts() {
		if !p.unreachable[h] {
			live++
		}
	}
	if r := p.c.EffectiveReplication(); live < r {
		p.warn("decommissioning the DataNode on %s needs %d DataNodes to hold every block's replicas, but only %d of the configured ones are reachable: it waits until enough are up", host, r, live)
	}
	return p.add(&Step{Host: host, Action: ActDecommissionDataNode, Daemon: daemon.Host(daemon.DataNode).Name(),
		Reason: fmt.Sprintf("the DataNode is no longer in the configuration: add %s to dfs.hosts.exclude on the NameNodes and wait until its replicas live on other DataNodes", p.c.HostAddr(host))})
}
