package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPlanFileRoundTripAndStaleness(t *testing.T) {
	c, _ := loadConfig(t, "@fixture three")
	d, err := RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	obs := converged(t, c)
	obs.ZooKeeper.ParentZnodes["hacluster"] = false
	opts := Options{RuntimeSHA256: testRuntime}
	plan, err := PlanDesired(d, obs, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := &PlanFile{ConfigPath: "/etc/cluster", Vars: []string{"a=b"}, Options: opts, Plan: plan,
		ConfigFingerprint: ConfigFingerprint(d, opts), ObservedFingerprint: ObservedFingerprint(obs)}
	var buf bytes.Buffer
	if err := f.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !LooksLikePlanFile(buf.Bytes()) {
		t.Fatalf("LooksLikePlanFile(encoded plan) = false")
	}
	if LooksLikePlanFile([]byte(`host "a" { address = "x" }`)) {
		t.Fatalf("an HCL file looks like a plan file")
	}
	got, err := DecodePlanFile(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != PlanFileVersion || len(got.Plan.Steps) != len(plan.Steps) || got.Plan.Steps[0].Action != ActFormatZK {
		t.Fatalf("round trip lost the plan: %+v", got.Plan)
	}
	if err := got.CheckFresh(d, obs); err != nil {
		t.Fatalf("fresh plan refused: %v", err)
	}

	// Moving counters (txids, epochs, health) do not make a plan stale.
	busy := converged(t, c)
	busy.ZooKeeper.ParentZnodes["hacluster"] = false
	for _, h := range busy.Hosts {
		for _, nn := range h.NameNodes {
			nn.LastTxid += 500
			nn.Healthy = false
		}
		for _, j := range h.JournalNodes {
			j.LastTxid += 500
			j.LastWriterEpoch++
		}
	}
	if err := got.CheckFresh(d, busy); err != nil {
		t.Fatalf("a busy cluster made the plan stale: %v", err)
	}

	// A restart, a failover or a new znode do.
	changes := map[string]func(o *Observed){
		"daemon restarted": func(o *Observed) { o.Hosts["oim"].Daemons["journalnode"].PID = 4242 },
		"failover":         func(o *Observed) { o.Hosts["dim"].NameNodes["hacluster/dnn"].HAState = "standby" },
		"znode created":    func(o *Observed) { o.ZooKeeper.ParentZnodes["hacluster"] = true },
		"host lost":        func(o *Observed) { o.Hosts["jim"].Reachable = false },
		"config written":   func(o *Observed) { o.Hosts["jim"].ConfigSHA256[FileHDFSSite] = "x" },
	}
	for name, change := range changes {
		o := converged(t, c)
		o.ZooKeeper.ParentZnodes["hacluster"] = false
		change(o)
		if err := got.CheckFresh(d, o); !errors.Is(err, ErrStalePlan) {
			t.Errorf("%s: CheckFresh = %v, want ErrStalePlan", name, err)
		}
	}
	if err := got.CheckFresh(d, obs); err == nil {
		opts2 := opts
		opts2.RuntimeSHA256 = "other"
		got.Options = opts2
		if err := got.CheckFresh(d, obs); !errors.Is(err, ErrStalePlan) {
			t.Errorf("another binary: CheckFresh = %v, want ErrStalePlan", err)
		}
	}
	if !strings.Contains(ErrStalePlan.Error(), "run hactl plan again") {
		t.Errorf("ErrStalePlan does not tell what to do: %q", ErrStalePlan)
	}
}

func TestDecodePlanFileRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":      `host "a" {}`,
		"wrong magic":   `{"magic":"x","version":1,"plan":{"steps":[]}}`,
		"newer version": `{"magic":"hactl-plan","version":99,"plan":{"steps":[]}}`,
		"no plan":       `{"magic":"hactl-plan","version":1}`,
		"unknown field": `{"magic":"hactl-plan","version":1,"plan":{"steps":[]},"extra":1}`,
	} {
		if _, err := DecodePlanFile(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestPlanJSON(t *testing.T) {
	c, _ := loadConfig(t, "@fixture three")
	plan, err := Plan(c, &Observed{Hosts: map[string]*ObservedHost{"dim": bareHost("dim"), "oim": bareHost("oim"), "jim": bareHost("jim")}}, Options{RuntimeSHA256: testRuntime})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := plan.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Steps []struct {
			ID, Host, Action, Reason string
			Disruptive               bool
			Depends                  []string
		}
		Summary Summary
		Changes bool
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Changes || doc.Summary.Add != plan.Summary().Add || len(doc.Steps) != len(plan.Steps) {
		t.Fatalf("JSON plan = %+v", doc)
	}
	ids := map[string]bool{}
	for _, s := range doc.Steps {
		for _, dep := range s.Depends {
			if !ids[dep] {
				t.Errorf("step %s depends on %s, which is not an earlier step", s.ID, dep)
			}
		}
		ids[s.ID] = true
		if s.Reason == "" {
			t.Errorf("step %s has no reason", s.ID)
		}
	}
}
