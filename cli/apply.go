package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hactl/hactl/planner"
	ucli "github.com/urfave/cli/v3"
)

func init() { register(applyCommand) }

func applyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "apply",
		Usage:     "converge the hosts to the configuration (or perform a saved plan)",
		ArgsUsage: "[PATH | PLANFILE]",
		Description: "Takes the cluster lock, probes the hosts, plans, asks for confirmation, then runs\n" +
			"each step in order and stops at the first failure (a re-run converges from there).\n" +
			"Given a PLANFILE from hactl plan --out, it performs exactly that plan, and refuses\n" +
			"if the configuration or the live state changed since.",
		Flags: append(clusterFlags(),
			&ucli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print every change each step would make and make none"},
			&ucli.BoolFlag{Name: "force-format", Usage: "allow a format over existing NameNode/JournalNode data (DESTROYS the namespace)"},
			&ucli.BoolFlag{Name: "purge-data", Usage: "target ec2: allow replacing or removing instances, which DELETES the data on their volumes"},
			lockTimeoutFlag(),
		),
		Action: runApply,
	}
}

func runApply(ctx context.Context, cmd *ucli.Command) error {
	out := cmd.Root().Writer
	arg, err := pathArgOrDot(cmd)
	if err != nil {
		return err
	}
	var pf *planner.PlanFile
	vars, varFiles, path := cmd.StringSlice("var"), cmd.StringSlice("var-file"), arg
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		if data, err := os.ReadFile(arg); err == nil && planner.LooksLikePlanFile(data) {
			if pf, err = planner.DecodePlanFile(bytes.NewReader(data)); err != nil {
				return exitCode(1, err)
			}
			if len(vars)+len(varFiles) > 0 || cmd.Bool("force-format") {
				return usageError("a saved plan carries its variables and options: --var, --var-file and --force-format cannot change it")
			}
			path, vars, varFiles = pf.ConfigPath, pf.Vars, pf.VarFiles
		}
	}
	s, err := openSession(cmd, path, vars, varFiles)
	if err != nil {
		return err
	}
	defer func() { s.Close() }()
	dry := cmd.Bool("dry-run")
	if isEC2(s.cluster) {
		provisioned, err := s.ec2Up(ctx, cmd, pf != nil, dry)
		if err != nil {
			return err
		}
		if provisioned { // the instances' addresses changed: render anew
			s.Close()
			if s, err = openSession(cmd, path, vars, varFiles); err != nil {
				return err
			}
		}
		if len(s.unprovisioned) > 0 {
			fmt.Fprint(out, ec2Unprovisioned(s.unprovisioned))
			return nil
		}
	}
	if pf != nil && pf.Options.RuntimeSHA256 != s.bin.SHA256 {
		return exitCode(1, fmt.Errorf("%w (this hactl binary is not the one that made the plan)", planner.ErrStalePlan))
	}
	plan, rep, err := s.converge(ctx, cmd, converge{
		dry: dry,
		plan: func(obs *planner.Observed) (*planner.ClusterPlan, error) {
			if pf == nil {
				return planner.PlanDesired(s.desired, obs, s.planOptions(cmd.Bool("force-format")))
			}
			if err := pf.CheckFresh(s.desired, obs); err != nil {
				return nil, err
			}
			return pf.Plan, nil // a saved plan was approved when it was made
		},
		ask: func() bool {
			return pf != nil || cmd.Bool("auto-approve") ||
				approve(cmd, "Do you want to perform these actions?", "hactl will perform the actions described above.")
		},
		cancelled: "Apply cancelled.",
		retry:     "The hosts are left where a re-run converges from: fix the cause and run hactl apply again",
	})
	if err != nil || plan == nil {
		return err
	}
	sum := plan.Summary()
	if dry {
		fmt.Fprintf(out, "\nDry run complete: %d steps, %d changes that would be made, none made.\n", rep.Total, rep.Mutations)
		return nil
	}
	fmt.Fprintf(out, "\nApply complete! %d steps in %s: %d added, %d changed, %d destroyed.\n",
		rep.Done, rep.Elapsed.Round(100*time.Millisecond), sum.Add, sum.Change, sum.Destroy)
	return nil
}
