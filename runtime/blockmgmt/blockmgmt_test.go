package blockmgmt

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTest(t *testing.T, ndn int) (*Manager, *clock, []hdfs.Registration) {
	t.Helper()
	c := &clock{t: time.UnixMilli(1_700_000_000_000)}
	cfg := DefaultConfig()
	cfg.PoolID = "BP-1"
	cfg.SafeModeExtension = 0
	m := New(cfg, c.now, 1)
	var last int64 = 1 << 30
	m.LastBlockID = func() int64 { return last }
	var regs []hdfs.Registration
	for i := range ndn {
		reg := hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: fmt.Sprintf("dn-%d", i), IP: fmt.Sprintf("127.0.0.%d", i+1),
			Hostname: fmt.Sprintf("h%d", i+1), XferPort: 9866, InfoPort: 9864}, ClusterID: "CID", BlockPoolID: "BP-1"}
		if _, err := m.Register(reg, "CID"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Heartbeat(hdfs.Heartbeat{Reg: reg, Reports: []hdfs.StorageReport{{StorageUUID: "DS-" + reg.UUID, Capacity: 1 << 40, Remaining: 1 << 40}}}); err != nil {
			t.Fatal(err)
		}
		regs = append(regs, reg)
	}
	// An empty namespace leaves safe mode at once (tests of safe mode
	// itself make their own manager).
	m.CheckSafeMode()
	return m, c, regs
}

func block(id, gs, n int64) hdfs.Block { return hdfs.Block{ID: id, GenStamp: gs, NumBytes: n} }

func finalized(bs ...hdfs.Block) []hdfs.ReplicaReport {
	var out []hdfs.ReplicaReport
	for _, b := range bs {
		out = append(out, hdfs.ReplicaReport{Block: b, State: hdfs.ReplicaFinalized})
	}
	return out
}

func addComplete(m *Manager, id, gs, n int64, repl int16) *BlockInfo {
	b := &BlockInfo{Block: block(id, gs, n), FileID: 16386, Replication: repl, State: Complete}
	m.AddBlock(b)
	return b
}

func names(ds []*Datanode) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Info.UUID)
	}
	slices.Sort(out)
	return out
}

func commandsOf(t *testing.T, m *Manager, reg hdfs.Registration) []hdfs.Command {
	t.Helper()
	cmds, err := m.Heartbeat(hdfs.Heartbeat{Reg: reg, Reports: []hdfs.StorageReport{{Capacity: 1 << 40, Remaining: 1 << 40}}})
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

func TestFullReportActive(t *testing.T) {
	m, _, regs := newTest(t, 3)
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 3)
	gone := addComplete(m, 1<<30+2, 1001, 50, 3)
	cmds, err := m.FullReport(regs[0], finalized(b.Block, gone.Block, block(1<<30+99, 1001, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(b.Locs()); !slices.Equal(got, []string{"dn-0"}) {
		t.Fatalf("locations %v", got)
	}
	// Unknown block: deleted, the report's answer says so.
	if len(cmds) != 1 || cmds[0].Action != hdfs.ActionInvalidate || cmds[0].Blocks[0].ID != 1<<30+99 {
		t.Fatalf("commands %+v", cmds)
	}
	// A second report without gone drops that replica.
	if _, err := m.FullReport(regs[0], finalized(b.Block)); err != nil {
		t.Fatal(err)
	}
	if len(gone.Locs()) != 0 || regs[0].UUID != b.Locs()[0].Info.UUID {
		t.Fatalf("gone %v b %v", names(gone.Locs()), names(b.Locs()))
	}
	// Wrong length of a complete block: corrupt, not a location.
	if _, err := m.FullReport(regs[1], finalized(block(b.ID, 1001, 99))); err != nil {
		t.Fatal(err)
	}
	if len(b.Locs()) != 1 || !m.IsCorrupt(b.ID, m.Node("dn-1")) {
		t.Fatalf("short replica: locs %v corrupt %v", names(b.Locs()), names(m.CorruptReplicas(b.ID)))
	}
	// Unregistered: refused with UnregisteredNodeException.
	if _, err := m.FullReport(hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: "nope"}}, nil); err == nil {
		t.Fatal("report of an unknown DataNode accepted")
	}
}

// A standby queues what it cannot place yet (blocks its edits have not
// reached, stamps newer than its edits) and applies it when the edits come.
func TestStandbyQueuesReportsAheadOfEdits(t *testing.T) {
	m, _, regs := newTest(t, 2)
	last := int64(1 << 30)
	m.LastBlockID = func() int64 { return last }
	future := block(1<<30+1, 1001, 10)
	if err := m.Incremental(regs[0], []hdfs.ReplicaEvent{{Block: future, Status: hdfs.StatusReceived}}); err != nil {
		t.Fatal(err)
	}
	if m.Queued() != 1 {
		t.Fatalf("queued %d, want 1", m.Queued())
	}
	// The edit arrives: the block is under construction, then closed.
	last = 1<<30 + 1
	b := &BlockInfo{Block: block(future.ID, 1001, 0), FileID: 1, Replication: 2, State: UnderConstruction}
	m.AddBlock(b)
	if m.Queued() != 0 || !slices.Contains(names(b.Locs()), "dn-0") {
		t.Fatalf("after the edit: queued %d locs %v", m.Queued(), names(b.Locs()))
	}
	b.NumBytes = 10
	m.Commit(b)
	if b.State != Complete {
		t.Fatalf("state %d, want complete", b.State)
	}
	// A newer stamp than the standby knows: queued until the edit that
	// gives the block that stamp.
	newer := block(b.ID, 1005, 10)
	if err := m.Incremental(regs[1], []hdfs.ReplicaEvent{{Block: newer, Status: hdfs.StatusReceived}}); err != nil {
		t.Fatal(err)
	}
	if m.Queued() != 1 || slices.Contains(names(b.Locs()), "dn-1") {
		t.Fatalf("newer stamp: queued %d locs %v", m.Queued(), names(b.Locs()))
	}
	b.GenStamp = 1005
	m.UpdateBlock(b, 1001)
	if m.Queued() != 0 || !slices.Equal(names(b.Locs()), []string{"dn-1"}) {
		t.Fatalf("after the stamp edit: queued %d locs %v (the old stamp's replica on dn-0 is not one)", m.Queued(), names(b.Locs()))
	}
	// No commands from a standby.
	if cmds := commandsOf(t, m, regs[0]); len(cmds) != 0 {
		t.Fatalf("standby sent %+v", cmds)
	}
}

// A report still queued when the standby becomes active is applied then:
// a block still unknown is one to delete.
func TestQueuedAppliedOnActivation(t *testing.T) {
	m, _, regs := newTest(t, 1)
	m.LastBlockID = func() int64 { return 1 << 30 }
	if _, err := m.FullReport(regs[0], finalized(block(1<<30+7, 1001, 3))); err != nil {
		t.Fatal(err)
	}
	if m.Queued() != 1 {
		t.Fatalf("queued %d", m.Queued())
	}
	m.SetActive(true)
	cmds := commandsOf(t, m, regs[0])
	if m.Queued() != 0 || len(cmds) != 1 || cmds[0].Action != hdfs.ActionInvalidate {
		t.Fatalf("queued %d commands %+v", m.Queued(), cmds)
	}
}

func TestPlacementDistinctLocalFirst(t *testing.T) {
	m, _, regs := newTest(t, 5)
	for range 50 {
		got := m.ChooseTargets(3, "127.0.0.3", nil, 1<<20)
		if len(got) != 3 || got[0].Info.UUID != "dn-2" {
			t.Fatalf("targets %v: want 3 with dn-2 first", names(got))
		}
		if n := names(got); n[0] == n[1] || n[1] == n[2] {
			t.Fatalf("targets not distinct: %v", n)
		}
	}
	ex := []*Datanode{m.Node("dn-0"), m.Node("dn-1")}
	if got := m.ChooseTargets(5, "", ex, 0); !slices.Equal(names(got), []string{"dn-2", "dn-3", "dn-4"}) {
		t.Fatalf("with exclusions: %v", names(got))
	}
	// A full node is not chosen, a decommissioning one neither.
	if _, err := m.Heartbeat(hdfs.Heartbeat{Reg: regs[4], Reports: []hdfs.StorageReport{{Capacity: 1 << 30, Remaining: 10}}}); err != nil {
		t.Fatal(err)
	}
	m.RefreshNodes(nil, []string{"h4"})
	for range 20 {
		for _, d := range m.ChooseTargets(5, "", nil, 1<<20) {
			if d.Info.UUID == "dn-4" || d.Info.UUID == "dn-3" {
				t.Fatalf("chose %s", d.Info.UUID)
			}
		}
	}
}

func TestDeadNodeReReplication(t *testing.T) {
	m, c, regs := newTest(t, 4)
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 3)
	for _, r := range regs[:3] {
		if _, err := m.FullReport(r, finalized(b.Block)); err != nil {
			t.Fatal(err)
		}
	}
	m.Tick()
	if s := m.Stats(); s.UnderReplicatedBlocks != 0 || s.NumLive != 4 {
		t.Fatalf("stats %+v", s)
	}
	// dn-0 falls silent past the expiry; the others keep beating.
	c.t = c.t.Add(m.ExpireInterval() + time.Second)
	for _, r := range regs[1:] {
		commandsOf(t, m, r)
	}
	m.Tick()
	s := m.Stats()
	if s.NumDead != 1 || s.ExpiredHeartbeats != 1 || s.UnderReplicatedBlocks != 1 || s.PendingReplicationBlocks != 1 {
		t.Fatalf("after dn-0 died: %+v", s)
	}
	var xfer *hdfs.Command
	for _, r := range regs[1:3] {
		for _, cmd := range commandsOf(t, m, r) {
			if cmd.Action == hdfs.ActionTransfer {
				xfer = &cmd
			}
		}
	}
	if xfer == nil || len(xfer.Targets) != 1 || len(xfer.Targets[0]) != 1 || xfer.Targets[0][0].UUID != "dn-3" {
		t.Fatalf("transfer %+v", xfer)
	}
	if err := m.Incremental(regs[3], []hdfs.ReplicaEvent{{Block: b.Block, Status: hdfs.StatusReceived}}); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	if s := m.Stats(); s.UnderReplicatedBlocks != 0 || s.PendingReplicationBlocks != 0 || len(b.Locs()) != 3 {
		t.Fatalf("after the copy: %+v locs %v", s, names(b.Locs()))
	}
}

// A copy scheduled to a DataNode that then dies (declared dead before the
// pending timeout) is scheduled again, to another one: the block must not
// be forgotten when its pending entry goes with the dead target (seen in
// TestProcessesWriteThroughAKilledDataNode: a block left at 2 of 3
// replicas for good).
func TestCopyToADyingTargetIsScheduledAgain(t *testing.T) {
	m, c, regs := newTest(t, 4)
	m.SetActive(true)
	// The target's death comes before the pending copy times out.
	m.cfg.PendingTimeout = 2 * (m.ExpireInterval() + time.Second)
	b := addComplete(m, 1<<30+1, 1001, 100, 3)
	for _, r := range regs[:2] {
		if _, err := m.FullReport(r, finalized(b.Block)); err != nil {
			t.Fatal(err)
		}
	}
	// Schedule until the copy goes to dn-3, which is about to die.
	var target string
	for range 50 {
		m.Tick()
		for _, r := range regs[:2] {
			for _, cmd := range commandsOf(t, m, r) {
				if cmd.Action == hdfs.ActionTransfer {
					target = cmd.Targets[0][0].UUID
				}
			}
		}
		if target == "dn-3" {
			break
		}
		// dn-2 was chosen: let its copy time out and choose again.
		c.t = c.t.Add(m.cfg.PendingTimeout + time.Second)
		for _, r := range regs {
			commandsOf(t, m, r)
		}
	}
	if target != "dn-3" {
		t.Fatal("dn-3 was never chosen as the target")
	}
	// dn-3 falls silent; it is declared dead before the pending timeout.
	c.t = c.t.Add(m.ExpireInterval() + time.Second)
	for _, r := range regs[:3] {
		commandsOf(t, m, r)
	}
	m.Tick()
	if s := m.Stats(); s.NumDead != 1 {
		t.Fatalf("dn-3 not declared dead: %+v", s)
	}
	m.Tick()
	var again *hdfs.Command
	for _, r := range regs[:2] {
		for _, cmd := range commandsOf(t, m, r) {
			if cmd.Action == hdfs.ActionTransfer {
				again = &cmd
			}
		}
	}
	if again == nil || again.Targets[0][0].UUID != "dn-2" {
		t.Fatalf("after the target died: transfer %+v, want one to dn-2", again)
	}
}

// A corrupt replica is replaced from a good one, then deleted.
func TestCorruptReplicaReplaced(t *testing.T) {
	m, _, regs := newTest(t, 4)
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 3)
	for _, r := range regs[:3] {
		if _, err := m.FullReport(r, finalized(b.Block)); err != nil {
			t.Fatal(err)
		}
	}
	bad := m.Node("dn-1")
	m.ReportBad([]hdfs.LocatedBlock{{Block: hdfs.ExtendedBlock{PoolID: "BP-1", Block: b.Block}, Locations: []hdfs.DatanodeInfo{bad.Info}}})
	m.Tick()
	if s := m.Stats(); s.CorruptBlocks != 1 || s.UnderReplicatedBlocks != 1 {
		t.Fatalf("stats %+v", s)
	}
	if got := commandsOf(t, m, regs[1]); len(got) != 0 {
		t.Fatalf("the corrupt replica is the only copy source? commands %+v", got)
	}
	var targets []string
	for _, r := range []hdfs.Registration{regs[0], regs[2]} {
		for _, c := range commandsOf(t, m, r) {
			if c.Action == hdfs.ActionTransfer {
				targets = append(targets, c.Targets[0][0].UUID)
			}
		}
	}
	if !slices.Equal(targets, []string{"dn-3"}) {
		t.Fatalf("transfer targets %v", targets)
	}
	if err := m.Incremental(regs[3], []hdfs.ReplicaEvent{{Block: b.Block, Status: hdfs.StatusReceived}}); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	cmds := commandsOf(t, m, regs[1])
	if len(cmds) != 1 || cmds[0].Action != hdfs.ActionInvalidate || cmds[0].Blocks[0].ID != b.ID {
		t.Fatalf("corrupt replica not deleted: %+v", cmds)
	}
	if s := m.Stats(); s.CorruptBlocks != 0 || s.UnderReplicatedBlocks != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestExcessReplicaDeleted(t *testing.T) {
	m, _, regs := newTest(t, 3)
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 2)
	for _, r := range regs {
		if _, err := m.FullReport(r, finalized(b.Block)); err != nil {
			t.Fatal(err)
		}
	}
	m.Tick()
	n := 0
	for _, r := range regs {
		for _, c := range commandsOf(t, m, r) {
			if c.Action == hdfs.ActionInvalidate && c.Blocks[0].ID == b.ID {
				n++
			}
		}
	}
	if n != 1 || len(b.Locs()) != 2 {
		t.Fatalf("%d deletions, %d replicas left", n, len(b.Locs()))
	}
}

func TestDecommission(t *testing.T) {
	m, _, regs := newTest(t, 3)
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 2)
	for _, r := range regs[:2] {
		if _, err := m.FullReport(r, finalized(b.Block)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.FullReport(regs[2], nil); err != nil {
		t.Fatal(err)
	}
	m.RefreshNodes(nil, []string{"127.0.0.1"})
	d := m.Node("dn-0")
	m.Tick()
	if d.Info.AdminState != hdfs.AdminDecommissionInProgress {
		t.Fatalf("state %s: dn-0's block has only one other replica", d.Info.AdminState)
	}
	if s := m.Stats(); s.NumDecommissioning != 1 || s.UnderReplicatedBlocks != 1 {
		t.Fatalf("stats %+v", s)
	}
	var xfer bool
	for _, c := range commandsOf(t, m, regs[0]) {
		xfer = xfer || (c.Action == hdfs.ActionTransfer && c.Targets[0][0].UUID == "dn-2")
	}
	if !xfer {
		t.Fatal("no transfer from the decommissioning node to dn-2")
	}
	if err := m.Incremental(regs[2], []hdfs.ReplicaEvent{{Block: b.Block, Status: hdfs.StatusReceived}}); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	if d.Info.AdminState != hdfs.AdminDecommissioned {
		t.Fatalf("state %s after the copy", d.Info.AdminState)
	}
	// Back in service when the exclude list no longer names it.
	m.RefreshNodes(nil, nil)
	if d.Info.AdminState != hdfs.AdminNormal {
		t.Fatalf("state %s after recommission", d.Info.AdminState)
	}
}

func TestSafeMode(t *testing.T) {
	c := &clock{t: time.UnixMilli(1_700_000_000_000)}
	cfg := DefaultConfig()
	cfg.PoolID = "BP-1"
	cfg.SafeModeThreshold = 1 // int(1 block × 0.999) would be 0 blocks, as Hadoop computes it
	m := New(cfg, c.now, 1)
	m.LastBlockID = func() int64 { return 1 << 31 }
	if !m.InSafeMode() {
		t.Fatal("a new manager is not in safe mode")
	}
	m.Tick()
	if m.InSafeMode() {
		t.Fatal("no blocks: safe mode must end at once")
	}
	m = New(cfg, c.now, 1)
	m.LastBlockID = func() int64 { return 1 << 31 }
	b := addComplete(m, 1<<30+1, 1001, 10, 1)
	m.Tick()
	if !m.InSafeMode() || m.SafeModeTip() == "" {
		t.Fatal("a block without replicas: safe mode must hold")
	}
	reg := hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: "dn", IP: "127.0.0.1", XferPort: 1}, ClusterID: "CID"}
	if _, err := m.Register(reg, "CID"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.FullReport(reg, finalized(b.Block)); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	if !m.InSafeMode() {
		t.Fatal("left safe mode before the extension")
	}
	c.t = c.t.Add(cfg.SafeModeExtension)
	m.Tick()
	if m.InSafeMode() {
		t.Fatalf("still in safe mode after the extension: %s", m.SafeModeTip())
	}
	// dfs.namenode.safemode.min.datanodes: blocks reported is not enough.
	cfg.SafeModeMinDatanodes, cfg.SafeModeExtension = 2, 0
	m = New(cfg, c.now, 1)
	m.LastBlockID = func() int64 { return 1 << 31 }
	b = addComplete(m, 1<<30+1, 1001, 10, 1)
	if _, err := m.Register(reg, "CID"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.FullReport(reg, finalized(b.Block)); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	if !m.InSafeMode() || !strings.Contains(m.SafeModeTip(), "The number of live datanodes 1 needs an additional 1 live datanodes to reach the minimum number 2.") {
		t.Fatalf("one DataNode of the two required: safe mode %v, %q", m.InSafeMode(), m.SafeModeTip())
	}
	reg2 := reg
	reg2.UUID, reg2.IP = "dn2", "127.0.0.2"
	if _, err := m.Register(reg2, "CID"); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	if m.InSafeMode() {
		t.Fatalf("two DataNodes live: %s", m.SafeModeTip())
	}
}

// A DataNode re-registering after a restart is known again; one of
// another cluster is refused.
func TestRegister(t *testing.T) {
	m, _, regs := newTest(t, 1)
	bad := regs[0]
	bad.ClusterID = "other"
	if _, err := m.Register(bad, "CID"); err == nil {
		t.Fatal("a DataNode of another cluster registered")
	}
	m.RefreshNodes([]string{"h9"}, nil)
	if _, err := m.Register(regs[0], "CID"); err == nil {
		t.Fatal("a DataNode missing from dfs.hosts registered")
	}
}

// A monitor round over many blocks lets the namespace lock go every
// YieldEvery blocks; the manager may change meanwhile (a block deleted, one
// added) and the round carries on with what is left.
func TestMonitorYields(t *testing.T) {
	m, _, regs := newTest(t, 3)
	m.SetActive(true)
	var blocks []*BlockInfo
	for i := range 10 {
		b := addComplete(m, 1<<30+int64(i), 1001, 10, 3)
		blocks = append(blocks, b)
	}
	for _, r := range regs[:2] {
		var reps []hdfs.ReplicaReport
		for _, b := range blocks {
			reps = append(reps, hdfs.ReplicaReport{Block: b.Block, State: hdfs.ReplicaFinalized})
		}
		if _, err := m.FullReport(r, reps); err != nil {
			t.Fatal(err)
		}
	}
	yields := 0
	m.YieldEvery = 3
	m.Yield = func() {
		yields++
		if yields == 1 {
			for _, b := range blocks {
				m.RemoveBlock(b) // the rest of this round finds them gone
				break
			}
			addComplete(m, 1<<30+100, 1001, 10, 3)
		}
	}
	m.Tick()
	if yields != 3 {
		t.Fatalf("%d yields over 10 blocks, want 3", yields)
	}
	if s := m.Stats(); s.BlocksTotal != 10 || s.UnderReplicatedBlocks < 8 {
		t.Fatalf("stats %+v", s)
	}
	m.Yield = nil
	m.Tick() // the block added during the yield is checked now
	if s := m.Stats(); s.UnderReplicatedBlocks != 10 {
		t.Fatalf("after the next round: %+v", s)
	}
}

// Placement's load rule (Hadoop's considerLoad, twice the average): a node
// serving one reader in an idle cluster is still a target; one far busier
// than the others is not.
func TestPlacementLoad(t *testing.T) {
	m, _, regs := newTest(t, 3)
	beat := func(r hdfs.Registration, xceivers int) {
		if _, err := m.Heartbeat(hdfs.Heartbeat{Reg: r, XceiverCount: xceivers, Reports: []hdfs.StorageReport{{Capacity: 1 << 40, Remaining: 1 << 40}}}); err != nil {
			t.Fatal(err)
		}
	}
	beat(regs[0], 1)
	if got := m.ChooseTargets(3, "", nil, 0); len(got) != 3 {
		t.Fatalf("one reader on dn-0: targets %v", names(got))
	}
	beat(regs[0], 20)
	for range 10 {
		for _, d := range m.ChooseTargets(3, "", nil, 0) {
			if d.Info.UUID == "dn-0" {
				t.Fatal("chose dn-0 with 20 transfers against 0 and 0")
			}
		}
	}
}

func TestAnyLive(t *testing.T) {
	m, c, _ := newTest(t, 3)
	if d := m.AnyLive("127.0.0.2", nil); d == nil || d.Info.UUID != "dn-1" {
		t.Fatalf("the host's own node first: %v", d)
	}
	m.RefreshNodes(nil, []string{"127.0.0.1"})
	if d := m.AnyLive("", nil); d == nil || d.Info.UUID != "dn-1" {
		t.Fatalf("a decommissioning node is not chosen: %v", d)
	}
	c.t = c.t.Add(m.ExpireInterval() + time.Second)
	m.Tick()
	if d := m.AnyLive("", nil); d != nil {
		t.Fatalf("every node dead, chose %s", d.Info.UUID)
	}
}

// A file of replication 3 lowered to 2, then one of the three DataNodes
// decommissioned: the decommission ends. The excess replica's node is
// not a target for the decommissioning node's copy while it still holds
// the replica it was told to delete (its DataNode would refuse the copy
// as already there, and the copy would wait out the pending timeout, 5
// minutes, before being tried again); once it reports the replica
// deleted, the copy goes there. The DataNodes here behave as real ones:
// a transfer to a node holding the block fails without a report.
func TestDecommissionAfterReplicationLowered(t *testing.T) {
	m, c, regs := newTest(t, 3)
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 3)
	has := map[string]bool{}
	for _, r := range regs {
		if _, err := m.FullReport(r, finalized(b.Block)); err != nil {
			t.Fatal(err)
		}
		has[r.UUID] = true
	}
	m.Tick()
	reg := map[string]hdfs.Registration{}
	for _, r := range regs {
		reg[r.UUID] = r
	}
	// One round of heartbeats, the decommissioning node's first: each
	// DataNode runs its commands as it gets them.
	heartbeats := func(order ...int) {
		for _, i := range order {
			r := regs[i]
			for _, cmd := range commandsOf(t, m, r) {
				switch cmd.Action {
				case hdfs.ActionInvalidate:
					for _, blk := range cmd.Blocks {
						has[r.UUID] = false
						if err := m.Incremental(r, []hdfs.ReplicaEvent{{Block: blk, Status: hdfs.StatusDeleted}}); err != nil {
							t.Fatal(err)
						}
					}
				case hdfs.ActionTransfer:
					for j, blk := range cmd.Blocks {
						for _, tg := range cmd.Targets[j] {
							if has[tg.UUID] {
								continue // ReplicaAlreadyExistsException: nothing reported
							}
							has[tg.UUID] = true
							if err := m.Incremental(reg[tg.UUID], []hdfs.ReplicaEvent{{Block: blk, Status: hdfs.StatusReceived}}); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
			}
		}
	}
	b.Replication = 2
	m.Touch(b)
	m.Tick() // the excess replica goes: dn-0's (equal space left, lowest UUID)
	if len(b.Locs()) != 2 || slices.Contains(names(b.Locs()), "dn-0") {
		t.Fatalf("after lowering the replication: replicas on %v", names(b.Locs()))
	}
	m.RefreshNodes(nil, []string{"127.0.0.2"}) // dn-1, before dn-0 heard of its deletion
	d := m.Node("dn-1")
	for range 20 {
		m.Tick()
		if d.Info.AdminState == hdfs.AdminDecommissioned {
			if !has["dn-0"] || !has["dn-2"] {
				t.Fatalf("decommissioned with replicas on %v", has)
			}
			return
		}
		heartbeats(1, 2, 0)
		c.t = c.t.Add(3 * time.Second)
	}
	under, _ := m.DecomProgress(d)
	t.Fatalf("dn-1 still %s after a minute, %d under-replicated block(s), replicas %v, pending %d",
		d.Info.AdminState, under, names(b.Locs()), m.Stats().PendingReplicationBlocks)
}

// In safe mode the active neither replicates nor deletes (Hadoop's
// computeDatanodeWork does no work then): an under-replicated block gets no
// TRANSFER, a replica of a deleted block no INVALIDATE until safe mode is
// over. A replica of a block beyond the last one the namespace allocated
// (metadata older than the data) keeps safe mode on, refuses a plain
// leave, and only a forced exit deletes it.
func TestSafeModeHoldsReplicationAndDeletes(t *testing.T) {
	c := &clock{t: time.UnixMilli(1_700_000_000_000)}
	cfg := DefaultConfig()
	cfg.PoolID, cfg.SafeModeThreshold, cfg.SafeModeExtension = "BP-1", 1, 0
	m := New(cfg, c.now, 1)
	last := int64(1<<30 + 10)
	m.LastBlockID = func() int64 { return last }
	var regs []hdfs.Registration
	for i := range 3 {
		reg := hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: fmt.Sprintf("dn-%d", i), IP: fmt.Sprintf("127.0.0.%d", i+1), XferPort: 9866}, ClusterID: "CID", BlockPoolID: "BP-1"}
		if _, err := m.Register(reg, "CID"); err != nil {
			t.Fatal(err)
		}
		regs = append(regs, reg)
	}
	m.SetActive(true)
	b := addComplete(m, 1<<30+1, 1001, 100, 3)
	deleted, future := block(1<<30+5, 1001, 7), block(1<<30+20, 1001, 4096)
	for range 2 { // a second full report must not queue the deletion twice
		cmds, err := m.FullReport(regs[0], finalized(b.Block, deleted, future))
		if err != nil || len(cmds) != 0 {
			t.Fatalf("report in safe mode: %v, commands %+v", err, cmds)
		}
	}
	m.Tick()
	m.Tick()
	if !m.InSafeMode() || m.BytesInFuture() != 4096 || !strings.Contains(m.SafeModeTip(), "Exiting safe mode will cause loss of 4096 byte(s)") {
		t.Fatalf("thresholds met with a block from the future: safe mode %v, %d bytes, tip %q", m.InSafeMode(), m.BytesInFuture(), m.SafeModeTip())
	}
	for _, reg := range regs {
		if cmds := commandsOf(t, m, reg); len(cmds) != 0 {
			t.Fatalf("%s got commands in safe mode: %+v", reg.UUID, cmds)
		}
	}
	if m.LeaveSafeMode(false) || !m.InSafeMode() {
		t.Fatal("a plain leave was accepted with blocks from the future held")
	}
	if !m.LeaveSafeMode(true) || m.InSafeMode() {
		t.Fatal("a forced exit did not leave safe mode")
	}
	m.Tick()
	var invalidated []int64
	transfer := false
	for _, cmd := range commandsOf(t, m, regs[0]) {
		switch cmd.Action {
		case hdfs.ActionInvalidate:
			for _, x := range cmd.Blocks {
				invalidated = append(invalidated, x.ID)
			}
		case hdfs.ActionTransfer:
			transfer = len(cmd.Blocks) == 1 && cmd.Blocks[0].ID == b.ID
		}
	}
	slices.Sort(invalidated)
	if !slices.Equal(invalidated, []int64{deleted.ID, future.ID}) || !transfer {
		t.Fatalf("after the forced exit: invalidated %v, transfer of the under-replicated block %v", invalidated, transfer)
	}

	// Safe mode entered by hand holds replication the same way, and a
	// plain leave is enough without blocks from the future.
	m.EnterSafeMode()
	m.Tick()
	if cmds := commandsOf(t, m, regs[2]); len(cmds) != 0 || !m.InSafeMode() {
		t.Fatalf("manual safe mode: commands %+v", cmds)
	}
	if !m.LeaveSafeMode(false) || m.InSafeMode() {
		t.Fatal("leave refused without blocks from the future")
	}
}
