package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StartOptions controls Start.
type StartOptions struct {
	// Replace stops a daemon running with a different command line first.
	Replace bool
	// Self is the command that runs the supervisor loop (Main) with Config.Args
	// appended; default: this executable + "runtime supervise run".
	Self []string
	// Wait bounds how long Start waits for the supervisor to report (default 10 s).
	Wait time.Duration
	// Manager is ManagerSupervisor (default), ManagerSystemd, or "auto":
	// systemd where it is PID 1, else the supervisor. Target local always
	// uses the supervisor (the executor does not ask for systemd there).
	Manager string
	// Systemd is used when the manager is systemd.
	Systemd Systemd
}

// Start launches a detached supervisor for cfg unless one already runs the
// same command line (then it returns started=false, nil).
func Start(cfg Config, opts StartOptions) (started bool, err error) {
	if err := cfg.validate(); err != nil {
		return false, err
	}
	switch opts.Manager {
	case "", ManagerSupervisor:
	case ManagerSystemd:
		return opts.Systemd.Start(cfg, opts.Replace)
	case "auto":
		if SystemdRunning() {
			return opts.Systemd.Start(cfg, opts.Replace)
		}
	default:
		return false, fmt.Errorf("supervise: unknown manager %q (supervisor, systemd or auto)", opts.Manager)
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return false, err
	}
	unlock, err := lock(cfg.RunDir, cfg.Name)
	if err != nil {
		return false, err
	}
	defer unlock()
	rec, err := ReadRecord(cfg.RunDir, cfg.Name)
	if err != nil {
		return false, err
	}
	if rec != nil {
		st := StatusOf(rec)
		switch {
		case st.SupervisorAlive && rec.ArgvSHA256 == ArgvSHA256(cfg.Argv, cfg.Env):
			return false, nil
		case st.SupervisorAlive && !opts.Replace:
			return false, fmt.Errorf("%s: %w", cfg.Name, ErrArgvChanged)
		}
		// Stale or replaced: make sure nothing of the old one is left
		// (an orphaned child would hold the daemon's ports).
		if rec.Manager == ManagerSystemd {
			err = opts.Systemd.Stop(cfg.RunDir, rec)
		} else {
			err = stopRecord(cfg.RunDir, rec, 15*time.Second)
		}
		if err != nil {
			return false, err
		}
	}
	self := opts.Self
	if len(self) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return false, err
		}
		self = []string{exe, "runtime", "supervise", "run"}
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Log), 0o755); err != nil {
		return false, err
	}
	logf, err := os.OpenFile(cfg.Log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	// The supervisor and its daemon live on long after this process: none
	// of the descriptors it inherited (a caller's lock file, an SSH
	// session's pipe) may live on with them.
	closeInheritedOnExec()
	args := append(append([]string(nil), self[1:]...), cfg.Args()...)
	cmd := exec.Command(self[0], args...)
	cmd.Stdout, cmd.Stderr = logf, logf // never our pipes: an SSH session must be able to end
	cmd.Dir = "/"
	// Its own session: no controlling terminal, no SIGHUP when the caller's
	// session (an SSH login, apply) ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("start supervisor for %s: %w", cfg.Name, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() // reap it if it dies while we live
	wait := opts.Wait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		r, _ := ReadRecord(cfg.RunDir, cfg.Name)
		if r != nil && r.SupervisorPID == pid {
			switch r.State {
			case StateRunning, StateBackoff:
				return true, nil
			case StateFailed:
				return true, fmt.Errorf("%s: the daemon keeps crashing (%s); see %s", cfg.Name, r.LastExit, cfg.Log)
			}
		}
		select {
		case <-exited:
			return false, fmt.Errorf("%s: supervisor exited at once; see %s", cfg.Name, cfg.Log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true, fmt.Errorf("%s: supervisor (pid %d) did not report within %s", cfg.Name, pid, wait)
}

// Stop stops NAME's supervisor and daemon: SIGTERM, then SIGKILL after
// timeout. Not running is not an error.
func Stop(runDir, name string, timeout time.Duration) error {
	return stop(runDir, name, timeout, Systemd{}, SystemdRunning())
}

// stop is Stop with the systemd to ask (and whether it runs), for tests.
func stop(runDir, name string, timeout time.Duration, sd Systemd, systemdUp bool) error {
	unlock, err := lock(runDir, name)
	if errors.Is(err, os.ErrNotExist) {
		// No run dir, so no record: a unit may still run the daemon.
		return stopOrphanUnit(runDir, name, sd, systemdUp)
	}
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := ReadRecord(runDir, name)
	if err != nil {
		return err
	}
	if rec == nil {
		return stopOrphanUnit(runDir, name, sd, systemdUp)
	}
	if rec.Manager == ManagerSystemd {
		return sd.Stop(runDir, rec)
	}
	return stopRecord(runDir, rec, timeout)
}

// stopOrphanUnit stops NAME's systemd unit when its record was lost but its
// unit file is still installed (systemd would restart a daemon killed by
// PID for ever).
func stopOrphanUnit(runDir, name string, sd Systemd, systemdUp bool) error {
	if !systemdUp {
		return nil
	}
	if _, err := os.Stat(filepath.Join(sd.unitDir(), UnitName(name))); err != nil {
		return nil
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	return sd.Stop(runDir, &Record{Name: name, Manager: ManagerSystemd, Unit: UnitName(name)})
}

func stopRecord(runDir string, rec *Record, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	supAlive := func() bool {
		return Alive(rec.SupervisorPID, rec.SupervisorStart) && (rec.SupervisorStart != 0 || isSupervisorOf(rec.SupervisorPID, rec.Name))
	}
	childAlive := func() bool {
		return rec.ChildPID > 0 && Alive(rec.ChildPID, rec.ChildStart) && (rec.ChildStart != 0 || runsArgv(rec.ChildPID, rec.Argv))
	}
	if supAlive() {
		// The supervisor forwards SIGTERM to the daemon's group and waits.
		syscall.Kill(rec.SupervisorPID, syscall.SIGTERM)
	} else if childAlive() {
		syscall.Kill(-rec.ChildPID, syscall.SIGTERM)
	}
	gone := func() bool { return !supAlive() && !childAlive() }
	if !waitFor(gone, timeout) {
		if supAlive() {
			syscall.Kill(rec.SupervisorPID, syscall.SIGKILL)
		}
		if childAlive() {
			syscall.Kill(-rec.ChildPID, syscall.SIGKILL)
		}
		if !waitFor(gone, 5*time.Second) {
			return fmt.Errorf("stop %s: pids %d/%d survive SIGKILL", rec.Name, rec.SupervisorPID, rec.ChildPID)
		}
	}
	// The supervisor records "stopped" itself when it can; make sure.
	removePidFile(runDir, rec.Name)
	cur, _ := ReadRecord(runDir, rec.Name)
	if cur == nil || cur.SupervisorPID == rec.SupervisorPID && cur.State != StateStopped {
		r := *rec
		r.State, r.ChildPID, r.ChildStart = StateStopped, 0, 0
		return writeRecord(runDir, &r)
	}
	return nil
}

func waitFor(cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lock serialises start/stop of one daemon (flock on RUN/.NAME.lock).
func lock(runDir, name string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(runDir, "."+name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// A record without process start times (written by hand, or by an older
// hactl) cannot tell a recycled PID from its process by time; its command
// line must then match before stop signals anything.

// cmdline is pid's argv ("" parts when it cannot be read).
func cmdline(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// isSupervisorOf reports whether pid is a `supervise run --name name`.
func isSupervisorOf(pid int, name string) bool {
	argv := cmdline(pid)
	i := slices.Index(argv, "--name")
	return slices.Contains(argv, "supervise") && slices.Contains(argv, "run") && i >= 0 && i+1 < len(argv) && argv[i+1] == name
}

// runsArgv reports whether pid runs argv (a shell's `exec java …` has become
// java: its command line then merely contains the script's last word).
func runsArgv(pid int, argv []string) bool {
	got := cmdline(pid)
	if slices.Equal(got, argv) {
		return true
	}
	if len(argv) == 3 && argv[1] == "-c" && len(got) > 0 {
		f := strings.Fields(argv[2])
		return len(f) > 0 && strings.Trim(f[len(f)-1], "'") == got[len(got)-1]
	}
	return false
}

// closeInheritedOnExec marks every descriptor above stderr close-on-exec.
// Go opens its own that way; the ones a caller handed down (flock(1)'s lock
// file, a shell's redirections) are not, and would otherwise stay open in
// every detached supervisor and daemon, holding a lock or a pipe for as
// long as the daemon runs.
func closeInheritedOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
