package zkfc

import "time"

// HealthState is Hadoop's HealthMonitor.State.
type HealthState int

// The health states, named as Hadoop's.
const (
	Initializing HealthState = iota
	ServiceNotResponding
	ServiceHealthy
	ServiceUnhealthy
	HealthMonitorFailed
)

func (s HealthState) String() string {
	switch s {
	case Initializing:
		return "INITIALIZING"
	case ServiceNotResponding:
		return "SERVICE_NOT_RESPONDING"
	case ServiceHealthy:
		return "HEALTHY"
	case ServiceUnhealthy:
		return "SERVICE_UNHEALTHY"
	case HealthMonitorFailed:
		return "HEALTH_MONITOR_FAILED"
	}
	return "UNKNOWN"
}

// CheckResult is the outcome of one health check of the local NameNode.
type CheckResult int

// Outcomes of a check.
const (
	CheckHealthy       CheckResult = iota // /ha/health said healthy
	CheckUnhealthy                        // it answered, and is not healthy (503)
	CheckNotResponding                    // refused, reset, or no answer within rpc-timeout
	CheckFailed                           // the monitor itself cannot work (e.g. the secret is refused)
)

// HealthConfig holds Hadoop's ha.health-monitor.* settings.
type HealthConfig struct {
	CheckInterval        time.Duration // ha.health-monitor.check-interval.ms (1000)
	ConnectRetryInterval time.Duration // ha.health-monitor.connect-retry-interval.ms (1000)
	RPCTimeout           time.Duration // ha.health-monitor.rpc-timeout.ms (45000)
}

// HealthMonitor is the pure state machine of Hadoop's HealthMonitor: results
// in, state and the time of the next check out. The caller does the checks.
type HealthMonitor struct {
	cfg   HealthConfig
	state HealthState
}

// NewHealthMonitor starts in INITIALIZING.
func NewHealthMonitor(cfg HealthConfig) *HealthMonitor {
	return &HealthMonitor{cfg: cfg, state: Initializing}
}

// State is the current state.
func (h *HealthMonitor) State() HealthState { return h.state }

// Observe records a check's result at now and returns whether the state changed
// and when to check next: after connect-retry-interval when the NameNode did
// not respond (Hadoop reconnects at that pace), else after check-interval.
// HEALTH_MONITOR_FAILED is final.
func (h *HealthMonitor) Observe(r CheckResult, now time.Time) (changed bool, next time.Time) {
	if h.state == HealthMonitorFailed {
		return false, time.Time{}
	}
	old := h.state
	switch r {
	case CheckHealthy:
		h.state = ServiceHealthy
	case CheckUnhealthy:
		h.state = ServiceUnhealthy
	case CheckNotResponding:
		h.state = ServiceNotResponding
	case CheckFailed:
		h.state = HealthMonitorFailed
		return true, time.Time{}
	}
	wait := h.cfg.CheckInterval
	if r == CheckNotResponding {
		wait = h.cfg.ConnectRetryInterval
	}
	return h.state != old, now.Add(wait)
}
