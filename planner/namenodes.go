package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

// nnState is what the planner knows of one desired NameNode while planning
// its nameservice.
type nnState struct {
	nn        *schema.NameNode
	host      string
	reachable bool
	formatted bool // current/VERSION present (or formatted/bootstrapped by this plan)
	hasData   bool
	running   bool
	zkfc      bool // its ZKFC is running
	haState   string
	clusterID string

	startID string // step that starts it in this plan
	prepID  string // format or bootstrap step in this plan
}

func (s *nnState) up() bool { return s.running || s.startID != "" }

// zkUsable reports whether ZooKeeper is, or will be after this plan, up.
func (p *planner) zkUsable() bool {
	zk := p.c.ZooKeeper
	if zk == nil {
		return false
	}
	if z := p.obs.ZooKeeper; z != nil && z.Reachable {
		return true
	}
	if !zk.Managed {
		return false
	}
	up := 0
	for _, s := range zk.Servers {
		if !p.unreachable[s] && p.c.Host(s) != nil {
			up++
		}
	}
	return up > len(zk.Servers)/2
}

func (p *planner) nameservice(ns *schema.Nameservice) {
	before := len(p.plan.Steps)
	var nns []*nnState
	for _, nn := range ns.NameNodes {
		st := &nnState{nn: nn, host: nn.Host, reachable: !p.unreachable[nn.Host] && p.c.Host(nn.Host) != nil}
		if st.reachable {
			if o := p.observedNN(nn.Host, ns.Name, nn.ID); o != nil {
				st.formatted, st.hasData, st.haState, st.clusterID = o.Formatted, o.HasData, o.HAState, o.ClusterID
			}
			st.running = p.running(nn.Host, daemon.NameNodeID(ns.Name, nn.ID))
			st.zkfc = p.running(nn.Host, daemon.ZKFCID(ns.Name, nn.ID))
		}
		nns = append(nns, st)
	}
	jid := JournalID(ns)
	var jnHosts []string
	if ns.Journal != nil {
		jnHosts = ns.Journal.Hosts
	}

	// What holds data, and what cannot be known.
	var unknown, holders []string
	anyFormatted := false
	clusterIDs := map[string][]string{}
	for _, st := range nns {
		switch {
		case !st.reachable:
			unknown = append(unknown, fmt.Sprintf("NameNode %s on %s", st.nn.ID, st.host))
		case st.formatted:
			anyFormatted = true
			holders = append(holders, fmt.Sprintf("NameNode %s", st.nn.ID))
			clusterIDs[st.clusterID] = append(clusterIDs[st.clusterID], st.nn.ID)
		case st.hasData:
			holders = append(holders, fmt.Sprintf("NameNode %s", st.nn.ID))
		}
	}
	for _, h := range jnHosts {
		if p.unreachable[h] {
			unknown = append(unknown, fmt.Sprintf("JournalNode on %s", h))
			continue
		}
		if j := p.observedJournal(h, jid); j != nil && (j.Formatted || j.HasData) {
			holders = append(holders, fmt.Sprintf("JournalNode on %s", h))
		}
	}
	if len(clusterIDs) > 1 {
		p.warn("nameservice %s: the NameNodes' storage belongs to different clusters (%s); hactl will not bootstrap or restart over it, inspect the storage dirs", ns.Name, describeClusterIDs(clusterIDs))
	}

	var jnDeps []string
	for _, h := range jnHosts {
		if id := p.jnStarted[h]; id != "" {
			jnDeps = append(jnDeps, id)
		}
	}

	// 1. The one NameNode that is (or becomes) the source of the namespace.
	var primary *nnState
	var formatID string
	if anyFormatted {
		for _, pick := range []func(*nnState) bool{
			func(s *nnState) bool { return s.formatted && s.reachable && s.haState == "active" },
			func(s *nnState) bool { return s.formatted && s.reachable && s.running },
			func(s *nnState) bool { return s.formatted && s.reachable },
		} {
			for _, st := range nns {
				if primary == nil && pick(st) {
					primary = st
				}
			}
		}
		if primary == nil {
			p.warn("nameservice %s: every formatted NameNode is unreachable; bootstrapStandby and NameNode starts are deferred", ns.Name)
		}
	} else {
		force := false
		switch {
		case len(nns) == 0:
		case len(unknown) > 0:
			p.warn("nameservice %s: not formatting: %s cannot be probed, so hactl cannot tell whether all storage is empty", ns.Name, strings.Join(unknown, ", "))
		case len(holders) > 0 && !p.opts.ForceFormat:
			p.warn("nameservice %s: no NameNode is formatted but %s hold(s) data; hactl never formats over data. Restore a NameNode's storage (then apply bootstraps the others), or re-run with --force-format to DESTROY it", ns.Name, strings.Join(holders, ", "))
		default:
			force = len(holders) > 0
			primary = nns[0]
			s := &Step{Host: primary.host, Action: ActFormatNameNode, Nameservice: ns.Name, NameNode: primary.nn.ID, Force: force,
				Reason: fmt.Sprintf("every NameNode storage dir and every JournalNode of journal %s is empty: format this one NameNode", jid)}
			if force {
				s.Disruptive = true
				s.Reason = fmt.Sprintf("FORCED (--force-format): %s hold(s) data that this format DESTROYS", strings.Join(holders, ", "))
			}
			if ns.Journal == nil {
				p.warn("nameservice %s: its JournalNodes (shared_edits) are not managed by hactl; format relies on the runtime's own check that they are empty", ns.Name)
			}
			formatID = p.add(s, append(append([]string{}, p.hostPrep[primary.host]...), jnDeps...)...)
			primary.formatted, primary.prepID = true, formatID
		}
	}
	if len(clusterIDs) > 1 {
		primary = nil
	}

	// 2. Start it, so that the others can copy its image.
	if primary != nil && !primary.running {
		syncID := ""
		if !slices.ContainsFunc(nns, func(s *nnState) bool { return s.running && s.formatted }) {
			// It will be the first writer on the configured JournalNodes.
			syncID = p.syncJournal(ns, nil, jnDeps...)
		}
		primary.startID = p.add(&Step{Host: primary.host, Action: ActStartNameNode, Nameservice: ns.Name, NameNode: primary.nn.ID,
			Daemon: daemon.NameNodeID(ns.Name, primary.nn.ID).Name(), Reason: "NameNode is not running"},
			append(append([]string{formatID, syncID}, p.hostPrep[primary.host]...), jnDeps...)...)
	}

	// 3. bootstrapStandby on every other empty NameNode.
	for _, st := range nns {
		if st == primary || !st.reachable || st.formatted {
			continue
		}
		if st.hasData {
			p.warn("nameservice %s: NameNode %s's storage holds data but no current/VERSION; hactl neither formats nor bootstraps over it: inspect and empty it", ns.Name, st.nn.ID)
			continue
		}
		if primary == nil {
			if anyFormatted {
				p.warn("nameservice %s: NameNode %s needs bootstrapStandby but no formatted peer is reachable", ns.Name, st.nn.ID)
			}
			continue
		}
		deps := append([]string{primary.startID, formatID}, p.hostPrep[st.host]...)
		if st.running || p.daemon(st.host, daemon.NameNodeID(ns.Name, st.nn.ID)).Supervised() {
			// A NameNode running on wiped storage serves nothing; it must
			// stop before bootstrapStandby fills its dirs. So must one whose
			// supervisor keeps restarting it there (crash-looping on the
			// empty dirs): a restart in the middle of the copy would start
			// it on half a namespace.
			why := "its storage is empty (wiped?) while it runs: stop it so bootstrapStandby can fill it"
			if !st.running {
				why = "its storage is empty (wiped?) and its supervisor keeps restarting it there: stop it so bootstrapStandby can fill it"
			}
			deps = append(deps, p.add(&Step{Host: st.host, Action: ActStopNameNode, Change: ChangeReplace, Nameservice: ns.Name, NameNode: st.nn.ID,
				Daemon: daemon.NameNodeID(ns.Name, st.nn.ID).Name(), Disruptive: true, Reason: why}))
			p.stoppedNN[NameNodeKey(ns.Name, st.nn.ID)] = true
			st.running = false
		}
		st.prepID = p.add(&Step{Host: st.host, Action: ActBootstrapStandby, Nameservice: ns.Name, NameNode: st.nn.ID,
			Reason: fmt.Sprintf("storage is empty: copy the namespace from formatted peer %s (bootstrapStandby; never format)", primary.nn.ID)}, deps...)
		st.formatted = true
	}

	// 4. formatZK, only when the parent znode is absent.
	zkOK := false
	var formatZKID string
	if ns.AutomaticFailover {
		zkOK = p.zkUsable()
		znode := p.c.HAZnode(ns.Name)
		// formatZK runs on the primary's host, once there is a namespace.
		var host string
		if primary != nil && primary.reachable {
			host = primary.host
		}
		switch z := p.obs.ZooKeeper; {
		case !zkOK:
			p.warn("nameservice %s: ZooKeeper is not usable, so formatZK and the ZKFCs are left out (automatic failover stays off until it is)", ns.Name)
		case host == "":
		case z != nil && z.Reachable && z.ParentZnodes[ns.Name]:
		case z != nil && z.Reachable:
			formatZKID = p.add(&Step{Host: host, Action: ActFormatZK, Nameservice: ns.Name,
				Reason: fmt.Sprintf("parent znode %s is absent", znode)}, append(append([]string{}, p.zkStartSteps...), p.hostPrep[host]...)...)
		default:
			formatZKID = p.add(&Step{Host: host, Action: ActFormatZK, Nameservice: ns.Name,
				Reason: fmt.Sprintf("ZooKeeper was not up when planned, so %s cannot exist yet; formatZK runs non-interactively and leaves an existing znode alone", znode)},
				append(append([]string{}, p.zkStartSteps...), p.hostPrep[host]...)...)
		}
	}

	// 5. Start the other NameNodes.
	if primary != nil {
		for _, st := range nns {
			if st == primary || !st.reachable || st.running || !st.formatted {
				continue
			}
			st.startID = p.add(&Step{Host: st.host, Action: ActStartNameNode, Nameservice: ns.Name, NameNode: st.nn.ID,
				Daemon: daemon.NameNodeID(ns.Name, st.nn.ID).Name(), Reason: "NameNode is not running"},
				append(append([]string{st.prepID, primary.startID}, p.hostPrep[st.host]...), jnDeps...)...)
		}
	}

	// 6. ZKFCs (the primary's first, so it wins the first election), or a
	// manual transition when automatic failover is off.
	if zkOK && primary != nil {
		for _, st := range append([]*nnState{primary}, nns...) {
			if !st.reachable || st.zkfc || !st.up() {
				continue
			}
			st.zkfc = true
			p.add(&Step{Host: st.host, Action: ActStartZKFC, Nameservice: ns.Name, NameNode: st.nn.ID,
				Daemon: daemon.ZKFCID(ns.Name, st.nn.ID).Name(), Reason: "ZKFC is not running"},
				append([]string{st.startID, formatZKID}, p.hostPrep[st.host]...)...)
		}
	}
	if !ns.AutomaticFailover && primary != nil {
		active := false
		for _, st := range nns {
			active = active || (st.reachable && st.haState == "active")
		}
		if !active {
			p.add(&Step{Host: primary.host, Action: ActTransitionToActive, Nameservice: ns.Name, NameNode: primary.nn.ID,
				Reason: "automatic failover is off and no NameNode is active"}, primary.startID)
		}
	}

	// 7. Roll the running NameNodes whose configuration or binary changed.
	if len(clusterIDs) <= 1 {
		p.rollNameNodes(ns, nns)
	}

	if len(p.plan.Steps) > before && primary != nil {
		p.verify = append(p.verify, &Step{Host: primary.host, Action: ActVerifyHA, Nameservice: ns.Name,
			Reason: "exactly one NameNode active, the others standby"})
	}
}

func describeClusterIDs(m map[string][]string) string {
	var parts []string
	for _, id := range sortedKeys(m) {
		name := id
		if name == "" {
			name = "(no clusterID)"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", name, strings.Join(m[id], ",")))
	}
	return strings.Join(parts, "; ")
}

// rollNameNodes restarts standbys first, then fails over gracefully, then
// restarts the old active: never more than one NameNode down at once.
func (p *planner) rollNameNodes(ns *schema.Nameservice, nns []*nnState) {
	type roll struct {
		st           *nnState
		nnWhy, zkWhy string
	}
	var rolls []roll
	for _, st := range nns {
		if !st.reachable || !st.running || p.stoppedNN[NameNodeKey(ns.Name, st.nn.ID)] {
			continue
		}
		r := roll{st: st, nnWhy: p.restartReason(st.host, daemon.NameNodeID(ns.Name, st.nn.ID))}
		if st.zkfc && st.startID == "" {
			r.zkWhy = p.restartReason(st.host, daemon.ZKFCID(ns.Name, st.nn.ID))
		}
		if r.nnWhy != "" || r.zkWhy != "" {
			rolls = append(rolls, r)
		}
	}
	if len(rolls) == 0 {
		return
	}
	var down []string
	for _, st := range nns {
		if !st.reachable || !st.up() || !st.formatted {
			down = append(down, st.nn.ID)
		}
	}
	if len(down) > 0 {
		p.warn("nameservice %s: restarts deferred: NameNode %s is down, and hactl never has more than one NameNode down at once", ns.Name, strings.Join(down, ", "))
		return
	}
	restart := func(r roll) string {
		var last string
		if r.nnWhy != "" {
			last = p.add(&Step{Host: r.st.host, Action: ActRestartNameNode, Nameservice: ns.Name, NameNode: r.st.nn.ID,
				Daemon: daemon.NameNodeID(ns.Name, r.st.nn.ID).Name(), Disruptive: true, Reason: r.nnWhy + "; restarted as a standby"}, p.hostPrep[r.st.host]...)
		}
		if r.zkWhy != "" {
			why := r.zkWhy
			last = p.add(&Step{Host: r.st.host, Action: ActRestartZKFC, Nameservice: ns.Name, NameNode: r.st.nn.ID,
				Daemon: daemon.ZKFCID(ns.Name, r.st.nn.ID).Name(), Disruptive: true, Reason: why}, last)
		}
		return last
	}
	var active *roll
	var restarted []*nnState
	knownActive := false
	for _, st := range nns {
		knownActive = knownActive || st.haState == "active"
	}
	if !knownActive {
		p.warn("nameservice %s: no NameNode reports itself active; restarts roll in declaration order", ns.Name)
	}
	for i := range rolls {
		r := rolls[i]
		if r.st.haState == "active" {
			active = &rolls[i]
			continue
		}
		restart(r)
		restarted = append(restarted, r.st)
	}
	if active == nil {
		return
	}
	// Fail over to a standby that already runs the new configuration, else
	// any running standby.
	var to *nnState
	for _, st := range append(restarted, nns...) {
		if to == nil && st != active.st && st.reachable && st.up() && st.formatted {
			to = st
		}
	}
	if to == nil {
		p.warn("nameservice %s: NameNode %s is the only NameNode: its restart is an outage", ns.Name, active.st.nn.ID)
		restart(*active)
		return
	}
	// The writer moves to the new configuration here: a changed JournalNode
	// set is brought up to date first, with writes paused.
	p.syncJournal(ns, to)
	how := "graceful failover through the ZKFCs"
	if !ns.AutomaticFailover {
		how = "manual failover: transitionToStandby, then transitionToActive"
	}
	p.add(&Step{Host: to.host, Action: ActFailover, Nameservice: ns.Name, NameNode: to.nn.ID, Disruptive: true,
		Reason: fmt.Sprintf("make %s active so %s can restart as a standby (%s)", to.nn.ID, active.st.nn.ID, how)})
	active.st.haState, to.haState = "standby", "active"
	restart(*active)
}
