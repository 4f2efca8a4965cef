package targets_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/internal/netns"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

func integration(t testing.TB) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (network-namespace hosts with sshd; needs root)")
	}
}

// sshCluster describes netns hosts as an ssh-target cluster.
func sshCluster(nc *netns.Cluster, known string) *schema.Cluster {
	c := &schema.Cluster{
		Target:       &schema.Target{Kind: schema.TargetSSH},
		SSH:          &schema.SSH{User: "root", PrivateKey: nc.ClientKey, KnownHosts: known, ConnectTimeout: 3 * time.Second},
		Runtime:      &schema.Runtime{},
		Nameservices: []*schema.Nameservice{{Name: "ns"}},
	}
	for _, h := range nc.Hosts {
		c.Hosts = append(c.Hosts, &schema.Host{Name: h.Name, Address: h.Addr})
	}
	return c
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// hactlBinary builds cmd/hactl once per test process.
func hactlBinary(t testing.TB) (string, string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "hactl")
		out, err := exec.Command("go", "build", "-o", buildPath, "github.com/hactl/hactl/cmd/hactl").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build cmd/hactl: %v", buildErr)
	}
	data, err := os.ReadFile(buildPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return buildPath, hex.EncodeToString(sum[:])
}

func TestSSHIntegration(t *testing.T) {
	integration(t)
	nc := netns.New(t, netns.Options{Hosts: 2})
	h1, h2 := nc.Hosts[0], nc.Hosts[1]
	ctx := context.Background()
	c := sshCluster(nc, nc.KnownHosts)
	hosts, err := targets.Open(c, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer targets.CloseAll(hosts)

	t.Run("run sees the host's own network and /opt", func(t *testing.T) {
		os.WriteFile(h2.Path("/opt/marker"), []byte("h2-only"), 0o644)
		r, err := runOK(ctx, hosts["h2"], targets.Command{Shell: "cat /opt/marker; ip -4 -o addr show"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(r.Stdout), "h2-only") || !strings.Contains(string(r.Stdout), h2.Addr) {
			t.Errorf("h2 sees %q", r.Stdout)
		}
		r, _ = hosts["h1"].Run(ctx, targets.Command{Args: []string{"cat", "/opt/marker"}})
		if r.ExitCode == 0 {
			t.Errorf("h1 sees h2's /opt: %q", r.Stdout)
		}
	})

	t.Run("a script past the 128 KiB argument bound runs from stdin", func(t *testing.T) {
		// The probe's second round trip (storage dirs of a long storage
		// record) sends its script this way.
		script := strings.Repeat(": "+strings.Repeat("x", 200)+"\n", 1000) + "echo done $(id -u)\n"
		r, err := runOK(ctx, hosts["h1"], targets.Command{Args: []string{"sh", "-s"}, Stdin: strings.NewReader(script), Sudo: true})
		if err != nil || strings.TrimSpace(string(r.Stdout)) != "done 0" {
			t.Errorf("script of %d bytes on stdin: %q, %v", len(script), r.Stdout, err)
		}
	})

	t.Run("upload with sha256", func(t *testing.T) {
		data := strings.Repeat("hactl ", 100000)
		sum := sha256.Sum256([]byte(data))
		err := hosts["h1"].Upload(ctx, "/opt/hactl/bin/blob", strings.NewReader(data), 0o755, hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(h1.Path("/opt/hactl/bin/blob"))
		if string(got) != data {
			t.Errorf("uploaded %d bytes, host has %d", len(data), len(got))
		}
		err = hosts["h1"].Upload(ctx, "/opt/hactl/bin/blob", strings.NewReader("tampered"), 0o755, hex.EncodeToString(sum[:]))
		if !errors.Is(err, targets.ErrChecksumMismatch) {
			t.Errorf("mismatch: %v", err)
		}
		if got, _ := os.ReadFile(h1.Path("/opt/hactl/bin/blob")); string(got) != data {
			t.Error("failed upload replaced the file")
		}
	})

	t.Run("known_hosts", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "known_hosts")
		strict, _ := targets.Open(sshCluster(nc, empty), targets.Options{})
		defer targets.CloseAll(strict)
		_, err := strict["h1"].Run(ctx, targets.Command{Args: []string{"true"}})
		if !errors.Is(err, targets.ErrUnknownHostKey) || !strings.Contains(err.Error(), ssh.FingerprintSHA256(h1.HostKey)) {
			t.Errorf("unknown host: %v", err)
		}
		tofu, _ := targets.Open(sshCluster(nc, empty), targets.Options{AcceptNewHostKeys: true, Log: &strings.Builder{}})
		defer targets.CloseAll(tofu)
		if _, err := tofu["h1"].Run(ctx, targets.Command{Args: []string{"true"}}); err != nil {
			t.Errorf("accept-new: %v", err)
		}
		if data, _ := os.ReadFile(empty); !strings.Contains(string(data), h1.Addr+" ssh-ed25519") {
			t.Errorf("known_hosts after accept-new: %q", data)
		}
		// h2 recorded with h1's key: a changed key, refused even with accept-new.
		wrong := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(wrong, []byte(knownhosts.Line([]string{h2.Addr}, h1.HostKey)+"\n"), 0o600)
		changed, _ := targets.Open(sshCluster(nc, wrong), targets.Options{AcceptNewHostKeys: true})
		defer targets.CloseAll(changed)
		if _, err := changed["h2"].Run(ctx, targets.Command{Args: []string{"true"}}); !errors.Is(err, targets.ErrHostKeyChanged) {
			t.Errorf("changed key: %v", err)
		}
	})

	t.Run("bastion", func(t *testing.T) {
		// Make h2 unreachable from here, so only the hop through h1 works.
		if out, err := exec.Command("ip", "route", "add", "blackhole", h2.Addr+"/32").CombinedOutput(); err != nil {
			t.Fatalf("%s", out)
		}
		defer exec.Command("ip", "route", "del", "blackhole", h2.Addr+"/32").Run()
		direct := sshCluster(nc, nc.KnownHosts)
		direct.SSH.ConnectTimeout = time.Second
		dh, _ := targets.Open(direct, targets.Options{})
		defer targets.CloseAll(dh)
		if _, err := dh["h2"].Run(ctx, targets.Command{Args: []string{"true"}}); !errors.Is(err, targets.ErrUnreachable) {
			t.Fatalf("h2 reachable directly despite the blackhole: %v", err)
		}
		via := sshCluster(nc, nc.KnownHosts)
		via.SSH.Bastion = "root@" + h1.Addr
		vh, _ := targets.Open(via, targets.Options{})
		defer targets.CloseAll(vh)
		r, err := vh["h2"].Run(ctx, targets.Command{Shell: "ip -4 -o addr show"})
		if err != nil || !strings.Contains(string(r.Stdout), h2.Addr) {
			t.Errorf("through bastion h1: %q %v", r.Stdout, err)
		}
	})

	t.Run("reconnect after cut and restore", func(t *testing.T) {
		h := hosts["h1"]
		if _, err := h.Run(ctx, targets.Command{Args: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		nc.Cut("h1")
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := h.Run(cctx, targets.Command{Args: []string{"true"}})
		cancel()
		if !errors.Is(err, targets.ErrUnreachable) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("while cut: %v", err)
		}
		nc.Restore("h1")
		var r targets.Result
		for i := range 20 { // bounded: the link needs a moment to forward again
			r, err = h.Run(ctx, targets.Command{Args: []string{"echo", "back"}})
			if err == nil || i == 19 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil || string(r.Stdout) != "back\n" {
			t.Errorf("after restore: %q %v", r.Stdout, err)
		}
	})

	t.Run("probe of a bare host with data in its storage dirs", func(t *testing.T) {
		// h2 has no hactl (no binary, no config) but its NameNode and
		// JournalNode dirs hold an older install's data: the probe must
		// report it, in one round trip, uploading nothing.
		sc := sshCluster(nc, nc.KnownHosts)
		sc.Nameservices = []*schema.Nameservice{{Name: "ns", NameDirs: []string{"/var/lib/hdfs/name"},
			NameNodes: []*schema.NameNode{{ID: "nn1", Host: "h1"}, {ID: "nn2", Host: "h2"}},
			Journal:   &schema.Journal{Hosts: []string{"h1", "h2"}, EditsDir: "/var/lib/hdfs/journal"}}}
		for p, data := range map[string]string{
			"/var/lib/hdfs/name/current/VERSION":                   "namespaceID=99\nclusterID=CID-ssh\n",
			"/var/lib/hdfs/name/current/seen_txid":                 "12\n",
			"/var/lib/hdfs/journal/ns/current/VERSION":             "namespaceID=99\nclusterID=CID-ssh\n",
			"/var/lib/hdfs/journal/ns/current/last-promised-epoch": "3\n",
		} {
			os.MkdirAll(filepath.Dir(h2.Path(p)), 0o755)
			if err := os.WriteFile(h2.Path(p), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { os.RemoveAll(h2.Path("/var/lib/hdfs")) })
		sh, err := targets.Open(sc, targets.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer targets.CloseAll(sh)
		obs, err := targets.ProbeAll(ctx, sc, sh, targets.ProbeOptions{SkipZooKeeper: true})
		if err != nil {
			t.Fatal(err)
		}
		o2 := obs.Hosts["h2"]
		if !o2.Reachable || o2.Error != "" || o2.RuntimeSHA256 != "" {
			t.Fatalf("h2: %+v", o2)
		}
		if nn := o2.NameNodes["ns/nn2"]; nn == nil || !nn.Formatted || !nn.HasData || nn.ClusterID != "CID-ssh" || nn.NamespaceID != 99 || nn.LastTxid != 12 {
			t.Errorf("h2's NameNode storage: %+v", nn)
		}
		if j := o2.JournalNodes["ns"]; j == nil || !j.Formatted || !j.HasData || j.LastPromisedEpoch != 3 {
			t.Errorf("h2's journal: %+v", j)
		}
		if o1 := obs.Hosts["h1"]; !o1.Reachable || o1.NameNodes["ns/nn1"] == nil || o1.NameNodes["ns/nn1"].HasData || len(o1.JournalNodes) != 0 {
			t.Errorf("h1 (empty, h2's data must not show here): %+v", o1)
		}
		if ents, _ := os.ReadDir(h2.Path("/tmp")); len(ents) != 0 {
			t.Errorf("the probe left files in h2's /tmp: %v", ents)
		}
		if _, err := os.Stat(h2.Path("/opt/hactl")); !os.IsNotExist(err) {
			t.Errorf("the probe created /opt/hactl on a bare host: %v", err)
		}
	})

	t.Run("probe and supervise over ssh on a bare host", func(t *testing.T) {
		bin, sum := hactlBinary(t)
		obs, err := targets.ProbeAll(ctx, c, hosts, targets.ProbeOptions{SkipZooKeeper: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range nc.Hosts {
			oh := obs.Hosts[h.Name]
			if oh == nil || !oh.Reachable || oh.Error != "" || oh.RuntimeSHA256 != "" || len(oh.Daemons) != 0 {
				t.Errorf("bare %s: %+v", h.Name, oh)
			}
			// Nothing is uploaded to describe a bare host.
			if _, err := os.Stat(h.Path(c.PathsFor(h.Name).InstallDir)); !os.IsNotExist(err) {
				continue
			}
			if _, err := os.Stat(h.Path("/tmp/hactl-probe-" + sum[:16])); !os.IsNotExist(err) {
				t.Errorf("%s: probe copy left in the bare host's /tmp: %v", h.Name, err)
			}
		}
		// Install the runtime on h1 and start a daemon through the
		// supervisor; the SSH session must end while the daemon lives on.
		f, _ := os.Open(bin)
		err = hosts["h1"].Upload(ctx, "/opt/hactl/bin/hactl", f, 0o755, sum)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		hosts["h1"].Upload(ctx, "/opt/hactl/bin/hactl.sha256", strings.NewReader(sum+"  hactl\n"), 0o644, "")
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		_, err = runOK(sctx, hosts["h1"], targets.Command{Args: []string{
			"/opt/hactl/bin/hactl", "runtime", "supervise", "start", "--name", "journalnode",
			"--run-dir", "/var/run/hactl", "--log", "/var/log/hactl/journalnode.log", "--", "sleep", "600"}})
		if err != nil {
			t.Fatal(err)
		}
		hosts["h1"].Close() // the connection that started it is gone
		obs, err = targets.ProbeAll(ctx, c, hosts, targets.ProbeOptions{SkipZooKeeper: true})
		if err != nil {
			t.Fatal(err)
		}
		oh := obs.Hosts["h1"]
		// The installed binary's own probe answered (its version is known).
		if oh.RuntimeSHA256 != sum || oh.RuntimeVersion == "" || oh.RuntimeVersion == "unknown" || oh.Error != "" || !oh.Supervisor {
			t.Errorf("installed runtime: %+v", oh)
		}
		if d := oh.Daemons["journalnode"]; d == nil || !d.Running || d.PID == 0 {
			t.Errorf("supervised daemon after the session ended: %+v", d)
		}
		if len(obs.Hosts["h2"].Daemons) != 0 {
			t.Errorf("h2 shows h1's daemons: %+v", obs.Hosts["h2"].Daemons)
		}
		// Cut h2: reported unreachable, never guessed.
		nc.Cut("h2")
		defer nc.Restore("h2")
		hosts["h2"].Close()
		obs, _ = targets.ProbeAll(ctx, c, hosts, targets.ProbeOptions{SkipZooKeeper: true, HostTimeout: 5 * time.Second})
		if o := obs.Hosts["h2"]; o.Reachable || o.Error == "" {
			t.Errorf("cut h2: %+v", o)
		}
		if !obs.Hosts["h1"].Reachable {
			t.Errorf("h1 affected by h2's cut: %+v", obs.Hosts["h1"])
		}
	})
}

func runOK(ctx context.Context, h targets.Host, cmd targets.Command) (targets.Result, error) {
	r, err := h.Run(ctx, cmd)
	return targets.Check(h.Name(), cmd, r, err)
}
