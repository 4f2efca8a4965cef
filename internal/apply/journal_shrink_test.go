package apply

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/journal"
	"github.com/hactl/hactl/runtime/qjm"
	"github.com/hactl/hactl/runtime/rpc"
)

var shrinkSecret = []byte("journal-shrink-test-secret-0123456789")

// jnProc is one real JournalNode (RPC and HTTP on loopback) that can be
// stopped and started again on the same RPC address.
type jnProc struct {
	t    *testing.T
	dir  string
	addr string
	d    *journal.Daemon
}

func (j *jnProc) start() {
	j.t.Helper()
	rpcAddr := j.addr
	if rpcAddr == "" {
		rpcAddr = "127.0.0.1:0"
	}
	d, err := journal.Start(journal.Config{EditsDir: j.dir, RPCAddr: rpcAddr, HTTPAddr: "127.0.0.1:0", Secret: shrinkSecret}, nil)
	if err != nil {
		j.t.Fatal(err)
	}
	j.d, j.addr = d, d.RPCAddr.String()
}

func (j *jnProc) stop() {
	if j.d != nil {
		j.d.Close()
		j.d = nil
	}
}

// shrinkFixture: five JournalNodes a-e, formatted together; d and e are down
// while a writer appends (so every acknowledged edit is on a, b, c only,
// the majority of five), the writer closes, d and e come back empty-handed.
// It returns the JournalNodes and the acknowledged txids.
func shrinkFixture(t *testing.T) ([]*jnProc, []int64) {
	ctx := context.Background()
	var jns []*jnProc
	var addrs []string
	for i := range 5 {
		j := &jnProc{t: t, dir: filepath.Join(t.TempDir(), fmt.Sprintf("jn%d", i))}
		j.start()
		t.Cleanup(j.stop)
		jns = append(jns, j)
		addrs = append(addrs, j.addr)
	}
	m, err := qjm.New(qjm.Config{JournalID: "ns1", Addrs: addrs, Secret: shrinkSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ns := qjm.NamespaceInfo{NamespaceID: 42, ClusterID: "CID-shrink", BlockPoolID: "BP-1"}
	if err := m.Format(ctx, ns, false); err != nil {
		t.Fatal(err)
	}
	jns[3].stop()
	jns[4].stop()
	w, err := m.OpenForWrite(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var acked []int64
	for seg := range 3 {
		for i := range 20 {
			txid := w.Append([]byte(fmt.Sprintf("edit %d.%d", seg, i)))
			if err := w.Sync(ctx, txid); err != nil {
				t.Fatal(err)
			}
			acked = append(acked, txid)
		}
		if seg < 2 {
			if err := w.Roll(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(ctx); err != nil { // the old active going standby
		t.Fatal(err)
	}
	jns[3].start()
	jns[4].start()
	return jns, acked
}

// recoveredTxids is what a new writer on the JournalNodes a, d, e (a being
// down, so recovery hears only d and e: a majority of three) finds.
func recoveredTxids(t *testing.T, jns []*jnProc) map[int64]bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := qjm.New(qjm.Config{JournalID: "ns1", Addrs: []string{jns[0].addr, jns[3].addr, jns[4].addr}, Secret: shrinkSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ns, err := m.NamespaceInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.OpenForWrite(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	edits, err := m.ReadEdits(ctx, 1, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, e := range edits {
		got[e.Txid] = true
	}
	return got
}

// TestJournalShrinkFiveToThreeLosesNoAckedEdit: five JournalNodes shrunk to
// a, d, e — b and c, two of the majority that acknowledged every edit,
// removed. sync-journal's catch-up brings a majority of the new set to the
// old writer's last txid before any writer uses it, so a new writer that
// hears only d and e still recovers every acknowledged edit. Without the
// catch-up the same new writer loses them (the control below), which is
// what plan/apply did before.
func TestJournalShrinkFiveToThreeLosesNoAckedEdit(t *testing.T) {
	t.Run("without sync the acknowledged edits are lost", func(t *testing.T) {
		jns, acked := shrinkFixture(t)
		jns[1].stop()
		jns[2].stop()
		jns[0].stop()
		got := recoveredTxids(t, jns)
		lost := 0
		for _, txid := range acked {
			if !got[txid] {
				lost++
			}
		}
		if lost == 0 {
			t.Fatal("the control lost nothing: the fixture does not reproduce the hazard")
		}
	})
	t.Run("sync-journal keeps every acknowledged edit", func(t *testing.T) {
		jns, acked := shrinkFixture(t)
		call := func(ctx context.Context, addr, method string, req, resp any) error {
			c := &rpc.Client{Addr: addr, Secret: shrinkSecret}
			defer c.Close()
			return c.Call(ctx, method, req, resp)
		}
		env := &Env{ReadyTimeout: 20 * time.Second}
		newSet := []string{jns[0].addr, jns[3].addr, jns[4].addr}
		var sources []string
		for _, j := range jns {
			sources = append(sources, j.addr)
		}
		last := acked[len(acked)-1]
		if err := catchUpJournal(context.Background(), env, call, "ns1", newSet, sources, last); err != nil {
			t.Fatal(err)
		}
		// The removed JournalNodes stop, and so does a: d and e alone must hold it all.
		jns[1].stop()
		jns[2].stop()
		jns[0].stop()
		got := recoveredTxids(t, jns)
		for _, txid := range acked {
			if !got[txid] {
				t.Errorf("acknowledged txid %d lost after the shrink", txid)
			}
		}
	})
}

// shrunkToADE is the fivejn fixture with JournalNodes b and c removed.
func shrunkToADE(src string) string {
	return strings.Replace(src, `hosts     = ["a", "b", "c", "d", "e"]`, `hosts     = ["a", "d", "e"]`, 1)
}

// TestJournalShrinkPlannedAndApplied runs the planner and the executor over
// the model: a converged five-JournalNode cluster whose last 100 edits sit on
// a, b and c only is shrunk to a, d, e. The NameNode that becomes active on
// the new set finds a majority of it at the old writer's last txid; dropping
// the plan's sync-journal step makes the model record the loss (the check
// can fail).
func TestJournalShrinkPlannedAndApplied(t *testing.T) {
	for _, tc := range []struct{ withSync, stopped bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		withSync := tc.withSync
		t.Run(fmt.Sprintf("sync=%v/namenodes-stopped=%v", tc.withSync, tc.stopped), func(t *testing.T) {
			c5 := loadFixture(t, "fivejn", nil)
			bin := testBinary(t)
			s := newSim(t, c5)
			if _, out, err := s.apply(c5, bin, false); err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			s.lastTxid["ns1"] = 1000
			for _, h := range []string{"a", "b", "c"} {
				s.jnTxid[h+"/ns1"] = 1000
			}
			for _, h := range []string{"d", "e"} {
				s.jnTxid[h+"/ns1"] = 900 // lagging: the writer's majority was a, b, c
			}
			if tc.stopped {
				// Every NameNode (and ZKFC) down: the first one started on
				// the new set is the writer.
				for _, nn := range c5.Nameservice("ns1").NameNodes {
					for _, id := range []daemon.ID{daemon.NameNodeID("ns1", nn.ID), daemon.ZKFCID("ns1", nn.ID)} {
						s.daemons[nn.Host][id.Name()].running = false
					}
				}
				s.elect()
			}
			c3 := loadFixture(t, "fivejn", shrunkToADE)
			d, err := planner.RenderDesired(c3)
			if err != nil {
				t.Fatal(err)
			}
			s.c = c3
			for _, h := range c3.Hosts {
				s.newConfig[h.Name] = d.Hosts[h.Name].ConfigSHA256(daemon.NameNode)
			}
			s.newJournal["ns1"] = c3.Nameservice("ns1").Journal.Hosts
			plan, err := planner.Plan(c3, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			syncAt, writerAt := -1, -1
			for i, st := range plan.Steps {
				switch {
				case st.Action == planner.ActSyncJournal:
					syncAt = i
				case writerAt < 0 && (st.Action == planner.ActFailover || (tc.stopped && st.Action == planner.ActStartNameNode)):
					writerAt = i
				}
			}
			if syncAt < 0 || writerAt < syncAt {
				t.Fatalf("sync-journal at %d, first writer on the new set at %d", syncAt, writerAt)
			}
			if !withSync {
				plan.Steps = slices.Delete(plan.Steps, syncAt, syncAt+1)
			}
			var out strings.Builder
			if _, err := Execute(context.Background(), s.env(c3, bin, false, &out), plan); err != nil {
				t.Fatalf("apply: %v\n%s", err, out.String())
			}
			switch {
			case withSync && len(s.violations) > 0:
				t.Errorf("violations: %v\n%s", s.violations, out.String())
			case !withSync && !slices.ContainsFunc(s.violations, func(v string) bool { return strings.Contains(v, "new JournalNode set") }):
				t.Errorf("without sync-journal the model saw no writer on a short JournalNode set: %v", s.violations)
			}
			if withSync {
				have := 0
				for _, h := range []string{"a", "d", "e"} {
					if s.jnTxid[h+"/ns1"] >= 1000 {
						have++
					}
				}
				if have < 2 || s.active["ns1"] == "" {
					t.Errorf("after the shrink: %d of a, d, e at txid 1000, active %q", have, s.active["ns1"])
				}
				if again, err := planner.Plan(c3, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256}); err != nil || !again.Empty() {
					var b strings.Builder
					if again != nil {
						again.WriteText(&b)
					}
					t.Errorf("plan after the shrink not empty (%v):\n%s", err, b.String())
				}
			}
		})
	}
}

// TestJournalShrinkInterruptedResumesWriter interrupts apply (as Ctrl-C
// does) while sync-journal has writes paused and the new JournalNode set
// copies the journal: the NameNode that was active must be active again
// afterwards, with manual failover (haadmin) as with automatic (every ZKFC
// back in the election), and the error must say the apply was interrupted.
func TestJournalShrinkInterruptedResumesWriter(t *testing.T) {
	for _, tc := range []struct {
		auto bool
		at   string // "copy": while the journal is copied; else the haadmin or ZKFC call after which to interrupt
	}{
		{false, "copy"}, {true, "copy"},
		{false, "-transitionToStandby"}, // during pauseWrites' wait for the writer to stop
		{true, "/zkfc/cedeActive"},      // the first ZKFC left the election, others still in it
	} {
		auto := tc.auto
		t.Run(fmt.Sprintf("automatic=%v/at=%s", auto, tc.at), func(t *testing.T) {
			mutate := func(src string) string { return src }
			if !auto {
				mutate = func(src string) string {
					return strings.Replace(src, "automatic_failover = true", "automatic_failover = false", 1)
				}
			}
			c5 := loadFixture(t, "fivejn", mutate)
			bin := testBinary(t)
			s := newSim(t, c5)
			if _, out, err := s.apply(c5, bin, false); err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			before := s.active["ns1"]
			if before == "" {
				t.Fatal("no active NameNode after the first apply")
			}
			s.lastTxid["ns1"] = 1000
			for _, h := range []string{"a", "b", "c", "d", "e"} {
				s.jnTxid[h+"/ns1"] = 1000
			}
			c3 := loadFixture(t, "fivejn", func(src string) string { return shrunkToADE(mutate(src)) })
			s.c = c3
			plan, err := planner.Plan(c3, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(plan.Steps, func(st *planner.Step) bool { return st.Action == planner.ActSyncJournal && st.NameNode != "" }) {
				var b strings.Builder
				plan.WriteText(&b)
				t.Fatalf("no sync-journal step with a writer:\n%s", b.String())
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out strings.Builder
			env := s.env(c3, bin, false, &out)
			paused := tc.at != "copy"
			s.onEffect = func(what string) {
				if tc.at != "copy" && strings.Contains(what, tc.at) && !strings.HasSuffix(what, "millis=0") {
					cancel()
				}
			}
			env.JournalCall = func(cctx context.Context, addr, method string, req, resp any) error {
				if method == rpc.MethodSyncJournal && tc.at == "copy" {
					s.mu.Lock()
					paused = s.active["ns1"] == ""
					s.mu.Unlock()
					cancel() // Ctrl-C while the new set copies the journal
					return cctx.Err()
				}
				return s.journalCall(cctx, addr, method, req, resp)
			}
			_, err = Execute(ctx, env, plan)
			if err == nil {
				t.Fatalf("interrupted apply returned no error\n%s", out.String())
			}
			if !paused {
				t.Fatalf("writes were not paused when the journal copy started (active %q)", s.active["ns1"])
			}
			if !strings.Contains(err.Error(), "interrupted") {
				t.Errorf("error does not say the apply was interrupted: %v", err)
			}
			if got := s.active["ns1"]; got != before {
				t.Errorf("after the interrupted apply the active NameNode is %q, want %q (the writer before the change)\nerror: %v\n%s", got, before, err, out.String())
			}
			for k, ceded := range s.ceded {
				if ceded {
					t.Errorf("the ZKFC of %s is still out of the election", k)
				}
			}
		})
	}
}
