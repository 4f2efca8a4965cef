package blockmgmt

import (
	"net"
	"slices"
	"strconv"

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

// Stale reports whether d has been silent for more than
// dfs.namenode.stale.datanode.interval (Hadoop's
// DatanodeDescriptor.isStale): likely dead, not yet declared so.
func (m *Manager) Stale(d *Datanode) bool {
	return m.nowMs()-d.lastSeen > m.cfg.StaleInterval.Milliseconds()
}

// Sorted orders a block's holders for a reader (Hadoop's
// sortLocatedBlocks with dfs.namenode.avoid.read.stale.datanode): the
// reader's own DataNode first, nodes in service before decommissioning
// ones, stale nodes after all fresh ones, dead and corrupt ones left out.
// It only reads the manager.
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
		r := 3
		switch {
		case reader != "" && (d.Info.IP == reader || d.Info.Hostname == reader):
			r = 0
		case d.Info.AdminState == hdfs.AdminNormal:
			r = 1
		case d.Info.AdminState == hdfs.AdminDecommissionInProgress:
			r = 2
		}
		if m.Stale(d) {
			r += 4
		}
		return r
	}
	slices.SortStableFunc(out, func(a, b *Datanode) int { return rank(a) - rank(b) })
	return out
}

// Named reports whether name designates d, as WebHDFS's excludedatanodes
// names DataNodes: "host:port" with host its IP or host name and port any
// of its transfer, HTTP or IPC ports (Hadoop's client sends the HTTP
// address it could not reach, the NameNode looks it up by transfer
// address), or a bare host for every DataNode of that host.
func (d *Datanode) Named(name string) bool {
	host, port, err := net.SplitHostPort(name)
	if err != nil {
		host, port = name, ""
	}
	if host == "" || (host != d.Info.IP && host != d.Info.Hostname) {
		return false
	}
	if port == "" {
		return true
	}
	p, err := strconv.Atoi(port)
	return err == nil && (p == d.Info.XferPort || p == d.Info.InfoPort || p == d.Info.IPCPort)
}

// Infos converts descriptors to what a client is told.
func Infos(ds []*Datanode) []hdfs.DatanodeInfo {
	out := make([]hdfs.DatanodeInfo, len(ds))
	for i, d := range ds {
		out[i] = d.Info
	}
	return out
}

// AnyLive returns a live DataNode in service that skip (nil: none) does
// not refuse, the one on host first and fresh ones before stale ones
// (nil: none). It only reads the manager (callers may hold a read lock):
// where no replica tells which node to use, any one does.
func (m *Manager) AnyLive(host string, skip func(*Datanode) bool) *Datanode {
	var first, stale *Datanode
	for _, d := range m.Nodes() {
		if d.dead || d.Info.AdminState != hdfs.AdminNormal || (skip != nil && skip(d)) {
			continue
		}
		if m.Stale(d) {
			if stale == nil {
				stale = d
			}
			continue
		}
		if host != "" && (d.Info.IP == host || d.Info.Hostname == host) {
			return d
		}
		if first == nil {
			first = d
		}
	}
	if first == nil {
		return stale
	}
	return first
}
