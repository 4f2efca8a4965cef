package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/runtime/probe"
)

// `hactl runtime probe` answers only a caller that knows its report (an
// older hactl would take the daemons it no longer lists for stopped ones and
// must describe the host with its own shell instead), and still accepts the
// --run-dir older callers pass.
func TestRuntimeProbeNeedsACallerThatKnowsItsReport(t *testing.T) {
	dir := t.TempDir()
	args := []string{"hactl", "runtime", "probe", "--conf", filepath.Join(dir, "etc"), "--run-dir", filepath.Join(dir, "run"),
		"--install-dir", filepath.Join(dir, "opt"), "--address", "127.0.2.9"}
	var out, errb bytes.Buffer
	t.Setenv(probe.ReportEnv, "")
	if code := Run(context.Background(), args, &out, &errb); code == 0 || out.Len() != 0 || !strings.Contains(errb.String(), probe.ReportEnv+"="+probe.ReportFormat) {
		t.Errorf("without %s: exit %d, stdout %q, stderr %q", probe.ReportEnv, code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	t.Setenv(probe.ReportEnv, probe.ReportFormat)
	if code := Run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep probe.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.RuntimeVersion != "" || rep.NameNodes != nil || rep.Error != "" {
		t.Errorf("bare host: %q (%v)", out.String(), err)
	}
}
