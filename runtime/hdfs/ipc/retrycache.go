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
	payload []byte // the marshalled response when ok
	expires time.Time
}

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

// begin looks the call up. With cached set the call ran before and payload
// is its answer; otherwise the caller runs it and reports with finish.
// A call still running under the same ids is waited for first.
func (c *RetryCache) begin(clientID []byte, callID int32) (e *retryEntry, payload []byte, cached bool) {
	key := retryKey{string(clientID), callID}
	for {
		c.mu.Lock()
		now := c.now()
		c.expire(now)
		el, found := c.entries[key]
		if !found {
			e := &retryEntry{key: key, done: make(chan struct{}), expires: now.Add(c.expiry)}
			c.entries[key] = c.order.PushBack(e)
			for c.order.Len() > c.max {
				c.remove(c.order.Front())
			}
			c.mu.Unlock()
			return e, nil, false
		}
		prev := el.Value.(*retryEntry)
		c.mu.Unlock()
		<-prev.done
		if prev.ok {
			return nil, prev.payload, true
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
