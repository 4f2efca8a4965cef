package schema

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// Import turns an existing Hadoop core-site.xml and hdfs-site.xml into
// formatted HCL: hosts derived from the addresses, nameservices, NameNodes,
// the JournalNode quorum from the qjournal URI, an external ZooKeeper, fencing
// and timeouts. Every key it does not model goes into the hadoop {} passthrough
// of the file it came from, so nothing is dropped. Either config may be nil.
func Import(core, hdfs *hadoopconf.Config) ([]byte, error) {
	out, _, err := ImportReport(core, hdfs)
	return out, err
}

// ImportReport is Import that also returns warnings: what the source
// configuration does that Hadoop accepts but an operator should know, such as
// a key given twice (Hadoop keeps the last value, so does the import).
func ImportReport(core, hdfs *hadoopconf.Config) ([]byte, []string, error) {
	return ImportReportWith(core, hdfs, ImportOptions{})
}

// ImportReportWith is ImportReport with what the XML does not say (the
// DataNode hosts).
func ImportReportWith(core, hdfs *hadoopconf.Config, opts ImportOptions) ([]byte, []string, error) {
	im := &importer{core: core, hdfs: hdfs, used: map[string]bool{}, workers: opts.Workers,
		hostByAddr: map[string]string{}, taken: map[string]bool{}}
	if im.core == nil {
		im.core = hadoopconf.New()
	}
	if im.hdfs == nil {
		im.hdfs = hadoopconf.New()
	}
	for _, f := range []struct {
		name string
		c    *hadoopconf.Config
	}{{"core-site.xml", im.core}, {"hdfs-site.xml", im.hdfs}} {
		for _, k := range f.c.Duplicates() {
			im.warnf("%s declares %s more than once; Hadoop uses %q (the last value, unless an earlier one is <final>), and so does the import; delete the other <property> entries", f.name, k, f.c.Get(k, ""))
		}
	}
	out, err := im.run()
	if err != nil {
		return nil, im.warnings, fmt.Errorf("import: %w", err)
	}
	return out, im.warnings, nil
}

func (im *importer) warnf(format string, args ...any) {
	im.warnings = append(im.warnings, fmt.Sprintf(format, args...))
}

// path expands Hadoop's ${var} references in a path value the model takes,
// as Configuration.substituteVars does with the configuration's own keys,
// and warns about what only the daemon's JVM knows (${user.name} …).
func (im *importer) path(key, v string) string {
	out, unresolved := ExpandHadoopVars(v, im.get)
	if len(unresolved) > 0 {
		im.warnf("%s = %q: ${%s} is not a key of this configuration (a Java system property or environment variable of the daemon, such as ${user.name}); Hadoop expands it when the daemon starts, hactl's daemons do not: write the path out in the HCL", key, out, strings.Join(unresolved, "}, ${"))
	}
	return out
}

// wildcardHost reports whether h is a wildcard bind address (0.0.0.0, ::):
// Hadoop binds every interface there and clients reach the RPC host.
func wildcardHost(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsUnspecified()
}

type importer struct {
	core, hdfs *hadoopconf.Config
	used       map[string]bool // keys the model now carries

	warnings []string

	workers []string // DataNode hosts (ImportOptions.Workers)

	hosts      []importedHost
	hostByAddr map[string]string
	taken      map[string]bool
	ipHosts    int
}

type importedHost struct{ name, addr string }

// get looks key up the way the daemons see it: hdfs-site.xml over core-site.xml.
func (im *importer) get(key string) string {
	if v := im.hdfs.Get(key, ""); v != "" {
		return v
	}
	return im.core.Get(key, "")
}

// automaticFailover resolves dfs.ha.automatic-failover.enabled for ns as
// the daemons do (hadoopconf's AutomaticFailover: the per-nameservice key wins
// whenever set), over core-site then hdfs-site as Hadoop loads them.
func (im *importer) automaticFailover(ns string) (bool, error) {
	keys := []string{KeyAutomaticFailover, KeyAutomaticFailover + "." + ns}
	c := hadoopconf.New()
	for _, src := range []*hadoopconf.Config{im.core, im.hdfs} {
		for _, k := range keys {
			if v, ok := src.Lookup(k); ok {
				c.Set(k, v)
			}
		}
	}
	for _, k := range keys {
		im.used[k] = true
	}
	return c.AutomaticFailover(ns)
}

func (im *importer) take(key string) string {
	im.used[key] = true
	return im.get(key)
}

// takeNS reads a per-nameservice key: the .<ns> suffixed form first, as Hadoop
// resolves it, then the generic key.
func (im *importer) takeNS(key, ns string) string {
	if v := im.take(key + "." + ns); v != "" {
		im.used[key] = true
		return v
	}
	return im.take(key)
}

// takeNNs reads a key Hadoop also resolves per NameNode (its
// NAMENODE_SPECIFIC_KEYS, key.<ns>.<nn> over key.<ns> over key): hactl
// models one value per nameservice, so the NameNodes' values must agree.
func (im *importer) takeNNs(key, ns string, ids []string) (string, error) {
	common := im.takeNS(key, ns)
	val, first := "", ""
	for i, id := range ids {
		v := im.take(key + "." + ns + "." + id)
		if v == "" {
			v = common
		}
		if i == 0 {
			val, first = v, id
			continue
		}
		if v != val {
			return "", fmt.Errorf("%s differs between NameNodes %s (%q) and %s (%q); hactl models one value per nameservice: give every NameNode the same value, once, as %s.%s",
				key, first, val, id, v, key, ns)
		}
	}
	return val, nil
}

// host returns the name of the host with addr, declaring it on first use:
// the first DNS label, or h1, h2, … for IP addresses; made unique.
func (im *importer) host(addr string) string {
	if n, ok := im.hostByAddr[addr]; ok {
		return n
	}
	var name string
	if net.ParseIP(addr) != nil {
		im.ipHosts++
		name = "h" + strconv.Itoa(im.ipHosts)
	} else {
		label, _, _ := strings.Cut(addr, ".")
		name = strings.ToLower(label)
	}
	if name == "" {
		name = "host"
	}
	base := name
	for i := 2; im.taken[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	im.taken[name] = true
	im.hostByAddr[addr] = name
	im.hosts = append(im.hosts, importedHost{name: name, addr: addr})
	return name
}

// importSplitHostPort splits "host:port", defaulting the port when absent.
func importSplitHostPort(s string, def int) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		// No port given (Hadoop allows it for qjournal and ZooKeeper entries).
		if strings.Contains(err.Error(), "missing port") {
			return strings.Trim(s, "[]"), def, nil
		}
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", s)
	}
	return h, n, nil
}

type importedNN struct {
	id, host          string
	rpcPort, httpPort int
	nameDirs          []string
}

type importedNS struct {
	name        string
	nns         []importedNN
	journal     *importedJournal
	sharedEdits string
	auto        bool
	fencing     *Fencing
	nameDirs    []string
	tailPeriod  time.Duration
	tailInProg  *bool
	notActiveSM *bool
	timeouts    []importedTimeout
}

type importedJournal struct {
	hosts             []string
	editsDir          string
	rpcPort, httpPort int
	journalID         string
}

type importedTimeout struct {
	attr string
	d    time.Duration
}

// qjournalTimeoutAttrs maps the HCL attribute to its Hadoop key, in HCL order.
var qjournalTimeoutAttrs = []struct{ attr, key string }{
	{"write_timeout", KeyQJWriteTimeout},
	{"start_segment_timeout", KeyQJStartTimeout},
	{"prepare_recovery_timeout", KeyQJPrepareTimeout},
	{"accept_recovery_timeout", KeyQJAcceptTimeout},
	{"finalize_segment_timeout", KeyQJFinalizeTimeout},
	{"select_input_streams_timeout", KeyQJSelectTimeout},
	{"new_epoch_timeout", KeyQJNewEpochTimeout},
}

func (im *importer) run() ([]byte, error) {
	nsNames := hadoopconf.SplitTrimmed(im.take(KeyNameservices), ",")
	if len(nsNames) == 0 {
		return nil, fmt.Errorf("%s is not set: not an HDFS HA configuration", KeyNameservices)
	}
	// dfs.internal.nameservices names this cluster's own nameservices; the
	// others in dfs.nameservices are remote ones its clients reach. They stay
	// client configuration in the passthrough (validation knows them by their
	// dfs.ha.namenodes.<ns>, render lists them in dfs.nameservices again).
	if internal := hadoopconf.SplitTrimmed(im.take(KeyInternalNameservices), ","); len(internal) > 0 {
		var own []string
		for _, n := range nsNames {
			if slices.Contains(internal, n) {
				own = append(own, n)
			} else {
				im.warnf("nameservice %s is not in %s: imported as a remote nameservice, client configuration only (its keys stay in hadoop.hdfs_site); hactl neither runs nor checks its NameNodes", n, KeyInternalNameservices)
			}
		}
		for _, n := range internal {
			if !slices.Contains(nsNames, n) {
				return nil, fmt.Errorf("%s lists %s, which %s does not; add it there or remove it", KeyInternalNameservices, n, KeyNameservices)
			}
		}
		nsNames = own
	}
	var nss []*importedNS
	for _, name := range nsNames {
		ns, err := im.nameservice(name)
		if err != nil {
			return nil, fmt.Errorf("nameservice %s: %w", name, err)
		}
		nss = append(nss, ns)
	}
	dns, err := im.dataNodes(im.workers)
	if err != nil {
		return nil, err
	}
	// Defaults the renderer fills in itself; anything else stays a passthrough.
	if im.get(KeyDefaultFS) == "hdfs://"+nsNames[0] {
		im.used[KeyDefaultFS] = true
	}
	for _, ns := range nsNames {
		k := KeyFailoverProxyProvider + "." + ns
		if im.get(k) == ConfiguredFailoverProxyProvider {
			im.used[k] = true
		}
	}
	if im.get(KeyZKFCPort) == strconv.Itoa(DefaultZKFCPort) {
		im.used[KeyZKFCPort] = true
	}
	// Bind addresses are derived per host from the host's address on render.
	im.used[KeyJournalRPCAddress] = true
	im.used[KeyJournalHTTPAddress] = true

	f := hclwrite.NewEmptyFile()
	b := f.Body()
	importComment(b, "# Imported by `hactl import` from Hadoop's core-site.xml and hdfs-site.xml.\n"+
		"# Host names were derived from the addresses; rename them freely (keep the addresses).\n")
	for _, h := range im.hosts {
		hb := b.AppendNewBlock("host", []string{h.name}).Body()
		hb.SetAttributeValue("address", cty.StringVal(h.addr))
	}
	if err := im.zookeeper(b); err != nil {
		return nil, err
	}
	for _, ns := range nss {
		importWriteNameservice(b, ns)
	}
	importWriteDataNodes(b, dns)
	if v := im.take(KeyClusterSecretFile); v != "" {
		b.AppendNewline()
		b.AppendNewBlock("runtime", nil).Body().SetAttributeValue("secret_file", cty.StringVal(v))
	}
	b.AppendNewline()
	importComment(b, "# The hosts already exist: hactl reaches them over SSH (add an ssh {} block).\n")
	b.AppendNewBlock("target", []string{"ssh"})
	im.passthrough(b)
	return hclwrite.Format(f.Bytes()), nil
}

func importComment(b *hclwrite.Body, text string) {
	b.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(text)}})
}

func (im *importer) nameservice(name string) (*importedNS, error) {
	ns := &importedNS{name: name}
	ids := hadoopconf.SplitTrimmed(im.take(KeyHANameNodes+"."+name), ",")
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s.%s is not set", KeyHANameNodes, name)
	}
	for _, id := range ids {
		suffix := "." + name + "." + id
		rpc := im.take(KeyNameNodeRPCAddress + suffix)
		if rpc == "" {
			return nil, fmt.Errorf("namenode %s: %s%s is not set", id, KeyNameNodeRPCAddress, suffix)
		}
		addr, rpcPort, err := importSplitHostPort(rpc, DefaultNameNodeRPCPort)
		if err != nil {
			return nil, fmt.Errorf("namenode %s: %s%s: %w", id, KeyNameNodeRPCAddress, suffix, err)
		}
		if wildcardHost(addr) {
			// Unlike the web address, clients and the other NameNodes connect
			// to this one: a wildcard names no host they can reach.
			return nil, fmt.Errorf("namenode %s: %s%s is %s, an address clients cannot connect to; set it to the NameNode's host name (port %d) and, to bind every interface, add %s = 0.0.0.0",
				id, KeyNameNodeRPCAddress, suffix, rpc, rpcPort, "dfs.namenode.rpc-bind-host")
		}
		nn := importedNN{id: id, host: im.host(addr), rpcPort: rpcPort, httpPort: DefaultNameNodeHTTPPort}
		if http := im.take(KeyNameNodeHTTPAddress + suffix); http != "" {
			ha, hp, err := importSplitHostPort(http, DefaultNameNodeHTTPPort)
			if err != nil {
				return nil, fmt.Errorf("namenode %s: %s%s: %w", id, KeyNameNodeHTTPAddress, suffix, err)
			}
			// hactl serves RPC and HTTP on the host's one address.
			if ha != addr && !wildcardHost(ha) {
				return nil, fmt.Errorf("namenode %s: http address %s and rpc address %s are on different hosts; hactl binds both to the host's address", id, http, rpc)
			}
			nn.httpPort = hp
		}
		if v := im.take(KeyNameDir + suffix); v != "" {
			nn.nameDirs = importDirs(im.path(KeyNameDir+suffix, v))
		}
		ns.nns = append(ns.nns, nn)
	}

	uri, err := im.takeNNs(KeySharedEditsDir, name, ids)
	if err != nil {
		return nil, err
	}
	if uri != "" {
		j, err := im.journal(name, uri)
		if err != nil {
			return nil, err
		}
		if j == nil {
			ns.sharedEdits = uri
		}
		ns.journal = j
	}
	if ns.auto, err = im.automaticFailover(name); err != nil {
		return nil, err
	}
	fence, err := im.takeNNs(KeyFencingMethods, name, ids)
	if err != nil {
		return nil, err
	}
	methods := hadoopconf.SplitTrimmed(fence, "\n")
	keys := hadoopconf.SplitTrimmed(im.path(KeyFencingSSHKeyFiles, im.takeNS(KeyFencingSSHKeyFiles, name)), ",")
	timeout, err := importParseMillis(KeyFencingSSHTimeout, im.takeNS(KeyFencingSSHTimeout, name))
	if err != nil {
		return nil, err
	}
	if len(methods) > 0 || len(keys) > 0 || timeout > 0 {
		ns.fencing = &Fencing{Methods: methods, PrivateKeyFiles: keys, ConnectTimeout: timeout}
	}
	if v := im.take(KeyNameDir + "." + name); v != "" {
		im.used[KeyNameDir] = true
		ns.nameDirs = importDirs(im.path(KeyNameDir+"."+name, v))
	} else if v := im.take(KeyNameDir); v != "" {
		ns.nameDirs = importDirs(im.path(KeyNameDir, v))
	} else if tmp := im.get(KeyHadoopTmpDir); tmp != "" && slices.ContainsFunc(ns.nns, func(nn importedNN) bool { return len(nn.nameDirs) == 0 }) {
		// hdfs-default.xml: dfs.namenode.name.dir = file://${hadoop.tmp.dir}/dfs/name.
		d := im.path(KeyHadoopTmpDir, tmp) + "/dfs/name"
		im.warnf("nameservice %s: %s is not set, so Hadoop uses its default file://${hadoop.tmp.dir}/dfs/name, here %s; imported as name_dir (hadoop.tmp.dir is for temporary files: give the namespace a directory of its own)", name, KeyNameDir, d)
		ns.nameDirs = []string{d}
	}
	if v := im.takeNS(KeyTailEditsPeriod, name); v != "" {
		if ns.tailPeriod, err = importParseDuration(v, time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w", KeyTailEditsPeriod, err)
		}
	}
	if ns.tailInProg, err = importParseBoolPtr(KeyTailEditsInProgress, im.takeNS(KeyTailEditsInProgress, name)); err != nil {
		return nil, err
	}
	if ns.notActiveSM, err = importParseBoolPtr(KeyNotActiveInSafemode, im.takeNS(KeyNotActiveInSafemode, name)); err != nil {
		return nil, err
	}
	for _, t := range qjournalTimeoutAttrs {
		d, err := importParseMillis(t.key, im.takeNS(t.key, name))
		if err != nil {
			return nil, err
		}
		if d > 0 {
			ns.timeouts = append(ns.timeouts, importedTimeout{attr: t.attr, d: d})
		}
	}
	return ns, nil
}

// journal derives a journal block from a qjournal URI when it can be said
// exactly (one RPC port for every JournalNode); nil keeps the URI as is.
func (im *importer) journal(ns, uri string) (*importedJournal, error) {
	rest, ok := strings.CutPrefix(uri, "qjournal://")
	if !ok {
		return nil, nil
	}
	hostsPart, jid, ok := strings.Cut(rest, "/")
	if !ok || jid == "" || strings.Contains(jid, "/") {
		return nil, fmt.Errorf("%s: %q has no journal ID (qjournal://host:port;…/journalId)", KeySharedEditsDir, uri)
	}
	if strings.Contains(hostsPart, ",") {
		return nil, nil // keep the URI: validation says how to write it (HA042)
	}
	j := &importedJournal{journalID: jid}
	for _, entry := range strings.Split(hostsPart, ";") {
		addr, port, err := importSplitHostPort(strings.TrimSpace(entry), DefaultJournalRPCPort)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", KeySharedEditsDir, uri, err)
		}
		if j.rpcPort != 0 && port != j.rpcPort {
			return nil, nil // JournalNodes on different ports: keep the explicit URI
		}
		j.rpcPort = port
		j.hosts = append(j.hosts, im.host(addr))
	}
	j.editsDir = im.path(KeyJournalEditsDir, im.takeNS(KeyJournalEditsDir, ns))
	if j.editsDir == "" {
		// hdfs-default.xml's value; it does not derive from hadoop.tmp.dir.
		j.editsDir = DefaultHadoopJournalEditsDir
		im.warnf("nameservice %s: %s is not set, so Hadoop's JournalNodes use its default %s, imported as edits_dir; a directory under /tmp may be cleaned by the OS: set one of your own", ns, KeyJournalEditsDir, j.editsDir)
	}
	j.httpPort = DefaultJournalHTTPPort
	if v := im.get(KeyJournalHTTPAddress); v != "" {
		if _, p, err := importSplitHostPort(v, DefaultJournalHTTPPort); err == nil {
			j.httpPort = p
		}
	}
	return j, nil
}

func (im *importer) zookeeper(b *hclwrite.Body) error {
	servers := hadoopconf.SplitTrimmed(im.take(KeyZKQuorum), ",")
	if len(servers) == 0 {
		return nil
	}
	b.AppendNewline()
	importComment(b, "# An existing ZooKeeper quorum, used as is (managed = true lets hactl run one on declared hosts).\n")
	zb := b.AppendNewBlock("zookeeper", nil).Body()
	zb.SetAttributeValue("managed", cty.False)
	zb.SetAttributeValue("servers", importStringList(servers))
	st, err := importParseMillis(KeyZKSessionTimeout, im.take(KeyZKSessionTimeout))
	if err != nil {
		return err
	}
	if st > 0 {
		zb.SetAttributeValue("session_timeout", cty.StringVal(HadoopDuration(st)))
	}
	if v := im.take(KeyZKParentZnode); v != "" {
		zb.SetAttributeValue("parent_znode", cty.StringVal(v))
	}
	return nil
}

func importWriteNameservice(b *hclwrite.Body, ns *importedNS) {
	b.AppendNewline()
	nb := b.AppendNewBlock("nameservice", []string{ns.name}).Body()
	for _, nn := range ns.nns {
		nnb := nb.AppendNewBlock("namenode", []string{nn.id}).Body()
		nnb.SetAttributeValue("host", cty.StringVal(nn.host))
		if nn.rpcPort != DefaultNameNodeRPCPort {
			nnb.SetAttributeValue("rpc_port", cty.NumberIntVal(int64(nn.rpcPort)))
		}
		if nn.httpPort != DefaultNameNodeHTTPPort {
			nnb.SetAttributeValue("http_port", cty.NumberIntVal(int64(nn.httpPort)))
		}
		if len(nn.nameDirs) > 0 {
			nnb.SetAttributeValue("name_dir", importDirsValue(nn.nameDirs))
		}
	}
	if j := ns.journal; j != nil {
		nb.AppendNewline()
		jb := nb.AppendNewBlock("journal", nil).Body()
		jb.SetAttributeValue("hosts", importStringList(j.hosts))
		if j.editsDir != "" {
			jb.SetAttributeValue("edits_dir", cty.StringVal(j.editsDir))
		}
		if j.rpcPort != DefaultJournalRPCPort {
			jb.SetAttributeValue("rpc_port", cty.NumberIntVal(int64(j.rpcPort)))
		}
		if j.httpPort != DefaultJournalHTTPPort {
			jb.SetAttributeValue("http_port", cty.NumberIntVal(int64(j.httpPort)))
		}
		if j.journalID != ns.name {
			jb.SetAttributeValue("journal_id", cty.StringVal(j.journalID))
		}
	}
	if ns.sharedEdits != "" {
		nb.AppendNewline()
		nb.SetAttributeValue("shared_edits", cty.StringVal(ns.sharedEdits))
	}
	nb.AppendNewline()
	nb.SetAttributeValue("automatic_failover", cty.BoolVal(ns.auto))
	if f := ns.fencing; f != nil {
		fb := nb.AppendNewBlock("fencing", nil).Body()
		if len(f.Methods) > 0 {
			fb.SetAttributeValue("methods", importStringList(f.Methods))
		}
		if len(f.PrivateKeyFiles) > 0 {
			fb.SetAttributeValue("private_key_files", importStringList(f.PrivateKeyFiles))
		}
		if f.ConnectTimeout > 0 {
			fb.SetAttributeValue("connect_timeout", cty.StringVal(HadoopDuration(f.ConnectTimeout)))
		}
	}
	if len(ns.nameDirs) > 0 {
		nb.SetAttributeValue("name_dir", importDirsValue(ns.nameDirs))
	}
	if ns.tailPeriod > 0 {
		nb.SetAttributeValue("tail_edits_period", cty.StringVal(HadoopDuration(ns.tailPeriod)))
	}
	if ns.tailInProg != nil {
		nb.SetAttributeValue("tail_edits_in_progress", cty.BoolVal(*ns.tailInProg))
	}
	if ns.notActiveSM != nil {
		nb.SetAttributeValue("not_become_active_in_safemode", cty.BoolVal(*ns.notActiveSM))
	}
	if len(ns.timeouts) > 0 {
		qb := nb.AppendNewBlock("qjournal", nil).Body()
		for _, t := range ns.timeouts {
			qb.SetAttributeValue(t.attr, cty.StringVal(HadoopDuration(t.d)))
		}
	}
}

// passthrough writes every key the model does not carry, in the file it came from.
func (im *importer) passthrough(b *hclwrite.Body) {
	rest := func(c *hadoopconf.Config) map[string]cty.Value {
		m := map[string]cty.Value{}
		for _, p := range c.Properties() {
			if !im.used[p.Name] {
				m[p.Name] = cty.StringVal(p.Value)
			}
		}
		return m
	}
	core, hdfs := rest(im.core), rest(im.hdfs)
	if len(core) == 0 && len(hdfs) == 0 {
		return
	}
	b.AppendNewline()
	importComment(b, "# Hadoop keys hactl does not model, written to the hosts' files unchanged.\n")
	hb := b.AppendNewBlock("hadoop", nil).Body()
	if len(core) > 0 {
		hb.SetAttributeValue("core_site", cty.ObjectVal(core))
	}
	if len(hdfs) > 0 {
		hb.SetAttributeValue("hdfs_site", cty.ObjectVal(hdfs))
	}
}

// importDirs splits a comma list of directories; Hadoop's file:///x URIs
// become the plain absolute paths hactl's name_dir takes.
func importDirs(v string) []string {
	dirs := hadoopconf.SplitTrimmed(v, ",")
	for i, d := range dirs {
		if p, ok := strings.CutPrefix(d, "file://"); ok && strings.HasPrefix(p, "/") {
			dirs[i] = p
		}
	}
	return dirs
}

func importDirsValue(dirs []string) cty.Value {
	if len(dirs) == 1 {
		return cty.StringVal(dirs[0])
	}
	return importStringList(dirs)
}

func importStringList(ss []string) cty.Value {
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

func importParseBool(key, v string) (bool, error) {
	p, err := importParseBoolPtr(key, v)
	return p != nil && *p, err
}

func importParseBoolPtr(key, v string) (*bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return nil, nil
	case "true":
		t := true
		return &t, nil
	case "false":
		f := false
		return &f, nil
	}
	return nil, fmt.Errorf("%s: %q is not true or false", key, v)
}

func importParseMillis(key, v string) (time.Duration, error) {
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: %q is not a number of milliseconds", key, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// importParseDuration reads a Configuration.getTimeDuration value: a number in
// unit, or a number with one of the suffixes ns, us, ms, s, m, h, d.
func importParseDuration(v string, unit time.Duration) (time.Duration, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	suffixes := []struct {
		s string
		d time.Duration
	}{{"ns", time.Nanosecond}, {"us", time.Microsecond}, {"ms", time.Millisecond},
		{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, s := range suffixes {
		if num, ok := strings.CutSuffix(v, s.s); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64); err == nil && n >= 0 {
				return time.Duration(n) * s.d, nil
			}
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * unit, nil
	}
	return 0, fmt.Errorf("%q is not a duration", v)
}

// hadoopVarDefaults are the core-default.xml values ${var} references fall
// back to when the configuration does not set the key.
var hadoopVarDefaults = map[string]string{KeyHadoopTmpDir: "/tmp/hadoop-${user.name}"}

// ExpandHadoopVars expands ${name} in v the way Hadoop's
// Configuration.substituteVars does: each reference is replaced by the
// value of key name (get, then core-default.xml's defaults), repeatedly, at
// most 20 rounds; a reference with no value stays as written and is
// returned in unresolved.
func ExpandHadoopVars(v string, get func(string) string) (out string, unresolved []string) {
	const maxSubst = 20 // Configuration.MAX_SUBST
	out = v
	for range maxSubst {
		changed := false
		var b strings.Builder
		rest := out
		for {
			i := strings.Index(rest, "${")
			if i < 0 {
				b.WriteString(rest)
				break
			}
			j := strings.IndexByte(rest[i+2:], '}')
			if j < 0 {
				b.WriteString(rest)
				break
			}
			name := rest[i+2 : i+2+j]
			val := get(name)
			if val == "" {
				val = hadoopVarDefaults[name]
			}
			b.WriteString(rest[:i])
			if val == "" || name == "" {
				b.WriteString(rest[i : i+3+j])
			} else {
				b.WriteString(val)
				changed = true
			}
			rest = rest[i+3+j:]
		}
		out = b.String()
		if !changed {
			break
		}
	}
	rest := out
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+2:], '}')
		if j < 0 {
			break
		}
		if name := rest[i+2 : i+2+j]; !slices.Contains(unresolved, name) {
			unresolved = append(unresolved, name)
		}
		rest = rest[i+3+j:]
	}
	return out, unresolved
}
