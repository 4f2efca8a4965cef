package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrArgvChanged is returned by Start when the daemon already runs with a
// different command line and Replace was not asked for (CLI exit code 3).
var ErrArgvChanged = errors.New("already running with a different command line (use --replace)")

// Config describes one supervised daemon.
type Config struct {
	Name   string
	RunDir string
	Log    string   // the child's output and the supervisor's notices are appended here
	Env    []string // K=V added to the child's environment
	Argv   []string
	// Restart policy. Zero values take the defaults (1 s doubling to 30 s;
	// give up after 5 crashes each within 10 s of their start).
	MinBackoff      time.Duration
	MaxBackoff      time.Duration
	FastCrash       time.Duration
	MaxFastCrashes  int
	StopGracePeriod time.Duration // how long the supervisor waits for the child on SIGTERM (default 10 s)
}

func (c *Config) defaults() {
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.FastCrash <= 0 {
		c.FastCrash = 10 * time.Second
	}
	if c.MaxFastCrashes <= 0 {
		c.MaxFastCrashes = 5
	}
	if c.StopGracePeriod <= 0 {
		c.StopGracePeriod = 10 * time.Second
	}
}

func (c *Config) validate() error {
	switch {
	case c.Name == "" || strings.ContainsAny(c.Name, "/\x00") || c.Name[0] == '.':
		return fmt.Errorf("supervise: bad daemon name %q", c.Name)
	case c.RunDir == "":
		return errors.New("supervise: --run-dir is required")
	case c.Log == "":
		return errors.New("supervise: --log is required")
	case len(c.Argv) == 0:
		return errors.New("supervise: no command given after --")
	}
	for _, kv := range c.Env {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("supervise: --env %q is not K=V", kv)
		}
	}
	return nil
}

// Args renders c as the arguments of the supervisor process (see ParseArgs).
func (c Config) Args() []string {
	a := []string{"--name", c.Name, "--run-dir", c.RunDir, "--log", c.Log}
	for _, kv := range c.Env {
		a = append(a, "--env", kv)
	}
	dur := func(flag string, d time.Duration) {
		if d > 0 {
			a = append(a, flag, d.String())
		}
	}
	dur("--min-backoff", c.MinBackoff)
	dur("--max-backoff", c.MaxBackoff)
	dur("--fast-crash", c.FastCrash)
	dur("--grace", c.StopGracePeriod)
	if c.MaxFastCrashes > 0 {
		a = append(a, "--max-fast-crashes", fmt.Sprint(c.MaxFastCrashes))
	}
	return append(append(a, "--"), c.Argv...)
}

// ParseArgs is the inverse of Args.
func ParseArgs(args []string) (Config, error) {
	var c Config
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			c.Argv = append([]string(nil), args[i+1:]...)
			return c, c.validate()
		}
		if i+1 >= len(args) {
			return c, fmt.Errorf("supervise: %s needs a value", a)
		}
		v := args[i+1]
		i++
		var err error
		switch a {
		case "--name":
			c.Name = v
		case "--run-dir":
			c.RunDir = v
		case "--log":
			c.Log = v
		case "--env":
			c.Env = append(c.Env, v)
		case "--min-backoff":
			c.MinBackoff, err = time.ParseDuration(v)
		case "--max-backoff":
			c.MaxBackoff, err = time.ParseDuration(v)
		case "--fast-crash":
			c.FastCrash, err = time.ParseDuration(v)
		case "--grace":
			c.StopGracePeriod, err = time.ParseDuration(v)
		case "--max-fast-crashes":
			_, err = fmt.Sscan(v, &c.MaxFastCrashes)
		default:
			return c, fmt.Errorf("supervise: unknown flag %s", a)
		}
		if err != nil {
			return c, fmt.Errorf("supervise: %s: %w", a, err)
		}
	}
	return c, errors.New("supervise: no command given after --")
}

// Main runs the supervisor loop in this process (the detached process that
// Start spawns) and returns its exit code.
func Main(args []string) int {
	cfg, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The supervisor outlives the session that started it.
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	if err := Supervise(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Supervise runs cfg.Argv until ctx is cancelled (then SIGTERM, and SIGKILL
// after the grace period), restarting it when it exits, with backoff. It
// returns an error when it gives up after repeated fast crashes.
func Supervise(ctx context.Context, cfg Config) error {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Log), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(cfg.Log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("supervise: log: %w", err)
	}
	defer logf.Close()
	note := func(format string, args ...any) {
		fmt.Fprintf(logf, "%s hactl-supervise[%s]: %s\n", time.Now().UTC().Format(time.RFC3339), cfg.Name, fmt.Sprintf(format, args...))
	}
	rec := &Record{
		Name: cfg.Name, Argv: cfg.Argv, Env: cfg.Env, Log: cfg.Log,
		SupervisorPID: os.Getpid(), SupervisorStart: ProcStart(os.Getpid()),
		State: StateStarting, ArgvSHA256: ArgvSHA256(cfg.Argv, cfg.Env), Manager: ManagerSupervisor,
	}
	save := func() {
		if err := writeRecord(cfg.RunDir, rec); err != nil {
			note("cannot write record: %v", err)
		}
	}
	save()
	backoff := cfg.MinBackoff
	fast := 0
	for {
		cmd := exec.Command(cfg.Argv[0], cfg.Argv[1:]...)
		cmd.Env = append(os.Environ(), cfg.Env...)
		cmd.Stdout, cmd.Stderr = logf, logf
		// Its own process group, so stop reaches whatever the daemon forks.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		started := time.Now()
		if err := cmd.Start(); err != nil {
			note("cannot start %s: %v", cfg.Argv[0], err)
			rec.LastExit = err.Error()
		} else {
			rec.ChildPID, rec.ChildStart = cmd.Process.Pid, ProcStart(cmd.Process.Pid)
			rec.StartedAt = started.Unix()
			rec.State = StateRunning
			// The pid file first: Start returns once the record says
			// running, and a caller may read the pid file right then.
			writePidFile(cfg.RunDir, cfg.Name, rec.ChildPID)
			save()
			note("started pid %d: %s", rec.ChildPID, strings.Join(cfg.Argv, " "))
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				rec.LastExit = exitString(err)
			case <-ctx.Done():
				stopChild(cmd, exited, cfg.StopGracePeriod, note)
				removePidFile(cfg.RunDir, cfg.Name)
				rec.State, rec.ChildPID, rec.ChildStart = StateStopped, 0, 0
				save()
				return nil
			}
		}
		note("%s exited: %s", cfg.Name, rec.LastExit)
		removePidFile(cfg.RunDir, cfg.Name)
		rec.ChildPID, rec.ChildStart = 0, 0
		if time.Since(started) < cfg.FastCrash {
			fast++
		} else {
			fast, backoff = 1, cfg.MinBackoff
		}
		if fast >= cfg.MaxFastCrashes {
			rec.State = StateFailed
			save()
			note("giving up after %d crashes in a row, each within %s of starting", fast, cfg.FastCrash)
			return fmt.Errorf("supervise %s: gave up after %d fast crashes (last: %s)", cfg.Name, fast, rec.LastExit)
		}
		rec.State = StateBackoff
		rec.NextStartAt = time.Now().Add(backoff).UnixMilli()
		save()
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			rec.State, rec.NextStartAt = StateStopped, 0
			save()
			return nil
		}
		rec.NextStartAt = 0
		// The record is the supervisor's lease: when it is gone (destroy
		// removed the run dir) or names another supervisor (a replace
		// raced us), whoever removed or took it owns the daemon now, and a
		// restart would run it over a removed configuration, binary or data.
		if cur, err := ReadRecord(cfg.RunDir, cfg.Name); err == nil && (cur == nil || cur.SupervisorPID != rec.SupervisorPID) {
			note("record %s is gone or names another supervisor: not restarting %s", RecordPath(cfg.RunDir, cfg.Name), cfg.Name)
			return nil
		}
		backoff = min(backoff*2, cfg.MaxBackoff)
		rec.Restarts++
	}
}

func stopChild(cmd *exec.Cmd, exited <-chan error, grace time.Duration, note func(string, ...any)) {
	pgid := cmd.Process.Pid
	note("stopping pid %d (SIGTERM)", pgid)
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		note("pid %d still running after %s: SIGKILL", pgid, grace)
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
	// Whatever the daemon forked into its group goes too.
	syscall.Kill(-pgid, syscall.SIGKILL)
}

func exitString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
