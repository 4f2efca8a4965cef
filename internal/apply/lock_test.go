package apply

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

func lockEnv(t *testing.T, c *schema.Cluster, hosts map[string]targets.Host) (*Env, *fakeClock) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return &Env{Cluster: c, Hosts: hosts, Guard: &Guard{}, Now: clk.Now, Sleep: clk.Sleep}, clk
}

func TestFlockLockExcludesASecondApply(t *testing.T) {
	dir := t.TempDir()
	c := loadFixture(t, "three", func(src string) string {
		src = strings.NewReplacer("192.168.1.6", "127.0.7.1", "192.168.1.132", "127.0.7.2", "192.168.1.11", "127.0.7.3").Replace(src)
		return strings.Replace(src, `target "ssh" {}`, `target "local" { state_dir = "`+dir+`" }`, 1)
	})
	env, clk := lockEnv(t, c, nil)
	first, err := AcquireLock(context.Background(), env, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := os.ReadFile(filepath.Join(dir, "apply.lock"))
	if !strings.Contains(string(owner), "pid=") {
		t.Errorf("lock file does not name its owner: %q", owner)
	}
	start := clk.Now()
	_, err = AcquireLock(context.Background(), env, 10*time.Second)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid=") {
		t.Fatalf("second lock: %v, want ErrLocked naming the holder", err)
	}
	if waited := clk.Now().Sub(start); waited < 10*time.Second || waited > 12*time.Second {
		t.Errorf("waited %s for a 10s --lock-timeout", waited)
	}
	if err := first.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, err := AcquireLock(context.Background(), env, time.Second)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Release(context.Background())
}

func TestHostLockExcludesAndNeverRemovesAnotherOwner(t *testing.T) {
	c := loadFixture(t, "three", nil)
	h := targets.NewLocal("dim", "127.0.7.1", "")
	env, _ := lockEnv(t, c, map[string]targets.Host{"dim": h})
	path := filepath.Join(t.TempDir(), "lock", "hactl-apply.lock")
	first, err := acquireHostLock(context.Background(), env, "dim", path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquireHostLock(context.Background(), env, "dim", path, 2*time.Second); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	// Someone else's lock (another machine) is never removed by our release.
	if err := os.WriteFile(path, []byte("ops@elsewhere pid=1 since=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "elsewhere") {
		t.Fatalf("release removed another owner's lock")
	}
	// A lock left by a dead process of this machine is taken over.
	me, _ := os.Hostname()
	if err := os.WriteFile(path, []byte("ops@"+me+" pid=999999999 since=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := acquireHostLock(context.Background(), env, "dim", path, 5*time.Second)
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("own lock not removed on release: %v", err)
	}
}

func TestSecretGeneratedOnceFromCryptoRand(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	env := &Env{Cluster: c, Hosts: s.hosts, Guard: &Guard{}}
	a, err := env.Secret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := env.Secret(context.Background())
	other := &Env{Cluster: c, Hosts: s.hosts, Guard: &Guard{}}
	o, _ := other.Secret(context.Background())
	if len(a) != 64 || string(a) != string(b) || string(a) == string(o) {
		t.Fatalf("secrets: %q %q %q", a, b, o)
	}
}
