// Package blockmgmt is the NameNode's block manager (Hadoop's BlockManager
// and DatanodeManager in one): the DataNodes and their liveness, the blocks
// map (which DataNodes hold a replica of each block), the processing of
// full and incremental block reports, the standby's queue of reports about
// blocks its edits have not reached yet (Hadoop's PendingDataNodeMessages),
// corrupt replicas, the replication monitor, decommissioning and safe mode.
//
// The namespace owns the blocks of each file (a file's list of *BlockInfo);
// the Manager indexes the same *BlockInfo values by block ID. A Manager is
// not safe for concurrent use: the NameNode calls it under its namespace
// lock, as Hadoop's BlockManager runs under the FSNamesystem lock, so the
// namespace and the blocks map never disagree.
package blockmgmt

import (
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

// State is a block's state in the namespace (Hadoop's BlockUCState).
type State uint8

const (
	// Complete: the file's writer is done with it and the block has its
	// minimum number of replicas.
	Complete State = iota
	// Committed: the writer told its final length and stamp, replicas
	// are still to be reported.
	Committed
	// UnderConstruction: being written.
	UnderConstruction
)

// BlockInfo is one block of a file: its identity, the replication its
// file asks for and the DataNodes holding a replica with its current
// generation stamp. It is kept small (the NameNode's memory is per block).
type BlockInfo struct {
	hdfs.Block
	FileID      int64 // the inode holding it
	Replication int16
	State       State
	locs        []*Datanode
}

// Locs returns the DataNodes holding a replica (live or not).
func (b *BlockInfo) Locs() []*Datanode { return b.locs }

func (b *BlockInfo) hasLoc(d *Datanode) bool {
	for _, l := range b.locs {
		if l == d {
			return true
		}
	}
	return false
}

func (b *BlockInfo) addLoc(d *Datanode) bool {
	if b.hasLoc(d) {
		return false
	}
	if b.locs == nil {
		// Sized for the replication at once: growing 1→2→4 wastes a slot
		// and two allocations per block.
		b.locs = make([]*Datanode, 0, max(int(b.Replication), 1))
	}
	b.locs = append(b.locs, d)
	return true
}

func (b *BlockInfo) removeLoc(d *Datanode) bool {
	for i, l := range b.locs {
		if l == d {
			b.locs[i] = b.locs[len(b.locs)-1]
			b.locs[len(b.locs)-1] = nil
			b.locs = b.locs[:len(b.locs)-1]
			if len(b.locs) == 0 {
				b.locs = nil
			}
			return true
		}
	}
	return false
}

// ucState is what only a block being written has: the pipeline's
// DataNodes and, during lease recovery, the recovery's stamp.
type ucState struct {
	expected   []*Datanode
	recoveryID int64 // the new generation stamp of a block recovery under way
	primary    *Datanode
}

// Datanode is one DataNode as the NameNode knows it (Hadoop's
// DatanodeDescriptor).
type Datanode struct {
	Info     hdfs.DatanodeInfo
	Reg      hdfs.Registration
	lastSeen int64 // ms; last heartbeat or registration
	dead     bool
	// blocks holds the IDs of the blocks this node has a replica of (as
	// the blocks map says), for a full report's diff and for decommission.
	blocks     map[int64]struct{}
	invalidate []hdfs.Block
	// held are the IDs of the unknown replicas queued in invalidate
	// while in safe mode (sent only after it): every full report lists
	// them again meanwhile, and each is queued once (Hadoop keeps a set).
	held      map[int64]struct{}
	transfers []transfer
	recover   []hdfs.RecoveringBlock
	// reported is true once a full block report arrived since registration.
	reported bool
}

// Dead reports whether the node missed its heartbeats past the expiry.
func (d *Datanode) Dead() bool { return d.dead }

// NumBlocks is the number of replicas the node holds.
func (d *Datanode) NumBlocks() int { return len(d.blocks) }

type transfer struct {
	block   hdfs.Block
	targets []*Datanode
}

// pendingRepl is a re-replication under way (Hadoop's
// PendingReconstructionBlocks): targets that have not reported the copy yet.
type pendingRepl struct {
	targets []*Datanode
	started int64 // ms
}

// queued is a replica report the standby could not apply yet (Hadoop's
// PendingDataNodeMessages.ReportedBlockInfo).
type queued struct {
	dn    *Datanode
	block hdfs.Block
	state hdfs.ReplicaState
}

// Config is the block manager's part of hdfs-site.xml.
type Config struct {
	PoolID               string
	DefaultReplication   int16         // dfs.replication (3)
	MinReplication       int16         // dfs.namenode.replication.min (1)
	HeartbeatInterval    time.Duration // dfs.heartbeat.interval (3s)
	RecheckInterval      time.Duration // dfs.namenode.heartbeat.recheck-interval (5m)
	MaxStreams           int           // dfs.namenode.replication.max-streams (2)
	InvalidateLimit      int           // dfs.block.invalidate.limit (1000)
	PendingTimeout       time.Duration // dfs.namenode.reconstruction.pending.timeout-sec (5m)
	SafeModeThreshold    float64       // dfs.namenode.safemode.threshold-pct (0.999)
	SafeModeMinDatanodes int           // dfs.namenode.safemode.min.datanodes (0)
	SafeModeExtension    time.Duration // dfs.namenode.safemode.extension (30s)
	// StaleInterval is dfs.namenode.stale.datanode.interval (30s): a
	// DataNode silent for longer is stale, the last choice for a reader
	// or a WebHDFS redirect even before it is declared dead.
	StaleInterval time.Duration
}

// DefaultConfig is Hadoop's defaults.
func DefaultConfig() Config {
	return Config{DefaultReplication: 3, MinReplication: 1, HeartbeatInterval: 3 * time.Second,
		RecheckInterval: 5 * time.Minute, MaxStreams: 2, InvalidateLimit: 1000, PendingTimeout: 5 * time.Minute,
		SafeModeThreshold: 0.999, SafeModeExtension: 30 * time.Second, StaleInterval: 30 * time.Second}
}

// Errors of registration.
var (
	// ErrDisallowed: the DataNode is not in dfs.hosts, or its cluster or
	// pool differs (Hadoop's DisallowedDatanodeException /
	// IncorrectVersionException).
	ErrDisallowed = errors.New("DisallowedDatanodeException")
)

// Manager is the block manager of one nameservice's NameNode.
type Manager struct {
	cfg  Config
	now  func() time.Time
	rand *rand.Rand

	blocks  map[int64]*BlockInfo
	uc      map[int64]*ucState
	corrupt map[int64][]*Datanode
	// deleting holds, per block, the DataNodes told to delete a replica
	// of it (an excess or corrupt one) that have not reported it deleted:
	// no longer counted, and not a target for a new copy while the old
	// one is still on their disk (Hadoop keeps such a replica in the
	// blocks map as excess until the DataNode reports it deleted).
	deleting map[int64][]*Datanode
	pending  map[int64]*pendingRepl
	queue    map[int64][]queued
	nqueued  int

	nodes map[string]*Datanode // by datanodeUuid

	// include and exclude are dfs.hosts and dfs.hosts.exclude as last
	// read: host names, IPs or host:port entries.
	include, exclude map[string]bool

	active bool
	// LastBlockID tells a block the namespace has not allocated yet (a
	// report ahead of the standby's edits) from one it deleted.
	LastBlockID func() int64
	// Yield, when set, is called every YieldEvery blocks of a monitor
	// round: the NameNode lets its namespace lock go for a moment there,
	// so that the round after an image load or a failover (every block)
	// does not hold it for seconds (Hadoop's processMisReplicatedBlocks
	// works in chunks the same way). The manager may change during it.
	Yield      func()
	YieldEvery int

	safe safeMode
	// check holds the blocks the next monitor round looks at; under and
	// missingSet the blocks it found short of replicas or without any;
	// retry those it could not re-replicate yet.
	check, under, missingSet, retry map[int64]struct{}
	expired                         int64 // DataNodes declared dead
}

// New returns an empty block manager in safe mode (a NameNode starts in it).
func New(cfg Config, now func() time.Time, seed uint64) *Manager {
	if now == nil {
		now = time.Now
	}
	d := DefaultConfig()
	if cfg.DefaultReplication <= 0 {
		cfg.DefaultReplication = d.DefaultReplication
	}
	if cfg.MinReplication <= 0 {
		cfg.MinReplication = d.MinReplication
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = d.HeartbeatInterval
	}
	if cfg.RecheckInterval <= 0 {
		cfg.RecheckInterval = d.RecheckInterval
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = d.MaxStreams
	}
	if cfg.InvalidateLimit <= 0 {
		cfg.InvalidateLimit = d.InvalidateLimit
	}
	if cfg.PendingTimeout <= 0 {
		cfg.PendingTimeout = d.PendingTimeout
	}
	if cfg.StaleInterval <= 0 {
		cfg.StaleInterval = d.StaleInterval
	}
	m := &Manager{cfg: cfg, now: now, rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		blocks: map[int64]*BlockInfo{}, uc: map[int64]*ucState{}, corrupt: map[int64][]*Datanode{},
		deleting: map[int64][]*Datanode{}, pending: map[int64]*pendingRepl{}, queue: map[int64][]queued{}, nodes: map[string]*Datanode{},
		check: map[int64]struct{}{}, under: map[int64]struct{}{}, missingSet: map[int64]struct{}{}, retry: map[int64]struct{}{}}
	m.safe.on = true
	return m
}

// Config returns the configuration the manager runs with.
func (m *Manager) Config() Config { return m.cfg }

func (m *Manager) nowMs() int64 { return m.now().UnixMilli() }

// SetActive switches between the active's behaviour (commands to
// DataNodes, invalidation of unknown replicas) and the standby's (reports
// about blocks from the future are queued). A new active first applies
// whatever is still queued: its edits are complete now, so a block still
// unknown is one to delete.
func (m *Manager) SetActive(active bool) {
	if active && !m.active {
		m.active = true
		// Hadoop's processMisReplicatedBlocks: a new active looks at every
		// block once.
		for id := range m.blocks {
			m.touch(id)
		}
		for id, qs := range m.queue {
			delete(m.queue, id)
			m.nqueued -= len(qs)
			for _, q := range qs {
				if !q.dn.dead {
					m.processReplica(q.dn, q.block, q.state)
				}
			}
		}
		return
	}
	if !active && m.active {
		m.active = false
		// Commands are the active's: a standby sends none, so none may wait.
		for _, d := range m.nodes {
			d.invalidate, d.transfers, d.recover, d.held = nil, nil, nil, nil
		}
		m.safe.future = nil // a standby queues such reports instead
		clear(m.pending)
		clear(m.deleting)
	}
}

// Active reports whether the manager acts as the active's.
func (m *Manager) Active() bool { return m.active }

// Get returns the block with id, or nil.
func (m *Manager) Get(id int64) *BlockInfo { return m.blocks[id] }

// NumBlocks is BlocksTotal.
func (m *Manager) NumBlocks() int { return len(m.blocks) }

// Queued is the number of reports the standby holds for blocks its edits
// have not reached (Hadoop's PendingDataNodeMessageCount).
func (m *Manager) Queued() int { return m.nqueued }

// AddBlock indexes a block the namespace just gave a file, then applies
// the reports a standby queued for it.
func (m *Manager) AddBlock(b *BlockInfo) {
	m.blocks[b.ID] = b
	m.touch(b.ID)
	if b.State == UnderConstruction {
		m.uc[b.ID] = &ucState{}
	}
	m.replayQueued(b.ID)
}

// Rebuild replaces the blocks map with the namespace's blocks (after an
// image was loaded), keeping the replicas known of blocks that did not change.
func (m *Manager) Rebuild(blocks []*BlockInfo) {
	old := m.blocks
	m.blocks = make(map[int64]*BlockInfo, len(blocks))
	m.uc = map[int64]*ucState{}
	for _, d := range m.nodes {
		clear(d.blocks)
	}
	clear(m.under)
	clear(m.missingSet)
	for _, b := range blocks {
		m.blocks[b.ID] = b
		m.touch(b.ID)
		if b.State == UnderConstruction {
			m.uc[b.ID] = &ucState{}
		}
		if o := old[b.ID]; o != nil && o.GenStamp == b.GenStamp {
			for _, d := range o.locs {
				m.addReplica(b, d)
			}
		}
	}
	for id := range m.corrupt {
		if m.blocks[id] == nil {
			delete(m.corrupt, id)
		}
	}
	for id := range m.deleting {
		if m.blocks[id] == nil {
			delete(m.deleting, id)
		}
	}
	clear(m.pending)
	for id := range m.queue {
		m.replayQueued(id)
	}
}

// RemoveBlock drops a block the namespace freed (its file was deleted,
// overwritten or truncated, or the block abandoned). The active has its
// replicas deleted.
func (m *Manager) RemoveBlock(b *BlockInfo) {
	if m.blocks[b.ID] != b {
		return
	}
	delete(m.blocks, b.ID)
	delete(m.check, b.ID)
	delete(m.under, b.ID)
	delete(m.missingSet, b.ID)
	delete(m.retry, b.ID)
	holders := b.locs
	if u := m.uc[b.ID]; u != nil {
		for _, d := range u.expected {
			if !b.hasLoc(d) {
				holders = append(holders, d)
			}
		}
	}
	delete(m.uc, b.ID)
	delete(m.pending, b.ID)
	delete(m.deleting, b.ID)
	holders = append(holders, m.corrupt[b.ID]...)
	delete(m.corrupt, b.ID)
	for _, d := range holders {
		delete(d.blocks, b.ID)
		if m.active {
			d.invalidate = append(d.invalidate, b.Block)
		}
	}
	b.locs = nil
}

// UpdateBlock is called after the namespace changed a block's stamp,
// length or state (pipeline recovery, commit, close). Replicas with the
// old stamp are no longer replicas of it.
func (m *Manager) UpdateBlock(b *BlockInfo, oldGenStamp int64) {
	m.touch(b.ID)
	if b.GenStamp != oldGenStamp {
		for _, d := range b.locs {
			delete(d.blocks, b.ID)
		}
		b.locs = nil
		if u := m.uc[b.ID]; u != nil {
			u.recoveryID = 0
		}
	}
	if b.State == UnderConstruction {
		if m.uc[b.ID] == nil {
			m.uc[b.ID] = &ucState{}
		}
	} else {
		delete(m.uc, b.ID)
		if b.State == Committed && m.liveCount(b) >= int(m.cfg.MinReplication) {
			b.State = Complete
		}
	}
	m.replayQueued(b.ID)
}

// SetExpected records the pipeline of a block being written (addBlock,
// updatePipeline, commitBlockSynchronization's new targets).
func (m *Manager) SetExpected(b *BlockInfo, nodes []*Datanode) {
	u := m.uc[b.ID]
	if u == nil {
		return
	}
	u.expected = append(u.expected[:0:0], nodes...)
}

// Expected returns the pipeline of a block being written.
func (m *Manager) Expected(b *BlockInfo) []*Datanode {
	if u := m.uc[b.ID]; u != nil {
		return u.expected
	}
	return nil
}

// addReplica records that d holds b.
func (m *Manager) addReplica(b *BlockInfo, d *Datanode) {
	// A new replica matters to the monitor when the block was short of
	// replicas or now has too many (a block not yet checked is in check).
	if _, short := m.under[b.ID]; short || len(b.locs) >= int(b.Replication) {
		m.touch(b.ID)
	}
	m.deleted(b.ID, d) // a copy arrived again: the node holds one now
	if b.addLoc(d) {
		if d.blocks == nil {
			d.blocks = map[int64]struct{}{}
		}
		d.blocks[b.ID] = struct{}{}
	}
	if b.State == Committed && m.liveCount(b) >= int(m.cfg.MinReplication) {
		b.State = Complete
	}
	if p := m.pending[b.ID]; p != nil {
		for i, t := range p.targets {
			if t == d {
				p.targets = append(p.targets[:i], p.targets[i+1:]...)
				break
			}
		}
		if len(p.targets) == 0 {
			delete(m.pending, b.ID)
		}
	}
}

func (m *Manager) removeReplica(b *BlockInfo, d *Datanode) {
	m.touch(b.ID)
	b.removeLoc(d)
	delete(d.blocks, b.ID)
}

// liveCount is the number of replicas on live DataNodes, decommissioning
// ones included (they still serve reads).
func (m *Manager) liveCount(b *BlockInfo) int {
	n := 0
	for _, d := range b.locs {
		if !d.dead {
			n++
		}
	}
	return n
}

// HasMinReplicas reports whether b has its minimum replication.
func (m *Manager) HasMinReplicas(b *BlockInfo) bool {
	return m.liveCount(b) >= int(m.cfg.MinReplication)
}

// Commit records the writer's final length and stamp of a block (it
// becomes Committed, or Complete once it has its minimum replicas).
func (m *Manager) Commit(b *BlockInfo) {
	m.touch(b.ID)
	b.State = Committed
	delete(m.uc, b.ID)
	if m.liveCount(b) >= int(m.cfg.MinReplication) {
		b.State = Complete
	}
}

// IsCorrupt reports whether d's replica of block id was found corrupt.
func (m *Manager) IsCorrupt(id int64, d *Datanode) bool {
	for _, c := range m.corrupt[id] {
		if c == d {
			return true
		}
	}
	return false
}

// CorruptReplicas returns the DataNodes whose replica of id is corrupt.
func (m *Manager) CorruptReplicas(id int64) []*Datanode { return m.corrupt[id] }

// markCorrupt moves d's replica of b to the corrupt replicas; the active
// deletes it at once when enough good replicas remain, else after the
// monitor re-replicated the block.
func (m *Manager) markCorrupt(b *BlockInfo, d *Datanode, reported hdfs.Block) {
	m.touch(b.ID)
	m.removeReplica(b, d)
	if !m.IsCorrupt(b.ID, d) {
		m.corrupt[b.ID] = append(m.corrupt[b.ID], d)
	}
	if m.active && m.liveNormal(b) >= int(b.Replication) {
		m.invalidateCorrupt(b, reported)
	}
}

// invalidateCorrupt has every corrupt replica of b deleted.
func (m *Manager) invalidateCorrupt(b *BlockInfo, blk hdfs.Block) {
	for _, d := range m.corrupt[b.ID] {
		if blk.ID == 0 {
			blk = b.Block
		}
		m.scheduleDelete(b.ID, d, blk)
	}
	delete(m.corrupt, b.ID)
}

// scheduleDelete has d delete its replica blk of block id, and keeps d
// from being chosen for a new copy of the block until it reports the
// replica deleted.
func (m *Manager) scheduleDelete(id int64, d *Datanode, blk hdfs.Block) {
	d.invalidate = append(d.invalidate, blk)
	if !slices.Contains(m.deleting[id], d) {
		m.deleting[id] = append(m.deleting[id], d)
	}
}

// deleted forgets that d was told to delete its replica of block id (it
// reported it gone, or holds a copy again).
func (m *Manager) deleted(id int64, d *Datanode) {
	ds := m.deleting[id]
	if i := slices.Index(ds, d); i >= 0 {
		ds = slices.Delete(ds, i, i+1)
		if len(ds) == 0 {
			delete(m.deleting, id)
		} else {
			m.deleting[id] = ds
		}
	}
}

// SetPoolID names the block pool (known once the NameNode read its VERSION).
func (m *Manager) SetPoolID(id string) { m.cfg.PoolID = id }

// AddReplicas records replicas a block recovery put on nodes (the
// primary's commitBlockSynchronization names them; Hadoop adds them as it
// closes the file).
func (m *Manager) AddReplicas(b *BlockInfo, nodes []*Datanode) {
	for _, d := range nodes {
		if !d.dead {
			m.addReplica(b, d)
		}
	}
}
