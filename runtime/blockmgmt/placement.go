package blockmgmt

import (
	"slices"

	"github.com/hactl/hactl/runtime/hdfs"
)

// usable reports whether d may take a new replica of a block of size bytes
// (Hadoop's BlockPlacementPolicyDefault.isGoodDatanode without racks):
// alive, in service, with room for the block, and not overloaded (more
// than twice the average transfer threads of the nodes in service).
func (m *Manager) usable(d *Datanode, size int64, avgLoad float64) bool {
	if d.dead || d.Info.AdminState != hdfs.AdminNormal {
		return false
	}
	if size > 0 && d.Info.Capacity > 0 && d.Info.Remaining < size {
		return false
	}
	if avgLoad > 0 && float64(load(d)) > 2*avgLoad {
		return false
	}
	return true
}

// load is a node's transfer threads as Hadoop's DataNode counts them: its
// connections plus the server thread itself (hactl's DataNodes report the
// connections only). Without that one, a node serving a single reader in
// an idle cluster of three would be "more than twice the average" and
// refused as a target.
func load(d *Datanode) int { return d.Info.XceiverCount + 1 }

func (m *Manager) avgLoad() float64 {
	n, sum := 0, 0
	for _, d := range m.nodes {
		if !d.dead && d.Info.AdminState == hdfs.AdminNormal {
			n++
			sum += load(d)
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// ChooseTargets picks up to n distinct DataNodes for new replicas of a
// block of size bytes: the writer's own DataNode first when writer (a host
// name or IP) runs one, the rest at random among the usable nodes, never
// one of exclude (Hadoop's default policy on a single rack). Fewer than n
// come back when the cluster has fewer usable nodes.
func (m *Manager) ChooseTargets(n int, writer string, exclude []*Datanode, size int64) []*Datanode {
	if n <= 0 {
		return nil
	}
	avg := m.avgLoad()
	var cands []*Datanode
	for _, d := range m.Nodes() { // sorted: the random choice depends on the seed only
		if m.usable(d, size, avg) && !slices.Contains(exclude, d) {
			cands = append(cands, d)
		}
	}
	out := make([]*Datanode, 0, min(n, len(cands)))
	if writer != "" {
		for i, d := range cands {
			if d.Info.IP == writer || d.Info.Hostname == writer {
				out = append(out, d)
				cands = slices.Delete(cands, i, i+1)
				break
			}
		}
	}
	for len(out) < n && len(cands) > 0 {
		i := m.rand.IntN(len(cands))
		out = append(out, cands[i])
		cands = slices.Delete(cands, i, i+1)
	}
	return out
}

// NumUsable is the number of DataNodes a new block may go to.
func (m *Manager) NumUsable() int {
	avg, n := m.avgLoad(), 0
	for _, d := range m.nodes {
		if m.usable(d, 0, avg) {
			n++
		}
	}
	return n
}

// Sorted orders a block's holders for a reader (Hadoop's
// sortLocatedBlocks): the reader's own DataNode first, nodes in service
// before decommissioning ones, dead and corrupt ones left out. It only
// reads the manager.
func (m *Manager) Sorted(b *BlockInfo, reader string) []*Datanode {
	var out []*Datanode
	for _, d := range b.locs {
		if !d.dead {
			out = append(out, d)
		}
	}
	// Readers spread over the replicas by block, not at random: Sorted
	// runs under the NameNode's read lock and must not touch m.rand.
	if len(out) > 1 {
		k := int(uint64(b.ID) % uint64(len(out)))
		out = append(out[k:], out[:k]...)
	}
	rank := func(d *Datanode) int {
		switch {
		case reader != "" && (d.Info.IP == reader || d.Info.Hostname == reader):
			return 0
		case d.Info.AdminState == hdfs.AdminNormal:
			return 1
		case d.Info.AdminState == hdfs.AdminDecommissionInProgress:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(out, func(a, b *Datanode) int { return rank(a) - rank(b) })
	return out
}

// Infos converts descriptors to what a client is told.
func Infos(ds []*Datanode) []hdfs.DatanodeInfo {
	out := make([]hdfs.DatanodeInfo, len(ds))
	for i, d := range ds {
		out[i] = d.Info
	}
	return out
}

// AnyLive returns a live DataNode in service, the one on host first (nil:
// none). It only reads the manager (callers may hold a read lock): where
// no replica tells which node to use, any one does.
func (m *Manager) AnyLive(host string) *Datanode {
	var first *Datanode
	for _, d := range m.Nodes() {
		if d.dead || d.Info.AdminState != hdfs.AdminNormal {
			continue
		}
		if host != "" && (d.Info.IP == host || d.Info.Hostname == host) {
			return d
		}
		if first == nil {
			first = d
		}
	}
	return first
}
