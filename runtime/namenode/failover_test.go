package namenode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// TestConcurrentWritesDuringFailovers: writers hammer whichever NameNode is
// active while the roles swap; every acknowledged mkdir must survive, and
// both NameNodes must end with the same tree.
func TestConcurrentWritesDuringFailovers(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1", "nn2")
	if err := nns[0].TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	progress := make(chan struct{}, 1024)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/w%d/%d", w, i)
				for _, n := range nns {
					if err := n.Mkdirs(ctx, p, 0o755, "u"); err == nil {
						mu.Lock()
						acked = append(acked, p)
						mu.Unlock()
						select {
						case progress <- struct{}{}:
						default:
						}
						break
					} else if !isStandby(err) {
						t.Errorf("mkdir %s: %v", p, err)
						return
					}
				}
			}
		}()
	}
	cur := 0
	for range 6 {
		// Let some writes land on this active before swapping (bounded).
		timeout := time.After(10 * time.Second)
	wait:
		for range 50 {
			select {
			case <-progress:
			case <-timeout:
				break wait
			}
		}
		if err := nns[cur].TransitionToStandby(ctx); err != nil {
			t.Fatal(err)
		}
		cur = 1 - cur
		if err := nns[cur].TransitionToActive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write acknowledged")
	}
	for _, p := range acked {
		if _, err := nns[cur].GetFileStatus(ctx, p, "hdfs"); err != nil {
			t.Fatalf("acknowledged %s lost: %v", p, err)
		}
	}
	if _, err := nns[1-cur].TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nns[0].ns), dump(nns[1].ns); a != b {
		t.Fatal("NameNodes differ after failovers")
	}
	t.Logf("%d writes acknowledged across 6 failovers", len(acked))
}

func isStandby(err error) bool { return err != nil && errors.Is(err, webhdfs.ErrStandby) }
