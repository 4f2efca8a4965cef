package zkfc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/fence"
	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/jmx"
)

// tickEvery bounds how late a deadline of the elector is noticed.
const tickEvery = 50 * time.Millisecond

// Status is the body of GET /zkfc/status.
type Status struct {
	Nameservice  string `json:"nameservice"`
	NamenodeID   string `json:"namenodeId"`
	ElectorState string `json:"electorState"`
	Health       string `json:"health"`
	ZKConnected  bool   `json:"zkConnected"`
	InElection   bool   `json:"inElection"`
	LastStatus   string `json:"lastStatus,omitempty"`
	Failures     int    `json:"failures"`
}

// Controller is the ZKFC daemon: it drives the Elector and the HealthMonitor
// with a real ZooKeeper session, the local NameNode's HA HTTP calls and the
// fencers, and serves the ZKFC HTTP endpoints.
type Controller struct {
	cfg   *Config
	log   *slog.Logger
	conn  *zk.Conn
	zkEv  <-chan zk.Event
	el    *Elector
	local *NameNodeClient

	lockPath, crumbPath string
	selfData            []byte

	events chan any
	fatal  chan error
	ctx    context.Context

	mu        sync.Mutex
	status    Status
	failures  int
	sessionID int64
	listener  net.Listener
}

// New checks the configuration the way Hadoop's ZKFC does before it starts, in
// Hadoop's order, returning its sentinel errors (see ExitCode): automatic
// failover on, ZooKeeper reachable, parent znode present, fencing configured.
func New(ctx context.Context, cfg *Config, log *slog.Logger) (*Controller, error) {
	if !cfg.AutoFailover {
		return nil, fmt.Errorf("%w for %s.%s: set dfs.ha.automatic-failover.enabled to true (hactl: automatic_failover = true) before running the ZKFC",
			ErrAutoFailoverOff, cfg.Nameservice, cfg.Self.ID)
	}
	conn, ev, err := Dial(ctx, cfg.ZK, log)
	if err != nil {
		return nil, err
	}
	ok, err := ParentExists(conn, cfg.ZK, cfg.Nameservice)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("%w: %s; run `hactl runtime format-zk --conf DIR` once (Hadoop: hdfs zkfc -formatZK) to initialise ZooKeeper",
			ErrNoParentZnode, cfg.ZK.ScopedParent(cfg.Nameservice))
	}
	// Znodes an earlier hactl created world-writable get the configured ACL.
	if changed, err := SecureZnodes(conn, cfg.ZK.ScopedParent(cfg.Nameservice), cfg.ZK.ACLs); err != nil {
		conn.Close()
		return nil, fmt.Errorf("secure the failover znodes: %w", err)
	} else if len(changed) > 0 && log != nil {
		log.Info("set the configured ACL on znodes that had another", "znodes", strings.Join(changed, ","))
	}
	if len(cfg.Fencers) == 0 {
		conn.Close()
		why := cfg.FencerErr
		if why == nil {
			why = fence.ErrNoMethods
		}
		return nil, fmt.Errorf("%w for %s.%s: %v; set dfs.ha.fencing.methods (e.g. sshfence, or shell(/bin/true) only if the shared storage fences by itself, as QJM does)",
			ErrNoFencer, cfg.Nameservice, cfg.Self.ID, why)
	}
	parent := cfg.ZK.ScopedParent(cfg.Nameservice)
	c := &Controller{
		cfg: cfg, log: log, conn: conn, zkEv: ev,
		local:     NewNameNodeClient(cfg.Self.HTTPAddr, cfg.Secret),
		lockPath:  parent + "/" + LockName,
		crumbPath: parent + "/" + BreadcrumbName,
		selfData:  cfg.SelfInfo().Encode(),
		events:    make(chan any, 256),
		fatal:     make(chan error, 1),
		sessionID: conn.SessionID(),
	}
	c.el = NewElector(ElectorConfig{Self: cfg.SelfInfo(), SessionTimeout: cfg.ZK.SessionTimeout})
	return c, nil
}

// Listen binds the ZKFC HTTP endpoint (dfs.ha.zkfc.port on the NameNode's address).
func (c *Controller) Listen() error {
	l, err := net.Listen("tcp", c.cfg.Self.ZKFCAddr)
	if err != nil {
		return fmt.Errorf("zkfc http: %w", err)
	}
	c.mu.Lock()
	c.listener = l
	c.mu.Unlock()
	return nil
}

// Run serves until ctx ends or a fatal error (HEALTH_MONITOR_FAILED). On return
// the ZooKeeper session is closed, which releases the lock at once; the local
// NameNode is left as it is, as Hadoop's ZKFC does: the next active fences it.
func (c *Controller) Run(ctx context.Context) error {
	defer c.conn.Close()
	c.ctx = ctx
	c.mu.Lock()
	l := c.listener
	c.mu.Unlock()
	if l == nil {
		if err := c.Listen(); err != nil {
			return err
		}
		l = c.listener
	}
	srv := httpserve.Start(l, c.Handler(), c.cfg.HTTPLimits.OrDefaults(), nil)
	defer srv.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.forwardZKEvents(ctx)
	go c.monitorHealth(ctx)
	c.log.Info("ZKFC started", "nameservice", c.cfg.Nameservice, "namenode", c.cfg.Self.ID,
		"quorum", c.cfg.ZK.Quorum, "lock", c.lockPath, "http", l.Addr().String())
	c.feed(Connected{Now: time.Now()})
	ticker := time.NewTicker(tickEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			c.log.Info("ZKFC stopping: closing the ZooKeeper session")
			return nil
		case err := <-c.fatal:
			return err
		case ev := <-c.events:
			c.feed(ev)
		case now := <-ticker.C:
			c.feed(Tick{Now: now})
		}
	}
}

func (c *Controller) post(ev any) {
	select {
	case c.events <- ev:
	default:
		c.log.Warn("elector event queue full: dropping", "event", fmt.Sprintf("%T", ev))
	}
}

func (c *Controller) forwardZKEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-c.zkEv:
			if !ok {
				return
			}
			if ev.Type != zk.EventSession {
				continue
			}
			now := time.Now()
			switch ev.State {
			case zk.StateHasSession:
				id := c.conn.SessionID()
				c.mu.Lock()
				newSession := id != c.sessionID
				c.sessionID = id
				c.mu.Unlock()
				c.post(Connected{Now: now, NewSession: newSession})
			case zk.StateDisconnected:
				c.post(Disconnected{Now: now})
			case zk.StateExpired:
				c.post(Expired{Now: now})
			}
		}
	}
}

func (c *Controller) monitorHealth(ctx context.Context) {
	hm := NewHealthMonitor(c.cfg.Health)
	next := time.Now()
	first := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		res, why := c.local.Health(ctx, c.cfg.Health.RPCTimeout)
		if ctx.Err() != nil {
			return
		}
		var changed bool
		changed, next = hm.Observe(res, time.Now())
		if changed || first {
			first = false
			c.log.Info("local NameNode health", "state", hm.State().String(), "detail", why)
			c.post(HealthChanged{Now: time.Now(), State: hm.State()})
		}
		if hm.State() == HealthMonitorFailed {
			select {
			case c.fatal <- fmt.Errorf("health monitor failed: %s", why):
			default:
			}
			return
		}
	}
}

// feed steps the elector with ev and performs the actions, feeding each
// result back before anything else happens.
func (c *Controller) feed(ev any) {
	queue := []any{ev}
	for len(queue) > 0 {
		ev := queue[0]
		queue = queue[1:]
		if _, tick := ev.(Tick); !tick {
			c.log.Debug("elector event", "event", fmt.Sprintf("%T%+v", ev, ev))
		}
		for _, a := range c.el.Step(ev) {
			c.publish()
			if r := c.do(a); r != nil {
				queue = append(queue, r)
			}
		}
	}
	c.publish()
}

// publish copies the elector's state for /zkfc/status, cedeActive and
// gracefulFailover, which run on other goroutines.
func (c *Controller) publish() {
	c.mu.Lock()
	c.status = Status{
		Nameservice: c.cfg.Nameservice, NamenodeID: c.cfg.Self.ID,
		ElectorState: c.el.Role().String(), Health: c.el.Health().String(),
		ZKConnected: c.el.Connected(), InElection: c.el.InElection(),
		LastStatus: c.el.Status(), Failures: c.el.Failures(),
	}
	c.mu.Unlock()
}

// zkOp bounds a ZooKeeper call by the session timeout: go-zookeeper has no
// context, and the elector must not wait forever on a dead quorum.
func zkOp[T any](d time.Duration, f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := f()
		ch <- res{v, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, fmt.Errorf("ZooKeeper call took longer than %s", d)
	}
}

type getResult struct {
	data []byte
	stat *zk.Stat
}

// zget, zset, zdelete, zcreate and zexistsW are the ZooKeeper calls of the
// elector, each bounded by half the session timeout so that the loop keeps
// ticking (and can step down) while ZooKeeper is away.
func (c *Controller) zget(p string) ([]byte, *zk.Stat, error) {
	r, err := zkOp(c.cfg.ZK.SessionTimeout/2, func() (getResult, error) {
		d, st, err := c.conn.Get(p)
		return getResult{d, st}, err
	})
	return r.data, r.stat, err
}

func (c *Controller) zset(p string, data []byte) error {
	_, err := zkOp(c.cfg.ZK.SessionTimeout/2, func() (*zk.Stat, error) { return c.conn.Set(p, data, -1) })
	return err
}

func (c *Controller) zcreate(p string, data []byte, flags int32) error {
	_, err := zkOp(c.cfg.ZK.SessionTimeout/2, func() (string, error) { return c.conn.Create(p, data, flags, c.cfg.ZK.ACLs) })
	return err
}

func (c *Controller) zdelete(p string, version int32) error {
	_, err := zkOp(c.cfg.ZK.SessionTimeout/2, func() (struct{}, error) { return struct{}{}, c.conn.Delete(p, version) })
	return err
}

type existsResult struct {
	ok bool
	ch <-chan zk.Event
}

func (c *Controller) zexistsW(p string) (bool, <-chan zk.Event, error) {
	r, err := zkOp(c.cfg.ZK.SessionTimeout/2, func() (existsResult, error) {
		ok, _, ch, err := c.conn.ExistsW(p)
		return existsResult{ok, ch}, err
	})
	return r.ok, r.ch, err
}

func (c *Controller) do(a Action) any {
	switch a := a.(type) {
	case Log:
		c.log.Info("elector: " + a.Msg)
		return nil
	case CreateLock:
		err := c.zcreate(c.lockPath, c.selfData, zk.FlagEphemeral)
		if err == nil {
			return LockCreated{Now: time.Now(), Mine: true}
		}
		if !errors.Is(err, zk.ErrNodeExists) {
			return LockCreated{Now: time.Now(), Err: fmt.Errorf("create %s: %w", c.lockPath, err)}
		}
		_, st, gerr := c.zget(c.lockPath)
		if errors.Is(gerr, zk.ErrNoNode) {
			// Vanished between the two calls: compete again on the next step.
			return LockCreated{Now: time.Now(), Err: fmt.Errorf("lock %s vanished", c.lockPath)}
		}
		if gerr != nil {
			return LockCreated{Now: time.Now(), Err: fmt.Errorf("read %s: %w", c.lockPath, gerr)}
		}
		return LockCreated{Now: time.Now(), Mine: st.EphemeralOwner == c.conn.SessionID(), Exists: true}
	case WatchLock:
		ok, ch, err := c.zexistsW(c.lockPath)
		if err != nil {
			return LockWatched{Now: time.Now(), Err: err}
		}
		go func() {
			select {
			case <-ch:
				c.post(LockChanged{Now: time.Now()})
			case <-c.ctx.Done():
			}
		}()
		return LockWatched{Now: time.Now(), Exists: ok}
	case ReadBreadcrumb:
		data, _, err := c.zget(c.crumbPath)
		if errors.Is(err, zk.ErrNoNode) {
			return BreadcrumbRead{Now: time.Now()}
		}
		if data == nil {
			data = []byte{}
		}
		return BreadcrumbRead{Now: time.Now(), Data: data, Err: err}
	case FenceOldActive:
		err := c.fenceOldActive(a.Old) // before time.Now(): the retry delay counts from the failure
		return Fenced{Now: time.Now(), Err: err}
	case WriteBreadcrumb:
		err := c.zset(c.crumbPath, c.selfData)
		if errors.Is(err, zk.ErrNoNode) {
			err = c.zcreate(c.crumbPath, c.selfData, 0)
		}
		return BreadcrumbWritten{Now: time.Now(), Err: err}
	case TransitionToActive:
		c.log.Info("making the local NameNode active", "namenode", c.cfg.Self.ID)
		err := c.local.TransitionToActive(c.ctx, c.cfg.NewActiveTimeout)
		return Transitioned{Now: time.Now(), To: Active, Err: err}
	case TransitionToStandby:
		c.log.Info("making the local NameNode standby", "namenode", c.cfg.Self.ID, "reason", a.Reason)
		err := c.local.TransitionToStandby(c.ctx, c.cfg.GracefulTimeout)
		return Transitioned{Now: time.Now(), To: Standby, Err: err}
	case DeleteLock:
		_, st, err := c.zget(c.lockPath)
		if errors.Is(err, zk.ErrNoNode) {
			return LockDeleted{Now: time.Now()}
		}
		if err == nil && st.EphemeralOwner == c.conn.SessionID() {
			err = c.zdelete(c.lockPath, st.Version)
			if errors.Is(err, zk.ErrNoNode) {
				err = nil
			}
		}
		return LockDeleted{Now: time.Now(), Err: err}
	case DeleteBreadcrumb:
		data, st, err := c.zget(c.crumbPath)
		if errors.Is(err, zk.ErrNoNode) {
			return BreadcrumbDeleted{Now: time.Now()}
		}
		if err == nil {
			if n, derr := DecodeNodeInfo(data); derr == nil && n.SameNode(c.cfg.SelfInfo()) {
				err = c.zdelete(c.crumbPath, st.Version)
			}
		}
		return BreadcrumbDeleted{Now: time.Now(), Err: err}
	}
	panic(fmt.Sprintf("zkfc: unknown action %T", a))
}

// fenceOldActive is Hadoop's doFence: ask the old active to become standby
// (graceful-fence timeout); if that fails, run dfs.ha.fencing.methods in order.
func (c *Controller) fenceOldActive(old NodeInfo) error {
	t, err := c.cfg.FenceTarget(old)
	if err != nil {
		c.log.Error("forged or foreign breadcrumb: not fencing; check who can write to ZooKeeper, then delete the breadcrumb (format-zk --force with every NameNode stopped)",
			"znode", c.crumbPath, "err", err)
		return err
	}
	peer, _ := c.cfg.Peer(t.NamenodeID)
	err = NewNameNodeClient(peer.HTTPAddr, c.cfg.Secret).TransitionToStandby(c.ctx, c.cfg.GracefulTimeout)
	if err == nil {
		c.log.Info("the old active went to standby: no fencing needed", "old", old.String())
		return nil
	}
	c.log.Warn("graceful fencing failed: using the fencing methods", "old", old.String(), "err", err)
	return fence.FenceWithMethods(c.ctx, c.log, c.cfg.Fencers, t)
}

// Snapshot returns the current status.
func (c *Controller) Snapshot() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Handler serves the signed ZKFC HTTP endpoints and the public /jmx and /prom.
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /zkfc/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Snapshot())
	})
	mux.HandleFunc("POST /zkfc/cedeActive", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.ParseInt(r.URL.Query().Get("millis"), 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "HadoopIllegalArgumentException", "millis must be an integer")
			return
		}
		if err := c.CedeActive(r.Context(), time.Duration(ms)*time.Millisecond); err != nil {
			writeErr(w, http.StatusInternalServerError, "ServiceFailedException", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, c.Snapshot())
	})
	mux.HandleFunc("POST /zkfc/gracefulFailover", func(w http.ResponseWriter, r *http.Request) {
		if err := c.GracefulFailover(r.Context()); err != nil {
			writeErr(w, http.StatusConflict, "ServiceFailedException", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, c.Snapshot())
	})
	verifier := auth.NewVerifier(c.cfg.Secret, c.cfg.Self.ZKFCAddr)
	// Metrics are read-only and public, as Hadoop's /jmx and /prom are.
	public := http.NewServeMux()
	public.Handle("GET /jmx", jmx.Handler(c.jmxBeans))
	public.Handle("GET /prom", jmx.PromHandler(c.jmxBeans))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jmx" || r.URL.Path == "/prom" {
			public.ServeHTTP(w, r)
			return
		}
		if err := verifier.Verify(r); err != nil {
			writeErr(w, http.StatusUnauthorized, "AccessControlException", err.Error())
			return
		}
		// A graceful failover waits for the other ZKFC and NameNode: an
		// authenticated caller's request may outlast the default deadlines.
		httpserve.Unbounded(w)
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, exc, msg string) {
	writeJSON(w, code, map[string]any{"RemoteException": map[string]string{
		"exception": exc, "javaClassName": "org.apache.hadoop.ha." + exc, "message": msg}})
}

// CedeActive is Hadoop's cedeActive: make the local NameNode standby and stay
// out of the election for d (d <= 0: rejoin now). It returns once this ZKFC
// no longer holds the lock.
func (c *Controller) CedeActive(ctx context.Context, d time.Duration) error {
	now := time.Now()
	until := time.Time{}
	if d > 0 {
		until = now.Add(d)
	}
	c.post(Cede{Now: now, Until: until})
	if d <= 0 {
		return nil
	}
	deadline := time.Now().Add(c.cfg.GracefulTimeout + c.cfg.ZK.SessionTimeout)
	for time.Now().Before(deadline) {
		s := c.Snapshot()
		if !s.InElection && s.ElectorState != Active.String() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s.%s did not leave the election within %s", c.cfg.Nameservice, c.cfg.Self.ID, c.cfg.GracefulTimeout+c.cfg.ZK.SessionTimeout)
}

// GracefulFailover is Hadoop's gracefulFailover, run on the ZKFC whose
// NameNode should become active: ask the current active's ZKFC (and any other
// standby's) to cede, win the election, and tell the others to rejoin.
func (c *Controller) GracefulFailover(ctx context.Context) error {
	s := c.Snapshot()
	if s.Health != ServiceHealthy.String() {
		return fmt.Errorf("%s.%s is not healthy (%s): refusing to fail over to it", c.cfg.Nameservice, c.cfg.Self.ID, s.Health)
	}
	if s.ElectorState == Active.String() {
		return nil
	}
	data, _, err := c.zget(c.lockPath)
	if err != nil {
		return fmt.Errorf("read the current active from %s: %w", c.lockPath, err)
	}
	old, err := DecodeNodeInfo(data)
	if err != nil {
		return fmt.Errorf("lock %s: %w", c.lockPath, err)
	}
	if old.SameNode(c.cfg.SelfInfo()) {
		// This ZKFC already won and is becoming active: wait for that attempt.
		return c.waitActive(ctx, c.cfg.GracefulTimeout+c.cfg.NewActiveTimeout, c.Snapshot().Failures, old, nil)
	}
	cede := 2 * c.cfg.GracefulTimeout
	client := &http.Client{Transport: &auth.Transport{Secret: c.cfg.Secret}, Timeout: c.cfg.GracefulTimeout + c.cfg.ZK.SessionTimeout + 5*time.Second}
	// The active's ZKFC at its configured address, never one from ZooKeeper.
	if _, err := c.cfg.FenceTarget(old); err != nil {
		return fmt.Errorf("graceful failover (the lock znode): %w", err)
	}
	activePeer, _ := c.cfg.Peer(old.NamenodeID)
	others := []string{activePeer.ZKFCAddr}
	for _, p := range c.cfg.Peers {
		if p.ID != old.NamenodeID {
			others = append(others, p.ZKFCAddr)
		}
	}
	failuresBefore := c.Snapshot().Failures
	var errs []error
	for i, addr := range others {
		if err := postZKFC(ctx, client, addr, "/zkfc/cedeActive?millis="+strconv.FormatInt(cede.Milliseconds(), 10)); err != nil {
			if i == 0 {
				return fmt.Errorf("ask the active's ZKFC %s to cede: %w", addr, err)
			}
			errs = append(errs, err) // a dead standby's ZKFC cannot compete anyway
		}
	}
	// Whatever happens, let the others compete again afterwards.
	defer func() {
		for _, addr := range others {
			_ = postZKFC(context.WithoutCancel(ctx), client, addr, "/zkfc/cedeActive?millis=0")
		}
	}()
	return c.waitActive(ctx, cede+c.cfg.NewActiveTimeout, failuresBefore, old, errs)
}

// waitActive waits until the local NameNode is active, the attempt fails, or
// the local NameNode turns unhealthy.
func (c *Controller) waitActive(ctx context.Context, d time.Duration, failuresBefore int, old NodeInfo, errs []error) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		s := c.Snapshot()
		switch {
		case s.ElectorState == Active.String():
			c.log.Info("graceful failover: the local NameNode is active", "from", old.String())
			return nil
		case s.Health != ServiceHealthy.String():
			return fmt.Errorf("the local NameNode became unhealthy (%s) during the failover", s.Health)
		case s.Failures > failuresBefore:
			return fmt.Errorf("could not become active: %s", s.LastStatus)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("the local NameNode did not become active within %s (others: %v)", d, errors.Join(errs...))
}

func postZKFC(ctx context.Context, client *http.Client, addr, pathQuery string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+pathQuery, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var buf [2048]byte
		n, _ := resp.Body.Read(buf[:])
		return fmt.Errorf("%s%s: %w", addr, pathQuery, remoteError(resp.StatusCode, buf[:n]))
	}
	return nil
}
