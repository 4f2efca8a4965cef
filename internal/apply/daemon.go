package apply

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
)

// daemonSpec is how one supervised daemon is started on a host.
type daemonSpec struct {
	id        daemon.ID
	name      string
	argv      []string
	configSHA string
}

// specFor builds the command line of the daemon a step names, from the
// daemon registry.
func specFor(env *Env, s *planner.Step) (daemonSpec, error) {
	p := env.paths(s.Host)
	dh := env.Desired.Hosts[s.Host]
	if dh == nil {
		return daemonSpec{}, fmt.Errorf("host %s is not in the configuration", s.Host)
	}
	id, ok := daemon.Parse(s.Daemon)
	if !ok {
		return daemonSpec{}, fmt.Errorf("unknown daemon %q", s.Daemon)
	}
	argv := id.Spec().Argv(daemon.Args{ID: id, Binary: p.Binary, ConfDir: p.ConfDir, LogDir: p.LogDir,
		ZooCfg: planner.ZooKeeperConfPath(env.Cluster, s.Host)})
	return daemonSpec{id: id, name: id.Name(), configSHA: dh.ConfigSHA256(id.Kind), argv: argv}, nil
}

// superviseStart starts the daemon under hactl's supervisor (idempotent: the
// same command already running is left alone; --replace replaces a record of
// another command).
func superviseStart(ctx context.Context, env *Env, host string, d daemonSpec) error {
	p := env.paths(host)
	args := []string{p.Binary, "runtime", "supervise", "start", "--name", d.name, "--run-dir", p.RunDir,
		"--log", filepath.Join(p.LogDir, d.name+".log"), "--replace",
		"--env", daemon.EnvConfigSHA256 + "=" + d.configSHA}
	if env.Binary.SHA256 != "" {
		args = append(args, "--env", daemon.EnvRuntimeSHA256+"="+env.Binary.SHA256)
	}
	args = append(args, "--")
	args = append(args, d.argv...)
	return env.wetArgs(ctx, host, args...)
}

// superviseStop stops the daemon (idempotent: not running is fine); forget
// also clears its record (the daemon leaves the configuration).
func superviseStop(ctx context.Context, env *Env, host, name string, forget bool) error {
	p := env.paths(host)
	args := []string{p.Binary, "runtime", "supervise", "stop", "--name", name, "--run-dir", p.RunDir, "--timeout", "30s"}
	if forget {
		args = append(args, "--forget")
	}
	return env.wetArgs(ctx, host, args...)
}

// waitReady waits for the daemon to serve; skipped in a dry run, where
// nothing was started.
func waitReady(ctx context.Context, env *Env, host, name string) error {
	if env.Guard.DryRun {
		return nil
	}
	ready := env.Ready
	if ready == nil {
		ready = DefaultReady
	}
	if err := ready(ctx, env, host, name); err != nil {
		return fmt.Errorf("%s did not become ready: %w", name, err)
	}
	return nil
}

func shq(s string) string { return shellLine([]string{s}) }
