package program

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hactl/hactl/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// debianAMI is what the mocked SSM parameter holds.
const debianAMI = "ami-0d3b5e1f2a4c6e8f0"

// mocks records every resource the program declares and answers the two
// invokes it makes (availability zones, the SSM image parameter) as AWS
// would. An instance is placed in its subnet's zone and gets addresses, so
// the outputs carry what a real up would give.
type mocks struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
	invokes   []string
	subnetAZ  map[string]string // mock subnet ID → zone
	next      int
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resources = append(m.resources, args)
	m.next++
	out := args.Inputs.Copy()
	id := args.Name + "-id"
	switch args.TypeToken {
	case "aws:ec2/subnet:Subnet":
		id = "subnet-" + args.Name
		m.subnetAZ[id] = args.Inputs["availabilityZone"].StringValue()
	case "aws:ec2/instance:Instance":
		id = "i-" + args.Name
		subnet := args.Inputs["subnetId"].StringValue()
		az, ok := m.subnetAZ[subnet]
		if !ok {
			az = "existing-zone-of-" + subnet
		}
		out["availabilityZone"] = resource.NewStringProperty(az)
		out["privateIp"] = resource.NewStringProperty("10.42.0." + strconv.Itoa(100+m.next))
		if ip, ok := args.Inputs["privateIp"]; ok && ip.IsString() {
			out["privateIp"] = ip // a pinned address, as EC2 gives it
		}
		if v, ok := args.Inputs["associatePublicIpAddress"]; ok && v.BoolValue() {
			out["publicIp"] = resource.NewStringProperty("203.0.113." + strconv.Itoa(m.next))
		} else {
			out["publicIp"] = resource.NewStringProperty("")
		}
	}
	return id, out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.invokes = append(m.invokes, args.Token)
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{
			"names": []any{"eu-west-1c", "eu-west-1a", "eu-west-1b", "eu-west-1d"},
		}), nil
	case "aws:ec2/getSubnet:getSubnet":
		id := args.Args["id"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": id, "cidrBlock": "10.9." + id[len(id)-1:] + ".0/24", "availabilityZone": "eu-west-1" + map[string]string{"1": "a", "2": "b", "3": "c"}[id[len(id)-1:]],
		}), nil
	case "aws:ssm/getParameter:getParameter":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": args.Args["name"].StringValue(), "value": debianAMI, "insecureValue": debianAMI, "type": "String",
		}), nil
	}
	return resource.PropertyMap{}, nil
}

func boolOf(v resource.PropertyValue) bool { return v.IsBool() && v.BoolValue() }

func (m *mocks) of(typ string) []pulumi.MockResourceArgs {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []pulumi.MockResourceArgs
	for _, r := range m.resources {
		if r.TypeToken == typ {
			out = append(out, r)
		}
	}
	return out
}

func (m *mocks) named(typ, name string) pulumi.MockResourceArgs {
	for _, r := range m.of(typ) {
		if r.Name == name {
			return r
		}
	}
	return pulumi.MockResourceArgs{}
}

// resolved is one host's outputs once the mocked deployment resolved them.
type resolved struct{ address, public, id, zone, group string }

// run loads the example with its target block replaced by target ("" keeps
// it) and runs the program against the mocks.
func run(t *testing.T, target string) (*mocks, map[string]resolved, string) {
	t.Helper()
	raw, err := os.ReadFile("../../examples/ec2/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	if target != "" {
		src = strings.SplitN(src, `target "ec2" {`, 2)[0] + target
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m := &mocks{subnetAZ: map[string]string{}}
	got := map[string]resolved{}
	var bastion string
	var mu sync.Mutex
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		out, err := Build(ctx, c, "hactl-test")
		if err != nil {
			return err
		}
		for h, in := range out.Hosts {
			pulumi.All(in.Address, in.PublicAddress, in.InstanceID, in.Zone).ApplyT(func(v []any) error {
				mu.Lock()
				defer mu.Unlock()
				got[h] = resolved{v[0].(string), v[1].(string), v[2].(string), v[3].(string), in.Group}
				return nil
			})
		}
		out.Bastion.ApplyT(func(s string) error { mu.Lock(); bastion = s; mu.Unlock(); return nil })
		return nil
	}, pulumi.WithMocks("hactl", "test", m))
	if err != nil {
		t.Fatal(err)
	}
	return m, got, bastion
}

func TestProgramNewNetworkPublicInstances(t *testing.T) {
	m, hosts, bastion := run(t, "")
	count := map[string]int{}
	for _, r := range m.resources {
		count[r.TypeToken]++
	}
	want := map[string]int{
		"aws:ec2/vpc:Vpc": 1, "aws:ec2/internetGateway:InternetGateway": 1, "aws:ec2/routeTable:RouteTable": 1,
		"aws:ec2/subnet:Subnet": 3, "aws:ec2/routeTableAssociation:RouteTableAssociation": 3,
		"aws:ec2/securityGroup:SecurityGroup": 1,
		// SSH and the 11 daemon ports between members, SSH from ssh_cidrs.
		"aws:ec2/securityGroupRule:SecurityGroupRule": 13,
		"aws:ec2/instance:Instance":                   6,
	}
	for typ, n := range want {
		if count[typ] != n {
			t.Errorf("%s: %d declared, want %d", typ, count[typ], n)
		}
	}
	if len(count) != len(want) {
		t.Errorf("resource types = %v, want exactly %v (no NAT, no bastion for public instances)", count, want)
	}
	if bastion != "" {
		t.Errorf("bastion = %q for public instances", bastion)
	}
	// The region's first three zones, sorted, each with its /24 of
	// 10.42.0.0/16 in zone order (the mocks see registrations in any order).
	var subnets []string
	for _, s := range m.of("aws:ec2/subnet:Subnet") {
		subnets = append(subnets, s.Inputs["availabilityZone"].StringValue()+" "+s.Inputs["cidrBlock"].StringValue())
		if !boolOf(s.Inputs["mapPublicIpOnLaunch"]) {
			t.Errorf("subnet %s maps no public IPs for public instances", s.Name)
		}
	}
	sort.Strings(subnets)
	if want := []string{"eu-west-1a 10.42.0.0/24", "eu-west-1b 10.42.1.0/24", "eu-west-1c 10.42.2.0/24"}; !slices.Equal(subnets, want) {
		t.Errorf("subnets = %q, want %q", subnets, want)
	}

	// Masters: on demand, one per zone, root 30 GiB, data 200 GiB mounted at /mnt.
	masterZones := map[string]bool{}
	for _, h := range []string{"master1", "master2", "master3"} {
		in := m.named("aws:ec2/instance:Instance", "hactl-test-"+h)
		if in.Name == "" {
			t.Fatalf("no instance for %s", h)
		}
		if _, spot := in.Inputs["instanceMarketOptions"]; spot {
			t.Errorf("%s is spot", h)
		}
		if ami := in.Inputs["ami"].StringValue(); ami != debianAMI {
			t.Errorf("%s: ami %q, want the SSM parameter's %q", h, ami, debianAMI)
		}
		if in.Inputs["instanceType"].StringValue() != "m5.xlarge" || in.Inputs["keyName"].StringValue() != "hactl" {
			t.Errorf("%s: type %v key %v", h, in.Inputs["instanceType"], in.Inputs["keyName"])
		}
		root := in.Inputs["rootBlockDevice"].ObjectValue()
		if root["volumeSize"].NumberValue() != 30 || root["volumeType"].StringValue() != "gp3" || !boolOf(root["encrypted"]) {
			t.Errorf("%s: root volume %v", h, root)
		}
		ebs := in.Inputs["ebsBlockDevices"].ArrayValue()
		if len(ebs) != 1 || ebs[0].ObjectValue()["volumeSize"].NumberValue() != 200 {
			t.Errorf("%s: data volumes %v", h, ebs)
		}
		if ud := in.Inputs["userData"].StringValue(); !strings.Contains(ud, "mp='/mnt'") {
			t.Errorf("%s: user data does not mount the data volume at /mnt:\n%s", h, ud)
		}
		tags := in.Inputs["tags"].ObjectValue()
		if tags["Name"].StringValue() != "hactl-test-"+h || tags[TagRole].StringValue() != "master" || tags["project"].StringValue() != "hactl-example" {
			t.Errorf("%s: tags %v", h, tags)
		}
		masterZones[hosts[h].zone] = true
	}
	if len(masterZones) != 3 {
		t.Errorf("masters span zones %v, want three", masterZones)
	}
	// Masters keep their address across a replacement: pinned, one per zone.
	for h, want := range map[string]string{"master1": "10.42.0.10", "master2": "10.42.1.10", "master3": "10.42.2.10"} {
		in := m.named("aws:ec2/instance:Instance", "hactl-test-"+h)
		if got := in.Inputs["privateIp"]; !got.IsString() || got.StringValue() != want || hosts[h].address != want {
			t.Errorf("%s: private IP input %v, output %q, want %s", h, got, hosts[h].address, want)
		}
	}
	if ip := m.named("aws:ec2/instance:Instance", "hactl-test-core1").Inputs["privateIp"]; ip.IsString() {
		t.Errorf("core1 has a pinned address %v; only masters are pinned", ip)
	}
	for _, h := range []string{"core1", "core2", "core3"} {
		in := m.named("aws:ec2/instance:Instance", "hactl-test-"+h)
		mo := in.Inputs["instanceMarketOptions"]
		if !mo.IsObject() || mo.ObjectValue()["marketType"].StringValue() != "spot" {
			t.Errorf("%s: market options %v, want spot", h, mo)
		}
	}

	// Outputs wired: every host has its instance's addresses and zone.
	if len(hosts) != 6 {
		t.Fatalf("hosts output = %v", hosts)
	}
	for h, r := range hosts {
		if !strings.HasPrefix(r.address, "10.42.") || !strings.HasPrefix(r.public, "203.0.113.") || r.id != "i-hactl-test-"+h || !strings.HasPrefix(r.zone, "eu-west-1") {
			t.Errorf("%s: outputs %+v", h, r)
		}
	}
	if hosts["core2"].group != "core" || hosts["master2"].group != "master" {
		t.Errorf("groups: %+v %+v", hosts["core2"], hosts["master2"])
	}
}

func TestProgramSecurityGroupRules(t *testing.T) {
	m, _, _ := run(t, "")
	var self []int
	var fromCIDRs []string
	for _, r := range m.of("aws:ec2/securityGroupRule:SecurityGroupRule") {
		in := r.Inputs
		if in["type"].StringValue() != "ingress" || in["protocol"].StringValue() != "tcp" {
			t.Errorf("%s: %v", r.Name, in)
		}
		from, to := int(in["fromPort"].NumberValue()), int(in["toPort"].NumberValue())
		if from != to {
			t.Errorf("%s opens the range %d-%d; only single daemon ports are opened", r.Name, from, to)
		}
		switch {
		case boolOf(in["self"]):
			self = append(self, from)
		case in["cidrBlocks"].IsArray():
			if from != 22 {
				t.Errorf("port %d is open to %v; only SSH is reachable from outside", from, in["cidrBlocks"])
			}
			for _, c := range in["cidrBlocks"].ArrayValue() {
				fromCIDRs = append(fromCIDRs, c.StringValue())
			}
		default:
			t.Errorf("%s: neither between members nor from ssh_cidrs: %v", r.Name, in)
		}
	}
	sort.Ints(self)
	if want := []int{22, 2181, 2888, 3888, 8019, 8020, 8480, 8485, 9864, 9866, 9867, 9870}; !slices.Equal(self, want) {
		t.Errorf("ports between members = %v, want %v", self, want)
	}
	if !slices.Equal(fromCIDRs, []string{"192.0.2.0/24"}) {
		t.Errorf("SSH from %q, want ssh_cidrs only", fromCIDRs)
	}
	sg := m.of("aws:ec2/securityGroup:SecurityGroup")[0]
	if ing, ok := sg.Inputs["ingress"]; ok && ing.IsArray() && len(ing.ArrayValue()) > 0 {
		t.Errorf("the members' group has inline ingress %v", ing)
	}
}

const privateTarget = `target "ec2" {
  region                = "eu-west-1"
  key_name              = "hactl"
  ssh_cidrs             = ["198.51.100.0/24"]
  public_ip             = false
  bastion_instance_type = "t3.micro"
  ami                   = "ami-0123456789abcdef0"
  availability_zones    = ["eu-west-1a", "eu-west-1b"]
  instance_group "master" {
    instance_type = "m5.xlarge"
    hosts         = ["master1", "master2", "master3"]
  }
  instance_group "core" {
    instance_type = "m5.large"
    spot          = true
    hosts         = ["core1", "core2", "core3"]
  }
}
`

func TestProgramPrivateInstancesBehindBastion(t *testing.T) {
	m, hosts, bastion := run(t, privateTarget)
	if n := len(m.of("aws:ec2/natGateway:NatGateway")); n != 1 {
		t.Errorf("%d NAT gateways, want 1 for private instances", n)
	}
	if n := len(m.of("aws:ec2/subnet:Subnet")); n != 4 {
		t.Errorf("%d subnets, want a public and a private one in each of 2 zones", n)
	}
	for _, inv := range m.invokes {
		if strings.Contains(inv, "ssm") {
			t.Errorf("the image is looked up in SSM although ami is given")
		}
	}
	b := m.named("aws:ec2/instance:Instance", "hactl-test-bastion")
	if b.Name == "" || b.Inputs["instanceType"].StringValue() != "t3.micro" || !boolOf(b.Inputs["associatePublicIpAddress"]) {
		t.Fatalf("bastion instance %v", b.Inputs)
	}
	if !strings.Contains(b.Inputs["subnetId"].StringValue(), "public") {
		t.Errorf("bastion in subnet %q, want a public one", b.Inputs["subnetId"].StringValue())
	}
	bsg := m.named("aws:ec2/securityGroup:SecurityGroup", "hactl-test-bastion")
	ing := bsg.Inputs["ingress"].ArrayValue()
	if len(ing) != 1 || ing[0].ObjectValue()["cidrBlocks"].ArrayValue()[0].StringValue() != "198.51.100.0/24" {
		t.Errorf("bastion ingress %v, want SSH from ssh_cidrs", ing)
	}
	var sshFromBastion, sshFromCIDR bool
	for _, r := range m.of("aws:ec2/securityGroupRule:SecurityGroupRule") {
		if r.Inputs["sourceSecurityGroupId"].IsString() && r.Inputs["sourceSecurityGroupId"].StringValue() == "hactl-test-bastion-id" {
			sshFromBastion = int(r.Inputs["fromPort"].NumberValue()) == 22
		}
		if r.Inputs["cidrBlocks"].IsArray() {
			sshFromCIDR = true
		}
	}
	if !sshFromBastion || sshFromCIDR {
		t.Errorf("members: SSH from the bastion %v, from CIDRs %v; want only from the bastion", sshFromBastion, sshFromCIDR)
	}
	if bastion == "" {
		t.Error("no bastion address in the outputs")
	}
	for h, r := range hosts {
		in := m.named("aws:ec2/instance:Instance", "hactl-test-"+h)
		if boolOf(in.Inputs["associatePublicIpAddress"]) || r.public != "" {
			t.Errorf("%s has a public address", h)
		}
		if !strings.Contains(in.Inputs["subnetId"].StringValue(), "private") {
			t.Errorf("%s in subnet %q, want a private one", h, in.Inputs["subnetId"].StringValue())
		}
		if in.Inputs["ami"].StringValue() != "ami-0123456789abcdef0" {
			t.Errorf("%s: ami %v", h, in.Inputs["ami"])
		}
	}
	// Two zones for three masters: round robin puts two in the first, at
	// the first two master addresses of its private subnet.
	if hosts["master1"].zone != "eu-west-1a" || hosts["master2"].zone != "eu-west-1b" || hosts["master3"].zone != "eu-west-1a" {
		t.Errorf("master zones %s %s %s", hosts["master1"].zone, hosts["master2"].zone, hosts["master3"].zone)
	}
	if hosts["master1"].address != "10.42.2.10" || hosts["master2"].address != "10.42.3.10" || hosts["master3"].address != "10.42.2.11" {
		t.Errorf("master addresses %s %s %s", hosts["master1"].address, hosts["master2"].address, hosts["master3"].address)
	}
}

func TestProgramExistingNetworkSpreadsOverItsSubnets(t *testing.T) {
	m, hosts, _ := run(t, `target "ec2" {
  region     = "eu-west-1"
  ssh_cidrs  = ["192.0.2.0/24"]
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"]
  instance_group "master" {
    instance_type = "m5.xlarge"
    hosts         = ["master1", "master2", "master3"]
  }
  instance_group "core" {
    instance_type = "m5.large"
    hosts         = ["core1", "core2", "core3"]
  }
}
`)
	for _, typ := range []string{"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway"} {
		if n := len(m.of(typ)); n != 0 {
			t.Errorf("%d %s created in an existing network", n, typ)
		}
	}
	if vpc := m.of("aws:ec2/securityGroup:SecurityGroup")[0].Inputs["vpcId"].StringValue(); vpc != "vpc-0123456789abcdef0" {
		t.Errorf("security group in %q", vpc)
	}
	seen := map[string]bool{}
	for _, h := range []string{"master1", "master2", "master3"} {
		seen[m.named("aws:ec2/instance:Instance", "hactl-test-"+h).Inputs["subnetId"].StringValue()] = true
	}
	if len(seen) != 3 {
		t.Errorf("masters in subnets %v, want all three", seen)
	}
	// Pinned inside each existing subnet's CIDR, as the lookup gives it.
	for h, want := range map[string]string{"master1": "10.9.1.10", "master2": "10.9.2.10", "master3": "10.9.3.10"} {
		if hosts[h].address != want {
			t.Errorf("%s at %q, want %s", h, hosts[h].address, want)
		}
	}
	if len(hosts) != 6 {
		t.Errorf("hosts = %v", hosts)
	}
}

func TestSubnetAddress(t *testing.T) {
	if a, err := SubnetAddress("10.42.1.0/24", 10); err != nil || a != "10.42.1.10" {
		t.Errorf("10 into 10.42.1.0/24: %q, %v", a, err)
	}
	if a, err := SubnetAddress("10.8.0.16/28", 14); err != nil || a != "10.8.0.30" {
		t.Errorf("14 into 10.8.0.16/28: %q, %v", a, err)
	}
	if _, err := SubnetAddress("10.8.0.16/28", 15); err == nil {
		t.Error("the broadcast reservation was handed out")
	}
}

func TestSubnetCIDRs(t *testing.T) {
	got, err := SubnetCIDRs("10.8.0.0/20", 3)
	if err != nil || !slices.Equal(got, []string{"10.8.0.0/28", "10.8.0.16/28", "10.8.0.32/28"}) {
		t.Errorf("/20 → %q, %v", got, err)
	}
	if _, err := SubnetCIDRs("10.8.0.0/24", 20); err == nil {
		t.Error("20 subnets fit a /24 split into /28s")
	}
}

func TestDataVolumeScriptNeverFormatsADiskWithAFilesystem(t *testing.T) {
	s := DataVolumeScript("/data")
	for _, want := range []string{`[ "$d" = "$root" ] && continue`, `lsblk -no FSTYPE`, "mkfs.ext4 -q -L hactl-data", "LABEL=hactl-data $mp ext4 defaults,nofail", "^LABEL=hactl-data "} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}
