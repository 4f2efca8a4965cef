package namenode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/datanode"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
)

type logWriterT struct{ t *testing.T }

func (w logWriterT) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// realCluster is two in-process NameNodes (nn1 active) on one journal and
// real DataNodes (runtime/datanode) reporting to both, with the block
// monitors ticking as the daemon's do.
type realCluster struct {
	t        *testing.T
	nn1, nn2 *NameNode
	dns      []*datanode.DataNode
}

func startRealCluster(t *testing.T, ndn int) *realCluster {
	t.Helper()
	ctx := context.Background()
	j := NewMemJournal()
	var nns []*NameNode
	for i, id := range []string{"nn1", "nn2"} {
		cfg := blockConfig(t, id)
		// A silent DataNode is dead after 2×100ms + 10×20ms, not 10m30s.
		cfg.BlockManager.HeartbeatInterval = 20 * time.Millisecond
		cfg.BlockManager.RecheckInterval = 100 * time.Millisecond
		if i == 0 {
			if err := Format(ctx, cfg, j, testInfo, false, time.Now()); err != nil {
				t.Fatal(err)
			}
		} else {
			img, _ := nns[0].storage.ReadImage(0)
			if err := (&Storage{Dirs: cfg.NameDirs}).Format(testInfo, img, 0); err != nil {
				t.Fatal(err)
			}
		}
		n := New(cfg, j, Options{Logf: t.Logf, Groups: superGroups})
		if err := n.Load(); err != nil {
			t.Fatal(err)
		}
		nns = append(nns, n)
	}
	if err := nns[0].TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	c := &realCluster{t: t, nn1: nns[0], nn2: nns[1]}
	tick, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for tick.Err() == nil {
			for _, n := range nns {
				n.BlockTick(tick)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { stop(); wg.Wait() })
	for i := range ndn {
		dn, err := datanode.Start(datanode.Options{
			DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Hostname: fmt.Sprintf("dn%d", i+1),
			NameNodes: []datanode.NameNode{
				{Nameservice: "ns1", ID: "nn1", Addr: "nn1", Proto: c.nn1.DatanodeProtocol()},
				{Nameservice: "ns1", ID: "nn2", Addr: "nn2", Proto: c.nn2.DatanodeProtocol()},
			},
			Heartbeat: 20 * time.Millisecond, ScanPeriod: -1, SocketTimeout: 5 * time.Second,
			Secret: testSecret, Logger: log.New(logWriterT{t}, fmt.Sprintf("dn%d: ", i+1), 0),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dn.Close() })
		c.dns = append(c.dns, dn)
	}
	c.waitFor("every DataNode live on both NameNodes", func() bool {
		return c.live(c.nn1) == ndn && c.live(c.nn2) == ndn
	})
	return c
}

func (c *realCluster) live(n *NameNode) int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.bm.Stats().NumLive
}

func (c *realCluster) waitFor(what string, ok func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/511)
	}
	return b
}

func readAll(t *testing.T, c *dfsclient.Client, path string) []byte {
	t.Helper()
	r, err := c.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replicas returns how many live replicas each block of path has on n.
func replicas(t *testing.T, n *NameNode, path string) []int {
	t.Helper()
	lbs, err := n.ClientProtocol().GetBlockLocations(context.Background(), path, 0, 1<<40, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, b := range lbs.Blocks {
		out = append(out, len(b.Locations))
	}
	return out
}

// The NameNode with real DataNodes and hactl's DFSClient: a multi-block
// file written through the pipeline and read back byte for byte; read from
// the standby right after a failover with no new block report; a DataNode
// replica corrupted on disk: a reader still gets the data, the replica is
// reported and replaced; a DataNode killed: the replication monitor brings
// every block back to 3 replicas.
func TestRealDataNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DataNodes")
	}
	ctx := context.Background()
	c := startRealCluster(t, 4)
	cl := dfsclient.New(c.nn1.ClientProtocol(), dfsclient.Options{User: "alice", Logf: t.Logf})
	data := pattern(3<<20 + 4321)
	w, err := cl.Create(ctx, "/data/f", hdfs.CreateOptions{Perm: 0o644, CreateParent: true, BlockSize: 1 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, cl, "/data/f"); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, differ from the %d written", len(got), len(data))
	}
	if st, err := c.nn1.GetFileStatus(ctx, "/data/f", "alice"); err != nil || st.Length != int64(len(data)) {
		t.Fatalf("status %+v, %v", st, err)
	}
	// Failover: the standby serves the file at once, from the reports it
	// had all along.
	if _, err := c.nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	cl2 := dfsclient.New(c.nn2.ClientProtocol(), dfsclient.Options{User: "alice", Logf: t.Logf})
	if got := readAll(t, cl2, "/data/f"); !bytes.Equal(got, data) {
		t.Fatalf("after failover: read %d bytes, differ", len(got))
	}
	for _, n := range replicas(t, c.nn2, "/data/f") {
		if n != 3 {
			t.Fatalf("replicas %v", replicas(t, c.nn2, "/data/f"))
		}
	}
	// A replica corrupted on disk: the reader falls back to another,
	// reports it, and the monitor replaces it.
	lbs, err := c.nn2.ClientProtocol().GetBlockLocations(ctx, "/data/f", 0, 1, "alice")
	if err != nil {
		t.Fatal(err)
	}
	first := lbs.Blocks[0]
	var bad *datanode.DataNode
	for _, dn := range c.dns {
		if dn.ID().UUID == first.Locations[0].UUID {
			bad = dn
		}
	}
	rep, ok := bad.Storage().Get(first.Block.PoolID, first.Block.ID)
	if !ok {
		t.Fatalf("%s has no replica of %s", bad.ID().UUID, first.Block)
	}
	f, err := os.OpenFile(rep.DataPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{^data[100]}, 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := readAll(t, cl2, "/data/f"); !bytes.Equal(got, data) {
		t.Fatal("read with a corrupt replica differs")
	}
	c.waitFor("the corrupt replica replaced", func() bool {
		c.nn2.mu.RLock()
		b := c.nn2.bm.Get(first.Block.ID)
		corrupt := len(c.nn2.bm.CorruptReplicas(first.Block.ID))
		holders := b.Locs()
		onBad := false
		for _, d := range holders {
			onBad = onBad || d.Info.UUID == bad.ID().UUID
		}
		n := len(holders)
		c.nn2.mu.RUnlock()
		return corrupt == 0 && n == 3 && !onBad
	})

	// A DataNode dies: its blocks are copied to the fourth.
	victim := bad // the node the corrupt replica was on: its other blocks move too
	victim.Close()
	c.waitFor("the dead DataNode's blocks re-replicated", func() bool {
		c.nn2.mu.RLock()
		s := c.nn2.bm.Stats()
		c.nn2.mu.RUnlock()
		if s.NumDead != 1 || s.UnderReplicatedBlocks != 0 {
			return false
		}
		for _, n := range replicas(t, c.nn2, "/data/f") {
			if n != 3 {
				return false
			}
		}
		return true
	})
	if got := readAll(t, cl2, "/data/f"); !bytes.Equal(got, data) {
		t.Fatal("read after re-replication differs")
	}
}

// Files stored inline before the DataNodes are converted to blocks on the
// active: same inode, owner, permission, times and bytes, now read from
// DataNodes; the standby replays the same conversion.
func TestConvertInlineToBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DataNodes")
	}
	ctx := context.Background()
	c := startRealCluster(t, 3)
	nn := c.nn1
	nn.mu.Lock()
	nn.ns.MaxInline = 1 << 20
	nn.mu.Unlock()
	small, big := []byte("written before the DataNodes"), pattern(700<<10)
	if err := nn.Create(ctx, "/old/a", small, false, 0o640, 3, 1<<20, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := nn.Create(ctx, "/old/b", big, false, 0o600, 2, 256<<10, "bob"); err != nil {
		t.Fatal(err)
	}
	before, err := nn.GetFileStatus(ctx, "/old/a", "hdfs")
	if err != nil {
		t.Fatal(err)
	}
	nn.mu.Lock()
	nn.ns.MaxInline = 0
	nn.mu.Unlock()
	// With an inline limit the converter leaves the files alone.
	nn.cfg.MaxInline = 1 << 20
	if k, _, err := nn.ConvertInline(ctx, 16); err != nil || k != 0 {
		t.Fatalf("converted %d, %v with an inline limit", k, err)
	}
	nn.cfg.MaxInline = 0
	if k, found, err := nn.ConvertInline(ctx, 16); err != nil || k != 2 || found != 2 {
		t.Fatalf("converted %d of %d: %v", k, found, err)
	}
	after, err := nn.GetFileStatus(ctx, "/old/a", "hdfs")
	if err != nil || after != before {
		t.Fatalf("status changed: %+v → %+v (%v)", before, after, err)
	}
	cl := dfsclient.New(nn.ClientProtocol(), dfsclient.Options{User: "hdfs"})
	if got := readAll(t, cl, "/old/a"); !bytes.Equal(got, small) {
		t.Fatalf("/old/a reads %q", got)
	}
	if got := readAll(t, cl, "/old/b"); !bytes.Equal(got, big) {
		t.Fatalf("/old/b reads %d bytes, differ", len(got))
	}
	nn.mu.RLock()
	b := nn.ns.walk("/old/b")
	inline, blocks, tmp := len(b.data), len(b.blocks), nn.ns.walk(convertDir)
	nn.mu.RUnlock()
	if inline != 0 || blocks != 3 || tmp != nil {
		t.Fatalf("/old/b: %d inline bytes, %d blocks; %s left: %v", inline, blocks, convertDir, tmp != nil)
	}
	if _, found, _ := nn.ConvertInline(ctx, 16); found != 0 {
		t.Fatalf("%d inline files found after the conversion", found)
	}
	if _, err := c.nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	nn.mu.RLock()
	c.nn2.mu.RLock()
	x, y := dumpBlocks(nn.ns), dumpBlocks(c.nn2.ns)
	c.nn2.mu.RUnlock()
	nn.mu.RUnlock()
	if x != y {
		t.Fatalf("standby differs:\n%s\n---\n%s", x, y)
	}
}

// Concurrent writers through the signed-HTTP transport (nnrpc with client
// failover) while the active hands over to the standby: every write the
// client was told succeeded reads back byte for byte from the new active.
func TestRealDataNodesWritersAcrossFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DataNodes")
	}
	ctx := context.Background()
	c := startRealCluster(t, 4)
	a1, a2 := serve(t, c.nn1), serve(t, c.nn2)
	rpc, err := nnrpc.NewClient("ns1", []string{a1, a2}, testSecret, nnrpc.ClientOptions{SleepBase: 10 * time.Millisecond, SleepMax: 100 * time.Millisecond, MaxFailovers: 30})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		path string
		data []byte
		err  error
	}
	results := make(chan result, 32)
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := dfsclient.New(rpc, dfsclient.Options{User: "alice", ClientName: fmt.Sprintf("DFSClient_w%d", w)})
			for f := range 3 {
				path := fmt.Sprintf("/w/%d/%d", w, f)
				data := pattern(1<<20 + 1000*w + 7*f + 1)
				wr, err := cl.Create(ctx, path, hdfs.CreateOptions{Perm: 0o644, CreateParent: true, BlockSize: 1 << 20, Replication: 3})
				if err == nil {
					half := len(data) / 2
					_, err = wr.Write(data[:half])
					started <- struct{}{}
					if err == nil {
						time.Sleep(20 * time.Millisecond)
						_, err = wr.Write(data[half:])
					}
					if cerr := wr.Close(); err == nil {
						err = cerr
					}
				}
				results <- result{path, data, err}
			}
		}()
	}
	for range 4 {
		<-started
	}
	if err := c.nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range started {
		}
	}()
	wg.Wait()
	close(results)
	close(started)
	cl := dfsclient.New(rpc, dfsclient.Options{User: "alice"})
	ok := 0
	for r := range results {
		if r.err != nil {
			t.Logf("%s: the client was told %v", r.path, r.err)
			continue
		}
		ok++
		if got := readAll(t, cl, r.path); !bytes.Equal(got, r.data) {
			t.Fatalf("%s: read %d bytes, differ from the %d acknowledged", r.path, len(got), len(r.data))
		}
	}
	t.Logf("%d of 18 writes acknowledged across the failover", ok)
	if ok < 12 {
		t.Fatalf("only %d of 18 writes went through a planned failover", ok)
	}
}

// A file written with replication 3 on three real DataNodes, its
// replication lowered to 2 and one DataNode decommissioned right after:
// both NameNodes report the decommission done within seconds (the copy
// never goes to a DataNode still deleting its excess replica), and the
// file reads back from the two DataNodes in service.
func TestRealDataNodesDecommissionAfterReplicationLowered(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DataNodes")
	}
	ctx := context.Background()
	c := startRealCluster(t, 3)
	cl := dfsclient.New(c.nn1.ClientProtocol(), dfsclient.Options{User: "alice", Logf: t.Logf})
	data := pattern(2<<20 + 777)
	w, err := cl.Create(ctx, "/f", hdfs.CreateOptions{Perm: 0o644, BlockSize: 1 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("three replicas of every block", func() bool {
		return slices.Equal(replicas(t, c.nn1, "/f"), []int{3, 3, 3})
	})
	if ok, err := c.nn1.SetReplication(ctx, "/f", 2, "alice"); !ok || err != nil {
		t.Fatalf("setReplication: %v, %v", ok, err)
	}
	if _, err := c.nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	exclude := filepath.Join(t.TempDir(), "dfs.hosts.exclude")
	if err := os.WriteFile(exclude, []byte("dn2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*NameNode{c.nn1, c.nn2} {
		n.mu.Lock()
		n.cfg.HostsExcludeFile = exclude
		n.mu.Unlock()
		if err := n.RefreshNodes(); err != nil {
			t.Fatal(err)
		}
	}
	state := func(n *NameNode) hdfs.AdminState {
		n.mu.RLock()
		defer n.mu.RUnlock()
		for _, d := range n.bm.Nodes() {
			if d.Info.Hostname == "dn2" {
				return d.Info.AdminState
			}
		}
		return ""
	}
	c.waitFor("dn2 decommissioned on both NameNodes", func() bool {
		return state(c.nn1) == hdfs.AdminDecommissioned && state(c.nn2) == hdfs.AdminDecommissioned
	})
	c.nn1.mu.RLock()
	s := c.nn1.bm.Stats()
	c.nn1.mu.RUnlock()
	if s.UnderReplicatedBlocks != 0 || s.MissingBlocks != 0 {
		t.Errorf("after the decommission: %+v", s)
	}
	if got := readAll(t, cl, "/f"); !bytes.Equal(got, data) {
		t.Fatal("read after the decommission differs")
	}
}
