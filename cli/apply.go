package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hactl/hactl/internal/apply"
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
			lockTimeoutFlag(),
		),
		Action: runApply,
	}
}

func runApply(ctx context.Context, cmd *ucli.Command) error {
	out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
	arg, err := pathArgOrDot(cmd)
	if err != nil {
		return err
	}
	var pf *planner.PlanFile
	vars, varFiles, path := cmd.StringSlice("var"), cmd.StringSlice("var-file"), arg
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		if data, err := os.ReadFile(arg); err == nil && planner.LooksLikePlanFile(data) {
			f, err := os.Open(arg)
			if err != nil {
				return exitCode(1, err)
			}
			pf, err = planner.DecodePlanFile(f)
			f.Close()
			if err != nil {
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
	defer s.Close()
	if pf != nil && pf.Options.RuntimeSHA256 != s.bin.SHA256 {
		return exitCode(1, fmt.Errorf("%w (this hactl binary is not the one that made the plan)", planner.ErrStalePlan))
	}
	dry := cmd.Bool("dry-run")
	env := s.env(out, dry)
	if !dry {
		lock, err := apply.AcquireLock(ctx, env, cmd.Duration("lock-timeout"))
		if err != nil {
			return exitCode(1, err)
		}
		defer lock.Release(context.WithoutCancel(ctx))
	}
	obs, err := s.probe(ctx)
	if err != nil {
		return err
	}
	var plan *planner.ClusterPlan
	if pf != nil {
		if err := pf.CheckFresh(s.desired, obs); err != nil {
			return exitCode(1, err)
		}
		plan = pf.Plan
	} else {
		plan, err = planner.PlanDesired(s.desired, obs, s.planOptions(cmd.Bool("force-format")))
		if err != nil {
			return exitCode(1, err)
		}
	}
	if err := plan.WriteText(out); err != nil {
		return exitCode(1, err)
	}
	if plan.Empty() {
		return nil
	}
	if !dry && pf == nil && !cmd.Bool("auto-approve") &&
		!approve(cmd, "Do you want to perform these actions?", "hactl will perform the actions described above.") {
		fmt.Fprintln(out, "Apply cancelled.")
		return exitCode(1, nil)
	}
	fmt.Fprintln(out)
	rep, err := apply.Execute(ctx, env, plan)
	sum := plan.Summary()
	if err != nil {
		fmt.Fprintf(errw, "\n%d of %d steps done in %s.\n", rep.Done, rep.Total, rep.Elapsed.Round(time.Millisecond))
		var se *apply.StepError
		if errors.As(err, &se) {
			return exitCode(1, fmt.Errorf("%w\nThe hosts are left where a re-run converges from: fix the cause and run hactl apply again", err))
		}
		return exitCode(1, err)
	}
	if dry {
		fmt.Fprintf(out, "\nDry run complete: %d steps, %d changes that would be made, none made.\n", rep.Total, rep.Mutations)
		return nil
	}
	fmt.Fprintf(out, "\nApply complete! %d steps in %s: %d added, %d changed, %d destroyed.\n",
		rep.Done, rep.Elapsed.Round(100*time.Millisecond), sum.Add, sum.Change, sum.Destroy)
	return nil
}
