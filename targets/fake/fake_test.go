package fake

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hactl/hactl/targets"
)

func TestFakeRulesCallsAndFiles(t *testing.T) {
	h := New("h1", "10.0.0.1")
	h.On(`^systemctl is-active`, "active\n", 0).Times = 1
	h.On(`^systemctl`, "", 3)
	ctx := context.Background()
	r, _ := h.Run(ctx, targets.Command{Args: []string{"systemctl", "is-active", "x"}})
	if string(r.Stdout) != "active\n" || r.ExitCode != 0 {
		t.Errorf("first match: %+v", r)
	}
	r, _ = h.Run(ctx, targets.Command{Args: []string{"systemctl", "is-active", "x"}})
	if r.ExitCode != 3 {
		t.Errorf("after Times ran out: %+v", r)
	}
	r, _ = h.Run(ctx, targets.Command{Shell: "echo hi", Stdin: strings.NewReader("in")})
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
	want := []string{"systemctl is-active x", "systemctl is-active x", "echo hi", "upload /opt/x", "upload /opt/x"}
	if got := h.Lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q", got)
	}
	if string(h.Calls()[2].Stdin) != "in" {
		t.Errorf("stdin not recorded: %+v", h.Calls()[2])
	}
	h.Unreachable = true
	if _, err := h.Run(ctx, targets.Command{Args: []string{"true"}}); !errors.Is(err, targets.ErrUnreachable) {
		t.Errorf("unreachable: %v", err)
	}
}
