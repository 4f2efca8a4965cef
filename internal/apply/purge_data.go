package apply

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hactl/hactl/planner"
)

// purgeData deletes the host's NameNode name dirs, JournalNode edits dir and
// managed ZooKeeper data dir, and on target local the host's whole tree
// (destroy --purge-data only).
type purgeData struct{ s *planner.Step }

func init() {
	register(planner.ActPurgeData, func(s *planner.Step) Runner { return &purgeData{s} })
}

func (r *purgeData) Title() string { return r.s.Title() }

func (r *purgeData) Run(ctx context.Context, env *Env) error {
	if !r.s.PurgeData {
		return fmt.Errorf("purge data: the step was not planned with --purge-data")
	}
	dirs := planner.DataDirs(env.Cluster, r.s.Host)
	// A name_dir = "/var" that validation would refuse (an old plan file)
	// must not take the system with it.
	if err := refuseSystemDirs(env.Cluster, r.s.Host, dirs...); err != nil {
		return fmt.Errorf("purge data: %w", err)
	}
	// On target local the host's whole tree under the state dir is hactl's.
	if root := env.Cluster.LocalRoot(r.s.Host); root != "" {
		dirs = append(dirs, root)
	}
	if len(dirs) == 0 {
		return nil
	}
	// Never under a live daemon: it would go on over deleted storage (and a
	// supervisor would restart it into the void).
	if err := checkNothingRuns(ctx, env, r.s.Host); err != nil {
		return fmt.Errorf("purge data: refused, the data stays: %w", err)
	}
	for _, d := range dirs {
		// Never hand rm a relative path or /: a broken config must not wipe a host.
		if !filepath.IsAbs(d) || filepath.Clean(d) == "/" {
			return fmt.Errorf("purge data: refusing to remove %q", d)
		}
	}
	if err := env.wetArgs(ctx, r.s.Host, append([]string{"rm", "-rf"}, dirs...)...); err != nil {
		return fmt.Errorf("purge data: %w", err)
	}
	return nil
}
