package namenode

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/qjm"
)

type timedJournal struct {
	Journal
	calls, nanos, edits atomic.Int64
	maxNanos            atomic.Int64
}

func (t *timedJournal) ReadEdits(ctx context.Context, from int64, ip bool, max int) ([]qjm.Edit, error) {
	s := time.Now()
	e, err := t.Journal.ReadEdits(ctx, from, ip, max)
	d := time.Since(s).Nanoseconds()
	t.calls.Add(1)
	t.nanos.Add(d)
	t.edits.Add(int64(len(e)))
	if d > t.maxNanos.Load() {
		t.maxNanos.Store(d)
	}
	return e, err
}
