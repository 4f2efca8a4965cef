package planner

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

// checkSafety restates the safety invariants (README.md, "How apply keeps
// data safe") independently of CheckInvariants, so a bug shared by the
// planner and its own check still fails the tests.
func checkSafety(c *schema.Cluster, obs *Observed, plan *ClusterPlan) error {
	if plan.Destroy {
		for _, s := range plan.Steps {
			if s.Action == ActPurgeData && !s.PurgeData {
				return fmt.Errorf("%s: purge without --purge-data", s.ID)
			}
		}
		return nil
	}
	up := func(h string) bool { return obs.Hosts[h] != nil && obs.Hosts[h].Reachable }
	storageHasData := func(ns *schema.Nameservice) bool {
		for _, nn := range ns.NameNodes {
			if !up(nn.Host) {
				return true // unknown counts as data
			}
			if o := obs.Hosts[nn.Host].NameNodes[NameNodeKey(ns.Name, nn.ID)]; o != nil && (o.Formatted || o.HasData) {
				return true
			}
		}
		for _, h := range ns.Journal.Hosts {
			if !up(h) {
				return true
			}
			if j := obs.Hosts[h].JournalNodes[JournalID(ns)]; j != nil && (j.Formatted || j.HasData) {
				return true
			}
		}
		return false
	}
	formats := map[string]int{}
	// Down NameNodes per nameservice: a NameNode serves when it runs on formatted storage.
	serving := map[string]bool{}
	active := map[string]string{}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			k := NameNodeKey(ns.Name, nn.ID)
			if up(nn.Host) {
				o := obs.Hosts[nn.Host].NameNodes[k]
				d := obs.Hosts[nn.Host].Daemon(daemon.NameNodeID(ns.Name, nn.ID))
				serving[k] = o != nil && o.Formatted && d != nil && d.Running
				if serving[k] && o.HAState == "active" {
					active[ns.Name] = nn.ID
				}
			}
		}
	}
	jns := JournalHosts(c)
	jnRunning := map[string]bool{}
	for _, h := range jns {
		jnRunning[h] = up(h) && obs.Hosts[h].Daemon(daemon.Host(daemon.JournalNode)) != nil && obs.Hosts[h].Daemon(daemon.Host(daemon.JournalNode)).Running
	}
	decommissioned := map[string]bool{}
	for _, s := range plan.Steps {
		if !up(s.Host) {
			return fmt.Errorf("%s: step on unreachable host", s.ID)
		}
		// A DataNode leaves for good only decommissioned (when it runs).
		if s.Action == ActDecommissionDataNode {
			decommissioned[s.Host] = true
		}
		if d := obs.Hosts[s.Host].Daemon(daemon.Host(daemon.DataNode)); s.Action == ActStopDataNode && d != nil && d.Running && !decommissioned[s.Host] {
			return fmt.Errorf("%s: a running DataNode stopped without a decommission", s.ID)
		}
		ns := c.Nameservice(s.Nameservice)
		k := NameNodeKey(s.Nameservice, s.NameNode)
		switch s.Action {
		case ActFormatNameNode:
			formats[s.Nameservice]++
			if formats[s.Nameservice] > 1 {
				return fmt.Errorf("%s: more than one format", s.ID)
			}
			if !s.Force && storageHasData(ns) {
				return fmt.Errorf("%s: format while storage holds data", s.ID)
			}
		case ActBootstrapStandby:
			if o := obs.Hosts[s.Host].NameNodes[k]; o != nil && (o.HasData || o.Formatted) {
				return fmt.Errorf("%s: bootstrap onto data", s.ID)
			}
		case ActFormatZK:
			if z := obs.ZooKeeper; z != nil && z.Reachable && z.ParentZnodes[s.Nameservice] {
				return fmt.Errorf("%s: formatZK over an existing znode", s.ID)
			}
		case ActStartNameNode:
			serving[k] = true
		case ActFailover:
			active[s.Nameservice] = s.NameNode
		case ActRestartNameNode, ActStopNameNode:
			if !serving[k] {
				break
			}
			down := 1
			for _, nn := range ns.NameNodes {
				if pk := NameNodeKey(ns.Name, nn.ID); pk != k && !serving[pk] {
					down++
				}
			}
			if down > 1 {
				return fmt.Errorf("%s: %d NameNodes down at once", s.ID, down)
			}
			if active[ns.Name] == s.NameNode && len(ns.NameNodes) > 1 {
				return fmt.Errorf("%s: active restarted before a failover", s.ID)
			}
			if s.Action == ActStopNameNode {
				serving[k] = false
			}
		case ActStartJournalNode:
			jnRunning[s.Host] = true
		case ActRestartJournalNode:
			down := 1
			for _, h := range jns {
				if h != s.Host && !jnRunning[h] {
					down++
				}
			}
			if len(jns) >= 3 && down > (len(jns)-1)/2 {
				return fmt.Errorf("%s: %d of %d JournalNodes down at once", s.ID, down, len(jns))
			}
		}
	}
	return nil
}

// randomObserved perturbs a converged state at random: hosts unreachable,
// daemons down, storage wiped or holding stray data, configs and binaries
// stale, ZooKeeper down or its znode gone.
func randomObserved(t *testing.T, c *schema.Cluster, rng *rand.Rand) *Observed {
	var obs *Observed
	if rng.IntN(4) == 0 {
		obs = &Observed{Hosts: map[string]*ObservedHost{}}
		for _, h := range c.Hosts {
			obs.Hosts[h.Name] = &ObservedHost{Name: h.Name, Reachable: true, Daemons: map[string]*ObservedDaemon{},
				NameNodes: map[string]*ObservedNameNode{}, JournalNodes: map[string]*ObservedJournal{}, ConfigSHA256: map[string]string{}}
		}
	} else {
		obs = converged(t, c)
	}
	p := func(n int) bool { return rng.IntN(n) == 0 }
	for _, name := range sortedKeys(obs.Hosts) {
		h := obs.Hosts[name]
		if p(8) {
			obs.Hosts[name] = &ObservedHost{Name: name, Reachable: false, Error: "timeout"}
			continue
		}
		if p(5) {
			h.RuntimeSHA256 = "old"
		}
		if p(5) {
			h.ConfigSHA256[FileHDFSSite] = "stale"
		}
		if len(c.DataNodes) > 0 && c.DataNodeGroupOf(name) == nil && p(2) {
			// A DataNode the configuration no longer has (decommissioned
			// when it runs), up or down.
			h.Daemons[daemon.Host(daemon.DataNode).Name()] = &ObservedDaemon{Running: true, PID: 4242}
		}
		for _, d := range h.Daemons {
			if p(5) {
				d.Running = false
			}
			if p(6) {
				d.ConfigSHA256 = "older"
			}
		}
		for _, nn := range h.NameNodes {
			switch rng.IntN(6) {
			case 0:
				*nn = ObservedNameNode{Nameservice: nn.Nameservice, ID: nn.ID}
			case 1:
				nn.Formatted, nn.HasData = false, true
			case 2:
				nn.HAState = []string{"active", "standby", ""}[rng.IntN(3)]
			}
		}
		for _, j := range h.JournalNodes {
			if p(5) {
				*j = ObservedJournal{JournalID: j.JournalID}
			}
		}
		if p(3) {
			// Stray data on an otherwise bare host.
			for _, ns := range c.Nameservices {
				for _, nn := range ns.NameNodes {
					if nn.Host == name && h.NameNodes[NameNodeKey(ns.Name, nn.ID)] == nil {
						h.NameNodes[NameNodeKey(ns.Name, nn.ID)] = &ObservedNameNode{Nameservice: ns.Name, ID: nn.ID, HasData: p(2)}
					}
				}
				if ns.Journal != nil && slices.Contains(ns.Journal.Hosts, name) && h.JournalNodes[JournalID(ns)] == nil {
					h.JournalNodes[JournalID(ns)] = &ObservedJournal{JournalID: JournalID(ns), HasData: p(2)}
				}
			}
		}
	}
	switch rng.IntN(4) {
	case 0:
		obs.ZooKeeper = nil
	case 1:
		obs.ZooKeeper = &ObservedZooKeeper{Reachable: false}
	case 2:
		if obs.ZooKeeper != nil {
			obs.ZooKeeper.ParentZnodes = map[string]bool{}
		}
	}
	return obs
}

// TestPlanInvariantsRandomized plans thousands of random observed states
// (fixed seeds; the seed is printed on failure) and checks every plan
// against the invariants, twice over: the planner's own check and this
// file's independent one. It also checks that planning is deterministic.
func TestPlanInvariantsRandomized(t *testing.T) {
	configs := map[string]string{"three": "@fixture three", "two": "@fixture two", "fivejn": "@fixture fivejn", "dn3": "@fixture dn3"}
	iterations := 1500
	if testing.Short() {
		iterations = 200
	}
	for _, name := range sortedKeys(configs) {
		c, errText := loadConfig(t, configs[name])
		if c == nil {
			t.Fatalf("%s: %s", name, errText)
		}
		d, err := RenderDesired(c)
		if err != nil {
			t.Fatal(err)
		}
		formats, bootstraps, rolls, decommissions := 0, 0, 0, 0
		for seed := uint64(1); seed <= uint64(iterations); seed++ {
			rng := rand.New(rand.NewPCG(seed, 7))
			obs := randomObserved(t, c, rng)
			opts := Options{RuntimeSHA256: testRuntime}
			plan, err := PlanDesired(d, obs, opts)
			if err != nil {
				t.Fatalf("%s seed %d: %v", name, seed, err)
			}
			if err := checkSafety(c, obs, plan); err != nil {
				t.Fatalf("%s seed %d: %v", name, seed, err)
			}
			again, _ := PlanDesired(d, obs, opts)
			if !reflect.DeepEqual(plan, again) {
				t.Fatalf("%s seed %d: planning is not deterministic", name, seed)
			}
			for _, s := range plan.Steps {
				switch s.Action {
				case ActFormatNameNode:
					formats++
				case ActBootstrapStandby:
					bootstraps++
				case ActFailover:
					rolls++
				case ActDecommissionDataNode:
					decommissions++
				}
			}
		}
		// The generator must reach the interesting cases, or the test proves nothing.
		if formats == 0 || bootstraps == 0 || rolls == 0 {
			t.Errorf("%s: random states never produced format (%d), bootstrap (%d) and failover (%d) steps", name, formats, bootstraps, rolls)
		}
		if len(c.DataNodes) > 0 && decommissions == 0 {
			t.Errorf("%s: random states never produced a decommission-datanode step", name)
		}
	}
}

// TestCheckInvariantsCatchesUnsafePlans feeds hand-made unsafe plans to
// CheckInvariants and checkSafety: each must be refused.
func TestCheckInvariantsCatchesUnsafePlans(t *testing.T) {
	c, _ := loadConfig(t, "@fixture three")
	base := func() *Observed { return converged(t, c) }
	cases := []struct {
		name  string
		obs   func() *Observed
		steps []*Step
	}{
		{"format over data", base, []*Step{{ID: "f", Host: "dim", Action: ActFormatNameNode, Nameservice: "hacluster", NameNode: "dnn"}}},
		{"format with JN data", func() *Observed {
			o := base()
			for _, h := range o.Hosts {
				for k := range h.NameNodes {
					h.NameNodes[k] = &ObservedNameNode{}
				}
				delete(h.Daemons, daemon.NameNodeID("hacluster", "dnn").Name())
			}
			return o
		}, []*Step{{ID: "f", Host: "dim", Action: ActFormatNameNode, Nameservice: "hacluster", NameNode: "dnn"}}},
		{"bootstrap onto data", base, []*Step{{ID: "b", Host: "oim", Action: ActBootstrapStandby, Nameservice: "hacluster", NameNode: "onn"}}},
		{"formatZK over znode", base, []*Step{{ID: "z", Host: "dim", Action: ActFormatZK, Nameservice: "hacluster"}}},
		{"active restarted without failover", base, []*Step{{ID: "r", Host: "dim", Action: ActRestartNameNode, Nameservice: "hacluster", NameNode: "dnn"}}},
		{"two NameNodes down", func() *Observed {
			o := base()
			o.Hosts["jim"].Daemon(daemon.NameNodeID("hacluster", "jnn")).Running = false
			return o
		}, []*Step{{ID: "r", Host: "oim", Action: ActRestartNameNode, Nameservice: "hacluster", NameNode: "onn"}}},
		{"two JournalNodes down", func() *Observed {
			o := base()
			o.Hosts["jim"].Daemons["journalnode"].Running = false
			return o
		}, []*Step{{ID: "r", Host: "oim", Action: ActRestartJournalNode}}},
		{"step on unreachable host", func() *Observed {
			o := base()
			o.Hosts["jim"] = &ObservedHost{Name: "jim"}
			return o
		}, []*Step{{ID: "w", Host: "jim", Action: ActWriteConfig}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := tc.obs()
			plan := &ClusterPlan{Steps: tc.steps}
			if err := CheckInvariants(c, obs, plan); !errors.Is(err, ErrInvariant) {
				t.Errorf("CheckInvariants = %v, want ErrInvariant", err)
			}
			if err := checkSafety(c, obs, plan); err == nil {
				t.Errorf("checkSafety accepted the unsafe plan")
			}
		})
	}
}
