package blockmgmt

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/hactl/hactl/runtime/hdfs"
)

// Node returns the DataNode with uuid, or nil.
func (m *Manager) Node(uuid string) *Datanode { return m.nodes[uuid] }

// Nodes returns every DataNode known, sorted by transfer address.
func (m *Manager) Nodes() []*Datanode {
	out := make([]*Datanode, 0, len(m.nodes))
	for _, d := range m.nodes {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Datanode) int { return strings.Compare(a.Info.XferAddr(), b.Info.XferAddr()) })
	return out
}

// listed reports whether d is named in a dfs.hosts-style set: by host
// name, IP, or either with its transfer port.
func listed(set map[string]bool, id hdfs.DatanodeID) bool {
	port := strconv.Itoa(id.XferPort)
	return set[id.IP] || set[id.Hostname] || set[net.JoinHostPort(id.IP, port)] || set[net.JoinHostPort(id.Hostname, port)]
}

// Register admits a DataNode (Hadoop's DatanodeManager.registerDatanode):
// its cluster and pool must be this NameNode's and, when dfs.hosts names
// any host, it must be named there. A DataNode that registers again (a
// restart) keeps its descriptor and sends a full report next; another
// descriptor at the same transfer address (a reformatted DataNode with a
// new UUID) is dropped.
func (m *Manager) Register(reg hdfs.Registration, clusterID string) (*Datanode, error) {
	if reg.UUID == "" {
		return nil, fmt.Errorf("%w: registration without a datanodeUuid", ErrDisallowed)
	}
	if reg.ClusterID != clusterID || (reg.BlockPoolID != "" && reg.BlockPoolID != m.cfg.PoolID) {
		return nil, fmt.Errorf("%w: datanode %s is of cluster %s pool %s; this namenode serves cluster %s pool %s",
			ErrDisallowed, reg.XferAddr(), reg.ClusterID, reg.BlockPoolID, clusterID, m.cfg.PoolID)
	}
	if len(m.include) > 0 && !listed(m.include, reg.DatanodeID) {
		return nil, fmt.Errorf("%w: Datanode denied communication with namenode because the host is not in the include-list: %s", ErrDisallowed, reg.XferAddr())
	}
	for uuid, o := range m.nodes {
		if uuid != reg.UUID && o.Info.XferAddr() == reg.XferAddr() {
			m.removeNode(o)
			delete(m.nodes, uuid)
		}
	}
	d := m.nodes[reg.UUID]
	if d == nil {
		d = &Datanode{blocks: map[int64]struct{}{}}
		d.Info.AdminState = hdfs.AdminNormal
		m.nodes[reg.UUID] = d
	} else if d.dead {
		// Back from the dead: its replicas come with the next full report.
		d.dead = false
	}
	d.Reg = reg
	d.Info.DatanodeID = reg.DatanodeID
	if d.Info.Location == "" {
		d.Info.Location = "/default-rack"
	}
	d.lastSeen = m.nowMs()
	d.Info.LastUpdate = d.lastSeen
	d.reported = false
	m.applyHostLists(d)
	return d, nil
}

// removeNode forgets every replica d holds (it is dead or replaced).
func (m *Manager) removeNode(d *Datanode) {
	m.touchNode(d)
	for id := range d.blocks {
		if b := m.blocks[id]; b != nil {
			b.removeLoc(d)
		}
	}
	clear(d.blocks)
	for id, cs := range m.corrupt {
		if i := slices.Index(cs, d); i >= 0 {
			cs = slices.Delete(cs, i, i+1)
			if len(cs) == 0 {
				delete(m.corrupt, id)
			} else {
				m.corrupt[id] = cs
			}
		}
	}
	for id := range m.deleting {
		m.deleted(id, d)
	}
	for id, p := range m.pending {
		if i := slices.Index(p.targets, d); i >= 0 {
			// The copy will not arrive: the monitor schedules it again
			// (the block must be checked: d never held it, so touching
			// d's blocks above does not cover it).
			delete(m.pending, id)
			m.touch(id)
		}
	}
	d.invalidate, d.transfers, d.recover, d.held = nil, nil, nil, nil
}

// known returns the registered DataNode of reg, or hdfs.ErrNotRegistered.
func (m *Manager) known(reg hdfs.Registration) (*Datanode, error) {
	d := m.nodes[reg.UUID]
	if d == nil || d.dead {
		return nil, fmt.Errorf("%w: Data node %s is attempting to report storage ID %s. Node %s is expected to serve this storage.",
			hdfs.ErrNotRegistered, reg.XferAddr(), reg.UUID, reg.XferAddr())
	}
	return d, nil
}

// Heartbeat records a DataNode's figures and returns the commands due to
// it (none on a standby).
func (m *Manager) Heartbeat(hb hdfs.Heartbeat) ([]hdfs.Command, error) {
	d, err := m.known(hb.Reg)
	if err != nil {
		return nil, err
	}
	d.lastSeen = m.nowMs()
	i := &d.Info
	i.LastUpdate = d.lastSeen
	i.Capacity, i.DFSUsed, i.Remaining, i.BlockPoolUsed, i.NonDFSUsed = 0, 0, 0, 0, 0
	for _, r := range hb.Reports {
		if r.Failed {
			continue
		}
		i.Capacity += r.Capacity
		i.DFSUsed += r.DFSUsed
		i.Remaining += r.Remaining
		i.BlockPoolUsed += r.BlockPoolUsed
		i.NonDFSUsed += max(r.Capacity-r.DFSUsed-r.Remaining, 0)
	}
	i.XceiverCount = hb.XceiverCount
	if !m.active {
		return nil, nil
	}
	return m.commands(d), nil
}

// commands drains d's queues: every transfer and recovery, and at most
// dfs.block.invalidate.limit deletions per heartbeat (Hadoop paces them so);
// in safe mode only the recoveries.
func (m *Manager) commands(d *Datanode) []hdfs.Command {
	var cmds []hdfs.Command
	if len(d.recover) > 0 {
		cmds = append(cmds, hdfs.Command{Action: hdfs.ActionRecover, PoolID: m.cfg.PoolID, Recovering: d.recover})
		d.recover = nil
	}
	if m.safe.on {
		return cmds // nothing replicated or deleted in safe mode
	}
	if len(d.transfers) > 0 {
		c := hdfs.Command{Action: hdfs.ActionTransfer, PoolID: m.cfg.PoolID}
		for _, t := range d.transfers {
			c.Blocks = append(c.Blocks, t.block)
			infos := make([]hdfs.DatanodeInfo, len(t.targets))
			for j, x := range t.targets {
				infos[j] = x.Info
			}
			c.Targets = append(c.Targets, infos)
		}
		cmds = append(cmds, c)
		d.transfers = nil
	}
	if len(d.invalidate) > 0 {
		n := min(len(d.invalidate), m.cfg.InvalidateLimit)
		cmds = append(cmds, hdfs.Command{Action: hdfs.ActionInvalidate, PoolID: m.cfg.PoolID, Blocks: slices.Clone(d.invalidate[:n])})
		d.invalidate = slices.Delete(d.invalidate, 0, n)
	}
	return cmds
}

// FullReport processes a full block report (Hadoop's processReport): every
// replica listed is applied, and the replicas the map had on d that the
// report no longer lists are removed.
func (m *Manager) FullReport(reg hdfs.Registration, replicas []hdfs.ReplicaReport) ([]hdfs.Command, error) {
	d, err := m.known(reg)
	if err != nil {
		return nil, err
	}
	d.lastSeen = m.nowMs()
	first := len(d.blocks) == 0
	if first {
		// Hadoop's processFirstBlockReport: nothing to diff, and the
		// node's set is sized once instead of growing with the report.
		d.blocks = make(map[int64]struct{}, len(replicas))
	}
	for _, r := range replicas {
		m.processReplica(d, r.Block, r.State)
	}
	// The replicas the map had on d that the report no longer lists go.
	ids := make([]int64, len(replicas))
	for i, r := range replicas {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	listed := func(id int64) bool { _, ok := slices.BinarySearch(ids, id); return ok }
	if !first {
		for id := range d.blocks {
			if !listed(id) {
				if b := m.blocks[id]; b != nil {
					m.removeReplica(b, d)
				} else {
					delete(d.blocks, id)
				}
			}
		}
	}
	for id := range m.deleting {
		if !listed(id) {
			m.deleted(id, d)
		}
	}
	for id, cs := range m.corrupt {
		if !listed(id) {
			if i := slices.Index(cs, d); i >= 0 {
				cs = slices.Delete(cs, i, i+1)
				if len(cs) == 0 {
					delete(m.corrupt, id)
				} else {
					m.corrupt[id] = cs
				}
			}
		}
	}
	d.reported = true
	if !m.active {
		return nil, nil
	}
	return m.commands(d), nil
}

// Incremental processes an incremental report (blockReceivedAndDeleted).
func (m *Manager) Incremental(reg hdfs.Registration, events []hdfs.ReplicaEvent) error {
	d, err := m.known(reg)
	if err != nil {
		return err
	}
	for _, e := range events {
		switch e.Status {
		case hdfs.StatusReceived:
			m.processReplica(d, e.Block, hdfs.ReplicaFinalized)
			if e.DelHint != "" && m.active {
				m.dropExcessOn(e.Block.ID, m.nodes[e.DelHint])
			}
		case hdfs.StatusReceiving:
			m.processReplica(d, e.Block, hdfs.ReplicaRBW)
		case hdfs.StatusDeleted:
			m.dropQueued(e.Block.ID, d)
			m.deleted(e.Block.ID, d)
			if b := m.blocks[e.Block.ID]; b != nil {
				m.removeReplica(b, d)
			} else {
				delete(d.blocks, e.Block.ID)
			}
			if cs := m.corrupt[e.Block.ID]; cs != nil {
				if i := slices.Index(cs, d); i >= 0 {
					cs = slices.Delete(cs, i, i+1)
					if len(cs) == 0 {
						delete(m.corrupt, e.Block.ID)
					} else {
						m.corrupt[e.Block.ID] = cs
					}
				}
			}
		}
	}
	return nil
}

// dropExcessOn deletes the replica on hint (a balancer's or a transfer's
// source) when the block now has more replicas than it needs.
func (m *Manager) dropExcessOn(id int64, hint *Datanode) {
	b := m.blocks[id]
	if b == nil || hint == nil || !b.hasLoc(hint) || m.liveNormal(b) <= int(b.Replication) {
		return
	}
	m.removeReplica(b, hint)
	m.scheduleDelete(b.ID, hint, b.Block)
}

// ReportBad marks replicas a reader or a DataNode's scanner found corrupt.
func (m *Manager) ReportBad(blocks []hdfs.LocatedBlock) {
	for _, lb := range blocks {
		b := m.blocks[lb.Block.ID]
		if b == nil {
			continue
		}
		for _, l := range lb.Locations {
			if d := m.nodes[l.UUID]; d != nil {
				m.markCorrupt(b, d, lb.Block.Block)
			}
		}
	}
}

// processReplica applies one replica report of d (Hadoop's
// processReportedBlock): a replica of a block from the standby's future is
// queued, one of an unknown block is deleted (active), one with an older
// stamp or, for a finished block, another length is corrupt, the others
// are recorded.
func (m *Manager) processReplica(d *Datanode, r hdfs.Block, state hdfs.ReplicaState) {
	b := m.blocks[r.ID]
	if b == nil {
		if !m.active && m.LastBlockID != nil && r.ID > m.LastBlockID() {
			m.enqueue(d, r, state)
			return
		}
		if !m.active {
			return
		}
		if m.safe.on {
			if m.LastBlockID != nil && r.ID > m.LastBlockID() {
				m.holdFuture(d, r)
				return
			}
			// Sent once safe mode is over; queued once however often
			// the DataNode reports it meanwhile.
			if _, ok := d.held[r.ID]; ok {
				return
			}
			if d.held == nil {
				d.held = map[int64]struct{}{}
			}
			d.held[r.ID] = struct{}{}
		}
		d.invalidate = append(d.invalidate, r)
		return
	}
	if r.GenStamp > b.GenStamp {
		if !m.active {
			m.enqueue(d, r, state)
			return
		}
		if b.State == UnderConstruction {
			// The pipeline moved on before updatePipeline was logged:
			// the replica is the writer's, the NameNode learns the stamp later.
			m.addExpected(b, d)
			return
		}
		m.markCorrupt(b, d, r)
		return
	}
	if r.GenStamp < b.GenStamp {
		if b.State == UnderConstruction && state != hdfs.ReplicaFinalized {
			return // an older pipeline's replica, recovery sorts it out
		}
		m.markCorrupt(b, d, r)
		return
	}
	switch state {
	case hdfs.ReplicaFinalized:
		if b.State != UnderConstruction && r.NumBytes != b.NumBytes {
			m.markCorrupt(b, d, r)
			return
		}
		if b.State == UnderConstruction {
			m.addExpected(b, d)
		}
		m.addReplica(b, d)
	default: // RBW, RWR, RUR: a replica being written or recovered
		if b.State == UnderConstruction {
			m.addExpected(b, d)
		}
	}
}

func (m *Manager) addExpected(b *BlockInfo, d *Datanode) {
	u := m.uc[b.ID]
	if u != nil && !slices.Contains(u.expected, d) {
		u.expected = append(u.expected, d)
	}
}

func (m *Manager) enqueue(d *Datanode, r hdfs.Block, state hdfs.ReplicaState) {
	qs := m.queue[r.ID]
	for i, q := range qs {
		if q.dn == d {
			qs[i] = queued{dn: d, block: r, state: state}
			return
		}
	}
	m.queue[r.ID] = append(qs, queued{dn: d, block: r, state: state})
	m.nqueued++
}

func (m *Manager) dropQueued(id int64, d *Datanode) {
	qs := m.queue[id]
	for i, q := range qs {
		if q.dn == d {
			qs = slices.Delete(qs, i, i+1)
			m.nqueued--
			break
		}
	}
	if len(qs) == 0 {
		delete(m.queue, id)
	} else {
		m.queue[id] = qs
	}
}

// replayQueued applies the reports queued for block id now that the
// namespace knows it (Hadoop's processQueuedMessagesForBlock); those still
// ahead of it are queued again.
func (m *Manager) replayQueued(id int64) {
	qs := m.queue[id]
	if len(qs) == 0 {
		return
	}
	delete(m.queue, id)
	m.nqueued -= len(qs)
	for _, q := range qs {
		if !q.dn.dead {
			m.processReplica(q.dn, q.block, q.state)
		}
	}
}
