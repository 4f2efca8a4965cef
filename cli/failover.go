package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	ucli "github.com/urfave/cli/v3"
)

func init() { register(failoverCommand) }

func failoverCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "failover",
		Usage:     "make a NameNode active through the ZKFCs' graceful failover",
		ArgsUsage: "[PATH]",
		Flags: append(clusterFlags(),
			&ucli.StringFlag{Name: "to", Usage: "NameNode `ID` to make active", Required: true},
			&ucli.StringFlag{Name: "nameservice", Usage: "nameservice of --to (needed only when the ID is in several)"},
			&ucli.DurationFlag{Name: "timeout", Value: 60 * time.Second, Usage: "how long to wait for the NameNode to become active"},
		),
		Action: runFailover,
	}
}

// findNameNode resolves --to (and --nameservice) to one NameNode.
func findNameNode(c *schema.Cluster, id, nsName string) (*schema.Nameservice, *schema.NameNode, error) {
	var found []*schema.Nameservice
	for _, ns := range c.Nameservices {
		if (nsName == "" || ns.Name == nsName) && ns.NameNode(id) != nil {
			found = append(found, ns)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil, fmt.Errorf("no NameNode %q in the configuration", id)
	case 1:
		return found[0], found[0].NameNode(id), nil
	}
	return nil, nil, usageError("NameNode %q is in several nameservices: add --nameservice", id)
}

func runFailover(ctx context.Context, cmd *ucli.Command) error {
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
	ns, nn, err := findNameNode(s.cluster, cmd.String("to"), cmd.String("nameservice"))
	if err != nil {
		return exitCode(1, err)
	}
	env := s.env(out, false)
	env.ReadyTimeout = cmd.Duration("timeout")
	step := &planner.Step{Host: nn.Host, Action: planner.ActFailover, Nameservice: ns.Name, NameNode: nn.ID}
	r, err := apply.New(step)
	if err != nil {
		return exitCode(1, err)
	}
	start := time.Now()
	if err := r.Run(ctx, env); err != nil {
		return exitCode(1, fmt.Errorf("failover to %s/%s: %w", ns.Name, nn.ID, err))
	}
	fmt.Fprintf(out, "Failover to %s/%s on %s complete (%.1fs): it is now active.\n", ns.Name, nn.ID, nn.Host, time.Since(start).Seconds())
	return nil
}
