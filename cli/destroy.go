package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/planner"
	ucli "github.com/urfave/cli/v3"
)

func init() { register(destroyCommand) }

func destroyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "destroy",
		Usage:     "stop every daemon and remove what hactl installed (data dirs stay unless --purge-data)",
		ArgsUsage: "[PATH]",
		Flags: append(clusterFlags(),
			&ucli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
			&ucli.BoolFlag{Name: "purge-data", Usage: "also DELETE NameNode, JournalNode and ZooKeeper data dirs"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print what would be removed and remove nothing"},
			lockTimeoutFlag(),
		),
		Action: runDestroy,
	}
}

func runDestroy(ctx context.Context, cmd *ucli.Command) error {
	out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
	path, err := pathArgOrDot(cmd)
	if err != nil {
		return err
	}
	s, err := openSession(cmd, path, cmd.StringSlice("var"), cmd.StringSlice("var-file"))
	if err != nil {
		return err
	}
	defer s.Close()
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
	plan, err := planner.PlanDestroy(s.cluster, obs, planner.DestroyOptions{PurgeData: cmd.Bool("purge-data")})
	if err != nil {
		return exitCode(1, err)
	}
	if err := plan.WriteText(out); err != nil {
		return exitCode(1, err)
	}
	if plan.Empty() {
		return nil
	}
	detail := "hactl will stop every daemon and remove what it installed. Data dirs stay."
	if cmd.Bool("purge-data") {
		detail = "hactl will stop every daemon, remove what it installed AND DELETE ALL DATA (namespace, edits, ZooKeeper)."
	}
	if !dry && !cmd.Bool("auto-approve") && !approve(cmd, "Do you really want to destroy the cluster?", detail) {
		fmt.Fprintln(out, "Destroy cancelled.")
		return exitCode(1, nil)
	}
	fmt.Fprintln(out)
	rep, err := apply.Execute(ctx, env, plan)
	if err != nil {
		fmt.Fprintf(errw, "\n%d of %d steps done.\n", rep.Done, rep.Total)
		var se *apply.StepError
		if errors.As(err, &se) {
			return exitCode(1, fmt.Errorf("%w\nRun hactl destroy again once the cause is fixed", err))
		}
		return exitCode(1, err)
	}
	if dry {
		fmt.Fprintf(out, "\nDry run complete: %d steps, nothing removed.\n", rep.Total)
		return nil
	}
	fmt.Fprintf(out, "\nDestroy complete! %d steps in %s.\n", rep.Done, rep.Elapsed.Round(100*time.Millisecond))
	return nil
}
