package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// validateRun runs hactl in-process and returns exit code, stdout, stderr.
func validateRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), append([]string{"hactl"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateExitCodesAndFormats(t *testing.T) {
	valid := "../testdata/valid-schema/baremetal"
	invalid := "../testdata/invalid/81-even-jn-and-no-key-common"

	code, out, errOut := validateRun(t, "validate", valid)
	if code != 0 || !strings.Contains(out, "configuration is valid") {
		t.Errorf("valid: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = validateRun(t, "validate", invalid)
	if code != 1 || !strings.Contains(out, "HA062: sshfence without a private key") ||
		!strings.Contains(out, "on ../testdata/invalid/81-even-jn-and-no-key-common/cluster.hcl line 33") ||
		!strings.Contains(out, "Invalid: 1 error, 1 warning.") {
		t.Errorf("invalid text: code %d\n%s", code, out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour escapes written to a non-terminal")
	}

	code, out, _ = validateRun(t, "validate", "--format", "json", invalid)
	var rep struct {
		Valid       bool `json:"valid"`
		ErrorCount  int  `json:"error_count"`
		Diagnostics []struct{ Code string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Valid || rep.ErrorCount != 1 || rep.Diagnostics[1].Code != "HA062" {
		t.Errorf("json: code %d err %v rep %+v\n%s", code, err, rep, out)
	}
	code, out, _ = validateRun(t, "validate", "--format=sarif", valid)
	if code != 0 || !strings.Contains(out, `"version": "2.1.0"`) || !strings.Contains(out, `"id": "HA062"`) {
		t.Errorf("sarif: code %d\n%.300s", code, out)
	}

	// Warnings alone keep exit 0.
	code, _, _ = validateRun(t, "validate", "../testdata/invalid/46-even-journalnodes")
	if code != 0 {
		t.Errorf("warnings only: code %d, want 0", code)
	}

	for _, args := range [][]string{
		{"validate", "--format", "xml", valid},
		{"validate", valid, valid},
	} {
		if code, _, errOut := validateRun(t, args...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d, want 2 (usage) with a message", args, code)
		}
	}
}

func TestValidateRulesAndVars(t *testing.T) {
	code, out, _ := validateRun(t, "validate", "--rules")
	if code != 0 || !strings.Contains(out, "HA001") || !strings.Contains(out, "HA071") || !strings.Contains(out, "warning") {
		t.Errorf("--rules: code %d\n%s", code, out)
	}

	dir := t.TempDir()
	cfg := `variable "zk" {
  type = list(string)
}
variable "user" {}
host "a" {
  address = "127.0.9.1"
}
ssh {
  user = var.user
}
zookeeper {
  servers = var.zk
}
target "local" {}
`
	if err := os.WriteFile(filepath.Join(dir, "c.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without values: required variables are errors.
	if code, out, _ := validateRun(t, "validate", dir); code != 1 || !strings.Contains(out, "No value for required variable") {
		t.Errorf("no vars: code %d\n%s", code, out)
	}
	// A --var value with commas is one value, not split by the flag parser.
	code, out, _ = validateRun(t, "validate", "--var", `zk=["a","a"]`, "--var", "user=x,y", dir)
	if code != 1 || !strings.Contains(out, "HA055") {
		t.Errorf("--var list: code %d\n%s", code, out)
	}
	vf := filepath.Join(dir, "v.tfvars")
	if err := os.WriteFile(vf, []byte("zk = [\"a\"]\nuser = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HACTL_VAR_user", "fromenv")
	code, out, _ = validateRun(t, "validate", "--var-file", vf, dir)
	if code != 0 || !strings.Contains(out, "HA051") {
		t.Errorf("--var-file: code %d\n%s", code, out)
	}
}

func TestValidateHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"validate", "fmt"} {
		_, out, _ := validateRun(t, cmd, "--help")
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "hactl "+cmd) {
			t.Errorf("%s --help lacks examples:\n%s", cmd, out)
		}
	}
}

// BenchmarkValidateProcess measures the wall time of a whole `hactl validate`
// process on the 3-nameservice, 15-host fixture (target: under 50 ms).
func BenchmarkValidateProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "hactl")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", bin, "../cmd/hactl").CombinedOutput(); err != nil {
		b.Fatalf("build hactl: %v\n%s", err, out)
	}
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command(bin, "validate", "../testdata/valid-schema/bench")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("hactl validate: %v\n%s", err, out)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
