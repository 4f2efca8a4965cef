package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// ZooKeeperJar is where Debian's zookeeper package puts the server.
const ZooKeeperJar = "/usr/share/java/zookeeper.jar"

// installZooKeeper installs Debian's zookeeper package where it is missing.
type installZooKeeper struct{ s *planner.Step }

func (r *installZooKeeper) Title() string { return r.s.Title() }

func (r *installZooKeeper) Run(ctx context.Context, env *Env) error {
	script := "[ -f " + ZooKeeperJar + " ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper; }"
	if err := env.wetRun(ctx, r.s.Host, "apt-get install zookeeper (when "+ZooKeeperJar+" is missing)", targets.Command{Shell: script}); err != nil {
		return fmt.Errorf("install zookeeper: %w", err)
	}
	return nil
}
