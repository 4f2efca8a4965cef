// Command hactl-ec2 provisions target ec2's instances with Pulumi. hactl
// runs it (plan: preview, apply: up, destroy: destroy); it is a binary of
// its own so that the AWS SDK, whose build is slow and large, is compiled
// only by those who use EC2 (README "Target ec2").
//
//	hactl-ec2 preflight|preview|up|destroy [--var K=V]... [--var-file F]... PATH
//
// preview prints the changes as JSON ([]targets.EC2Change), up the host
// list (targets.EC2HostList, also written under the state dir); progress
// goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/hactl/hactl/ec2/stack"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

const awsModule = "github.com/pulumi/pulumi-aws/sdk/v6"

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hactl-ec2:", err)
		os.Exit(1)
	}
}

// awsPluginVersion is the AWS provider version this binary was built
// against: the plugin the engine needs.
func awsPluginVersion() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if ok {
		for _, d := range bi.Deps {
			if d.Path == awsModule {
				if d.Replace != nil {
					d = d.Replace
				}
				return d.Version, nil
			}
		}
	}
	return "", errors.New("cannot tell which AWS provider version this binary was built with")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: hactl-ec2 preflight|preview|up|destroy [--var K=V] [--var-file F] PATH")
	}
	verb := args[0]
	switch verb {
	case "preflight", "preview", "up", "destroy":
	default:
		return fmt.Errorf("unknown command %q (preflight, preview, up, destroy)", verb)
	}
	fs := flag.NewFlagSet("hactl-ec2 "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var vars, varFiles multi
	fs.Var(&vars, "var", "set an input variable (NAME=VALUE)")
	fs.Var(&varFiles, "var-file", "read input variables from FILE")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	path := "."
	if fs.NArg() > 0 {
		path = fs.Arg(0)
	}
	c, diags := schema.Load(path, schema.LoadOptions{Vars: vars, VarFiles: varFiles, Env: schema.EnvFromOS()})
	if diags.HasErrors() {
		return fmt.Errorf("the configuration has errors (see hactl validate): %s", diags.Error())
	}
	if c.Target == nil || c.Target.EC2 == nil {
		return errors.New("the configuration's target is not ec2")
	}
	version, err := awsPluginVersion()
	if err != nil {
		return err
	}
	if err := targets.EC2Preflight(c, version, targets.OSEC2Env()); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch verb {
	case "preflight":
		return nil
	case "preview":
		changes, err := stack.Preview(ctx, c, stderr)
		if err != nil {
			return err
		}
		if changes == nil {
			changes = []targets.EC2Change{}
		}
		return enc.Encode(changes)
	case "up":
		l, err := stack.Up(ctx, c, stderr)
		if err != nil {
			return err
		}
		return enc.Encode(l)
	default: // destroy
		return stack.Destroy(ctx, c, stderr)
	}
}
