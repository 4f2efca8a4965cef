package targets_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

func cluster() *schema.Cluster {
	return &schema.Cluster{
		Hosts:        []*schema.Host{{Name: "a", Address: "10.0.0.1"}, {Name: "b", Address: "10.0.0.2"}, {Name: "c", Address: "10.0.0.3"}},
		Target:       &schema.Target{Kind: schema.TargetSSH},
		Nameservices: []*schema.Nameservice{{Name: "ns"}},
	}
}

func TestProbeAll(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hactl")
	os.WriteFile(bin, []byte("new-binary"), 0o755)
	sum := sha256.Sum256([]byte("new-binary"))
	hexSum := hex.EncodeToString(sum[:])
	tmp := "/tmp/hactl-probe-" + hexSum[:16]

	// a: runtime installed and current: one round trip.
	a := fake.New("a", "10.0.0.1")
	a.On(`runtime probe`, `{"runtime_version":"1.0","runtime_sha256":"`+hexSum+`","supervisor":true,"daemons":{"journalnode":{"running":true,"pid":42}}}`, 0)
	// b: bare host: asks for the binary once, then runs the uploaded one.
	b := fake.New("b", "10.0.0.2")
	b.AddRule(&fake.Rule{Pattern: mustRe(`runtime probe`), Respond: func(h *fake.Host, cmd targets.Command, _ []byte) (targets.Result, error) {
		if _, ok := h.File(tmp); !ok {
			return targets.Result{ExitCode: 97}, nil
		}
		return targets.Result{Stdout: []byte(`{"zookeeper_installed":false}`)}, nil
	}})
	// c: unreachable.
	c := fake.New("c", "10.0.0.3")
	c.Unreachable = true
	hosts := map[string]targets.Host{"a": a, "b": b, "c": c}

	obs, err := targets.ProbeAll(context.Background(), cluster(), hosts, targets.ProbeOptions{Binary: bin, BinarySHA256: hexSum, SkipZooKeeper: true})
	if err != nil {
		t.Fatal(err)
	}
	if oa := obs.Hosts["a"]; !oa.Reachable || oa.Name != "a" || oa.RuntimeVersion != "1.0" || !oa.Daemons["journalnode"].Running {
		t.Errorf("a: %+v", oa)
	}
	if n := len(a.Calls()); n != 1 {
		t.Errorf("a: %d calls, want one round trip: %q", n, a.Lines())
	}
	if !a.Calls()[0].Cmd.Sudo || !strings.Contains(a.Lines()[0], "--address 10.0.0.1") {
		t.Errorf("a's probe command: %q", a.Lines()[0])
	}
	if ob := obs.Hosts["b"]; !ob.Reachable || ob.Error != "" {
		t.Errorf("b: %+v", ob)
	}
	if lines := b.Lines(); len(lines) != 3 || lines[1] != "upload "+tmp {
		t.Errorf("b's calls: %q", lines)
	}
	if f, _ := b.File(tmp); string(f.Data) != "new-binary" || f.Mode != 0o755 {
		t.Errorf("uploaded probe binary: %+v", f)
	}
	if oc := obs.Hosts["c"]; oc.Reachable || !strings.Contains(oc.Error, "unreachable") || oc.RuntimeVersion != "" {
		t.Errorf("c: %+v (an unreachable host must say so, not be guessed)", oc)
	}
}

func TestProbeAllReportsBrokenProbe(t *testing.T) {
	a := fake.New("a", "10.0.0.1")
	a.On(`runtime probe`, "", 2).Result.Stderr = []byte("flag provided but not defined: -address")
	b := fake.New("b", "10.0.0.2")
	b.On(`runtime probe`, "not json", 0)
	obs, err := targets.ProbeAll(context.Background(), cluster(), map[string]targets.Host{"a": a, "b": b},
		targets.ProbeOptions{BinarySHA256: strings.Repeat("0", 64), SkipZooKeeper: true})
	if err != nil {
		t.Fatal(err)
	}
	if oa := obs.Hosts["a"]; !oa.Reachable || !strings.Contains(oa.Error, "not defined") {
		t.Errorf("a: %+v", oa)
	}
	if ob := obs.Hosts["b"]; !strings.Contains(ob.Error, "bad output") {
		t.Errorf("b: %+v", ob)
	}
	if oc := obs.Hosts["c"]; oc == nil || oc.Reachable || oc.Error == "" {
		t.Errorf("c without a target: %+v", oc)
	}
}

// The probe script itself, run by a real shell against an installed,
// a stale and a missing runtime.
func TestProbeCommandPicksBinary(t *testing.T) {
	root := t.TempDir()
	c := &schema.Cluster{Hosts: []*schema.Host{{Name: "h", Address: "127.0.2.1"}},
		Runtime: &schema.Runtime{InstallDir: root + "/opt", ConfDir: root + "/etc", RunDir: root + "/run"}}
	bin := root + "/opt/bin/hactl"
	tmp := root + "/tmp-hactl"
	os.MkdirAll(root+"/opt/bin", 0o755)
	script := "#!/bin/sh\necho \"$0 $*\"\n"
	os.WriteFile(bin, []byte(script), 0o755)
	h := targets.NewLocal("h", "127.0.2.1", "")
	run := func() targets.Result {
		r, err := h.Run(context.Background(), targets.Command{Shell: targets.ProbeCommand(c, "h", "127.0.2.1", strings.Repeat("a", 64), tmp)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(); r.ExitCode != 97 {
		t.Errorf("without a checksum file the installed binary was trusted: %+v", r)
	}
	os.WriteFile(bin+".sha256", []byte(strings.Repeat("a", 64)+"  hactl\n"), 0o644)
	if r := run(); r.ExitCode != 0 || !strings.HasPrefix(string(r.Stdout), bin+" runtime probe --conf "+root+"/etc --run-dir "+root+"/run") ||
		!strings.Contains(string(r.Stdout), "--address 127.0.2.1") {
		t.Errorf("current installed runtime: %+v", r)
	}
	os.WriteFile(bin+".sha256", []byte(strings.Repeat("b", 64)), 0o644)
	os.WriteFile(tmp, []byte(script), 0o755)
	if r := run(); r.ExitCode != 0 || !strings.HasPrefix(string(r.Stdout), tmp+" runtime probe") {
		t.Errorf("stale runtime must use the uploaded binary: %+v", r)
	}
}
