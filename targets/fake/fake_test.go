package fake

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hactl/hactl/targets"
)

func TestFakeRulesCallsAndFiles(t *testing.T) {
	h := New("h1", "10.0.0.1")
	h.On(IsRuntime("supervise", "status"), "[]\n", 0).Times = 1
	h.On(IsRuntime("supervise", "status"), "", 3)
	ctx := context.Background()
	status := targets.Command{Args: []string{"/opt/hactl/bin/hactl", "runtime", "supervise", "status", "--run-dir", "/run/hactl", "--json"}}
	r, _ := h.Run(ctx, status)
	if string(r.Stdout) != "[]\n" || r.ExitCode != 0 {
		t.Errorf("first match: %+v", r)
	}
	r, _ = h.Run(ctx, status)
	if r.ExitCode != 3 {
		t.Errorf("after Times ran out: %+v", r)
	}
	r, _ = h.Run(ctx, targets.Command{Shell: "echo hi", Stdin: strings.NewReader("in"), Sudo: true})
	if r.ExitCode != 0 || len(r.Stdout) != 0 {
		t.Errorf("unmatched: %+v", r)
	}
	if err := h.Upload(ctx, "/opt/x", strings.NewReader("data"), 0o600, "bad"); !errors.Is(err, targets.ErrChecksumMismatch) {
		t.Errorf("checksum: %v", err)
	}
	if err := h.Upload(ctx, "/opt/x", strings.NewReader("data"), 0o600, ""); err != nil {
		t.Fatal(err)
	}
	if f, ok := h.File("/opt/x"); !ok || string(f.Data) != "data" || f.Mode != 0o600 {
		t.Errorf("file: %+v", f)
	}
	st := Runtime{Binary: "/opt/hactl/bin/hactl", Command: []string{"supervise", "status"}, Flags: map[string][]string{"--run-dir": {"/run/hactl"}, "--json": {""}}}
	want := []Op{st, st, Shell{Script: "echo hi"}, Upload{Path: "/opt/x", Data: []byte("data")}, Upload{Path: "/opt/x", Data: []byte("data")}}
	if got := h.Ops(); !reflect.DeepEqual(got, want) {
		t.Errorf("ops %#v\nwant %#v", got, want)
	}
	if c := h.Calls()[2]; string(c.Stdin) != "in" || !c.Sudo {
		t.Errorf("stdin or sudo not recorded: %+v", c)
	}
	h.Unreachable = true
	if _, err := h.Run(ctx, targets.Command{Args: []string{"true"}}); !errors.Is(err, targets.ErrUnreachable) {
		t.Errorf("unreachable: %v", err)
	}
}

// Each shell form hactl sends decodes into its operation; anything else
// stays a script.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		cmd  targets.Command
		want Op
	}{
		{targets.Command{Args: []string{"/x/bin/hactl", "runtime", "supervise", "start", "--name", "journalnode", "--env", "A=1", "--env", "B=2", "--replace", "--", "/x/bin/hactl", "runtime", "journalnode"}},
			Runtime{Binary: "/x/bin/hactl", Command: []string{"supervise", "start"}, Flags: map[string][]string{"--name": {"journalnode"}, "--env": {"A=1", "B=2"}, "--replace": {""}},
				Argv: []string{"/x/bin/hactl", "runtime", "journalnode"}}},
		{targets.Command{Args: []string{"tail", "-n", "15", "/var/log/hactl/journalnode.log"}}, Exec{Args: []string{"tail", "-n", "15", "/var/log/hactl/journalnode.log"}}},
		{targets.Command{Shell: "if [ -s '/etc/hactl dir/x' ]; then echo yes; else echo no; fi"}, FileTest{Path: "/etc/hactl dir/x"}},
		{targets.Command{Shell: "if [ -s /etc/x ]; then cat /etc/x; fi"}, FileRead{Path: "/etc/x"}},
		{targets.Command{Shell: "mkdir -p /var/lock && if ( set -C; printf '%s\\n' 'me@h pid=1' > /var/lock/hactl-apply.lock ) 2>/dev/null; then echo acquired; else cat /var/lock/hactl-apply.lock; fi"},
			LockAcquire{Path: "/var/lock/hactl-apply.lock"}},
		{targets.Command{Shell: "[ -f /usr/share/java/zookeeper.jar ] || { apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends zookeeper; }"},
			InstallPackages{Packages: []string{"zookeeper"}, AptGets: []AptGet{{Options: []string{"DPkg::Lock::Timeout=300"}, Command: "update -qq"},
				{Options: []string{"DPkg::Lock::Timeout=300"}, Command: "install -y -qq --no-install-recommends zookeeper"}}}},
		{targets.Command{Shell: "rm -f -- '/etc/hactl dir/core-site.xml' '/etc/hactl dir'/'.core-site.xml.tmp-'* /run/hactl/namenode.*.json\n" +
			"if [ -f '/etc/hactl dir'/.hactl-created ] && [ \"$(ls -A -- '/etc/hactl dir')\" = .hactl-created ]; then rm -f -- '/etc/hactl dir'/.hactl-created && rmdir -- '/etc/hactl dir' 2>/dev/null || true; fi\n" +
			"if [ -f /run/hactl/.hactl-created ] && [ \"$(ls -A -- /run/hactl)\" = .hactl-created ]; then rm -f -- /run/hactl/.hactl-created && rmdir -- /run/hactl 2>/dev/null || true; fi\n"},
			RemoveFiles{Files: []string{"/etc/hactl dir/core-site.xml", "/etc/hactl dir/.core-site.xml.tmp-*", "/run/hactl/namenode.*.json"}, Dirs: []string{"/etc/hactl dir", "/run/hactl"}}},
		{targets.Command{Shell: "rm -f -- '/x/it'\"'\"'s'\nif [ -f /x/.hactl-created ] && [ \"$(ls -A -- /x)\" = .hactl-created ]; then rm -f -- /x/.hactl-created && rmdir -- /x 2>/dev/null || true; fi\n"}, RemoveFiles{Files: []string{"/x/it's"}, Dirs: []string{"/x"}}},
		{targets.Command{Args: []string{"rm", "-rf", "/hdfs/namenode", "/hdfs/journalnode"}}, RemoveTree{Dirs: []string{"/hdfs/namenode", "/hdfs/journalnode"}}},
		{targets.Command{Shell: "rm -f /tmp/hactl-probe-*"}, Shell{Script: "rm -f /tmp/hactl-probe-*"}},
	} {
		if got := Decode(tc.cmd); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Decode(%+v)\n got %#v\nwant %#v", tc.cmd, got, tc.want)
		}
	}
}
