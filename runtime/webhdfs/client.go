package webhdfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// Hadoop's client failover keys and their defaults (hdfs-default.xml).
const (
	KeyFailoverMaxAttempts = "dfs.client.failover.max.attempts"
	KeyFailoverSleepBase   = "dfs.client.failover.sleep.base.millis"
	KeyFailoverSleepMax    = "dfs.client.failover.sleep.max.millis"

	// KeyRetryMaxAttempts bounds the retries of a call the NameNode
	// answered with a RetriableException (Hadoop's
	// dfs.client.retry.max.attempts, 10), each after the failover backoff.
	KeyRetryMaxAttempts     = "dfs.client.retry.max.attempts"
	DefaultRetryMaxAttempts = 10

	DefaultFailoverMaxAttempts = 15
	DefaultFailoverSleepBase   = 500 * time.Millisecond
	DefaultFailoverSleepMax    = 15 * time.Second
)

// ClientOptions tunes a Client; zero values take the defaults above.
type ClientOptions struct {
	User         string       // user.name sent with every call; empty sends none
	HTTPClient   *http.Client // default: NewTransport(), no automatic redirects
	MaxFailovers int          // dfs.client.failover.max.attempts
	MaxRetries   int          // dfs.client.retry.max.attempts: RetriableException retries
	SleepBase    time.Duration
	SleepMax     time.Duration
	// Sleep waits between failovers; tests replace it to avoid real sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf, when set, is told of each failover, as Hadoop's RetryInvocationHandler logs them.
	Logf func(format string, args ...any)
	// CacheDir, when set, holds a small file per nameservice and NameNode
	// list naming the NameNode that last answered as active, so that a new
	// process starts there instead of rediscovering it. The file is only a
	// hint: the call itself verifies it, and a standby or unreachable
	// NameNode there falls through to hedged discovery.
	CacheDir string
}

// Client talks WebHDFS to the NameNodes of one nameservice. It starts with
// the NameNode that last answered as active (remembered for the process and,
// with CacheDir, across processes); when that one is not known or fails with
// a StandbyException or a connection failure, it asks every NameNode not yet
// tried at once, as Hadoop's RequestHedgingProxyProvider does, and moves to
// the first that answers as active. It sleeps, with Hadoop's exponential
// backoff, only after every NameNode was tried in a round.
type Client struct {
	nameservice string
	addrs       []string // host:port of each NameNode's HTTP server, config order
	user        string
	hc          *http.Client
	maxFail     int
	maxRetries  int
	base, max   time.Duration
	sleep       func(ctx context.Context, d time.Duration) error
	logf        func(format string, args ...any)
	active      atomic.Int32 // index into addrs of the last NameNode that served
	known       atomic.Bool  // active was learned (from a call or the cache), not assumed
	cacheFile   string       // "" without CacheDir or with a single NameNode
}

// NewTransport returns an http.Transport tuned for many concurrent calls to
// few NameNodes: keep-alive with enough idle connections per host that 64+
// concurrent callers never redial.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil, // NameNodes are reached directly, never through HTTP_PROXY
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// NewClient returns a client for the NameNodes at addrs (host:port of their
// HTTP servers, dfs.namenode.http-address), tried in order.
func NewClient(nameservice string, addrs []string, opts ClientOptions) (*Client, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("webhdfs client for %s: no NameNode addresses", nameservice)
	}
	c := &Client{
		nameservice: nameservice, addrs: append([]string(nil), addrs...), user: opts.User,
		maxFail: opts.MaxFailovers, maxRetries: opts.MaxRetries, base: opts.SleepBase, max: opts.SleepMax, sleep: opts.Sleep, logf: opts.Logf,
	}
	if c.maxFail <= 0 {
		c.maxFail = DefaultFailoverMaxAttempts
	}
	if c.maxRetries <= 0 {
		c.maxRetries = DefaultRetryMaxAttempts
	}
	if c.base <= 0 {
		c.base = DefaultFailoverSleepBase
	}
	if c.max <= 0 {
		c.max = DefaultFailoverSleepMax
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: NewTransport()}
	}
	// Redirects are followed by hand: CREATE and APPEND must send their body
	// only to the Location of the first answer, as Hadoop's client does.
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &cp
	if opts.CacheDir != "" && len(c.addrs) > 1 {
		c.cacheFile = filepath.Join(opts.CacheDir, activeCacheName(nameservice, c.addrs))
		if i := c.readCache(); i >= 0 {
			c.active.Store(int32(i))
			c.known.Store(true)
		}
	} else if len(c.addrs) == 1 {
		c.known.Store(true) // nothing to discover
	}
	return c, nil
}

// NameNodeHTTPAddrs reads a nameservice's NameNode IDs (dfs.ha.namenodes.<ns>)
// and their HTTP addresses (dfs.namenode.http-address.<ns>.<nn>), in order.
func NameNodeHTTPAddrs(conf *hadoopconf.Config, nameservice string) (ids, addrs []string, err error) {
	ids = conf.Strings("dfs.ha.namenodes." + nameservice)
	if len(ids) == 0 {
		// A non-HA nameservice: one NameNode under the plain key.
		if a, ok := conf.Lookup("dfs.namenode.http-address." + nameservice); ok && a != "" {
			return []string{""}, []string{a}, nil
		}
		return nil, nil, fmt.Errorf("nameservice %q: dfs.ha.namenodes.%s is not set", nameservice, nameservice)
	}
	for _, id := range ids {
		key := "dfs.namenode.http-address." + nameservice + "." + id
		a, ok := conf.Lookup(key)
		if !ok || a == "" {
			return nil, nil, fmt.Errorf("nameservice %q: %s is not set", nameservice, key)
		}
		addrs = append(addrs, a)
	}
	return ids, addrs, nil
}

// NewClientFromConfig builds a client from Hadoop configuration: the
// nameservice's NameNodes and the dfs.client.failover.* keys (options given
// explicitly win over the configuration).
func NewClientFromConfig(conf *hadoopconf.Config, nameservice string, opts ClientOptions) (*Client, error) {
	_, addrs, err := NameNodeHTTPAddrs(conf, nameservice)
	if err != nil {
		return nil, err
	}
	if opts.MaxFailovers == 0 {
		n, err := conf.Int(KeyFailoverMaxAttempts, DefaultFailoverMaxAttempts)
		if err != nil {
			return nil, err
		}
		opts.MaxFailovers = int(n)
	}
	if opts.MaxRetries == 0 {
		n, err := conf.Int(KeyRetryMaxAttempts, DefaultRetryMaxAttempts)
		if err != nil {
			return nil, err
		}
		opts.MaxRetries = int(n)
	}
	if opts.SleepBase == 0 {
		if opts.SleepBase, err = conf.Millis(KeyFailoverSleepBase, DefaultFailoverSleepBase); err != nil {
			return nil, err
		}
	}
	if opts.SleepMax == 0 {
		if opts.SleepMax, err = conf.Millis(KeyFailoverSleepMax, DefaultFailoverSleepMax); err != nil {
			return nil, err
		}
	}
	return NewClient(nameservice, addrs, opts)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
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

// failoverSleep is Hadoop's RetryPolicies.failoverOnNetworkException delay,
// counted in rounds over all NameNodes rather than single failovers (a
// failover to a NameNode not yet tried costs no sleep): base·2^(round-1)
// capped at max, times a random factor in [0.5, 1.5).
func (c *Client) failoverSleep(round int) time.Duration {
	if round <= 0 {
		return 0
	}
	d := c.max
	if round < 30 {
		if e := c.base << (round - 1); e > 0 && e < c.max {
			d = e
		}
	}
	return time.Duration(float64(d) * (rand.Float64() + 0.5))
}

// call is one WebHDFS operation.
type call struct {
	method  string
	op      string
	path    string
	params  url.Values
	body    []byte // CREATE/APPEND data, sent to the redirect's Location
	twoStep bool   // CREATE/APPEND: the first request carries no body
	// stream, when set, is the data of a streamed CREATE/APPEND, sent once
	// to the redirect's Location (a DataNode, or the NameNode itself in
	// inline mode); streamSize is its length, -1 unknown (chunked).
	stream     io.Reader
	streamSize int64
	started    *bool // set once stream was read from: the call can no longer be repeated
	keepBody   bool  // out takes the response body: attempt does not drain it
	idempotent bool  // safe to repeat on another NameNode after an ambiguous failure
	out        func(*http.Response) error
}

// errConnect marks a failure to reach a NameNode at all: always safe to fail over.
var errConnect = errors.New("cannot connect")

func (c *Client) do(ctx context.Context, cl call) error {
	idx := int(c.active.Load())
	hedged := false
	if !c.known.Load() {
		hedged = true
		if w := c.discover(ctx, nil); w >= 0 {
			idx = w
		}
	}
	tried := make([]bool, len(c.addrs))
	retries := 0
	for failovers, round := 0, 0; ; failovers++ {
		err := c.attempt(ctx, c.addrs[idx], cl)
		// RetriableException: this NameNode will take the call soon (it is
		// leaving start-up safe mode); try it again after Hadoop's backoff.
		for err != nil && errors.Is(err, ErrRetriable) && retries < c.maxRetries && ctx.Err() == nil && (cl.started == nil || !*cl.started) {
			retries++
			d := c.failoverSleep(retries)
			if c.logf != nil {
				c.logf("webhdfs %s %s on %s: %v; retry %d of %d after sleeping %v", cl.op, cl.path, c.addrs[idx], err, retries, c.maxRetries, d.Round(time.Millisecond))
			}
			if serr := c.sleep(ctx, d); serr != nil {
				return fmt.Errorf("webhdfs %s %s: %w", cl.op, cl.path, serr)
			}
			err = c.attempt(ctx, c.addrs[idx], cl)
		}
		if err == nil {
			c.learned(idx)
			return nil
		}
		if ctx.Err() != nil || !shouldFailover(err, cl.idempotent) || (cl.started != nil && *cl.started) {
			return fmt.Errorf("webhdfs %s %s on %s: %w", cl.op, cl.path, c.addrs[idx], err)
		}
		if failovers >= c.maxFail {
			return fmt.Errorf("webhdfs %s %s: nameservice %s: giving up after %d failovers: %w", cl.op, cl.path, c.nameservice, failovers, err)
		}
		tried[idx] = true
		next, d := -1, time.Duration(0)
		if !hedged {
			// The remembered active failed: ask all the others at once
			// rather than walking them in order.
			hedged = true
			next = c.discover(ctx, tried)
		}
		if next < 0 {
			next = nextUntried(tried, idx)
		}
		if next < 0 {
			// Every NameNode was tried in this round: only now back off.
			round++
			clear(tried)
			next = (idx + 1) % len(c.addrs)
			d = c.failoverSleep(round)
		}
		if c.logf != nil {
			c.logf("webhdfs %s %s on %s: %v; failover %d of %d to %s after sleeping %v",
				cl.op, cl.path, c.addrs[idx], err, failovers+1, c.maxFail, c.addrs[next], d.Round(time.Millisecond))
		}
		if d > 0 {
			w, err := c.backoff(ctx, d)
			if err != nil {
				return fmt.Errorf("webhdfs %s %s: %w", cl.op, cl.path, err)
			}
			if w >= 0 {
				next = w
			}
		} else if err := ctx.Err(); err != nil {
			return fmt.Errorf("webhdfs %s %s: %w", cl.op, cl.path, err)
		}
		idx = next
	}
}

// nextUntried is the first NameNode after idx, in configuration order, not
// yet tried in this round; -1 when all were.
func nextUntried(tried []bool, idx int) int {
	for k := 1; k < len(tried); k++ {
		if j := (idx + k) % len(tried); !tried[j] {
			return j
		}
	}
	return -1
}

// learned records that addrs[idx] served a call as the active NameNode.
func (c *Client) learned(idx int) {
	prev := int(c.active.Swap(int32(idx)))
	wasKnown := c.known.Swap(true)
	if c.cacheFile != "" && (prev != idx || !wasKnown) {
		c.writeCache(idx)
	}
}

// discover asks every NameNode not in skip at once whether it is active (a
// GETFILESTATUS of /, which a standby refuses with a StandbyException) and
// returns the index of the first that answers anything but that, cancelling
// the other requests; -1 when none did (all standby, unreachable, or at most
// one candidate, where asking would only cost a round trip).
func (c *Client) discover(ctx context.Context, skip []bool) int {
	var cand []int
	for i := range c.addrs {
		if skip == nil || !skip[i] {
			cand = append(cand, i)
		}
	}
	if len(cand) < 2 {
		if len(cand) == 1 && skip == nil {
			return cand[0]
		}
		return -1
	}
	// A NameNode that accepts connections but never answers (stopped, not
	// dead) must not hold the call forever: past discoverTimeout the caller
	// falls back to trying the NameNodes in turn.
	hctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	answers := make(chan int, len(cand))
	probe := call{method: http.MethodGet, op: "GETFILESTATUS", path: "/", idempotent: true}
	for _, i := range cand {
		go func() {
			err := c.attempt(hctx, c.addrs[i], probe)
			var re *RemoteException
			if err == nil || (errors.As(err, &re) && !errors.Is(err, ErrStandby)) {
				answers <- i // an active NameNode's answer, even a refusal
				return
			}
			answers <- -1
		}()
	}
	for range cand {
		select {
		case i := <-answers:
			if i >= 0 {
				return i
			}
		case <-hctx.Done():
			return -1
		}
	}
	return -1
}

// discoverTimeout bounds one hedged discovery.
const discoverTimeout = 3 * time.Second

// backoffProbeInterval is how often a backoff asks the NameNodes whether one
// has become active. Every NameNode answering standby is what a failover in
// progress looks like; waiting out Hadoop's whole backoff (500 ms, 1 s, 2 s,
// … jittered) after the new active is up is what made a write after
// kill -9 take seconds. A probe is one GETFILESTATUS of / per NameNode.
const backoffProbeInterval = 50 * time.Millisecond

// backoff sleeps d between two rounds over the NameNodes, ending early when
// a hedged probe finds an active one, whose index it returns (-1 when the
// whole backoff passed). The sleep keeps its full length as the budget, so
// dfs.client.failover.max.attempts still gives up after as long as Hadoop's
// client would when no NameNode becomes active.
func (c *Client) backoff(ctx context.Context, d time.Duration) (int, error) {
	if len(c.addrs) < 2 {
		return -1, c.sleep(ctx, d) // nobody else to become active
	}
	sctx, cancel := context.WithCancel(ctx)
	found := make(chan int, 1)
	go func() {
		defer close(found)
		t := time.NewTimer(backoffProbeInterval)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			if w := c.discover(sctx, nil); w >= 0 && sctx.Err() == nil {
				found <- w
				cancel() // wakes the sleep
				return
			}
			t.Reset(backoffProbeInterval)
		}
	}()
	err := c.sleep(sctx, d)
	cancel()
	if w, ok := <-found; ok {
		return w, nil
	}
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return -1, err
	}
	return -1, nil
}

// activeCacheName names the cache file of one nameservice and NameNode list:
// the same nameservice name on another cluster must not share the hint.
func activeCacheName(nameservice string, addrs []string) string {
	h := sha256.Sum256([]byte(nameservice + "\x00" + strings.Join(addrs, "\x00")))
	safe := strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, nameservice)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	return "active-" + safe + "-" + hex.EncodeToString(h[:8])
}

// readCache returns the index of the cached active, -1 when there is none or
// it names no NameNode of this list (a corrupt or foreign file is ignored).
func (c *Client) readCache() int {
	b, err := os.ReadFile(c.cacheFile)
	if err != nil {
		return -1
	}
	addr := strings.TrimSpace(string(b))
	for i, a := range c.addrs {
		if a == addr {
			return i
		}
	}
	return -1
}

// writeCache replaces the cache file atomically, so that a concurrent hactl
// never reads half a line. Failing to write only costs the next process a
// discovery, so it is logged, not returned.
func (c *Client) writeCache(idx int) {
	err := func() error {
		if err := os.MkdirAll(filepath.Dir(c.cacheFile), 0o700); err != nil {
			return err
		}
		f, err := os.CreateTemp(filepath.Dir(c.cacheFile), ".active-*")
		if err != nil {
			return err
		}
		_, werr := f.WriteString(c.addrs[idx] + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Rename(f.Name(), c.cacheFile)
		}
		if werr != nil {
			_ = os.Remove(f.Name())
		}
		return werr
	}()
	if err != nil && c.logf != nil {
		c.logf("webhdfs: remember active NameNode of %s in %s: %v", c.nameservice, c.cacheFile, err)
	}
}

func shouldFailover(err error, idempotent bool) bool {
	if errors.Is(err, ErrStandby) || errors.Is(err, errConnect) {
		return true
	}
	var re *RemoteException
	if errors.As(err, &re) {
		return false // the NameNode answered: its answer stands
	}
	// The request may have reached the NameNode (reset, timeout): repeat it
	// elsewhere only when doing it twice is harmless, as Hadoop's @Idempotent.
	return idempotent
}

func (c *Client) url(addr string, cl call) string {
	// Built by hand: url.Values.Encode sorts and allocates, and this runs per call.
	var b strings.Builder
	b.Grow(64 + len(addr) + len(cl.path))
	b.WriteString("http://")
	b.WriteString(addr)
	b.WriteString((&url.URL{Path: PathPrefix + cl.path}).EscapedPath())
	b.WriteString("?op=")
	b.WriteString(cl.op)
	if c.user != "" {
		b.WriteString("&user.name=")
		b.WriteString(url.QueryEscape(c.user))
	}
	for k, vs := range cl.params {
		for _, v := range vs {
			b.WriteByte('&')
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

func (c *Client) send(ctx context.Context, method, u string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return c.sendReader(ctx, method, u, rd, int64(len(body)))
}

// sendReader sends a request with body rd of size bytes (-1: unknown,
// sent chunked; rd nil: no body).
func (c *Client) sendReader(ctx context.Context, method, u string, rd io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
		if _, rewindable := rd.(*bytes.Reader); !rewindable {
			req.ContentLength = size
			if size == 0 {
				req.Body = http.NoBody
			}
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w: %w", errConnect, err)
		}
		return nil, err
	}
	return resp, nil
}

// maxExcluded bounds how many unreachable DataNodes one call goes back to
// the NameNode about before it gives up.
const maxExcluded = 8

// attempt runs cl against one NameNode, following at most a few redirects.
// A DataNode the NameNode redirects to that cannot be reached is named in
// excludedatanodes and the NameNode asked again (Hadoop's
// WebHdfsFileSystem.runWithRetry), as long as no byte of a streamed body
// was read: the NameNode then names another replica or DataNode.
func (c *Client) attempt(ctx context.Context, addr string, cl call) error {
	first := c.url(addr, cl)
	u := first
	var body []byte
	if !cl.twoStep {
		body = cl.body
	}
	var excluded []string
	streaming := false
	for hops := 0; ; hops++ {
		var resp *http.Response
		var err error
		if streaming {
			resp, err = c.sendReader(ctx, cl.method, u, &startedReader{r: cl.stream, started: cl.started}, cl.streamSize)
		} else {
			resp, err = c.send(ctx, cl.method, u, body)
		}
		if err != nil {
			dn := hostOf(u)
			if u == first || dn == addr || !errors.Is(err, errConnect) || (cl.started != nil && *cl.started) ||
				len(excluded) >= maxExcluded || ctx.Err() != nil {
				return err
			}
			// The NameNode answered but its DataNode is gone (its host
			// died and it is not declared dead yet): ask again without it.
			if c.logf != nil {
				c.logf("webhdfs %s %s: datanode %s: %v; asking %s again excluding it", cl.op, cl.path, dn, err, addr)
			}
			excluded = append(excluded, dn)
			first = withExcluded(c.url(addr, cl), excluded)
			u, hops, streaming = first, 0, false
			if !cl.twoStep {
				body = cl.body
			} else {
				body = nil
			}
			continue
		}
		if resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusMovedPermanently {
			loc := resp.Header.Get("Location")
			drain(resp)
			if loc == "" || hops >= 3 || streaming {
				return fmt.Errorf("bad redirect (%d, Location %q)", resp.StatusCode, loc)
			}
			u, body = loc, cl.body
			if cl.stream != nil {
				streaming = true
				continue
			}
			if cl.twoStep && body == nil {
				body = []byte{} // send an explicit empty body
			}
			continue
		}
		if resp.StatusCode >= 300 {
			defer drain(resp)
			return decodeError(resp)
		}
		if cl.out == nil {
			drain(resp)
			return nil
		}
		err = cl.out(resp)
		if err != nil || !cl.keepBody {
			drain(resp)
		}
		return err
	}
}

// hostOf is the host:port of URL u ("" when it does not parse).
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

// withExcluded adds excludedatanodes (a comma list of host:port) to u.
func withExcluded(u string, excluded []string) string {
	if len(excluded) == 0 {
		return u
	}
	return u + "&excludedatanodes=" + url.QueryEscape(strings.Join(excluded, ","))
}

// startedReader records that the stream was read from: from then on the
// call cannot be repeated on another NameNode (the bytes are gone).
type startedReader struct {
	r       io.Reader
	started *bool
}

func (s *startedReader) Read(p []byte) (int, error) {
	*s.started = true
	return s.r.Read(p)
}

func drain(resp *http.Response) {
	// Reading to EOF lets the connection go back to the keep-alive pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // best effort: the status alone still says it failed
	var env struct {
		RemoteException *RemoteException `json:"RemoteException"`
	}
	if json.Unmarshal(b, &env) == nil && env.RemoteException != nil && env.RemoteException.Exception != "" {
		env.RemoteException.StatusCode = resp.StatusCode
		return env.RemoteException
	}
	msg := string(bytes.TrimSpace(b))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &RemoteException{Exception: "HTTPException", Message: fmt.Sprintf("HTTP %s: %s", resp.Status, msg), StatusCode: resp.StatusCode}
}

func decodeJSON(v any) func(*http.Response) error {
	return func(resp *http.Response) error {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			return fmt.Errorf("decode %s answer: %w", resp.Request.URL.Query().Get("op"), err)
		}
		return nil
	}
}

func (c *Client) boolCall(ctx context.Context, cl call) (bool, error) {
	var out struct {
		Boolean bool `json:"boolean"`
	}
	cl.out = decodeJSON(&out)
	err := c.do(ctx, cl)
	return out.Boolean, err
}

// Mkdirs creates path and its missing parents (MKDIRS); perm 0 leaves the
// mode to the server (755).
func (c *Client) Mkdirs(ctx context.Context, path string, perm fs.FileMode) (bool, error) {
	p := url.Values{}
	if perm != 0 {
		p.Set("permission", PermissionString(perm))
	}
	return c.boolCall(ctx, call{method: http.MethodPut, op: "MKDIRS", path: path, params: p, idempotent: true})
}

// CreateOptions are CREATE's optional parameters; zero values leave them to the server.
type CreateOptions struct {
	Overwrite   bool
	Permission  fs.FileMode // 0: the server's default (644)
	Replication int16
	BlockSize   int64
}

// Create writes data as a new file at path (two-step CREATE).
func (c *Client) Create(ctx context.Context, path string, data []byte, o CreateOptions) error {
	p := url.Values{"overwrite": {strconv.FormatBool(o.Overwrite)}}
	if o.Permission != 0 {
		p.Set("permission", PermissionString(o.Permission))
	}
	if o.Replication > 0 {
		p.Set("replication", strconv.Itoa(int(o.Replication)))
	}
	if o.BlockSize > 0 {
		p.Set("blocksize", strconv.FormatInt(o.BlockSize, 10))
	}
	if data == nil {
		data = []byte{}
	}
	return c.do(ctx, call{method: http.MethodPut, op: "CREATE", path: path, params: p, body: data, twoStep: true})
}

// Append adds data to the end of the file at path (two-step APPEND).
func (c *Client) Append(ctx context.Context, path string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	return c.do(ctx, call{method: http.MethodPost, op: "APPEND", path: path, body: data, twoStep: true})
}

// CreateFrom writes a new file at path from r, streamed to the Location
// the NameNode redirects to (a DataNode, which writes it through the block
// pipeline; the NameNode itself when it stores files inline) without
// holding it in memory. size is r's length, -1 when unknown (sent
// chunked). The call fails over between NameNodes only until the first
// byte of r was read.
func (c *Client) CreateFrom(ctx context.Context, path string, r io.Reader, size int64, o CreateOptions) error {
	p := url.Values{"overwrite": {strconv.FormatBool(o.Overwrite)}}
	if o.Permission != 0 {
		p.Set("permission", PermissionString(o.Permission))
	}
	if o.Replication > 0 {
		p.Set("replication", strconv.Itoa(int(o.Replication)))
	}
	if o.BlockSize > 0 {
		p.Set("blocksize", strconv.FormatInt(o.BlockSize, 10))
	}
	started := false
	return c.do(ctx, call{method: http.MethodPut, op: "CREATE", path: path, params: p, twoStep: true,
		stream: r, streamSize: size, started: &started})
}

// AppendFrom adds r's bytes to the end of the file at path, streamed as
// CreateFrom.
func (c *Client) AppendFrom(ctx context.Context, path string, r io.Reader, size int64) error {
	started := false
	return c.do(ctx, call{method: http.MethodPost, op: "APPEND", path: path, twoStep: true,
		stream: r, streamSize: size, started: &started})
}

// OpenStream opens length bytes from offset (length < 0: to the end) of the
// file at path for reading as they arrive; the caller closes the reader.
// Its Size is the answer's Content-Length (-1 when the server sent none).
// A read cut off by the DataNode serving it (its host died) opens the rest
// again from the offset already delivered, with that DataNode excluded
// (Hadoop's WebHdfsInputStream reopens at its position the same way).
func (c *Client) OpenStream(ctx context.Context, path string, offset, length int64) (*FileReader, error) {
	fr := &FileReader{c: c, ctx: ctx, path: path, offset: offset, length: length}
	resp, err := fr.open(offset, length)
	if err != nil {
		return nil, err
	}
	fr.body, fr.Size, fr.from = resp.Body, resp.ContentLength, resp.Request.URL.Host
	return fr, nil
}

// FileReader is an open file's data as the server streams it.
type FileReader struct {
	body io.ReadCloser
	Size int64 // bytes the answer carries, -1 unknown
	read int64

	c            *Client
	ctx          context.Context
	path         string
	offset       int64
	length       int64
	from         string   // host:port the data comes from
	excluded     []string // DataNodes that cut a read off
	reopened     int
	closed, done bool
}

// maxReopens bounds how often one read is resumed after its DataNode
// failed.
const maxReopens = 5

func (f *FileReader) open(offset, length int64) (*http.Response, error) {
	p := url.Values{}
	if offset > 0 {
		p.Set("offset", strconv.FormatInt(offset, 10))
	}
	if length >= 0 {
		p.Set("length", strconv.FormatInt(length, 10))
	}
	if len(f.excluded) > 0 {
		p.Set("excludedatanodes", strings.Join(f.excluded, ","))
	}
	var out *http.Response
	err := f.c.do(f.ctx, call{method: http.MethodGet, op: "OPEN", path: f.path, params: p, idempotent: true, keepBody: true,
		out: func(resp *http.Response) error {
			out = resp
			return nil
		}})
	return out, err
}

// Read reads the next bytes; a body cut short of its Content-Length is
// io.ErrUnexpectedEOF, never a clean end, unless the rest could be opened
// again from another DataNode.
func (f *FileReader) Read(p []byte) (int, error) {
	for {
		n, err := f.body.Read(p)
		f.read += int64(n)
		if err == io.EOF && (f.Size < 0 || f.read >= f.Size) {
			return n, err
		}
		if err == nil || n > 0 {
			return n, nil // an error comes back with the next Read
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if ok, rerr := f.resume(err); !ok {
			return 0, rerr
		}
	}
}

// resume reopens the rest of the read after err cut it off; false with
// the error to return when it cannot (closed, cancelled, too many reopens,
// the NameNode itself served it, or the reopen failed).
func (f *FileReader) resume(err error) (bool, error) {
	if f.closed || f.ctx.Err() != nil || f.reopened >= maxReopens || slices.Contains(f.c.addrs, f.from) {
		return false, err
	}
	f.reopened++
	_ = f.body.Close()
	if !slices.Contains(f.excluded, f.from) {
		f.excluded = append(f.excluded, f.from)
	}
	length := f.length
	if length >= 0 {
		length -= f.read
	}
	if f.c.logf != nil {
		f.c.logf("webhdfs OPEN %s: read from %s cut off after %d bytes (%v); reopening at offset %d excluding %v",
			f.path, f.from, f.read, err, f.offset+f.read, f.excluded)
	}
	resp, oerr := f.open(f.offset+f.read, length)
	if oerr != nil {
		f.body = io.NopCloser(errReader{oerr})
		return false, fmt.Errorf("read of %s cut off at %d bytes (%v), reopening: %w", f.path, f.offset+f.read, err, oerr)
	}
	f.body, f.from = resp.Body, resp.Request.URL.Host
	return true, nil
}

// errReader is a body that only fails (a read whose reopen failed).
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Close ends the read.
func (f *FileReader) Close() error {
	f.closed = true
	return f.body.Close()
}

// Open reads length bytes from offset (length < 0: to the end) of the file at path.
func (c *Client) Open(ctx context.Context, path string, offset, length int64) ([]byte, error) {
	p := url.Values{}
	if offset > 0 {
		p.Set("offset", strconv.FormatInt(offset, 10))
	}
	if length >= 0 {
		p.Set("length", strconv.FormatInt(length, 10))
	}
	var data []byte
	err := c.do(ctx, call{method: http.MethodGet, op: "OPEN", path: path, params: p, idempotent: true,
		out: func(resp *http.Response) error {
			var err error
			data, err = io.ReadAll(resp.Body)
			return err
		}})
	return data, err
}

// GetFileStatus describes path (GETFILESTATUS).
func (c *Client) GetFileStatus(ctx context.Context, path string) (FileStatus, error) {
	var out struct {
		FileStatus FileStatus `json:"FileStatus"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "GETFILESTATUS", path: path, idempotent: true, out: decodeJSON(&out)})
	return out.FileStatus, err
}

// ListStatus lists the directory at path (LISTSTATUS).
func (c *Client) ListStatus(ctx context.Context, path string) ([]FileStatus, error) {
	var out struct {
		FileStatuses struct {
			FileStatus []FileStatus `json:"FileStatus"`
		} `json:"FileStatuses"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "LISTSTATUS", path: path, idempotent: true, out: decodeJSON(&out)})
	return out.FileStatuses.FileStatus, err
}

// GetContentSummary sums up the tree at path (GETCONTENTSUMMARY).
func (c *Client) GetContentSummary(ctx context.Context, path string) (ContentSummary, error) {
	var out struct {
		ContentSummary ContentSummary `json:"ContentSummary"`
	}
	err := c.do(ctx, call{method: http.MethodGet, op: "GETCONTENTSUMMARY", path: path, idempotent: true, out: decodeJSON(&out)})
	return out.ContentSummary, err
}

// Delete removes path; false when there was nothing to delete (DELETE).
func (c *Client) Delete(ctx context.Context, path string, recursive bool) (bool, error) {
	return c.boolCall(ctx, call{method: http.MethodDelete, op: "DELETE", path: path,
		params: url.Values{"recursive": {strconv.FormatBool(recursive)}}})
}

// Rename moves src to dst (RENAME); false when HDFS refused it.
func (c *Client) Rename(ctx context.Context, src, dst string) (bool, error) {
	return c.boolCall(ctx, call{method: http.MethodPut, op: "RENAME", path: src,
		params: url.Values{"destination": {dst}}})
}

// SetPermission sets path's mode (SETPERMISSION).
func (c *Client) SetPermission(ctx context.Context, path string, perm fs.FileMode) error {
	return c.do(ctx, call{method: http.MethodPut, op: "SETPERMISSION", path: path,
		params: url.Values{"permission": {PermissionString(perm)}}, idempotent: true})
}

// SetOwner sets path's owner and/or group (SETOWNER); an empty one is unchanged.
func (c *Client) SetOwner(ctx context.Context, path, owner, group string) error {
	p := url.Values{}
	if owner != "" {
		p.Set("owner", owner)
	}
	if group != "" {
		p.Set("group", group)
	}
	return c.do(ctx, call{method: http.MethodPut, op: "SETOWNER", path: path, params: p, idempotent: true})
}
