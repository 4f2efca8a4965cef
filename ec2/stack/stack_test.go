package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hactl/hactl/ec2/program"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

func loadExample(t *testing.T) *schema.Cluster {
	t.Helper()
	raw, err := os.ReadFile("../../examples/ec2/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return c
}

func TestStackNameFromNameservices(t *testing.T) {
	c := loadExample(t)
	if got := Name(c); got != "ha-nn-uri" {
		t.Errorf("stack = %q", got)
	}
	c.Nameservices = append(c.Nameservices, &schema.Nameservice{Name: "ns 2"})
	if got := Name(c); got != "ha-nn-uri-ns-2" {
		t.Errorf("federated stack = %q", got)
	}
}

// TestChangesFromRecordedPreview reads the engine events of a preview (as
// the Automation API streams them, in Pulumi's event JSON) and checks the
// changes plan shows: the halves of a replacement, unchanged resources,
// the stack and the provider are left out; instances carry their host and
// role, a deleted one its role from its old tags.
func TestChangesFromRecordedPreview(t *testing.T) {
	c := loadExample(t)
	raw, err := os.ReadFile("testdata/preview-replace-master.json")
	if err != nil {
		t.Fatal(err)
	}
	var evs []apitype.EngineEvent
	if err := json.Unmarshal(raw, &evs); err != nil {
		t.Fatal(err)
	}
	got := Changes(c, "ha-nn-uri", evs)
	want := []targets.EC2Change{
		{Op: "update", Type: "aws:ec2/securityGroup:SecurityGroup", Name: "ha-nn-uri", Keys: []string{"tags", "tagsAll"}},
		{Op: "create", Type: "aws:ec2/securityGroupRule:SecurityGroupRule", Name: "ha-nn-uri-member-9864"},
		{Op: "replace", Type: instanceType, Name: "ha-nn-uri-master2", Host: "master2", Role: "master", Keys: []string{"subnetId"}},
		{Op: "update", Type: instanceType, Name: "ha-nn-uri-core1", Host: "core1", Role: "core", Keys: []string{"instanceType"}},
		{Op: "delete", Type: instanceType, Name: "ha-nn-uri-core4", Host: "core4", Role: "core"},
		{Op: "create", Type: instanceType, Name: "ha-nn-uri-core-4", Host: "core-4"},
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("changes:\n%s", gj)
	}
	var losing []string
	for _, ch := range got {
		if ch.LosesData() {
			losing = append(losing, ch.Host)
		}
	}
	if !reflect.DeepEqual(losing, []string{"master2", "core4"}) {
		t.Errorf("changes that lose a host's data: %q", losing)
	}
}

func TestHostListFromOutputs(t *testing.T) {
	c := loadExample(t)
	out := auto.OutputMap{
		program.OutputBastion: {Value: "198.51.100.7"},
		program.OutputHosts: {Value: map[string]any{
			"master1": map[string]any{"address": "10.42.0.10", "public_address": "", "instance_id": "i-1", "group": "master", "zone": "eu-west-1a"},
			"core1":   map[string]any{"address": "10.42.1.20", "public_address": "203.0.113.20", "instance_id": "i-2", "group": "core", "zone": "eu-west-1b"},
		}},
	}
	l, err := HostList(c, out)
	if err != nil {
		t.Fatal(err)
	}
	want := &targets.EC2HostList{Bastion: "198.51.100.7", Hosts: map[string]targets.EC2Instance{
		"master1": {Address: "10.42.0.10", InstanceID: "i-1", Group: "master", Zone: "eu-west-1a"},
		"core1":   {Address: "10.42.1.20", PublicAddress: "203.0.113.20", InstanceID: "i-2", Group: "core", Zone: "eu-west-1b"},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("host list = %+v", l)
	}
	delete(out[program.OutputHosts].Value.(map[string]any)["master1"].(map[string]any), "address")
	if _, err := HostList(c, out); err == nil {
		t.Error("an instance without a private address was accepted")
	}
	if _, err := HostList(c, auto.OutputMap{}); err == nil {
		t.Error("a stack without the hosts output was accepted")
	}
}
