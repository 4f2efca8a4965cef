package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/runtime/supervise"
)

func init() { registerRuntime(superviseCommand) }

func superviseCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "supervise",
		Usage: "run a daemon detached, restarted on crash, with a JSON record in the run dir",
		Commands: []*ucli.Command{
			{
				Name:      "start",
				Usage:     "start NAME's supervisor (no-op when it already runs the same command)",
				UsageText: "hactl runtime supervise start --name NAME --run-dir RUN --log FILE [--env K=V]... [--replace] [--manager supervisor|systemd|auto] -- ARGV...",
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "name", Required: true},
					&ucli.StringFlag{Name: "run-dir", Required: true},
					&ucli.StringFlag{Name: "log", Required: true},
					&ucli.StringSliceFlag{Name: "env", Usage: "K=V added to the daemon's environment"},
					&ucli.BoolFlag{Name: "replace", Usage: "stop and restart a daemon running a different command"},
					&ucli.StringFlag{Name: "manager", Value: supervise.ManagerSupervisor,
						Usage: "supervisor (hactl's own), systemd (unit hactl-NAME.service) or auto (systemd where it is PID 1)"},
				},
				Action: func(ctx context.Context, c *ucli.Command) error {
					cfg := supervise.Config{
						Name: c.String("name"), RunDir: c.String("run-dir"), Log: c.String("log"),
						Env: c.StringSlice("env"), Argv: c.Args().Slice(),
					}
					if len(cfg.Argv) == 0 {
						return usageError("supervise start: no command given after --")
					}
					switch m := c.String("manager"); m {
					case supervise.ManagerSupervisor, supervise.ManagerSystemd, "auto":
					default:
						return usageError("supervise start: --manager %q: want supervisor, systemd or auto", m)
					}
					started, err := supervise.Start(cfg, supervise.StartOptions{Replace: c.Bool("replace"), Manager: c.String("manager")})
					if errors.Is(err, supervise.ErrArgvChanged) {
						return exitCode(3, err)
					}
					if err != nil {
						return exitCode(1, err)
					}
					if started {
						fmt.Fprintf(c.Root().Writer, "%s started\n", cfg.Name)
					} else {
						fmt.Fprintf(c.Root().Writer, "%s already running\n", cfg.Name)
					}
					return nil
				},
			},
			{
				Name:      "stop",
				Usage:     "stop NAME: SIGTERM, SIGKILL after the timeout (not running is fine)",
				UsageText: "hactl runtime supervise stop --name NAME --run-dir RUN [--timeout 15s] [--forget]",
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "name", Required: true},
					&ucli.StringFlag{Name: "run-dir", Required: true},
					&ucli.DurationFlag{Name: "timeout", Value: 15 * time.Second},
					&ucli.BoolFlag{Name: "forget", Usage: "also remove NAME's record and pid file (the daemon leaves the configuration)"},
				},
				Action: func(ctx context.Context, c *ucli.Command) error {
					if err := supervise.Stop(c.String("run-dir"), c.String("name"), c.Duration("timeout")); err != nil {
						return exitCode(1, err)
					}
					if c.Bool("forget") {
						if err := supervise.Forget(c.String("run-dir"), c.String("name")); err != nil {
							return exitCode(1, err)
						}
					}
					return nil
				},
			},
			{
				Name:      "status",
				Usage:     "every supervised daemon's record and liveness",
				UsageText: "hactl runtime supervise status --run-dir RUN [--json]",
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "run-dir", Required: true},
					&ucli.BoolFlag{Name: "json"},
				},
				Action: func(ctx context.Context, c *ucli.Command) error {
					sts, err := supervise.StatusAll(c.String("run-dir"))
					if err != nil {
						return exitCode(1, err)
					}
					w := c.Root().Writer
					if c.Bool("json") {
						if sts == nil {
							sts = []supervise.Status{}
						}
						enc := json.NewEncoder(w)
						enc.SetIndent("", "  ")
						return enc.Encode(sts)
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tSTATE\tALIVE\tPID\tRESTARTS\tSINCE")
					for _, s := range sts {
						alive := "no"
						if s.ChildAlive {
							alive = "yes"
						}
						since := "-"
						if s.StartedAt > 0 {
							since = time.Unix(s.StartedAt, 0).UTC().Format(time.RFC3339)
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", s.Name, s.State, alive, s.ChildPID, s.Restarts, since)
					}
					return tw.Flush()
				},
			},
			{
				// The detached supervisor process itself (spawned by start).
				Name:            "run",
				Hidden:          true,
				SkipFlagParsing: true,
				Action: func(ctx context.Context, c *ucli.Command) error {
					if code := supervise.Main(c.Args().Slice()); code != 0 {
						os.Exit(code)
					}
					return nil
				},
			},
		},
	}
}
