package qjm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/rpc"
)

// channel carries calls to one JournalNode (rpc.Client in production, an
// in-process fake with injected faults in tests).
type channel interface {
	Call(ctx context.Context, method string, req, resp any) error
	Close() error
}

// maxQueued bounds the calls waiting for one JournalNode: a JN that falls this
// far behind fails its calls at once instead of holding the writer's memory.
const maxQueued = 512

var errQueueFull = errors.New("too many calls queued for this journalnode")

// logger is the client's view of one JournalNode (Hadoop's IPCLoggerChannel):
// its calls run one at a time, in the order they were submitted, so the JN
// sees increasing IPC serial numbers and contiguous batches.
type logger struct {
	addr  string
	ch    channel
	queue chan func()
	stop  chan struct{}
	wg    sync.WaitGroup

	mu        sync.Mutex
	epoch     int64
	serial    int64
	outOfSync bool // set when a journal call failed; cleared by the next startLogSegment
	httpAddr  string
	lastAcked int64
}

func newLogger(addr string, ch channel) *logger {
	l := &logger{addr: addr, ch: ch, queue: make(chan func(), maxQueued), stop: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			select {
			case f := <-l.queue:
				f()
			case <-l.stop:
				return
			}
		}
	}()
	return l
}

func (l *logger) close() {
	close(l.stop)
	l.ch.Close()
	l.wg.Wait()
}

// req builds the RequestInfo of the next epoch-carrying call; it runs on the
// logger's goroutine so serials follow the order calls reach the JN.
func (l *logger) req(jid string, committed int64) rpc.RequestInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.serial++
	return rpc.RequestInfo{JournalID: jid, Epoch: l.epoch, IPCSerial: l.serial, CommittedTxid: committed}
}

func (l *logger) setEpoch(e int64) {
	l.mu.Lock()
	l.epoch, l.serial, l.outOfSync = e, 0, false
	l.mu.Unlock()
}

type result struct {
	idx int
	val any
	err error
}

// quorum runs fn on every logger and waits until need of them succeed, until
// so many failed that need cannot be reached, or until timeout. Calls keep
// running on the slow loggers after it returns (their results are dropped).
func quorum(ctx context.Context, loggers []*logger, need int, timeout time.Duration, what string,
	fn func(ctx context.Context, i int, l *logger) (any, error)) (map[int]any, error) {
	return quorumGrace(ctx, loggers, need, timeout, 0, what, fn)
}

// quorumGrace is quorum that, once need succeeded, waits up to grace more for
// the other answers (reads see the freshest JNs without waiting on a hung one).
func quorumGrace(ctx context.Context, loggers []*logger, need int, timeout, grace time.Duration, what string,
	fn func(ctx context.Context, i int, l *logger) (any, error)) (map[int]any, error) {
	return submit(loggers, timeout, fn).wait(ctx, need, grace, what)
}

// pendingCall is a call queued on every logger, not yet waited for.
type pendingCall struct {
	loggers []*logger
	timeout time.Duration
	res     chan result
}

// submit queues fn on every logger without waiting; the order of submits is
// the order each JN sees the calls.
func submit(loggers []*logger, timeout time.Duration, fn func(ctx context.Context, i int, l *logger) (any, error)) *pendingCall {
	res := make(chan result, len(loggers))
	for i, l := range loggers {
		call := func() {
			cctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			v, err := fn(cctx, i, l)
			res <- result{i, v, err}
		}
		select {
		case l.queue <- call:
		default:
			res <- result{i, nil, errQueueFull}
		}
	}
	return &pendingCall{loggers, timeout, res}
}

// wait collects answers until need succeeded (then up to grace more), need
// became impossible, or the timeout passed.
func (p *pendingCall) wait(ctx context.Context, need int, grace time.Duration, what string) (map[int]any, error) {
	return p.waitUntil(ctx, need, grace, what, nil)
}

// waitUntil is wait that ends the grace early once enough (when not nil)
// holds for the answers so far: more answers could not change the result.
func (p *pendingCall) waitUntil(ctx context.Context, need int, grace time.Duration, what string, enough func(ok map[int]any) bool) (map[int]any, error) {
	loggers, timeout, res := p.loggers, p.timeout, p.res
	ok := map[int]any{}
	var errs []error
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(ok) < need {
		if len(loggers)-len(errs) < need {
			return ok, noQuorum(what, loggers, need, errs)
		}
		select {
		case r := <-res:
			if r.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", loggers[r.idx].addr, r.err))
			} else {
				ok[r.idx] = r.val
			}
		case <-timer.C:
			errs = append(errs, fmt.Errorf("timed out after %s waiting for %d of %d journalnodes", timeout, need, len(loggers)))
			return ok, noQuorum(what, loggers, need, errs)
		case <-ctx.Done():
			return ok, fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
	if grace > 0 {
		g := time.NewTimer(grace)
		defer g.Stop()
		for len(ok)+len(errs) < len(loggers) && (enough == nil || !enough(ok)) {
			select {
			case r := <-res:
				if r.err != nil {
					errs = append(errs, r.err)
				} else {
					ok[r.idx] = r.val
				}
			case <-g.C:
				return ok, nil
			case <-ctx.Done():
				return ok, nil
			}
		}
	}
	return ok, nil
}

// drain waits until every call queued so far on every logger has run.
// A closed logger never runs its queue, so the wait is bounded.
func drain(loggers []*logger) {
	var wg sync.WaitGroup
	for _, l := range loggers {
		wg.Add(1)
		select {
		case l.queue <- wg.Done:
		case <-l.stop:
			wg.Done()
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

func noQuorum(what string, loggers []*logger, need int, errs []error) error {
	return fmt.Errorf("%s: %w (%d of %d needed): %w", what, ErrNoQuorum, need, len(loggers), multiErr(errs))
}

// multiErr lists per-JournalNode failures on one line; errors.Is sees each.
type multiErr []error

func (m multiErr) Error() string {
	s := ""
	for i, e := range m {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

func (m multiErr) Unwrap() []error { return m }

// callAll runs fn on every logger and waits for all answers (or the
// timeout), returning the successes and the failures.
func callAll(ctx context.Context, loggers []*logger, timeout time.Duration,
	fn func(ctx context.Context, i int, l *logger) (any, error)) (map[int]any, []error) {
	res, err := quorum(ctx, loggers, len(loggers), timeout, "", func(ctx context.Context, i int, l *logger) (any, error) {
		v, err := fn(ctx, i, l)
		return result{i, v, err}, nil // every answer counts, success or not
	})
	ok := map[int]any{}
	var errs []error
	for _, v := range res {
		r := v.(result)
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", loggers[r.idx].addr, r.err))
		} else {
			ok[r.idx] = r.val
		}
	}
	if err != nil {
		errs = append(errs, err)
	}
	return ok, errs
}
