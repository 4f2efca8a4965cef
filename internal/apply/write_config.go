package apply

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
)

// writeConfig creates hactl's directories and writes core-site.xml,
// hdfs-site.xml, when the host has none, the cluster secret (mode 0600; an
// existing secret is kept), and the host's storage record.
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
	if string(res.Stdout) != "yes\n" {
		if err := env.upload(ctx, host, p.SecretFile, append(append([]byte{}, secret...), '\n'), 0o600); err != nil {
			return fmt.Errorf("write config: secret: %w", err)
		}
	}
	// Before any NameNode is formatted or JournalNode started here.
	if err := recordStorage(ctx, env, host); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// recordStorage adds the storage dirs the configuration puts on host to the
// host's storage record (targets.StorageRecord), which plain destroy keeps
// with the secret, so a later plan still finds the formatted storage after
// the configuration that named it is gone.
func recordStorage(ctx context.Context, env *Env, host string) error {
	file := targets.StorageRecordPath(env.Cluster, host)
	q := targets.ShellQuote(file)
	res, err := env.run(ctx, host, targets.Command{Shell: "if [ -s " + q + " ]; then cat " + q + "; fi"})
	if err != nil {
		return fmt.Errorf("read storage record: %w", err)
	}
	rec, err := targets.StorageRecord(env.Cluster, host, res.Stdout)
	if err != nil {
		return err
	}
	if bytes.Equal(rec, res.Stdout) {
		return nil
	}
	if err := env.upload(ctx, host, file, rec, 0o600); err != nil {
		return fmt.Errorf("storage record: %w", err)
	}
	return nil
}
