package apply

import (
	"context"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// recordStorageStep adds the configuration's storage dirs to the host's
// storage record on a host whose configuration is current (write-config,
// which records them itself, does not run): a cluster applied by an hactl
// older than the record gets one without any daemon or data touched.
type recordStorageStep struct{ s *planner.Step }

func init() {
	register(planner.ActRecordStorage, func(s *planner.Step) Runner { return &recordStorageStep{s} })
}

func (r *recordStorageStep) Title() string { return r.s.Title() }

func (r *recordStorageStep) Run(ctx context.Context, env *Env) error {
	if err := recordStorage(ctx, env, r.s.Host); err != nil {
		return fmt.Errorf("record storage: %w", err)
	}
	return nil
}
