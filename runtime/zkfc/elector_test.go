package zkfc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	self  = NodeInfo{Nameservice: "ns1", NamenodeID: "nn1", Host: "127.0.6.1", Port: 8020, ZKFCPort: 8019}
	other = NodeInfo{Nameservice: "ns1", NamenodeID: "nn2", Host: "127.0.6.2", Port: 8020, ZKFCPort: 8019}
	boom  = errors.New("boom")
)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// names renders actions compactly, leaving out Log, for table assertions.
func names(acts []Action) string {
	var s []string
	for _, a := range acts {
		switch a := a.(type) {
		case Log:
		case FenceOldActive:
			s = append(s, "Fence("+a.Old.NamenodeID+")")
		default:
			s = append(s, strings.TrimPrefix(fmt.Sprintf("%T", a), "zkfc."))
		}
	}
	return strings.Join(s, ",")
}

type step struct {
	ev   any
	want string
}

func run(t *testing.T, e *Elector, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := names(e.Step(s.ev))
		if got != s.want {
			t.Fatalf("step %d (%T %+v): actions %q, want %q", i, s.ev, s.ev, got, s.want)
		}
	}
}

func newTestElector() *Elector {
	return NewElector(ElectorConfig{Self: self, SessionTimeout: 3 * time.Second, RetryAfterFailure: time.Second})
}

// becomeActive drives a fresh elector to active with an empty breadcrumb.
func becomeActive(t *testing.T, e *Elector) {
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3)}, "WriteBreadcrumb"},
		{BreadcrumbWritten{Now: at(4)}, "TransitionToActive"},
		{Transitioned{Now: at(5), To: Active}, ""},
	})
	if e.Role() != Active {
		t.Fatalf("role %s, want active", e.Role())
	}
}

func TestElectorBecomesActiveOnlyWhenHealthy(t *testing.T) {
	e := newTestElector()
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: Initializing}, ""},
		{HealthChanged{Now: at(2), State: ServiceNotResponding}, ""},
		{Tick{Now: at(3000)}, ""},
	})
	e2 := newTestElector()
	becomeActive(t, e2)
}

func TestElectorFencesTheBreadcrumbsNode(t *testing.T) {
	e := newTestElector()
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3), Data: other.Encode()}, "Fence(nn2)"},
		{Fenced{Now: at(4)}, "WriteBreadcrumb"},
		{BreadcrumbWritten{Now: at(5)}, "TransitionToActive"},
		{Transitioned{Now: at(6), To: Active}, ""},
	})
}

func TestElectorSkipsFencingItself(t *testing.T) {
	e := newTestElector()
	moved := self
	moved.Host = "10.0.0.9" // same NameNode, new address: still itself
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3), Data: moved.Encode()}, "WriteBreadcrumb"},
	})
}

func TestElectorFailedFencingNeverGoesActiveAndRetries(t *testing.T) {
	e := newTestElector()
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3), Data: other.Encode()}, "Fence(nn2)"},
		// Leaves the lock (so another candidate may try) but keeps the breadcrumb.
		{Fenced{Now: at(10), Err: boom}, "DeleteLock"},
		{LockDeleted{Now: at(11)}, ""},
		{Tick{Now: at(500)}, ""},
		{Tick{Now: at(1010)}, "CreateLock"},
		{LockCreated{Now: at(1011), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(1012), Data: other.Encode()}, "Fence(nn2)"},
	})
	if e.Role() == Active || e.Failures() != 1 {
		t.Fatalf("role %s failures %d", e.Role(), e.Failures())
	}
}

func TestElectorUnreadableBreadcrumbBlocksActive(t *testing.T) {
	e := newTestElector()
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3), Data: []byte{0xff, 0xff}}, "DeleteLock"},
	})
	if !strings.Contains(e.Status(), "breadcrumb unreadable") {
		t.Fatalf("status %q", e.Status())
	}
}

func TestElectorStandbyWatchesAndCompetesAgain(t *testing.T) {
	e := newTestElector()
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Exists: true}, "TransitionToStandby"},
		{Transitioned{Now: at(3), To: Standby}, "WatchLock"},
		{LockWatched{Now: at(4), Exists: true}, ""},
		{Tick{Now: at(5000)}, ""},
		{LockChanged{Now: at(5001)}, "CreateLock"},
		{LockCreated{Now: at(5002), Exists: true}, "WatchLock"}, // already standby: no second transition
		{LockWatched{Now: at(5003), Exists: false}, "CreateLock"},
		{LockCreated{Now: at(5004), Mine: true}, "ReadBreadcrumb"},
	})
}

func TestElectorUnhealthyActiveQuitsLeavingBreadcrumb(t *testing.T) {
	e := newTestElector()
	becomeActive(t, e)
	run(t, e, []step{
		{HealthChanged{Now: at(100), State: ServiceNotResponding}, "DeleteLock"},
		{LockDeleted{Now: at(101)}, ""}, // no DeleteBreadcrumb: the next active must fence it
		{Tick{Now: at(5000)}, ""},
		{HealthChanged{Now: at(6000), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(6001), Exists: true}, "TransitionToStandby"},
	})
}

func TestElectorStepsDownWhenZooKeeperIsLost(t *testing.T) {
	e := newTestElector() // session timeout 3 s: steps down after 2 s
	becomeActive(t, e)
	run(t, e, []step{
		{Disconnected{Now: at(1000)}, ""},
		{Tick{Now: at(2900)}, ""},
		{Tick{Now: at(3000)}, "TransitionToStandby"},
		{Transitioned{Now: at(3001), To: Standby, Err: boom}, ""}, // even if the NameNode does not answer
	})
	if e.Role() != Neutral {
		t.Fatalf("role %s, want neutral", e.Role())
	}
	// The same session comes back: the lock is still ours, so become active again.
	run(t, e, []step{
		{Connected{Now: at(3500)}, "CreateLock"},
		{LockCreated{Now: at(3501), Mine: true, Exists: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3502), Data: self.Encode()}, "WriteBreadcrumb"},
	})
}

func TestElectorShortDisconnectKeepsActive(t *testing.T) {
	e := newTestElector()
	becomeActive(t, e)
	run(t, e, []step{
		{Disconnected{Now: at(1000)}, ""},
		{Tick{Now: at(1500)}, ""},
		{Connected{Now: at(1600)}, ""},
		{Tick{Now: at(9000)}, ""},
	})
	if e.Role() != Active {
		t.Fatalf("role %s", e.Role())
	}
}

func TestElectorSessionExpiryMakesStandbyAtOnce(t *testing.T) {
	e := newTestElector()
	becomeActive(t, e)
	run(t, e, []step{
		{Expired{Now: at(100)}, "TransitionToStandby"},
		{Transitioned{Now: at(101), To: Standby}, ""},
		{Connected{Now: at(200), NewSession: true}, "CreateLock"},
		{LockCreated{Now: at(201), Exists: true}, "TransitionToStandby"},
	})
}

func TestElectorNewSessionWhileActiveStepsDown(t *testing.T) {
	e := newTestElector()
	becomeActive(t, e)
	run(t, e, []step{{Connected{Now: at(100), NewSession: true}, "TransitionToStandby"}})
}

func TestElectorCedeDeletesBreadcrumbWhenStandbyWorked(t *testing.T) {
	e := newTestElector()
	becomeActive(t, e)
	run(t, e, []step{
		{Cede{Now: at(100), Until: at(10100)}, "TransitionToStandby"},
		{Transitioned{Now: at(200), To: Standby}, "DeleteLock"},
		{LockDeleted{Now: at(201)}, "DeleteBreadcrumb"},
		{BreadcrumbDeleted{Now: at(202)}, ""},
		{Tick{Now: at(5000)}, ""},
		{Tick{Now: at(10100)}, "CreateLock"},
	})
}

func TestElectorCedeKeepsBreadcrumbWhenStandbyFailed(t *testing.T) {
	e := newTestElector()
	becomeActive(t, e)
	run(t, e, []step{
		{Cede{Now: at(100), Until: at(10100)}, "TransitionToStandby"},
		{Transitioned{Now: at(200), To: Standby, Err: boom}, "DeleteLock"},
		{LockDeleted{Now: at(201)}, ""},
		{Cede{Now: at(300)}, "CreateLock"}, // cede 0: rejoin at once
	})
}

func TestElectorFailedTransitionToActiveRetries(t *testing.T) {
	e := newTestElector()
	run(t, e, []step{
		{Connected{Now: at(0)}, ""},
		{HealthChanged{Now: at(1), State: ServiceHealthy}, "CreateLock"},
		{LockCreated{Now: at(2), Mine: true}, "ReadBreadcrumb"},
		{BreadcrumbRead{Now: at(3)}, "WriteBreadcrumb"},
		{BreadcrumbWritten{Now: at(4)}, "TransitionToActive"},
		{Transitioned{Now: at(5), To: Active, Err: boom}, "DeleteLock"},
		{LockDeleted{Now: at(6)}, ""},
		{Tick{Now: at(1005)}, "CreateLock"},
	})
}

// TestElectorNeverActiveWithoutFencingOrLock drives the elector with a fixed
// seed through random events (answering its actions randomly) and checks the
// safety rule: TransitionToActive is only asked while connected, holding the
// lock, after the breadcrumb's node (if another) was fenced in this attempt.
func TestElectorNeverActiveWithoutFencingOrLock(t *testing.T) {
	actives := 0
	for seed := int64(1); seed <= 200; seed++ {
		rnd := newRand(seed)
		e := newTestElector()
		now := 0
		var pending []Action
		fencedOrSelf := false
		errOr := func() error {
			if rnd.Intn(4) == 0 {
				return boom
			}
			return nil
		}
		for i := 0; i < 400; i++ {
			now += rnd.Intn(300)
			var ev any
			if len(pending) > 0 {
				a := pending[0]
				pending = pending[1:]
				switch a.(type) {
				case CreateLock:
					fencedOrSelf = false
					switch rnd.Intn(3) {
					case 0:
						ev = LockCreated{Now: at(now), Mine: true}
					case 1:
						ev = LockCreated{Now: at(now), Exists: true}
					default:
						ev = LockCreated{Now: at(now), Err: boom}
					}
				case WatchLock:
					ev = LockWatched{Now: at(now), Exists: rnd.Intn(2) == 0}
				case ReadBreadcrumb:
					fencedOrSelf = false
					switch rnd.Intn(3) {
					case 0:
						ev = BreadcrumbRead{Now: at(now)}
						fencedOrSelf = true
					case 1:
						ev = BreadcrumbRead{Now: at(now), Data: self.Encode()}
						fencedOrSelf = true
					default:
						ev = BreadcrumbRead{Now: at(now), Data: other.Encode()}
					}
				case FenceOldActive:
					err := errOr()
					fencedOrSelf = err == nil
					ev = Fenced{Now: at(now), Err: err}
				case WriteBreadcrumb:
					ev = BreadcrumbWritten{Now: at(now), Err: errOr()}
				case TransitionToActive:
					if !e.Connected() || !e.holdLock || !fencedOrSelf {
						t.Fatalf("seed %d step %d: TransitionToActive while connected=%v holdLock=%v fenced=%v",
							seed, i, e.Connected(), e.holdLock, fencedOrSelf)
					}
					actives++
					ev = Transitioned{Now: at(now), To: Active, Err: errOr()}
				case TransitionToStandby:
					ev = Transitioned{Now: at(now), To: Standby, Err: errOr()}
				case DeleteLock:
					ev = LockDeleted{Now: at(now), Err: errOr()}
				case DeleteBreadcrumb:
					ev = BreadcrumbDeleted{Now: at(now)}
				}
			} else {
				switch rnd.Intn(8) {
				case 0:
					ev = Connected{Now: at(now), NewSession: rnd.Intn(2) == 0}
				case 1:
					ev = Disconnected{Now: at(now)}
				case 2:
					ev = Expired{Now: at(now)}
				case 3:
					ev = HealthChanged{Now: at(now), State: []HealthState{ServiceHealthy, ServiceUnhealthy, ServiceNotResponding}[rnd.Intn(3)]}
				case 4:
					ev = Cede{Now: at(now), Until: at(now + rnd.Intn(3000))}
				case 5:
					ev = LockChanged{Now: at(now)}
				default:
					ev = Tick{Now: at(now)}
				}
			}
			for _, a := range e.Step(ev) {
				if _, ok := a.(Log); !ok {
					pending = append(pending, a)
				}
			}
			if len(pending) > 1 {
				t.Fatalf("seed %d: more than one action in flight: %s", seed, names(pending))
			}
			// A session event while an action is in flight cannot happen in
			// the daemon (results are fed first); model that here too.
			if e.Role() == Active && !e.Connected() && e.disconnectedAt.IsZero() {
				t.Fatalf("seed %d: active while disconnected with no deadline", seed)
			}
		}
	}
	if actives < 50 {
		t.Fatalf("only %d TransitionToActive in 200 runs: the scenario generator is too weak", actives)
	}
}
