package planner

import (
	"testing"

	"github.com/hactl/hactl/internal/daemon"
)

// legacyObserved is a converged three-host cluster whose NameNodes and ZKFCs
// an earlier hactl runs under records named namenode-<id> / zkfc-<id>,
// filed by AdoptLegacyDaemons as the probe does.
func legacyObserved(t *testing.T) (*Observed, func() *Observed) {
	c, _ := loadConfig(t, "@fixture three")
	build := func() *Observed {
		obs := converged(t, c)
		for _, ns := range c.Nameservices {
			for _, nn := range ns.NameNodes {
				oh := obs.Hosts[nn.Host]
				for _, id := range []daemon.ID{daemon.NameNodeID(ns.Name, nn.ID), daemon.ZKFCID(ns.Name, nn.ID)} {
					d := oh.Daemons[id.Name()]
					delete(oh.Daemons, id.Name())
					oh.Daemons[daemon.Legacy{Kind: id.Kind, NameNode: id.NameNode}.Name()] = d
				}
			}
		}
		for _, h := range c.Hosts {
			AdoptLegacyDaemons(c, h.Name, obs.Hosts[h.Name])
		}
		return obs
	}
	return build(), build
}

func TestAdoptLegacyDaemons(t *testing.T) {
	obs, _ := legacyObserved(t)
	d := obs.Hosts["dim"].Daemon(daemon.NameNodeID("hacluster", "dnn"))
	if d == nil || !d.Running || d.Record != "namenode-dnn" || obs.Hosts["dim"].Daemons["namenode-dnn"] != nil {
		t.Fatalf("dim's legacy NameNode record: %+v (daemons %v)", d, obs.Hosts["dim"].Daemons)
	}
	if d := obs.Hosts["dim"].Daemon(daemon.Host(daemon.JournalNode)); d == nil || d.Record != "" {
		t.Errorf("journalnode: %+v", d)
	}

	// Two nameservices with a NameNode nn1 on the host: ambiguous unless
	// exactly one of them is formatted there.
	c, errText := loadConfig(t, "@fixture federation-shared-ids")
	if c == nil {
		t.Fatal(errText)
	}
	host := func(formatted ...string) *ObservedHost {
		oh := &ObservedHost{Name: "a", Reachable: true, Daemons: map[string]*ObservedDaemon{"namenode-nn1": {Running: true, PID: 7}},
			NameNodes: map[string]*ObservedNameNode{}}
		for _, ns := range formatted {
			oh.NameNodes[NameNodeKey(ns, "nn1")] = &ObservedNameNode{Nameservice: ns, ID: "nn1", Formatted: true}
		}
		AdoptLegacyDaemons(c, "a", oh)
		return oh
	}
	if oh := host(); oh.Daemons["namenode-nn1"] == nil || len(oh.Daemons) != 1 {
		t.Errorf("ambiguous legacy record adopted: %v", oh.Daemons)
	}
	if oh := host("ns1", "ns2"); oh.Daemons["namenode-nn1"] == nil || len(oh.Daemons) != 1 {
		t.Errorf("ambiguous legacy record (both formatted) adopted: %v", oh.Daemons)
	}
	if oh := host("ns2"); oh.Daemon(daemon.NameNodeID("ns2", "nn1")) == nil || oh.Daemons["namenode-nn1"] != nil {
		t.Errorf("legacy record with one formatted candidate: %v", oh.Daemons)
	}
}

// Restarts and stops of a legacy daemon go through its record; starts never
// do.
func TestLegacyRecordsRestartAndStopByRecord(t *testing.T) {
	c, _ := loadConfig(t, "@fixture three")
	obs, build := legacyObserved(t)
	plan, err := Plan(c, obs, Options{RuntimeSHA256: testRuntime})
	if err != nil {
		t.Fatal(err)
	}
	restarted := map[string]string{}
	for _, s := range plan.Steps {
		switch s.Action {
		case ActRestartNameNode, ActRestartZKFC:
			restarted[s.Daemon] = s.Record
		case ActStartNameNode, ActStartZKFC, ActStopNameNode, ActStopZKFC:
			t.Errorf("%s: a legacy daemon is restarted, not started or stopped", s.ID)
		}
	}
	for _, nn := range c.Nameservices[0].NameNodes {
		for _, id := range []daemon.ID{daemon.NameNodeID("hacluster", nn.ID), daemon.ZKFCID("hacluster", nn.ID)} {
			want := daemon.Legacy{Kind: id.Kind, NameNode: nn.ID}.Name()
			if got, ok := restarted[id.Name()]; !ok || got != want {
				t.Errorf("%s: restarted=%v record %q, want %q", id, ok, got, want)
			}
		}
	}

	destroy, err := PlanDestroy(c, build(), DestroyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stops := 0
	for _, s := range destroy.Steps {
		if s.Action != ActStopNameNode && s.Action != ActStopZKFC {
			continue
		}
		stops++
		id, ok := daemon.Parse(s.Daemon)
		if !ok || s.Record != (daemon.Legacy{Kind: id.Kind, NameNode: id.NameNode}).Name() || s.Nameservice != "hacluster" {
			t.Errorf("%s: daemon %q record %q ns %q", s.ID, s.Daemon, s.Record, s.Nameservice)
		}
	}
	if stops != 6 {
		t.Errorf("destroy stops %d NameNodes and ZKFCs, want 6", stops)
	}
}

// A legacy record beside the current one of the same daemon (two copies):
// plan stops the legacy record, by its name.
func TestLegacyDuplicateIsStopped(t *testing.T) {
	c, _ := loadConfig(t, "@fixture three")
	obs := converged(t, c)
	obs.Hosts["oim"].Daemons["zkfc-onn"] = &ObservedDaemon{Running: true, PID: 4242}
	AdoptLegacyDaemons(c, "oim", obs.Hosts["oim"])
	if obs.Hosts["oim"].Daemons["zkfc-onn"] == nil {
		t.Fatal("a legacy record beside its identity's current one was adopted over it")
	}
	plan, err := Plan(c, obs, Options{RuntimeSHA256: testRuntime})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 1 || plan.Steps[0].Action != ActStopZKFC || plan.Steps[0].Daemon != "zkfc-onn" ||
		plan.Steps[0].Record != "" || plan.Steps[0].Subject() != "hacluster/onn" {
		t.Fatalf("plan: %+v", plan.Steps)
	}
}
