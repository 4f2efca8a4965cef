package schema

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEC2ExampleDecodes(t *testing.T) {
	c := mustLoad(t, "../examples/ec2", LoadOptions{})
	e := c.Target.EC2
	if e == nil {
		t.Fatal("target ec2 decoded without its EC2 settings")
	}
	if !e.NewVPC() || e.NeedsBastion() || e.EffectiveVPCCIDR() != DefaultVPCCIDR {
		t.Errorf("network: new=%v bastion=%v cidr=%q", e.NewVPC(), e.NeedsBastion(), e.EffectiveVPCCIDR())
	}
	if e.EffectiveAMIParameter() != DefaultAMIParameter {
		t.Errorf("image parameter = %q, want Debian's default", e.EffectiveAMIParameter())
	}
	if got := e.SSHCIDRs; !slices.Equal(got, []string{"192.0.2.0/24"}) {
		t.Errorf("ssh_cidrs = %q", got)
	}
	if len(e.InstanceGroups) != 2 {
		t.Fatalf("groups = %d", len(e.InstanceGroups))
	}
	m, core := e.InstanceGroups[0], e.InstanceGroups[1]
	if m.Role != RoleMaster || m.RootVolumeGB != 30 || m.DataVolumeGB != 200 || m.EffectiveDataVolumeMount() != "/mnt" || m.EffectiveRootVolumeType() != "gp3" {
		t.Errorf("master group = %+v", m)
	}
	if core.Role != RoleCore || !core.Spot || core.DataVolumeGB != 500 || core.EffectiveDataVolumeMount() != DefaultDataMount {
		t.Errorf("core group = %+v", core)
	}
	if g := e.InstanceGroupOf("core2"); g != core {
		t.Errorf("group of core2 = %v", g)
	}
	if got, want := c.MasterHosts(), []string{"master1", "master2", "master3"}; !slices.Equal(got, want) {
		t.Errorf("masters = %q, want %q", got, want)
	}
	// NameNode RPC/HTTP, ZooKeeper client/peer/election, JournalNode, ZKFC,
	// DataNode HTTP, data transfer and IPC.
	if got, want := c.MemberPorts(), []int{2181, 2888, 3888, 8019, 8020, 8480, 8485, 9864, 9866, 9867, 9870}; !slices.Equal(got, want) {
		t.Errorf("member ports = %v, want %v", got, want)
	}
	abs, _ := filepath.Abs(c.ConfigDir)
	wantBackend := "file://" + filepath.Join(abs, ".hactl", "pulumi")
	if got := c.EC2BackendURL(); got != wantBackend {
		t.Errorf("backend = %q, want %q", got, wantBackend)
	}
}

func TestEC2InstanceNamesFillUnnamedInstances(t *testing.T) {
	g := &InstanceGroup{Name: "core", Count: 3, Hosts: []string{"dn1"}}
	if got, want := g.InstanceNames(), []string{"dn1", "core-2", "core-3"}; !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}

func TestEC2BackendURLAndStateDir(t *testing.T) {
	c := &Cluster{ConfigDir: "/etc/cl", Target: &Target{Kind: TargetEC2, StateDir: "st", EC2: &EC2{}}}
	if got := c.EC2BackendURL(); got != "file:///etc/cl/st/pulumi" {
		t.Errorf("backend = %q", got)
	}
	c.Target.EC2.Backend = "s3://bucket/prefix"
	if got := c.EC2BackendURL(); got != "s3://bucket/prefix" {
		t.Errorf("configured backend = %q", got)
	}
	c.Target.EC2.AMI = "ami-0123456789abcdef0"
	if c.Target.EC2.EffectiveAMIParameter() != "" {
		t.Error("an AMI ID still resolves through SSM")
	}
}

// ec2Diags loads the example with its target block replaced.
func ec2Diags(t *testing.T, target string) []string {
	t.Helper()
	raw, err := os.ReadFile("../examples/ec2/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.SplitN(string(raw), `target "ec2" {`, 2)[0] + target
	_, diags := LoadSources(map[string][]byte{"cluster.hcl": []byte(src)}, LoadOptions{})
	var out []string
	for _, d := range diags {
		out = append(out, RuleID(d)+": "+d.Summary)
	}
	return out
}

func TestEC2MasterDaemonsOnCoreGroupAndExistingSubnets(t *testing.T) {
	got := ec2Diags(t, `target "ec2" {
  region     = "eu-west-1"
  ssh_cidrs  = ["192.0.2.0/24"]
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]
  instance_group "master" {
    instance_type = "m5.xlarge"
    hosts         = ["master1", "master2"]
  }
  instance_group "core" {
    instance_type = "m5.xlarge"
    hosts         = ["master3", "core1", "core2", "core3"]
  }
}
`)
	want := []string{"HA011: Master daemons on a core group"}
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics = %q, want %q (three subnets spread the masters: no HA026)", got, want)
	}
}

func TestEC2PrivateInstancesWithBastion(t *testing.T) {
	for name, tc := range map[string]struct {
		target string
		want   []string
	}{
		"hactl's bastion": {`target "ec2" {
  region                = "eu-west-1"
  ssh_cidrs             = ["192.0.2.0/24"]
  public_ip             = false
  bastion_instance_type = "t3.micro"
  instance_group "master" {
    instance_type = "m5.xlarge"
    hosts         = ["master1", "master2", "master3"]
  }
  instance_group "core" {
    instance_type = "m5.xlarge"
    hosts         = ["core1", "core2", "core3"]
  }
}
`, nil},
		"bastion on public instances": {`target "ec2" {
  region                = "eu-west-1"
  ssh_cidrs             = ["192.0.2.0/24"]
  bastion_instance_type = "t3.micro"
  instance_group "master" {
    instance_type = "m5.xlarge"
    hosts         = ["master1", "master2", "master3"]
  }
  instance_group "core" {
    instance_type = "m5.xlarge"
    hosts         = ["core1", "core2", "core3"]
  }
}
`, []string{"HA016: Bastion for public instances"}},
	} {
		if got := ec2Diags(t, tc.target); !slices.Equal(got, tc.want) {
			t.Errorf("%s: diagnostics = %q, want %q", name, got, tc.want)
		}
	}
}
