package namenode

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A stream of made-up user.names (each looked up once) neither grows the
// cache past its bound nor flushes out the users that keep calling: alice,
// asked between every hundred invented names, is looked up once in all.
func TestGroupCacheFloodKeepsActiveUsers(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	calls := map[string]int{}
	g := &groupCache{
		resolve: func(u string) ([]string, error) {
			mu.Lock()
			calls[u]++
			mu.Unlock()
			if u == "alice" || u == "bob" {
				return []string{u, "staff"}, nil
			}
			return nil, nil // unknown to the host: no groups (negative cache)
		},
		ttl: 300 * time.Second, negTTL: 30 * time.Second, now: func() time.Time { return now }, logf: t.Logf,
	}
	for i := range 3 * groupCacheMax {
		if i%100 == 0 {
			g.groups("alice")
			g.groups("bob")
		}
		g.groups(fmt.Sprintf("mallory-%d", i))
		if n := g.len(); n > groupCacheMax {
			t.Fatalf("after %d invented names the cache holds %d users (bound %d)", i+1, n, groupCacheMax)
		}
	}
	if calls["alice"] != 1 || calls["bob"] != 1 {
		t.Errorf("users that kept calling were looked up again during the flood: alice %d, bob %d times", calls["alice"], calls["bob"])
	}
	if g.len() < groupCacheMax/2 {
		t.Errorf("the cache holds only %d users after the flood", g.len())
	}
}

// Hits and misses from many goroutines at once (run with -race): every
// caller gets its user's groups.
func TestGroupCacheConcurrent(t *testing.T) {
	var lookups atomic.Int64
	g := &groupCache{
		resolve: func(u string) ([]string, error) { lookups.Add(1); return []string{u}, nil },
		ttl:     time.Minute, negTTL: time.Minute, now: time.Now, logf: t.Logf,
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				u := fmt.Sprintf("u%d", (i*7+w)%(groupCacheMax+500))
				if got := g.groups(u); len(got) != 1 || got[0] != u {
					t.Errorf("%s: %v", u, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := g.len(); n > groupCacheMax {
		t.Errorf("%d users cached, bound %d", n, groupCacheMax)
	}
}
