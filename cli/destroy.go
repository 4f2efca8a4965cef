package cli

import (
	"context"
	"fmt"
	"time"

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
			&ucli.BoolFlag{Name: "purge-data", Usage: "also DELETE NameNode, JournalNode, DataNode and ZooKeeper data dirs"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print what would be removed and remove nothing"},
			lockTimeoutFlag(),
		),
		Action: runDestroy,
	}
}

func runDestroy(ctx context.Context, cmd *ucli.Command) error {
	out := cmd.Root().Writer
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
	detail := "hactl will stop every daemon and remove what it installed. Data dirs stay."
	if cmd.Bool("purge-data") {
		detail = "hactl will stop every daemon, remove what it installed AND DELETE ALL DATA (namespace, edits, ZooKeeper)."
	}
	if isEC2(s.cluster) {
		detail += ec2DestroyDetail(cmd.Bool("purge-data"))
		if len(s.unprovisioned) > 0 {
			// Hosts without instances run nothing to stop.
			return s.ec2Destroy(ctx, cmd, dry, false)
		}
	}
	asked := false
	plan, rep, err := s.converge(ctx, cmd, converge{
		dry: dry,
		plan: func(obs *planner.Observed) (*planner.ClusterPlan, error) {
			return planner.PlanDestroy(s.cluster, obs, planner.DestroyOptions{PurgeData: cmd.Bool("purge-data")})
		},
		ask: func() bool {
			asked = true
			return cmd.Bool("auto-approve") || approve(cmd, "Do you really want to destroy the cluster?", detail)
		},
		cancelled: "Destroy cancelled.",
		retry:     "Run hactl destroy again once the cause is fixed",
	})
	if err != nil {
		return err
	}
	if plan != nil {
		if dry {
			fmt.Fprintf(out, "\nDry run complete: %d steps, nothing removed.\n", rep.Total)
		} else {
			fmt.Fprintf(out, "\nDestroy complete! %d steps in %s.\n", rep.Done, rep.Elapsed.Round(100*time.Millisecond))
		}
	}
	if isEC2(s.cluster) {
		// The daemons are stopped: the instances can go.
		return s.ec2Destroy(ctx, cmd, dry, asked)
	}
	return nil
}
