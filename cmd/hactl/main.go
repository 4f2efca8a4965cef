// Command hactl is cluster-as-code for HDFS NameNode high availability.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hactl/hactl/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if code != 0 {
		os.Exit(code)
	}
}
