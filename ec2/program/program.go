// Package program is target ec2's Pulumi program: from a cluster
// description to a network, security groups and one instance per host of
// each instance group. It is run inline through the Automation API (package
// stack) and unit-tested with pulumi.WithMocks.
package program

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/hactl/hactl/schema"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Stack outputs (the host list is built from them).
const (
	OutputHosts   = "hosts"   // map host → {address, public_address, instance_id, group, zone}
	OutputBastion = "bastion" // public address of the bastion hactl created, "" when none
)

// Tag keys hactl sets on everything it creates.
const (
	TagCluster = "hactl:cluster"
	TagRole    = "hactl:role"
	TagGroup   = "hactl:group"
)

// dataDevice is the device name the data volume is attached as; on Nitro
// instances it appears as an NVMe disk, so the boot script finds it by
// being the one unformatted extra disk, not by this name.
const dataDevice = "/dev/sdf"

// Program returns the Pulumi program for cluster c (validated, target ec2),
// named name (the stack and the Name tags' prefix). It exports
// OutputHosts and OutputBastion.
func Program(c *schema.Cluster, name string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		out, err := Build(ctx, c, name)
		if err != nil {
			return err
		}
		hosts := pulumi.Map{}
		for h, in := range out.Hosts {
			hosts[h] = pulumi.Map{
				"address": in.Address, "public_address": in.PublicAddress, "instance_id": in.InstanceID,
				"group": pulumi.String(in.Group), "zone": in.Zone,
			}
		}
		ctx.Export(OutputHosts, hosts)
		ctx.Export(OutputBastion, out.Bastion)
		return nil
	}
}

// Instance is what the program knows of one host's instance.
type Instance struct {
	Group                                    string
	Address, PublicAddress, InstanceID, Zone pulumi.StringOutput
}

// Outputs are the program's results: every host's instance and the
// bastion's public address ("" when hactl creates none).
type Outputs struct {
	Hosts   map[string]Instance
	Bastion pulumi.StringOutput
}

// Build declares the resources of c in ctx.
func Build(ctx *pulumi.Context, c *schema.Cluster, name string) (*Outputs, error) {
	b := &builder{ctx: ctx, c: c, e: c.Target.EC2, name: name}
	return b.run()
}

type builder struct {
	ctx  *pulumi.Context
	c    *schema.Cluster
	e    *schema.EC2
	name string

	vpcID pulumi.StringInput
	// instanceSubnets are the subnets instances go into, one per zone, in
	// order; masters are spread over them round robin. subnetCIDRs are
	// their CIDR blocks, in the same order.
	instanceSubnets []pulumi.StringInput
	subnetCIDRs     []string
	// bastionSubnet is a public subnet (new network only).
	bastionSubnet pulumi.StringInput
}

func (b *builder) tags(extra map[string]string) pulumi.StringMap {
	m := pulumi.StringMap{TagCluster: pulumi.String(b.name)}
	for k, v := range b.e.Tags {
		m[k] = pulumi.String(v)
	}
	for k, v := range extra {
		m[k] = pulumi.String(v)
	}
	return m
}

func (b *builder) run() (*Outputs, error) {
	if err := b.network(); err != nil {
		return nil, err
	}
	ami, err := b.image()
	if err != nil {
		return nil, err
	}
	bastionSG, bastionIP, err := b.bastion(ami)
	if err != nil {
		return nil, err
	}
	sg, err := b.securityGroup(bastionSG)
	if err != nil {
		return nil, err
	}
	out := &Outputs{Hosts: map[string]Instance{}, Bastion: bastionIP}
	for _, g := range b.e.InstanceGroups {
		for i, host := range g.InstanceNames() {
			in, err := b.instance(g, i, host, ami, sg)
			if err != nil {
				return nil, err
			}
			out.Hosts[host] = Instance{Group: g.Name, Address: in.PrivateIp, PublicAddress: in.PublicIp,
				InstanceID: in.ID().ToStringOutput(), Zone: in.AvailabilityZone}
		}
	}
	return out, nil
}

// zones are the availability zones of a new network: the configured ones,
// else the region's first three.
func (b *builder) zones() ([]string, error) {
	if len(b.e.AvailabilityZones) > 0 {
		return b.e.AvailabilityZones, nil
	}
	res, err := aws.GetAvailabilityZones(b.ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
	if err != nil {
		return nil, fmt.Errorf("list the availability zones of %s: %w", b.e.Region, err)
	}
	names := append([]string(nil), res.Names...)
	sort.Strings(names)
	if len(names) > 3 {
		names = names[:3]
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("region %s has no available availability zone", b.e.Region)
	}
	return names, nil
}

// SubnetCIDRs splits a VPC CIDR into n subnets of equal size: 8 more
// prefix bits (a /16 gives /24s), fewer when that would be smaller than a /28.
func SubnetCIDRs(vpc string, n int) ([]string, error) {
	p, err := netip.ParsePrefix(vpc)
	if err != nil {
		return nil, err
	}
	bits := min(p.Bits()+8, 28)
	if 1<<(bits-p.Bits()) < n {
		return nil, fmt.Errorf("%s holds fewer than %d subnets", vpc, n)
	}
	base := p.Masked().Addr().As4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	out := make([]string, n)
	for i := range n {
		a := v + uint32(i)<<(32-bits)
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits).String()
	}
	return out, nil
}

func (b *builder) network() error {
	if !b.e.NewVPC() {
		b.vpcID = pulumi.String(b.e.VPCID)
		for _, id := range b.e.SubnetIDs {
			sub, err := ec2.LookupSubnet(b.ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)})
			if err != nil {
				return fmt.Errorf("look up subnet %s: %w", id, err)
			}
			b.instanceSubnets = append(b.instanceSubnets, pulumi.String(id))
			b.subnetCIDRs = append(b.subnetCIDRs, sub.CidrBlock)
		}
		return nil
	}
	zones, err := b.zones()
	if err != nil {
		return err
	}
	private := b.e.NeedsBastion()
	n := len(zones)
	if private {
		n *= 2
	}
	cidrs, err := SubnetCIDRs(b.e.EffectiveVPCCIDR(), n)
	if err != nil {
		return fmt.Errorf("vpc_cidr: %w", err)
	}
	vpc, err := ec2.NewVpc(b.ctx, b.name, &ec2.VpcArgs{
		CidrBlock: pulumi.String(b.e.EffectiveVPCCIDR()), EnableDnsHostnames: pulumi.Bool(true), EnableDnsSupport: pulumi.Bool(true),
		Tags: b.tags(map[string]string{"Name": b.name}),
	})
	if err != nil {
		return err
	}
	b.vpcID = vpc.ID()
	igw, err := ec2.NewInternetGateway(b.ctx, b.name, &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: b.tags(map[string]string{"Name": b.name})})
	if err != nil {
		return err
	}
	public, err := ec2.NewRouteTable(b.ctx, b.name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   b.tags(map[string]string{"Name": b.name + "-public"}),
	})
	if err != nil {
		return err
	}
	var publicSubnets []*ec2.Subnet
	for i, z := range zones {
		s, err := b.subnet(fmt.Sprintf("%s-public-%s", b.name, z), vpc, cidrs[i], z, true, public)
		if err != nil {
			return err
		}
		publicSubnets = append(publicSubnets, s)
	}
	b.bastionSubnet = publicSubnets[0].ID()
	if !private {
		for i, s := range publicSubnets {
			b.instanceSubnets = append(b.instanceSubnets, s.ID())
			b.subnetCIDRs = append(b.subnetCIDRs, cidrs[i])
		}
		return nil
	}
	// Private instances reach out (the ZooKeeper package, Debian's mirrors)
	// through one NAT gateway in the first public subnet.
	eip, err := ec2.NewEip(b.ctx, b.name+"-nat", &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: b.tags(map[string]string{"Name": b.name + "-nat"})})
	if err != nil {
		return err
	}
	nat, err := ec2.NewNatGateway(b.ctx, b.name, &ec2.NatGatewayArgs{
		AllocationId: eip.ID(), SubnetId: publicSubnets[0].ID(), Tags: b.tags(map[string]string{"Name": b.name}),
	}, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return err
	}
	privateRT, err := ec2.NewRouteTable(b.ctx, b.name+"-private", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
		Tags:   b.tags(map[string]string{"Name": b.name + "-private"}),
	})
	if err != nil {
		return err
	}
	for i, z := range zones {
		s, err := b.subnet(fmt.Sprintf("%s-private-%s", b.name, z), vpc, cidrs[len(zones)+i], z, false, privateRT)
		if err != nil {
			return err
		}
		b.instanceSubnets = append(b.instanceSubnets, s.ID())
		b.subnetCIDRs = append(b.subnetCIDRs, cidrs[len(zones)+i])
	}
	return nil
}

func (b *builder) subnet(name string, vpc *ec2.Vpc, cidr, zone string, public bool, rt *ec2.RouteTable) (*ec2.Subnet, error) {
	s, err := ec2.NewSubnet(b.ctx, name, &ec2.SubnetArgs{
		VpcId: vpc.ID(), CidrBlock: pulumi.String(cidr), AvailabilityZone: pulumi.String(zone),
		MapPublicIpOnLaunch: pulumi.Bool(public && b.e.PublicIP),
		Tags:                b.tags(map[string]string{"Name": name}),
	})
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRouteTableAssociation(b.ctx, name, &ec2.RouteTableAssociationArgs{SubnetId: s.ID(), RouteTableId: rt.ID()}); err != nil {
		return nil, err
	}
	return s, nil
}

// image is the AMI ID: the configured one, or the value of the SSM
// parameter (the newest Debian image by default).
func (b *builder) image() (string, error) {
	if b.e.AMI != "" {
		return b.e.AMI, nil
	}
	param := b.e.EffectiveAMIParameter()
	res, err := ssm.LookupParameter(b.ctx, &ssm.LookupParameterArgs{Name: param})
	if err != nil {
		return "", fmt.Errorf("read the image from SSM parameter %s: %w", param, err)
	}
	if !strings.HasPrefix(res.InsecureValue, "ami-") {
		return "", fmt.Errorf("SSM parameter %s holds %q, not an AMI ID", param, res.InsecureValue)
	}
	return res.InsecureValue, nil
}

// bastion creates the bastion (when the instances are private and the
// configuration asks for one): its security group admits SSH from ssh_cidrs.
func (b *builder) bastion(ami string) (*ec2.SecurityGroup, pulumi.StringOutput, error) {
	none := pulumi.String("").ToStringOutput()
	if b.e.BastionInstanceType == "" {
		return nil, none, nil
	}
	if b.bastionSubnet == nil {
		return nil, none, fmt.Errorf("a bastion needs a public subnet: hactl creates one only with the network (no vpc_id); with an existing VPC run your own bastion and name it in ssh { bastion = … }")
	}
	sg, err := ec2.NewSecurityGroup(b.ctx, b.name+"-bastion", &ec2.SecurityGroupArgs{
		VpcId: b.vpcID, Description: pulumi.String("hactl " + b.name + ": SSH bastion"),
		Ingress: ec2.SecurityGroupIngressArray{&ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(22), ToPort: pulumi.Int(22),
			CidrBlocks: pulumi.ToStringArray(b.e.SSHCIDRs), Description: pulumi.String("SSH from ssh_cidrs"),
		}},
		Egress: allEgress(),
		Tags:   b.tags(map[string]string{"Name": b.name + "-bastion"}),
	})
	if err != nil {
		return nil, none, err
	}
	in, err := ec2.NewInstance(b.ctx, b.name+"-bastion", &ec2.InstanceArgs{
		Ami: pulumi.String(ami), InstanceType: pulumi.String(b.e.BastionInstanceType),
		SubnetId: b.bastionSubnet, VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		AssociatePublicIpAddress: pulumi.Bool(true), KeyName: b.keyName(),
		Tags: b.tags(map[string]string{"Name": b.name + "-bastion", TagRole: "bastion"}),
	}, pulumi.IgnoreChanges([]string{"ami"}))
	if err != nil {
		return nil, none, err
	}
	return sg, in.PublicIp, nil
}

func allEgress() ec2.SecurityGroupEgressArray {
	return ec2.SecurityGroupEgressArray{&ec2.SecurityGroupEgressArgs{
		Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0),
		CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")}, Description: pulumi.String("all outbound"),
	}}
}

func (b *builder) keyName() pulumi.StringPtrInput {
	if b.e.KeyName == "" {
		return nil
	}
	return pulumi.String(b.e.KeyName)
}

// securityGroup is the members' group: each daemon port only from members
// (and SSH between members, for sshfence), SSH from ssh_cidrs or, for
// private instances, from the bastion.
func (b *builder) securityGroup(bastionSG *ec2.SecurityGroup) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(b.ctx, b.name, &ec2.SecurityGroupArgs{
		VpcId: b.vpcID, Description: pulumi.String("hactl " + b.name + ": cluster members"),
		Egress: allEgress(),
		Tags:   b.tags(map[string]string{"Name": b.name}),
	})
	if err != nil {
		return nil, err
	}
	rule := func(name string, args *ec2.SecurityGroupRuleArgs) error {
		args.Type = pulumi.String("ingress")
		args.Protocol = pulumi.String("tcp")
		args.SecurityGroupId = sg.ID()
		_, err := ec2.NewSecurityGroupRule(b.ctx, b.name+"-"+name, args)
		return err
	}
	for _, p := range append([]int{22}, b.c.MemberPorts()...) {
		if err := rule("member-"+strconv.Itoa(p), &ec2.SecurityGroupRuleArgs{
			FromPort: pulumi.Int(p), ToPort: pulumi.Int(p), Self: pulumi.Bool(true),
			Description: pulumi.String(fmt.Sprintf("port %d between members", p)),
		}); err != nil {
			return nil, err
		}
	}
	if bastionSG != nil {
		if err := rule("ssh-bastion", &ec2.SecurityGroupRuleArgs{
			FromPort: pulumi.Int(22), ToPort: pulumi.Int(22), SourceSecurityGroupId: bastionSG.ID(),
			Description: pulumi.String("SSH from the bastion"),
		}); err != nil {
			return nil, err
		}
	}
	if b.e.PublicIP && len(b.e.SSHCIDRs) > 0 {
		if err := rule("ssh", &ec2.SecurityGroupRuleArgs{
			FromPort: pulumi.Int(22), ToPort: pulumi.Int(22), CidrBlocks: pulumi.ToStringArray(b.e.SSHCIDRs),
			Description: pulumi.String("SSH from ssh_cidrs"),
		}); err != nil {
			return nil, err
		}
	}
	return sg, nil
}

// subnetFor spreads a group's instances over the subnets (zones) round
// robin, so three masters land in three zones when there are three.
func (b *builder) subnetFor(i int) pulumi.StringInput {
	return b.instanceSubnets[i%len(b.instanceSubnets)]
}

func (b *builder) instance(g *schema.InstanceGroup, i int, host, ami string, sg *ec2.SecurityGroup) (*ec2.Instance, error) {
	args := &ec2.InstanceArgs{
		Ami: pulumi.String(ami), InstanceType: pulumi.String(g.InstanceType),
		SubnetId: b.subnetFor(i), VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		AssociatePublicIpAddress: pulumi.Bool(b.e.PublicIP), KeyName: b.keyName(),
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeType: pulumi.String(g.EffectiveRootVolumeType()), DeleteOnTermination: pulumi.Bool(true), Encrypted: pulumi.Bool(true),
		},
		Tags: b.tags(map[string]string{"Name": b.name + "-" + host, TagRole: g.Role, TagGroup: g.Name}),
	}
	if g.Role == schema.RoleMaster {
		ip, err := b.masterAddress(g, i)
		if err != nil {
			return nil, err
		}
		args.PrivateIp = pulumi.String(ip)
	}
	if g.RootVolumeGB > 0 {
		args.RootBlockDevice.(*ec2.InstanceRootBlockDeviceArgs).VolumeSize = pulumi.Int(g.RootVolumeGB)
	}
	if g.DataVolumeGB > 0 {
		args.EbsBlockDevices = ec2.InstanceEbsBlockDeviceArray{&ec2.InstanceEbsBlockDeviceArgs{
			DeviceName: pulumi.String(dataDevice), VolumeSize: pulumi.Int(g.DataVolumeGB),
			VolumeType: pulumi.String(g.EffectiveDataVolumeType()), DeleteOnTermination: pulumi.Bool(true), Encrypted: pulumi.Bool(true),
		}}
		args.UserData = pulumi.String(DataVolumeScript(g.EffectiveDataVolumeMount()))
	}
	if g.Spot {
		// A reclaimed spot instance terminates; hactl replaces it on the next apply.
		args.InstanceMarketOptions = &ec2.InstanceInstanceMarketOptionsArgs{
			MarketType: pulumi.String("spot"),
			SpotOptions: &ec2.InstanceInstanceMarketOptionsSpotOptionsArgs{
				SpotInstanceType: pulumi.String("one-time"), InstanceInterruptionBehavior: pulumi.String("terminate"),
			},
		}
	}
	// A newer image behind the SSM parameter must not replace running
	// masters: only new instances get it.
	return ec2.NewInstance(b.ctx, b.name+"-"+host, args, pulumi.IgnoreChanges([]string{"ami"}))
}

// masterBase is the first host offset of masters in a subnet (AWS
// reserves the first four addresses); each master group gets a block of
// masterBlock addresses.
const (
	masterBase  = 10
	masterBlock = 20
)

// masterAddress pins the private address of master i of group g: the
// same address for the instance that replaces it, so a replaced master is
// a replaced host (bootstrapped from its peers) and not a changed quorum
// (a new qjournal URI and NameNode address on every host). Master i is the
// (i / zones)-th master of its group in subnet i % zones.
func (b *builder) masterAddress(g *schema.InstanceGroup, i int) (string, error) {
	block := 0
	for _, o := range b.e.InstanceGroups {
		if o == g {
			break
		}
		if o.Role == schema.RoleMaster {
			block++
		}
	}
	n := len(b.instanceSubnets)
	if i/n >= masterBlock {
		return "", fmt.Errorf("instance group %s: more than %d masters in one subnet", g.Name, masterBlock)
	}
	return SubnetAddress(b.subnetCIDRs[i%n], masterBase+block*masterBlock+i/n)
}

// SubnetAddress is the address offset hosts into the IPv4 subnet cidr.
func SubnetAddress(cidr string, offset int) (string, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", err
	}
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) + uint32(offset)
	ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	// The last address of a subnet is AWS's broadcast reservation.
	if !p.Contains(ip) || offset >= 1<<(32-p.Bits())-1 {
		return "", fmt.Errorf("subnet %s has no address at offset %d (too small for its masters)", cidr, offset)
	}
	return ip.String(), nil
}

// DataVolumeScript is the first-boot script that formats the data volume
// (the one extra disk without a filesystem) and mounts it at mount, by
// label, so the mount survives device renaming. It never formats a disk
// that holds a filesystem.
func DataVolumeScript(mount string) string {
	return `#!/bin/sh
set -eu
mp='` + mount + `'
grep -q '^LABEL=hactl-data ' /etc/fstab 2>/dev/null && exit 0
root=$(lsblk -no PKNAME "$(findmnt -no SOURCE /)")
for d in $(lsblk -dno NAME,TYPE | awk '$2=="disk"{print $1}'); do
  [ "$d" = "$root" ] && continue
  [ -n "$(lsblk -no FSTYPE "/dev/$d" | tr -d '[:space:]')" ] && continue
  mkfs.ext4 -q -L hactl-data "/dev/$d"
  break
done
mkdir -p "$mp"
echo "LABEL=hactl-data $mp ext4 defaults,nofail 0 2" >> /etc/fstab
mount "$mp"
`
}
