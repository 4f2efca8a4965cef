package stack

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hactl/hactl/ec2/program"
	"github.com/hactl/hactl/targets"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TestEngineWithFileBackend runs the Automation API runner against the real
// pulumi CLI and a file backend under the state dir, with an inline program
// that declares no AWS resource (no account, no provider plugin, no
// network): up writes the host list from the program's outputs, a preview
// then shows no change, destroy empties the stack and removes the host
// list. It needs the pulumi CLI on PATH (README "Target ec2": it builds
// from its Go module) and skips without it.
func TestEngineWithFileBackend(t *testing.T) {
	if _, err := exec.LookPath("pulumi"); err != nil {
		t.Skip("the pulumi CLI is not on PATH")
	}
	t.Setenv("PULUMI_HOME", t.TempDir())
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "hactl-test")
	c := loadExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prog := func(ctx *pulumi.Context) error {
		ctx.Export(program.OutputHosts, pulumi.Map{
			"master1": pulumi.Map{"address": pulumi.String("10.42.0.11"), "public_address": pulumi.String("203.0.113.11"),
				"instance_id": pulumi.String("i-1"), "group": pulumi.String("master"), "zone": pulumi.String("eu-west-1a")},
		})
		ctx.Export(program.OutputBastion, pulumi.String(""))
		return nil
	}
	s, err := open(ctx, c, prog)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.EC2StateDir(), "pulumi", ".pulumi")); err != nil {
		t.Errorf("no file backend under the state dir: %v", err)
	}
	var progress bytes.Buffer
	l, err := up(ctx, c, s, &progress)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, progress.String())
	}
	back, err := targets.ReadEC2HostList(c)
	if err != nil || back == nil || back.Hosts["master1"].Address != "10.42.0.11" || l.Hosts["master1"].PublicAddress != "203.0.113.11" {
		t.Fatalf("host list after up: %+v (returned %+v), %v", back, l, err)
	}
	changes, err := preview(ctx, c, s, &progress)
	if err != nil || len(changes) != 0 {
		t.Errorf("preview after up: %+v, %v", changes, err)
	}
	if err := destroy(ctx, c, s, &progress); err != nil {
		t.Fatalf("destroy: %v\n%s", err, progress.String())
	}
	if l, err := targets.ReadEC2HostList(c); l != nil || err != nil {
		t.Errorf("host list after destroy: %+v, %v", l, err)
	}
}
