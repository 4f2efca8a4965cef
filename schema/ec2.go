package schema

import (
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// EC2 is target "ec2": where the instances go, what they run on and who may
// reach them. hactl provisions them (hactl-ec2, a Pulumi program), then
// applies over SSH as on target ssh.
type EC2 struct {
	Region string
	// An existing network (VPCID with SubnetIDs), or a new one (VPCCIDR,
	// spread over AvailabilityZones, or the region's first three when empty).
	VPCID             string
	SubnetIDs         []string
	VPCCIDR           string
	AvailabilityZones []string
	// The image: an AMI ID, or an SSM parameter that names the newest one
	// (DefaultAMIParameter when neither is given).
	AMI          string
	AMIParameter string
	KeyName      string
	// SSHCIDRs may reach port 22 of the instances (or of the bastion).
	SSHCIDRs []string
	// PublicIP gives each instance a public address; without one the hosts
	// are reached through a bastion (ssh.bastion, or one hactl creates when
	// BastionInstanceType is set).
	PublicIP            bool
	BastionInstanceType string
	Tags                map[string]string
	// Backend is a Pulumi backend URL; "" keeps the state in
	// <state_dir>/pulumi, encrypted with PULUMI_CONFIG_PASSPHRASE.
	Backend        string
	InstanceGroups []*InstanceGroup
}

// InstanceGroup is an EC2 group of instances (master or core, EMR style).
type InstanceGroup struct {
	Name           string // block label, e.g. "master", "core"
	Role           string // "master" | "core"
	InstanceType   string
	Count          int
	Spot           bool
	Hosts          []string // host names this group provides
	RootVolumeGB   int      // 0: the AMI's size
	RootVolumeType string   // "gp3" by default
	// DataVolumeGB > 0 attaches an EBS volume that the instance formats and
	// mounts at DataVolumeMount on first boot.
	DataVolumeGB    int
	DataVolumeType  string
	DataVolumeMount string
	DeclRange       hcl.Range
	Ranges          Ranges
}

// Defaults of target ec2.
const (
	// DefaultAMIParameter is Debian's public SSM parameter for its newest
	// Debian 12 image (amd64).
	DefaultAMIParameter   = "/aws/service/debian/release/bookworm/latest/amd64"
	DefaultVPCCIDR        = "10.42.0.0/16"
	DefaultVolumeType     = "gp3"
	DefaultDataMount      = "/data"
	RoleMaster            = "master"
	RoleCore              = "core"
	defaultAZCount        = 3
	minRootVolumeGB       = 8
	maxVolumeGB           = 16384
	maxTagKeyLen          = 128
	maxTagValueLen        = 256
	ec2StateDirDefault    = ".hactl"
	ec2BackendSubdir      = "pulumi"
	ec2VolumeTypesMessage = "gp2, gp3, io1, io2, st1, sc1 or standard"
)

var (
	ec2TargetSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "region"}, {Name: "ami"}, {Name: "ami_ssm_parameter"}, {Name: "key_name"},
			{Name: "vpc_id"}, {Name: "subnet_id"}, {Name: "subnet_ids"}, {Name: "vpc_cidr"},
			{Name: "availability_zones"}, {Name: "ssh_cidrs"}, {Name: "public_ip"},
			{Name: "bastion_instance_type"}, {Name: "tags"}, {Name: "backend_url"}, {Name: "state_dir"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "instance_group", LabelNames: []string{"name"}}},
	}
	instanceGroupSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "role"}, {Name: "instance_type"}, {Name: "count"}, {Name: "spot"}, {Name: "hosts"},
		{Name: "root_volume_gb"}, {Name: "root_volume_type"},
		{Name: "data_volume_gb"}, {Name: "data_volume_type"}, {Name: "data_volume_mount"},
	}}
	ec2VolumeTypes = []string{"gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"}
	amiIDRe        = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	vpcIDRe        = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDRe     = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	azRe           = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d[a-z]$`)
	// mountRe keeps the mount point plain: it goes into the boot script and fstab.
	mountRe = regexp.MustCompile(`^[A-Za-z0-9/_.-]+$`)
)

// ec2Target decodes the ec2 settings of a target block's content.
func (d *decoder) ec2Target(t *Target, c *hcl.BodyContent) {
	e := &EC2{PublicIP: true}
	a := c.Attributes
	d.str(a["region"], &e.Region, t.Ranges)
	d.str(a["ami"], &e.AMI, t.Ranges)
	d.str(a["ami_ssm_parameter"], &e.AMIParameter, t.Ranges)
	d.str(a["key_name"], &e.KeyName, t.Ranges)
	d.str(a["vpc_id"], &e.VPCID, t.Ranges)
	var one string
	d.str(a["subnet_id"], &one, t.Ranges)
	d.strList(a["subnet_ids"], &e.SubnetIDs, t.Ranges)
	if one != "" {
		e.SubnetIDs = append([]string{one}, e.SubnetIDs...)
	}
	d.str(a["vpc_cidr"], &e.VPCCIDR, t.Ranges)
	d.strList(a["availability_zones"], &e.AvailabilityZones, t.Ranges)
	d.strList(a["ssh_cidrs"], &e.SSHCIDRs, t.Ranges)
	d.boolean(a["public_ip"], &e.PublicIP, t.Ranges)
	d.str(a["bastion_instance_type"], &e.BastionInstanceType, t.Ranges)
	d.strMap(a["tags"], &e.Tags, t.Ranges)
	d.str(a["backend_url"], &e.Backend, t.Ranges)
	d.str(a["state_dir"], &t.StateDir, t.Ranges)
	for _, gb := range c.Blocks {
		g := &InstanceGroup{Name: gb.Labels[0], DeclRange: gb.DefRange, Ranges: Ranges{LabelRangeKey: gb.LabelRanges[0]}}
		ga := d.content(gb.Body, instanceGroupSchema).Attributes
		d.str(ga["role"], &g.Role, g.Ranges)
		if g.Role == "" && (g.Name == RoleMaster || g.Name == RoleCore) {
			g.Role = g.Name
		}
		d.str(ga["instance_type"], &g.InstanceType, g.Ranges)
		d.count(ga["count"], &g.Count, g.Ranges)
		d.boolean(ga["spot"], &g.Spot, g.Ranges)
		d.strList(ga["hosts"], &g.Hosts, g.Ranges)
		if _, set := g.Ranges["count"]; !set {
			g.Count = max(len(g.Hosts), 1)
		}
		d.count(ga["root_volume_gb"], &g.RootVolumeGB, g.Ranges)
		d.str(ga["root_volume_type"], &g.RootVolumeType, g.Ranges)
		d.count(ga["data_volume_gb"], &g.DataVolumeGB, g.Ranges)
		d.str(ga["data_volume_type"], &g.DataVolumeType, g.Ranges)
		d.str(ga["data_volume_mount"], &g.DataVolumeMount, g.Ranges)
		e.InstanceGroups = append(e.InstanceGroups, g)
	}
	t.EC2 = e
}

// EffectiveVPCCIDR is the CIDR of a VPC hactl creates.
func (e *EC2) EffectiveVPCCIDR() string { return orDefault(e.VPCCIDR, DefaultVPCCIDR) }

// EffectiveAMIParameter is the SSM parameter naming the image, "" when an
// AMI ID is given.
func (e *EC2) EffectiveAMIParameter() string {
	if e.AMI != "" {
		return ""
	}
	return orDefault(e.AMIParameter, DefaultAMIParameter)
}

// NewVPC says whether hactl creates the network.
func (e *EC2) NewVPC() bool { return e.VPCID == "" }

// NeedsBastion says whether the hosts are reached through a bastion.
func (e *EC2) NeedsBastion() bool { return !e.PublicIP }

// EffectiveRootVolumeType is the root volume's EBS type.
func (g *InstanceGroup) EffectiveRootVolumeType() string {
	return orDefault(g.RootVolumeType, DefaultVolumeType)
}

// EffectiveDataVolumeType is the data volume's EBS type.
func (g *InstanceGroup) EffectiveDataVolumeType() string {
	return orDefault(g.DataVolumeType, DefaultVolumeType)
}

// EffectiveDataVolumeMount is where the data volume is mounted.
func (g *InstanceGroup) EffectiveDataVolumeMount() string {
	return orDefault(g.DataVolumeMount, DefaultDataMount)
}

// InstanceNames names the group's instances: its hosts, then
// <group>-<n> for instances no host is named for.
func (g *InstanceGroup) InstanceNames() []string {
	out := append([]string(nil), g.Hosts...)
	for i := len(out); i < g.Count; i++ {
		out = append(out, fmt.Sprintf("%s-%d", g.Name, i+1))
	}
	return out
}

// EC2StateDir is where target ec2 keeps its provisioning state (the
// Pulumi file backend and the host list), absolute: state_dir, relative to
// the configuration's directory, ".hactl" by default.
func (c *Cluster) EC2StateDir() string {
	sd := ec2StateDirDefault
	if c.Target != nil && c.Target.StateDir != "" {
		sd = c.Target.StateDir
	}
	if !filepath.IsAbs(sd) && c.ConfigDir != "" {
		sd = filepath.Join(c.ConfigDir, sd)
	}
	if abs, err := filepath.Abs(sd); err == nil {
		sd = abs
	}
	return sd
}

// EC2BackendURL is the Pulumi backend: backend_url, else a file backend
// under the state dir.
func (c *Cluster) EC2BackendURL() string {
	if e := c.Target.EC2; e != nil && e.Backend != "" {
		return e.Backend
	}
	return "file://" + filepath.Join(c.EC2StateDir(), ec2BackendSubdir)
}

// MasterHosts are the hosts that run a NameNode, a JournalNode or a managed
// ZooKeeper server: what EMR's master nodes run. Sorted.
func (c *Cluster) MasterHosts() []string {
	set := map[string]bool{}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			set[nn.Host] = true
		}
		if ns.Journal != nil {
			for _, h := range ns.Journal.Hosts {
				set[h] = true
			}
		}
	}
	if z := c.ZooKeeper; z != nil && z.Managed {
		for _, s := range z.Servers {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// MemberPorts are the TCP ports cluster members open to each other (target
// ec2's security group lets only members reach them), sorted, without
// duplicates: NameNode RPC and HTTP, ZKFC, JournalNode RPC and HTTP, managed
// ZooKeeper's client, peer and election ports, DataNode data transfer, HTTP
// and IPC.
func (c *Cluster) MemberPorts() []int {
	set := map[int]bool{}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			set[nn.EffectiveRPCPort()] = true
			set[nn.EffectiveHTTPPort()] = true
			set[c.ZKFCPort(ns.Name, nn.ID)] = true
		}
		if j := ns.Journal; j != nil {
			set[j.EffectiveRPCPort()] = true
			set[j.EffectiveHTTPPort()] = true
		}
	}
	if z := c.ZooKeeper; z != nil && z.Managed {
		set[z.EffectiveClientPort()] = true
		set[z.EffectivePeerPort()] = true
		set[z.EffectiveElectionPort()] = true
	}
	for _, g := range c.DataNodes {
		set[g.EffectivePort()] = true
		set[g.EffectiveHTTPPort()] = true
		set[g.EffectiveIPCPort()] = true
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// InstanceGroupOf returns the group that provides host, or nil.
func (e *EC2) InstanceGroupOf(host string) *InstanceGroup {
	for _, g := range e.InstanceGroups {
		for _, h := range g.Hosts {
			if h == host {
				return g
			}
		}
	}
	return nil
}

func (v *validator) ec2Target(t *Target) {
	e := t.EC2
	if e == nil {
		return
	}
	if e.Region == "" {
		v.report(RuleEC2Settings, at(t.Ranges, "region", t.DeclRange), "Missing EC2 region",
			`target "ec2" needs region (such as "eu-west-1").`)
	}
	if len(e.InstanceGroups) == 0 {
		v.report(RuleEC2Settings, t.DeclRange, "No instance groups",
			`target "ec2" needs instance_group blocks (a "master" group of 3 runs the NameNodes, JournalNodes and ZooKeeper).`)
	}
	v.ec2Image(t)
	v.ec2Network(t)
	v.ec2Access(t)
	v.ec2Tags(t)
	seen := map[string]bool{}
	for _, g := range e.InstanceGroups {
		if seen[g.Name] {
			v.report(RuleDuplicate, at(g.Ranges, LabelRangeKey, g.DeclRange), "Duplicate instance group",
				"An instance group named %q is already declared.", g.Name)
		}
		seen[g.Name] = true
		v.instanceGroup(g)
	}
	v.ec2Masters(t)
}

func (v *validator) instanceGroup(g *InstanceGroup) {
	if g.Role != RoleMaster && g.Role != RoleCore {
		v.report(RuleEC2Settings, at(g.Ranges, "role", g.DeclRange), "Invalid instance group role",
			"The role of instance group %q is %q; it is \"master\" or \"core\".%s", g.Name, g.Role, suggestFrom(g.Role, []string{RoleMaster, RoleCore}))
	}
	if g.InstanceType == "" {
		v.report(RuleEC2Settings, g.DeclRange, "Missing instance type",
			"Instance group %q needs instance_type (such as \"m5.xlarge\").", g.Name)
	}
	if g.Count < 1 {
		v.report(RuleEC2Settings, at(g.Ranges, "count", g.DeclRange), "Empty instance group",
			"Instance group %q has count %d; it needs at least 1 instance.", g.Name, g.Count)
	}
	if len(g.Hosts) > 0 && g.Count != len(g.Hosts) {
		v.report(RuleEC2Settings, at(g.Ranges, "count", g.DeclRange), "Instance count does not match hosts",
			"Instance group %q has count %d but lists %d hosts; each instance provides one host.", g.Name, g.Count, len(g.Hosts))
	}
	if g.Spot && g.Role == RoleMaster {
		v.report(RuleSpotMaster, at(g.Ranges, "spot", g.DeclRange), "Master instances cannot be spot instances",
			"Instance group %q runs masters (NameNodes, JournalNodes, ZooKeeper); a reclaimed spot instance takes a NameNode and a quorum member with it. Use on-demand instances for masters.", g.Name)
	}
	for i, h := range g.Hosts {
		v.hostRef(h, elemAt(g.Ranges, "hosts", i, g.DeclRange), fmt.Sprintf("Instance group %q", g.Name))
	}
	if _, set := g.Ranges["root_volume_gb"]; set && (g.RootVolumeGB < minRootVolumeGB || g.RootVolumeGB > maxVolumeGB) {
		v.report(RuleEC2Volumes, g.Ranges["root_volume_gb"], "Invalid root volume size",
			"Instance group %q: root_volume_gb is %d; an EBS root volume for Debian holds %d to %d GiB.", g.Name, g.RootVolumeGB, minRootVolumeGB, maxVolumeGB)
	}
	if _, set := g.Ranges["data_volume_gb"]; set && (g.DataVolumeGB < 1 || g.DataVolumeGB > maxVolumeGB) {
		v.report(RuleEC2Volumes, g.Ranges["data_volume_gb"], "Invalid data volume size",
			"Instance group %q: data_volume_gb is %d; an EBS volume holds 1 to %d GiB.", g.Name, g.DataVolumeGB, maxVolumeGB)
	}
	for _, attr := range []string{"root_volume_type", "data_volume_type"} {
		typ := map[string]string{"root_volume_type": g.RootVolumeType, "data_volume_type": g.DataVolumeType}[attr]
		if typ != "" && !contains(ec2VolumeTypes, typ) {
			v.report(RuleEC2Volumes, at(g.Ranges, attr, g.DeclRange), "Unknown EBS volume type",
				"Instance group %q: %s %q is not an EBS volume type (%s).%s", g.Name, attr, typ, ec2VolumeTypesMessage, suggestFrom(typ, ec2VolumeTypes))
		}
	}
	if g.DataVolumeGB == 0 {
		for _, attr := range []string{"data_volume_type", "data_volume_mount"} {
			if rng, set := g.Ranges[attr]; set {
				v.report(RuleEC2Volumes, rng, "Data volume settings without a data volume",
					"Instance group %q sets %s but no data_volume_gb, so there is no data volume; add data_volume_gb or remove %s.", g.Name, attr, attr)
			}
		}
	}
	if m := g.DataVolumeMount; m != "" && (!path.IsAbs(m) || path.Clean(m) == "/" || m != path.Clean(m) || !mountRe.MatchString(m)) {
		v.report(RuleEC2Volumes, at(g.Ranges, "data_volume_mount", g.DeclRange), "Invalid data volume mount point",
			"Instance group %q: data_volume_mount %q is not a clean absolute directory other than / (letters, digits, '/', '_', '.', '-').", g.Name, m)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) ec2Image(t *Target) {
	e := t.EC2
	_, hasAMI := t.Ranges["ami"]
	_, hasParam := t.Ranges["ami_ssm_parameter"]
	if hasAMI && hasParam {
		v.report(RuleEC2Image, t.Ranges["ami_ssm_parameter"], "Both ami and ami_ssm_parameter",
			"Give either an AMI ID (ami) or the SSM parameter that names the newest image (ami_ssm_parameter, default %q), not both.", DefaultAMIParameter)
	}
	if e.AMI != "" && !amiIDRe.MatchString(e.AMI) {
		v.report(RuleEC2Image, t.Ranges["ami"], "Invalid AMI ID",
			"%q is not an AMI ID (ami- followed by 8 or 17 hex digits).", e.AMI)
	}
	if p := e.AMIParameter; p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\n")) {
		v.report(RuleEC2Image, t.Ranges["ami_ssm_parameter"], "Invalid SSM parameter name",
			"%q is not an SSM parameter path (such as %q).", p, DefaultAMIParameter)
	}
}

func (v *validator) ec2Network(t *Target) {
	e := t.EC2
	vpcRng := at(t.Ranges, "vpc_id", t.DeclRange)
	subnetRng := at(t.Ranges, "subnet_ids", at(t.Ranges, "subnet_id", t.DeclRange))
	if e.VPCID != "" && !vpcIDRe.MatchString(e.VPCID) {
		v.report(RuleEC2Network, vpcRng, "Invalid VPC ID", "%q is not a VPC ID (vpc- followed by hex digits).", e.VPCID)
	}
	for i, s := range e.SubnetIDs {
		if !subnetIDRe.MatchString(s) {
			v.report(RuleEC2Network, elemAt(t.Ranges, "subnet_ids", i, subnetRng), "Invalid subnet ID",
				"%q is not a subnet ID (subnet- followed by hex digits).", s)
		}
	}
	switch {
	case e.VPCID != "" && len(e.SubnetIDs) == 0:
		v.report(RuleEC2Network, vpcRng, "Existing VPC without subnets",
			"vpc_id names an existing VPC; list the subnets the instances go into with subnet_ids (several, in distinct availability zones, to spread the masters).")
	case e.VPCID == "" && len(e.SubnetIDs) > 0:
		v.report(RuleEC2Network, subnetRng, "Subnets without their VPC",
			"Existing subnets need vpc_id too (the security group is created in that VPC); or remove them to let hactl create the network.")
	}
	if e.VPCID != "" {
		for _, attr := range []string{"vpc_cidr", "availability_zones"} {
			if rng, set := t.Ranges[attr]; set {
				v.report(RuleEC2Network, rng, "New-network setting with an existing VPC",
					"%s shapes the network hactl creates; with vpc_id the existing subnets decide it. Remove one of them.", attr)
			}
		}
	}
	if c := e.VPCCIDR; c != "" {
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() || p != p.Masked() || p.Bits() < 16 || p.Bits() > 24 {
			v.report(RuleEC2Network, t.Ranges["vpc_cidr"], "Invalid VPC CIDR",
				"vpc_cidr %q is not an IPv4 network between /16 and /24 (such as %q).", c, DefaultVPCCIDR)
		}
	}
	seen := map[string]bool{}
	for i, az := range e.AvailabilityZones {
		rng := elemAt(t.Ranges, "availability_zones", i, t.DeclRange)
		if !azRe.MatchString(az) {
			v.report(RuleEC2Network, rng, "Invalid availability zone", "%q is not an availability zone name (such as \"eu-west-1a\").", az)
		} else if e.Region != "" && !strings.HasPrefix(az, e.Region) {
			v.report(RuleEC2Network, rng, "Availability zone of another region", "%q does not lie in region %q.", az, e.Region)
		}
		if seen[az] {
			v.report(RuleEC2Network, rng, "Duplicate availability zone", "%q is listed twice.", az)
		}
		seen[az] = true
	}
}

func (v *validator) ec2Access(t *Target) {
	e := t.EC2
	for i, c := range e.SSHCIDRs {
		rng := elemAt(t.Ranges, "ssh_cidrs", i, t.DeclRange)
		p, err := netip.ParsePrefix(c)
		if err != nil || p != p.Masked() {
			v.report(RuleEC2Access, rng, "Invalid SSH CIDR", "%q is not a CIDR block such as \"203.0.113.0/24\".", c)
			continue
		}
		if p.Bits() == 0 {
			v.report(RuleEC2SSHOpen, rng, "SSH open to the internet",
				"%q lets every address on the internet try SSH on the instances; name the networks hactl is run from.", c)
		}
	}
	bastionGiven := v.c.SSH != nil && v.c.SSH.Bastion != ""
	reachable := e.PublicIP || e.BastionInstanceType != ""
	if reachable && len(e.SSHCIDRs) == 0 {
		what := "instances have public addresses"
		if !e.PublicIP {
			what = "hactl creates a bastion"
		}
		v.report(RuleEC2Access, t.DeclRange, "No SSH source networks",
			"The %s, and SSH is opened only to ssh_cidrs; list the networks hactl connects from (such as [\"203.0.113.0/24\"]).", what)
	}
	if !e.PublicIP && !bastionGiven && e.BastionInstanceType == "" {
		v.report(RuleEC2Access, at(t.Ranges, "public_ip", t.DeclRange), "Private instances without a bastion",
			"With public_ip = false hactl reaches the instances through a bastion: set bastion_instance_type to have one created, or ssh { bastion = \"user@host\" } for one you run.")
	}
	if e.PublicIP && e.BastionInstanceType != "" {
		v.report(RuleEC2Access, t.Ranges["bastion_instance_type"], "Bastion for public instances",
			"bastion_instance_type creates a bastion for instances without public addresses; add public_ip = false, or remove it.")
	}
}

func (v *validator) ec2Tags(t *Target) {
	for k, val := range t.EC2.Tags {
		rng := at(t.Ranges, "tags."+k, at(t.Ranges, "tags", t.DeclRange))
		switch {
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			v.report(RuleEC2Tags, rng, "Reserved tag key", "Tag keys starting with \"aws:\" are reserved by AWS; %q cannot be set.", k)
		case k == "Name" || strings.HasPrefix(k, "hactl:"):
			v.report(RuleEC2Tags, rng, "Tag set by hactl", "hactl sets the %q tag itself (Name is the host, hactl:* identify the cluster and role).", k)
		case k == "" || len(k) > maxTagKeyLen:
			v.report(RuleEC2Tags, rng, "Invalid tag key", "A tag key has 1 to %d characters; %q has %d.", maxTagKeyLen, k, len(k))
		case len(val) > maxTagValueLen:
			v.report(RuleEC2Tags, rng, "Tag value too long", "Tag %q's value has %d characters; at most %d.", k, len(val), maxTagValueLen)
		}
	}
}

// ec2Masters checks where the masters' daemons land: never on spot, only
// on master groups, and spread over availability zones when the network
// allows.
func (v *validator) ec2Masters(t *Target) {
	e := t.EC2
	masters := v.c.MasterHosts()
	for _, h := range masters {
		g := e.InstanceGroupOf(h)
		if g == nil {
			continue
		}
		rng := at(g.Ranges, "hosts", g.DeclRange)
		switch {
		case g.Spot && g.Role != RoleMaster:
			v.report(RuleSpotMaster, at(g.Ranges, "spot", rng), "Master daemons on spot instances",
				"Host %q runs a NameNode, JournalNode or ZooKeeper server but instance group %q is spot; a reclaimed spot instance takes them with it. Put it in an on-demand master group.", h, g.Name)
		case g.Role == RoleCore:
			v.report(RuleEC2Settings, rng, "Master daemons on a core group",
				"Host %q runs a NameNode, JournalNode or ZooKeeper server; put it in a master instance group (core groups run DataNodes).", h)
		}
	}
	zones := len(e.AvailabilityZones)
	switch {
	case !e.NewVPC():
		zones = len(e.SubnetIDs)
	case zones == 0:
		zones = defaultAZCount
	}
	for _, g := range e.InstanceGroups {
		if g.Role == RoleMaster && g.Count > 1 && zones == 1 {
			rng := at(t.Ranges, "subnet_ids", at(t.Ranges, "subnet_id", at(t.Ranges, "availability_zones", t.DeclRange)))
			v.report(RuleEC2OneZone, rng, "Masters in one availability zone",
				"Instance group %q's %d masters all land in one subnet, so one availability zone outage takes the quorum; give subnets (or availability_zones) in %d zones.", g.Name, g.Count, min(g.Count, defaultAZCount))
		}
	}
}
