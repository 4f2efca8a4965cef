package planner

import "testing"

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
