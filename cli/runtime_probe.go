package cli

import (
	"context"
	"encoding/json"
	"os"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/runtime/probe"
)

func init() { registerRuntime(probeCommand) }

func probeCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "probe",
		Usage:     "print this host's observed state as JSON (run by plan/apply on every host)",
		UsageText: "hactl runtime probe --conf DIR --run-dir RUN [--install-dir D] [--address A]",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "conf", Required: true, Usage: "hactl's config dir on this host"},
			&ucli.StringFlag{Name: "run-dir", Required: true, Usage: "supervisor records"},
			&ucli.StringFlag{Name: "install-dir", Value: "/opt/hactl"},
			&ucli.StringFlag{Name: "address", Usage: "this host's address in the cluster config (which NameNodes are local)"},
		},
		Action: func(ctx context.Context, c *ucli.Command) error {
			self, _ := os.Executable()
			obs, err := probe.Gather(ctx, probe.Options{
				ConfDir: c.String("conf"), RunDir: c.String("run-dir"), InstallDir: c.String("install-dir"),
				Address: c.String("address"), Version: Version, Self: self,
			})
			if err != nil {
				return exitCode(1, err)
			}
			return json.NewEncoder(c.Root().Writer).Encode(obs)
		},
	}
}
