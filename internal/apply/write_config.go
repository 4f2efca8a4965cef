package apply

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hactl/hactl/planner"
)

// writeConfig creates hactl's directories and writes core-site.xml,
// hdfs-site.xml and, when the host has none, the cluster secret (mode 0600;
// an existing secret is kept).
type writeConfig struct{ s *planner.Step }

func init() {
	register(planner.ActWriteConfig, func(s *planner.Step) Runner { return &writeConfig{s} })
}

func (r *writeConfig) Title() string { return r.s.Title() }

func (r *writeConfig) Run(ctx context.Context, env *Env) error {
	host := r.s.Host
	p := env.paths(host)
	dh := env.Desired.Hosts[host]
	if dh == nil {
		return fmt.Errorf("write config: host %s is not in the configuration", host)
	}
	if err := env.mkdirOwned(ctx, host, p.ConfDir, p.LogDir, p.RunDir, filepath.Dir(p.SecretFile)); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	for _, f := range []string{planner.FileCoreSite, planner.FileHDFSSite} {
		if err := env.upload(ctx, host, filepath.Join(p.ConfDir, f), dh.Files[f], 0o644); err != nil {
			return fmt.Errorf("write config: %w", err)
		}
	}
	// Before anything else: hosts that disagree on the secret stop the
	// apply here, whether or not this host holds one.
	secret, err := env.Secret(ctx)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	res, err := env.run(ctx, host, testFile(p.SecretFile))
	if err != nil {
		return fmt.Errorf("write config: check secret: %w", err)
	}
	if string(res.Stdout) == "yes\n" {
		return nil
	}
	if err := env.upload(ctx, host, p.SecretFile, append(append([]byte{}, secret...), '\n'), 0o600); err != nil {
		return fmt.Errorf("write config: secret: %w", err)
	}
	return nil
}
