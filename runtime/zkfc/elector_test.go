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

// names renders actions compactly, leaving out Log, for the scripts'
// expected output.
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

// testElectorConfig is the elector of every test: session timeout 3 s,
// retry after a failure 1 s.
func testElectorConfig() ElectorConfig {
	return ElectorConfig{Self: self, SessionTimeout: 3 * time.Second, RetryAfterFailure: time.Second}
}

func newTestElector() *Elector { return NewElector(testElectorConfig()) }

// The scenarios of the elector are scripts in testdata/elector
// (elector_script_test.go); this file keeps the randomized safety test.

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
