package namenode

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
	"github.com/hactl/hactl/runtime/qjm"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// State is the HA state of a NameNode (Hadoop's HAServiceState).
type State int32

// HA states.
const (
	StateInitializing State = iota
	StateStandby
	StateActive
	StateStopping
)

// String gives the state as `hdfs haadmin -getServiceState` prints it.
func (s State) String() string {
	switch s {
	case StateInitializing:
		return "initializing"
	case StateStandby:
		return "standby"
	case StateActive:
		return "active"
	}
	return "stopping"
}

// Sentinel errors of the HA state machine.
var (
	ErrNotReady = errors.New("namenode is not ready to become active")
	ErrJournal  = errors.New("journal and namespace disagree")
	// ErrImageTxid refuses an uploaded image whose txid is not the one it holds
	// or lies beyond what this NameNode wrote.
	ErrImageTxid = errors.New("checkpoint image refused")
)

// tailBatch bounds the edits read per call, so one tail round holds the
// namespace lock only briefly.
const tailBatch = 5000

// NameNode is one HA NameNode: the namespace, its journal writer when
// active, the tailer when standby, checkpoints, and the Namesystem that
// WebHDFS serves.
type NameNode struct {
	cfg      Config
	verifier *auth.Verifier // checks the signed HA and image-transfer calls (set by Handler)
	journal  Journal
	storage  *Storage
	now      func() time.Time
	logf     func(format string, args ...any)
	// Upload sends a checkpoint image to a peer (nil: no upload); set by the
	// daemon to an HTTP client, left nil by unit tests.
	Upload func(ctx context.Context, p Peer, txid int64, image []byte) error

	// stateMu serializes transitions, tail rounds and checkpoints.
	stateMu sync.Mutex
	state   atomic.Int32

	// mu is the namespace lock; it also guards writer.
	mu       sync.RWMutex
	ns       *Namespace
	writer   JournalWriter
	inflight sync.WaitGroup // mutations between Append and Sync

	info       qjm.NamespaceInfo
	epoch      atomic.Int64
	needReload atomic.Bool
	allowStale bool

	lastCkptTxid   atomic.Int64
	lastCkptTime   atomic.Int64 // ms
	caughtUpAt     atomic.Int64 // ms; when the tailer last had nothing left to read
	lastTransition atomic.Int64 // ms
	lastRoll       atomic.Int64 // ms
	rollPeriod     time.Duration
	extraEdits     int64
	lastErr        atomic.Pointer[string]
	applyLag       lagHistogram // standby: edit accepted by the active → applied here
	groups         *groupCache
	act            activity
	started        int64 // ms

	// bm is the block manager; it runs under mu like the namespace.
	bm *blockmgmt.Manager
	// leases is the active's lease manager: each lease holder's last
	// renewal (ms), under mu; nil on a standby.
	leases map[string]int64
	// segmentStart is the first txid of the segment the active opened
	// (under mu): the txid Hadoop's new active writes OP_START_LOG_SEGMENT
	// with, which its heartbeat answers claim from the start.
	segmentStart int64
	// inlineDone: the converter found no inline file since this NameNode
	// last became active.
	inlineDone atomic.Bool
	// retry is the retry cache of at-most-once native RPC calls (nil when
	// disabled): the IPC server keeps the answers of the calls it runs,
	// applyEdits records the calls named in the edits it applies.
	retry *ipc.RetryCache
}

// Options are the injectable parts of a NameNode.
type Options struct {
	Now        func() time.Time
	Logf       func(format string, args ...any)
	AllowStale bool          // dfs.ha.allow.stale.reads
	RollPeriod time.Duration // dfs.ha.log-roll.period
	ExtraEdits int64         // dfs.namenode.num.extra.edits.retained (0: purge as soon as the images allow)
	// Groups resolves a user's groups for the permission checker (default
	// OSGroups, Hadoop's ShellBasedUnixGroupsMapping); results are cached.
	Groups func(user string) ([]string, error)
}

// New returns a NameNode in state INITIALIZING; Load brings it to STANDBY.
func New(cfg Config, j Journal, opts Options) *NameNode {
	n := &NameNode{cfg: cfg, journal: j, storage: &Storage{Dirs: cfg.NameDirs}, now: opts.Now, logf: opts.Logf,
		allowStale: opts.AllowStale, rollPeriod: opts.RollPeriod, extraEdits: opts.ExtraEdits}
	if n.now == nil {
		n.now = time.Now
	}
	n.started = n.nowMs()
	if n.logf == nil {
		n.logf = log.Printf
	}
	if n.rollPeriod <= 0 {
		n.rollPeriod = 2 * time.Minute
	}
	n.defaultBlockConfig()
	n.bm = blockmgmt.New(n.cfg.BlockManager, n.now, uint64(n.now().UnixNano()))
	n.bm.LastBlockID = func() int64 { return n.ns.lastBlockID }
	// Called by the monitor with mu held for writing (BlockTick).
	n.bm.Yield = func() { n.mu.Unlock(); n.mu.Lock() }
	if !cfg.RetryCacheDisabled {
		n.retry = ipc.NewRetryCache(cfg.RetryCacheExpiry, 0).WithClock(n.now)
	}
	n.groups = &groupCache{resolve: opts.Groups, ttl: cfg.GroupsCacheTTL, negTTL: cfg.GroupsNegativeTTL, now: n.now, logf: n.logf}
	if n.groups.resolve == nil {
		n.groups.resolve = OSGroups
	}
	return n
}

// State returns the current HA state.
func (n *NameNode) State() State { return State(n.state.Load()) }

// Config returns the configuration the NameNode runs with.
func (n *NameNode) Config() Config { return n.cfg }

// Storage returns the name dirs.
func (n *NameNode) Storage() *Storage { return n.storage }

func (n *NameNode) nowMs() int64 { return n.now().UnixMilli() }

func (n *NameNode) setErr(err error) {
	if err == nil {
		n.lastErr.Store(nil)
		return
	}
	s := err.Error()
	n.lastErr.Store(&s)
}

// Load reads VERSION and the newest image and enters STANDBY (the state an
// HA NameNode starts in; the tailer then catches up from the journal).
func (n *NameNode) Load() error {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	info, err := n.storage.ReadVersion()
	if err != nil {
		return err
	}
	ns, err := n.storage.LoadLatest(n.cfg.MaxInline)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.info, n.ns = info, ns
	n.bm.SetPoolID(info.BlockPoolID)
	ns.attach(n.bm)
	// No safe mode check yet: the image may predate blocks the journal's
	// edits add (Hadoop loads both before counting), and an image without
	// blocks would leave safe mode at once. The tailer's first catch-up
	// checks (TailOnce, which Run calls right after Load), or
	// TransitionToActive once it applied every edit.
	n.mu.Unlock()
	now := n.nowMs()
	n.lastCkptTxid.Store(ns.LastTxid())
	n.lastCkptTime.Store(now)
	n.lastTransition.Store(now)
	if err := n.RefreshNodes(); err != nil {
		// As Hadoop's, a NameNode whose hosts files cannot be read still
		// starts; refreshNodes reports the error when asked.
		n.logf("namenode %s: %v", n.cfg.ID, err)
	}
	n.state.Store(int32(StateStandby))
	n.logf("namenode %s: loaded %s (%d files, %d directories); standby", n.cfg.ID, ImageName(ns.LastTxid()), ns.files, ns.dirs)
	return nil
}

// reload throws the in-memory namespace away and reloads the newest image,
// after edits may have been applied that the journal never acknowledged.
// Caller holds stateMu.
func (n *NameNode) reload() error {
	ns, err := n.storage.LoadLatest(n.cfg.MaxInline)
	if err != nil {
		return fmt.Errorf("reload namespace: %w", err)
	}
	n.mu.Lock()
	n.ns = ns
	ns.attach(n.bm)
	n.mu.Unlock()
	n.needReload.Store(false)
	n.logf("namenode %s: namespace reloaded from %s", n.cfg.ID, ImageName(ns.LastTxid()))
	return nil
}

// applyEdits applies journal edits in order; caller holds stateMu. The
// tailer records each edit's lag behind the active (tailing is true);
// the catch-up of transitionToActive does not.
func (n *NameNode) applyEdits(edits []qjm.Edit, tailing bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var times []int64 // the active's time of each applied edit
	if tailing {
		times = make([]int64, 0, len(edits))
		// Recorded once the whole batch is applied: readers see none of it
		// before the lock is released.
		defer func() { n.applyLag.record(n.nowMs(), times) }()
	}
	for _, e := range edits {
		if e.Txid <= n.ns.lastTxid {
			continue // already applied (an overlapping read)
		}
		op, err := DecodeOp(e.Data)
		if err != nil {
			return fmt.Errorf("edit %d: %w", e.Txid, err)
		}
		if err := n.ns.Apply(e.Txid, op); err != nil {
			return err
		}
		n.recordRetry(op)
		if tailing && op.Time > 0 {
			times = append(times, op.Time)
		}
	}
	return nil
}

// recordRetry remembers the at-most-once call an applied edit names, with
// what its retry is answered from (Hadoop's FSEditLogLoader: create's and
// append's file status as the edit left it; delete, rename, concat and
// updatePipeline need only their success). Under n.mu.
func (n *NameNode) recordRetry(op *Op) {
	if n.retry == nil || len(op.RPCClientID) == 0 {
		return
	}
	var result any
	switch op.Code {
	case OpCreate, OpAddFile, OpAppendFile:
		st, err := n.ns.Stat(op.Path)
		if err != nil {
			return // cannot be: the edit just made the file
		}
		result = st
	}
	at := n.now()
	if op.Time > 0 {
		at = time.UnixMilli(op.Time)
	}
	n.retry.Record(op.RPCClientID, op.RPCCallID, at, result)
}

// tagRetry names the at-most-once call ctx carries in op, so the edit
// records it (Hadoop's logRetryCache).
func tagRetry(ctx context.Context, op *Op) {
	if id, call, ok := hdfs.RetryIDs(ctx); ok {
		op.RPCClientID, op.RPCCallID = id, call
	}
}

// TailOnce reads and applies what the journal holds beyond the last applied
// txid (the standby's EditLogTailer round). It returns the number applied.
func (n *NameNode) TailOnce(ctx context.Context) (int, error) {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	if n.State() != StateStandby {
		return 0, nil
	}
	if n.needReload.Load() {
		if err := n.reload(); err != nil {
			return 0, err
		}
	}
	total := 0
	for range 100 {
		n.mu.RLock()
		from := n.ns.lastTxid + 1
		n.mu.RUnlock()
		edits, err := n.journal.ReadEdits(ctx, from, n.cfg.TailInProgress, tailBatch)
		if err != nil {
			return total, fmt.Errorf("tail edits from %d: %w", from, err)
		}
		if err := n.applyEdits(edits, true); err != nil {
			n.needReload.Store(true)
			return total, fmt.Errorf("tail: %w", err)
		}
		total += len(edits)
		if len(edits) < tailBatch {
			if n.caughtUpAt.Swap(n.nowMs()) == 0 {
				// The first catch-up since start: the namespace holds the
				// image and the journal's edits, what Hadoop counts blocks
				// over at start; an empty one leaves safe mode now.
				n.mu.Lock()
				n.bm.CheckSafeMode()
				n.mu.Unlock()
			}
			break
		}
	}
	// seen_txid is written with each image (as Hadoop records it at segment
	// and checkpoint boundaries), not per tail round: two fsyncs every few
	// milliseconds would be the standby's main cost.
	return total, nil
}

// Checkpoint saves an image if the standby is due one (checkpoint.txns edits
// or checkpoint.period since the last), keeps the newest Retained images,
// and returns the image to upload to the active (nil when none was made).
func (n *NameNode) Checkpoint(force bool) (txid int64, image []byte, err error) {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	if n.State() != StateStandby || n.needReload.Load() {
		return 0, nil, nil
	}
	n.mu.RLock()
	last := n.ns.lastTxid
	since := last - n.lastCkptTxid.Load()
	due := force || since >= n.cfg.CheckpointTxns ||
		(n.cfg.CheckpointPeriod > 0 && n.nowMs()-n.lastCkptTime.Load() >= n.cfg.CheckpointPeriod.Milliseconds())
	if since <= 0 || !due {
		n.mu.RUnlock()
		return 0, nil, nil
	}
	image = n.ns.EncodeImage()
	n.mu.RUnlock()
	if err := n.storage.SaveImage(last, image); err != nil {
		return 0, nil, err
	}
	if _, err := n.storage.Purge(n.cfg.Retained); err != nil {
		return 0, nil, err
	}
	n.lastCkptTxid.Store(last)
	n.lastCkptTime.Store(n.nowMs())
	n.logf("namenode %s: checkpoint %s (%d bytes)", n.cfg.ID, ImageName(last), len(image))
	return last, image, nil
}

// AcceptImage stores an image a standby checkpointed (the active's side of
// the image upload), then purges old images and, when active, old edits.
func (n *NameNode) AcceptImage(ctx context.Context, txid int64, image []byte) error {
	imgs := n.storage.Images()
	if len(imgs) > 0 && imgs[0] >= txid {
		return nil // already have it or newer
	}
	// Decode before keeping it: a corrupt image must never become the newest.
	ns, err := DecodeImage(image, n.cfg.MaxInline)
	if err != nil {
		return err
	}
	// The txid decides which edits are purged: an image labelled beyond
	// what it holds, or beyond what this NameNode wrote (a standby can only
	// have applied edits the active wrote), would purge edits no image has.
	if ns.lastTxid != txid {
		return fmt.Errorf("%w: the upload says txid %d but the image holds the namespace at txid %d", ErrImageTxid, txid, ns.lastTxid)
	}
	n.mu.RLock()
	have := n.ns.lastTxid
	n.mu.RUnlock()
	if txid > have {
		return fmt.Errorf("%w: image at txid %d is beyond the last txid this NameNode wrote (%d)", ErrImageTxid, txid, have)
	}
	if err := n.storage.SaveImage(txid, image); err != nil {
		return err
	}
	oldest, err := n.storage.Purge(n.cfg.Retained)
	if err != nil {
		return err
	}
	n.lastCkptTxid.Store(txid)
	n.lastCkptTime.Store(n.nowMs())
	n.mu.RLock()
	w := n.writer
	n.mu.RUnlock()
	if p, ok := w.(logPurger); ok {
		keep := oldest + 1 - n.extraEdits
		if keep > 1 {
			if err := p.PurgeLogs(ctx, keep); err != nil {
				n.logf("namenode %s: purge edits before %d: %v", n.cfg.ID, keep, err)
			} else {
				n.logf("namenode %s: accepted %s; purged edits before txid %d", n.cfg.ID, ImageName(txid), keep)
			}
		}
	}
	return nil
}

// TransitionToActive takes a new epoch (fencing any old writer), recovers
// and applies every edit, and starts writing a new segment.
func (n *NameNode) TransitionToActive(ctx context.Context) error {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	switch n.State() {
	case StateActive:
		return nil
	case StateStandby:
	default:
		return fmt.Errorf("%w: state is %s", ErrNotReady, n.State())
	}
	if n.needReload.Load() {
		if err := n.reload(); err != nil {
			return err
		}
	}
	w, err := n.journal.OpenForWrite(ctx, n.info)
	if err != nil {
		return fmt.Errorf("open journal for write: %w", err)
	}
	if o, ok := w.(interface {
		OnSync(func(txns int64, took time.Duration))
	}); ok {
		n.act.syncsFromWriter.Store(true)
		o.OnSync(func(txns int64, took time.Duration) {
			n.act.syncs.Add(took)
			n.act.batchedInSync.Add(txns - 1)
		})
	}
	target := w.LastTxid()
	for {
		n.mu.RLock()
		last := n.ns.lastTxid
		n.mu.RUnlock()
		if last >= target {
			break
		}
		edits, err := n.journal.ReadEdits(ctx, last+1, true, tailBatch)
		if err == nil && len(edits) == 0 {
			err = fmt.Errorf("%w: journal ends at %d, writer starts after %d", ErrJournal, last, target)
		}
		if err == nil {
			err = n.applyEdits(edits, false)
		}
		if err != nil {
			w.Close(context.WithoutCancel(ctx))
			n.needReload.Store(true)
			return fmt.Errorf("catch up to txid %d: %w", target, err)
		}
	}
	n.mu.Lock()
	if n.ns.lastTxid != target {
		n.mu.Unlock()
		w.Close(context.WithoutCancel(ctx))
		n.needReload.Store(true)
		return fmt.Errorf("%w: namespace at txid %d, journal at %d", ErrJournal, n.ns.lastTxid, target)
	}
	n.writer = w
	n.state.Store(int32(StateActive))
	n.bm.SetActive(true)
	n.bm.CheckSafeMode() // every edit applied: an empty namespace is writable at once
	n.resetLeases()
	n.segmentStart = target + 1
	n.inlineDone.Store(false)
	n.mu.Unlock()
	n.epoch.Store(w.Epoch())
	now := n.nowMs()
	n.lastTransition.Store(now)
	n.lastRoll.Store(now)
	n.setErr(nil)
	n.logf("namenode %s: active (epoch %d, txid %d)", n.cfg.ID, w.Epoch(), target)
	return nil
}

// TransitionToStandby stops writing: no new edit is accepted, the ones in
// flight finish their sync, the segment is finalized; then the tailer resumes.
func (n *NameNode) TransitionToStandby(ctx context.Context) error {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	switch n.State() {
	case StateStandby:
		return nil
	case StateActive:
	default:
		return fmt.Errorf("cannot go to standby from %s", n.State())
	}
	n.mu.Lock()
	w := n.writer
	n.writer = nil
	n.state.Store(int32(StateStandby))
	n.bm.SetActive(false)
	n.leases = nil
	n.mu.Unlock()
	n.inflight.Wait()
	n.lastTransition.Store(n.nowMs())
	if w != nil {
		if err := w.Close(ctx); err != nil {
			// Edits may have been applied that no quorum holds.
			n.needReload.Store(true)
			n.logf("namenode %s: close journal segment: %v", n.cfg.ID, err)
		}
	}
	n.logf("namenode %s: standby", n.cfg.ID)
	return nil
}

// writerFailed drops a NameNode whose writer can no longer acknowledge
// (fenced by a newer epoch, or no quorum) to standby; the namespace may hold
// edits no quorum has, so it is reloaded before tailing.
func (n *NameNode) writerFailed(w JournalWriter, err error) {
	n.needReload.Store(true)
	n.mu.Lock()
	if n.writer == w {
		n.writer = nil
		n.state.Store(int32(StateStandby))
		n.bm.SetActive(false)
		n.leases = nil
		n.lastTransition.Store(n.nowMs())
		n.logf("namenode %s: journal writer failed, now standby: %v", n.cfg.ID, err)
	}
	n.mu.Unlock()
	n.setErr(err)
}

// maybeRoll finalizes the active's segment every dfs.ha.log-roll.period, so
// a standby that tails finalized segments only still catches up.
func (n *NameNode) maybeRoll(ctx context.Context) {
	if n.State() != StateActive || n.nowMs()-n.lastRoll.Load() < n.rollPeriod.Milliseconds() {
		return
	}
	n.mu.Lock()
	w := n.writer
	if w == nil {
		n.mu.Unlock()
		return
	}
	err := w.Roll(ctx)
	n.mu.Unlock()
	n.lastRoll.Store(n.nowMs())
	if err != nil {
		n.writerFailed(w, err)
	}
}

// RollEditLog finalizes the active's current segment and starts the next one
// now (Hadoop's rollEditLog, `hdfs dfsadmin -rollEdits`). A JournalNode that
// was restarted is out of sync until the next segment, so a rolling restart
// rolls after each JournalNode to bring it back before touching the next.
// It returns the first txid of the new segment.
func (n *NameNode) RollEditLog(ctx context.Context) (int64, error) {
	if s := n.State(); s != StateActive {
		return 0, standbyError("JOURNAL", s)
	}
	n.mu.Lock()
	w := n.writer
	if w == nil {
		n.mu.Unlock()
		return 0, standbyError("JOURNAL", n.State())
	}
	err := w.Roll(ctx)
	next := w.LastTxid() + 1
	n.mu.Unlock()
	n.lastRoll.Store(n.nowMs())
	if err != nil {
		n.writerFailed(w, err)
		return 0, fmt.Errorf("roll edit log: %w", err)
	}
	return next, nil
}

func standbyError(category string, s State) error {
	if s == StateStandby {
		return webhdfs.StandbyError(category)
	}
	return fmt.Errorf("%w: Operation category %s is not supported in state %s. Visit https://s.apache.org/sbnn-error", webhdfs.ErrStandby, category, s)
}

// caller resolves who user is for the permission checker into c: nil
// when dfs.permissions.enabled is false, a superuser when user is the
// NameNode's own user or a member of dfs.permissions.superusergroup. It
// fills a caller the caller owns, so the hot read path allocates nothing.
func (n *NameNode) caller(c *caller, user string) *caller {
	if n.cfg.PermissionsDisabled {
		return nil
	}
	c.user = defUser(user)
	c.groups = n.groups.groups(c.user)
	c.super = c.user == n.cfg.Superuser || c.inGroup(n.cfg.Supergroup)
	return c
}

// mutate runs one client mutation as user: prepared, applied and appended under the
// namespace lock, then synced outside it (group commit). It returns only
// once a majority of JournalNodes holds the edit, or with an error.
func (n *NameNode) mutate(ctx context.Context, user string, op *Op) (bool, error) {
	if op.Time == 0 {
		op.Time = n.nowMs()
	}
	tagRetry(ctx, op)
	var who caller
	c := n.caller(&who, user)
	n.mu.Lock()
	if s := n.State(); s != StateActive || n.writer == nil {
		n.mu.Unlock()
		return false, standbyError("WRITE", s)
	}
	if n.bm.InSafeMode() {
		n.mu.Unlock()
		return false, n.safeModeError(opVerb(op.Code), op.Path)
	}
	if err := n.ns.checkOp(c, op); err != nil {
		n.mu.Unlock()
		return false, err
	}
	changed, err := n.ns.Prepare(op)
	if err != nil || !changed {
		n.mu.Unlock()
		return op.trivial && err == nil, err
	}
	w := n.writer
	txid := n.ns.lastTxid + 1
	if err := n.ns.Apply(txid, op); err != nil {
		n.mu.Unlock()
		n.writerFailed(w, err)
		return false, err
	}
	if got := n.logEdit(w, op); got != txid {
		n.mu.Unlock()
		err := fmt.Errorf("%w: journal gave txid %d to namespace txid %d", ErrJournal, got, txid)
		n.writerFailed(w, err)
		return false, err
	}
	n.inflight.Add(1)
	n.mu.Unlock()
	defer n.inflight.Done()
	if err := n.syncEdits(ctx, w, txid); err != nil {
		return false, err
	}
	// Counted once the edit is durable and only if it changed something
	// (a mkdirs of an existing directory creates nothing).
	switch op.Code {
	case OpCreate, OpMkdirs:
		n.act.filesCreated.Add(1)
	case OpRename:
		n.act.filesRenamed.Add(1)
	case OpDelete:
		n.act.filesDeleted.Add(1)
	}
	return true, nil
}

// readLock takes the namespace read lock if reads are allowed in this state.
func (n *NameNode) readLock() error {
	n.mu.RLock()
	s := n.State()
	if s == StateActive || (s == StateStandby && n.allowStale) {
		return nil
	}
	n.mu.RUnlock()
	return standbyError("READ", s)
}

func defUser(u string) string {
	if u == "" {
		return "dr.who" // Hadoop's anonymous web user
	}
	return u
}

// --- webhdfs.Namesystem ---
//
// Every call runs as user and is checked by the permission checker
// (permission.go) under the namespace lock, so any front end gets the checks.

func (n *NameNode) Mkdirs(ctx context.Context, path string, perm fs.FileMode, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpMkdirs, Path: path, Perm: permOf(perm), Owner: defUser(user)})
	return err
}

func (n *NameNode) Create(ctx context.Context, path string, data []byte, overwrite bool, perm fs.FileMode, replication int16, blockSize int64, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpCreate, Path: path, Data: data, Overwrite: overwrite, Perm: permOf(perm),
		Replication: replication, BlockSize: blockSize, Owner: defUser(user)})
	if err == nil {
		n.act.createFileOps.Add(1)
	}
	return err
}

func (n *NameNode) Append(ctx context.Context, path string, data []byte, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpAppend, Path: path, Data: data})
	if err == nil {
		n.act.filesAppended.Add(1)
	}
	return err
}

// readChecked takes the read lock and checks that user may do a read of
// kind on path; on success the caller holds the lock and must release it.
func (n *NameNode) readChecked(path, user string, kind readKind) error {
	var who caller
	c := n.caller(&who, user)
	if err := n.readLock(); err != nil {
		return err
	}
	if err := n.ns.checkRead(c, path, kind); err != nil {
		n.mu.RUnlock()
		return err
	}
	return nil
}

func (n *NameNode) Open(ctx context.Context, path string, offset, length int64, user string) ([]byte, error) {
	if err := n.readChecked(path, user, readOpen); err != nil {
		return nil, err
	}
	defer n.mu.RUnlock()
	n.act.getBlockLocations.Add(1)
	return n.ns.Read(path, offset, length)
}

func (n *NameNode) GetFileStatus(ctx context.Context, path, user string) (webhdfs.FileStatus, error) {
	if err := n.readChecked(path, user, readStatus); err != nil {
		return webhdfs.FileStatus{}, err
	}
	defer n.mu.RUnlock()
	n.act.fileInfoOps.Add(1)
	return n.ns.Stat(path)
}

func (n *NameNode) ListStatus(ctx context.Context, path, user string) ([]webhdfs.FileStatus, error) {
	if err := n.readChecked(path, user, readList); err != nil {
		return nil, err
	}
	defer n.mu.RUnlock()
	n.act.getListingOps.Add(1)
	return n.ns.List(path)
}

func (n *NameNode) Delete(ctx context.Context, path string, recursive bool, user string) (bool, error) {
	deleted, err := n.mutate(ctx, user, &Op{Code: OpDelete, Path: path, Recursive: recursive})
	if err == nil {
		n.act.deleteFileOps.Add(1)
	}
	return deleted, err
}

func (n *NameNode) Rename(ctx context.Context, src, dst, user string) (bool, error) {
	return n.mutate(ctx, user, &Op{Code: OpRename, Path: src, Dst: dst})
}

func (n *NameNode) SetPermission(ctx context.Context, path string, perm fs.FileMode, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpSetPermission, Path: path, Perm: permOf(perm)})
	return err
}

func (n *NameNode) SetOwner(ctx context.Context, path, owner, group, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpSetOwner, Path: path, Owner: owner, Group: group})
	return err
}

func (n *NameNode) GetContentSummary(ctx context.Context, path, user string) (webhdfs.ContentSummary, error) {
	if err := n.readChecked(path, user, readSummary); err != nil {
		return webhdfs.ContentSummary{}, err
	}
	defer n.mu.RUnlock()
	return n.ns.Summary(path)
}

func (n *NameNode) SetReplication(ctx context.Context, path string, replication int16, user string) (bool, error) {
	return n.mutate(ctx, user, &Op{Code: OpSetReplication, Path: path, Replication: replication})
}

func (n *NameNode) SetTimes(ctx context.Context, path string, mtime, atime int64, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpTimes, Path: path, MTime: mtime, ATime: atime})
	return err
}

func (n *NameNode) Truncate(ctx context.Context, path string, newLength int64, user string) (bool, error) {
	op := &Op{Code: OpTruncate, Path: path, Length: newLength, ClientName: recoveryHolder}
	if _, err := n.mutate(ctx, user, op); err != nil {
		return false, err
	}
	if op.Code != OpTruncateFile || op.GenStamp == 0 {
		return true, nil
	}
	// Within a block: the last block is cut by block recovery, and the
	// client waits for the file to close (Hadoop's truncate answers false).
	n.mu.Lock()
	defer n.mu.Unlock()
	if f := n.ns.walk(path); f != nil && f.uc != nil && len(f.blocks) > 0 && n.State() == StateActive {
		last := f.blocks[len(f.blocks)-1]
		cut := newLength - (f.length() - last.NumBytes)
		n.renew(recoveryHolder)
		if !n.bm.StartRecovery(last, op.GenStamp, &cut) {
			n.logf("namenode %s: truncate of %s: no live DataNode holds %s", n.cfg.ID, path, last.Block)
		}
	}
	return false, nil
}

func (n *NameNode) Concat(ctx context.Context, target string, srcs []string, user string) error {
	_, err := n.mutate(ctx, user, &Op{Code: OpConcat, Path: target, Srcs: srcs})
	return err
}

var _ webhdfs.Namesystem = (*NameNode)(nil)

// Totals are the namespace figures JMX and the status page show.
type Totals struct {
	Files, Dirs        int64
	LastTxid           int64
	LastCheckpointTxid int64
	LastCheckpointTime time.Time
	Epoch              int64
}

// Totals returns the namespace figures.
func (n *NameNode) Totals() Totals {
	n.mu.RLock()
	defer n.mu.RUnlock()
	t := Totals{LastCheckpointTxid: n.lastCkptTxid.Load(), LastCheckpointTime: time.UnixMilli(n.lastCkptTime.Load()), Epoch: n.epoch.Load()}
	if n.ns != nil {
		t.Files, t.Dirs, t.LastTxid = n.ns.files, n.ns.dirs, n.ns.lastTxid
	}
	return t
}

// Run loads the image and runs the standby tailer, checkpointer and the
// active's log roller until ctx ends; an active NameNode then finalizes its
// segment so the next active need not recover it.
func (n *NameNode) Run(ctx context.Context) error {
	if n.State() == StateInitializing {
		if err := n.Load(); err != nil {
			return err
		}
	}
	period := n.cfg.TailPeriod
	if period <= 0 {
		period = 10 * time.Millisecond
	}
	monitorCtx, stopMonitor := context.WithCancel(ctx)
	defer stopMonitor()
	go n.runBlockMonitor(monitorCtx, n.cfg.ReplicationInterval)
	sleep := period
	t := time.NewTimer(sleep)
	defer t.Stop()
	var (
		lastTailErr string
		lastTailLog time.Time
	)
	for {
		before := n.State()
		applied, err := n.TailOnce(ctx)

		sleep = n.nextTailSleep(sleep, period, applied > 0 || n.State() != before || before != StateStandby)
		if err != nil && ctx.Err() == nil {
			// The tailer retries every period: log a persistent error
			// (journalnodes down) once per 10 s, not every few milliseconds.
			if msg := err.Error(); msg != lastTailErr || time.Since(lastTailLog) > 10*time.Second {
				n.logf("namenode %s: %v", n.cfg.ID, err)
				lastTailErr, lastTailLog = msg, time.Now()
			}
			n.setErr(err)
		} else if err == nil {
			lastTailErr = ""
		}
		if txid, img, err := n.Checkpoint(false); err != nil {
			n.logf("namenode %s: checkpoint: %v", n.cfg.ID, err)
		} else if img != nil && n.Upload != nil {
			for _, p := range n.cfg.Peers {
				var re *RemoteError
				if err := n.Upload(ctx, p, txid, img); err != nil && !(errors.As(err, &re) && re.Status == 409) {
					// 409: that peer is not active; only the active keeps uploads.
					n.logf("namenode %s: upload %s to %s: %v", n.cfg.ID, ImageName(txid), p.ID, err)
				}
			}
		}
		n.maybeRoll(ctx)
		t.Reset(sleep)
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := n.TransitionToStandby(stop)
			cancel()
			n.state.Store(int32(StateStopping))
			return err
		case <-t.C:
		}
	}
}

// nextTailSleep is the tailer's next sleep (Hadoop's EditLogTailer): the
// period after a round that applied edits (or a state change, or while not
// standby), else, with dfs.ha.tail-edits.period.backoff-max set, twice the
// last sleep up to that maximum, so an idle standby stops polling the
// JournalNodes every few milliseconds while a busy one stays a period behind.
func (n *NameNode) nextTailSleep(last, period time.Duration, reset bool) time.Duration {
	backoffMax := n.cfg.TailBackoffMax
	if reset || backoffMax <= 0 {
		return period
	}
	return min(max(last, time.Millisecond)*2, max(backoffMax, period))
}

// logEdit appends op to the writer's buffer, timed as Hadoop's
// NameNodeActivity Transactions (FSEditLog.logEdit).
func (n *NameNode) logEdit(w JournalWriter, op *Op) int64 {
	began := time.Now()
	txid := w.Append(EncodeOp(op))
	n.act.transactions.Add(time.Since(began))
	return txid
}

// syncEdits waits until txid is durable on a quorum. Not under the client's
// context: an abandoned request must not look like a journal failure, and
// the edit is in the writer's buffer either way. The wait is a Syncs sample
// only for a writer that does not report its flushes itself.
func (n *NameNode) syncEdits(ctx context.Context, w JournalWriter, txid int64) error {
	began := time.Now()
	if err := w.Sync(context.WithoutCancel(ctx), txid); err != nil {
		n.writerFailed(w, err)
		return fmt.Errorf("edit %d was not acknowledged by a quorum of journalnodes: %w", txid, err)
	}
	if !n.act.syncsFromWriter.Load() {
		n.act.syncs.Add(time.Since(began))
	}
	return nil
}
