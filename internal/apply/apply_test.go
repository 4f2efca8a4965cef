package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

func TestApplyFreshClusterConverges(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	bin := testBinary(t)
	plan, out, err := s.apply(c, bin, false)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^\[ *1/\d+\] dim install-runtime \.\.\. ok \(\d+\.\ds\)$`).MatchString(out) {
		t.Errorf("progress lines not as documented:\n%s", out)
	}
	if s.formats != 1 {
		t.Errorf("formats = %d, want exactly 1", s.formats)
	}
	if len(s.violations) > 0 {
		t.Errorf("safety violations: %v", s.violations)
	}
	if s.active["hacluster"] == "" {
		t.Errorf("no active NameNode after apply")
	}
	again, err := planner.Plan(c, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
	if err != nil || !again.Empty() {
		var b strings.Builder
		again.WriteText(&b)
		t.Fatalf("second plan not empty (err %v):\n%s", err, b.String())
	}
	// One secret, the same on every host, owner-only; the binary with its hash.
	var secret []byte
	for _, h := range c.Hosts {
		p := c.PathsFor(h.Name)
		f, ok := s.fakes[h.Name].File(p.SecretFile)
		if !ok || f.Mode != 0o600 || len(strings.TrimSpace(string(f.Data))) < 32 {
			t.Fatalf("%s: secret %v mode %o len %d", h.Name, ok, f.Mode, len(f.Data))
		}
		if secret != nil && string(secret) != string(f.Data) {
			t.Errorf("%s: a different secret than the other hosts", h.Name)
		}
		secret = f.Data
		if b, ok := s.fakes[h.Name].File(p.Binary); !ok || b.Mode != 0o755 || planner.SHA256Hex(b.Data) != bin.SHA256 {
			t.Errorf("%s: binary not installed as expected", h.Name)
		}
	}
	if len(plan.Steps) == 0 {
		t.Fatal("empty fresh plan")
	}
}

func TestApplyKeepsAnExistingSecret(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	old := []byte("0123456789abcdef0123456789abcdef\n")
	s.fakes["jim"].SetFile(c.PathsFor("jim").SecretFile, old, 0o600)
	if _, out, err := s.apply(c, testBinary(t), false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, h := range c.Hosts {
		f, _ := s.fakes[h.Name].File(c.PathsFor(h.Name).SecretFile)
		if string(f.Data) != string(old) {
			t.Errorf("%s: secret %q, want the existing one kept", h.Name, f.Data)
		}
	}
}

// TestApplyRefusesDifferentSecrets: hosts that hold different secrets stop
// the apply with their names; none is overwritten by another's.
func TestApplyRefusesDifferentSecrets(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	a := []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n")
	b := []byte("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n")
	s.fakes["dim"].SetFile(c.PathsFor("dim").SecretFile, a, 0o600)
	s.fakes["jim"].SetFile(c.PathsFor("jim").SecretFile, b, 0o600)
	_, out, err := s.apply(c, testBinary(t), false)
	if err == nil {
		t.Fatalf("apply over hosts with different secrets succeeded\n%s", out)
	}
	if msg := err.Error(); !strings.Contains(msg, "different cluster secrets") ||
		!strings.Contains(msg, "dim:"+c.PathsFor("dim").SecretFile) || !strings.Contains(msg, "jim:"+c.PathsFor("jim").SecretFile) {
		t.Errorf("err = %v, want one naming dim and jim", err)
	}
	for host, want := range map[string][]byte{"dim": a, "jim": b} {
		if f, _ := s.fakes[host].File(c.PathsFor(host).SecretFile); string(f.Data) != string(want) {
			t.Errorf("%s: secret %q, want %q untouched", host, f.Data, want)
		}
	}
	if f, ok := s.fakes["oim"].File(c.PathsFor("oim").SecretFile); ok {
		t.Errorf("oim: got secret %q although the hosts disagree", f.Data)
	}
}

func mutatingCalls(s *sim) []string {
	var out []string
	for _, h := range s.fakes {
		for _, op := range h.Ops() {
			if !readOnly(op) {
				out = append(out, fmt.Sprintf("%s: %+v", h.Name(), op))
			}
		}
	}
	return out
}

func TestDryRunExecutesNoMutationAndIsExact(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)

	dry := newSim(t, c)
	plan, err := planner.Plan(c, dry.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	denv := dry.env(c, bin, true, &out)
	var would []string
	rep, err := Execute(context.Background(), denv, plan)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if w, ok := strings.CutPrefix(l, "      would "); ok {
			would = append(would, w)
		}
	}
	if got := mutatingCalls(dry); len(got) != 0 {
		t.Fatalf("dry run mutated hosts: %v", got)
	}
	if dry.formats != 0 || rep.Mutations == 0 || len(would) != rep.Mutations {
		t.Fatalf("dry run: formats %d, mutations %d, would-lines %d", dry.formats, rep.Mutations, len(would))
	}

	// The wet run performs exactly what the dry run announced, in order.
	wet := newSim(t, c)
	wenv := wet.env(c, bin, false, &strings.Builder{})
	var did []string
	for i, st := range plan.Steps {
		r, _ := New(st)
		if err := r.Run(context.Background(), wenv); err != nil {
			t.Fatalf("wet step %d: %v", i, err)
		}
		did = append(did, wenv.Guard.Drain()...)
	}
	if strings.Join(did, "\n") != strings.Join(would, "\n") {
		t.Fatalf("dry run is not exact:\n--- would ---\n%s\n--- did ---\n%s", strings.Join(would, "\n"), strings.Join(did, "\n"))
	}
}

func TestFailureStopsAndNamesStepAndHost(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	s.failMatch, s.failHost = fake.IsRuntime("bootstrap-standby"), "oim"
	plan, out, err := s.apply(c, testBinary(t), false)
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StepError", err)
	}
	if se.Step.Host != "oim" || se.Step.Action != planner.ActBootstrapStandby {
		t.Fatalf("failed step = %s on %s", se.Step.Action, se.Step.Host)
	}
	msg := err.Error()
	for _, want := range []string{"oim", "bootstrap-standby", "injected failure"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if !strings.Contains(out, "bootstrap-standby hacluster/onn ... failed") {
		t.Errorf("progress does not show the failure:\n%s", out)
	}
	// Nothing after the failed step ran.
	for _, st := range plan.Steps[se.Index:] {
		if strings.Contains(out, fmt.Sprintf("] %s %s ", st.Host, st.Title())) && st.ID != se.Step.ID {
			t.Errorf("step %s ran after the failure", st.ID)
		}
	}
	if s.running("jim", daemon.ZKFCID("hacluster", "jnn").Name()) {
		t.Errorf("a later step (start-zkfc on jim) ran after the failure")
	}
	// Fixed, a re-run converges.
	s.failMatch = nil
	if _, out, err := s.apply(c, testBinary(t), false); err != nil {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	if s.formats != 1 {
		t.Errorf("formats = %d after the re-run, want 1", s.formats)
	}
}

// TestInterruptedApplyConverges cuts the connection at every mutation of a
// fresh apply in turn (before and after the host persisted it) and checks
// that re-running apply converges, with exactly one format and no safety
// violation: invariant 7 of README.md's "How apply keeps data safe".
func TestInterruptedApplyConverges(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)
	total := func() int {
		s := newSim(t, c)
		if _, out, err := s.apply(c, bin, false); err != nil {
			t.Fatalf("clean apply: %v\n%s", err, out)
		}
		return s.mutations
	}()
	if total < 20 {
		t.Fatalf("a fresh apply made only %d mutations", total)
	}
	for _, after := range []bool{false, true} {
		for k := 1; k <= total; k++ {
			s := newSim(t, c)
			s.failAt, s.afterEffect = k, after
			_, _, err := s.apply(c, bin, false)
			if err == nil || !errors.Is(err, targets.ErrUnreachable) {
				t.Fatalf("cut at %d (after=%v): apply did not fail: %v", k, after, err)
			}
			s.failAt = 0
			converged := false
			for round := 0; round < 3 && !converged; round++ {
				if _, out, err := s.apply(c, bin, false); err != nil {
					t.Fatalf("cut at %d (after=%v): re-run %d: %v\n%s", k, after, round, err, out)
				}
				plan, err := planner.Plan(c, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
				if err != nil {
					t.Fatal(err)
				}
				converged = plan.Empty()
			}
			if !converged {
				t.Fatalf("cut at %d (after=%v): no convergence after 3 re-runs", k, after)
			}
			if s.formats != 1 || len(s.violations) > 0 {
				t.Fatalf("cut at %d (after=%v): formats %d, violations %v", k, after, s.formats, s.violations)
			}
		}
	}
}

// TestRollingChangeKeepsTheClusterUp applies a changed key to a running
// cluster and checks, as each daemon stops, that no second NameNode or
// JournalNode was down and that the active handed over before stopping.
func TestRollingChangeKeepsTheClusterUp(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)
	s := newSim(t, c)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	before := s.active["hacluster"]
	changed := loadFixture(t, "three", func(src string) string {
		return strings.Replace(src, `name_dir = "/hdfs/namenode"`, `name_dir = "/hdfs/namenode"`+"\n  tail_edits_period = \"2s\"", 1)
	})
	plan, out, err := s.apply(changed, bin, false)
	if err != nil {
		t.Fatalf("rolling apply: %v\n%s", err, out)
	}
	restarts := 0
	for _, st := range plan.Steps {
		if st.Action == planner.ActRestartNameNode {
			restarts++
		}
	}
	if restarts != 3 {
		t.Fatalf("restarted %d NameNodes, want 3:\n%s", restarts, out)
	}
	if len(s.violations) > 0 {
		t.Fatalf("safety violations during the roll: %v", s.violations)
	}
	if s.active["hacluster"] == before || s.active["hacluster"] == "" {
		t.Errorf("active before %q, after %q: want a graceful failover to another NameNode", before, s.active["hacluster"])
	}
	again, _ := planner.Plan(changed, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
	if !again.Empty() {
		t.Errorf("plan after the roll is not empty")
	}
}

// TestSimCatchesUnsafeRestart proves the rolling test can fail: restarting
// the active NameNode with no failover first is recorded as a violation.
func TestSimCatchesUnsafeRestart(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)
	s := newSim(t, c)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	active := s.active["hacluster"]
	nn := c.Nameservice("hacluster").NameNode(active)
	st := &planner.Step{Host: nn.Host, Action: planner.ActRestartNameNode, Nameservice: "hacluster", NameNode: active, Daemon: daemon.NameNodeID("hacluster", active).Name()}
	r, _ := New(st)
	if err := r.Run(context.Background(), s.env(c, bin, false, &strings.Builder{})); err != nil {
		t.Fatal(err)
	}
	if len(s.violations) == 0 {
		t.Fatal("restarting the active without a failover went unnoticed")
	}
}

func TestDestroyStopsAndRemoves(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)
	s := newSim(t, c)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, purge := range []bool{false, true} {
		plan, err := planner.PlanDestroy(c, s.observe(), planner.DestroyOptions{PurgeData: purge})
		if err != nil {
			t.Fatal(err)
		}
		allowOutage = true
		_, err = Execute(context.Background(), s.env(c, bin, false, &strings.Builder{}), plan)
		allowOutage = false
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range c.Hosts {
			for name, d := range s.daemons[h.Name] {
				if d.running {
					t.Errorf("%s: %s still running after destroy", h.Name, name)
				}
			}
			p := c.PathsFor(h.Name)
			var removed, trees []string
			for _, op := range s.fakes[h.Name].Ops() {
				switch op := op.(type) {
				case fake.RemoveFiles:
					removed = append(removed, op.Files...)
				case fake.RemoveTree:
					trees = append(trees, op.Dirs...)
				}
			}
			if !slices.Contains(removed, filepath.Join(p.ConfDir, "hdfs-site.xml")) || !slices.Contains(removed, p.Binary) {
				t.Errorf("%s: config or runtime not removed: %q", h.Name, removed)
			}
			for _, d := range []string{p.ConfDir, p.LogDir, p.RunDir, p.InstallDir} {
				if slices.Contains(trees, d) {
					t.Errorf("%s: destroy removes the whole of %s", h.Name, d)
				}
			}
			if kept := !slices.Contains(removed, p.SecretFile); kept == purge {
				t.Errorf("%s: cluster secret kept = %v with purge-data = %v", h.Name, kept, purge)
			}
			purged := slices.Contains(trees, "/hdfs/namenode")
			if purged != purge {
				t.Errorf("%s: data dirs removed = %v with purge-data = %v (%q)", h.Name, purged, purge, trees)
			}
			if purge && !slices.Contains(trees, "/hdfs/journalnode") {
				t.Errorf("%s: journal dir not purged: %q", h.Name, trees)
			}
		}
	}
}

func TestUnknownActionRefused(t *testing.T) {
	if _, err := New(&planner.Step{Action: "launch-missiles"}); !errors.Is(err, ErrUnknownAction) {
		t.Fatalf("err = %v", err)
	}
}

func TestFormatZKLeavesAnExistingZnodeAndRetriesAnElectingQuorum(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	env := s.env(c, testBinary(t), false, &strings.Builder{})
	st := &planner.Step{Host: "dim", Action: planner.ActFormatZK, Nameservice: "hacluster"}
	r, _ := New(st)
	// ZooKeeper down: retried on the injected clock, then a clear failure.
	if err := r.Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), "ZooKeeper unreachable") {
		t.Fatalf("format-zk without ZooKeeper: %v", err)
	}
	for _, h := range c.ZooKeeper.Servers {
		s.daemons[h]["zookeeper"] = &simDaemon{running: true}
	}
	if err := r.Run(context.Background(), env); err != nil || !s.znodes["hacluster"] {
		t.Fatalf("format-zk: %v, znode %v", err, s.znodes["hacluster"])
	}
	// Exists (exit 2): the converged state, not an error.
	if err := r.Run(context.Background(), env); err != nil {
		t.Fatalf("format-zk over an existing znode: %v", err)
	}
}

type flakyZKFC struct {
	posts  int
	failed int
	active bool
}

func (f *flakyZKFC) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.URL.Path {
	case "/zkfc/gracefulFailover":
		f.posts++
		if f.posts <= f.failed {
			return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Header: http.Header{},
				Body: io.NopCloser(strings.NewReader(`{"RemoteException":{"message":"not in the election yet"}}`))}, nil
		}
		f.active = true
		return jsonResp(`{}`), nil
	case "/ha/status":
		if f.active {
			return jsonResp(`{"state":"active"}`), nil
		}
		return jsonResp(`{"state":"standby"}`), nil
	}
	return nil, errors.New("unexpected " + r.URL.String())
}

func TestFailoverRetriesAZKFCNotYetInTheElection(t *testing.T) {
	c := loadFixture(t, "three", nil)
	s := newSim(t, c)
	env := s.env(c, testBinary(t), false, &strings.Builder{})
	tr := &flakyZKFC{failed: 3}
	env.HTTP = &http.Client{Transport: tr}
	r, _ := New(&planner.Step{Host: "oim", Action: planner.ActFailover, Nameservice: "hacluster", NameNode: "onn"})
	if err := r.Run(context.Background(), env); err != nil || tr.posts != 4 {
		t.Fatalf("failover: %v after %d posts", err, tr.posts)
	}
	// A ZKFC that never accepts: a clear error with the remote message.
	tr = &flakyZKFC{failed: 1 << 30}
	env.HTTP = &http.Client{Transport: tr}
	err := r.Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "not in the election yet") {
		t.Fatalf("err = %v", err)
	}
}

// A daemon an earlier hactl runs under its own record name is restarted
// under its identity's name: the old record is the one stopped, so the
// daemon never runs twice.
func TestRestartOfALegacyRecordStopsTheRecord(t *testing.T) {
	c := loadFixture(t, "three", nil)
	bin := testBinary(t)
	s := newSim(t, c)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	id := daemon.ZKFCID("hacluster", "onn")
	legacy := daemon.Legacy{Kind: daemon.ZKFC, NameNode: "onn"}.Name()
	s.mu.Lock()
	s.daemons["oim"][legacy] = s.daemons["oim"][id.Name()]
	delete(s.daemons["oim"], id.Name())
	s.mu.Unlock()
	st := &planner.Step{Host: "oim", Action: planner.ActRestartZKFC, Nameservice: "hacluster", NameNode: "onn", Daemon: id.Name(), Record: legacy}
	r, err := New(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), s.env(c, bin, false, &strings.Builder{})); err != nil {
		t.Fatal(err)
	}
	if s.running("oim", legacy) || !s.running("oim", id.Name()) {
		t.Errorf("after the restart: legacy running=%v, %s running=%v", s.running("oim", legacy), id, s.running("oim", id.Name()))
	}
	if _, kept := s.daemons["oim"][legacy]; kept {
		t.Errorf("the earlier hactl's record %s is kept after its daemon moved to %s", legacy, id)
	}
}

// Two nameservices whose NameNodes are both nn1 and nn2, on the same hosts:
// apply runs four NameNodes and four ZKFCs under distinct names (none evicts
// another), each nameservice is formatted once and ends with an active, and
// a second plan is empty.
func TestApplyFederationWithRepeatedNameNodeIDs(t *testing.T) {
	c := loadFixture(t, "federation-shared-ids", nil)
	s := newSim(t, c)
	bin := testBinary(t)
	if _, out, err := s.apply(c, bin, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if s.formats != 2 || len(s.violations) > 0 {
		t.Errorf("formats = %d (want one per nameservice), violations %v", s.formats, s.violations)
	}
	for _, ns := range c.Nameservices {
		if s.active[ns.Name] == "" {
			t.Errorf("%s: no active NameNode", ns.Name)
		}
		for _, nn := range ns.NameNodes {
			for _, id := range []daemon.ID{daemon.NameNodeID(ns.Name, nn.ID), daemon.ZKFCID(ns.Name, nn.ID)} {
				if !s.running(nn.Host, id.Name()) {
					t.Errorf("%s on %s is not running (daemons %v)", id, nn.Host, s.daemons[nn.Host])
				}
			}
		}
	}
	if n := len(s.daemons["a"]); n != 6 { // journalnode, zookeeper, 2 NameNodes, 2 ZKFCs
		t.Errorf("host a runs %d daemons, want 6: %v", n, s.daemons["a"])
	}
	again, err := planner.Plan(c, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
	if err != nil || !again.Empty() {
		var b strings.Builder
		again.WriteText(&b)
		t.Fatalf("second plan not empty (err %v):\n%s", err, b.String())
	}
}
