package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without the pulumi CLI, the AWS plugin, credentials and a passphrase,
// every command stops at the preflight, naming each, and creates nothing:
// not even the state dir.
func TestCommandsStopAtThePreflightBeforeCreatingAnything(t *testing.T) {
	src, err := os.ReadFile("../../../examples/ec2/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("PATH", t.TempDir())
	for _, k := range []string{"PULUMI_HOME", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "HACTL_AWS_INSTANCE_ROLE"} {
		t.Setenv(k, "")
	}
	for _, verb := range []string{"preflight", "preview", "up", "destroy"} {
		var out, errw bytes.Buffer
		err := run(context.Background(), []string{verb, "--var", "ssh_cidr=198.51.100.0/24", dir}, &out, &errw)
		if err == nil {
			t.Fatalf("%s passed the preflight on an empty machine", verb)
		}
		for _, want := range []string{"nothing was created", "pulumi CLI", "AWS provider plugin v6.83.4", "no AWS credentials", "PULUMI_CONFIG_PASSPHRASE"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q: %v", verb, want, err)
			}
		}
		if out.Len() != 0 {
			t.Errorf("%s printed %q", verb, out.String())
		}
		if _, err := os.Stat(filepath.Join(dir, ".hactl")); !os.IsNotExist(err) {
			t.Fatalf("%s created the state dir: %v", verb, err)
		}
	}
	var out, errw bytes.Buffer
	if err := run(context.Background(), []string{"nonsense", dir}, &out, &errw); err == nil || !strings.Contains(err.Error(), `unknown command "nonsense"`) {
		t.Errorf("unknown verb: %v", err)
	}
}
