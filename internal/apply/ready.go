package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/internal/zkserver"
	"github.com/hactl/hactl/targets"
)

// DefaultReady polls, from this machine, until the daemon serves: ZooKeeper
// answers "ruok" with "imok", a JournalNode accepts TCP on its RPC port, a
// NameNode answers GET /ha/status, a ZKFC GET /zkfc/status.
func DefaultReady(ctx context.Context, env *Env, host, daemon string) error {
	check, err := readyCheck(ctx, env, host, daemon)
	if err != nil {
		return err
	}
	start := env.now()
	deadline := start.Add(env.readyTimeout())
	var last error
	restarts := -1 // the supervisor's restart count when the wait began
	for poll := 0; ; poll++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A daemon that crashes at once: say so with its log as soon as it
		// is seen crash-looping, instead of waiting out the timeout (or the
		// supervisor's own verdict, which takes five crashes and ~15 s of
		// backoff).
		if poll%3 == 0 {
			if err := crashLooping(ctx, env, host, daemon, &restarts, env.now().Sub(start)); err != nil {
				return err
			}
		}
		if env.now().After(deadline) {
			return fmt.Errorf("still not serving after %s: %w", env.readyTimeout(), last)
		}
		if err := env.sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
}

// readyCheck is the check the daemon's registry entry names, aimed at the
// address the cluster gives it.
func readyCheck(ctx context.Context, env *Env, host, name string) (func(context.Context) error, error) {
	c := env.Cluster
	id, ok := daemon.Parse(name)
	if !ok {
		return nil, fmt.Errorf("no readiness check for daemon %q", name)
	}
	switch id.Spec().Ready {
	case daemon.CheckZooKeeperRuok:
		hp := c.ZooKeeperClientAddr(host)
		return func(ctx context.Context) error { return zkserver.Ruok(ctx, env.dial, hp) }, nil
	case daemon.CheckJournalRPC:
		hp := c.JournalRPCAddr(host)
		return func(ctx context.Context) error {
			conn, err := env.dial(ctx, hp)
			if err != nil {
				return err
			}
			return conn.Close()
		}, nil
	case daemon.CheckNameNodeHA:
		client, err := env.client(ctx)
		if err != nil {
			return nil, err
		}
		hp, err := NameNodeHTTPAddr(c, id.Nameservice, id.NameNode)
		if err != nil {
			return nil, err
		}
		// Serving means standby or active: "initializing" is still
		// loading its image or catching up on edits.
		return func(ctx context.Context) error {
			st, err := GetHAStatus(ctx, client, hp)
			if err == nil && st.State != "active" && st.State != "standby" {
				err = fmt.Errorf("state %q", st.State)
			}
			return err
		}, nil
	case daemon.CheckZKFCStatus:
		client, err := env.client(ctx)
		if err != nil {
			return nil, err
		}
		hp, err := ZKFCAddr(c, id.Nameservice, id.NameNode)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { _, err := GetZKFCStatus(ctx, client, hp); return err }, nil
	case daemon.CheckDataNode:
		client, err := env.client(ctx)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return dataNodeReady(ctx, env, client, host) }, nil
	}
	return nil, fmt.Errorf("no readiness check for daemon %q", name)
}

// crashLoopRestarts is how many restarts while apply waits for a daemon
// make it crash-looping (the supervisor restarts after 1, 2, 4 s…; it gives
// up by itself only after 5 crashes, ≈ 12 s).
const crashLoopRestarts = 2

// crashLooping returns an error with the daemon's last log lines when its
// supervisor recorded state "failed" (repeated fast crashes), or restarted it
// crashLoopRestarts times since the wait began (*base: the count then, -1
// before the first look).
func crashLooping(ctx context.Context, env *Env, host, daemon string, base *int, waited time.Duration) error {
	p := env.paths(host)
	res, err := env.run(ctx, host, targets.Command{Args: []string{p.Binary, "runtime", "supervise", "status", "--run-dir", p.RunDir, "--json"}})
	if err != nil {
		return nil // cannot tell: keep waiting for the readiness check
	}
	var sts []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		LastExit string `json:"last_exit"`
		Restarts int    `json:"restarts"`
	}
	if json.Unmarshal(res.Stdout, &sts) != nil {
		return nil
	}
	for _, st := range sts {
		if st.Name != daemon {
			continue
		}
		var why string
		switch {
		case st.State == "failed":
			why = fmt.Sprintf("it keeps crashing (%s); the supervisor gave up", st.LastExit)
		case *base < 0:
			*base = st.Restarts
		case st.Restarts-*base >= crashLoopRestarts:
			why = fmt.Sprintf("it keeps crashing: restarted %d times in the %s apply waited for it (last: %s)",
				st.Restarts-*base, waited.Round(100*time.Millisecond), st.LastExit)
		}
		if why == "" {
			return nil
		}
		log := filepath.Join(p.LogDir, daemon+".log")
		tail, _ := env.run(ctx, host, targets.Command{Args: []string{"tail", "-n", "15", log}})
		return fmt.Errorf("%s. Last lines of %s:\n%s", why, log, strings.TrimRight(string(tail.Stdout), "\n"))
	}
	return nil
}

// DefaultZooKeeperServing polls ZooKeeper's "srvr" until the server reports a
// Mode (leader, follower or standalone), i.e. it serves requests again.
func DefaultZooKeeperServing(ctx context.Context, env *Env, host string) error {
	hp := env.Cluster.ZooKeeperClientAddr(host)
	deadline := env.now().Add(env.readyTimeout())
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := zkserver.Mode(cctx, env.dial, hp)
		cancel()
		if err == nil {
			return nil
		}
		if env.now().After(deadline) {
			return fmt.Errorf("ZooKeeper on %s is not serving after %s: %w", host, env.readyTimeout(), err)
		}
		if err := env.sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
}
