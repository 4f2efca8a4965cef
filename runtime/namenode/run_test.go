package namenode

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunLoop drives two NameNodes' Run loops in a synctest bubble: the
// standby tails the active within a tail period, checkpoints after
// checkpoint.txns edits and uploads the image to the active; cancelling
// the active's Run finalizes its segment and leaves it standby.
func TestRunLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		j := NewMemJournal()
		nns := newFormatted(t, j, newClock(), "nn1", "nn2")
		active, standby := nns[0], nns[1]
		for _, n := range nns {
			n.cfg.TailPeriod = 100 * time.Millisecond
			n.cfg.TailInProgress = true
			n.cfg.CheckpointTxns = 10
			n.now = time.Now // the bubble's fake clock
		}
		uploads := 0
		standby.cfg.Peers = []Peer{{ID: "nn1"}}
		standby.Upload = func(ctx context.Context, p Peer, txid int64, image []byte) error {
			uploads++
			return active.AcceptImage(ctx, txid, image)
		}
		if err := active.TransitionToActive(ctx); err != nil {
			t.Fatal(err)
		}
		// Edits first: the standby's first tail round then sees all of them.
		for i := range 25 {
			if err := active.Mkdirs(ctx, fmt.Sprintf("/r/%d", i), 0o755, "u"); err != nil {
				t.Fatal(err)
			}
		}
		actx, stopActive := context.WithCancel(ctx)
		sctx, stopStandby := context.WithCancel(ctx)
		activeDone, standbyDone := make(chan error, 1), make(chan error, 1)
		go func() { activeDone <- active.Run(actx) }()
		go func() { standbyDone <- standby.Run(sctx) }()
		defer func() { // also on t.Fatal: the bubble must not keep goroutines
			stopActive()
			stopStandby()
			<-activeDone
			<-standbyDone
		}()
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		if got := standby.Totals().LastTxid; got != 25 {
			t.Fatalf("standby at txid %d one tail period later, want 25", got)
		}
		if imgs := active.storage.Images(); uploads == 0 || imgs[0] != 25 {
			t.Fatalf("after 25 edits with checkpoint.txns=10: %d uploads, active images %v", uploads, imgs)
		}
		if err := active.Mkdirs(ctx, "/late", 0o755, "u"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got := standby.Totals().LastTxid; got != 26 {
			t.Fatalf("standby at txid %d a tail period after a write, want 26", got)
		}
		stopActive()
		if err := <-activeDone; err != nil {
			t.Fatal(err)
		}
		activeDone <- nil // for the deferred wait
		if active.State() != StateStopping {
			t.Fatalf("stopped active is %s", active.State())
		}
	})
}
