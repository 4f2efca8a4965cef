package targets_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

func TestOpenLocal(t *testing.T) {
	state := t.TempDir()
	c := &schema.Cluster{
		Hosts:  []*schema.Host{{Name: "a", Address: "127.0.2.21"}, {Name: "b", Address: "127.0.2.22"}},
		Target: &schema.Target{Kind: schema.TargetLocal, StateDir: state},
	}
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer targets.CloseAll(hosts)
	a, ok := hosts["a"].(*targets.Local)
	if !ok || a.Address() != "127.0.2.21" || a.Root != filepath.Join(state, "hosts", "a") {
		t.Fatalf("local host a: %#v", hosts["a"])
	}
	if names := targets.Sorted(hosts); len(names) != 2 || names[0].Name() != "a" || names[1].Name() != "b" {
		t.Errorf("Sorted: %v", names)
	}
}

func TestOpenSSHIsLazy(t *testing.T) {
	c := &schema.Cluster{
		Hosts:  []*schema.Host{{Name: "a", Address: "127.0.2.23", SSH: &schema.SSH{Port: 1}}},
		Target: &schema.Target{Kind: schema.TargetSSH},
		SSH:    &schema.SSH{User: "hadoop", PrivateKey: "/nonexistent/key"},
	}
	// Opening dials nothing: a bad key or a dead host shows per host, on use.
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer targets.CloseAll(hosts)
	if _, ok := hosts["a"].(*targets.SSHHost); !ok {
		t.Fatalf("host a: %#v", hosts["a"])
	}
	_, err = hosts["a"].Run(context.Background(), targets.Command{Args: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/key") {
		t.Errorf("Run with a missing key: %v", err)
	}
	if _, err := targets.Open(&schema.Cluster{Target: &schema.Target{Kind: "carrier-pigeon"}}, targets.Options{}); err == nil {
		t.Error("unknown target kind accepted")
	}
}
