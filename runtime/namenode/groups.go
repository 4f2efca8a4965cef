package namenode

import (
	"fmt"
	osuser "os/user"
	"sync"
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
type groupCache struct {
	resolve     func(user string) ([]string, error)
	ttl, negTTL time.Duration
	now         func() time.Time
	logf        func(format string, args ...any)

	mu sync.Mutex
	m  map[string]groupEntry
}

// groupCacheMax bounds the users cached at once.
const groupCacheMax = 4096

type groupEntry struct {
	groups  []string
	expires time.Time
}

func (g *groupCache) groups(user string) []string {
	now := g.now()
	g.mu.Lock()
	e, ok := g.m[user]
	g.mu.Unlock()
	if ok && now.Before(e.expires) {
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
		g.mu.Lock()
		if g.m == nil || len(g.m) >= groupCacheMax {
			// user.name is the client's word: bound what a flood of
			// made-up names can make the cache hold.
			g.m = map[string]groupEntry{}
		}
		g.m[user] = groupEntry{groups: groups, expires: now.Add(ttl)}
		g.mu.Unlock()
	}
	return groups
}
