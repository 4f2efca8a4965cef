package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

// DestroyOptions tune a destroy plan.
type DestroyOptions struct {
	// PurgeData also removes NameNode, JournalNode, DataNode and ZooKeeper data dirs.
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
	p := &planner{c: c, obs: obs, plan: &ClusterPlan{Destroy: true}, ids: map[string]bool{}, stopping: map[string]bool{}, unreachable: map[string]bool{}}
	for _, h := range c.Hosts {
		if !p.reachable(h.Name) {
			p.unreachable[h.Name] = true
			p.warn("host %s is unreachable: nothing of hactl is removed from it; re-run destroy when it is back", h.Name)
		}
	}
	// Every daemon of every host, whether the configuration still names it
	// or not: destroy leaves nothing of hactl running. In the registry's
	// stop order: ZKFCs first (so no failover races the shutdown), then
	// NameNodes (standbys before the active ones), then JournalNodes, then
	// ZooKeeper. A record of a kind this build does not know is left alone.
	type daemonRef struct {
		host, name string
		kind       daemon.Kind
		rank       int
	}
	var refs []daemonRef
	for _, h := range c.Hosts {
		if p.unreachable[h.Name] {
			continue
		}
		oh := p.host(h.Name)
		for _, name := range sortedKeys(oh.Daemons) {
			k, ok := daemon.Of(name)
			// Whatever keeps the daemon up or may bring it back: a
			// supervisor waiting to restart it has no daemon running, and
			// removing its files under it would leave it restarting into
			// the void.
			if !ok || !oh.Daemons[name].Supervised() {
				continue
			}
			refs = append(refs, daemonRef{h.Name, name, k, 2*daemon.StopRank(k) + activeRank(oh, name)})
		}
	}
	slices.SortStableFunc(refs, func(a, b daemonRef) int { return a.rank - b.rank })
	for _, d := range refs {
		record := d.name
		if r := p.daemonByName(d.host, d.name).Record; r != "" {
			record = r
		}
		s := &Step{Host: d.host, Action: DaemonAction(VerbStop, d.kind), Daemon: d.name, Disruptive: true,
			Reason: "destroy: stop " + record}
		s.Nameservice, s.NameNode = nameNodeOf(p.host(d.host), d.name)
		p.add(s)
	}
	purge := func(host string) bool {
		return opts.PurgeData && (len(DataDirs(c, host)) > 0 || c.LocalRoot(host) != "")
	}
	// Every host is checked before anything of any host goes: a daemon that
	// survived its stop would run on over removed files (and purged data),
	// and a destroy that stops there leaves every host's files and data in
	// place, not some hosts purged and others not.
	for _, h := range c.Hosts {
		if p.unreachable[h.Name] {
			continue
		}
		oh := p.host(h.Name)
		if len(oh.Daemons) > 0 || hasConfig(oh, opts.PurgeData) || oh.RuntimeSHA256 != "" || purge(h.Name) {
			p.add(&Step{Host: h.Name, Action: ActVerifyStopped,
				Reason: "destroy: no hactl process left, nothing listening on a daemon's address"})
		}
	}
	for _, h := range c.Hosts {
		if p.unreachable[h.Name] {
			continue
		}
		oh := p.host(h.Name)
		if hasConfig(oh, opts.PurgeData) {
			// The secret stays with the data a plain destroy keeps: the
			// ZooKeeper znodes' digest ACL derives from it, and the next
			// apply reuses it rather than lock itself out.
			s := &Step{Host: h.Name, Action: ActRemoveConfig, Reason: "destroy: remove hactl's configuration, logs and pid files (the cluster secret stays with the data)"}
			if opts.PurgeData && !secretLocksExternalZooKeeper(c) {
				s.PurgeData = true
				s.Reason = "destroy: remove hactl's configuration, the cluster secret, logs and pid files"
			}
			p.add(s)
		}
		if oh.RuntimeSHA256 != "" {
			p.add(&Step{Host: h.Name, Action: ActRemoveRuntime, Reason: "destroy: remove the hactl binary"})
		}
		// The probe finds storage only through the host's config, which an
		// earlier destroy may have removed: purge whatever the configuration
		// places on the host (rm -rf of what is absent is a no-op).
		if purge(h.Name) {
			p.add(&Step{Host: h.Name, Action: ActPurgeData, PurgeData: true, Disruptive: true,
				Reason: "--purge-data: DELETE NameNode, JournalNode, DataNode and ZooKeeper data dirs"})
		}
	}
	if opts.PurgeData {
		for _, h := range c.Hosts {
			if p.unreachable[h.Name] {
				continue
			}
			if left := unpurgedStorage(c, h.Name, p.host(h.Name)); len(left) > 0 {
				p.warn("--purge-data removes only the data dirs this configuration names: on %s it leaves\n  %s\n"+
					"and the storage record that names it goes with the secret, so a later plan no longer finds it; "+
					"remove it with the configuration that made it, or by hand", h.Name, strings.Join(left, "\n  "))
			}
		}
	}
	if opts.PurgeData && secretLocksExternalZooKeeper(c) {
		p.warn("the cluster secret stays: the znodes under %s on the external ZooKeeper %s are not purged and only it opens them (digest ACL); delete them with it, then the secret_file", c.ZooKeeper.ParentZnode, c.ZooKeeperQuorumString())
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

// secretLocksExternalZooKeeper reports whether the election znodes live on
// a ZooKeeper hactl does not manage (so --purge-data leaves them) under the
// digest ACL derived from the cluster secret: the default, unless
// ha.zookeeper.acl/auth are given or hactl.zookeeper.acl-from-secret is
// false. Removing the secret then would lock the next apply out of them.
func secretLocksExternalZooKeeper(c *schema.Cluster) bool {
	if c.ZooKeeper == nil || c.ZooKeeper.Managed {
		return false
	}
	if c.Hadoop == nil {
		return true
	}
	for _, site := range []map[string]string{c.Hadoop.CoreSite, c.Hadoop.HDFSSite} {
		for _, k := range []string{"ha.zookeeper.acl", "ha.zookeeper.auth"} {
			if _, ok := site[k]; ok {
				return false
			}
		}
		if v, ok := site["hactl.zookeeper.acl-from-secret"]; ok && strings.EqualFold(strings.TrimSpace(v), "false") {
			return false
		}
	}
	return true
}

// hasConfig reports whether destroy has configuration of hactl to remove
// from the host: any file of it but the cluster secret, which only
// --purge-data removes, and ZooKeeper's myid, which lives in its data dir (a
// destroy after a destroy has nothing left to do).
func hasConfig(oh *ObservedHost, purgeData bool) bool {
	for f := range oh.ConfigSHA256 {
		if purgeData || (f != FileSecret && f != FileZooKeeperID) {
			return true
		}
	}
	return false
}

// activeRank is 1 for a NameNode the host reports active (it stops after
// the standbys), else 0.
func activeRank(oh *ObservedHost, name string) int {
	if kindOf(name) != daemon.NameNode {
		return 0
	}
	ns, id := nameNodeOf(oh, name)
	for _, nn := range oh.NameNodes {
		if nn.ID == id && (ns == "" || nn.Nameservice == ns) && nn.HAState == "active" {
			return 1
		}
	}
	return 0
}

// unpurgedStorage lists the storage the probe found on host (through the
// installed configuration or the storage record) that lies outside every
// dir --purge-data removes there: a namespace left behind by a rename or a
// moved dir.
func unpurgedStorage(c *schema.Cluster, host string, oh *ObservedHost) []string {
	if oh == nil {
		return nil
	}
	purged := DataDirs(c, host)
	if root := c.LocalRoot(host); root != "" {
		purged = append(purged, root)
	}
	covered := func(d string) bool {
		d = strings.TrimPrefix(d, "file://")
		return slices.ContainsFunc(purged, func(p string) bool {
			p = strings.TrimSuffix(p, "/")
			return d == p || strings.HasPrefix(d, p+"/")
		})
	}
	var out []string
	for _, key := range sortedKeys(oh.NameNodes) {
		o := oh.NameNodes[key]
		if !(o.Formatted || o.HasData) {
			continue
		}
		for _, d := range o.Dirs {
			if !covered(d) {
				out = append(out, fmt.Sprintf("NameNode storage of nameservice %s, NameNode %s in %s", o.Nameservice, o.ID, d))
			}
		}
	}
	for _, jid := range sortedKeys(oh.JournalNodes) {
		j := oh.JournalNodes[jid]
		if (j.Formatted || j.HasData) && j.Dir != "" && !covered(j.Dir) {
			out = append(out, fmt.Sprintf("journal %s in %s", jid, j.Dir))
		}
	}
	return out
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
	return oh.Daemon(daemon.Host(daemon.ZooKeeper)) != nil || oh.ConfigSHA256[FileZooCfg] != ""
}

// DataDirs are the data directories of host: name dirs of its NameNodes,
// its JournalNode edits dir, its DataNode data dirs, its managed ZooKeeper
// data dir.
func DataDirs(c *schema.Cluster, host string) []string {
	var out []string
	add := func(d string) {
		d = strings.TrimPrefix(d, "file://")
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host == host {
				for _, d := range ns.EffectiveNameDirs(nn) {
					add(c.HostDir(host, strings.TrimPrefix(d, "file://")))
				}
			}
		}
		if ns.Journal != nil && slices.Contains(ns.Journal.Hosts, host) && ns.Journal.EditsDir != "" {
			add(c.HostDir(host, ns.Journal.EditsDir))
		}
	}
	for _, d := range c.DataDirs(host) {
		add(c.HostDir(host, strings.TrimPrefix(d, "file://")))
	}
	if ZooKeeperServerID(c, host) > 0 {
		add(ZooKeeperDataDir(c, host))
	}
	return out
}
