package datanode

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

type testHost struct {
	st   *Storage
	mu   sync.Mutex
	cmds []string // "<nn>:<action>" of commands obeyed
}

func (h *testHost) storage() *Storage { return h.st }
func (h *testHost) datanodeID() hdfs.DatanodeID {
	return hdfs.DatanodeID{UUID: h.st.DatanodeUUID(), IP: "127.0.0.1", XferPort: 9866}
}
func (h *testHost) xceiverCount() int               { return 0 }
func (h *testHost) logf(format string, args ...any) {}
func (h *testHost) handleCommand(ctx context.Context, bp *bpService, cmd hdfs.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cmds = append(h.cmds, fmt.Sprint(cmd.PoolID, ":", cmd.Action))
}

func TestCommandsOnlyFromTheNewestActive(t *testing.T) {
	st, err := OpenStorage([]string{t.TempDir()}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &testHost{st: st}
	nn1, nn2 := newFakeNN(hdfs.HAActive, 100), newFakeNN(hdfs.HAStandby, 90)
	bp := newBPService(h, "ns", []NameNode{{ID: "nn1", Proto: nn1}, {ID: "nn2", Proto: nn2}}, time.Hour, 0)
	a1, a2 := bp.actors[0], bp.actors[1]
	ctx := context.Background()
	for _, a := range bp.actors {
		if err := a.connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cmd := func(tag string) hdfs.Command { return hdfs.Command{Action: hdfs.ActionInvalidate, PoolID: tag} }
	step := func(a *bpActor, st hdfs.HAState, txid int64, tag string) {
		bp.updateHAState(a, hdfs.NNHAStatus{State: st, Txid: txid})
		bp.processCommands(ctx, a, []hdfs.Command{cmd(tag)})
	}
	step(a2, hdfs.HAStandby, 90, "standby-before") // a standby: ignored
	step(a1, hdfs.HAActive, 100, "active-100")     // obeyed
	step(a2, hdfs.HAActive, 99, "stale-claim-99")  // claims active with an older txid: ignored
	step(a1, hdfs.HAActive, 101, "active-101")     // still obeyed
	step(a2, hdfs.HAActive, 120, "failover-120")   // newer claim: nn2 takes over
	step(a1, hdfs.HAActive, 105, "old-active-105") // the demoted active has not noticed: ignored
	step(a1, hdfs.HAStandby, 130, "standby-after") // ignored
	step(a2, hdfs.HAStandby, 121, "nn2-demoted")   // says standby: no longer obeyed
	step(a1, hdfs.HAActive, 120, "equal-txid")     // not above the last claim (120): ignored
	step(a1, hdfs.HAActive, 140, "nn1-back-140")   // obeyed
	want := []string{"active-100:INVALIDATE", "active-101:INVALIDATE", "failover-120:INVALIDATE", "nn1-back-140:INVALIDATE"}
	if fmt.Sprint(h.cmds) != fmt.Sprint(want) {
		t.Fatalf("obeyed %v\nwant   %v", h.cmds, want)
	}
	// REGISTER is obeyed from a standby too.
	bp.processCommands(ctx, a2, []hdfs.Command{{Action: hdfs.ActionRegister}})
	if a2.isRegistered() {
		t.Fatal("REGISTER from the standby was ignored")
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestActorsReportToEveryNameNode(t *testing.T) {
	st, err := OpenStorage([]string{t.TempDir()}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &testHost{st: st}
	nn1, nn2 := newFakeNN(hdfs.HAActive, 10), newFakeNN(hdfs.HAStandby, 9)
	bp := newBPService(h, "ns", []NameNode{{ID: "nn1", Proto: nn1}, {ID: "nn2", Proto: nn2}}, 20*time.Millisecond, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	bp.run(ctx, &wg)
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "registration and a full report at both NameNodes", func() bool {
		for _, nn := range []*fakeNN{nn1, nn2} {
			nn.mu.Lock()
			_, reported := nn.reports[st.DatanodeUUID()]
			nn.mu.Unlock()
			if !reported {
				return false
			}
		}
		return true
	})
	b := hdfs.Block{ID: 3, GenStamp: 1, NumBytes: 10}
	bp.notify(hdfs.ReplicaEvent{Block: b, Status: hdfs.StatusReceived})
	for _, nn := range []*fakeNN{nn1, nn2} {
		waitFor(t, "the incremental report", func() bool {
			nn.mu.Lock()
			defer nn.mu.Unlock()
			return len(nn.events) == 1 && nn.events[0].Block == b
		})
	}
	// The NameNode forgot the DataNode (restart): it registers again and
	// sends a full report.
	nn2.mu.Lock()
	nn2.forget = true
	delete(nn2.reports, st.DatanodeUUID())
	nn2.mu.Unlock()
	waitFor(t, "re-registration with a full report", func() bool {
		nn2.mu.Lock()
		defer nn2.mu.Unlock()
		_, ok := nn2.reports[st.DatanodeUUID()]
		return ok
	})
	nn1.set(hdfs.HAActive, 11, hdfs.Command{Action: hdfs.ActionInvalidate, PoolID: "from-nn1"})
	nn2.set(hdfs.HAStandby, 10, hdfs.Command{Action: hdfs.ActionInvalidate, PoolID: "from-nn2"})
	waitFor(t, "nn1's command", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.cmds) == 1 && h.cmds[0] == "from-nn1:INVALIDATE"
	})
	if bp.activeNN() != "nn1" {
		t.Fatalf("active %q", bp.activeNN())
	}
}

func TestForeignClusterNameNodeRefused(t *testing.T) {
	st, err := OpenStorage([]string{t.TempDir()}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	st.Format("CID-mine")
	nn := newFakeNN(hdfs.HAActive, 1)
	bp := newBPService(&testHost{st: st}, "ns", []NameNode{{ID: "nn1", Proto: nn}}, time.Hour, 0)
	if err := bp.actors[0].connect(context.Background()); err == nil || bp.actors[0].isRegistered() {
		t.Fatalf("registered with a NameNode of another cluster: %v", err)
	}
	if len(nn.regs) != 0 {
		t.Fatal("the foreign NameNode saw a registration")
	}
}

func (h *testHost) actorGaveUp(err error) {}
