// Package supervise keeps hactl's daemons running on a host: a detached
// supervisor per daemon restarts it on crash, appends its output to a log and
// keeps a JSON record in the run directory that probe and stop read.
package supervise

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// States a record can be in.
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StateBackoff  = "backoff"  // crashed, waiting before the next restart
	StateFailed   = "failed"   // gave up after repeated fast crashes
	StateStopping = "stopping" // SIGTERM received
	StateStopped  = "stopped"
)

// Record is RUN/NAME.json, written by the supervisor.
type Record struct {
	Name          string   `json:"name"`
	Argv          []string `json:"argv"`
	Env           []string `json:"env,omitempty"` // K=V given with --env
	Log           string   `json:"log"`
	SupervisorPID int      `json:"supervisor_pid"`
	ChildPID      int      `json:"child_pid"`
	StartedAt     int64    `json:"started_at"` // unix seconds of the child's latest start
	Restarts      int      `json:"restarts"`
	State         string   `json:"state"`
	ArgvSHA256    string   `json:"argv_sha256"`       // over argv and env: a change of either is a new command
	Manager       string   `json:"manager,omitempty"` // "" or "supervisor", or "systemd" (then Unit names the unit)
	Unit          string   `json:"unit,omitempty"`
	LastExit      string   `json:"last_exit,omitempty"`
	// NextStartAt is when a supervisor in backoff starts the daemon again
	// (unix milliseconds; 0 outside backoff), for status's "next try in N s".
	NextStartAt int64 `json:"next_start_at_ms,omitempty"`
	// Process start times (clock ticks since boot, /proc/PID/stat field 22),
	// so that a recycled PID is never taken for our process.
	SupervisorStart uint64 `json:"supervisor_start_ticks,omitempty"`
	ChildStart      uint64 `json:"child_start_ticks,omitempty"`
}

// ArgvSHA256 identifies a daemon command line together with its environment.
func ArgvSHA256(argv, env []string) string {
	h := sha256.New()
	for _, a := range argv {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	if len(env) > 0 {
		e := append([]string(nil), env...)
		sort.Strings(e)
		h.Write([]byte("\x00env\x00"))
		for _, kv := range e {
			h.Write([]byte(kv))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RecordPath is where NAME's record lives.
func RecordPath(runDir, name string) string { return filepath.Join(runDir, name+".json") }

// PidFilePath is RUN/NAME.pid: the daemon's PID while it runs, for tools
// that expect Hadoop-style pid files (the record is authoritative).
func PidFilePath(runDir, name string) string { return filepath.Join(runDir, name+".pid") }

func writePidFile(runDir, name string, pid int) {
	p := PidFilePath(runDir, name)
	tmp := p + ".tmp"
	if os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644) == nil {
		os.Rename(tmp, p)
	}
}

func removePidFile(runDir, name string) { os.Remove(PidFilePath(runDir, name)) }

// ReadRecord reads NAME's record; (nil, nil) when there is none.
func ReadRecord(runDir, name string) (*Record, error) {
	data, err := os.ReadFile(RecordPath(runDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("supervisor record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("supervisor record %s: %w", RecordPath(runDir, name), err)
	}
	return &r, nil
}

func writeRecord(runDir string, r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	p := RecordPath(runDir, r.Name)
	tmp := fmt.Sprintf("%s.tmp-%d", p, os.Getpid())
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ReadAll reads every record in runDir, by name.
func ReadAll(runDir string) (map[string]*Record, error) {
	ents, err := os.ReadDir(runDir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Record{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]*Record{}
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		r, err := ReadRecord(runDir, n)
		if err != nil || r == nil || r.Name != n {
			continue // not one of ours
		}
		out[n] = r
	}
	return out, nil
}

// Status is a record with the liveness of its processes.
type Status struct {
	Record
	SupervisorAlive bool `json:"supervisor_alive"`
	ChildAlive      bool `json:"child_alive"`
}

// Running reports whether the daemon is up right now.
func (s Status) Running() bool { return s.ChildAlive }

// Forget removes NAME's record and pid file, so that nothing reads a daemon
// that was taken out of the configuration (or destroyed) as one that merely
// stopped. The caller stops it first.
func Forget(runDir, name string) error {
	for _, p := range []string{RecordPath(runDir, name), PidFilePath(runDir, name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("forget %s: %w", name, err)
		}
	}
	return nil
}

// StatusOf adds liveness to r (asking systemctl for a systemd unit's).
func StatusOf(r *Record) Status {
	if r.Manager == ManagerSystemd {
		return Systemd{}.status(r)
	}
	return Status{Record: *r,
		SupervisorAlive: Alive(r.SupervisorPID, r.SupervisorStart) && (r.SupervisorStart != 0 || isSupervisorOf(r.SupervisorPID, r.Name)),
		ChildAlive:      r.ChildPID > 0 && Alive(r.ChildPID, r.ChildStart) && (r.ChildStart != 0 || runsArgv(r.ChildPID, r.Argv)),
	}
}

// StatusAll returns every daemon's status in runDir, sorted by name.
func StatusAll(runDir string) ([]Status, error) {
	recs, err := ReadAll(runDir)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, r := range recs {
		out = append(out, StatusOf(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// procStart returns pid's start time in clock ticks and whether it is a zombie.
func procStart(pid int) (uint64, bool, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	// The command name (field 2) may contain spaces and parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return st, f[0] == "Z" || f[0] == "X", err
}

// ProcStart returns pid's start time in clock ticks (0 when unknown).
func ProcStart(pid int) uint64 {
	st, _, _ := procStart(pid)
	return st
}

// Alive reports whether pid runs and, when start != 0, is the same process
// that started at that time (not a recycled PID). Zombies are dead.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	st, zombie, err := procStart(pid)
	if err != nil || zombie {
		return false
	}
	return start == 0 || st == start
}
