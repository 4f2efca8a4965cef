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
	// conf_dir first: this step may run before write-config makes it.
	if err := env.mkdirOwned(ctx, host, env.paths(host).ConfDir, filepath.Dir(cfg)); err != nil {
		return fmt.Errorf("write zookeeper config: %w", err)
	}
	// The data dir is storage, kept by destroy and removed whole only by
	// --purge-data: no marker.
	if err := env.wetArgs(ctx, host, "mkdir", "-p", data); err != nil {
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
