package schema

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// RenderedHost is the Hadoop configuration one host's daemons read.
type RenderedHost struct {
	Host string
	Core *hadoopconf.Config // core-site.xml, keys sorted
	HDFS *hadoopconf.Config // hdfs-site.xml, keys sorted
}

// Hadoop key names the renderer writes (hdfs-default.xml / core-default.xml).
const (
	KeyDefaultFS             = "fs.defaultFS"
	KeyZKQuorum              = "ha.zookeeper.quorum"
	KeyZKSessionTimeout      = "ha.zookeeper.session-timeout.ms"
	KeyZKParentZnode         = "ha.zookeeper.parent-znode"
	KeyNameservices          = "dfs.nameservices"
	KeyInternalNameservices  = "dfs.internal.nameservices"
	KeyHANameNodes           = "dfs.ha.namenodes"          // .<ns>
	KeyNameNodeRPCAddress    = "dfs.namenode.rpc-address"  // .<ns>.<nn>
	KeyNameNodeHTTPAddress   = "dfs.namenode.http-address" // .<ns>.<nn>
	KeySharedEditsDir        = "dfs.namenode.shared.edits.dir"
	KeyJournalEditsDir       = "dfs.journalnode.edits.dir"
	KeyJournalRPCAddress     = "dfs.journalnode.rpc-address"
	KeyJournalHTTPAddress    = "dfs.journalnode.http-address"
	KeyNameDir               = "dfs.namenode.name.dir"
	KeyFailoverProxyProvider = "dfs.client.failover.proxy.provider" // .<ns>
	KeyFencingMethods        = "dfs.ha.fencing.methods"
	KeyFencingSSHKeyFiles    = "dfs.ha.fencing.ssh.private-key-files"
	KeyFencingSSHKnownHosts  = "hactl.ha.fencing.ssh.known-hosts-file"
	KeyFencingSSHTimeout     = "dfs.ha.fencing.ssh.connect-timeout"
	KeyAutomaticFailover     = "dfs.ha.automatic-failover.enabled"
	KeyNotActiveInSafemode   = "dfs.ha.nn.not-become-active-in-safemode"
	KeyTailEditsPeriod       = "dfs.ha.tail-edits.period"
	KeyTailEditsInProgress   = "dfs.ha.tail-edits.in-progress"
	KeyTailEditsBackoffMax   = "dfs.ha.tail-edits.period.backoff-max"
	KeyQJWriteTimeout        = "dfs.qjournal.write-txns.timeout.ms"
	KeyQJStartTimeout        = "dfs.qjournal.start-segment.timeout.ms"
	KeyQJPrepareTimeout      = "dfs.qjournal.prepare-recovery.timeout.ms"
	KeyQJAcceptTimeout       = "dfs.qjournal.accept-recovery.timeout.ms"
	KeyQJFinalizeTimeout     = "dfs.qjournal.finalize-segment.timeout.ms"
	KeyQJSelectTimeout       = "dfs.qjournal.select-input-streams.timeout.ms"
	KeyQJNewEpochTimeout     = "dfs.qjournal.new-epoch.timeout.ms"
	KeyZKFCPort              = "dfs.ha.zkfc.port"
	KeyClusterSecretFile     = "hactl.cluster.secret.file"
	KeyHadoopTmpDir          = "hadoop.tmp.dir"

	// DefaultHadoopJournalEditsDir is hdfs-default.xml's dfs.journalnode.edits.dir.
	DefaultHadoopJournalEditsDir = "/tmp/hadoop/dfs/journalnode/"

	// ConfiguredFailoverProxyProvider is the client proxy provider every
	// nameservice gets unless the passthrough names another.
	ConfiguredFailoverProxyProvider = "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"
	// DefaultZKFCPort is Hadoop's dfs.ha.zkfc.port default.
	DefaultZKFCPort = 8019

	// hactl's standby tailing defaults, rendered when neither the model nor
	// the passthrough sets the key. They differ from Hadoop's (60s, false, 0):
	// a standby that tails only finalized segments is up to a log roll
	// (dfs.ha.log-roll.period, 2 min) behind, so a failover must replay that
	// much first; tailing in-progress edits every 10 ms keeps it milliseconds
	// behind, and the backoff (the sleep doubles after each empty round, up
	// to 1 s) keeps an idle standby from polling the JournalNodes 100 times
	// a second.
	DefaultTailEditsPeriod     = 10 * time.Millisecond
	DefaultTailEditsInProgress = true
	DefaultTailEditsBackoffMax = time.Second
)

// nsScopedKeys are the per-nameservice keys: with several nameservices
// (federation) each is rendered suffixed with .<ns>, as Hadoop's
// NameNode.initializeGenericKeys resolves them, plus unsuffixed with the value
// of the host's own nameservice so a daemon that reads the generic key works.
var nsScopedKeys = []string{
	KeySharedEditsDir, KeyAutomaticFailover, KeyFencingMethods, KeyFencingSSHKeyFiles,
	KeyFencingSSHTimeout, KeyNotActiveInSafemode, KeyTailEditsPeriod, KeyTailEditsInProgress,
	KeyQJWriteTimeout, KeyQJStartTimeout, KeyQJPrepareTimeout, KeyQJAcceptTimeout,
	KeyQJFinalizeTimeout, KeyQJSelectTimeout, KeyQJNewEpochTimeout,
}

// ModelledHadoopKey reports whether key is one the cluster model renders (in
// core-site.xml when core, else hdfs-site.xml). When a passthrough key is
// modelled and the model renders it, the model's value wins; validation should
// flag such a passthrough entry and point at the HCL attribute to use instead.
// Keys the renderer only fills in as defaults (fs.defaultFS, the failover proxy
// provider, dfs.ha.zkfc.port) are not modelled: a passthrough value replaces them.
func ModelledHadoopKey(core bool, key string) bool {
	if core {
		switch key {
		case KeyZKQuorum, KeyZKSessionTimeout, KeyZKParentZnode:
			return true
		}
		return false
	}
	switch key {
	case KeyNameservices, KeyInternalNameservices, KeyJournalRPCAddress, KeyJournalHTTPAddress, KeyClusterSecretFile,
		KeyJournalEditsDir, KeyNameDir:
		return true
	}
	for _, p := range []string{KeyHANameNodes, KeyNameNodeRPCAddress, KeyNameNodeHTTPAddress,
		KeyJournalEditsDir, KeyNameDir} {
		if strings.HasPrefix(key, p+".") {
			return true
		}
	}
	if key == KeyTailEditsBackoffMax || strings.HasPrefix(key, KeyTailEditsBackoffMax+".") {
		return false // rendered as a default only: a passthrough value replaces it
	}
	for _, k := range nsScopedKeys {
		if key == k || strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// RemoteNameservices are the nameservices the hadoop {} passthrough
// describes for clients only (dfs.ha.namenodes.<ns> for an <ns> no
// nameservice block declares), sorted: another cluster's NameNodes this
// cluster's clients reach, as Hadoop's dfs.internal.nameservices separates them.
func RemoteNameservices(c *Cluster) []string {
	if c.Hadoop == nil {
		return nil
	}
	var out []string
	for k := range c.Hadoop.HDFSSite {
		ns, ok := strings.CutPrefix(k, KeyHANameNodes+".")
		if !ok || ns == "" || strings.Contains(ns, ".") || c.Nameservice(ns) != nil {
			continue
		}
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// remoteNameserviceKey reports whether key describes one of the remote
// nameservices (its NameNode list or a NameNode's addresses).
func remoteNameserviceKey(key string, remote []string) bool {
	for _, ns := range remote {
		if key == KeyHANameNodes+"."+ns {
			return true
		}
		for _, p := range []string{KeyNameNodeRPCAddress, KeyNameNodeHTTPAddress} {
			if strings.HasPrefix(key, p+"."+ns+".") {
				return true
			}
		}
	}
	return false
}

// RenderAll renders every host, in declaration order.
func RenderAll(c *Cluster) ([]*RenderedHost, error) {
	out := make([]*RenderedHost, 0, len(c.Hosts))
	for _, h := range c.Hosts {
		r, err := Render(c, h.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Render gives the core-site.xml and hdfs-site.xml of one host. It expects a
// cluster that validated without errors; it still refuses references it cannot
// resolve rather than writing a broken file.
func Render(c *Cluster, host string) (*RenderedHost, error) {
	if c == nil {
		return nil, fmt.Errorf("render %s: no cluster", host)
	}
	h := c.Host(host)
	if h == nil {
		return nil, fmt.Errorf("render: no host %q in the configuration", host)
	}
	r := &renderer{c: c, h: h, core: map[string]string{}, hdfs: map[string]string{}}
	if err := r.run(); err != nil {
		return nil, fmt.Errorf("render host %s: %w", host, err)
	}
	return &RenderedHost{Host: host, Core: sortedConfig(r.core), HDFS: sortedConfig(r.hdfs)}, nil
}

type renderer struct {
	c          *Cluster
	h          *Host
	core, hdfs map[string]string
	hostNS     string // the nameservice whose generic keys this host gets
}

func (r *renderer) run() error {
	c := r.c
	r.hostNS = r.pickHostNameservice()

	// 1. Defaults a passthrough may replace.
	if len(c.Nameservices) > 0 {
		r.core[KeyDefaultFS] = "hdfs://" + c.Nameservices[0].Name
	}
	anyAuto := false
	for _, ns := range c.Nameservices {
		r.hdfs[KeyFailoverProxyProvider+"."+ns.Name] = ConfiguredFailoverProxyProvider
		anyAuto = anyAuto || ns.AutomaticFailover
	}
	if anyAuto {
		r.hdfs[KeyZKFCPort] = strconv.Itoa(DefaultZKFCPort)
	}

	// 2. Passthrough, never dropped: only a key the model renders below replaces it.
	if p := c.Hadoop; p != nil {
		for k, v := range p.CoreSite {
			r.core[k] = v
		}
		for k, v := range p.HDFSSite {
			r.hdfs[k] = v
		}
	}

	// 3. The model.
	if err := r.zookeeper(); err != nil {
		return err
	}
	if len(c.Nameservices) > 0 {
		names := make([]string, len(c.Nameservices))
		for i, ns := range c.Nameservices {
			names[i] = ns.Name
		}
		r.hdfs[KeyNameservices] = strings.Join(names, ",")
		// Remote nameservices are for this cluster's clients only: listed in
		// dfs.nameservices so hdfs://<remote> resolves, kept out of
		// dfs.internal.nameservices so no DataNode registers with them.
		if remote := RemoteNameservices(c); len(remote) > 0 {
			r.hdfs[KeyNameservices] = strings.Join(append(names, remote...), ",")
			r.hdfs[KeyInternalNameservices] = strings.Join(names, ",")
		}
	}
	for _, ns := range c.Nameservices {
		if err := r.nameservice(ns); err != nil {
			return err
		}
	}
	if err := r.localDaemons(); err != nil {
		return err
	}
	r.dataNodes()
	r.hdfs[KeyClusterSecretFile] = r.c.PathsFor(r.h.Name).SecretFile
	return nil
}

// pickHostNameservice is the nameservice of the first NameNode on this host,
// else the first nameservice (as fs.defaultFS).
func (r *renderer) pickHostNameservice() string {
	for _, ns := range r.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host == r.h.Name {
				return ns.Name
			}
		}
	}
	if len(r.c.Nameservices) > 0 {
		return r.c.Nameservices[0].Name
	}
	return ""
}

// passthroughSets reports whether the hadoop {} passthrough sets an
// hdfs-site key of nameservice ns, generic or suffixed.
func (r *renderer) passthroughSets(key, ns string) bool {
	p := r.c.Hadoop
	if p == nil {
		return false
	}
	_, generic := p.HDFSSite[key]
	_, suffixed := p.HDFSSite[key+"."+ns]
	return generic || suffixed
}

func (r *renderer) federated() bool { return len(r.c.Nameservices) > 1 }

// setNS sets a per-nameservice key (see nsScopedKeys).
func (r *renderer) setNS(key, ns, value string) {
	if !r.federated() {
		r.hdfs[key] = value
		return
	}
	r.hdfs[key+"."+ns] = value
	if ns == r.hostNS {
		r.hdfs[key] = value
	}
}

func (r *renderer) zookeeper() error {
	z := r.c.ZooKeeper
	if z == nil {
		return nil
	}
	for _, s := range z.Servers {
		if z.Managed && r.c.Host(s) == nil {
			return fmt.Errorf("zookeeper server %q is not a declared host", s)
		}
	}
	if q := r.c.ZooKeeperQuorumString(); q != "" {
		r.core[KeyZKQuorum] = q
	}
	r.core[KeyZKSessionTimeout] = renderMillis(z.EffectiveSessionTimeout())
	r.core[KeyZKParentZnode] = z.EffectiveParentZnode()
	return nil
}

func (r *renderer) nameservice(ns *Nameservice) error {
	ids := make([]string, len(ns.NameNodes))
	for i, nn := range ns.NameNodes {
		ids[i] = nn.ID
		h := r.c.Host(nn.Host)
		if h == nil {
			return fmt.Errorf("nameservice %s: namenode %s: host %q is not declared", ns.Name, nn.ID, nn.Host)
		}
		suffix := "." + ns.Name + "." + nn.ID
		r.hdfs[KeyNameNodeRPCAddress+suffix] = r.c.NameNodeRPCAddr(nn)
		r.hdfs[KeyNameNodeHTTPAddress+suffix] = r.c.NameNodeHTTPAddr(nn)
	}
	r.hdfs[KeyHANameNodes+"."+ns.Name] = strings.Join(ids, ",")

	uri, err := r.sharedEdits(ns)
	if err != nil {
		return err
	}
	if uri != "" {
		r.setNS(KeySharedEditsDir, ns.Name, uri)
	}
	r.setNS(KeyAutomaticFailover, ns.Name, strconv.FormatBool(ns.AutomaticFailover))
	if f := ns.Fencing; f != nil {
		if len(f.Methods) > 0 {
			r.setNS(KeyFencingMethods, ns.Name, strings.Join(f.Methods, "\n"))
		}
		if len(f.PrivateKeyFiles) > 0 {
			r.setNS(KeyFencingSSHKeyFiles, ns.Name, strings.Join(f.PrivateKeyFiles, ","))
		}
		if f.KnownHostsFile != "" {
			r.setNS(KeyFencingSSHKnownHosts, ns.Name, f.KnownHostsFile)
		}
		if f.ConnectTimeout > 0 {
			r.setNS(KeyFencingSSHTimeout, ns.Name, renderMillis(f.ConnectTimeout))
		}
	}
	if ns.NotBecomeActiveInSafemode != nil {
		r.setNS(KeyNotActiveInSafemode, ns.Name, strconv.FormatBool(*ns.NotBecomeActiveInSafemode))
	}
	// Tailing: the model's value, else the passthrough's, else hactl's default.
	period := ns.TailEditsPeriod
	if period <= 0 && !r.passthroughSets(KeyTailEditsPeriod, ns.Name) {
		period = DefaultTailEditsPeriod
	}
	if period > 0 {
		r.setNS(KeyTailEditsPeriod, ns.Name, HadoopDuration(period))
	}
	if ns.TailEditsInProgress != nil {
		r.setNS(KeyTailEditsInProgress, ns.Name, strconv.FormatBool(*ns.TailEditsInProgress))
	} else if !r.passthroughSets(KeyTailEditsInProgress, ns.Name) {
		r.setNS(KeyTailEditsInProgress, ns.Name, strconv.FormatBool(DefaultTailEditsInProgress))
	}
	if !r.passthroughSets(KeyTailEditsBackoffMax, ns.Name) {
		// Never below the period (Hadoop raises it to the period with a warning).
		r.setNS(KeyTailEditsBackoffMax, ns.Name, HadoopDuration(max(DefaultTailEditsBackoffMax, period)))
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{KeyQJWriteTimeout, ns.QJournalWriteTimeout},
		{KeyQJStartTimeout, ns.QJournalStartTimeout},
		{KeyQJPrepareTimeout, ns.QJournalPrepareTimeout},
		{KeyQJAcceptTimeout, ns.QJournalAcceptTimeout},
		{KeyQJFinalizeTimeout, ns.QJournalFinalizeTimeout},
		{KeyQJSelectTimeout, ns.QJournalSelectTimeout},
		{KeyQJNewEpochTimeout, ns.QJournalNewEpochTimeout},
	} {
		if t.d > 0 {
			r.setNS(t.key, ns.Name, renderMillis(t.d))
		}
	}
	return nil
}

// SharedEditsURI is the qjournal:// URI of a nameservice: the explicit
// shared_edits when given, else derived from its journal block (host addresses
// in the order listed, then the journal ID).
func SharedEditsURI(c *Cluster, ns *Nameservice) (string, error) {
	r := &renderer{c: c}
	return r.sharedEdits(ns)
}

func (r *renderer) sharedEdits(ns *Nameservice) (string, error) {
	j := ns.Journal
	if j == nil {
		return ns.SharedEdits, nil
	}
	if ns.SharedEdits != "" {
		// Validation checks that the explicit URI agrees with the journal
		// block; the operator's spelling is kept.
		return ns.SharedEdits, nil
	}
	port := strconv.Itoa(j.EffectiveRPCPort())
	parts := make([]string, 0, len(j.Hosts))
	for _, name := range j.Hosts {
		h := r.c.Host(name)
		if h == nil {
			return "", fmt.Errorf("nameservice %s: journal host %q is not declared", ns.Name, name)
		}
		parts = append(parts, net.JoinHostPort(h.Addr(), port))
	}
	return "qjournal://" + strings.Join(parts, ";") + "/" + orDefault(j.JournalID, ns.Name), nil
}

// localDaemons renders what only the daemons on this host need: NameNode
// storage and JournalNode storage and bind addresses.
func (r *renderer) localDaemons() error {
	addr := r.h.Addr()
	firstNN := true
	for _, ns := range r.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host != r.h.Name {
				continue
			}
			dirs := ns.EffectiveNameDirs(nn)
			if len(dirs) == 0 {
				continue
			}
			rooted := make([]string, len(dirs))
			for i, d := range dirs {
				rooted[i] = r.root(d)
			}
			v := strings.Join(rooted, ",")
			if firstNN {
				r.hdfs[KeyNameDir] = v
				firstNN = false
			}
			// The suffixed form is what Hadoop itself resolves for a NameNode
			// with its own dirs, or for one of several on a federated host.
			if r.federated() || len(nn.NameDirs) > 0 {
				r.hdfs[KeyNameDir+"."+ns.Name+"."+nn.ID] = v
			}
		}
	}
	firstJN := true
	for _, ns := range r.c.Nameservices {
		j := ns.Journal
		if j == nil || !slices.Contains(j.Hosts, r.h.Name) {
			continue
		}
		if firstJN {
			// One JournalNode process per host serves every journal on it.
			r.hdfs[KeyJournalRPCAddress] = net.JoinHostPort(addr, strconv.Itoa(j.EffectiveRPCPort()))
			r.hdfs[KeyJournalHTTPAddress] = net.JoinHostPort(addr, strconv.Itoa(j.EffectiveHTTPPort()))
			if j.EditsDir != "" {
				r.hdfs[KeyJournalEditsDir] = r.root(j.EditsDir)
			}
			firstJN = false
		}
		if r.federated() && j.EditsDir != "" {
			r.hdfs[KeyJournalEditsDir+"."+ns.Name] = r.root(j.EditsDir)
		}
	}
	return nil
}

// root places an absolute directory of this host under the host's own tree on
// target local (Cluster.HostDir), so several hosts on one machine never share
// storage. Hadoop's file: URIs stay URIs.
func (r *renderer) root(dir string) string {
	if p, ok := strings.CutPrefix(dir, "file://"); ok && filepath.IsAbs(p) && r.c.LocalRoot(r.h.Name) != "" {
		return "file://" + r.c.HostDir(r.h.Name, p)
	}
	return r.c.HostDir(r.h.Name, dir)
}

// HadoopDuration formats d for Hadoop's time-duration keys (Configuration.
// getTimeDuration), which take a unit suffix: whole seconds as "60s", else
// "1500ms", "10us" or "5ns". The same text is also a Go duration.
func HadoopDuration(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d%time.Microsecond == 0:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

func renderMillis(d time.Duration) string { return strconv.FormatInt(int64(d/time.Millisecond), 10) }

func sortedConfig(m map[string]string) *hadoopconf.Config {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := hadoopconf.New()
	for _, k := range keys {
		c.Set(k, m[k])
	}
	return c
}
