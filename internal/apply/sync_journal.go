package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/rpc"
	"github.com/hactl/hactl/schema"
)

// JournalCaller makes one journal RPC call to the JournalNode at addr
// (host:rpc-port); Env.JournalCall replaces it in tests.
type JournalCaller func(ctx context.Context, addr, method string, req, resp any) error

// journalCaller returns env's JournalCaller: signed RPC with the cluster
// secret unless a test set one.
func (e *Env) journalCaller(ctx context.Context) (JournalCaller, error) {
	if e.JournalCall != nil {
		return e.JournalCall, nil
	}
	secret, err := e.Secret(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, addr, method string, req, resp any) error {
		c := &rpc.Client{Addr: addr, Secret: secret, Dial: e.dial}
		defer c.Close()
		return c.Call(ctx, method, req, resp)
	}, nil
}

// syncJournal runs where a nameservice's JournalNode set changes, before a
// NameNode writes to the new set. A write acknowledged by a majority of the
// old set may sit on a minority of the new one (5 JournalNodes shrunk to 3,
// two of the acknowledging majority removed), and recovery from the other
// members would lose it. So: with a NameNode active, writes pause (every
// ZKFC leaves the election, or haadmin -transitionToStandby by hand), which
// makes the old writer finalize its segment; every member of the new set
// copies the finalized segments it lacks from the old and new members
// (rpc.MethodSyncJournal); once a majority of the new set holds the old
// writer's last txid, the step's NameNode becomes active on it. If that
// majority is not reached in time, the old active takes over again on the
// old set and the step fails: the NameNodes are not switched.
type syncJournal struct{ s *planner.Step }

func init() {
	register(planner.ActSyncJournal, func(s *planner.Step) Runner { return &syncJournal{s} })
}

func (r *syncJournal) Title() string { return r.s.Title() }

func (r *syncJournal) Run(ctx context.Context, env *Env) error {
	c := env.Cluster
	ns := c.Nameservice(r.s.Nameservice)
	if ns == nil || ns.Journal == nil {
		return fmt.Errorf("sync journal: nameservice %s has no journal in the configuration", r.s.Nameservice)
	}
	if r.s.NameNode != "" && ns.NameNode(r.s.NameNode) == nil {
		return fmt.Errorf("sync journal: no NameNode %s in the configuration", r.s.Subject())
	}
	jid := planner.JournalID(ns)
	port := strconv.Itoa(ns.Journal.EffectiveRPCPort())
	addr := func(h string) string { return net.JoinHostPort(c.HostAddr(h), port) }
	var newSet, sources []string
	for _, h := range ns.Journal.Hosts {
		newSet = append(newSet, addr(h))
	}
	sources = append(sources, newSet...)
	for _, h := range r.s.SyncFrom {
		if a := addr(h); !slices.Contains(sources, a) {
			sources = append(sources, a)
		}
	}
	call, err := env.journalCaller(ctx)
	if err != nil {
		return fmt.Errorf("sync journal %s: %w", jid, err)
	}
	catchUp := func(target int64) error {
		return env.Guard.Wet(r.s.Host, fmt.Sprintf("JournalNodes %s copy journal %s up to txid %d from %s; wait for a majority",
			strings.Join(newSet, ","), jid, target, strings.Join(sources, ",")), func() error {
			return catchUpJournal(ctx, env, call, jid, newSet, sources, target)
		})
	}
	if r.s.NameNode == "" {
		// No writer runs: the last txid is the highest any old member holds.
		target, err := highestJournalTxid(ctx, call, jid, sources, r.s.SyncFrom, addr)
		if err != nil {
			return fmt.Errorf("sync journal %s: %w", jid, err)
		}
		if err := catchUp(target); err != nil {
			// Only finalized segments are copied: a writer that died
			// without finalizing leaves its last segment to a recovery on
			// the old set, which a NameNode does when it becomes active.
			return fmt.Errorf("sync journal %s: %w; no NameNode was started on the new JournalNode set: "+
				"to finalize the journal, put the previous JournalNode hosts back in the configuration and apply "+
				"(a NameNode becoming active recovers the last segment), then change them again", jid, err)
		}
		return nil
	}
	w, err := pauseWrites(ctx, env, ns, r.s.Host)
	if err != nil {
		return fmt.Errorf("sync journal %s: pause writes: %w", jid, err)
	}
	target := w.lastTxid
	if w.active == "" {
		// Nothing was active: the journal itself says how far it goes.
		if target, err = highestJournalTxid(ctx, call, jid, sources, r.s.SyncFrom, addr); err != nil {
			return errors.Join(fmt.Errorf("sync journal %s: %w", jid, err), w.resume(ctx, env, ""))
		}
	}
	if err := catchUp(target); err != nil {
		err = fmt.Errorf("sync journal %s: %w; the NameNodes were not switched to the new JournalNode set", jid, err)
		return errors.Join(err, w.resume(ctx, env, w.active))
	}
	if err := w.resume(ctx, env, r.s.NameNode); err != nil {
		return fmt.Errorf("sync journal %s: %w", jid, err)
	}
	return nil
}

// highestJournalTxid is the highest txid any of the old members (from, by
// host name) holds; each must answer, since an unanswered one may hold the
// last acknowledged edits.
func highestJournalTxid(ctx context.Context, call JournalCaller, jid string, sources, from []string, addr func(string) string) (int64, error) {
	var top int64
	for _, a := range sources {
		var st rpc.StatusResponse
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := call(cctx, a, rpc.MethodGetStatus, rpc.JournalIDRequest{JournalID: jid}, &st)
		cancel()
		if err != nil {
			if slices.ContainsFunc(from, func(h string) bool { return addr(h) == a }) {
				return 0, fmt.Errorf("JournalNode %s held journal %s when planned and does not answer now (%v): its last txid is unknown", a, jid, err)
			}
			continue
		}
		top = max(top, st.HighestTxid)
	}
	return top, nil
}

// catchUpJournal has every member of newSet copy what it lacks from sources
// until a majority of newSet holds target, within the ready timeout (twice).
func catchUpJournal(ctx context.Context, env *Env, call JournalCaller, jid string, newSet, sources []string, target int64) error {
	need := len(newSet)/2 + 1
	timeout := 2 * env.readyTimeout()
	deadline := env.now().Add(timeout)
	for {
		have := 0
		var state []string
		for _, a := range newSet {
			var peers []string
			for _, s := range sources {
				if s != a {
					peers = append(peers, s)
				}
			}
			var resp rpc.SyncJournalResponse
			cctx, cancel := context.WithTimeout(ctx, timeout)
			err := call(cctx, a, rpc.MethodSyncJournal, rpc.SyncJournalRequest{JournalID: jid, Peers: peers}, &resp)
			cancel()
			switch {
			case err != nil:
				state = append(state, fmt.Sprintf("%s: %v", a, err))
			case !resp.Formatted:
				state = append(state, a+": not formatted")
			case resp.HighestTxid < target:
				state = append(state, fmt.Sprintf("%s: at txid %d", a, resp.HighestTxid))
			default:
				have++
				state = append(state, fmt.Sprintf("%s: at txid %d", a, resp.HighestTxid))
			}
		}
		if have >= need {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if env.now().After(deadline) {
			return fmt.Errorf("after %s, %d of the new JournalNode set hold the old writer's last txid %d and a majority (%d) is needed (%s)",
				timeout, have, target, need, strings.Join(state, "; "))
		}
		if err := env.sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// writersPaused is a nameservice with no NameNode active, left so by
// pauseWrites.
type writersPaused struct {
	ns       *schema.Nameservice
	host     string // where haadmin runs (manual failover)
	active   string // the NameNode that was active, "" if none
	lastTxid int64  // the highest txid any NameNode applied once paused
}

// pauseWrites makes the nameservice's active NameNode standby, so its writer
// finalizes its segment and no NameNode writes. With automatic failover every
// ZKFC leaves the election for a bounded time (should hactl die, they rejoin
// by themselves): the ones not holding the lock first, the lock holder last —
// were the holder to cede while another ZKFC still competes, that one would
// win at once and write to the new JournalNode set before it is synced.
// Which ZKFC holds the lock is asked of the ZKFCs themselves: a NameNode may
// be standby for a moment while its ZKFC still holds the lock.
func pauseWrites(ctx context.Context, env *Env, ns *schema.Nameservice, host string) (*writersPaused, error) {
	c := env.Cluster
	w := &writersPaused{ns: ns, host: host}
	client, err := env.client(ctx)
	if err != nil {
		return nil, err
	}
	for _, nn := range ns.NameNodes {
		hp, err := NameNodeHTTPAddr(c, ns.Name, nn.ID)
		if err != nil {
			return nil, err
		}
		if st, err := GetHAStatus(ctx, client, hp); err == nil && st.State == "active" {
			w.active = nn.ID
		}
	}
	if ns.AutomaticFailover {
		hold := 4*env.readyTimeout() + time.Minute
		var order, holders []string
		zkfcs := map[string]string{}
		for _, nn := range ns.NameNodes {
			zkfc, err := ZKFCAddr(c, ns.Name, nn.ID)
			if err != nil {
				return nil, err
			}
			zkfcs[nn.ID] = zkfc
			if st, err := GetZKFCStatus(ctx, client, zkfc); err == nil && st.ElectorState == "active" {
				holders = append(holders, nn.ID)
				if w.active == "" {
					w.active = nn.ID
				}
			} else if nn.ID != w.active {
				order = append(order, nn.ID)
			}
		}
		if w.active != "" && !slices.Contains(holders, w.active) {
			holders = append(holders, w.active)
		}
		order = append(order, holders...)
		for _, id := range order {
			url := "http://" + zkfcs[id] + "/zkfc/cedeActive?millis=" + strconv.FormatInt(hold.Milliseconds(), 10)
			err := env.Guard.Wet(host, "POST "+url+" (pause writes: "+id+" leaves the election)", func() error {
				return getJSON(ctx, client, http.MethodPost, url, nil)
			})
			// A ZKFC that refuses connections is not running and cannot
			// elect its NameNode; any other failure leaves it competing.
			if err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
				return nil, errors.Join(fmt.Errorf("the ZKFC of %s did not leave the election: %w", id, err), w.resume(ctx, env, w.active))
			}
		}
	} else if w.active != "" {
		p := env.paths(host)
		if err := env.wetArgs(ctx, host, p.Binary, "runtime", "haadmin", "--conf", p.ConfDir, "-ns", ns.Name, "-transitionToStandby", w.active); err != nil {
			// Interrupted or not, the NameNode may have gone standby
			// before the error reached us; making an active NameNode
			// active again changes nothing.
			return nil, errors.Join(fmt.Errorf("make %s standby: %w", w.active, err), w.resume(ctx, env, w.active))
		}
	}
	if env.Guard.DryRun {
		return w, nil
	}
	// Wait until no ZKFC competes and no NameNode is active; the old
	// writer's last txid is then final.
	deadline := env.now().Add(env.readyTimeout())
	for {
		var busy []string
		w.lastTxid = 0
		for _, nn := range ns.NameNodes {
			if ns.AutomaticFailover {
				zkfc, _ := ZKFCAddr(c, ns.Name, nn.ID)
				st, err := GetZKFCStatus(ctx, client, zkfc)
				switch {
				case err != nil && !errors.Is(err, syscall.ECONNREFUSED):
					busy = append(busy, fmt.Sprintf("ZKFC of %s: %v", nn.ID, err))
				case err == nil && (st.InElection || st.ElectorState == "active"):
					busy = append(busy, fmt.Sprintf("ZKFC of %s still in the election (%s)", nn.ID, st.ElectorState))
				}
			}
			hp, _ := NameNodeHTTPAddr(c, ns.Name, nn.ID)
			st, err := GetHAStatus(ctx, client, hp)
			switch {
			case err != nil && nn.ID == w.active:
				busy = append(busy, fmt.Sprintf("NameNode %s: %v", nn.ID, err)) // its last txid must be known
			case err != nil:
			case st.State == "active":
				busy = append(busy, "NameNode "+nn.ID+" still active")
			default:
				w.lastTxid = max(w.lastTxid, st.LastAppliedTxid)
			}
		}
		if len(busy) == 0 {
			return w, nil
		}
		if env.now().After(deadline) {
			return nil, errors.Join(fmt.Errorf("writes did not pause within %s: %s", env.readyTimeout(), strings.Join(busy, "; ")),
				w.resume(ctx, env, w.active))
		}
		if err := env.sleep(ctx, 300*time.Millisecond); err != nil {
			return nil, errors.Join(err, w.resume(ctx, env, w.active))
		}
	}
}

// resume makes id active ("" lets the election choose) and lets every ZKFC
// compete again. It runs to its end even when ctx is cancelled (Ctrl-C while
// writes are paused): stopping half way would leave the nameservice with no
// active NameNode, and with manual failover nothing would bring one back.
// It is bounded by its own timeout instead.
func (w *writersPaused) resume(ctx context.Context, env *Env, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*env.readyTimeout()+30*time.Second)
	defer cancel()
	err := w.giveBack(ctx, env, id)
	switch {
	case err == nil:
		return nil
	case w.ns.AutomaticFailover:
		return fmt.Errorf("writes of nameservice %s stay paused until the ZKFCs rejoin the election by themselves "+
			"(they left it for a bounded time) or apply runs again: %w", w.ns.Name, err)
	default:
		return fmt.Errorf("writes of nameservice %s stay paused, no NameNode of it may be active: run apply again "+
			"or `hactl runtime haadmin -ns %s -transitionToActive %s`: %w", w.ns.Name, w.ns.Name, id, err)
	}
}

func (w *writersPaused) giveBack(ctx context.Context, env *Env, id string) error {
	c := env.Cluster
	ns := w.ns
	if !ns.AutomaticFailover {
		if id == "" {
			return nil
		}
		p := env.paths(w.host)
		if err := env.wetArgs(ctx, w.host, p.Binary, "runtime", "haadmin", "--conf", p.ConfDir, "-ns", ns.Name, "-transitionToActive", id); err != nil {
			return fmt.Errorf("make %s active: %w", id, err)
		}
		return waitActive(ctx, env, ns.Name, id)
	}
	client, err := env.client(ctx)
	if err != nil {
		return err
	}
	rejoin := func(nnID string) error {
		zkfc, err := ZKFCAddr(c, ns.Name, nnID)
		if err != nil {
			return err
		}
		url := "http://" + zkfc + "/zkfc/cedeActive?millis=0"
		return env.Guard.Wet(w.host, "POST "+url+" ("+nnID+" rejoins the election)", func() error {
			return getJSON(ctx, client, http.MethodPost, url, nil)
		})
	}
	var errs []error
	if id != "" {
		// Alone in the election, it wins it.
		if err := rejoin(id); err != nil {
			errs = append(errs, fmt.Errorf("let %s rejoin the election: %w", id, err))
		} else if err := waitActive(ctx, env, ns.Name, id); err != nil {
			errs = append(errs, err)
		}
	}
	for _, nn := range ns.NameNodes {
		if nn.ID != id {
			if err := rejoin(nn.ID); err != nil {
				errs = append(errs, fmt.Errorf("let %s rejoin the election: %w", nn.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}
