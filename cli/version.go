package cli

import (
	"context"
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v3"
)

func init() { register(versionCommand) }

func versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "version",
		Usage:     "print hactl's version",
		UsageText: "hactl version",
		Action: func(ctx context.Context, c *ucli.Command) error {
			fmt.Fprintf(c.Root().Writer, "hactl %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
