package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/hactl/hactl/runtime/probe"
)

// `hactl runtime probe` on a bare host (nothing installed, no
// configuration) reports nothing and no error: there is nothing only the
// runtime could tell.
func TestRuntimeProbeOfABareHost(t *testing.T) {
	dir := t.TempDir()
	args := []string{"hactl", "runtime", "probe", "--conf", filepath.Join(dir, "etc"),
		"--install-dir", filepath.Join(dir, "opt"), "--address", "127.0.2.9"}
	var out, errb bytes.Buffer
	if code := Run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep probe.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.RuntimeVersion != "" || rep.NameNodes != nil || rep.Error != "" {
		t.Errorf("bare host: %q (%v)", out.String(), err)
	}
}
