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
		Usage:     "print what only the installed runtime can tell about this host as JSON (run by plan/apply on every host)",
		UsageText: "hactl runtime probe --conf DIR [--install-dir D] [--address A]",
		Description: "Prints the runtime's version, each local NameNode's HA state and the storage dirs of the installed\n" +
			"configuration. The caller's shell reads everything else (hashes, supervisor records, storage).",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "conf", Required: true, Usage: "hactl's config dir on this host"},
			&ucli.StringFlag{Name: "install-dir", Value: "/opt/hactl"},
			&ucli.StringFlag{Name: "address", Usage: "this host's address in the cluster config (which NameNodes are local)"},
		},
		Action: func(ctx context.Context, c *ucli.Command) error {
			self, _ := os.Executable()
			rep, err := probe.Gather(ctx, probe.Options{
				ConfDir: c.String("conf"), InstallDir: c.String("install-dir"),
				Address: c.String("address"), Version: Version, Self: self,
			})
			if err != nil {
				return exitCode(1, err)
			}
			return json.NewEncoder(c.Root().Writer).Encode(rep)
		},
	}
}
