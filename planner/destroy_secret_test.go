package planner

import (
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

// TestDestroyKeepsTheSecretWithTheData: a plain destroy removes the
// configuration but not the cluster secret (the ZooKeeper ACL of the data it
// keeps derives from it), so a second destroy finds nothing to do; only
// --purge-data removes the secret, on every host that still holds one.
func TestDestroyKeepsTheSecretWithTheData(t *testing.T) {
	c, msg := loadConfig(t, "@fixture three")
	if c == nil {
		t.Fatal(msg)
	}
	removeConfig := func(plan *ClusterPlan) map[string]*Step {
		out := map[string]*Step{}
		for _, s := range plan.Steps {
			if s.Action == ActRemoveConfig {
				out[s.Host] = s
			}
		}
		return out
	}

	plan, err := PlanDestroy(c, converged(t, c), DestroyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Hosts {
		if s := removeConfig(plan)[h.Name]; s == nil || s.PurgeData {
			t.Errorf("%s: destroy: remove-config %+v, want one that keeps the secret", h.Name, s)
		}
	}

	// What a plain destroy leaves: the secret, and myid in ZooKeeper's data dir.
	left := converged(t, c)
	for _, oh := range left.Hosts {
		oh.Daemons, oh.RuntimeSHA256, oh.RuntimeVersion = nil, "", ""
		for f := range oh.ConfigSHA256 {
			if f != FileSecret && f != FileZooKeeperID {
				delete(oh.ConfigSHA256, f)
			}
		}
	}
	again, err := PlanDestroy(c, left, DestroyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Steps) != 0 {
		t.Errorf("destroy after destroy: %d steps, want none (the secret stays): %+v", len(again.Steps), again.Steps[0])
	}

	purge, err := PlanDestroy(c, left, DestroyOptions{PurgeData: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Hosts {
		if s := removeConfig(purge)[h.Name]; s == nil || !s.PurgeData {
			t.Errorf("%s: destroy --purge-data after destroy: remove-config %+v, want one that removes the secret", h.Name, s)
		}
	}
}

// TestPurgeKeepsTheSecretOfAnExternalZooKeeper: --purge-data does not touch
// an external ZooKeeper, whose znodes carry the digest ACL derived from the
// secret by default, so the secret stays (with a warning saying why) unless
// that ACL is switched off or replaced by an explicit one.
func TestPurgeKeepsTheSecretOfAnExternalZooKeeper(t *testing.T) {
	for _, tc := range []struct {
		core       map[string]string
		dropSecret bool
	}{
		{nil, false},
		{map[string]string{"hactl.zookeeper.acl-from-secret": "false"}, true},
		{map[string]string{"ha.zookeeper.acl": "world:anyone:rwcda"}, true},
	} {
		c, msg := loadConfig(t, "@fixture external")
		if c == nil {
			t.Fatal(msg)
		}
		if c.ZooKeeper == nil || c.ZooKeeper.Managed {
			t.Fatal("fixture external: want an external ZooKeeper")
		}
		if c.Hadoop == nil {
			c.Hadoop = &schema.HadoopPassthrough{}
		}
		c.Hadoop.CoreSite = tc.core
		plan, err := PlanDestroy(c, converged(t, c), DestroyOptions{PurgeData: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range plan.Steps {
			if s.Action == ActRemoveConfig {
				n++
				if s.PurgeData != tc.dropSecret {
					t.Errorf("core_site %v: %s remove-config removes the secret = %v, want %v", tc.core, s.Host, s.PurgeData, tc.dropSecret)
				}
			}
		}
		if n == 0 {
			t.Fatalf("core_site %v: no remove-config planned", tc.core)
		}
		warned := strings.Contains(strings.Join(plan.Warnings, "\n"), "the cluster secret stays")
		if warned == tc.dropSecret {
			t.Errorf("core_site %v: warning about the kept secret = %v: %q", tc.core, warned, plan.Warnings)
		}
	}
}

// TestPurgeWarnsOfStorageItLeaves: --purge-data removes the configuration's
// data dirs and the storage record with the secret; storage the probe found
// elsewhere (an old namespace the record named) stays, and with the record
// gone no later plan finds it, so destroy says so.
func TestPurgeWarnsOfStorageItLeaves(t *testing.T) {
	c, msg := loadConfig(t, "@fixture three")
	if c == nil {
		t.Fatal(msg)
	}
	leaves := func(plan *ClusterPlan) []string {
		var out []string
		for _, w := range plan.Warnings {
			if strings.Contains(w, "--purge-data removes only") {
				out = append(out, w)
			}
		}
		return out
	}
	obs := converged(t, c)
	plan, err := PlanDestroy(c, obs, DestroyOptions{PurgeData: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := leaves(plan); len(w) != 0 {
		t.Fatalf("converged cluster: purge warns of storage it leaves: %q", w)
	}

	host := c.Hosts[0].Name
	obs.Hosts[host].NameNodes[NameNodeKey("oldns", "nn9")] = &ObservedNameNode{Nameservice: "oldns", ID: "nn9", Formatted: true,
		Dirs: []string{"/srv/oldns/name"}}
	obs.Hosts[host].JournalNodes["oldns"] = &ObservedJournal{Formatted: true, Dir: "/srv/oldns/journal/oldns"}
	plan, err = PlanDestroy(c, obs, DestroyOptions{PurgeData: true})
	if err != nil {
		t.Fatal(err)
	}
	w := leaves(plan)
	if len(w) != 1 || !strings.Contains(w[0], host) || !strings.Contains(w[0], "/srv/oldns/name") || !strings.Contains(w[0], "journal oldns in /srv/oldns/journal/oldns") {
		t.Fatalf("purge with an old namespace on %s: warnings %q, want one naming its name dir and journal", host, w)
	}
	if plain, err := PlanDestroy(c, obs, DestroyOptions{}); err != nil || len(leaves(plain)) != 0 {
		t.Fatalf("plain destroy (record kept): %v, warnings %q", err, plain.Warnings)
	}
}
