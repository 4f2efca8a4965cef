package targets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hactl/hactl/schema"
)

// EC2Env is what the ec2 preflight looks at: the environment, PATH and
// files, injectable for tests.
type EC2Env struct {
	Getenv   func(string) string
	LookPath func(string) (string, error)
	Exists   func(string) bool
	Home     string
}

// OSEC2Env is the process's own environment.
func OSEC2Env() EC2Env {
	home, _ := os.UserHomeDir()
	return EC2Env{
		Getenv:   os.Getenv,
		LookPath: exec.LookPath,
		Exists:   func(p string) bool { _, err := os.Stat(p); return err == nil },
		Home:     home,
	}
}

// PulumiCLIBuild is how to get the pulumi CLI without its installer: it
// builds from its Go module (go install puts it in $(go env GOPATH)/bin).
const PulumiCLIBuild = "go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v3.276.0"

// EC2Preflight checks, before anything is created, that target ec2 can run:
// the pulumi CLI, the AWS provider plugin at awsPluginVersion (the version
// hactl-ec2 was built against), AWS credentials, and the backend's secret
// (the passphrase of a self-managed backend, the access token of Pulumi
// Cloud). It reports every missing piece at once, each with how to install
// or provide it.
func EC2Preflight(c *schema.Cluster, awsPluginVersion string, env EC2Env) error {
	var missing []string
	pulumiHome := env.Getenv("PULUMI_HOME")
	if pulumiHome == "" {
		pulumiHome = filepath.Join(env.Home, ".pulumi")
	}
	if _, err := env.LookPath("pulumi"); err != nil && !env.Exists(filepath.Join(pulumiHome, "bin", "pulumi")) {
		missing = append(missing, "the pulumi CLI is not on PATH (nor in "+filepath.Join(pulumiHome, "bin")+
			"): install it from pulumi.com, or build it: `"+PulumiCLIBuild+"` and put $(go env GOPATH)/bin on PATH")
	}
	v := strings.TrimPrefix(awsPluginVersion, "v")
	plugin := filepath.Join(pulumiHome, "plugins", "resource-aws-v"+v, "pulumi-resource-aws")
	if _, err := env.LookPath("pulumi-resource-aws"); err != nil && !env.Exists(plugin) {
		missing = append(missing, fmt.Sprintf("the Pulumi AWS provider plugin v%s is not installed (looked for %s and pulumi-resource-aws on PATH): "+
			"`pulumi plugin install resource aws v%s`, or put a pulumi-resource-aws binary of that version on PATH", v, plugin, v))
	}
	if why := awsCredentials(env); why != "" {
		missing = append(missing, why)
	}
	backend := c.EC2BackendURL()
	switch {
	case strings.HasPrefix(backend, "https://"):
		if env.Getenv("PULUMI_ACCESS_TOKEN") == "" && !env.Exists(filepath.Join(pulumiHome, "credentials.json")) {
			missing = append(missing, "backend "+backend+" (Pulumi Cloud) needs a login: set PULUMI_ACCESS_TOKEN or run `pulumi login "+backend+"`")
		}
	default:
		if env.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && env.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
			missing = append(missing, "the stack's state in "+backend+" is encrypted with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), the same on every run")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errors.New("target ec2 cannot provision yet; nothing was created:\n  - " + strings.Join(missing, "\n  - "))
}

// awsCredentials says what is missing when no AWS credentials source
// the provider reads is present: static keys, a profile in the shared
// files, web identity or container credentials. An instance role (IMDS)
// cannot be seen without asking the network, so HACTL_AWS_INSTANCE_ROLE=1
// vouches for one.
func awsCredentials(env EC2Env) string {
	if env.Getenv("HACTL_AWS_INSTANCE_ROLE") == "1" {
		return ""
	}
	if env.Getenv("AWS_ACCESS_KEY_ID") != "" && env.Getenv("AWS_SECRET_ACCESS_KEY") != "" {
		return ""
	}
	if env.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE") != "" || env.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "" ||
		env.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "" {
		return ""
	}
	creds := env.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" {
		creds = filepath.Join(env.Home, ".aws", "credentials")
	}
	config := env.Getenv("AWS_CONFIG_FILE")
	if config == "" {
		config = filepath.Join(env.Home, ".aws", "config")
	}
	if env.Exists(creds) || env.Exists(config) {
		return ""
	}
	return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), " +
		"or AWS_PROFILE with " + creds + " or " + config + " (`aws configure`); on an instance with an IAM role set HACTL_AWS_INSTANCE_ROLE=1"
}
