package targets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hactl/hactl/schema"
)

// loadEC2Example copies examples/ec2 into a temp dir (its state dir then
// lives there) and loads it.
func loadEC2Example(t *testing.T) *schema.Cluster {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile("../examples/ec2/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	c, diags := schema.Load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return c
}

func TestEC2HostListGivesAddressesAndSSHRoutes(t *testing.T) {
	c := loadEC2Example(t)
	if l, err := ReadEC2HostList(c); l != nil || err != nil {
		t.Fatalf("before provisioning: %v, %v", l, err)
	}
	if got := ApplyEC2HostList(c, nil); len(got) != 6 {
		t.Fatalf("unprovisioned before any up = %q, want all six", got)
	}
	l := &EC2HostList{Bastion: "admin@198.51.100.9", Hosts: map[string]EC2Instance{
		"master1": {Address: "10.42.0.11", PublicAddress: "203.0.113.11", InstanceID: "i-1", Group: "master", Zone: "eu-west-1a"},
		"master2": {Address: "10.42.1.12", InstanceID: "i-2", Group: "master", Zone: "eu-west-1b"},
	}}
	if err := WriteEC2HostList(c, l); err != nil {
		t.Fatal(err)
	}
	back, err := ReadEC2HostList(c)
	if err != nil || back.Hosts["master2"].Address != "10.42.1.12" || back.Bastion != l.Bastion {
		t.Fatalf("read back %+v, %v", back, err)
	}
	c.Host("master3").Address = "10.42.2.99" // the configuration's own address wins
	got := ApplyEC2HostList(c, back)
	want := []string{"core1", "core2", "core3"}
	if len(got) != len(want) || got[0] != want[0] || got[2] != want[2] {
		t.Errorf("unprovisioned = %q, want %q", got, want)
	}
	if a := c.Host("master1").Address; a != "10.42.0.11" {
		t.Errorf("master1's address = %q, want its private address", a)
	}
	if a := c.Host("master3").Address; a != "10.42.2.99" {
		t.Errorf("master3's configured address was replaced by %q", a)
	}

	hosts, err := Open(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAll(hosts)
	m1, m2 := hosts["master1"].(*SSHHost), hosts["master2"].(*SSHHost)
	if m1.Address() != "10.42.0.11" || m1.hostport() != "203.0.113.11:22" || m1.cfg.Bastion != "" {
		t.Errorf("master1: address %q, ssh to %q via %q; want the private address, SSH to the public one", m1.Address(), m1.hostport(), m1.cfg.Bastion)
	}
	if m2.hostport() != "10.42.1.12:22" || m2.cfg.Bastion != l.Bastion {
		t.Errorf("master2 (no public address): ssh to %q via %q, want its private address through the bastion", m2.hostport(), m2.cfg.Bastion)
	}
}
