package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the supervisor process: Start re-executes it
// with this variable set.
func TestMain(m *testing.M) {
	if os.Getenv("HACTL_SUPERVISE_MAIN") == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Setenv("HACTL_SUPERVISE_MAIN", "1")
	os.Exit(m.Run())
}

func testConfig(t *testing.T, argv ...string) (Config, StartOptions) {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{
		Name: "sleeper", RunDir: filepath.Join(dir, "run"), Log: filepath.Join(dir, "log", "sleeper.log"),
		Argv: argv, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		FastCrash: 2 * time.Second, MaxFastCrashes: 3, StopGracePeriod: 2 * time.Second,
	}
	t.Cleanup(func() {
		if err := Stop(cfg.RunDir, cfg.Name, 5*time.Second); err != nil {
			t.Errorf("cleanup stop: %v", err)
		}
	})
	return cfg, StartOptions{Self: []string{os.Args[0]}, Wait: 10 * time.Second}
}

func status(t *testing.T, cfg Config) Status {
	t.Helper()
	r, err := ReadRecord(cfg.RunDir, cfg.Name)
	if err != nil || r == nil {
		t.Fatalf("record: %v %v", r, err)
	}
	return StatusOf(r)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !waitFor(cond, 10*time.Second) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestStartIsIdempotentAndDetached(t *testing.T) {
	cfg, opts := testConfig(t, "sleep", "300")
	started, err := Start(cfg, opts)
	if err != nil || !started {
		t.Fatalf("Start = %v, %v", started, err)
	}
	st := status(t, cfg)
	if !st.SupervisorAlive || !st.ChildAlive || st.State != StateRunning {
		t.Fatalf("after start: %+v", st)
	}
	if pid, _ := os.ReadFile(PidFilePath(cfg.RunDir, cfg.Name)); strings.TrimSpace(string(pid)) != strconv.Itoa(st.ChildPID) {
		t.Errorf("pid file = %q, want %d", pid, st.ChildPID)
	}
	if want := ArgvSHA256([]string{"sleep", "300"}, nil); st.ArgvSHA256 != want {
		t.Errorf("argv_sha256 = %s, want %s", st.ArgvSHA256, want)
	}
	// Own session: the caller's logout or exit does not reach it.
	if sid, _ := getsid(st.SupervisorPID); sid != st.SupervisorPID {
		t.Errorf("supervisor session = %d, want its own (%d)", sid, st.SupervisorPID)
	}
	started, err = Start(cfg, opts)
	if err != nil || started {
		t.Fatalf("second Start = %v, %v; want a no-op", started, err)
	}
	if st2 := status(t, cfg); st2.ChildPID != st.ChildPID || st2.SupervisorPID != st.SupervisorPID {
		t.Errorf("second Start replaced the processes: %+v -> %+v", st, st2)
	}
}

func TestCrashIsRestarted(t *testing.T) {
	cfg, opts := testConfig(t, "sleep", "300")
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	first := status(t, cfg)
	syscall.Kill(first.ChildPID, syscall.SIGKILL)
	eventually(t, "a restarted child", func() bool {
		st := status(t, cfg)
		return st.Restarts == 1 && st.ChildAlive && st.ChildPID != first.ChildPID && st.State == StateRunning
	})
	if st := status(t, cfg); !strings.Contains(st.LastExit, "killed") {
		t.Errorf("last_exit = %q, want the kill recorded", st.LastExit)
	}
	log, _ := os.ReadFile(cfg.Log)
	if !strings.Contains(string(log), "exited: signal: killed") {
		t.Errorf("log does not record the crash:\n%s", log)
	}
}

func TestStopKillsChildAndSupervisor(t *testing.T) {
	cfg, opts := testConfig(t, "sh", "-c", "sleep 300 & sleep 300")
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	st := status(t, cfg)
	if err := Stop(cfg.RunDir, cfg.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if Alive(st.SupervisorPID, st.SupervisorStart) || Alive(st.ChildPID, st.ChildStart) {
		t.Fatalf("still alive after stop: %+v", st)
	}
	// The background sleep in the daemon's group must be gone too.
	eventually(t, "the daemon's process group to be gone", func() bool { return !groupAlive(st.ChildPID) })
	if _, err := os.Stat(PidFilePath(cfg.RunDir, cfg.Name)); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}
	after := status(t, cfg)
	if after.State != StateStopped || after.ChildPID != 0 {
		t.Errorf("record after stop: %+v", after)
	}
	if err := Stop(cfg.RunDir, cfg.Name, time.Second); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if err := Stop(filepath.Join(t.TempDir(), "none"), "x", time.Second); err != nil {
		t.Errorf("stop of a never-started daemon: %v", err)
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	cfg, opts := testConfig(t, "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done")
	cfg.StopGracePeriod = 30 * time.Second // the supervisor alone would wait too long
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	st := status(t, cfg)
	begin := time.Now()
	if err := Stop(cfg.RunDir, cfg.Name, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if Alive(st.ChildPID, st.ChildStart) || Alive(st.SupervisorPID, st.SupervisorStart) {
		t.Fatal("a TERM-ignoring daemon survived stop")
	}
	if d := time.Since(begin); d > 8*time.Second {
		t.Errorf("stop took %s", d)
	}
}

func TestChangedArgvNeedsReplace(t *testing.T) {
	cfg, opts := testConfig(t, "sleep", "300")
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	old := status(t, cfg)
	changed := cfg
	changed.Argv = []string{"sleep", "301"}
	if _, err := Start(changed, opts); !errors.Is(err, ErrArgvChanged) {
		t.Fatalf("Start with new argv = %v, want ErrArgvChanged", err)
	}
	withEnv := cfg
	withEnv.Env = []string{"A=1"}
	if _, err := Start(withEnv, opts); !errors.Is(err, ErrArgvChanged) {
		t.Fatalf("Start with new env = %v, want ErrArgvChanged", err)
	}
	opts.Replace = true
	if started, err := Start(changed, opts); err != nil || !started {
		t.Fatalf("Start --replace = %v, %v", started, err)
	}
	st := status(t, cfg)
	if !reflect.DeepEqual(st.Argv, changed.Argv) || !st.ChildAlive {
		t.Errorf("after replace: %+v", st)
	}
	if Alive(old.ChildPID, old.ChildStart) || Alive(old.SupervisorPID, old.SupervisorStart) {
		t.Error("the old daemon survived --replace")
	}
}

func TestGivesUpAfterFastCrashes(t *testing.T) {
	cfg, opts := testConfig(t, "sh", "-c", "echo boom; exit 3")
	if _, err := Start(cfg, opts); err != nil && !strings.Contains(err.Error(), "keeps crashing") {
		t.Fatal(err)
	}
	eventually(t, "state failed", func() bool { st := status(t, cfg); return st.State == StateFailed && !st.SupervisorAlive })
	st := status(t, cfg)
	if st.Restarts != cfg.MaxFastCrashes-1 || st.LastExit != "exit status 3" {
		t.Errorf("failed record: %+v", st)
	}
	log, _ := os.ReadFile(cfg.Log)
	if countLines(string(log), "boom") != cfg.MaxFastCrashes || !strings.Contains(string(log), "giving up") {
		t.Errorf("log:\n%s", log)
	}
	// A failed daemon is started afresh by the next Start.
	cfg.Argv = []string{"sleep", "300"}
	if started, err := Start(cfg, opts); err != nil || !started {
		t.Fatalf("restart after failure = %v, %v", started, err)
	}
}

func TestArgsRoundTrip(t *testing.T) {
	c := Config{Name: "zookeeper", RunDir: "/r", Log: "/l/z.log", Env: []string{"A=1", "B=x y"},
		Argv: []string{"java", "--", "-cp", "a b"}, MinBackoff: time.Second, MaxFastCrashes: 4}
	got, err := ParseArgs(c.Args())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	for _, bad := range [][]string{{"--name", "x", "--run-dir", "r", "--log", "l"}, {"--name", "../x", "--run-dir", "r", "--log", "l", "--", "a"}, {"--bogus", "1", "--", "a"}} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("ParseArgs(%q) accepted", bad)
		}
	}
	if ArgvSHA256([]string{"a", "b"}, nil) == ArgvSHA256([]string{"a b"}, nil) {
		t.Error("argv hash ignores argument boundaries")
	}
	if ArgvSHA256([]string{"a"}, []string{"X=1", "Y=2"}) != ArgvSHA256([]string{"a"}, []string{"Y=2", "X=1"}) {
		t.Error("env order changes the hash")
	}
}

func getsid(pid int) (int, error) {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(sid), nil
}

// groupAlive reports whether any live (non-zombie) process is in group pgid.
func groupAlive(pgid int) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			return true
		}
	}
	return false
}

func countLines(s, line string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			n++
		}
	}
	return n
}

// A supervisor in backoff says when it tries next, and does not restart a
// daemon whose record was removed under it (destroy removed the run dir):
// the record is its lease.
func TestBackoffNextStartAndRecordLease(t *testing.T) {
	cfg, opts := testConfig(t, "sh", "-c", "exit 7")
	cfg.MinBackoff, cfg.MaxBackoff, cfg.MaxFastCrashes = 2*time.Second, 2*time.Second, 100
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	var st Status
	eventually(t, "backoff", func() bool { st = status(t, cfg); return st.State == StateBackoff })
	now := time.Now().UnixMilli()
	if st.NextStartAt <= now-100 || st.NextStartAt > now+2100 || st.LastExit != "exit status 7" || !st.SupervisorAlive {
		t.Fatalf("backoff record: next start %d (now %d), %+v", st.NextStartAt, now, st)
	}
	before, _ := os.ReadFile(cfg.Log)
	if err := os.Remove(RecordPath(cfg.RunDir, cfg.Name)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "supervisor exit", func() bool { return !Alive(st.SupervisorPID, st.SupervisorStart) })
	after, _ := os.ReadFile(cfg.Log)
	if n, m := strings.Count(string(before), "started pid"), strings.Count(string(after), "started pid"); n != m {
		t.Errorf("the daemon was started again after its record was removed (%d → %d starts):\n%s", n, m, after)
	}
	if !strings.Contains(string(after), "not restarting") {
		t.Errorf("log does not say why the supervisor left:\n%s", after)
	}
	if r, _ := ReadRecord(cfg.RunDir, cfg.Name); r != nil {
		t.Errorf("a record came back: %+v", r)
	}
}

// Forget removes the record and pid file of a stopped daemon.
func TestForget(t *testing.T) {
	cfg, opts := testConfig(t, "sleep", "300")
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	if err := Stop(cfg.RunDir, cfg.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := Forget(cfg.RunDir, cfg.Name); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{RecordPath(cfg.RunDir, cfg.Name), PidFilePath(cfg.RunDir, cfg.Name)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if err := Forget(cfg.RunDir, cfg.Name); err != nil {
		t.Errorf("second Forget: %v", err)
	}
}

// A record without start times whose PIDs now belong to other processes
// (a reboot, then PID reuse) never gets those processes signalled.
func TestStopSparesRecycledPIDsOfRecordsWithoutStartTimes(t *testing.T) {
	cfg, _ := testConfig(t, "sleep", "300")
	decoy := exec.Command("sleep", "300")
	decoy.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := decoy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { decoy.Process.Kill(); decoy.Wait() }()
	os.MkdirAll(cfg.RunDir, 0o755)
	rec := &Record{Name: cfg.Name, Argv: []string{"/opt/hactl/bin/hactl", "runtime", "journalnode"},
		SupervisorPID: decoy.Process.Pid, ChildPID: decoy.Process.Pid, State: StateRunning}
	if err := writeRecord(cfg.RunDir, rec); err != nil {
		t.Fatal(err)
	}
	if err := Stop(cfg.RunDir, cfg.Name, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := decoy.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("stop signalled pid %d, which a start-time-less record named but which is not the daemon: %v", decoy.Process.Pid, err)
	}
	// The same record naming the real daemon still stops it.
	real := exec.Command("sleep", "301")
	real.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := real.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { real.Wait(); close(exited) }()
	rec.Argv, rec.SupervisorPID, rec.ChildPID, rec.State = []string{"sleep", "301"}, 0, real.Process.Pid, StateRunning
	writeRecord(cfg.RunDir, rec)
	if err := Stop(cfg.RunDir, cfg.Name, time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		real.Process.Kill()
		t.Fatal("the daemon a start-time-less record names survived stop")
	}
}

// A descriptor the caller of Start inherited without close-on-exec (as
// flock(1) hands its lock file to the command) does not stay open in the
// detached supervisor or its daemon.
func TestSupervisorDoesNotInheritDescriptors(t *testing.T) {
	cfg, opts := testConfig(t, "sleep", "300")
	lockFile := filepath.Join(t.TempDir(), "held.lock")
	fd, err := syscall.Open(lockFile, syscall.O_CREAT|syscall.O_RDWR, 0o644) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if _, err := Start(cfg, opts); err != nil {
		t.Fatal(err)
	}
	st := status(t, cfg)
	for _, pid := range []int{st.SupervisorPID, st.ChildPID} {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, e := range ents {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); l == lockFile {
				t.Errorf("pid %d holds the caller's descriptor %s (fd %s)", pid, l, e.Name())
			}
		}
	}
}
