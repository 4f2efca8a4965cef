// Package apply executes a plan's steps against the hosts, every mutation
// through one dry-run guard, under a cluster lock.
package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// Binary is the hactl executable apply installs on the hosts.
type Binary struct {
	Path    string // local file uploaded by install-runtime
	SHA256  string
	Version string
}

// Guard is the one choke point every remote mutation passes through, so a
// dry run is exact: with DryRun set, Wet records what it would do and runs
// nothing.
type Guard struct {
	DryRun bool

	mu      sync.Mutex
	pending []string // descriptions recorded since the last Drain
	total   int      // mutations run (or, in a dry run, skipped)
}

// Wet runs fn, the mutation described by description on host, unless this is
// a dry run.
func (g *Guard) Wet(host, description string, fn func() error) error {
	g.mu.Lock()
	g.total++
	g.pending = append(g.pending, host+": "+description)
	dry := g.DryRun
	g.mu.Unlock()
	if dry {
		return nil
	}
	return fn()
}

// Drain returns the mutations recorded since the last Drain.
func (g *Guard) Drain() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.pending
	g.pending = nil
	return out
}

// Count is how many mutations passed through the guard.
func (g *Guard) Count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// Env is what steps run against.
type Env struct {
	Cluster *schema.Cluster
	Desired *planner.Desired
	Hosts   map[string]targets.Host
	Guard   *Guard
	Binary  Binary
	Out     io.Writer

	// Ready waits until a started daemon serves (default: HTTP/TCP checks
	// from this machine, see ready.go); tests replace it.
	Ready func(ctx context.Context, env *Env, host, daemon string) error
	// ZooKeeperServing waits until a restarted ZooKeeper server is back in
	// the quorum (DefaultZooKeeperServing); nil skips the wait (tests).
	ZooKeeperServing func(ctx context.Context, env *Env, host string) error
	// JournalInSync waits until a restarted JournalNode holds its peers'
	// edits again (DefaultJournalInSync); nil skips the wait (tests).
	JournalInSync func(ctx context.Context, env *Env, host string) error
	// Processes scans a host's hactl processes and listening sockets
	// (default targets.ScanProcesses); tests replace it.
	Processes func(ctx context.Context, env *Env, host string) (*targets.ProcScan, error)
	// HTTP is the client for the daemons' signed HTTP APIs (failover, HA status).
	HTTP *http.Client
	// Dial opens every connection hactl makes to a daemon (readiness
	// checks, HA admin, JournalNode sync, ZooKeeper): the target's dialer,
	// so a cluster reachable only through SSH (a bastion, a private VPC)
	// plans and applies. nil dials directly.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Now and Sleep are the clock (injected so tests never sleep).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxParallel bounds how many hosts run host-local steps at once
	// (default 32; 1 runs everything sequentially).
	MaxParallel int
	// ReadyTimeout bounds each wait for a daemon (default 90 s).
	ReadyTimeout time.Duration
	// DecommissionTimeout bounds the wait until the NameNodes hold a
	// decommissioned DataNode's replicas elsewhere (default 2 h).
	DecommissionTimeout time.Duration
	// NewSecret makes the cluster secret when no host has one (crypto/rand).
	NewSecret func() ([]byte, error)
	// JournalCall makes journal RPC calls (sync-journal); nil: signed RPC
	// with the cluster secret.
	JournalCall JournalCaller

	secretOnce sync.Mutex
	secret     []byte
	machines   machineLocks
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (e *Env) readyTimeout() time.Duration {
	if e.ReadyTimeout > 0 {
		return e.ReadyTimeout
	}
	return 90 * time.Second
}

func (e *Env) host(name string) (targets.Host, error) {
	h := e.Hosts[name]
	if h == nil {
		return nil, fmt.Errorf("no connection to host %s", name)
	}
	return h, nil
}

// run runs a read-only command and fails on a non-zero exit.
func (e *Env) run(ctx context.Context, host string, cmd targets.Command) (targets.Result, error) {
	h, err := e.host(host)
	if err != nil {
		return targets.Result{}, err
	}
	cmd.Sudo = true
	res, err := h.Run(ctx, cmd)
	return targets.Check(host, cmd, res, err)
}

// wetRun runs a mutating command through the guard.
func (e *Env) wetRun(ctx context.Context, host, description string, cmd targets.Command) error {
	return e.Guard.Wet(host, description, func() error {
		_, err := e.run(ctx, host, cmd)
		return err
	})
}

// wetArgs is wetRun of a plain argv, described by the argv itself.
func (e *Env) wetArgs(ctx context.Context, host string, args ...string) error {
	return e.wetRun(ctx, host, shellLine(args), targets.Command{Args: args})
}

// upload writes data to path on host through the guard, sha256-checked.
func (e *Env) upload(ctx context.Context, host, path string, data []byte, mode fs.FileMode) error {
	sum := planner.SHA256Hex(data)
	return e.Guard.Wet(host, fmt.Sprintf("upload %s (%d bytes, mode %04o, sha256 %s)", path, len(data), mode, sum[:12]), func() error {
		h, err := e.host(host)
		if err != nil {
			return err
		}
		return h.Upload(ctx, path, strings.NewReader(string(data)), mode, sum)
	})
}

func (e *Env) paths(host string) schema.HostPaths { return e.Cluster.PathsFor(host) }

// Secret returns the cluster secret: the one already on the hosts when any
// has it (kept, never replaced), else a new one from crypto/rand, made once.
// Hosts holding different secrets are an error naming them: whichever one
// won, the others' data (ZooKeeper znodes under its digest ACL) would be
// locked out, so the operator chooses.
func (e *Env) Secret(ctx context.Context) ([]byte, error) {
	e.secretOnce.Lock()
	defer e.secretOnce.Unlock()
	if e.secret != nil {
		return e.secret, nil
	}
	holders := map[string][]string{} // secret -> hosts holding it
	var found []string               // secrets in host order
	for _, h := range e.Cluster.Hosts {
		if e.Hosts[h.Name] == nil {
			continue
		}
		path := e.paths(h.Name).SecretFile
		res, err := e.run(ctx, h.Name, targets.Command{Shell: "if [ -s " + targets.ShellQuote(path) + " ]; then cat " + targets.ShellQuote(path) + "; fi"})
		if err != nil {
			continue // an unreachable host cannot hold the only copy we could use
		}
		if s := strings.TrimSpace(string(res.Stdout)); len(s) >= 16 {
			if holders[s] == nil {
				found = append(found, s)
			}
			holders[s] = append(holders[s], h.Name+":"+path)
		}
	}
	if len(found) > 1 {
		groups := make([]string, len(found))
		for i, s := range found {
			groups[i] = strings.Join(holders[s], ", ")
		}
		return nil, fmt.Errorf("hosts hold different cluster secrets (%s): keep one, copy it to the others (mode 0600) and apply again", strings.Join(groups, " | "))
	}
	if len(found) == 1 {
		e.secret = []byte(found[0])
		return e.secret, nil
	}
	gen := e.NewSecret
	if gen == nil {
		gen = func() ([]byte, error) {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return nil, err
			}
			return []byte(hex.EncodeToString(b)), nil
		}
	}
	s, err := gen()
	if err != nil {
		return nil, fmt.Errorf("generate cluster secret: %w", err)
	}
	e.secret = s
	return s, nil
}

// StepError names the step and host where an apply stopped.
type StepError struct {
	Index, Total int
	Step         *planner.Step
	Err          error
}

func (e *StepError) Error() string {
	if errors.Is(e.Err, context.Canceled) {
		return fmt.Sprintf("interrupted during step %d/%d %s on host %s: %v", e.Index, e.Total, e.Step.Title(), e.Step.Host, e.Err)
	}
	return fmt.Sprintf("step %d/%d %s on host %s failed: %v", e.Index, e.Total, e.Step.Title(), e.Step.Host, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Report is what an apply did.
type Report struct {
	Done      int
	Total     int
	Mutations int
	Elapsed   time.Duration
}

// parallelSafe: the step kind touches only its own host and no running
// service's availability (planner.StepKind.HostLocal), so consecutive runs
// of such steps execute on all hosts at once (each host's steps still in
// plan order). Restarts, stops, formats, bootstraps and failovers always run
// one at a time.
func parallelSafe(a planner.Action) bool {
	k, ok := planner.KindOf(a)
	return ok && k.HostLocal
}

// Execute runs the plan's steps in order, printing each as it runs
// ("[3/12] n2 start-journalnode ... ok (0.4s)"), and stops at the first
// failure with a *StepError. Every step is idempotent and the plan is
// recomputed from a fresh probe on the next apply, so a re-run converges.
// Runs of host-local preparation steps (parallelSafe) go to all hosts at
// once, up to env.MaxParallel; a dry run is always sequential, so that its
// listing is exact and ordered.
func Execute(ctx context.Context, env *Env, plan *planner.ClusterPlan) (rep Report, err error) {
	if env.Guard == nil {
		env.Guard = &Guard{}
	}
	x := &executor{env: env, out: env.Out, steps: plan.Steps}
	if x.out == nil {
		x.out = io.Discard
	}
	for _, s := range plan.Steps {
		x.hostW = max(x.hostW, len(s.Host))
	}
	x.numW = len(fmt.Sprint(len(plan.Steps)))
	start := env.now()
	rep.Total = len(plan.Steps)
	before := env.Guard.Count()
	defer func() {
		rep.Mutations = env.Guard.Count() - before
		rep.Elapsed = env.now().Sub(start)
	}()
	limit := env.MaxParallel
	if limit <= 0 {
		limit = 32
	}
	for i := 0; i < len(plan.Steps); {
		j := i + 1
		if !env.Guard.DryRun && limit > 1 && parallelSafe(plan.Steps[i].Action) {
			for j < len(plan.Steps) && parallelSafe(plan.Steps[j].Action) {
				j++
			}
		}
		var serr *StepError
		if j-i > 1 {
			serr = x.batch(ctx, i, j, limit)
		} else {
			serr = x.one(ctx, i, true)
		}
		rep.Done += x.takeDone()
		if serr != nil {
			return rep, serr
		}
		i = j
	}
	return rep, nil
}

type executor struct {
	env   *Env
	out   io.Writer
	steps []*planner.Step
	hostW int
	numW  int

	mu   sync.Mutex
	done int
}

func (x *executor) takeDone() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	d := x.done
	x.done = 0
	return d
}

func (x *executor) stepErr(i int, err error) *StepError {
	return &StepError{Index: i + 1, Total: len(x.steps), Step: x.steps[i], Err: err}
}

// one runs step i. Sequentially (live) the title prints before the step
// runs and the verdict after; in a batch the whole line prints at the end,
// so concurrent lines never interleave.
func (x *executor) one(ctx context.Context, i int, live bool) *StepError {
	s := x.steps[i]
	if err := ctx.Err(); err != nil {
		return x.stepErr(i, err)
	}
	r, err := New(s)
	if err != nil {
		return x.stepErr(i, err)
	}
	head := fmt.Sprintf("[%*d/%d] %-*s %s ... ", x.numW, i+1, len(x.steps), x.hostW, s.Host, r.Title())
	if live {
		fmt.Fprint(x.out, head)
	}
	env := x.env
	t0 := env.now()
	err = r.Run(ctx, env)
	el := env.now().Sub(t0)
	var verdict string
	switch {
	case err != nil:
		verdict = fmt.Sprintf("failed (%.1fs)\n", el.Seconds())
	case env.Guard.DryRun:
		verdict = "dry run\n"
	default:
		verdict = fmt.Sprintf("ok (%.1fs)\n", el.Seconds())
	}
	if live {
		did := env.Guard.Drain()
		fmt.Fprint(x.out, verdict)
		if env.Guard.DryRun {
			for _, d := range did {
				fmt.Fprintf(x.out, "      would %s\n", d)
			}
		}
	} else {
		x.mu.Lock()
		fmt.Fprint(x.out, head+verdict)
		x.mu.Unlock()
	}
	if err != nil {
		return x.stepErr(i, err)
	}
	x.mu.Lock()
	x.done++
	x.mu.Unlock()
	return nil
}

// batch runs steps [i, j) with one goroutine per host (at most limit at
// once), each host's steps in plan order; a host stops at its first failure
// and the batch reports the earliest failed step.
func (x *executor) batch(ctx context.Context, i, j, limit int) *StepError {
	var hosts []string
	byHost := map[string][]int{}
	for k := i; k < j; k++ {
		h := x.steps[k].Host
		if byHost[h] == nil {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], k)
	}
	sem := make(chan struct{}, limit)
	var (
		wg    sync.WaitGroup
		emu   sync.Mutex
		first *StepError
	)
	for _, h := range hosts {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, k := range idx {
				if err := x.one(ctx, k, false); err != nil {
					emu.Lock()
					if first == nil || err.Index < first.Index {
						first = err
					}
					emu.Unlock()
					return
				}
			}
		}(byHost[h])
	}
	wg.Wait()
	x.env.Guard.Drain()
	return first
}

func shellLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = targets.ShellQuote(a)
	}
	return strings.Join(q, " ")
}
