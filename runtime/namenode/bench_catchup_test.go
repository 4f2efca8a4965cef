package namenode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/qjm"
)

// TestBenchCatchUp measures how fast a NameNode catches up behind a long
// journal segment on 3 JournalNode processes (fsync on): N MKDIRS edits
// (HACTL_BENCH_EDITS, default 500,000) are written into one in-progress
// segment, as an active does before its first checkpoint; then
//
//   - a freshly loaded standby tails them (TailOnce rounds of 5,000 edits
//     while the segment is still being written), and
//   - after the writer closed the segment, a freshly loaded NameNode
//     becomes active (TransitionToActive: new epoch, then every edit read
//     and applied before it serves),
//
// each twice: reading segments from their start on every batch (qjm
// Config.WholeSegmentReads, the behaviour before byte-offset reads) and
// continuing from the byte offset where the last batch stopped. It prints
// figures and asserts only that every edit arrived. Run on demand:
//
//	HACTL_BENCH=1 HACTL_INTEGRATION=1 go test ./runtime/namenode -run TestBenchCatchUp -v
func TestBenchCatchUp(t *testing.T) {
	integration(t)
	if os.Getenv("HACTL_BENCH") != "1" {
		t.Skip("benchmark: set HACTL_BENCH=1")
	}
	total := int64(500_000)
	if v := os.Getenv("HACTL_BENCH_EDITS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			t.Fatalf("HACTL_BENCH_EDITS=%q: want a positive number", v)
		}
		total = n
	}
	c := newITCluster(t, 2, 4)
	c.startJNs()
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive"); code != 0 {
		t.Fatalf("format: %s", out)
	}
	ctx := context.Background()
	hc, err := hadoopconf.LoadDir(c.conf("nn1"))
	if err != nil {
		t.Fatal(err)
	}
	manager := func(whole bool) *qjm.Manager {
		qc, err := qjm.ConfigFromHadoop(hc, "itns", []byte(c.secret))
		if err != nil {
			t.Fatal(err)
		}
		qc.WholeSegmentReads = whole
		m, err := qjm.New(qc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}

	// The edits: MKDIRS as an active journals them (prepared against a
	// namespace, 1,000 directories per parent), appended straight through
	// a QJM writer, synced every 5,000.
	wm := manager(false)
	info, err := wm.NamespaceInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wm.OpenForWrite(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	model := NewNamespace(DefaultMaxInline, "hdfs", "supergroup", 1)
	start := time.Now()
	bytes := 0
	for tx := int64(1); tx <= total; tx++ {
		op := &Op{Code: OpMkdirs, Path: fmt.Sprintf("/bench/d%05d/e%04d", tx/1000, tx%1000), Perm: 0o755, Owner: "bench", Time: 1_700_000_000_000 + tx}
		if _, err := model.Prepare(op); err != nil {
			t.Fatal(err)
		}
		if err := model.Apply(tx, op); err != nil {
			t.Fatal(err)
		}
		data := EncodeOp(op)
		bytes += len(data)
		if got := w.Append(data); got != tx {
			t.Fatalf("writer gave txid %d, want %d", got, tx)
		}
		if tx%5000 == 0 || tx == total {
			if err := w.Sync(ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantInodes := model.files + model.dirs
	model = nil
	fmt.Printf("INFO wrote %d MKDIRS edits (%.1f MB of edit data) into one in-progress segment in %v\n",
		total, float64(bytes)/1e6, time.Since(start).Round(time.Millisecond))

	run := 0
	fresh := func(whole bool) *NameNode {
		run++
		cfg, err := LoadConfig(hc, "", "nn2")
		if err != nil {
			t.Fatal(err)
		}
		src := &Storage{Dirs: []string{filepath.Join(c.dir, "nn1", "name1")}}
		img, err := src.ReadImage(0)
		if err != nil {
			t.Fatal(err)
		}
		ver, err := src.ReadVersion()
		if err != nil {
			t.Fatal(err)
		}
		cfg.NameDirs = []string{filepath.Join(c.dir, "catchup", strconv.Itoa(run))}
		if err := (&Storage{Dirs: cfg.NameDirs}).Format(ver, img, 0); err != nil {
			t.Fatal(err)
		}
		cfg.CheckpointTxns = 1 << 40
		cfg.TailInProgress = true
		n := New(cfg, NewQJMJournal[*qjm.Writer](manager(whole)), Options{Logf: func(string, ...any) {}, Groups: superGroups})
		if err := n.Load(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	mode := func(whole bool) string {
		if whole {
			return "whole segment per batch (before)"
		}
		return "from the last byte offset (after)"
	}
	check := func(n *NameNode, what string) {
		if got := n.Totals(); got.LastTxid != total || got.Files+got.Dirs != wantInodes {
			t.Fatalf("%s: at txid %d with %d inodes, want %d with %d", what, got.LastTxid, got.Files+got.Dirs, total, wantInodes)
		}
	}
	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return string(b[:len(b)-1])
	}

	for _, whole := range []bool{true, false} {
		n := fresh(whole)
		start := time.Now()
		for n.Totals().LastTxid < total {
			if _, err := n.TailOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		d := time.Since(start)
		check(n, "standby")
		fmt.Printf("RESULT standby catch-up over %d edits in an in-progress segment, %s: %v, %.0f edits/s (loadavg %s)\n",
			total, mode(whole), d.Round(time.Millisecond), float64(total)/d.Seconds(), load())
	}

	// Failover catch-up: the writer finalizes the segment; a new active reads it all.
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, whole := range []bool{true, false} {
		n := fresh(whole)
		start := time.Now()
		if err := n.TransitionToActive(ctx); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		check(n, "new active")
		fmt.Printf("RESULT transitionToActive behind %d edits in a finalized segment, %s: %v, %.0f edits/s (loadavg %s)\n",
			total, mode(whole), d.Round(time.Millisecond), float64(total)/d.Seconds(), load())
		if err := n.TransitionToStandby(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
