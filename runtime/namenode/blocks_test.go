package namenode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// testDN is a DataNode as the NameNodes see it: registered with each.
type testDN struct{ reg hdfs.Registration }

func newDNs(t *testing.T, nns []*NameNode, n int) []*testDN {
	t.Helper()
	var out []*testDN
	for i := range n {
		d := &testDN{reg: hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: fmt.Sprintf("uuid-%d", i),
			IP: fmt.Sprintf("127.0.9.%d", i+1), Hostname: fmt.Sprintf("dn%d", i+1), XferPort: 9866, InfoPort: 9864, IPCPort: 9867}}}
		for _, nn := range nns {
			info, err := nn.DatanodeProtocol().VersionRequest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			d.reg.ClusterID, d.reg.BlockPoolID = info.ClusterID, info.BlockPoolID
			if _, err := nn.DatanodeProtocol().RegisterDatanode(context.Background(), d.reg); err != nil {
				t.Fatal(err)
			}
			d.heartbeat(t, nn)
		}
		out = append(out, d)
	}
	return out
}

func (d *testDN) heartbeat(t *testing.T, nn *NameNode) hdfs.HeartbeatResponse {
	t.Helper()
	resp, err := nn.DatanodeProtocol().SendHeartbeat(context.Background(), hdfs.Heartbeat{Reg: d.reg,
		Reports: []hdfs.StorageReport{{StorageUUID: "DS-" + d.reg.UUID, Capacity: 1 << 40, DFSUsed: 1 << 20, Remaining: 1 << 39}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (d *testDN) received(t *testing.T, nn *NameNode, b hdfs.Block) {
	t.Helper()
	if err := nn.DatanodeProtocol().BlockReceivedAndDeleted(context.Background(), d.reg,
		[]hdfs.ReplicaEvent{{Block: b, Status: hdfs.StatusReceived, StorageUUID: "DS-" + d.reg.UUID}}); err != nil {
		t.Fatal(err)
	}
}

func blockConfig(t testing.TB, id string) Config {
	cfg := testConfig(t, id)
	cfg.MaxInline = 0
	cfg.DefaultReplication = 3
	cfg.DefaultBlockSize = 1 << 20
	return cfg
}

func newBlockPair(t *testing.T) (*MemJournal, *fakeClock, *NameNode, *NameNode) {
	t.Helper()
	j := NewMemJournal()
	clk := newClock()
	var nns []*NameNode
	for i, id := range []string{"nn1", "nn2"} {
		cfg := blockConfig(t, id)
		if i == 0 {
			if err := Format(context.Background(), cfg, j, testInfo, false, clk.Now()); err != nil {
				t.Fatal(err)
			}
		} else {
			img, _ := nns[0].storage.ReadImage(0)
			if err := (&Storage{Dirs: cfg.NameDirs}).Format(testInfo, img, 0); err != nil {
				t.Fatal(err)
			}
		}
		n := New(cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
		if err := n.Load(); err != nil {
			t.Fatal(err)
		}
		// The daemon's Run catches up right after Load: over an empty
		// journal that leaves safe mode at once.
		if _, err := n.TailOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		nns = append(nns, n)
	}
	if err := nns[0].TransitionToActive(context.Background()); err != nil {
		t.Fatal(err)
	}
	return j, clk, nns[0], nns[1]
}

func locUUIDs(lb hdfs.LocatedBlock) []string {
	var out []string
	for _, l := range lb.Locations {
		out = append(out, l.UUID)
	}
	slices.Sort(out)
	return out
}

// writeFile writes a file of the given block lengths through the client
// calls, every replica reported to every NameNode as a DataNode does, and
// returns its blocks.
func writeFile(t *testing.T, nn *NameNode, others []*NameNode, dns []*testDN, path string, lens ...int64) []hdfs.Block {
	t.Helper()
	ctx := context.Background()
	cp := nn.ClientProtocol()
	st, err := cp.Create(ctx, path, "DFSClient_test", hdfs.CreateOptions{Perm: 0o644, CreateParent: true}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var prev *hdfs.ExtendedBlock
	var out []hdfs.Block
	byUUID := map[string]*testDN{}
	for _, d := range dns {
		byUUID[d.reg.UUID] = d
	}
	for _, l := range lens {
		lb, err := cp.AddBlock(ctx, path, "DFSClient_test", prev, nil, st.FileID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(lb.Locations) != 3 || len(slices.Compact(locUUIDs(lb))) != 3 {
			t.Fatalf("block %s placed on %v: want 3 distinct DataNodes", lb.Block, locUUIDs(lb))
		}
		b := lb.Block
		b.NumBytes = l
		for _, loc := range lb.Locations {
			for _, n := range append([]*NameNode{nn}, others...) {
				byUUID[loc.UUID].received(t, n, b.Block)
			}
		}
		prev = &b
		out = append(out, b.Block)
	}
	ok, err := cp.Complete(ctx, path, "DFSClient_test", prev, st.FileID, "alice")
	if err != nil || !ok {
		t.Fatalf("complete = %v, %v", ok, err)
	}
	return out
}

// The heart of #10 on the NameNode: a file written in blocks, its
// replicas reported to both NameNodes (to the standby before its edits
// name the blocks), readable from the standby right after a failover with
// no new report; a delete on the new active has the replicas deleted.
func TestBlocksWriteFailoverRead(t *testing.T) {
	ctx := context.Background()
	j, _, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 4)
	blocks := writeFile(t, nn1, []*NameNode{nn2}, dns, "/d/f", 1<<20, 1000)
	nn2.mu.RLock()
	queued := nn2.bm.Queued()
	nn2.mu.RUnlock()
	if queued == 0 {
		t.Fatal("the standby queued no report of blocks its edits had not reached")
	}
	lbs, err := nn1.ClientProtocol().GetBlockLocations(ctx, "/d/f", 0, 1<<30, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if lbs.FileLength != 1<<20+1000 || len(lbs.Blocks) != 2 || lbs.UnderConstruction || !lbs.LastBlockComplete || lbs.Blocks[1].Offset != 1<<20 {
		t.Fatalf("locations %+v", lbs)
	}
	if st, err := nn1.GetFileStatus(ctx, "/d/f", "bob"); err != nil || st.Length != 1<<20+1000 {
		t.Fatalf("status %+v, %v", st, err)
	}
	// The standby replays the edits (and the reports queued on the way).
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	oldClaim := dns[0].heartbeat(t, nn1).HAStatus
	if err := nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	// A DataNode follows the active claiming the highest txid: the new
	// one claims more than the old one did before any edit of its own.
	if newClaim := dns[0].heartbeat(t, nn2).HAStatus; oldClaim.State != hdfs.HAActive || newClaim.State != hdfs.HAActive || newClaim.Txid <= oldClaim.Txid {
		t.Fatalf("old active claimed %+v, new active %+v", oldClaim, newClaim)
	}
	got, err := nn2.ClientProtocol().GetBlockLocations(ctx, "/d/f", 1<<20, 1, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Blocks) != 1 || got.Blocks[0].Block.Block != blocks[1] || !slices.Equal(locUUIDs(got.Blocks[0]), locUUIDs(lbs.Blocks[1])) {
		t.Fatalf("after failover: %+v, want %s on %v", got, blocks[1], locUUIDs(lbs.Blocks[1]))
	}
	// The replay matches the live namespace, and so does the image.
	if a, b := dumpBlocks(nn1.ns), dumpBlocks(replayFormatted(t, j, nn1)); a != b {
		t.Fatalf("journal replay differs:\n%s\n---\n%s", a, b)
	}
	img, err := DecodeImage(nn2.ns.EncodeImage(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := dumpBlocks(nn2.ns), dumpBlocks(img); a != b {
		t.Fatalf("image round trip differs:\n%s\n---\n%s", a, b)
	}
	// Delete on the new active: every holder is told to delete its replicas;
	// the standby sends no command.
	if ok, err := nn2.Delete(ctx, "/d", true, "alice"); err != nil || !ok {
		t.Fatalf("delete = %v, %v", ok, err)
	}
	deleted := map[int64]int{}
	for _, d := range dns {
		for _, c := range d.heartbeat(t, nn2).Commands {
			if c.Action == hdfs.ActionInvalidate {
				for _, b := range c.Blocks {
					deleted[b.ID]++
				}
			}
		}
		if resp := d.heartbeat(t, nn1); len(resp.Commands) != 0 || resp.HAStatus.State != hdfs.HAStandby {
			t.Fatalf("standby answered %+v", resp)
		}
	}
	if deleted[blocks[0].ID] != 3 || deleted[blocks[1].ID] != 3 {
		t.Fatalf("invalidations %v", deleted)
	}
	nn2.mu.RLock()
	total := nn2.bm.NumBlocks()
	nn2.mu.RUnlock()
	if total != 0 {
		t.Fatalf("%d blocks left in the map", total)
	}
}

func dumpBlocks(ns *Namespace) string {
	var b strings.Builder
	b.WriteString(dump(ns))
	var walk func(p string, n *inode)
	walk = func(p string, n *inode) {
		for _, bl := range n.blocks {
			fmt.Fprintf(&b, "%s %s len=%d repl=%d file=%d\n", p, bl.Block, bl.NumBytes, bl.Replication, bl.FileID)
		}
		if n.uc != nil {
			fmt.Fprintf(&b, "%s uc %s %s\n", p, n.uc.holder, n.uc.machine)
		}
		for _, c := range n.children {
			walk(strings.TrimSuffix(p, "/")+"/"+c.name, c)
		}
	}
	walk("/", ns.root)
	fmt.Fprintf(&b, "lastBlock=%d gs=%d uc=%d\n", ns.lastBlockID, ns.genStamp, len(ns.uc))
	return b.String()
}

func TestBlockEditRoundTrip(t *testing.T) {
	ops := []*Op{
		{Code: OpAddFile, Path: "/f", Perm: 0o644, Owner: "u", Group: "g", Time: 7, Replication: 3, BlockSize: 1 << 27, Overwrite: true, ClientName: "c", ClientMachine: "h"},
		{Code: OpAppendFile, Path: "/f", ClientName: "c", ClientMachine: "h", Time: 8, GenStamp: 1005},
		{Code: OpAddBlock, Path: "/f", Time: 9, Blocks: []hdfs.Block{{ID: 1 << 30, GenStamp: 1001, NumBytes: 5}, {ID: 1<<30 + 1, GenStamp: 1002}}},
		{Code: OpUpdateBlocks, Path: "/f", Time: 10, Blocks: []hdfs.Block{{ID: 1, GenStamp: 2, NumBytes: 3}}},
		{Code: OpClose, Path: "/f", Time: 11},
		{Code: OpSetGenStamp, GenStamp: 1 << 40},
		{Code: OpReassignLease, Path: "/f", ClientName: recoveryHolder},
		{Code: OpTruncateFile, Path: "/f", Length: 3, Time: 12, ClientName: "c", ClientMachine: "h", GenStamp: 1010},
		{Code: OpConvertInline, Path: "/f", Dst: "/.hactl-convert/16386", InodeID: 16386, Time: 13},
	}
	for _, op := range ops {
		got, err := DecodeOp(EncodeOp(op))
		if err != nil {
			t.Fatalf("%s: %v", op.Code, err)
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", op) {
			t.Fatalf("%s: decoded %+v, want %+v", op.Code, got, op)
		}
		// A truncated record is refused, never misread.
		b := EncodeOp(op)
		if _, err := DecodeOp(b[:len(b)-1]); !errors.Is(err, ErrBadEdit) {
			t.Fatalf("%s truncated: %v", op.Code, err)
		}
	}
}

// An edit written before blocks existed decodes as it did: the inline
// ops kept their codes and encodings.
func TestEditVersion1Golden(t *testing.T) {
	// OP_ADD of /f (perm 0644, u:g, time 7, replication 3, block size 1024,
	// overwrite, data "hi") as the NameNode of before the DataNodes wrote it.
	golden := []byte{1, 2, 2, '/', 'f', 0xa4, 0x03, 1, 'u', 1, 'g', 14, 6, 0x80, 0x10, 1, 2, 'h', 'i'}
	op, err := DecodeOp(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := &Op{Code: OpCreate, Path: "/f", Perm: 0o644, Owner: "u", Group: "g", Time: 7, Replication: 3, BlockSize: 1024, Overwrite: true, Data: []byte("hi")}
	if fmt.Sprintf("%+v", op) != fmt.Sprintf("%+v", want) || !bytes.Equal(EncodeOp(want), golden) {
		t.Fatalf("decoded %+v", op)
	}
}

// An image written before blocks existed (version 1) still loads.
func TestImageVersion1Loads(t *testing.T) {
	var b []byte
	uv := func(v uint64) {
		for v >= 0x80 {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		b = append(b, byte(v))
	}
	sv := func(v int64) { uv(uint64(v<<1) ^ uint64(v>>63)) }
	str := func(s string) { uv(uint64(len(s))); b = append(b, s...) }
	b = append(b, imageMagic...)
	uv(1)
	sv(7)       // txid
	sv(16386)   // last inode
	uv(1)       // names
	str("hdfs") // 0
	str("")     // root
	b = append(b, 1)
	sv(16385)
	sv(1)
	sv(1)
	uv(0o755)
	uv(0)
	uv(0)
	uv(1) // one child
	str("f")
	b = append(b, 0)
	sv(16386)
	sv(2)
	sv(2)
	uv(0o644)
	uv(0)
	uv(0)
	sv(3)       // replication
	sv(1 << 27) // block size
	str("inline data")
	ns, err := DecodeImage(b, DefaultMaxInline)
	if err != nil {
		t.Fatal(err)
	}
	data, err := ns.Read("/f", 0, -1)
	if err != nil || string(data) != "inline data" || ns.lastTxid != 7 || ns.lastBlockID != firstBlockID-1 || ns.genStamp != firstGenStamp-1 {
		t.Fatalf("read %q, %v; txid %d block %d gs %d", data, err, ns.lastTxid, ns.lastBlockID, ns.genStamp)
	}
	// And saved again it is a version-2 image that loads the same.
	again, err := DecodeImage(ns.EncodeImage(), DefaultMaxInline)
	if err != nil || dumpBlocks(again) != dumpBlocks(ns) {
		t.Fatalf("re-encoded: %v", err)
	}
}

// Lease recovery: a writer that stops renewing past the hard limit has its
// last block recovered by a primary DataNode to the length every replica
// agrees on, and the file closed at that length.
func TestLeaseRecovery(t *testing.T) {
	ctx := context.Background()
	_, clk, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	cp := nn1.ClientProtocol()
	st, err := cp.Create(ctx, "/log", "DFSClient_dead", hdfs.CreateOptions{Perm: 0o644}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cp.AddBlock(ctx, "/log", "DFSClient_dead", nil, nil, st.FileID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Another client may not take the file while the lease is fresh.
	if _, err := cp.Create(ctx, "/log", "DFSClient_other", hdfs.CreateOptions{Overwrite: true}, "alice"); !errors.Is(err, hdfs.ErrAlreadyBeingCreated) {
		t.Fatalf("create over a live lease: %v", err)
	}
	clk.ms.Add((nn1.cfg.LeaseHardLimit + time.Second).Milliseconds())
	for _, d := range dns {
		d.heartbeat(t, nn1)
	}
	nn1.BlockTick(ctx)
	var rec *hdfs.RecoveringBlock
	for _, d := range dns {
		for _, c := range d.heartbeat(t, nn1).Commands {
			if c.Action == hdfs.ActionRecover {
				rec = &c.Recovering[0]
			}
		}
	}
	if rec == nil || rec.Block.ID != lb.Block.ID || rec.NewGenStamp <= lb.Block.GenStamp || len(rec.Locations) != 3 {
		t.Fatalf("recovery command %+v", rec)
	}
	// Before the commit the file is still open; a writer's call is refused.
	if _, err := cp.AddBlock(ctx, "/log", "DFSClient_dead", &lb.Block, nil, st.FileID, "alice"); !errors.Is(err, hdfs.ErrLeaseExpired) {
		t.Fatalf("the dead writer's addBlock: %v", err)
	}
	// A stale recovery id is refused.
	stale := hdfs.CommitSync{Block: lb.Block, NewGenStamp: rec.NewGenStamp - 1, NewLength: 70, CloseFile: true}
	if err := nn1.DatanodeProtocol().CommitBlockSynchronization(ctx, stale); err == nil {
		t.Fatal("commit with a stale recovery id accepted")
	}
	var targets []hdfs.DatanodeID
	for _, d := range dns[:2] {
		targets = append(targets, d.reg.DatanodeID)
	}
	commit := hdfs.CommitSync{Block: lb.Block, NewGenStamp: rec.NewGenStamp, NewLength: 70, CloseFile: true, NewTargets: targets}
	if err := nn1.DatanodeProtocol().CommitBlockSynchronization(ctx, commit); err != nil {
		t.Fatal(err)
	}
	got, err := cp.GetBlockLocations(ctx, "/log", 0, 100, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.UnderConstruction || got.FileLength != 70 || len(got.Blocks) != 1 || got.Blocks[0].Block.GenStamp != rec.NewGenStamp || len(got.Blocks[0].Locations) != 2 {
		t.Fatalf("after recovery %+v", got)
	}
	if closed, err := cp.RecoverLease(ctx, "/log", "DFSClient_other", "alice"); err != nil || !closed {
		t.Fatalf("recoverLease of a closed file = %v, %v", closed, err)
	}
	// The standby reaches the same file from the edits.
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := dumpBlocks(nn1.ns), dumpBlocks(nn2.ns); a != b {
		t.Fatalf("standby differs:\n%s\n---\n%s", a, b)
	}
}

// recoverLease of a file whose writer never wrote a byte closes it at once.
func TestRecoverLeaseEmptyBlock(t *testing.T) {
	ctx := context.Background()
	_, _, nn1, nn2 := newBlockPair(t)
	newDNs(t, []*NameNode{nn1, nn2}, 3)
	cp := nn1.ClientProtocol()
	st, err := cp.Create(ctx, "/e", "c1", hdfs.CreateOptions{Perm: 0o644}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.AddBlock(ctx, "/e", "c1", nil, nil, st.FileID, "alice"); err != nil {
		t.Fatal(err)
	}
	// The pipeline never reported: the expected locations are the
	// targets, so recovery is needed (false) — as Hadoop.
	closed, err := cp.RecoverLease(ctx, "/e", "c2", "alice")
	if err != nil || closed {
		t.Fatalf("recoverLease = %v, %v", closed, err)
	}
	// A file with no block at all closes at once.
	if _, err := cp.Create(ctx, "/e2", "c1", hdfs.CreateOptions{Perm: 0o644}, "alice"); err != nil {
		t.Fatal(err)
	}
	if closed, err := cp.RecoverLease(ctx, "/e2", "c2", "alice"); err != nil || !closed {
		t.Fatalf("recoverLease of an empty file = %v, %v", closed, err)
	}
}

// Pipeline recovery: a new stamp, the recovered pipeline; replicas of the
// old stamp no longer count.
func TestPipelineRecovery(t *testing.T) {
	ctx := context.Background()
	j, _, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 4)
	cp := nn1.ClientProtocol()
	st, err := cp.Create(ctx, "/p", "c", hdfs.CreateOptions{Perm: 0o644}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cp.AddBlock(ctx, "/p", "c", nil, nil, st.FileID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := cp.UpdateBlockForPipeline(ctx, lb.Block, "c", "alice")
	if err != nil || nb.Block.GenStamp <= lb.Block.GenStamp {
		t.Fatalf("updateBlockForPipeline = %+v, %v", nb, err)
	}
	if _, err := cp.UpdateBlockForPipeline(ctx, lb.Block, "intruder", "alice"); !errors.Is(err, hdfs.ErrLeaseExpired) {
		t.Fatalf("another client's updateBlockForPipeline: %v", err)
	}
	extra, err := cp.GetAdditionalDatanode(ctx, "/p", st.FileID, lb.Block, lb.Locations[:2], []hdfs.DatanodeID{lb.Locations[2].DatanodeID}, 1, "c", "alice")
	if err != nil || len(extra.Locations) != 3 {
		t.Fatalf("getAdditionalDatanode = %+v, %v", extra, err)
	}
	newNodes := []hdfs.DatanodeID{extra.Locations[0].DatanodeID, extra.Locations[1].DatanodeID, extra.Locations[2].DatanodeID}
	newBlock := nb.Block
	newBlock.NumBytes = 512
	if err := cp.UpdatePipeline(ctx, "c", lb.Block, newBlock, newNodes, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, id := range newNodes {
		for _, d := range dns {
			if d.reg.UUID == id.UUID {
				d.received(t, nn1, hdfs.Block{ID: newBlock.ID, GenStamp: newBlock.GenStamp, NumBytes: 600})
			}
		}
	}
	last := newBlock
	last.NumBytes = 600
	if ok, err := cp.Complete(ctx, "/p", "c", &last, st.FileID, "alice"); err != nil || !ok {
		t.Fatalf("complete = %v, %v", ok, err)
	}
	got, err := cp.GetBlockLocations(ctx, "/p", 0, 1000, "alice")
	if err != nil || got.FileLength != 600 || got.Blocks[0].Block.GenStamp != newBlock.GenStamp || len(got.Blocks[0].Locations) != 3 {
		t.Fatalf("locations %+v, %v", got, err)
	}
	if a, b := dumpBlocks(nn1.ns), dumpBlocks(replayFormatted(t, j, nn1)); a != b {
		t.Fatalf("replay differs:\n%s\n---\n%s", a, b)
	}
}

// A NameNode restarted over a namespace with blocks is in safe mode until
// the DataNodes report them; writes are refused meanwhile.
// A NameNode restarted over an image older than the blocks (no checkpoint
// since they were written: the blocks are in the journal's edits only) is
// in safe mode once it caught up, as Hadoop counts blocks over the image
// and the edits: its image alone has no block, which must not take it
// out of safe mode at once.
func TestSafeModeAfterRestartOverEditsWithBlocks(t *testing.T) {
	ctx := context.Background()
	j, clk, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	writeFile(t, nn1, nil, dns, "/f", 100)
	cfg := nn2.cfg
	cfg.ID = "nn3"
	nn3 := New(cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := nn3.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := nn3.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	nn3.BlockTick(ctx)
	if f := nn3.blockFigures(); !f.safeMode || f.BlocksTotal != 1 {
		t.Fatalf("restarted over edits with a block: safe mode %v, %d blocks, tip %q", f.safeMode, f.BlocksTotal, f.SafeModeTip)
	}
}

func TestSafeModeUntilReported(t *testing.T) {
	ctx := context.Background()
	j, clk, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	writeFile(t, nn1, nil, dns, "/f", 100)
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, img, err := nn2.Checkpoint(true); err != nil || img == nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if err := nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	// nn3 starts from nn2's name dirs: a restart over an image with blocks.
	cfg := nn2.cfg
	cfg.ID = "nn3"
	cfg.BlockManager.SafeModeExtension = 10 * time.Second
	cfg.Peers = []Peer{{ID: "nn1"}} // HA: start-up safe mode is retriable
	nn3 := New(cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := nn3.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := nn3.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn3.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	err := nn3.Mkdirs(ctx, "/x", 0o755, "alice")
	if !errors.Is(err, hdfs.ErrSafeMode) || !strings.Contains(err.Error(), "Cannot create directory /x. Name node is in safe mode.") {
		t.Fatalf("mkdirs in safe mode: %v", err)
	}
	// Hadoop's checkNameNodeSafeMode: an HA active NameNode in start-up
	// safe mode answers RetriableException, so clients wait for it.
	re := webhdfs.ToRemoteException(err)
	if re.Exception != "RetriableException" || !strings.HasPrefix(re.Message, "SafeModeException: Cannot create directory /x") {
		t.Fatalf("exception %+v", re)
	}
	for _, d := range dns {
		info, _ := nn3.DatanodeProtocol().VersionRequest(ctx)
		d.reg.BlockPoolID = info.BlockPoolID
		if _, err := nn3.DatanodeProtocol().RegisterDatanode(ctx, d.reg); err != nil {
			t.Fatal(err)
		}
		var reps []hdfs.ReplicaReport
		nn3.mu.RLock()
		for _, b := range nn3.ns.allBlocks() {
			reps = append(reps, hdfs.ReplicaReport{Block: b.Block, State: hdfs.ReplicaFinalized})
		}
		nn3.mu.RUnlock()
		if _, err := nn3.DatanodeProtocol().BlockReport(ctx, d.reg, reps); err != nil {
			t.Fatal(err)
		}
	}
	nn3.BlockTick(ctx)
	if err := nn3.Mkdirs(ctx, "/x", 0o755, "alice"); !errors.Is(err, hdfs.ErrSafeMode) || !strings.Contains(err.Error(), "In safe mode extension") {
		t.Fatalf("mkdirs in the extension: %v", err)
	}
	clk.ms.Add(cfg.BlockManager.SafeModeExtension.Milliseconds())
	nn3.BlockTick(ctx)
	if err := nn3.Mkdirs(ctx, "/x", 0o755, "alice"); err != nil {
		t.Fatal(err)
	}
	// Safe mode entered by hand (dfsadmin -safemode enter: setSafeMode)
	// is not retriable: it ends only by hand.
	if on, err := nn3.SetSafeMode(ctx, hdfs.SafeModeEnter, true, "alice"); !on || err != nil {
		t.Fatalf("enter: %v, %v", on, err)
	}
	err = nn3.Mkdirs(ctx, "/y", 0o755, "alice")
	if re := webhdfs.ToRemoteException(err); re.Exception != "SafeModeException" || !strings.Contains(re.Message, "It was turned on manually") {
		t.Fatalf("manual safe mode: %+v", re)
	}
	if on, err := nn3.SetSafeMode(ctx, hdfs.SafeModeGet, true, "alice"); !on || err != nil {
		t.Fatalf("get: %v, %v", on, err)
	}
	if on, err := nn3.SetSafeMode(ctx, hdfs.SafeModeLeave, true, "alice"); on || err != nil {
		t.Fatalf("leave: %v, %v", on, err)
	}
	if err := nn3.Mkdirs(ctx, "/y", 0o755, "alice"); err != nil {
		t.Fatal(err)
	}
	// A checked call is the active's (dfsadmin's HA loop asks unchecked).
	if _, err := nn1.SetSafeMode(ctx, hdfs.SafeModeGet, true, "alice"); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("checked get on the standby: %v", err)
	}
	if _, err := nn1.SetSafeMode(ctx, hdfs.SafeModeGet, false, "alice"); err != nil {
		t.Fatalf("unchecked get on the standby: %v", err)
	}
}

// Without an inline limit WebHDFS's first step goes to a DataNode, as
// Hadoop's NameNode redirects: CREATE to a live one (the client's own
// first), OPEN to a holder of the block at the offset; a file stored
// inline before is still served by the NameNode.
func TestWebHDFSRedirectsToDataNodes(t *testing.T) {
	ctx := context.Background()
	_, _, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	blocks := writeFile(t, nn1, nil, dns, "/f", 1<<20, 10)
	// An inline file of before the upgrade.
	nn1.mu.Lock()
	nn1.ns.MaxInline = 100
	nn1.mu.Unlock()
	if err := nn1.Create(ctx, "/old", []byte("inline"), false, 0o644, 3, 1<<20, "alice"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nn1.Handler(nn1.WebHDFSHandler(webhdfs.HandlerOptions{})))
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, q string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+q, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get(http.MethodPut, "/webhdfs/v1/new?op=CREATE&user.name=alice&overwrite=true")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc.Host, "127.0.9.") || loc.Port() != "9864" ||
		loc.Query().Get("namenoderpcaddress") != "ns1" || loc.Query().Get("overwrite") != "true" || loc.Path != "/webhdfs/v1/new" {
		t.Fatalf("CREATE: %d %s", resp.StatusCode, loc)
	}
	resp = get(http.MethodGet, "/webhdfs/v1/f?op=OPEN&user.name=alice&offset=1048580")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	nn1.mu.RLock()
	holders := nn1.bm.Get(blocks[1].ID).Locs()
	nn1.mu.RUnlock()
	if resp.StatusCode != http.StatusTemporaryRedirect || !slices.ContainsFunc(holders, func(d *blockmgmt.Datanode) bool { return d.Info.InfoAddr() == loc.Host }) {
		t.Fatalf("OPEN at the second block: %d %s (holders %v)", resp.StatusCode, loc, holders)
	}
	resp = get(http.MethodGet, "/webhdfs/v1/old?op=OPEN&user.name=alice")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusTemporaryRedirect || loc.Host != strings.TrimPrefix(srv.URL, "http://") {
		t.Fatalf("OPEN of an inline file: %d %s", resp.StatusCode, loc)
	}
	if b, err := nn1.Open(ctx, "/old", 0, -1, "alice"); err != nil || string(b) != "inline" {
		t.Fatalf("inline read %q, %v", b, err)
	}
}

// The redirect honours excludedatanodes (the client could not reach those
// DataNodes: WebHdfsFileSystem's retry) and passes over a DataNode that
// stopped heartbeating before it is declared dead (stale-node avoidance),
// for OPEN, APPEND, GETFILECHECKSUM and CREATE.
func TestWebHDFSRedirectAvoidsExcludedAndStaleDataNodes(t *testing.T) {
	_, clk, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	writeFile(t, nn1, nil, dns, "/f", 1<<20, 10)
	srv := httptest.NewServer(nn1.Handler(nn1.WebHDFSHandler(webhdfs.HandlerOptions{})))
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirect := func(method, q string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+q, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect {
			return resp.StatusCode, string(body)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode, loc.Host
	}
	ops := []struct{ method, q string }{
		{http.MethodGet, "/webhdfs/v1/f?op=OPEN&user.name=alice"},
		{http.MethodPost, "/webhdfs/v1/f?op=APPEND&user.name=alice"},
		{http.MethodGet, "/webhdfs/v1/f?op=GETFILECHECKSUM&user.name=alice"},
		{http.MethodPut, "/webhdfs/v1/new?op=CREATE&user.name=alice"},
	}
	for _, op := range ops {
		// dn1 by its HTTP address (what the client could not reach),
		// dn2 as a bare host: only dn3 is left.
		code, host := redirect(op.method, op.q+"&excludedatanodes=127.0.9.1:9864,+dn2")
		if code != http.StatusTemporaryRedirect || host != "127.0.9.3:9864" {
			t.Errorf("%s excluding dn1, dn2: %d %s, want 307 to 127.0.9.3:9864", op.q, code, host)
		}
	}
	code, body := redirect(http.MethodGet, ops[0].q+"&excludedatanodes=127.0.9.1:9866,127.0.9.2:9864,dn3:9864")
	if code != http.StatusForbidden || !strings.Contains(body, "Failed to find datanode") || !strings.Contains(body, "excludeDatanodes=127.0.9.1:9866,127.0.9.2:9864,dn3:9864") {
		t.Errorf("OPEN excluding every holder: %d %s", code, body)
	}
	// dn1 and dn2 fall silent past dfs.namenode.stale.datanode.interval
	// (30 s) while dn3 heartbeats: every redirect goes to dn3, and with dn3
	// excluded a stale one is still better than none.
	clk.ms.Add(31_000)
	dns[2].heartbeat(t, nn1)
	nn1.mu.RLock()
	st := nn1.bm.Stats()
	nn1.mu.RUnlock()
	if st.NumStale != 2 || st.NumLive != 3 {
		t.Errorf("stats with dn1, dn2 silent for 31 s: %d stale of %d live, want 2 of 3 (JMX NumStaleDataNodes)", st.NumStale, st.NumLive)
	}
	for i := range 6 {
		op := ops[i%len(ops)]
		if code, host := redirect(op.method, op.q); code != http.StatusTemporaryRedirect || host != "127.0.9.3:9864" {
			t.Errorf("%s with dn1, dn2 stale: %d %s, want 307 to 127.0.9.3:9864", op.q, code, host)
		}
	}
	if code, host := redirect(http.MethodGet, ops[0].q+"&excludedatanodes=127.0.9.3:9864"); code != http.StatusTemporaryRedirect || (host != "127.0.9.1:9864" && host != "127.0.9.2:9864") {
		t.Errorf("OPEN with the fresh DataNode excluded: %d %s, want a stale holder", code, host)
	}
}

// replayFormatted replays the whole journal over the image format wrote.
func replayFormatted(t *testing.T, j *MemJournal, nn *NameNode) *Namespace {
	t.Helper()
	img, err := nn.storage.ReadImage(0)
	if err != nil {
		t.Fatal(err)
	}
	base, err := DecodeImage(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	return replay(t, j, base)
}

// Truncate, concat, append and overwrite of files in blocks: freed blocks
// are deleted on their DataNodes, moved ones keep their replicas, a cut
// within a block is a block recovery.
func TestBlockFileOps(t *testing.T) {
	ctx := context.Background()
	j, _, nn1, nn2 := newBlockPair(t)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	a := writeFile(t, nn1, nil, dns, "/a", 1<<20, 1<<20, 100)
	b := writeFile(t, nn1, nil, dns, "/b", 1<<20, 7)
	invalidated := func() map[int64]int {
		out := map[int64]int{}
		for _, d := range dns {
			for _, c := range d.heartbeat(t, nn1).Commands {
				if c.Action == hdfs.ActionInvalidate {
					for _, x := range c.Blocks {
						out[x.ID]++
					}
				}
			}
		}
		return out
	}
	// On a block boundary: done at once, the blocks past it deleted.
	if ok, err := nn1.Truncate(ctx, "/a", 2<<20, "alice"); err != nil || !ok {
		t.Fatalf("truncate on a boundary = %v, %v", ok, err)
	}
	if got := invalidated(); got[a[2].ID] != 3 || len(got) != 1 {
		t.Fatalf("invalidated %v, want %s on 3", got, a[2])
	}
	// Concat moves /b's blocks to the end of /a.
	if err := nn1.Concat(ctx, "/a", []string{"/b"}, "alice"); err != nil {
		t.Fatal(err)
	}
	lbs, err := nn1.ClientProtocol().GetBlockLocations(ctx, "/a", 0, 1<<40, "alice")
	if err != nil || lbs.FileLength != 3<<20+7 || len(lbs.Blocks) != 4 || lbs.Blocks[3].Block.Block != b[1] || len(lbs.Blocks[3].Locations) != 3 {
		t.Fatalf("after concat %+v, %v", lbs, err)
	}
	// Within a block: the client is told false, the last block recovered.
	if ok, err := nn1.Truncate(ctx, "/a", 3<<20+3, "alice"); err != nil || ok {
		t.Fatalf("truncate within a block = %v, %v", ok, err)
	}
	var rec *hdfs.RecoveringBlock
	for _, d := range dns {
		for _, c := range d.heartbeat(t, nn1).Commands {
			if c.Action == hdfs.ActionRecover {
				rec = &c.Recovering[0]
			}
		}
	}
	if rec == nil || rec.Block.ID != b[1].ID || rec.TruncateTo == nil || *rec.TruncateTo != 3 {
		t.Fatalf("truncate recovery %+v", rec)
	}
	var targets []hdfs.DatanodeID
	for _, l := range rec.Locations {
		targets = append(targets, l.DatanodeID)
	}
	if err := nn1.DatanodeProtocol().CommitBlockSynchronization(ctx, hdfs.CommitSync{Block: rec.Block, NewGenStamp: rec.NewGenStamp,
		NewLength: 3, CloseFile: true, NewTargets: targets}); err != nil {
		t.Fatal(err)
	}
	if st, err := nn1.GetFileStatus(ctx, "/a", "alice"); err != nil || st.Length != 3<<20+3 {
		t.Fatalf("after the truncate recovery %+v, %v", st, err)
	}
	// Append to a file whose last block is partial: the block comes back
	// with a new stamp on its holders.
	lb, st, err := nn1.ClientProtocol().Append(ctx, "/a", "appender", "alice")
	if err != nil || lb == nil || lb.Block.ID != b[1].ID || lb.Block.GenStamp <= rec.NewGenStamp || len(lb.Locations) != 3 || st.Length != 3<<20+3 {
		t.Fatalf("append = %+v %+v, %v", lb, st, err)
	}
	if _, _, err := nn1.ClientProtocol().Append(ctx, "/a", "other", "alice"); !errors.Is(err, hdfs.ErrAlreadyBeingCreated) {
		t.Fatalf("second appender: %v", err)
	}
	last := lb.Block
	last.NumBytes = 10
	for _, d := range dns {
		d.received(t, nn1, last.Block)
	}
	if ok, err := nn1.ClientProtocol().Complete(ctx, "/a", "appender", &last, 0, "alice"); err != nil || !ok {
		t.Fatalf("complete after append = %v, %v", ok, err)
	}
	// Overwrite frees every block of the old file.
	if _, err := nn1.ClientProtocol().Create(ctx, "/a", "c", hdfs.CreateOptions{Perm: 0o644, Overwrite: true}, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := invalidated(); len(got) != 4 {
		t.Fatalf("overwrite invalidated %v, want the 4 blocks of the old file", got)
	}
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if x, y := dumpBlocks(nn1.ns), dumpBlocks(nn2.ns); x != y {
		t.Fatalf("standby differs:\n%s\n---\n%s", x, y)
	}
	if x, y := dumpBlocks(nn1.ns), dumpBlocks(replayFormatted(t, j, nn1)); x != y {
		t.Fatalf("replay differs:\n%s\n---\n%s", x, y)
	}
}

// Past the soft limit (60 s) another client's create or append recovers
// the lease: a file with nothing being written is closed and the call
// proceeds; one with a block being written goes to block recovery and the
// caller is told RecoveryInProgressException.
func TestLeaseSoftLimit(t *testing.T) {
	ctx := context.Background()
	_, clk, nn1, nn2 := newBlockPair(t)
	newDNs(t, []*NameNode{nn1, nn2}, 3)
	cp := nn1.ClientProtocol()
	if _, err := cp.Create(ctx, "/empty", "c1", hdfs.CreateOptions{Perm: 0o644}, "alice"); err != nil {
		t.Fatal(err)
	}
	st, err := cp.Create(ctx, "/busy", "c1", hdfs.CreateOptions{Perm: 0o644}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cp.AddBlock(ctx, "/busy", "c1", nil, nil, st.FileID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Create(ctx, "/empty", "c2", hdfs.CreateOptions{Perm: 0o644, Overwrite: true}, "alice"); !errors.Is(err, hdfs.ErrAlreadyBeingCreated) {
		t.Fatalf("create within the soft limit: %v", err)
	}
	if _, err := cp.Create(ctx, "/empty2", "c1", hdfs.CreateOptions{Perm: 0o644}, "alice"); err != nil {
		t.Fatal(err)
	}
	clk.ms.Add(61_000)
	// Append: the recovery closes the file, the append goes on.
	if lb, _, err := cp.Append(ctx, "/empty2", "c2", "alice"); err != nil || lb != nil {
		t.Fatalf("append past the soft limit of a file being written nowhere = %+v, %v", lb, err)
	}
	if _, err := cp.Create(ctx, "/empty", "c2", hdfs.CreateOptions{Perm: 0o644, Overwrite: true}, "alice"); err != nil {
		t.Fatalf("create past the soft limit: %v", err)
	}
	if _, _, err := cp.Append(ctx, "/busy", "c2", "alice"); !errors.Is(err, hdfs.ErrRecoveryInProgress) {
		t.Fatalf("append past the soft limit: %v", err)
	}
	nn1.mu.RLock()
	f := nn1.ns.walk("/busy")
	holder, rid := f.uc.holder, nn1.bm.RecoveryID(f.blocks[0])
	nn1.mu.RUnlock()
	if holder != recoveryHolder || rid <= lb.Block.GenStamp {
		t.Fatalf("lease held by %s, recovery id %d", holder, rid)
	}
}

// An addBlock retried on the new active after a failover (the old one
// logged the block, its answer was lost) gets the same block, on a
// pipeline the new active chooses: the edits do not hold the targets.
func TestAddBlockRetriedAfterFailover(t *testing.T) {
	ctx := context.Background()
	_, _, nn1, nn2 := newBlockPair(t)
	newDNs(t, []*NameNode{nn1, nn2}, 3)
	st, err := nn1.ClientProtocol().Create(ctx, "/r", "c", hdfs.CreateOptions{Perm: 0o644}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	first, err := nn1.ClientProtocol().AddBlock(ctx, "/r", "c", nil, nil, st.FileID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := nn2.ClientProtocol().AddBlock(ctx, "/r", "c", nil, nil, st.FileID, "alice")
	if err != nil || again.Block != first.Block || len(again.Locations) != 3 {
		t.Fatalf("retried addBlock = %+v, %v; first %s", again, err, first.Block)
	}
}
