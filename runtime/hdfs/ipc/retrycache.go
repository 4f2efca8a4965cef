package ipc

import (
	"container/list"
	"sync"
	"time"
)

// Defaults of the retry cache (Hadoop's dfs.namenode.retrycache.expirytime.millis;
// the entry bound stands in for its heap percentage).
const (
	DefaultRetryCacheExpiry  = 10 * time.Minute
	DefaultRetryCacheEntries = 1 << 20
)

// RetryCache remembers the answers of non-idempotent calls by client id and
// call id, as Hadoop's RetryCache: a client that lost the answer (a broken
// connection, a timeout) retries with the same ids and gets the first
// execution's answer instead of running the call again (a second delete
// would answer false, a second create FileAlreadyExists). A failed call is
// not remembered: its retry runs again, as Hadoop's.
type RetryCache struct {
	expiry time.Duration
	max    int
	now    func() time.Time

	mu      sync.Mutex
	entries map[retryKey]*list.Element
	order   *list.List // of *retryEntry, oldest first
}

type retryKey struct {
	client string
	call   int32
}

type retryEntry struct {
	key     retryKey
	done    chan struct{}
	ok      bool
	payload []byte // the marshalled response when ok and run here
	// recorded: the call ran on another NameNode and this one learned of
	// it from the edit it logged (Record); result is what the edit gave.
	recorded bool
	result   any
	expires  time.Time
}

// closedDone is the done channel of recorded entries, which never run here.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// NewRetryCache returns a cache keeping answers for expiry, at most max of
// them (0: the defaults).
func NewRetryCache(expiry time.Duration, max int) *RetryCache {
	if expiry <= 0 {
		expiry = DefaultRetryCacheExpiry
	}
	if max <= 0 {
		max = DefaultRetryCacheEntries
	}
	return &RetryCache{expiry: expiry, max: max, now: time.Now, entries: map[retryKey]*list.Element{}, order: list.New()}
}

// WithClock makes the cache read time from now (the NameNode's clock, which
// its edits' times come from); call it before the cache is used.
func (c *RetryCache) WithClock(now func() time.Time) *RetryCache {
	c.now = now
	return c
}

// begin looks the call up. With prev set the call ran before and succeeded:
// prev holds its answer (payload, or result when recorded from an edit);
// otherwise the caller runs it and reports with finish. A call still
// running under the same ids is waited for first.
func (c *RetryCache) begin(clientID []byte, callID int32) (e, prev *retryEntry) {
	key := retryKey{string(clientID), callID}
	for {
		c.mu.Lock()
		now := c.now()
		c.expire(now)
		el, found := c.entries[key]
		if found && el.Value.(*retryEntry).recorded && !now.Before(el.Value.(*retryEntry).expires) {
			// Recorded entries expire by the time their call ran, so one
			// may have aged behind a younger one the scan stopped at.
			c.remove(el)
			found = false
		}
		if !found {
			e := &retryEntry{key: key, done: make(chan struct{}), expires: now.Add(c.expiry)}
			c.entries[key] = c.order.PushBack(e)
			for c.order.Len() > c.max {
				c.remove(c.order.Front())
			}
			c.mu.Unlock()
			return e, nil
		}
		prev := el.Value.(*retryEntry)
		c.mu.Unlock()
		<-prev.done
		if prev.ok {
			return nil, prev
		}
		// The first attempt failed: forget it and run the call again.
		c.mu.Lock()
		if cur, ok := c.entries[key]; ok && cur == el {
			c.remove(el)
		}
		c.mu.Unlock()
	}
}

// finish records the outcome of a call begin let run.
func (c *RetryCache) finish(e *retryEntry, ok bool, payload []byte) {
	e.ok, e.payload = ok, payload
	close(e.done)
	if !ok {
		c.mu.Lock()
		if el, found := c.entries[e.key]; found && el.Value.(*retryEntry) == e {
			c.remove(el)
		}
		c.mu.Unlock()
	}
}

// Record remembers a call that succeeded on another NameNode, learned from
// the edit it logged with the caller's client and call id (Hadoop's
// FSEditLogLoader filling the standby's RetryCache): a retry of it reaching
// this NameNode is answered from result, not run again. at is when the call
// ran (the edit's time): the entry expires the cache's expiry after it, so
// edits replayed long after their call add nothing. A call already known
// here (run here, or recorded before) is left as it is.
func (c *RetryCache) Record(clientID []byte, callID int32, at time.Time, result any) {
	if len(clientID) == 0 {
		return
	}
	key := retryKey{string(clientID), callID}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.expire(now)
	expires := at.Add(c.expiry)
	if !now.Before(expires) {
		return
	}
	if _, found := c.entries[key]; found {
		return
	}
	e := &retryEntry{key: key, done: closedDone, ok: true, recorded: true, result: result, expires: expires}
	c.entries[key] = c.order.PushBack(e)
	for c.order.Len() > c.max {
		c.remove(c.order.Front())
	}
}

// Expiry is how long an answer is kept (dfs.namenode.retrycache.expirytime.millis).
func (c *RetryCache) Expiry() time.Duration { return c.expiry }

// forget drops e if it is still the entry of its key.
func (c *RetryCache) forget(e *retryEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.entries[e.key]; found && el.Value.(*retryEntry) == e {
		c.remove(el)
	}
}

// Len is the number of remembered calls.
func (c *RetryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *RetryCache) expire(now time.Time) {
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		e := el.Value.(*retryEntry)
		if now.Before(e.expires) {
			return
		}
		select {
		case <-e.done:
		default:
			return // still running: expires once it finished and aged
		}
		c.remove(el)
	}
}

func (c *RetryCache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*retryEntry).key)
	c.order.Remove(el)
}
