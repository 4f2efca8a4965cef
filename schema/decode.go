package schema

import (
	"fmt"
	"math/big"
	"path"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Range keys for block labels, next to the attribute names in Ranges.
const (
	LabelRangeKey = "name" // host, nameservice, namenode, instance_group label
	KindRangeKey  = "kind" // target label
)

// Elem returns the range of element i of a list attribute written as a
// literal list, or the whole attribute's range otherwise.
func (r Ranges) Elem(attr string, i int) hcl.Range {
	if rng, ok := r[fmt.Sprintf("%s[%d]", attr, i)]; ok {
		return rng
	}
	return r[attr]
}

var (
	sshAttrs = []hcl.AttributeSchema{
		{Name: "user"}, {Name: "port"}, {Name: "private_key"}, {Name: "known_hosts"},
		{Name: "bastion"}, {Name: "sudo"}, {Name: "connect_timeout"},
	}
	sshSchema  = &hcl.BodySchema{Attributes: sshAttrs}
	hostSchema = &hcl.BodySchema{
		// address is checked in validation: on target ec2 it may come from the instance.
		Attributes: []hcl.AttributeSchema{{Name: "address"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "ssh"}},
	}
	zookeeperSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "managed"}, {Name: "servers", Required: true}, {Name: "client_port"}, {Name: "peer_port"},
		{Name: "election_port"}, {Name: "tick_time"}, {Name: "session_timeout"}, {Name: "parent_znode"}, {Name: "data_dir"},
	}}
	nameserviceSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "shared_edits"}, {Name: "automatic_failover"}, {Name: "name_dir"}, {Name: "tail_edits_period"},
			{Name: "tail_edits_in_progress"}, {Name: "not_become_active_in_safemode"},
		},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "namenode", LabelNames: []string{"id"}}, {Type: "journal"}, {Type: "fencing"}, {Type: "qjournal"},
		},
	}
	namenodeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "host", Required: true}, {Name: "rpc_port"}, {Name: "http_port"}, {Name: "name_dir"},
	}}
	journalSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "hosts", Required: true}, {Name: "edits_dir", Required: true}, {Name: "rpc_port"}, {Name: "http_port"}, {Name: "journal_id"},
	}}
	fencingSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "methods", Required: true}, {Name: "private_key_files"}, {Name: "connect_timeout"}, {Name: "known_hosts_file"},
	}}
	qjournalSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "write_timeout"}, {Name: "start_segment_timeout"}, {Name: "prepare_recovery_timeout"},
		{Name: "accept_recovery_timeout"}, {Name: "finalize_segment_timeout"},
		{Name: "select_input_streams_timeout"}, {Name: "new_epoch_timeout"},
	}}
	targetSchemas = map[TargetKind]*hcl.BodySchema{
		TargetLocal: {Attributes: []hcl.AttributeSchema{{Name: "state_dir"}}},
		TargetSSH:   {},
		TargetEC2:   ec2TargetSchema, // ec2.go
	}
	runtimeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "install_dir"}, {Name: "conf_dir"}, {Name: "log_dir"}, {Name: "run_dir"}, {Name: "secret_file"},
	}}
	hadoopSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "core_site"}, {Name: "hdfs_site"}}}
)

// Runtime defaults (the host layout of docs/CONTRACTS.md).
const (
	DefaultInstallDir = "/opt/hactl"
	DefaultConfDir    = "/etc/hactl"
	DefaultLogDir     = "/var/log/hactl"
	DefaultRunDir     = "/var/run/hactl"
	secretFileName    = "cluster.secret"
)

type decoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (d *decoder) content(body hcl.Body, s *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(s)
	d.diags = append(d.diags, tagContentDiags(diags)...)
	if c == nil {
		c = &hcl.BodyContent{Attributes: hcl.Attributes{}}
	}
	return c
}

func (d *decoder) errorf(rule string, rng hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, newDiag(rule, hcl.DiagError, summary, fmt.Sprintf(format, args...), &rng))
}

// once reports a second block of a kind that may appear once.
func (d *decoder) once(seen map[string]*hcl.Block, b *hcl.Block) bool {
	if prev, ok := seen[b.Type]; ok {
		d.errorf(RuleDuplicate, b.DefRange, fmt.Sprintf("Duplicate %s block", b.Type),
			"Only one %s block is allowed here; the first is at %s.", b.Type, prev.DefRange)
		return false
	}
	seen[b.Type] = b
	return true
}

func (d *decoder) decodeCluster(c *Cluster, blocks hcl.Blocks, files []*hcl.File) {
	seen := map[string]*hcl.Block{}
	var targets []*hcl.Block
	for _, b := range blocks {
		switch b.Type {
		case "host":
			c.Hosts = append(c.Hosts, d.host(b))
		case "ssh":
			if d.once(seen, b) {
				c.SSH = d.ssh(b)
			}
		case "zookeeper":
			if d.once(seen, b) {
				c.ZooKeeper = d.zookeeper(b)
			}
		case "nameservice":
			c.Nameservices = append(c.Nameservices, d.nameservice(b))
		case "target":
			targets = append(targets, b)
		case "runtime":
			if d.once(seen, b) {
				c.Runtime = d.runtime(b)
			}
		case "hadoop":
			if d.once(seen, b) {
				c.Hadoop = d.hadoop(b)
			}
		case "datanode":
			c.DataNodes = append(c.DataNodes, d.datanode(b))
		case "hdfs":
			if d.once(seen, b) {
				c.HDFS = d.hdfs(b)
			}
		}
	}
	for i, b := range targets {
		if i > 0 {
			d.errorf(RuleTargetMissing, b.DefRange, "More than one target block",
				"A cluster has exactly one target; the first is at %s.", targets[0].DefRange)
			continue
		}
		c.Target = d.target(b)
	}
	if len(targets) == 0 {
		rng := hcl.Range{Start: hcl.InitialPos, End: hcl.InitialPos}
		if len(files) > 0 {
			rng = files[0].Body.MissingItemRange()
		}
		d.errorf(RuleTargetMissing, rng, "Missing target block",
			`Add exactly one target block: target "local" { state_dir = "…" }, target "ssh" {} or target "ec2" { … }.`)
	}
	fillRuntimeDefaults(c)
}

func fillRuntimeDefaults(c *Cluster) {
	if c.Runtime == nil {
		c.Runtime = &Runtime{Ranges: Ranges{}}
	}
	r := c.Runtime
	if r.InstallDir == "" {
		r.InstallDir = DefaultInstallDir
	}
	if r.ConfDir == "" {
		r.ConfDir = DefaultConfDir
	}
	if r.LogDir == "" {
		r.LogDir = DefaultLogDir
	}
	if r.RunDir == "" {
		r.RunDir = DefaultRunDir
	}
	if r.SecretFile == "" {
		r.SecretFile = path.Join(r.ConfDir, secretFileName)
	}
}

func (d *decoder) host(b *hcl.Block) *Host {
	h := &Host{Name: b.Labels[0], DeclRange: b.DefRange, Ranges: Ranges{LabelRangeKey: b.LabelRanges[0]}}
	c := d.content(b.Body, hostSchema)
	d.str(c.Attributes["address"], &h.Address, h.Ranges)
	seen := map[string]*hcl.Block{}
	for _, sb := range c.Blocks {
		if d.once(seen, sb) {
			h.SSH = d.ssh(sb)
		}
	}
	return h
}

func (d *decoder) ssh(b *hcl.Block) *SSH {
	s := &SSH{DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, sshSchema).Attributes
	d.str(a["user"], &s.User, s.Ranges)
	d.port(a["port"], &s.Port, s.Ranges)
	d.str(a["private_key"], &s.PrivateKey, s.Ranges)
	d.str(a["known_hosts"], &s.KnownHosts, s.Ranges)
	d.str(a["bastion"], &s.Bastion, s.Ranges)
	d.optBool(a["sudo"], &s.Sudo, s.Ranges)
	d.duration(a["connect_timeout"], &s.ConnectTimeout, s.Ranges)
	return s
}

func (d *decoder) zookeeper(b *hcl.Block) *ZooKeeper {
	z := &ZooKeeper{
		Managed: true, ClientPort: DefaultZooKeeperClientPort, PeerPort: DefaultZooKeeperPeerPort,
		ElectionPort: DefaultZooKeeperElectionPort, TickTime: DefaultZooKeeperTickTime,
		SessionTimeout: DefaultSessionTimeout, ParentZnode: DefaultParentZnode,
		DeclRange: b.DefRange, Ranges: Ranges{},
	}
	a := d.content(b.Body, zookeeperSchema).Attributes
	d.boolean(a["managed"], &z.Managed, z.Ranges)
	d.strList(a["servers"], &z.Servers, z.Ranges)
	d.port(a["client_port"], &z.ClientPort, z.Ranges)
	d.port(a["peer_port"], &z.PeerPort, z.Ranges)
	d.port(a["election_port"], &z.ElectionPort, z.Ranges)
	d.duration(a["tick_time"], &z.TickTime, z.Ranges)
	d.duration(a["session_timeout"], &z.SessionTimeout, z.Ranges)
	d.str(a["parent_znode"], &z.ParentZnode, z.Ranges)
	d.str(a["data_dir"], &z.DataDir, z.Ranges)
	return z
}

func (d *decoder) nameservice(b *hcl.Block) *Nameservice {
	ns := &Nameservice{Name: b.Labels[0], DeclRange: b.DefRange, Ranges: Ranges{LabelRangeKey: b.LabelRanges[0]}}
	c := d.content(b.Body, nameserviceSchema)
	a := c.Attributes
	d.str(a["shared_edits"], &ns.SharedEdits, ns.Ranges)
	d.boolean(a["automatic_failover"], &ns.AutomaticFailover, ns.Ranges)
	d.strOrList(a["name_dir"], &ns.NameDirs, ns.Ranges)
	d.duration(a["tail_edits_period"], &ns.TailEditsPeriod, ns.Ranges)
	d.optBool(a["tail_edits_in_progress"], &ns.TailEditsInProgress, ns.Ranges)
	d.optBool(a["not_become_active_in_safemode"], &ns.NotBecomeActiveInSafemode, ns.Ranges)
	seen := map[string]*hcl.Block{}
	for _, sb := range c.Blocks {
		switch sb.Type {
		case "namenode":
			ns.NameNodes = append(ns.NameNodes, d.namenode(sb))
		case "journal":
			if d.once(seen, sb) {
				ns.Journal = d.journal(sb, ns.Name)
			}
		case "fencing":
			if d.once(seen, sb) {
				ns.Fencing = d.fencing(sb)
			}
		case "qjournal":
			if d.once(seen, sb) {
				d.qjournal(sb, ns)
			}
		}
	}
	// An explicit URI names the journal when journal_id does not.
	if j := ns.Journal; j != nil && ns.SharedEdits != "" {
		if _, set := j.Ranges["journal_id"]; !set {
			if _, jid, err := parseQJournal(ns.SharedEdits); err == nil && jid != "" {
				j.JournalID = jid
			}
		}
	}
	return ns
}

func (d *decoder) namenode(b *hcl.Block) *NameNode {
	nn := &NameNode{ID: b.Labels[0], RPCPort: DefaultNameNodeRPCPort, HTTPPort: DefaultNameNodeHTTPPort,
		DeclRange: b.DefRange, Ranges: Ranges{LabelRangeKey: b.LabelRanges[0]}}
	a := d.content(b.Body, namenodeSchema).Attributes
	d.str(a["host"], &nn.Host, nn.Ranges)
	d.port(a["rpc_port"], &nn.RPCPort, nn.Ranges)
	d.port(a["http_port"], &nn.HTTPPort, nn.Ranges)
	d.strOrList(a["name_dir"], &nn.NameDirs, nn.Ranges)
	return nn
}

func (d *decoder) journal(b *hcl.Block, nsName string) *Journal {
	j := &Journal{RPCPort: DefaultJournalRPCPort, HTTPPort: DefaultJournalHTTPPort, JournalID: nsName,
		DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, journalSchema).Attributes
	d.strList(a["hosts"], &j.Hosts, j.Ranges)
	d.str(a["edits_dir"], &j.EditsDir, j.Ranges)
	d.port(a["rpc_port"], &j.RPCPort, j.Ranges)
	d.port(a["http_port"], &j.HTTPPort, j.Ranges)
	d.str(a["journal_id"], &j.JournalID, j.Ranges)
	return j
}

func (d *decoder) fencing(b *hcl.Block) *Fencing {
	f := &Fencing{DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, fencingSchema).Attributes
	d.strList(a["methods"], &f.Methods, f.Ranges)
	d.strList(a["private_key_files"], &f.PrivateKeyFiles, f.Ranges)
	d.str(a["known_hosts_file"], &f.KnownHostsFile, f.Ranges)
	d.duration(a["connect_timeout"], &f.ConnectTimeout, f.Ranges)
	return f
}

func (d *decoder) qjournal(b *hcl.Block, ns *Nameservice) {
	a := d.content(b.Body, qjournalSchema).Attributes
	// The qjournal block's attributes land in the nameservice's Ranges with a
	// "qjournal." prefix, since the model keeps them on the nameservice.
	r := Ranges{}
	d.duration(a["write_timeout"], &ns.QJournalWriteTimeout, r)
	d.duration(a["start_segment_timeout"], &ns.QJournalStartTimeout, r)
	d.duration(a["prepare_recovery_timeout"], &ns.QJournalPrepareTimeout, r)
	d.duration(a["accept_recovery_timeout"], &ns.QJournalAcceptTimeout, r)
	d.duration(a["finalize_segment_timeout"], &ns.QJournalFinalizeTimeout, r)
	d.duration(a["select_input_streams_timeout"], &ns.QJournalSelectTimeout, r)
	d.duration(a["new_epoch_timeout"], &ns.QJournalNewEpochTimeout, r)
	for k, v := range r {
		ns.Ranges["qjournal."+k] = v
	}
	ns.Ranges["qjournal"] = b.DefRange
}

var targetKinds = []string{string(TargetLocal), string(TargetSSH), string(TargetEC2)}

func (d *decoder) target(b *hcl.Block) *Target {
	t := &Target{Kind: TargetKind(b.Labels[0]), DeclRange: b.DefRange, Ranges: Ranges{KindRangeKey: b.LabelRanges[0]}}
	s, ok := targetSchemas[t.Kind]
	if !ok {
		d.errorf(RuleTargetKind, b.LabelRanges[0], "Unknown target kind",
			"The target kind %q is not one of local, ssh, ec2.%s", b.Labels[0], suggestFrom(b.Labels[0], targetKinds))
		return t
	}
	c := d.content(b.Body, s)
	if t.Kind == TargetEC2 {
		d.ec2Target(t, c)
		return t
	}
	d.str(c.Attributes["state_dir"], &t.StateDir, t.Ranges)
	return t
}

func (d *decoder) runtime(b *hcl.Block) *Runtime {
	r := &Runtime{DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, runtimeSchema).Attributes
	d.str(a["install_dir"], &r.InstallDir, r.Ranges)
	d.str(a["conf_dir"], &r.ConfDir, r.Ranges)
	d.str(a["log_dir"], &r.LogDir, r.Ranges)
	d.str(a["run_dir"], &r.RunDir, r.Ranges)
	d.str(a["secret_file"], &r.SecretFile, r.Ranges)
	return r
}

func (d *decoder) hadoop(b *hcl.Block) *HadoopPassthrough {
	h := &HadoopPassthrough{DeclRange: b.DefRange, Ranges: Ranges{}}
	a := d.content(b.Body, hadoopSchema).Attributes
	d.strMap(a["core_site"], &h.CoreSite, h.Ranges)
	d.strMap(a["hdfs_site"], &h.HDFSSite, h.Ranges)
	return h
}

// value evaluates attr. ok is false when attr is absent, null (meaning
// "unset", as in Terraform), unknown (its cause is already reported) or failed.
func (d *decoder) value(attr *hcl.Attribute, ranges Ranges) (cty.Value, bool) {
	if attr == nil {
		return cty.NilVal, false
	}
	ranges[attr.Name] = attr.Expr.Range()
	// hcl.ExprList understands literal lists of both native and JSON syntax.
	if elems, diags := hcl.ExprList(attr.Expr); !diags.HasErrors() {
		for i, e := range elems {
			ranges[fmt.Sprintf("%s[%d]", attr.Name, i)] = e.Range()
		}
	}
	if refs := checkRefs(attr.Expr, d.ctx); refs.HasErrors() {
		d.diags = append(d.diags, refs...)
		return cty.NilVal, false
	}
	v, diags := attr.Expr.Value(d.ctx)
	d.diags = append(d.diags, tagRule(diags, RuleType)...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

func (d *decoder) typeError(attr *hcl.Attribute, want string, err error) {
	d.errorf(RuleType, attr.Expr.Range(), "Incorrect attribute value type",
		"Inappropriate value for attribute %q: %s required%s.", attr.Name, want, errSuffix(err))
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func (d *decoder) str(attr *hcl.Attribute, dst *string, ranges Ranges) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || v.Type().IsCollectionType() || v.Type().IsTupleType() || v.Type().IsObjectType() {
		d.typeError(attr, "string", err)
		return
	}
	*dst = s.AsString()
}

func (d *decoder) strList(attr *hcl.Attribute, dst *[]string, ranges Ranges) {
	if v, ok := d.value(attr, ranges); ok {
		d.listValue(attr, v, dst)
	}
}

func (d *decoder) listValue(attr *hcl.Attribute, v cty.Value, dst *[]string) {
	if !(v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		d.typeError(attr, "list of string", nil)
		return
	}
	lv, err := convert.Convert(v, cty.List(cty.String))
	if err != nil {
		d.typeError(attr, "list of string", err)
		return
	}
	out := make([]string, 0, lv.LengthInt())
	for it := lv.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			d.errorf(RuleType, attr.Expr.Range(), "Incorrect attribute value type", "%q must not contain null.", attr.Name)
			return
		}
		out = append(out, ev.AsString())
	}
	*dst = out
}

// strOrList accepts "x" or ["x", "y"] (name_dir).
func (d *decoder) strOrList(attr *hcl.Attribute, dst *[]string, ranges Ranges) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return
	}
	if v.Type() == cty.String {
		*dst = []string{v.AsString()}
		return
	}
	d.listValue(attr, v, dst)
}

func (d *decoder) wholeNumber(attr *hcl.Attribute, ranges Ranges) (int64, bool) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return 0, false
	}
	n, err := convert.Convert(v, cty.Number)
	if err != nil {
		d.typeError(attr, "number", err)
		return 0, false
	}
	bf := n.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact || !bf.IsInt() {
		d.errorf(RuleType, attr.Expr.Range(), "Invalid number", "%q must be a whole number.", attr.Name)
		return 0, false
	}
	return i, true
}

func (d *decoder) port(attr *hcl.Attribute, dst *int, ranges Ranges) {
	n, ok := d.wholeNumber(attr, ranges)
	if !ok {
		return
	}
	if n < 1 || n > 65535 {
		d.errorf(RulePortRange, attr.Expr.Range(), "Invalid port", "%q is %d; a port lies within 1..65535.", attr.Name, n)
		return
	}
	*dst = int(n)
}

func (d *decoder) count(attr *hcl.Attribute, dst *int, ranges Ranges) {
	n, ok := d.wholeNumber(attr, ranges)
	if !ok {
		return
	}
	if n < 0 || n > 10000 {
		d.errorf(RuleType, attr.Expr.Range(), "Invalid count", "%q is %d; it must lie within 0..10000.", attr.Name, n)
		return
	}
	*dst = int(n)
}

func (d *decoder) boolean(attr *hcl.Attribute, dst *bool, ranges Ranges) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil {
		d.typeError(attr, "bool", err)
		return
	}
	*dst = b.True()
}

func (d *decoder) optBool(attr *hcl.Attribute, dst **bool, ranges Ranges) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil {
		d.typeError(attr, "bool", err)
		return
	}
	t := b.True()
	*dst = &t
}

func (d *decoder) duration(attr *hcl.Attribute, dst *time.Duration, ranges Ranges) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return
	}
	if v.Type() != cty.String {
		d.errorf(RuleDuration, attr.Expr.Range(), "Invalid duration",
			"%q must be a duration string such as \"5s\" or \"500ms\", not a %s.", attr.Name, v.Type().FriendlyName())
		return
	}
	dur, err := time.ParseDuration(strings.TrimSpace(v.AsString()))
	if err != nil || dur <= 0 {
		d.errorf(RuleDuration, attr.Expr.Range(), "Invalid duration",
			"%q is %q; write a positive Go duration such as \"5s\", \"500ms\" or \"1m30s\".", attr.Name, v.AsString())
		return
	}
	*dst = dur
}

func (d *decoder) strMap(attr *hcl.Attribute, dst *map[string]string, ranges Ranges) {
	v, ok := d.value(attr, ranges)
	if !ok {
		return
	}
	if !(v.Type().IsMapType() || v.Type().IsObjectType()) {
		d.typeError(attr, "map of string", nil)
		return
	}
	mv, err := convert.Convert(v, cty.Map(cty.String))
	if err != nil {
		d.typeError(attr, "map of string", err)
		return
	}
	out := map[string]string{}
	for it := mv.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if ev.IsNull() {
			continue
		}
		out[k.AsString()] = ev.AsString()
	}
	// Keep the range of each entry when the map is written as a literal.
	if pairs, diags := hcl.ExprMap(attr.Expr); !diags.HasErrors() {
		for _, p := range pairs {
			if kv, diags := p.Key.Value(d.ctx); !diags.HasErrors() && kv.Type() == cty.String && kv.IsKnown() && !kv.IsNull() {
				kv, _ = kv.Unmark()
				ranges[attr.Name+"."+kv.AsString()] = hcl.RangeBetween(p.Key.Range(), p.Value.Range())
			}
		}
	}
	*dst = out
}

// checkRefs reports references to undeclared variables and locals (and to
// anything but var.* and local.*) with a suggestion, before evaluation would
// report them as a bare "Unsupported attribute".
func checkRefs(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		rng := tr.SourceRange()
		root := tr.RootName()
		obj, known := ctx.Variables[root]
		if !known {
			diags = append(diags, newDiag(RuleVariable, hcl.DiagError, "Unknown variable",
				fmt.Sprintf("There is no variable named %q; refer to input variables as var.<name> and to locals as local.<name>.", root), &rng))
			continue
		}
		if len(tr) < 2 {
			continue // evaluation reports the bare object
		}
		ga, ok := tr[1].(hcl.TraverseAttr)
		if !ok || !obj.Type().IsObjectType() || obj.Type().HasAttribute(ga.Name) {
			continue
		}
		var names []string
		for n := range obj.Type().AttributeTypes() {
			names = append(names, n)
		}
		what, summary := "input variable", "Reference to undeclared input variable"
		if root == "local" {
			what, summary = "local value", "Reference to undeclared local value"
		}
		diags = append(diags, newDiag(RuleVariable, hcl.DiagError, summary,
			fmt.Sprintf("No %s named %q is declared.%s", what, ga.Name, suggestFrom(ga.Name, names)), &rng))
	}
	return diags
}
