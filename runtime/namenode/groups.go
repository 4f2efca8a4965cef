package namenode

import (
	"fmt"
	"hash/maphash"
	osuser "os/user"
	"sync"
	"sync/atomic"
	"time"
)

// OSGroups resolves a user's groups as Hadoop's default
// ShellBasedUnixGroupsMapping does (`id -gn user; id -Gn user` on the
// NameNode's host): the primary group first, then the others. A user the
// host does not know has no groups, which is not an error.
func OSGroups(user string) ([]string, error) {
	u, err := osuser.Lookup(user)
	if err != nil {
		if _, ok := err.(osuser.UnknownUserError); ok {
			return nil, nil
		}
		return nil, fmt.Errorf("look up user %q: %w", user, err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user %q: %w", user, err)
	}
	out := make([]string, 0, len(gids)+1)
	add := func(gid string) {
		g, err := osuser.LookupGroupId(gid)
		if err != nil {
			return // a gid without a name: id(1) prints the number, no group matches it
		}
		for _, have := range out {
			if have == g.Name {
				return
			}
		}
		out = append(out, g.Name)
	}
	add(u.Gid)
	for _, gid := range gids {
		add(gid)
	}
	return out, nil
}

// groupCache caches a group mapping as Hadoop's Groups does:
// hadoop.security.groups.cache.secs for a user with groups,
// hadoop.security.groups.negative-cache.secs for one without (a lookup
// that fails is not cached, and the user then has no groups).
//
// Every permission check asks it, so a hit takes only a read lock of one of
// groupCacheShards shards (chosen by a seeded hash, so a client cannot aim
// names at one shard). user.name is the client's word: a stream of made-up
// names must neither grow the cache without bound nor flush the real users
// out. Each shard evicts by CLOCK (second chance): a hit marks its entry,
// the hand passes over marked entries once, clearing the mark, and takes the
// first unmarked or expired one. A new entry starts unmarked, so one-time
// names replace each other while users that keep calling stay.
type groupCache struct {
	resolve     func(user string) ([]string, error)
	ttl, negTTL time.Duration
	now         func() time.Time
	logf        func(format string, args ...any)

	seedOnce sync.Once
	seed     maphash.Seed
	shards   [groupCacheShards]groupShard
}

// groupCacheMax bounds the users cached at once (over all shards).
const (
	groupCacheMax    = 4096
	groupCacheShards = 16
	groupShardMax    = groupCacheMax / groupCacheShards
)

type groupShard struct {
	mu   sync.RWMutex
	m    map[string]*groupEntry
	ring []*groupEntry // the CLOCK, at most groupShardMax entries
	hand int
}

type groupEntry struct {
	user    string
	groups  []string
	expires time.Time
	slot    int         // its index in the shard's ring
	used    atomic.Bool // hit since the hand last passed
}

func (g *groupCache) shard(user string) *groupShard {
	g.seedOnce.Do(func() { g.seed = maphash.MakeSeed() })
	return &g.shards[maphash.String(g.seed, user)%groupCacheShards]
}

func (g *groupCache) groups(user string) []string {
	now := g.now()
	s := g.shard(user)
	s.mu.RLock()
	e := s.m[user]
	s.mu.RUnlock()
	if e != nil && now.Before(e.expires) {
		if !e.used.Load() {
			e.used.Store(true)
		}
		return e.groups
	}
	groups, err := g.resolve(user)
	if err != nil {
		g.logf("namenode: groups of %s: %v", user, err)
		return nil
	}
	ttl := g.ttl
	if len(groups) == 0 {
		ttl = g.negTTL
	}
	if ttl > 0 {
		s.put(&groupEntry{user: user, groups: groups, expires: now.Add(ttl)}, now)
	}
	return groups
}

// put stores e, in the slot of the entry it renews, in a free slot, or in
// the one the CLOCK hand picks.
func (s *groupShard) put(e *groupEntry, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*groupEntry{}
	}
	if old := s.m[e.user]; old != nil {
		e.slot = old.slot
	} else if len(s.ring) < groupShardMax {
		e.slot = len(s.ring)
		s.ring = append(s.ring, nil)
	} else {
		// At most two turns: the first clears every mark it passes.
		for {
			c := s.ring[s.hand]
			if !c.used.Swap(false) || !now.Before(c.expires) {
				break
			}
			s.hand = (s.hand + 1) % len(s.ring)
		}
		delete(s.m, s.ring[s.hand].user)
		e.slot = s.hand
		s.hand = (s.hand + 1) % len(s.ring)
	}
	s.ring[e.slot] = e
	s.m[e.user] = e
}

// len is the number of users cached.
func (g *groupCache) len() int {
	n := 0
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
