package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// ErrLocked is returned when another apply holds the cluster lock past the
// lock timeout.
var ErrLocked = errors.New("another hactl apply or destroy holds the cluster lock")

// Lock keeps two applies (or destroys) from interleaving on one cluster.
type Lock interface {
	Release(ctx context.Context) error
}

// LockOwner describes this process in a lock file: who, where, since when.
func LockOwner(now time.Time) string {
	host, _ := os.Hostname()
	user := os.Getenv("USER")
	if user == "" {
		user = strconv.Itoa(os.Getuid())
	}
	return fmt.Sprintf("%s@%s pid=%d since=%s", user, host, os.Getpid(), now.UTC().Format(time.RFC3339))
}

// AcquireLock takes the cluster lock, waiting up to timeout for a holder to
// finish. Target local uses an flock on the state dir (released by the
// kernel if hactl dies); other targets a lock file on the first host, created
// atomically (noclobber), holding the owner.
func AcquireLock(ctx context.Context, env *Env, timeout time.Duration) (Lock, error) {
	c := env.Cluster
	if len(c.Hosts) == 0 {
		return nil, errors.New("lock: the configuration has no hosts")
	}
	if c.Target != nil && c.Target.Kind == schema.TargetLocal {
		state := filepath.Dir(filepath.Dir(c.LocalRoot(c.Hosts[0].Name)))
		return acquireFlock(ctx, env, filepath.Join(state, "apply.lock"), timeout)
	}
	return acquireHostLock(ctx, env, c.Hosts[0].Name, HostLockPath(c, c.Hosts[0].Name), timeout)
}

// waitLock retries try until it succeeds, fails otherwise than ErrLocked,
// or timeout passes.
func waitLock(ctx context.Context, env *Env, timeout time.Duration, try func() (string, error)) error {
	deadline := env.now().Add(timeout)
	for {
		holder, err := try()
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrLocked) {
			return err
		}
		if !env.now().Before(deadline) {
			return fmt.Errorf("%w (held by %s); waited %s (--lock-timeout); if that apply is gone, remove the lock and retry", ErrLocked, holder, timeout)
		}
		if err := env.sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

type flockLock struct {
	f *os.File
}

func acquireFlock(ctx context.Context, env *Env, path string, timeout time.Duration) (Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	err = waitLock(ctx, env, timeout, func() (string, error) {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			if errors.Is(err, syscall.EWOULDBLOCK) {
				b, _ := os.ReadFile(path)
				return strings.TrimSpace(string(b)), ErrLocked
			}
			return "", fmt.Errorf("lock %s: %w", path, err)
		}
		return "", nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	f.Truncate(0)
	f.WriteAt([]byte(LockOwner(env.now())+"\n"), 0)
	return &flockLock{f: f}, nil
}

func (l *flockLock) Release(context.Context) error {
	l.f.Truncate(0)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return l.f.Close()
}

type hostLock struct {
	env   *Env
	host  string
	path  string
	owner string
}

// HostLockPath is the lock file on the first host.
func HostLockPath(c *schema.Cluster, host string) string {
	return c.HostDir(host, "/var/lock/hactl-apply.lock")
}

func acquireHostLock(ctx context.Context, env *Env, host, path string, timeout time.Duration) (Lock, error) {
	l := &hostLock{env: env, host: host, path: path, owner: LockOwner(env.now())}
	q := targets.ShellQuote(l.path)
	// noclobber makes the create atomic: exactly one of two racing applies wins.
	script := "mkdir -p " + targets.ShellQuote(filepath.Dir(l.path)) + " && if ( set -C; printf '%s\\n' " + targets.ShellQuote(l.owner) + " > " + q + " ) 2>/dev/null; then echo acquired; else cat " + q + "; fi"
	err := waitLock(ctx, env, timeout, func() (string, error) {
		res, err := env.run(ctx, host, targets.Command{Shell: script})
		if err != nil {
			return "", fmt.Errorf("lock on %s: %w", host, err)
		}
		out := strings.TrimSpace(string(res.Stdout))
		if out == "acquired" {
			return "", nil
		}
		if l.stale(out) {
			// The holder ran on this machine and is gone: take over its lock.
			env.run(ctx, host, targets.Command{Shell: "[ \"$(cat " + q + ")\" = " + targets.ShellQuote(out) + " ] && rm -f " + q})
			return out, ErrLocked
		}
		return out, ErrLocked
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// stale reports whether the owner line names a process of this machine that
// no longer exists.
func (l *hostLock) stale(owner string) bool {
	me, _ := os.Hostname()
	at := strings.Index(owner, "@")
	sp := strings.Index(owner, " pid=")
	if at < 0 || sp < at || owner[at+1:sp] != me {
		return false
	}
	rest := owner[sp+len(" pid="):]
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	pid, err := strconv.Atoi(rest)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

func (l *hostLock) Release(ctx context.Context) error {
	q := targets.ShellQuote(l.path)
	// Only our own lock: never remove one another apply took over.
	_, err := l.env.run(ctx, l.host, targets.Command{Shell: "if [ \"$(cat " + q + " 2>/dev/null)\" = " + targets.ShellQuote(l.owner) + " ]; then rm -f " + q + "; fi"})
	if err != nil {
		return fmt.Errorf("release lock on %s: %w", l.host, err)
	}
	return nil
}
