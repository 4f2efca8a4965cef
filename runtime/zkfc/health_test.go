package zkfc

import (
	"testing"
	"time"
)

func TestHealthMonitorStatesAndPacing(t *testing.T) {
	h := NewHealthMonitor(HealthConfig{CheckInterval: time.Second, ConnectRetryInterval: 300 * time.Millisecond, RPCTimeout: time.Second})
	if h.State() != Initializing {
		t.Fatalf("initial %s", h.State())
	}
	cases := []struct {
		r       CheckResult
		state   HealthState
		changed bool
		wait    time.Duration
	}{
		{CheckNotResponding, ServiceNotResponding, true, 300 * time.Millisecond},
		{CheckNotResponding, ServiceNotResponding, false, 300 * time.Millisecond},
		{CheckHealthy, ServiceHealthy, true, time.Second},
		{CheckHealthy, ServiceHealthy, false, time.Second},
		{CheckUnhealthy, ServiceUnhealthy, true, time.Second},
		{CheckHealthy, ServiceHealthy, true, time.Second},
		{CheckFailed, HealthMonitorFailed, true, 0},
		{CheckHealthy, HealthMonitorFailed, false, 0}, // final
	}
	for i, c := range cases {
		changed, next := h.Observe(c.r, t0)
		if h.State() != c.state || changed != c.changed {
			t.Fatalf("case %d: state %s changed %v, want %s %v", i, h.State(), changed, c.state, c.changed)
		}
		if c.wait > 0 && !next.Equal(t0.Add(c.wait)) {
			t.Fatalf("case %d: next %s, want +%s", i, next.Sub(t0), c.wait)
		}
		if c.wait == 0 && !next.IsZero() {
			t.Fatalf("case %d: a failed monitor schedules no check", i)
		}
	}
	if HealthMonitorFailed.String() != "HEALTH_MONITOR_FAILED" || ServiceHealthy.String() != "HEALTHY" {
		t.Fatal("state names must be Hadoop's")
	}
}
