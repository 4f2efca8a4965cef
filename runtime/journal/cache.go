package journal

import (
	"sync"

	"github.com/hactl/hactl/runtime/rpc"
)

// editCache keeps the most recent journaled batches in memory, bounded in
// bytes, so a standby tailing in-progress edits does not read the disk
// (Hadoop's JournaledEditsCache). It has its own lock: readers do not wait
// for the journal's.
type editCache struct {
	mu      sync.RWMutex
	limit   int
	size    int
	epoch   int64 // the writer epoch every cached batch was journaled in
	batches []cachedBatch
}

type cachedBatch struct {
	first, last int64
	records     []byte
}

func newEditCache(limit int) *editCache {
	if limit <= 0 {
		limit = 1 << 20
	}
	return &editCache{limit: limit}
}

func (c *editCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches, c.size, c.epoch = nil, 0, 0
}

// add caches a batch journaled by the writer of epoch. The cache holds one
// writer's edits only: a batch of another epoch starts it over.
func (c *editCache) add(epoch, first, last int64, records []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.batches) > 0 && (c.batches[len(c.batches)-1].last+1 != first || c.epoch != epoch) {
		c.batches, c.size = nil, 0 // only a contiguous run of one writer is useful
	}
	c.epoch = epoch
	c.batches = append(c.batches, cachedBatch{first, last, records}) // records is the call's own buffer, never reused
	c.size += len(records)
	for c.size > c.limit && len(c.batches) > 1 {
		c.size -= len(c.batches[0].records)
		c.batches[0] = cachedBatch{}
		c.batches = c.batches[1:]
	}
}

// read returns up to max framed records starting at since, and the epoch of
// the writer that journaled them (read under the same lock, so the two
// always belong together).
func (c *editCache) read(since int64, max int) (int64, []byte, int64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.batches) == 0 || since < c.batches[0].first {
		return 0, nil, 0, ErrCacheMiss
	}
	if since > c.batches[len(c.batches)-1].last {
		return 0, nil, c.epoch, nil
	}
	if max <= 0 {
		max = 1 << 30
	}
	var out []byte
	n := int64(0)
	for _, b := range c.batches {
		if b.last < since {
			continue
		}
		buf := b.records
		for len(buf) > 0 && n < int64(max) {
			e, l, err := rpc.ReadRecord(buf)
			if err != nil {
				return n, out, c.epoch, nil
			}
			if e.Txid >= since {
				out = append(out, buf[:l]...)
				n++
			}
			buf = buf[l:]
		}
		if n >= int64(max) {
			break
		}
	}
	return n, out, c.epoch, nil
}
