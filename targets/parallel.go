package targets

import (
	"context"
	"sync"
)

// DefaultMaxParallel is how many hosts hactl works on at once by default.
const DefaultMaxParallel = 32

// ForEach calls fn for every host, at most limit at a time (DefaultMaxParallel
// when limit <= 0), and returns the errors by host name (only failed hosts).
// Every host is attempted even when others fail: the caller decides what a
// partial failure means.
func ForEach(ctx context.Context, hosts []Host, limit int, fn func(context.Context, Host) error) map[string]error {
	if limit <= 0 {
		limit = DefaultMaxParallel
	}
	sem := make(chan struct{}, limit)
	var (
		mu   sync.Mutex
		errs = map[string]error{}
		wg   sync.WaitGroup
	)
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs[h.Name()] = ctx.Err()
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			if err := fn(ctx, h); err != nil {
				mu.Lock()
				errs[h.Name()] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}
