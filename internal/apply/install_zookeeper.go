package apply

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hactl/hactl/internal/zkserver"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// AptLockTimeout bounds how long each apt-get waits for the dpkg lock, which
// unattended-upgrades (or another install on the same machine) may hold.
const AptLockTimeout = 5 * time.Minute

// aptGet is an apt-get command line that waits for the dpkg lock (up to
// AptLockTimeout) instead of failing at once ("Could not get lock").
func aptGet(args string) string {
	return "apt-get -o DPkg::Lock::Timeout=" + strconv.Itoa(int(AptLockTimeout.Seconds())) + " " + args
}

// installZooKeeper installs Debian's zookeeper package where it is missing.
type installZooKeeper struct{ s *planner.Step }

func init() {
	register(planner.ActInstallZooKeeper, func(s *planner.Step) Runner { return &installZooKeeper{s} })
}

func (r *installZooKeeper) Title() string { return r.s.Title() }

func (r *installZooKeeper) Run(ctx context.Context, env *Env) error {
	// Several hosts of one machine (target local) share one dpkg: one
	// install at a time, and the later ones find the jar and skip.
	unlock, err := env.lockMachine(ctx, r.s.Host)
	if err != nil {
		return fmt.Errorf("install zookeeper: %w", err)
	}
	defer unlock()
	script := "[ -f " + zkserver.Jar + " ] || { export DEBIAN_FRONTEND=noninteractive; " +
		aptGet("update -qq") + " && " + aptGet("install -y -qq --no-install-recommends zookeeper") + "; }"
	if err := env.wetRun(ctx, r.s.Host, "apt-get install zookeeper (when "+zkserver.Jar+" is missing)", targets.Command{Shell: script, Sudo: true}); err != nil {
		return fmt.Errorf("install zookeeper: %w", err)
	}
	return nil
}
