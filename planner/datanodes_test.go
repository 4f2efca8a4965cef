package planner

import (
	"errors"
	"testing"

	"github.com/hactl/hactl/internal/daemon"
)

// A running DataNode leaves the configuration only through a decommission:
// the invariant check refuses a stop without one, and a stop of a DataNode
// the configuration still has.
func TestCheckInvariantsDataNodeStops(t *testing.T) {
	c4, _ := loadConfig(t, "@fixture dn4")
	c3, _ := loadConfig(t, "@fixture dn3")
	obs := converged(t, c4)
	stop := &Step{ID: "s", Host: "kim", Action: ActStopDataNode, Daemon: daemon.Host(daemon.DataNode).Name()}
	dec := &Step{ID: "d", Host: "kim", Action: ActDecommissionDataNode, Daemon: stop.Daemon}
	for _, tc := range []struct {
		name  string
		steps []*Step
		ok    bool
	}{
		{"stop without decommission", []*Step{stop}, false},
		{"decommission, then stop", []*Step{dec, stop}, true},
		{"stop, then decommission", []*Step{stop, dec}, false},
	} {
		err := CheckInvariants(c3, obs, &ClusterPlan{Steps: tc.steps})
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvariant) {
			t.Errorf("%s: CheckInvariants = %v, want ErrInvariant", tc.name, err)
		}
	}
	// kim is still a DataNode in dn4: even decommissioned, it must not stop.
	if err := CheckInvariants(c4, obs, &ClusterPlan{Steps: []*Step{dec, stop}}); !errors.Is(err, ErrInvariant) {
		t.Errorf("stop of a configured DataNode: %v", err)
	}
	// A DataNode that is not up (crashed, its supervisor backing off) holds
	// no readable replica: a plain stop is fine.
	obs.Hosts["kim"].Daemons[stop.Daemon].Running = false
	if err := CheckInvariants(c3, obs, &ClusterPlan{Steps: []*Step{stop}}); err != nil {
		t.Errorf("stop of a DataNode that is down: %v", err)
	}
}
