package apply

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hactl/hactl/planner"
)

// writeZooKeeperConfig writes zoo.cfg and the server's myid.
type writeZooKeeperConfig struct{ s *planner.Step }

func init() {
	register(planner.ActWriteZooKeeperConfig, func(s *planner.Step) Runner { return &writeZooKeeperConfig{s} })
}

func (r *writeZooKeeperConfig) Title() string { return r.s.Title() }

func (r *writeZooKeeperConfig) Run(ctx context.Context, env *Env) error {
	host := r.s.Host
	dh := env.Desired.Hosts[host]
	if dh == nil || dh.Files[planner.FileZooCfg] == nil {
		return fmt.Errorf("write zookeeper config: %s runs no managed ZooKeeper server", host)
	}
	cfg := planner.ZooKeeperConfPath(env.Cluster, host)
	data := planner.ZooKeeperDataDir(env.Cluster, host)
	if err := env.wetArgs(ctx, host, "mkdir", "-p", filepath.Dir(cfg), data); err != nil {
		return fmt.Errorf("write zookeeper config: %w", err)
	}
	if err := env.upload(ctx, host, cfg, dh.Files[planner.FileZooCfg], 0o644); err != nil {
		return fmt.Errorf("write zookeeper config: %w", err)
	}
	if err := env.upload(ctx, host, filepath.Join(data, planner.FileZooKeeperID), dh.Files[planner.FileZooKeeperID], 0o644); err != nil {
		return fmt.Errorf("write zookeeper config: %w", err)
	}
	return nil
}
