package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeSystemctl records systemctl calls and answers show/is-active.
type fakeSystemctl struct {
	calls  []string
	active bool
	pid    int
}

func (f *fakeSystemctl) run(args ...string) ([]byte, error) {
	f.calls = append(f.calls, strings.Join(args, " "))
	switch args[0] {
	case "restart":
		f.active = true
	case "disable":
		f.active = false
	case "show":
		if !f.active {
			return []byte("MainPID=0\nActiveState=inactive\nNRestarts=0\n"), nil
		}
		return []byte(fmt.Sprintf("MainPID=%d\nActiveState=active\nNRestarts=2\n", f.pid)), nil
	case "is-active":
		if f.active {
			return []byte("active\n"), nil
		}
		return []byte("inactive\n"), errors.New("exit 3")
	}
	return nil, nil
}

func TestSystemdManager(t *testing.T) {
	dir := t.TempDir()
	fake := &fakeSystemctl{pid: os.Getpid()}
	sd := Systemd{UnitDir: filepath.Join(dir, "units"), Systemctl: fake.run}
	os.MkdirAll(sd.UnitDir, 0o755)
	cfg := Config{Name: "journalnode", RunDir: filepath.Join(dir, "run"), Log: filepath.Join(dir, "log", "jn.log"),
		Env: []string{"HACTL_CONFIG_SHA256=ab"}, Argv: []string{"/opt/hactl/bin/hactl", "runtime", "journalnode", "--conf", "/etc/hactl dir"}}
	opts := StartOptions{Manager: ManagerSystemd, Systemd: sd}
	started, err := Start(cfg, opts)
	if err != nil || !started {
		t.Fatalf("Start = %v, %v", started, err)
	}
	unit, err := os.ReadFile(filepath.Join(sd.UnitDir, "hactl-journalnode.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ExecStart="/opt/hactl/bin/hactl" "runtime" "journalnode" "--conf" "/etc/hactl dir"`,
		`Environment="HACTL_CONFIG_SHA256=ab"`,
		"StandardOutput=append:" + cfg.Log, "Restart=always", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	if got := strings.Join(fake.calls, "|"); got != "daemon-reload|enable hactl-journalnode.service|restart hactl-journalnode.service|show -p MainPID -p ActiveState -p NRestarts -p Result hactl-journalnode.service" {
		t.Errorf("systemctl calls: %s", got)
	}
	rec, _ := ReadRecord(cfg.RunDir, cfg.Name)
	if rec.Manager != ManagerSystemd || rec.ChildPID != os.Getpid() || rec.Restarts != 2 || rec.State != StateRunning {
		t.Errorf("record: %+v", rec)
	}
	// Same command again: a no-op; another: refused without replace.
	fake.calls = nil
	if started, err := Start(cfg, opts); err != nil || started {
		t.Errorf("second Start = %v, %v", started, err)
	}
	changed := cfg
	changed.Argv = append(changed.Argv, "--x")
	if _, err := Start(changed, opts); !errors.Is(err, ErrArgvChanged) {
		t.Errorf("changed argv: %v", err)
	}
	for _, c := range fake.calls {
		if !strings.HasPrefix(c, "show") {
			t.Errorf("a no-op start ran systemctl %s", c)
		}
	}
	// Stop disables the unit and removes it.
	if err := sd.Stop(cfg.RunDir, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(sd.UnitDir, "hactl-journalnode.service")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unit file left after stop: %v", err)
	}
	if rec, _ := ReadRecord(cfg.RunDir, cfg.Name); rec.State != StateStopped {
		t.Errorf("record after stop: %+v", rec)
	}
	if _, err := Start(cfg, StartOptions{Manager: "upstart"}); err == nil {
		t.Error("unknown manager accepted")
	}
}

// systemd itself accepts the unit (systemd-analyze, where installed).
func TestSystemdUnitVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	cfg := Config{Name: "zkfc-nn1", RunDir: dir, Log: filepath.Join(dir, "z.log"), Env: []string{"A=b c"},
		Argv: []string{"/bin/sleep", "100%", "$HOME"}, MinBackoff: time.Second}
	p := filepath.Join(dir, UnitName(cfg.Name))
	os.WriteFile(p, Systemd{}.Unit(cfg), 0o644)
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", p).CombinedOutput()
	if err != nil || strings.Contains(string(out), p) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// A unit that is restarting (activating, auto-restart) is still running for
// stop; a failed one is stopped, and reset so its failure does not linger.
func TestSystemdStopRestartingAndFailedUnits(t *testing.T) {
	for _, tc := range []struct {
		state   string
		wantErr bool
	}{{"activating", true}, {"failed", false}, {"inactive", false}} {
		dir := t.TempDir()
		var calls []string
		sd := Systemd{UnitDir: dir, Systemctl: func(args ...string) ([]byte, error) {
			calls = append(calls, strings.Join(args, " "))
			switch args[0] {
			case "disable":
				return nil, errors.New("exit 1")
			case "is-active":
				return []byte(tc.state + "\n"), errors.New("exit 3")
			}
			return nil, nil
		}}
		rec := &Record{Name: "namenode-nn1", Manager: ManagerSystemd, Unit: UnitName("namenode-nn1"), State: StateBackoff}
		err := sd.Stop(dir, rec)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s unit: Stop = %v, want error %v", tc.state, err, tc.wantErr)
		}
		if !tc.wantErr && !slices.Contains(calls, "reset-failed hactl-namenode-nn1.service") {
			t.Errorf("%s unit: no reset-failed in %q", tc.state, calls)
		}
	}
}

func TestSystemdFailedUnitLastExit(t *testing.T) {
	sd := Systemd{Systemctl: func(args ...string) ([]byte, error) {
		return []byte("MainPID=0\nActiveState=failed\nNRestarts=5\nResult=exit-code\n"), nil
	}}
	r := &Record{Name: "zkfc-nn1", Manager: ManagerSystemd, Unit: UnitName("zkfc-nn1")}
	sd.refresh(r)
	if r.State != StateFailed || r.Restarts != 5 || r.LastExit != "exit-code" {
		t.Errorf("failed unit: %+v", r)
	}
}

// A unit whose record was lost (its run dir removed) is still stopped and
// removed: systemd would otherwise restart a daemon killed by PID.
func TestStopUnitWithoutRecord(t *testing.T) {
	dir := t.TempDir()
	units := filepath.Join(dir, "units")
	os.MkdirAll(units, 0o755)
	os.WriteFile(filepath.Join(units, UnitName("journalnode")), []byte("[Unit]\n"), 0o644)
	var calls []string
	sd := Systemd{UnitDir: units, Systemctl: func(args ...string) ([]byte, error) {
		calls = append(calls, strings.Join(args, " "))
		return nil, nil
	}}
	run := filepath.Join(dir, "run") // absent: destroy removed it
	if err := stop(run, "journalnode", time.Second, sd, true); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(calls, "disable --now hactl-journalnode.service") {
		t.Errorf("systemctl calls %q: the unit was not stopped", calls)
	}
	if _, err := os.Stat(filepath.Join(units, UnitName("journalnode"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unit file left: %v", err)
	}
	calls = nil
	if err := stop(run, "zkfc.ns.nn1", time.Second, sd, true); err != nil || len(calls) != 0 {
		t.Errorf("no unit, no record: %v, systemctl %q", err, calls)
	}
	if err := stop(filepath.Join(dir, "run2"), "journalnode", time.Second, sd, false); err != nil || len(calls) != 0 {
		t.Errorf("without systemd: %v, systemctl %q", err, calls)
	}
}
