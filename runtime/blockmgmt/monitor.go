package blockmgmt

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

// ExpireInterval is how long a DataNode may stay silent before it is dead:
// 2 × dfs.namenode.heartbeat.recheck-interval + 10 × dfs.heartbeat.interval,
// as Hadoop's HeartbeatManager (10m30s with the defaults).
func (m *Manager) ExpireInterval() time.Duration {
	return 2*m.cfg.RecheckInterval + 10*m.cfg.HeartbeatInterval
}

// liveNormal is the number of replicas on live DataNodes in service: the
// replicas that count toward a block's replication.
func (m *Manager) liveNormal(b *BlockInfo) int {
	n := 0
	for _, d := range b.locs {
		if !d.dead && d.Info.AdminState == hdfs.AdminNormal {
			n++
		}
	}
	return n
}

// Tick is one round of the monitors (Hadoop's HeartbeatManager,
// RedundancyMonitor, DatanodeAdminMonitor and the safe mode check): dead
// DataNodes lose their replicas, and on the active, under-replicated blocks
// get a TRANSFER to new DataNodes, over-replicated ones and corrupt replicas
// an INVALIDATE, and decommissioning nodes whose every block has its
// replication elsewhere become DECOMMISSIONED.
func (m *Manager) Tick() {
	now := m.nowMs()
	expire := m.ExpireInterval().Milliseconds()
	for _, d := range m.nodes {
		if !d.dead && now-d.lastSeen > expire {
			d.dead = true
			m.expired++
			m.touchNode(d)
			m.removeNode(d)
		}
	}
	timeout := m.cfg.PendingTimeout.Milliseconds()
	for id, p := range m.pending {
		if now-p.started > timeout {
			delete(m.pending, id) // scheduled again below
			m.touch(id)
		}
	}
	m.scan()
	m.checkSafeMode(now)
}

// scan checks the blocks something happened to since the last round
// (Hadoop's LowRedundancyBlocks queues fed by block events, instead of a
// walk of every block under the namespace lock): it keeps the
// under-replicated and missing sets /jmx counts, and on the active sends
// re-replication and deletions. A block still short of replicas with no
// copy under way stays to be checked again next round.
func (m *Manager) scan() {
	streams := map[*Datanode]int{}
	// A fresh set for the events of this round: a Go map never shrinks,
	// and the first round after a restart holds every block.
	todo := m.check
	m.check = make(map[int64]struct{}, len(m.retry))
	every := m.YieldEvery
	if every <= 0 {
		every = 10000
	}
	seen := 0
	for id := range todo {
		if seen++; m.Yield != nil && seen%every == 0 {
			m.Yield() // todo is this round's own: others may change the rest meanwhile
		}
		b := m.blocks[id]
		if b == nil || b.State == UnderConstruction {
			delete(m.under, id)
			delete(m.missingSet, id)
			continue
		}
		live := m.liveNormal(b)
		all := m.liveCount(b)
		want := int(b.Replication)
		setIf(m.missingSet, id, all == 0)
		setIf(m.under, id, live < want)
		if !m.active || m.safe.on {
			continue // leaving safe mode looks at every block again
		}
		switch {
		case live < want && all > 0 && m.pending[b.ID] == nil:
			if !m.scheduleReplication(b, want-live, streams) {
				m.retry[id] = struct{}{} // no source or target free now
			}
		case live > want:
			m.dropExcess(b, live-want)
		}
		if live >= want && len(m.corrupt[b.ID]) > 0 {
			m.invalidateCorrupt(b, hdfs.Block{})
		}
	}
	for id := range m.retry {
		delete(m.retry, id)
		m.check[id] = struct{}{}
	}
	for _, d := range m.nodes {
		if d.Info.AdminState != hdfs.AdminDecommissionInProgress || d.dead {
			continue
		}
		// Hadoop's isSufficient: every block the node holds has its full
		// replication on other nodes in service (a block still being
		// written needs its minimum only).
		done := true
		for id := range d.blocks {
			b := m.blocks[id]
			if b == nil {
				continue
			}
			need := int(b.Replication)
			if b.State == UnderConstruction {
				need = int(m.cfg.MinReplication)
			}
			if m.liveNormal(b) < need {
				done = false
				break
			}
		}
		if done && (m.active || d.reported) {
			d.Info.AdminState = hdfs.AdminDecommissioned
		}
	}
}

func setIf(set map[int64]struct{}, id int64, in bool) {
	if in {
		set[id] = struct{}{}
	} else {
		delete(set, id)
	}
}

// touch has the next monitor round check b (a replica came or went, its
// state or replication changed).
func (m *Manager) touch(id int64) { m.check[id] = struct{}{} }

// Touch has the next monitor round check b; the namespace calls it when a
// block's replication changes.
func (m *Manager) Touch(b *BlockInfo) { m.touch(b.ID) }

// touchNode has the next round check every block d holds (it died, or
// its admin state changed).
func (m *Manager) touchNode(d *Datanode) {
	for id := range d.blocks {
		m.touch(id)
	}
}

// scheduleReplication sends a TRANSFER of b to n new DataNodes from one
// holder (a decommissioning one first: it serves no writes), at most
// dfs.namenode.replication.max-streams transfers per source a round.
func (m *Manager) scheduleReplication(b *BlockInfo, n int, streams map[*Datanode]int) bool {
	var src *Datanode
	for _, d := range b.locs {
		if d.dead || d.Info.AdminState == hdfs.AdminDecommissioned || m.IsCorrupt(b.ID, d) ||
			streams[d]+len(d.transfers) >= m.cfg.MaxStreams {
			continue
		}
		if src == nil || (d.Info.AdminState == hdfs.AdminDecommissionInProgress && src.Info.AdminState == hdfs.AdminNormal) {
			src = d
		}
	}
	if src == nil {
		return false
	}
	// Nor a node still holding a replica it was told to delete: its copy
	// would be refused as already there.
	exclude := slices.Concat(b.locs, m.corrupt[b.ID], m.deleting[b.ID])
	targets := m.ChooseTargets(n, "", exclude, b.NumBytes)
	if len(targets) == 0 {
		return false
	}
	streams[src]++
	src.transfers = append(src.transfers, transfer{block: b.Block, targets: targets})
	m.pending[b.ID] = &pendingRepl{targets: targets, started: m.nowMs()}
	return true
}

// dropExcess deletes n replicas of b, from the nodes with the least space
// left (Hadoop's chooseReplicaToDelete without racks).
func (m *Manager) dropExcess(b *BlockInfo, n int) {
	var cands []*Datanode
	for _, d := range b.locs {
		if !d.dead && d.Info.AdminState == hdfs.AdminNormal {
			cands = append(cands, d)
		}
	}
	slices.SortFunc(cands, func(x, y *Datanode) int {
		switch {
		case x.Info.Remaining < y.Info.Remaining:
			return -1
		case x.Info.Remaining > y.Info.Remaining:
			return 1
		}
		return strings.Compare(x.Info.UUID, y.Info.UUID)
	})
	for _, d := range cands[:min(n, len(cands))] {
		m.removeReplica(b, d)
		m.scheduleDelete(b.ID, d, b.Block)
	}
}

// StartRecovery schedules block recovery of b (the last block of a file
// whose lease expired) to newGenStamp on a primary DataNode among its
// pipeline (the one heard from last, as Hadoop's
// BlockUnderConstructionFeature.initializeBlockRecovery). False when no
// live DataNode holds a replica.
func (m *Manager) StartRecovery(b *BlockInfo, newGenStamp int64, truncateTo *int64) bool {
	u := m.uc[b.ID]
	if u == nil {
		u = &ucState{}
		m.uc[b.ID] = u
	}
	holders := slices.Clone(u.expected)
	for _, d := range b.locs {
		if !slices.Contains(holders, d) {
			holders = append(holders, d)
		}
	}
	var live []*Datanode
	for _, d := range holders {
		if !d.dead {
			live = append(live, d)
		}
	}
	if len(live) == 0 {
		return false
	}
	primary := live[0]
	for _, d := range live[1:] {
		if d.lastSeen > primary.lastSeen {
			primary = d
		}
	}
	u.recoveryID, u.primary = newGenStamp, primary
	if m.active {
		primary.recover = append(primary.recover, hdfs.RecoveringBlock{
			Block:       hdfs.ExtendedBlock{PoolID: m.cfg.PoolID, Block: b.Block},
			Locations:   Infos(live),
			NewGenStamp: newGenStamp,
			TruncateTo:  truncateTo,
		})
	}
	return true
}

// RecoveryID is the stamp of the block recovery under way for b (0: none).
func (m *Manager) RecoveryID(b *BlockInfo) int64 {
	if u := m.uc[b.ID]; u != nil {
		return u.recoveryID
	}
	return 0
}

// RefreshNodes applies new dfs.hosts and dfs.hosts.exclude lists (Hadoop's
// refreshNodes): a node newly excluded starts decommissioning (a dead one is
// decommissioned at once), one no longer excluded is back in service.
func (m *Manager) RefreshNodes(include, exclude []string) {
	set := func(l []string) map[string]bool {
		s := map[string]bool{}
		for _, h := range l {
			if h = strings.TrimSpace(h); h != "" {
				s[h] = true
			}
		}
		return s
	}
	m.include, m.exclude = set(include), set(exclude)
	for _, d := range m.nodes {
		m.applyHostLists(d)
	}
}

func (m *Manager) applyHostLists(d *Datanode) {
	before := d.Info.AdminState
	defer func() {
		if d.Info.AdminState != before {
			m.touchNode(d)
		}
	}()
	if listed(m.exclude, d.Info.DatanodeID) {
		if d.Info.AdminState == hdfs.AdminNormal {
			d.Info.AdminState = hdfs.AdminDecommissionInProgress
			if d.dead {
				d.Info.AdminState = hdfs.AdminDecommissioned
			}
		}
		return
	}
	d.Info.AdminState = hdfs.AdminNormal
}

// Stats are the figures /jmx shows (Hadoop's FSNamesystem metrics).
type Stats struct {
	CapacityTotal, CapacityUsed, CapacityRemaining, NonDFSUsed, BlockPoolUsed int64
	BlocksTotal, MissingBlocks, UnderReplicatedBlocks, CorruptBlocks          int64
	PendingReplicationBlocks, PendingDeletionBlocks, QueuedMessages           int64
	NumLive, NumDead, NumDecommissioning, NumDecommissioned                   int
	NumStale                                                                  int // live but silent past the stale interval
	TotalLoad                                                                 int
	// ExpiredHeartbeats counts the DataNodes declared dead since start.
	ExpiredHeartbeats int64
}

// Stats returns the block figures as of the last monitor round (missing,
// under-replicated) or now (the others) and the DataNodes now.
func (m *Manager) Stats() Stats {
	s := Stats{BlocksTotal: int64(len(m.blocks)), MissingBlocks: int64(len(m.missingSet)), UnderReplicatedBlocks: int64(len(m.under)),
		CorruptBlocks: int64(len(m.corrupt)), PendingReplicationBlocks: int64(len(m.pending)), QueuedMessages: int64(m.nqueued),
		ExpiredHeartbeats: m.expired}
	for _, d := range m.nodes {
		s.PendingDeletionBlocks += int64(len(d.invalidate))
		if d.dead {
			s.NumDead++
			continue
		}
		s.NumLive++
		if m.Stale(d) {
			s.NumStale++
		}
		s.TotalLoad += d.Info.XceiverCount
		switch d.Info.AdminState {
		case hdfs.AdminDecommissionInProgress:
			s.NumDecommissioning++
		case hdfs.AdminDecommissioned:
			s.NumDecommissioned++
		}
		s.CapacityTotal += d.Info.Capacity
		s.CapacityUsed += d.Info.DFSUsed
		s.CapacityRemaining += d.Info.Remaining
		s.NonDFSUsed += d.Info.NonDFSUsed
		s.BlockPoolUsed += d.Info.BlockPoolUsed
	}
	return s
}

// safeMode is Hadoop's BlockManagerSafeMode: a NameNode starts in it and
// leaves once threshold-pct of the complete blocks have their minimum
// replicas and min.datanodes DataNodes are alive, extension later.
//
// While it is on, nothing is replicated or deleted (Hadoop's
// computeDatanodeWork does no work in safe mode): the DataNodes get no
// TRANSFER or INVALIDATE, only block recoveries, and the active looks at
// every block again when it leaves.
type safeMode struct {
	on        bool
	manual    bool
	reachedAt int64 // ms when the thresholds were met; 0: not met
	safe      int64 // blocks with their minimum replication, last check
	total     int64
	// future holds the replicas an active in safe mode was told of whose
	// block lies beyond the last one its namespace allocated (Hadoop's
	// blocks "in the future"): the metadata is older than the DataNodes'
	// data. Deleting them would lose that data, so safe mode does not end
	// by itself, nor on a plain leave, while there are any; a forced exit
	// deletes them.
	future map[int64][]futureReplica
}

type futureReplica struct {
	dn    *Datanode
	block hdfs.Block
}

// InSafeMode reports whether writes are refused.
func (m *Manager) InSafeMode() bool { return m.safe.on }

// InStartupSafeMode reports whether the manager is in the safe mode it
// starts in (not one entered by hand), which ends by itself.
func (m *Manager) InStartupSafeMode() bool { return m.safe.on && !m.safe.manual }

// EnterSafeMode puts the manager in safe mode by hand (dfsadmin
// -safemode enter); only LeaveSafeMode takes it out.
func (m *Manager) EnterSafeMode() { m.safe.on, m.safe.manual, m.safe.reachedAt = true, true, 0 }

// LeaveSafeMode leaves safe mode now (dfsadmin -safemode leave, or with
// force -safemode forceExit). Without force it refuses while replicas of
// blocks from the future are held, as Hadoop's, and reports whether it
// left; with force those replicas are deleted.
func (m *Manager) LeaveSafeMode(force bool) bool {
	if !m.safe.on {
		return true
	}
	if len(m.safe.future) > 0 && !force {
		return false
	}
	for _, rs := range m.safe.future {
		for _, r := range rs {
			if !r.dn.dead {
				r.dn.invalidate = append(r.dn.invalidate, r.block)
			}
		}
	}
	m.safe.future = nil
	m.leaveSafeMode()
	return true
}

// leaveSafeMode turns safe mode off; the active then looks at every block
// once (Hadoop's processMisReplicatedBlocks), since nothing was scheduled
// for them while it was on.
func (m *Manager) leaveSafeMode() {
	m.safe.on, m.safe.manual, m.safe.reachedAt = false, false, 0
	for _, d := range m.nodes {
		d.held = nil
	}
	if m.active {
		for id := range m.blocks {
			m.touch(id)
		}
	}
}

// BytesInFuture is the bytes of the blocks from the future held in safe
// mode (Hadoop's BytesInFuture): what a forced exit would delete.
func (m *Manager) BytesInFuture() int64 {
	var n int64
	for _, rs := range m.safe.future {
		var most int64
		for _, r := range rs {
			most = max(most, r.block.NumBytes)
		}
		n += most
	}
	return n
}

// holdFuture keeps a replica of a block from the future (safe mode, on the
// active) instead of deleting it.
func (m *Manager) holdFuture(d *Datanode, r hdfs.Block) {
	if m.safe.future == nil {
		m.safe.future = map[int64][]futureReplica{}
	}
	rs := m.safe.future[r.ID]
	for i := range rs {
		if rs[i].dn == d {
			rs[i].block = r
			return
		}
	}
	m.safe.future[r.ID] = append(rs, futureReplica{dn: d, block: r})
}

func (m *Manager) checkSafeMode(now int64) {
	if !m.safe.on || m.safe.manual {
		return
	}
	var total, safe int64
	for _, b := range m.blocks {
		if b.State == UnderConstruction {
			continue
		}
		total++
		if m.liveCount(b) >= int(m.cfg.MinReplication) {
			safe++
		}
	}
	m.safe.total, m.safe.safe = total, safe
	live := 0
	for _, d := range m.nodes {
		if !d.dead {
			live++
		}
	}
	threshold := int64(float64(total) * m.cfg.SafeModeThreshold)
	met := safe >= threshold && live >= m.cfg.SafeModeMinDatanodes && m.cfg.SafeModeThreshold <= 1
	if !met {
		m.safe.reachedAt = 0
		return
	}
	// Hadoop skips the extension when the namespace has no block: a new
	// namespace is writable at once.
	if m.safe.reachedAt == 0 {
		m.safe.reachedAt = now
	}
	if m.cfg.SafeModeExtension > 0 && total > 0 && now-m.safe.reachedAt < m.cfg.SafeModeExtension.Milliseconds() {
		return
	}
	if len(m.safe.future) > 0 {
		return // only an operator's forced exit deletes them
	}
	m.leaveSafeMode()
}

// CheckSafeMode checks the safe mode thresholds now, outside a monitor
// round: the NameNode calls it once its namespace holds every edit of the
// journal (a namespace known complete and without blocks leaves safe mode
// at once, not at the first round).
func (m *Manager) CheckSafeMode() { m.checkSafeMode(m.nowMs()) }

// SafeModeTip is Hadoop's FSNamesystem.getSafeModeTip ("" when off).
func (m *Manager) SafeModeTip() string {
	if !m.safe.on {
		return ""
	}
	if m.safe.manual {
		return "Safe mode is ON. It was turned on manually. Use \"hdfs dfsadmin -safemode leave\" to turn safe mode off."
	}
	if len(m.safe.future) > 0 {
		return fmt.Sprintf("Safe mode is ON. Name node detected %d block(s) beyond the last block its namespace allocated. "+
			"This means that its metadata is older than the DataNodes' data (restored or replaced by hand). "+
			"Exiting safe mode will cause loss of %d byte(s). Please restart the NameNode with the right metadata, "+
			"or use \"hdfs dfsadmin -safemode forceExit\" if you are certain that it was started with the correct fsimage and edits.",
			len(m.safe.future), m.BytesInFuture())
	}
	threshold := int64(float64(m.safe.total) * m.cfg.SafeModeThreshold)
	var b strings.Builder
	b.WriteString("Safe mode is ON. ")
	if m.safe.safe < threshold {
		fmt.Fprintf(&b, "The reported blocks %d needs additional %d blocks to reach the threshold %.4f of total blocks %d.\n",
			m.safe.safe, threshold-m.safe.safe, m.cfg.SafeModeThreshold, m.safe.total)
	} else {
		fmt.Fprintf(&b, "The reported blocks %d has reached the threshold %.4f of total blocks %d. ",
			m.safe.safe, m.cfg.SafeModeThreshold, m.safe.total)
	}
	if m.cfg.SafeModeMinDatanodes == 0 {
		b.WriteString("The minimum number of live datanodes is not required. ")
	} else if live := m.Stats().NumLive; live < m.cfg.SafeModeMinDatanodes {
		fmt.Fprintf(&b, "The number of live datanodes %d needs an additional %d live datanodes to reach the minimum number %d.\n",
			live, m.cfg.SafeModeMinDatanodes-live, m.cfg.SafeModeMinDatanodes)
	} else {
		fmt.Fprintf(&b, "The number of live datanodes %d has reached the minimum number %d. ", live, m.cfg.SafeModeMinDatanodes)
	}
	if m.safe.reachedAt > 0 {
		left := m.cfg.SafeModeExtension.Milliseconds() - (m.nowMs() - m.safe.reachedAt)
		fmt.Fprintf(&b, "In safe mode extension. Safe mode will be turned off automatically in %d seconds.", max(left/1000, 0))
	} else {
		b.WriteString("Safe mode will be turned off automatically once the thresholds have been reached.")
	}
	return b.String()
}

// DecomProgress counts, for a decommissioning node, its blocks still short
// of their replication elsewhere and those it holds the only live replica
// of (Hadoop's DecomNodes underReplicatedBlocks and
// decommissionOnlyReplicas).
func (m *Manager) DecomProgress(d *Datanode) (underReplicated, only int) {
	for id := range d.blocks {
		b := m.blocks[id]
		if b == nil {
			continue
		}
		live := m.liveNormal(b)
		if live < int(b.Replication) {
			underReplicated++
		}
		if live == 0 {
			only++
		}
	}
	return underReplicated, only
}

// LastContact is the time of the node's last heartbeat (ms since the epoch).
func (d *Datanode) LastContact() int64 { return d.lastSeen }
