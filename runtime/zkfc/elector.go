package zkfc

import (
	"fmt"
	"time"
)

// Role is what the elector has made of the local NameNode.
type Role int

// Roles, as Hadoop's ActiveStandbyElector states.
const (
	Neutral Role = iota // not told anything yet, or unsure (ZooKeeper lost)
	Standby
	Active
)

func (r Role) String() string {
	switch r {
	case Active:
		return "active"
	case Standby:
		return "standby"
	}
	return "neutral"
}

// Events fed to the Elector. Results of actions carry Err when the action failed.
type (
	// Tick advances time (deadlines: rejoin after a failure or a cede, going
	// neutral when ZooKeeper stays unreachable).
	Tick struct{ Now time.Time }
	// Connected: the ZooKeeper session is up (new or resumed).
	Connected struct {
		Now time.Time
		// NewSession is true when the session is not the one the lock was created in.
		NewSession bool
	}
	// Disconnected: the connection dropped; the session may survive.
	Disconnected struct{ Now time.Time }
	// Expired: ZooKeeper expired the session: the lock, if ours, is gone.
	Expired struct{ Now time.Time }
	// HealthChanged reports the health monitor's new state.
	HealthChanged struct {
		Now   time.Time
		State HealthState
	}
	// Cede asks to leave the election until Until (zero: rejoin now).
	Cede struct {
		Now   time.Time
		Until time.Time
	}
	// LockChanged: the watch on the lock znode fired.
	LockChanged struct{ Now time.Time }
	// LockCreated is CreateLock's result: Mine when this session holds the lock
	// (created now, or found owned by this session), else Exists when another has it.
	LockCreated struct {
		Now    time.Time
		Mine   bool
		Exists bool
		Err    error
	}
	// LockWatched is WatchLock's result: Exists false means it vanished meanwhile.
	LockWatched struct {
		Now    time.Time
		Exists bool
		Err    error
	}
	// BreadcrumbRead is ReadBreadcrumb's result.
	BreadcrumbRead struct {
		Now  time.Time
		Data []byte // nil when absent
		Err  error
	}
	// Fenced is FenceOldActive's result.
	Fenced struct {
		Now time.Time
		Err error
	}
	// BreadcrumbWritten is WriteBreadcrumb's result.
	BreadcrumbWritten struct {
		Now time.Time
		Err error
	}
	// Transitioned is TransitionToActive's or TransitionToStandby's result.
	Transitioned struct {
		Now time.Time
		To  Role
		Err error
	}
	// LockDeleted is DeleteLock's result.
	LockDeleted struct {
		Now time.Time
		Err error
	}
	// BreadcrumbDeleted is DeleteBreadcrumb's result.
	BreadcrumbDeleted struct {
		Now time.Time
		Err error
	}
)

// Action is what the Elector asks the caller to do. Actions other than Log
// produce exactly one result event, to be fed back before anything else.
type Action interface{ action() }

// Actions.
type (
	CreateLock          struct{}                // create the ephemeral lock with our NodeInfo
	WatchLock           struct{}                // exists-watch on the lock
	ReadBreadcrumb      struct{}                // read ActiveBreadCrumb
	FenceOldActive      struct{ Old NodeInfo }  // graceful, then dfs.ha.fencing.methods
	WriteBreadcrumb     struct{}                // create or overwrite ActiveBreadCrumb with our NodeInfo
	TransitionToActive  struct{}                // local NameNode
	TransitionToStandby struct{ Reason string } // local NameNode
	DeleteLock          struct{}                // only if this session owns it
	DeleteBreadcrumb    struct{}                // only if it names us
	Log                 struct{ Msg string }    // why something happened (no result)
)

func (CreateLock) action()          {}
func (WatchLock) action()           {}
func (ReadBreadcrumb) action()      {}
func (FenceOldActive) action()      {}
func (WriteBreadcrumb) action()     {}
func (TransitionToActive) action()  {}
func (TransitionToStandby) action() {}
func (DeleteLock) action()          {}
func (DeleteBreadcrumb) action()    {}
func (Log) action()                 {}

// ElectorConfig parametrises the Elector.
type ElectorConfig struct {
	Self NodeInfo
	// SessionTimeout is ha.zookeeper.session-timeout.ms. An active that cannot
	// reach ZooKeeper for 2/3 of it makes its NameNode standby: by the time the
	// session expires and another ZKFC may win, this one has stepped down.
	SessionTimeout time.Duration
	// RetryAfterFailure is how long to stay out of the election after failing
	// to fence or to become active (Hadoop: 1 s), so another candidate can win.
	RetryAfterFailure time.Duration
}

// Elector is the pure state machine of Hadoop's ActiveStandbyElector together
// with the ZKFC's electability rules (health, cede). Events in, actions out;
// no I/O and no clock: every event carries the time.
type Elector struct {
	cfg ElectorConfig
	now time.Time

	health     HealthState
	cededUntil time.Time
	retryAt    time.Time

	connected      bool
	disconnectedAt time.Time

	role       Role
	inElection bool // a lock attempt or a watch is in place
	holdLock   bool // this session owns the lock znode
	busy       bool // an action's result is awaited
	// cleanExit: the local NameNode reached standby on purpose (cede), so the
	// breadcrumb naming it can go and the next active need not fence it.
	cleanExit bool
	// afterStandby: what to do once a TransitionToStandby returns.
	afterStandby Action
	lastStatus   string
	failures     int
}

// NewElector returns an elector outside the election, not connected, neutral.
func NewElector(cfg ElectorConfig) *Elector {
	if cfg.RetryAfterFailure <= 0 {
		cfg.RetryAfterFailure = time.Second
	}
	return &Elector{cfg: cfg, health: Initializing}
}

// Role is the role the local NameNode was last put in.
func (e *Elector) Role() Role { return e.role }

// Health is the last health state reported.
func (e *Elector) Health() HealthState { return e.health }

// Connected reports whether the ZooKeeper session is up.
func (e *Elector) Connected() bool { return e.connected }

// InElection reports whether the elector is competing for (or holds) the lock.
func (e *Elector) InElection() bool { return e.inElection }

// Failures counts failed attempts to become active (fencing, breadcrumb, transition).
func (e *Elector) Failures() int { return e.failures }

// Status is a one-line description of the last decision, for logs and /zkfc/status.
func (e *Elector) Status() string { return e.lastStatus }

func (e *Elector) electable() bool {
	return e.health == ServiceHealthy && !e.now.Before(e.cededUntil) && !e.now.Before(e.retryAt)
}

// advance moves the clock forward only: a tick queued behind a result may
// carry an older time, and deadlines must not move back.
func (e *Elector) advance(t time.Time) {
	if t.After(e.now) {
		e.now = t
	}
}

func logf(format string, args ...any) Action { return Log{Msg: fmt.Sprintf(format, args...)} }

// Step feeds one event and returns the actions to perform, in order.
func (e *Elector) Step(ev any) []Action {
	var out []Action
	switch ev := ev.(type) {
	case Tick:
		e.advance(ev.Now)
	case Connected:
		e.advance(ev.Now)
		e.connected = true
		e.disconnectedAt = time.Time{}
		if ev.NewSession {
			e.holdLock, e.inElection = false, false
			if e.role == Active && !e.busy {
				e.busy = true
				e.afterStandby = nil
				return append(out, logf("new ZooKeeper session: the lock of the old one is gone"),
					TransitionToStandby{Reason: "ZooKeeper session replaced"})
			}
		} else if e.role != Active {
			// Re-check where we stand: the watch may have been lost, or we stepped
			// down while away and still hold the lock.
			e.inElection = false
		}
	case Disconnected:
		e.advance(ev.Now)
		if e.connected {
			e.disconnectedAt = ev.Now
		}
		e.connected = false
		out = append(out, logf("lost the ZooKeeper connection"))
	case Expired:
		e.advance(ev.Now)
		e.connected = false
		e.holdLock, e.inElection = false, false
		if e.disconnectedAt.IsZero() {
			e.disconnectedAt = ev.Now
		}
		if e.role == Active && !e.busy {
			e.busy = true
			e.afterStandby = nil
			return append(out, logf("ZooKeeper session expired: another ZKFC may be active now"),
				TransitionToStandby{Reason: "ZooKeeper session expired"})
		}
	case HealthChanged:
		e.advance(ev.Now)
		if e.health != ev.State {
			out = append(out, logf("local NameNode health: %s -> %s", e.health, ev.State))
		}
		e.health = ev.State
	case Cede:
		e.advance(ev.Now)
		e.cededUntil = ev.Until
		if ev.Until.After(ev.Now) && e.role == Active && !e.busy {
			e.busy = true
			e.afterStandby = nil
			return append(out, logf("ceding the active role until %s", ev.Until.Format(time.RFC3339Nano)),
				TransitionToStandby{Reason: "asked to cede the active role"})
		}
	case LockChanged:
		e.advance(ev.Now)
		if e.inElection && !e.holdLock && !e.busy {
			e.inElection = false // compete again
		}
	case LockCreated:
		e.advance(ev.Now)
		e.busy = false
		switch {
		case ev.Err != nil:
			e.inElection = false
			e.retryAt = ev.Now.Add(e.cfg.RetryAfterFailure)
			out = append(out, logf("could not create the lock znode: %v", ev.Err))
		case ev.Mine:
			e.holdLock = true
			if e.role != Active {
				e.busy = true
				return append(out, logf("won the election"), ReadBreadcrumb{})
			}
		case ev.Exists:
			if e.role != Standby {
				e.busy = true
				e.afterStandby = WatchLock{}
				return append(out, logf("another ZKFC holds the lock: becoming standby"),
					TransitionToStandby{Reason: "another NameNode is active"})
			}
			e.busy = true
			return append(out, WatchLock{})
		}
	case LockWatched:
		e.advance(ev.Now)
		e.busy = false
		if ev.Err != nil || !ev.Exists {
			e.inElection = false
		}
	case BreadcrumbRead:
		e.advance(ev.Now)
		e.busy = false
		if ev.Err != nil {
			return append(out, e.failElection(fmt.Sprintf("could not read the breadcrumb: %v", ev.Err))...)
		}
		if ev.Data != nil {
			old, err := DecodeNodeInfo(ev.Data)
			if err != nil {
				return append(out, e.failElection(fmt.Sprintf("breadcrumb unreadable (%v): refusing to become active without knowing whom to fence; delete it with format-zk --force only if every NameNode is stopped", err))...)
			}
			if !old.SameNode(e.cfg.Self) {
				e.busy = true
				return append(out, logf("breadcrumb names %s: fencing it", old), FenceOldActive{Old: old})
			}
		}
		e.busy = true
		return append(out, WriteBreadcrumb{})
	case Fenced:
		e.advance(ev.Now)
		e.busy = false
		if ev.Err != nil {
			return append(out, e.failElection(fmt.Sprintf("not becoming active: fencing the old active failed: %v", ev.Err))...)
		}
		e.busy = true
		return append(out, WriteBreadcrumb{})
	case BreadcrumbWritten:
		e.advance(ev.Now)
		e.busy = false
		if ev.Err != nil {
			return append(out, e.failElection(fmt.Sprintf("could not write the breadcrumb: %v", ev.Err))...)
		}
		e.busy = true
		return append(out, TransitionToActive{})
	case Transitioned:
		e.advance(ev.Now)
		e.busy = false
		if ev.To == Active {
			if ev.Err != nil {
				// The breadcrumb names us now, so whoever wins next fences us.
				e.role = Neutral
				return append(out, e.failElection(fmt.Sprintf("the local NameNode refused to become active: %v", ev.Err))...)
			}
			e.role = Active
			e.lastStatus = "active"
			out = append(out, logf("the local NameNode is active"))
			break
		}
		if ev.Err != nil {
			out = append(out, logf("could not make the local NameNode standby: %v", ev.Err))
		} else if e.role == Active && e.now.Before(e.cededUntil) {
			e.cleanExit = true // ceded cleanly: the breadcrumb can go, nobody needs to fence us
		}
		e.role = Standby
		if !e.connected {
			e.role = Neutral
		}
		if next := e.afterStandby; next != nil {
			e.afterStandby = nil
			if e.connected {
				e.busy = true
				return append(out, next)
			}
		}
	case LockDeleted:
		e.advance(ev.Now)
		e.busy = false
		if ev.Err != nil {
			out = append(out, logf("could not delete the lock znode: %v", ev.Err))
			break
		}
		e.holdLock, e.inElection = false, false
		if e.cleanExit {
			e.cleanExit = false
			e.busy = true
			return append(out, DeleteBreadcrumb{})
		}
	case BreadcrumbDeleted:
		e.advance(ev.Now)
		e.busy = false
		if ev.Err != nil {
			out = append(out, logf("could not delete the breadcrumb: %v", ev.Err))
		}
	default:
		panic(fmt.Sprintf("zkfc: unknown elector event %T", ev))
	}
	return append(out, e.next()...)
}

// failElection leaves the election for RetryAfterFailure, keeping the
// breadcrumb, so another candidate gets its turn (Hadoop's reJoinElection).
func (e *Elector) failElection(why string) []Action {
	e.retryAt = e.now.Add(e.cfg.RetryAfterFailure)
	e.lastStatus = why
	e.failures++
	out := []Action{Log{Msg: why + fmt.Sprintf("; retrying in %s", e.cfg.RetryAfterFailure)}}
	return append(out, e.next()...)
}

// next decides the next action when nothing is in flight.
func (e *Elector) next() []Action {
	if e.busy {
		return nil
	}
	if !e.connected {
		// Out of touch with ZooKeeper: step down before the session can expire
		// and another ZKFC can win (never two actives).
		if e.role == Active && !e.disconnectedAt.IsZero() &&
			!e.now.Before(e.disconnectedAt.Add(e.cfg.SessionTimeout*2/3)) {
			e.busy = true
			e.afterStandby = nil
			return []Action{logf("ZooKeeper unreachable for %s: making the local NameNode standby", e.now.Sub(e.disconnectedAt)),
				TransitionToStandby{Reason: "lost ZooKeeper"}}
		}
		return nil
	}
	electable := e.electable()
	switch {
	case electable && !e.inElection:
		e.inElection, e.busy = true, true
		return []Action{CreateLock{}}
	case electable && e.holdLock && e.role != Active:
		e.busy = true
		return []Action{ReadBreadcrumb{}}
	case !electable && e.holdLock:
		if e.role == Active {
			e.role = Neutral // left as it is (unhealthy): the next active fences it
		}
		e.busy = true
		return []Action{logf("leaving the election (health %s)", e.health), DeleteLock{}}
	case !electable && e.inElection:
		e.inElection = false
	}
	return nil
}
