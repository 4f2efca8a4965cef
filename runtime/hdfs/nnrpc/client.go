package nnrpc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// Hadoop's DFSClient keys for the retries of addBlock and complete
// (hdfs-default.xml) and their defaults.
const (
	KeyBlockWriteRetries      = "dfs.client.block.write.locateFollowingBlock.retries"
	KeyBlockWriteInitialDelay = "dfs.client.block.write.locateFollowingBlock.initial.delay.ms"
	KeyBlockWriteMaxDelay     = "dfs.client.block.write.locateFollowingBlock.max.delay.ms"

	// KeyRPCTimeout bounds one call to one NameNode (Hadoop's
	// ipc.client.rpc-timeout.ms): a NameNode that accepted the call but
	// never answers (stopped, not dead) is then failed over from, for the
	// calls that may be repeated.
	KeyRPCTimeout     = "ipc.client.rpc-timeout.ms"
	DefaultRPCTimeout = 120 * time.Second

	DefaultBlockWriteRetries      = 5
	DefaultBlockWriteInitialDelay = 400 * time.Millisecond
	DefaultBlockWriteMaxDelay     = 60 * time.Second
)

// ClientOptions tune a Client; zero values take the defaults of
// webhdfs (failover) and the constants above (block write retries).
type ClientOptions struct {
	// HTTPClient supplies the transport and timeout; requests are signed on
	// top of it. Nil: webhdfs.NewTransport(), no timeout.
	HTTPClient   *http.Client
	MaxFailovers int           // dfs.client.failover.max.attempts
	MaxRetries   int           // dfs.client.retry.max.attempts: RetriableException retries (10)
	SleepBase    time.Duration // dfs.client.failover.sleep.base.millis
	SleepMax     time.Duration // dfs.client.failover.sleep.max.millis
	CallTimeout  time.Duration // ipc.client.rpc-timeout.ms
	// BlockWriteRetries is how often AddBlock is repeated while the
	// NameNode answers NotReplicatedYetException, sleeping
	// BlockWriteInitialDelay, then twice as long each time up to
	// BlockWriteMaxDelay (Hadoop's DFSOutputStream.addBlock).
	BlockWriteRetries      int
	BlockWriteInitialDelay time.Duration
	BlockWriteMaxDelay     time.Duration
	// Sleep waits between failovers and retries; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf, when set, is told of each failover and retry.
	Logf func(format string, args ...any)
}

// Client is hdfs.ClientProtocol for a nameservice: it calls the NameNode
// that last served as active and fails over as webhdfs.Client does. With no
// known active, and once when the known one refuses as standby or cannot
// be reached, it asks every NameNode not yet tried at once
// (getServerDefaults, which a standby refuses) and goes to the first that
// answers as active (Hadoop's RequestHedgingProxyProvider). A failover to a
// NameNode not yet tried in this round never sleeps; after a full round it
// backs off base·2^(round-1) capped at max, times a random factor in
// [0.5, 1.5), and meanwhile asks all NameNodes every 50 ms, ending the
// backoff when one is active. A call that may have run (a reset or timeout
// after sending) is repeated elsewhere only when Hadoop marks it
// @Idempotent.
type Client struct {
	nameservice string
	addrs       []string
	hc          *http.Client
	maxFail     int
	maxRetries  int
	base, max   time.Duration
	retries     int
	retryDelay  time.Duration
	retryMax    time.Duration
	callTimeout time.Duration
	sleep       func(ctx context.Context, d time.Duration) error
	logf        func(format string, args ...any)
	active      atomic.Int32
	known       atomic.Bool
}

var _ hdfs.ClientProtocol = (*Client)(nil)

// NewClient returns a client for the NameNodes of nameservice whose HTTP
// servers are at addrs (dfs.namenode.http-address), signing with secret.
func NewClient(nameservice string, addrs []string, secret []byte, opts ClientOptions) (*Client, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("nnrpc client for %s: no NameNode addresses", nameservice)
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("nnrpc client for %s: no cluster secret (%s)", nameservice, auth.ConfKey)
	}
	c := &Client{
		nameservice: nameservice, addrs: append([]string(nil), addrs...), hc: signedHTTPClient(secret, opts.HTTPClient),
		maxFail: opts.MaxFailovers, maxRetries: opts.MaxRetries, base: opts.SleepBase, max: opts.SleepMax,
		retries: opts.BlockWriteRetries, retryDelay: opts.BlockWriteInitialDelay, retryMax: opts.BlockWriteMaxDelay,
		callTimeout: opts.CallTimeout, sleep: opts.Sleep, logf: opts.Logf,
	}
	if c.callTimeout <= 0 {
		c.callTimeout = DefaultRPCTimeout
	}
	if c.maxFail <= 0 {
		c.maxFail = webhdfs.DefaultFailoverMaxAttempts
	}
	if c.maxRetries <= 0 {
		c.maxRetries = webhdfs.DefaultRetryMaxAttempts
	}
	if c.base <= 0 {
		c.base = webhdfs.DefaultFailoverSleepBase
	}
	if c.max <= 0 {
		c.max = webhdfs.DefaultFailoverSleepMax
	}
	if c.retries <= 0 {
		c.retries = DefaultBlockWriteRetries
	}
	if c.retryDelay <= 0 {
		c.retryDelay = DefaultBlockWriteInitialDelay
	}
	if c.retryMax <= 0 {
		c.retryMax = DefaultBlockWriteMaxDelay
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if len(c.addrs) == 1 {
		c.known.Store(true)
	}
	return c, nil
}

// NewClientFromConfig builds a client from Hadoop configuration: the
// nameservice's NameNodes (dfs.ha.namenodes.<ns>,
// dfs.namenode.http-address.<ns>.<nn>), the cluster secret
// (hactl.cluster.secret.file), dfs.client.failover.* and
// dfs.client.block.write.locateFollowingBlock.*; options given explicitly
// win over the configuration.
func NewClientFromConfig(conf *hadoopconf.Config, nameservice string, opts ClientOptions) (*Client, error) {
	_, addrs, err := webhdfs.NameNodeHTTPAddrs(conf, nameservice)
	if err != nil {
		return nil, err
	}
	secret, err := LoadSecret(conf)
	if err != nil {
		return nil, err
	}
	ints := []struct {
		key string
		def int64
		dst *int
	}{
		{webhdfs.KeyFailoverMaxAttempts, webhdfs.DefaultFailoverMaxAttempts, &opts.MaxFailovers},
		{KeyBlockWriteRetries, DefaultBlockWriteRetries, &opts.BlockWriteRetries},
	}
	for _, k := range ints {
		if *k.dst == 0 {
			n, err := conf.Int(k.key, k.def)
			if err != nil {
				return nil, err
			}
			*k.dst = int(n)
		}
	}
	durs := []struct {
		key string
		def time.Duration
		dst *time.Duration
	}{
		{webhdfs.KeyFailoverSleepBase, webhdfs.DefaultFailoverSleepBase, &opts.SleepBase},
		{webhdfs.KeyFailoverSleepMax, webhdfs.DefaultFailoverSleepMax, &opts.SleepMax},
		{KeyBlockWriteInitialDelay, DefaultBlockWriteInitialDelay, &opts.BlockWriteInitialDelay},
		{KeyBlockWriteMaxDelay, DefaultBlockWriteMaxDelay, &opts.BlockWriteMaxDelay},
		{KeyRPCTimeout, DefaultRPCTimeout, &opts.CallTimeout},
	}
	for _, k := range durs {
		if *k.dst == 0 {
			if *k.dst, err = conf.Millis(k.key, k.def); err != nil {
				return nil, err
			}
		}
	}
	return NewClient(nameservice, addrs, secret, opts)
}

// LoadSecret reads the cluster secret the configuration names
// (hactl.cluster.secret.file).
func LoadSecret(conf *hadoopconf.Config) ([]byte, error) {
	path := conf.Get(auth.ConfKey, "")
	if path == "" {
		return nil, fmt.Errorf("%s is not set: calls to the NameNodes must be signed with the cluster secret", auth.ConfKey)
	}
	return auth.LoadSecret(path)
}

// NameNode is one NameNode of the configuration.
type NameNode struct {
	Nameservice string
	ID          string // "" for a nameservice without HA
	HTTPAddr    string // dfs.namenode.http-address.<ns>.<nn>
	RPCAddr     string // dfs.namenode.rpc-address.<ns>.<nn> ("" when unset)
}

// NameNodes lists every NameNode of every nameservice of dfs.nameservices,
// in configuration order: the DataNode talks to each.
func NameNodes(conf *hadoopconf.Config) ([]NameNode, error) {
	nss := conf.Strings("dfs.nameservices")
	if len(nss) == 0 {
		return nil, errors.New("dfs.nameservices is not set")
	}
	var out []NameNode
	for _, ns := range nss {
		ids, addrs, err := webhdfs.NameNodeHTTPAddrs(conf, ns)
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			key := "dfs.namenode.rpc-address." + ns
			if id != "" {
				key += "." + id
			}
			out = append(out, NameNode{Nameservice: ns, ID: id, HTTPAddr: addrs[i], RPCAddr: conf.Get(key, "")})
		}
	}
	return out, nil
}

// Nameservice is the nameservice the client serves.
func (c *Client) Nameservice() string { return c.nameservice }

// Active is the HTTP address of the NameNode that last served as active
// (the first configured one before any call).
func (c *Client) Active() string { return c.addrs[c.active.Load()] }

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

// failoverSleep is the backoff after round full rounds over the NameNodes.
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

func shouldFailover(err error, idempotent bool) bool {
	if errors.Is(err, webhdfs.ErrStandby) || errors.Is(err, errConnect) {
		return true
	}
	var re *webhdfs.RemoteException
	if errors.As(err, &re) {
		return false // the NameNode answered: its answer stands
	}
	return idempotent
}

// do runs one call on the active NameNode, failing over as the type says.
func (c *Client) do(ctx context.Context, op string, idempotent bool, args, out any) error {
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
		cctx, cancel := context.WithTimeout(ctx, c.callTimeout)
		err := invoke(cctx, c.hc, c.addrs[idx], op, args, out)
		cancel()
		// RetriableException: the NameNode did not run the call and will
		// soon (start-up safe mode ending); ask it again after a backoff,
		// whatever the call (Hadoop's retry policy does the same).
		for err != nil && errors.Is(err, webhdfs.ErrRetriable) && retries < c.maxRetries && ctx.Err() == nil {
			retries++
			d := c.failoverSleep(retries)
			if c.logf != nil {
				c.logf("nnrpc %s on %s: %v; retry %d of %d after sleeping %v", op, c.addrs[idx], err, retries, c.maxRetries, d.Round(time.Millisecond))
			}
			if serr := c.sleep(ctx, d); serr != nil {
				return fmt.Errorf("%s: %w", op, serr)
			}
			cctx, cancel := context.WithTimeout(ctx, c.callTimeout)
			err = invoke(cctx, c.hc, c.addrs[idx], op, args, out)
			cancel()
		}
		if err == nil {
			c.active.Store(int32(idx))
			c.known.Store(true)
			return nil
		}
		if ctx.Err() != nil || !shouldFailover(err, idempotent) {
			return fmt.Errorf("%s on %s: %w", op, c.addrs[idx], err)
		}
		if failovers >= c.maxFail {
			return fmt.Errorf("%s: nameservice %s: giving up after %d failovers: %w", op, c.nameservice, failovers, err)
		}
		tried[idx] = true
		next, d := -1, time.Duration(0)
		if !hedged {
			hedged = true
			next = c.discover(ctx, tried)
		}
		if next < 0 {
			next = nextUntried(tried, idx)
		}
		if next < 0 {
			round++
			clear(tried)
			next = (idx + 1) % len(c.addrs)
			d = c.failoverSleep(round)
		}
		if c.logf != nil {
			c.logf("nnrpc %s on %s: %v; failover %d of %d to %s after sleeping %v",
				op, c.addrs[idx], err, failovers+1, c.maxFail, c.addrs[next], d.Round(time.Millisecond))
		}
		if d > 0 {
			w, err := c.backoff(ctx, d)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if w >= 0 {
				next = w
			}
		} else if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		idx = next
	}
}

func nextUntried(tried []bool, idx int) int {
	for k := 1; k < len(tried); k++ {
		if j := (idx + k) % len(tried); !tried[j] {
			return j
		}
	}
	return -1
}

// discoverTimeout bounds one hedged discovery: a NameNode that accepts
// connections but never answers must not hold the call.
const discoverTimeout = 3 * time.Second

// backoffProbeInterval is how often a backoff asks whether a NameNode has
// become active (all standby is what a failover in progress looks like).
const backoffProbeInterval = 50 * time.Millisecond

// discover asks every NameNode not in skip at once whether it is active and
// returns the first that answers other than standby; -1 when none did or
// there was at most one candidate (asking would only cost a round trip).
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
	hctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	answers := make(chan int, len(cand))
	for _, i := range cand {
		go func() {
			err := invoke(hctx, c.hc, c.addrs[i], opGetServerDefaults, noArgs{}, nil)
			var re *webhdfs.RemoteException
			if err == nil || (errors.As(err, &re) && !errors.Is(err, webhdfs.ErrStandby)) {
				answers <- i
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

// backoff sleeps d between two rounds, ending early when a probe finds an
// active NameNode, whose index it returns (-1 when the whole backoff passed).
func (c *Client) backoff(ctx context.Context, d time.Duration) (int, error) {
	if len(c.addrs) < 2 {
		return -1, c.sleep(ctx, d)
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
				cancel()
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

// The calls. Idempotence is Hadoop's ClientProtocol annotations: create,
// append and updatePipeline are @AtMostOnce, everything else @Idempotent.

func (c *Client) Create(ctx context.Context, path, clientName string, opts hdfs.CreateOptions, user string) (webhdfs.FileStatus, error) {
	var out webhdfs.FileStatus
	err := c.do(ctx, opCreate, false, createArgs{Path: path, ClientName: clientName, Opts: opts, User: user}, &out)
	return out, err
}

func (c *Client) Append(ctx context.Context, path, clientName, user string) (*hdfs.LocatedBlock, webhdfs.FileStatus, error) {
	var out appendResult
	err := c.do(ctx, opAppend, false, appendArgs{Path: path, ClientName: clientName, User: user}, &out)
	return out.Block, out.Status, err
}

// AddBlock also repeats the call while the NameNode answers
// NotReplicatedYetException (the previous block lacks its minimum
// replicas), as Hadoop's DFSOutputStream.addBlock does.
func (c *Client) AddBlock(ctx context.Context, path, clientName string, previous *hdfs.ExtendedBlock, excluded []hdfs.DatanodeID, fileID int64, user string) (hdfs.LocatedBlock, error) {
	args := addBlockArgs{Path: path, ClientName: clientName, Previous: previous, Excluded: excluded, FileID: fileID, User: user}
	delay := c.retryDelay
	for retries := c.retries; ; retries-- {
		var out hdfs.LocatedBlock
		err := c.do(ctx, opAddBlock, true, args, &out)
		if err == nil || !errors.Is(err, hdfs.ErrNotReplicatedYet) || retries <= 0 {
			return out, err
		}
		if c.logf != nil {
			c.logf("nnrpc addBlock %s: %v; retrying in %v (%d retries left)", path, err, delay, retries-1)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return hdfs.LocatedBlock{}, fmt.Errorf("addBlock %s: %w", path, err)
		}
		delay = min(2*delay, c.retryMax)
	}
}

func (c *Client) AbandonBlock(ctx context.Context, b hdfs.ExtendedBlock, fileID int64, path, clientName, user string) error {
	return c.do(ctx, opAbandonBlock, true, abandonBlockArgs{Block: b, FileID: fileID, Path: path, ClientName: clientName, User: user}, nil)
}

func (c *Client) Complete(ctx context.Context, path, clientName string, last *hdfs.ExtendedBlock, fileID int64, user string) (bool, error) {
	var out boolResult
	err := c.do(ctx, opComplete, true, completeArgs{Path: path, ClientName: clientName, Last: last, FileID: fileID, User: user}, &out)
	return out.Boolean, err
}

func (c *Client) GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (hdfs.LocatedBlocks, error) {
	var out hdfs.LocatedBlocks
	err := c.do(ctx, opGetBlockLocations, true, getBlockLocationsArgs{Path: path, Offset: offset, Length: length, User: user}, &out)
	return out, err
}

func (c *Client) GetAdditionalDatanode(ctx context.Context, path string, fileID int64, b hdfs.ExtendedBlock, existing []hdfs.DatanodeInfo, excluded []hdfs.DatanodeID, numAdditional int, clientName, user string) (hdfs.LocatedBlock, error) {
	var out hdfs.LocatedBlock
	err := c.do(ctx, opGetAdditionalDatanode, true, getAdditionalDatanodeArgs{Path: path, FileID: fileID, Block: b, Existing: existing,
		Excluded: excluded, NumAdditional: numAdditional, ClientName: clientName, User: user}, &out)
	return out, err
}

func (c *Client) UpdateBlockForPipeline(ctx context.Context, b hdfs.ExtendedBlock, clientName, user string) (hdfs.LocatedBlock, error) {
	var out hdfs.LocatedBlock
	err := c.do(ctx, opUpdateBlockForPipeline, true, updateBlockForPipelineArgs{Block: b, ClientName: clientName, User: user}, &out)
	return out, err
}

func (c *Client) UpdatePipeline(ctx context.Context, clientName string, oldBlock, newBlock hdfs.ExtendedBlock, newNodes []hdfs.DatanodeID, user string) error {
	return c.do(ctx, opUpdatePipeline, false, updatePipelineArgs{ClientName: clientName, OldBlock: oldBlock, NewBlock: newBlock, NewNodes: newNodes, User: user}, nil)
}

func (c *Client) Fsync(ctx context.Context, path string, fileID int64, clientName string, lastBlockLength int64, user string) error {
	return c.do(ctx, opFsync, true, fsyncArgs{Path: path, FileID: fileID, ClientName: clientName, LastBlockLength: lastBlockLength, User: user}, nil)
}

func (c *Client) RenewLease(ctx context.Context, clientName, user string) error {
	return c.do(ctx, opRenewLease, true, renewLeaseArgs{ClientName: clientName, User: user}, nil)
}

func (c *Client) RecoverLease(ctx context.Context, path, clientName, user string) (bool, error) {
	var out boolResult
	err := c.do(ctx, opRecoverLease, true, recoverLeaseArgs{Path: path, ClientName: clientName, User: user}, &out)
	return out.Boolean, err
}

func (c *Client) GetDatanodeReport(ctx context.Context, kind hdfs.DatanodeReportType, user string) ([]hdfs.DatanodeInfo, error) {
	var out []hdfs.DatanodeInfo
	err := c.do(ctx, opGetDatanodeReport, true, getDatanodeReportArgs{Kind: kind, User: user}, &out)
	return out, err
}

func (c *Client) ReportBadBlocks(ctx context.Context, blocks []hdfs.LocatedBlock, user string) error {
	return c.do(ctx, opClientReportBadBlocks, true, clientReportBadBlocksArgs{Blocks: blocks, User: user}, nil)
}

func (c *Client) GetServerDefaults(ctx context.Context) (hdfs.ServerDefaults, error) {
	var out hdfs.ServerDefaults
	err := c.do(ctx, opGetServerDefaults, true, noArgs{}, &out)
	return out, err
}
