package targets

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hactl/hactl/schema"
)

// TestProbeCommandRemovesUploadedCopyOnBareHost runs the probe script with a
// stand-in binary: on a host with nothing of hactl installed the uploaded copy
// must be gone afterwards (destroy --purge-data leaves nothing), while a host
// with an install dir keeps it for the next plan. The binary hactl itself runs
// from (target local) is never removed.
func TestProbeCommandRemovesUploadedCopyOnBareHost(t *testing.T) {
	for _, installed := range []bool{false, true} {
		root := t.TempDir()
		c := &schema.Cluster{Runtime: &schema.Runtime{
			InstallDir: filepath.Join(root, "opt/hactl"),
			ConfDir:    filepath.Join(root, "etc/hactl"),
			RunDir:     filepath.Join(root, "run"),
		}}
		if installed {
			if err := os.MkdirAll(c.Runtime.InstallDir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		tmp := filepath.Join(root, "hactl-probe-0123456789abcdef")
		if err := os.WriteFile(tmp, []byte("#!/bin/sh\necho '{\"reachable\":true}'\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		script := probeScript(c, "h1", "127.0.0.1", "f00d", tmp, true)
		out, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatalf("installed=%v: probe script: %v", installed, err)
		}
		if string(out) != "{\"reachable\":true}\n" {
			t.Fatalf("installed=%v: output %q", installed, out)
		}
		_, statErr := os.Stat(tmp)
		if !installed && !os.IsNotExist(statErr) {
			t.Fatalf("bare host: uploaded probe copy left behind (%v)", statErr)
		}
		if installed && statErr != nil {
			t.Fatalf("host with an install dir: probe copy removed: %v", statErr)
		}
		if !installed {
			self := filepath.Join(root, "hactl-self")
			os.WriteFile(self, []byte("#!/bin/sh\nexit 0\n"), 0o755)
			if err := exec.Command("sh", "-c", probeScript(c, "h1", "127.0.0.1", "f00d", self, false)).Run(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(self); err != nil {
				t.Fatalf("the running hactl binary was removed by the probe: %v", err)
			}
		}
	}
}
