package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	ucli "github.com/urfave/cli/v3"
)

func init() { register(planCommand) }

func planCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "plan",
		Usage:     "show the steps that would converge the hosts to the configuration",
		ArgsUsage: "[PATH]",
		Description: "Probes every host (runtime, configs, daemons, storage, ZooKeeper) and prints the\n" +
			"ordered steps, Terraform-style. With --detailed-exitcode: 0 no changes, 2 changes, 1 error.",
		Flags: append(clusterFlags(),
			&ucli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for hactl apply FILE"},
			&ucli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when there are no changes, 2 when there are, 1 on error"},
			&ucli.StringFlag{Name: "format", Value: "text", Usage: "output format: text or json"},
			&ucli.BoolFlag{Name: "force-format", Usage: "plan a format over existing NameNode/JournalNode data (DESTROYS the namespace)"},
		),
		Action: runPlan,
	}
}

// clusterFlags are the flags every command that reaches the hosts takes.
func clusterFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringSliceFlag{Name: "var", Usage: "set an input variable (`NAME=VALUE`), repeatable"},
		&ucli.StringSliceFlag{Name: "var-file", Usage: "read input variables from `FILE` (.hcl, .tfvars or .json), repeatable"},
		&ucli.BoolFlag{Name: "accept-new-host-keys", Usage: "trust an SSH host key seen for the first time (a changed key still fails)"},
	}
}

// session is a loaded configuration with connections to its hosts.
type session struct {
	path     string
	vars     []string
	varFiles []string
	cluster  *schema.Cluster
	desired  *planner.Desired
	hosts    map[string]targets.Host
	bin      apply.Binary
	// unprovisioned are the ec2 hosts whose instances do not exist yet
	// (ec2.go): they have no address to reach.
	unprovisioned []string
}

// openSession loads and validates the configuration (errors: nothing is
// touched) and opens the hosts.
func openSession(cmd *ucli.Command, path string, vars, varFiles []string) (*session, error) {
	errw := cmd.Root().ErrWriter
	c, diags := schema.Load(path, schema.LoadOptions{Vars: vars, VarFiles: varFiles, Env: schema.EnvFromOS()})
	if len(diags) > 0 {
		writeRenderDiags(errw, c, diags)
	}
	if diags.HasErrors() {
		return nil, exitCode(1, errors.New("the configuration has errors: no plan was made and no host was touched (see hactl validate)"))
	}
	// The instances' addresses come from the last provisioning, before
	// anything renders them.
	unprovisioned, err := provisionedAddresses(c)
	if err != nil {
		return nil, exitCode(1, err)
	}
	d, err := planner.RenderDesired(c)
	if err != nil {
		return nil, exitCode(1, err)
	}
	bin, err := selfBinary()
	if err != nil {
		return nil, exitCode(1, err)
	}
	hosts, err := targets.Open(c, targets.Options{AcceptNewHostKeys: cmd.Bool("accept-new-host-keys"), Log: errw})
	if err != nil {
		return nil, exitCode(1, err)
	}
	abs, _ := filepath.Abs(path)
	return &session{path: abs, vars: vars, varFiles: varFiles, cluster: c, desired: d, hosts: hosts, bin: bin, unprovisioned: unprovisioned}, nil
}

func (s *session) Close() { targets.CloseAll(s.hosts) }

func (s *session) probe(ctx context.Context) (*planner.Observed, error) {
	obs, err := targets.ProbeAll(ctx, s.cluster, s.hosts, targets.ProbeOptions{})
	if err != nil {
		return nil, exitCode(1, fmt.Errorf("probe: %w", err))
	}
	return obs, nil
}

func (s *session) env(out io.Writer, dry bool) *apply.Env {
	return &apply.Env{Cluster: s.cluster, Desired: s.desired, Hosts: s.hosts, Guard: &apply.Guard{DryRun: dry}, Binary: s.bin, Out: out,
		ZooKeeperServing: apply.DefaultZooKeeperServing, JournalInSync: apply.DefaultJournalInSync,
		Dial: targets.Dialer(s.hosts, 10*time.Second)}
}

// selfBinary is this hactl executable: what apply installs on the hosts.
func selfBinary() (apply.Binary, error) {
	self, err := os.Executable()
	if err != nil {
		return apply.Binary{}, fmt.Errorf("locate the hactl binary: %w", err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		return apply.Binary{}, fmt.Errorf("read the hactl binary: %w", err)
	}
	return apply.Binary{Path: self, SHA256: planner.SHA256Hex(data), Version: Version}, nil
}

func (s *session) planOptions(force bool) planner.Options {
	return planner.Options{RuntimeSHA256: s.bin.SHA256, RuntimeVersion: Version, ForceFormat: force}
}

func runPlan(ctx context.Context, cmd *ucli.Command) error {
	out := cmd.Root().Writer
	format := cmd.String("format")
	if format != "text" && format != "json" {
		return usageError("--format must be text or json, not %q", format)
	}
	detailed := cmd.Bool("detailed-exitcode")
	fail := func(err error) error {
		var ee *ExitError
		if errors.As(err, &ee) {
			return err
		}
		return exitCode(1, err)
	}
	path, err := pathArgOrDot(cmd)
	if err != nil {
		return err
	}
	s, err := openSession(cmd, path, cmd.StringSlice("var"), cmd.StringSlice("var-file"))
	if err != nil {
		return err
	}
	defer s.Close()
	ec2Pending := false
	var ec2Changes []targets.EC2Change
	if isEC2(s.cluster) {
		changes, err := s.ec2Preview(ctx, cmd.Root().ErrWriter)
		if err != nil {
			return fail(err)
		}
		ec2Pending, ec2Changes = len(changes) > 0, changes
		if format == "text" {
			writeEC2Changes(out, s.cluster, changes, false)
		}
		if len(s.unprovisioned) > 0 {
			if format == "json" {
				err = writeEC2PlanJSON(out, changes, s.unprovisioned, nil)
			} else {
				fmt.Fprint(out, ec2Unprovisioned(s.unprovisioned))
			}
			if err != nil {
				return fail(err)
			}
			if detailed {
				return exitCode(2, nil)
			}
			return nil
		}
	}
	obs, err := s.probe(ctx)
	if err != nil {
		return err
	}
	opts := s.planOptions(cmd.Bool("force-format"))
	plan, err := planner.PlanDesired(s.desired, obs, opts)
	if err != nil {
		return fail(err)
	}
	if format == "json" && isEC2(s.cluster) {
		err = writeEC2PlanJSON(out, ec2Changes, nil, plan)
	} else if format == "json" {
		err = plan.WriteJSON(out)
	} else {
		err = plan.WriteText(out)
	}
	if err != nil {
		return fail(err)
	}
	if file := cmd.String("out"); file != "" {
		pf := &planner.PlanFile{ConfigPath: s.path, Vars: s.vars, VarFiles: s.varFiles, Options: opts, HactlVersion: Version, Plan: plan,
			ConfigFingerprint: planner.ConfigFingerprint(s.desired, opts), ObservedFingerprint: planner.ObservedFingerprint(obs)}
		if err := writePlanFile(file, pf); err != nil {
			return fail(err)
		}
		if format == "text" {
			fmt.Fprintf(out, "\nSaved the plan to %s. To perform exactly these actions, run:\n  hactl apply %s\n", file, file)
		}
	}
	if detailed && (!plan.Empty() || ec2Pending) {
		return exitCode(2, nil)
	}
	return nil
}

func writePlanFile(path string, pf *planner.PlanFile) error {
	var b strings.Builder
	if err := pf.Encode(&b); err != nil {
		return err
	}
	// The plan may carry variable values: owner-only.
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	return nil
}

// approve asks the Terraform question; only "yes" approves.
func approve(cmd *ucli.Command, question, detail string) bool {
	in := cmd.Root().Reader
	if in == nil {
		in = os.Stdin
	}
	out := cmd.Root().Writer
	fmt.Fprintf(out, "\n%s\n  %s\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", question, detail)
	line, _ := bufio.NewReader(in).ReadString('\n')
	fmt.Fprintln(out)
	return strings.TrimSpace(line) == "yes"
}

// lockTimeoutFlag is --lock-timeout of apply and destroy.
func lockTimeoutFlag() ucli.Flag {
	return &ucli.DurationFlag{Name: "lock-timeout", Value: time.Minute, Usage: "wait this long for another apply's cluster lock before failing"}
}
