package targets

import (
	"errors"
	"strings"
	"testing"
)

// fakeEC2Env has the given variables, PATH entries and files.
func fakeEC2Env(vars map[string]string, path []string, files ...string) EC2Env {
	return EC2Env{
		Getenv: func(k string) string { return vars[k] },
		LookPath: func(name string) (string, error) {
			for _, p := range path {
				if p == name {
					return "/usr/bin/" + name, nil
				}
			}
			return "", errors.New("not found")
		},
		Exists: func(p string) bool {
			for _, f := range files {
				if f == p {
					return true
				}
			}
			return false
		},
		Home: "/home/u",
	}
}

func TestEC2PreflightNamesEachMissingPieceAndHowToGetIt(t *testing.T) {
	c := loadEC2Example(t)
	err := EC2Preflight(c, "v6.83.4", fakeEC2Env(nil, nil))
	if err == nil {
		t.Fatal("an empty machine passed the preflight")
	}
	for _, want := range []string{
		"nothing was created",
		"the pulumi CLI is not on PATH", PulumiCLIBuild,
		"AWS provider plugin v6.83.4 is not installed", "/home/u/.pulumi/plugins/resource-aws-v6.83.4/pulumi-resource-aws",
		"pulumi plugin install resource aws v6.83.4",
		"no AWS credentials", "AWS_ACCESS_KEY_ID", "/home/u/.aws/credentials",
		"PULUMI_CONFIG_PASSPHRASE",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("preflight error lacks %q:\n%v", want, err)
		}
	}

	// Everything present, each from a different source.
	for name, env := range map[string]EC2Env{
		"on PATH, static keys": fakeEC2Env(map[string]string{"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "PULUMI_CONFIG_PASSPHRASE": "p"},
			[]string{"pulumi", "pulumi-resource-aws"}),
		"in PULUMI_HOME, shared files": fakeEC2Env(map[string]string{"PULUMI_HOME": "/opt/pulumi", "PULUMI_CONFIG_PASSPHRASE_FILE": "/p"}, nil,
			"/opt/pulumi/bin/pulumi", "/opt/pulumi/plugins/resource-aws-v6.83.4/pulumi-resource-aws", "/home/u/.aws/config"),
		"instance role": fakeEC2Env(map[string]string{"HACTL_AWS_INSTANCE_ROLE": "1", "PULUMI_CONFIG_PASSPHRASE": "p"}, []string{"pulumi", "pulumi-resource-aws"}),
	} {
		if err := EC2Preflight(c, "6.83.4", env); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A plugin of another version does not count; only the missing piece is named.
	env := fakeEC2Env(map[string]string{"AWS_PROFILE": "x", "PULUMI_CONFIG_PASSPHRASE": "p"}, []string{"pulumi"},
		"/home/u/.pulumi/plugins/resource-aws-v6.80.0/pulumi-resource-aws", "/home/u/.aws/credentials")
	err = EC2Preflight(c, "6.83.4", env)
	if err == nil || strings.Count(err.Error(), "\n  - ") != 1 || !strings.Contains(err.Error(), "plugin v6.83.4") {
		t.Errorf("plugin of another version: %v", err)
	}

	// Pulumi Cloud wants a login, not a passphrase.
	c.Target.EC2.Backend = "https://api.pulumi.com"
	err = EC2Preflight(c, "6.83.4", fakeEC2Env(map[string]string{"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"}, []string{"pulumi", "pulumi-resource-aws"}))
	if err == nil || !strings.Contains(err.Error(), "PULUMI_ACCESS_TOKEN") || strings.Contains(err.Error(), "PASSPHRASE") {
		t.Errorf("cloud backend: %v", err)
	}
}
