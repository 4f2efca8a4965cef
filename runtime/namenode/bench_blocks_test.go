package namenode

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
)

// TestBenchBlockHeap measures the NameNode's heap per block: the block in
// its file, the blocks map entry and three replica locations reported by
// DataNodes (Hadoop's rule of thumb is ~150 bytes a block; #10's target is
// under 300). A benchmark with printed figures, run on demand:
//
//	HACTL_BENCH=1 go test ./runtime/namenode -run TestBenchBlockHeap -v
//
// HACTL_BENCH_BLOCKS overrides the block count (default 1,000,000; ten a file).
func TestBenchBlockHeap(t *testing.T) {
	if os.Getenv("HACTL_BENCH") != "1" {
		t.Skip("benchmark: set HACTL_BENCH=1")
	}
	total := 1_000_000
	if v := os.Getenv("HACTL_BENCH_BLOCKS"); v != "" {
		total, _ = strconv.Atoi(v)
	}
	const perFile = 10
	files := total / perFile
	ns := NewNamespace(0, "hdfs", "supergroup", 1)
	bm := blockmgmt.New(blockmgmt.DefaultConfig(), nil, 1)
	bm.LastBlockID = func() int64 { return ns.lastBlockID }
	ns.attach(bm)
	bm.SetActive(true)
	var regs []hdfs.Registration
	for i := range 3 {
		reg := hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: fmt.Sprintf("dn-%d", i), IP: fmt.Sprintf("127.0.0.%d", i+1), XferPort: 9866}, ClusterID: "CID"}
		if _, err := bm.Register(reg, "CID"); err != nil {
			t.Fatal(err)
		}
		regs = append(regs, reg)
	}
	txid := int64(0)
	apply := func(op *Op) {
		if _, err := ns.Prepare(op); err != nil {
			t.Fatal(err)
		}
		txid++
		if err := ns.Apply(txid, op); err != nil {
			t.Fatal(err)
		}
	}
	path := func(f int) string { return fmt.Sprintf("/data/d%04d/part-%05d", f/1000, f%1000) }
	for f := range files {
		apply(&Op{Code: OpAddFile, Path: path(f), Perm: 0o644, Owner: "hadoop", Replication: 3, BlockSize: 128 << 20, ClientName: "c", Time: 1})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for f := range files {
		var list []hdfs.Block
		for range perFile {
			var prev []hdfs.Block
			if len(list) > 0 {
				list[len(list)-1].NumBytes = 128 << 20
				prev = list[len(list)-1:]
			}
			nb := hdfs.Block{ID: ns.lastBlockID + 1, GenStamp: ns.genStamp + 1}
			apply(&Op{Code: OpAddBlock, Path: path(f), Blocks: append(append([]hdfs.Block(nil), prev...), nb)})
			list = append(list, nb)
		}
		list[len(list)-1].NumBytes = 1 << 20
		apply(&Op{Code: OpClose, Path: path(f), Blocks: list, Time: 2})
	}
	built := time.Since(start)
	start = time.Now()
	for _, reg := range regs {
		reps := make([]hdfs.ReplicaReport, 0, total)
		for _, b := range ns.allBlocks() {
			reps = append(reps, hdfs.ReplicaReport{Block: b.Block, State: hdfs.ReplicaFinalized})
		}
		if _, err := bm.FullReport(reg, reps); err != nil {
			t.Fatal(err)
		}
	}
	reported := time.Since(start)
	// The monitor's first round after the reports looks at every block;
	// the next ones only at what changed. Heap is measured after them:
	// the steady state of a running NameNode.
	bm.LeaveSafeMode(true)
	start = time.Now()
	bm.Tick()
	first := time.Since(start)
	start = time.Now()
	bm.Tick()
	second := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	blocks := bm.NumBlocks()
	if blocks != files*perFile {
		t.Fatalf("%d blocks, want %d", blocks, files*perFile)
	}
	for _, b := range ns.allBlocks()[:10] {
		if len(b.Locs()) != 3 || b.State != blockmgmt.Complete {
			t.Fatalf("%s: %d replicas, state %d", b.Block, len(b.Locs()), b.State)
		}
	}
	perBlock := float64(after.HeapAlloc-before.HeapAlloc) / float64(blocks)
	fmt.Printf("RESULT monitor round after the reports (every block to check): %v; next round (nothing changed): %v\n",
		first.Round(time.Millisecond), second.Round(time.Microsecond))
	fmt.Printf("RESULT %d blocks in %d files: allocated through the edits in %v, 3 full reports processed in %v\n",
		blocks, files, built.Round(time.Millisecond), reported.Round(time.Millisecond))
	fmt.Printf("RESULT heap per block with 3 replicas: %.0f bytes\n", perBlock)
	if perBlock > 300 {
		t.Errorf("%.0f bytes per block, target < 300", perBlock)
	}
	runtime.KeepAlive(ns)
	runtime.KeepAlive(bm)
}
