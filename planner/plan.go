package planner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

// Options tune a plan. The zero value plans a normal, safe apply.
type Options struct {
	// RuntimeSHA256 is the sha256 of the hactl binary apply installs; "" skips
	// the runtime comparison (plan without a binary at hand).
	RuntimeSHA256 string
	// RuntimeVersion is shown in reasons.
	RuntimeVersion string
	// ForceFormat allows format-namenode over storage that holds data. It
	// destroys the namespace; only an explicit --force-format sets it.
	ForceFormat bool
}

// ErrInvalidConfig is returned when the desired configuration cannot be
// planned against (a config with errors never yields a plan).
var ErrInvalidConfig = errors.New("the configuration has errors")

// Plan computes the ordered steps that take the observed hosts to the desired
// cluster. It is pure: no I/O, no clock.
func Plan(desired *schema.Cluster, observed *Observed, opts Options) (*ClusterPlan, error) {
	if desired == nil {
		return nil, fmt.Errorf("plan: %w: no cluster", ErrInvalidConfig)
	}
	d, err := RenderDesired(desired)
	if err != nil {
		return nil, fmt.Errorf("plan: %w: %w", ErrInvalidConfig, err)
	}
	return PlanDesired(d, observed, opts)
}

// PlanDesired is Plan over already rendered files.
func PlanDesired(d *Desired, observed *Observed, opts Options) (*ClusterPlan, error) {
	if observed == nil {
		observed = &Observed{}
	}
	p := &planner{
		c: d.Cluster, d: d, obs: observed, opts: opts,
		plan:          &ClusterPlan{},
		ids:           map[string]bool{},
		stopping:      map[string]bool{},
		writes:        map[string]map[string]bool{},
		installsBin:   map[string]string{},
		hostPrep:      map[string][]string{},
		startedNN:     map[string]string{},
		stoppedNN:     map[string]bool{},
		unreachable:   map[string]bool{},
		jnStarted:     map[string]string{},
		zkStartSteps:  nil,
		warnedOutages: map[string]bool{},
	}
	if err := p.run(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if err := CheckInvariants(d.Cluster, observed, p.plan); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return p.plan, nil
}

type planner struct {
	c    *schema.Cluster
	d    *Desired
	obs  *Observed
	opts Options
	plan *ClusterPlan
	ids  map[string]bool

	unreachable  map[string]bool
	writes       map[string]map[string]bool // host -> file name -> rewritten by this plan
	installsBin  map[string]string          // host -> install-runtime step ID
	hostPrep     map[string][]string        // host -> IDs of install/config steps (deps of daemon starts)
	jnStarted    map[string]string          // host -> start-journalnode step ID
	startedNN    map[string]string          // ns/nn -> start step ID
	stoppedNN    map[string]bool            // ns/nn stopped by this plan (and not restarted)
	zkStartSteps []string

	warnedOutages map[string]bool
	verify        []*Step         // verify-ha steps, appended at the end
	stopping      map[string]bool // "host/daemon" of removed daemons already planned to stop
}

func (p *planner) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !slices.Contains(p.plan.Warnings, msg) {
		p.plan.Warnings = append(p.plan.Warnings, msg)
	}
}

func (p *planner) add(s *Step, deps ...string) string {
	if s.Change == "" {
		s.Change = changeOf(s.Action)
	}
	id := string(s.Action) + "/" + s.Host
	if sub := s.Subject(); sub != "" {
		id += "/" + sub
	}
	for base, n := id, 2; p.ids[id]; n++ {
		id = fmt.Sprintf("%s#%d", base, n)
	}
	s.ID = id
	p.ids[id] = true
	// A daemon an earlier hactl runs under another record name: stopping
	// or restarting it goes through that record.
	if d := p.daemonByName(s.Host, s.Daemon); d != nil && d.Record != "" && s.Action != DaemonAction(VerbStart, kindOf(s.Daemon)) {
		s.Record = d.Record
	}
	for _, dep := range deps {
		if dep != "" && !slices.Contains(s.Depends, dep) {
			s.Depends = append(s.Depends, dep)
		}
	}
	p.plan.Steps = append(p.plan.Steps, s)
	return id
}

// changeOf is the step kind's Change (a create for an unknown action,
// which the executor refuses anyway).
func changeOf(a Action) Change {
	if k, ok := KindOf(a); ok {
		return k.Change
	}
	return ChangeCreate
}

func (p *planner) host(name string) *ObservedHost {
	if p.obs.Hosts == nil {
		return nil
	}
	return p.obs.Hosts[name]
}

func (p *planner) reachable(name string) bool {
	h := p.host(name)
	return h != nil && h.Reachable
}

func (p *planner) daemonByName(host, name string) *ObservedDaemon {
	h := p.host(host)
	if h == nil || h.Daemons == nil || name == "" {
		return nil
	}
	return h.Daemons[name]
}

func (p *planner) daemon(host string, id daemon.ID) *ObservedDaemon {
	return p.daemonByName(host, id.Name())
}

func (p *planner) running(host string, id daemon.ID) bool {
	d := p.daemon(host, id)
	return d != nil && d.Running
}

// kindOf is the kind of a supervisor name, current or legacy ("" unknown).
func kindOf(name string) daemon.Kind {
	k, _ := daemon.Of(name)
	return k
}

func (p *planner) observedNN(host, ns, id string) *ObservedNameNode {
	h := p.host(host)
	if h == nil || h.NameNodes == nil {
		return nil
	}
	return h.NameNodes[NameNodeKey(ns, id)]
}

func (p *planner) observedJournal(host, jid string) *ObservedJournal {
	h := p.host(host)
	if h == nil || h.JournalNodes == nil {
		return nil
	}
	return h.JournalNodes[jid]
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func (p *planner) run() error {
	if err := p.foreignStorage(); err != nil {
		return err
	}
	if err := p.dataNodeRemovals(); err != nil {
		return err
	}
	for _, h := range p.c.Hosts {
		p.hostFiles(h.Name)
	}
	// NameNodes (and their ZKFCs) leaving a nameservice that stays stop
	// first, while every other ZKFC still runs the configuration that
	// names them: one that is active (or becomes active while ZooKeeper
	// or the JournalNodes restart) hands over to a ZKFC that can still
	// reach its ZKFC and fence it. Stopped later, after the others
	// restarted without it, the lock or the breadcrumb could name a
	// NameNode no remaining ZKFC knows, and no failover could proceed.
	// Only while a configured NameNode of the nameservice runs over its
	// namespace: one that could be the last copy of it (a new one still
	// to bootstrap from it) stops at the end, as before.
	p.removed(func(kind daemon.Kind, ns string) bool {
		if kind != daemon.NameNode && kind != daemon.ZKFC {
			return false
		}
		n := p.c.Nameservice(ns)
		if n == nil {
			return false
		}
		_, ok := p.servingNameNode(n)
		return ok
	})
	p.zookeeper()
	p.journalNodes()
	for _, ns := range p.c.Nameservices {
		p.nameservice(ns)
	}
	p.dataNodes()
	p.removed(func(daemon.Kind, string) bool { return true })
	// The checks come last, after removed daemons stopped.
	for _, v := range p.verify {
		p.add(v)
	}
	return nil
}

// hostFiles plans the runtime binary and the Hadoop configuration of a host.
func (p *planner) hostFiles(host string) {
	oh := p.host(host)
	if oh == nil || !oh.Reachable {
		p.unreachable[host] = true
		why := "it was not probed"
		if oh != nil && oh.Error != "" {
			why = oh.Error
		}
		p.warn("host %s is unreachable (%s): nothing is planned on it, and no disruptive step that would need it; re-run plan when it is back", host, why)
		return
	}
	if want := p.opts.RuntimeSHA256; want != "" && oh.RuntimeSHA256 != want {
		s := &Step{Host: host, Action: ActInstallRuntime}
		ver := p.opts.RuntimeVersion
		if ver == "" {
			ver = "the local build"
		}
		if oh.RuntimeSHA256 == "" {
			s.Reason = fmt.Sprintf("hactl is not installed; install %s (sha256 %s)", ver, short(want))
		} else {
			s.Change = ChangeUpdate
			s.Reason = fmt.Sprintf("installed hactl %s (sha256 %s) differs from %s (sha256 %s)",
				orUnknown(oh.RuntimeVersion), short(oh.RuntimeSHA256), ver, short(want))
		}
		id := p.add(s)
		p.installsBin[host] = id
		p.hostPrep[host] = append(p.hostPrep[host], id)
	}
	dh := p.d.Hosts[host]
	var missing, differ []string
	for _, f := range []string{FileCoreSite, FileHDFSSite} {
		switch got := oh.ConfigSHA256[f]; {
		case got == "":
			missing = append(missing, f)
		case got != dh.SHA256[f]:
			differ = append(differ, f)
		}
	}
	secretMissing := oh.ConfigSHA256[FileSecret] == ""
	if len(missing)+len(differ) > 0 || secretMissing {
		s := &Step{Host: host, Action: ActWriteConfig}
		var parts []string
		if len(differ) > 0 {
			parts = append(parts, strings.Join(differ, ", ")+" changed")
		}
		if len(missing) > 0 {
			parts = append(parts, strings.Join(missing, ", ")+" not written yet")
		}
		if secretMissing {
			parts = append(parts, "cluster secret missing")
		}
		if len(missing) < 2 {
			s.Change = ChangeUpdate
		}
		s.Reason = strings.Join(parts, "; ")
		id := p.add(s, p.installsBin[host])
		p.hostPrep[host] = append(p.hostPrep[host], id)
		if len(missing)+len(differ) > 0 {
			p.wrote(host, FileCoreSite, FileHDFSSite)
		}
	} else if len(oh.StorageUnrecorded) > 0 {
		// write-config records them when it runs; a cluster an older
		// hactl applied, converged, would otherwise never get a record, and
		// a later destroy and renamed configuration would format next to
		// its data unseen.
		id := p.add(&Step{Host: host, Action: ActRecordStorage,
			Reason: "hactl's storage record does not name " + strings.Join(oh.StorageUnrecorded, ", ") + "; add them (no data is touched)"},
			p.installsBin[host])
		p.hostPrep[host] = append(p.hostPrep[host], id)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown version)"
	}
	return s
}

func (p *planner) wrote(host string, files ...string) {
	if p.writes[host] == nil {
		p.writes[host] = map[string]bool{}
	}
	for _, f := range files {
		p.writes[host][f] = true
	}
}

// restartReason says why a running daemon must restart, or "" when it need
// not: what its registry entry says it depends on (its config files, and
// the hactl binary for the daemons hactl itself runs) changed, or an
// earlier hactl runs it under a record name of its own.
func (p *planner) restartReason(host string, id daemon.ID) string {
	d := p.daemon(host, id)
	spec := id.Spec()
	if d == nil || !d.Running || spec == nil {
		return ""
	}
	dh := p.d.Hosts[host]
	config := "configuration"
	if spec.ConfigName != "" {
		config = spec.ConfigName
	}
	for _, f := range spec.ConfigFiles {
		if p.writes[host][f] {
			if spec.ConfigName == "" {
				return "its configuration changed"
			}
			return config + " changed"
		}
	}
	if _, ok := p.installsBin[host]; ok && spec.RunsHactl {
		return "the hactl runtime is upgraded"
	}
	if d.ConfigSHA256 != "" && d.ConfigSHA256 != dh.ConfigSHA256(id.Kind) {
		return "running with an older " + config
	}
	if want := p.opts.RuntimeSHA256; spec.RunsHactl && want != "" && d.RuntimeSHA256 != "" && d.RuntimeSHA256 != want {
		return "running an older hactl binary"
	}
	if d.Record != "" {
		return fmt.Sprintf("an earlier hactl runs it as %s", d.Record)
	}
	if d.State == StateSupervisorGone {
		return "its supervisor is gone: nothing would restart it after a crash"
	}
	return ""
}

// quorumBudget is how many members of an n-member majority quorum may be
// down at once: (n-1)/2, but at least one (a quorum under three members
// cannot roll without an outage; the caller warns).
func quorumBudget(n int) int {
	if b := (n - 1) / 2; b > 0 {
		return b
	}
	return 1
}

// zookeeper plans a managed ensemble: install, zoo.cfg and myid, start, and
// restarts one server at a time within the quorum's budget.
func (p *planner) zookeeper() {
	zk := p.c.ZooKeeper
	if zk == nil {
		return
	}
	if !zk.Managed {
		if z := p.obs.ZooKeeper; z == nil || !z.Reachable {
			why := "it was not probed"
			if z != nil && z.Error != "" {
				why = z.Error
			}
			p.warn("the external ZooKeeper quorum %s is unreachable (%s): formatZK and ZKFC steps are left out", p.c.ZooKeeperQuorumString(), why)
		}
		return
	}
	zkID := daemon.Host(daemon.ZooKeeper)
	var restart []string
	down := 0
	for _, host := range zk.Servers {
		if p.unreachable[host] || p.c.Host(host) == nil {
			down++
			continue
		}
		oh := p.host(host)
		dh := p.d.Hosts[host]
		var deps []string
		deps = append(deps, p.hostPrep[host]...)
		if !oh.ZooKeeperInstalled {
			deps = append(deps, p.add(&Step{Host: host, Action: ActInstallZooKeeper,
				Reason: "Apache ZooKeeper (Debian package zookeeper) is not installed"}))
		}
		var differ []string
		for _, f := range []string{FileZooCfg, FileZooKeeperID} {
			if oh.ConfigSHA256[f] != dh.SHA256[f] {
				differ = append(differ, f)
			}
		}
		if len(differ) > 0 {
			s := &Step{Host: host, Action: ActWriteZooKeeperConfig, Reason: strings.Join(differ, ", ") + " not written yet"}
			if oh.ConfigSHA256[FileZooCfg] != "" {
				s.Change = ChangeUpdate
				s.Reason = strings.Join(differ, ", ") + " changed"
			}
			deps = append(deps, p.add(s, p.installsBin[host]))
			p.wrote(host, FileZooCfg, FileZooKeeperID)
		}
		if !p.running(host, zkID) {
			id := p.add(&Step{Host: host, Action: ActStartZooKeeper, Daemon: zkID.Name(),
				Reason: fmt.Sprintf("ZooKeeper server %d is not running", ZooKeeperServerID(p.c, host))}, deps...)
			p.zkStartSteps = append(p.zkStartSteps, id)
		} else if p.restartReason(host, zkID) != "" {
			restart = append(restart, host)
		}
	}
	budget := quorumBudget(len(zk.Servers))
	for _, host := range restart {
		if down+1 > budget {
			p.warn("ZooKeeper on %s needs a restart (%s), deferred: %d of %d servers are unreachable and a restart would lose the quorum",
				host, p.restartReason(host, zkID), down, len(zk.Servers))
			continue
		}
		p.add(&Step{Host: host, Action: ActRestartZooKeeper, Daemon: zkID.Name(), Disruptive: true,
			Reason: p.restartReason(host, zkID) + "; one server at a time, the quorum stays up"}, p.hostPrep[host]...)
	}
}

// journalNodes starts every JournalNode that is not running and rolls the
// ones whose configuration or binary changed, never more than (N-1)/2 down.
func (p *planner) journalNodes() {
	hosts := JournalHosts(p.c)
	if len(hosts) == 0 {
		return
	}
	jnID := daemon.Host(daemon.JournalNode)
	var restart []string
	down := 0
	for _, host := range hosts {
		if p.unreachable[host] {
			down++
			continue
		}
		if !p.running(host, jnID) {
			p.jnStarted[host] = p.add(&Step{Host: host, Action: ActStartJournalNode, Daemon: jnID.Name(),
				Reason: p.jnStartReason(host)}, p.hostPrep[host]...)
		} else if p.restartReason(host, jnID) != "" {
			restart = append(restart, host)
		}
	}
	budget := quorumBudget(len(hosts))
	if len(hosts) < 3 && len(restart) > 0 {
		p.warn("the JournalNode quorum has %d member(s): restarting one stops edits until it is back; use 3 or more JournalNodes", len(hosts))
	}
	for _, host := range restart {
		why := p.restartReason(host, jnID)
		if down+1 > budget {
			p.warn("JournalNode on %s needs a restart (%s), deferred: %d of %d JournalNodes are down and at most %d may be down at once",
				host, why, down, len(hosts), budget)
			continue
		}
		p.add(&Step{Host: host, Action: ActRestartJournalNode, Daemon: jnID.Name(), Disruptive: true,
			Reason: why + "; one JournalNode at a time, the quorum keeps writing"}, p.hostPrep[host]...)
	}
}

func (p *planner) jnStartReason(host string) string {
	// A new JN joining journals that hold data on its peers takes their
	// namespace (JournalNodeSyncer); it is never formatted.
	var joins []string
	for _, ns := range p.c.Nameservices {
		if ns.Journal == nil || !slices.Contains(ns.Journal.Hosts, host) {
			continue
		}
		jid := JournalID(ns)
		if j := p.observedJournal(host, jid); j != nil && (j.Formatted || j.HasData) {
			continue
		}
		for _, peer := range ns.Journal.Hosts {
			if j := p.observedJournal(peer, jid); peer != host && j != nil && j.Formatted {
				joins = append(joins, jid)
				break
			}
		}
	}
	if len(joins) > 0 {
		return fmt.Sprintf("new JournalNode: it takes journal %s's namespace from its peers (no format)", strings.Join(joins, ", "))
	}
	return "JournalNode is not running"
}

// servingNameNode is a NameNode of ns that stays in the configuration and
// runs over a formatted namespace on a reachable host.
func (p *planner) servingNameNode(ns *schema.Nameservice) (*schema.NameNode, bool) {
	for _, nn := range ns.NameNodes {
		if on := p.observedNN(nn.Host, ns.Name, nn.ID); on != nil && on.Formatted && !p.unreachable[nn.Host] && p.running(nn.Host, daemon.NameNodeID(ns.Name, nn.ID)) {
			return nn, true
		}
	}
	return nil, false
}

// removed stops daemons that run on a host but are no longer in the
// configuration, in the registry's stop order (ZKFCs before NameNodes before
// JournalNodes before ZooKeeper, as a shutdown must go): those of a kind
// and nameservice ("" for per-host daemons) that pick accepts; a daemon
// already planned to stop is not planned again.
func (p *planner) removed(pick func(kind daemon.Kind, nameservice string) bool) {
	want := map[string]map[string]bool{}
	for _, h := range p.c.Hosts {
		want[h.Name] = map[string]bool{}
	}
	for _, h := range JournalHosts(p.c) {
		want[h][daemon.Host(daemon.JournalNode).Name()] = true
	}
	for _, h := range p.c.DataNodeHosts() {
		if want[h] != nil {
			want[h][daemon.Host(daemon.DataNode).Name()] = true
		}
	}
	if zk := p.c.ZooKeeper; zk != nil && zk.Managed {
		for _, s := range zk.Servers {
			if want[s] != nil {
				want[s][daemon.Host(daemon.ZooKeeper).Name()] = true
			}
		}
	}
	for _, ns := range p.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if want[nn.Host] == nil {
				continue
			}
			want[nn.Host][daemon.NameNodeID(ns.Name, nn.ID).Name()] = true
			if ns.AutomaticFailover {
				want[nn.Host][daemon.ZKFCID(ns.Name, nn.ID).Name()] = true
			}
		}
	}
	// A removed NameNode that is active hands over gracefully first.
	for _, h := range p.c.Hosts {
		if p.unreachable[h.Name] {
			continue
		}
		oh := p.host(h.Name)
		for _, k := range sortedKeys(oh.NameNodes) {
			o := oh.NameNodes[k]
			id := daemon.NameNodeID(o.Nameservice, o.ID)
			if o.HAState != "active" || want[h.Name][id.Name()] || !p.running(h.Name, id) || !pick(daemon.NameNode, o.Nameservice) || p.stopping[h.Name+"/"+id.Name()] {
				continue
			}
			ns := p.c.Nameservice(o.Nameservice)
			if ns == nil {
				continue
			}
			if nn, ok := p.servingNameNode(ns); ok {
				p.add(&Step{Host: nn.Host, Action: ActFailover, Nameservice: ns.Name, NameNode: nn.ID, Disruptive: true,
					Reason: fmt.Sprintf("make %s active before the removed NameNode %s stops", nn.ID, o.ID)})
			}
		}
	}
	for _, kind := range daemon.Kinds() {
		for _, h := range p.c.Hosts {
			if p.unreachable[h.Name] {
				continue
			}
			oh := p.host(h.Name)
			for _, name := range sortedKeys(oh.Daemons) {
				if kindOf(name) != kind || want[h.Name][name] || !oh.Daemons[name].Supervised() || p.stopping[h.Name+"/"+name] {
					continue
				}
				s := &Step{Host: h.Name, Action: DaemonAction(VerbStop, kind), Daemon: name, Disruptive: kind == daemon.NameNode,
					Reason: fmt.Sprintf("%s is no longer in the configuration", name)}
				s.Nameservice, s.NameNode = nameNodeOf(oh, name)
				if !pick(kind, s.Nameservice) {
					continue
				}
				var deps []string
				if kind == daemon.DataNode {
					dec := p.decommission(h.Name)
					if dec == "-" {
						continue // deferred
					}
					deps = append(deps, dec)
					if dec != "" {
						s.Reason += "; decommissioned first, its replicas live on other DataNodes"
					}
				}
				p.stopping[h.Name+"/"+name] = true
				p.add(s, deps...)
			}
		}
	}
}

// nameNodeOf is the nameservice and NameNode ID of a per-NameNode daemon
// from its supervisor name; for a legacy name (no nameservice in it) the
// nameservice is the one the host's storage shows for that NameNode ID,
// when only one does.
func nameNodeOf(oh *ObservedHost, name string) (ns, nn string) {
	if id, ok := daemon.Parse(name); ok {
		return id.Nameservice, id.NameNode
	}
	l, ok := daemon.ParseLegacy(name)
	if !ok {
		return "", ""
	}
	var found []string
	for _, o := range oh.NameNodes {
		if o.ID == l.NameNode && !slices.Contains(found, o.Nameservice) {
			found = append(found, o.Nameservice)
		}
	}
	if len(found) == 1 {
		ns = found[0]
	}
	return ns, l.NameNode
}
