package datanode

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

// scanner is Hadoop's BlockScanner/VolumeScanner: it reads every finalized
// replica once per scan period at a bounded rate, verifying each chunk's
// checksum, and reports a corrupt replica to the NameNodes, which replace
// it from a good copy and then invalidate this one. Replicas a reader
// suspected are scanned first; ones a reader verified (CHECKSUM_OK) skip
// the current period.
type scanner struct {
	dn     *DataNode
	period time.Duration
	rate   int64 // bytes per second

	mu       sync.Mutex
	suspects []hdfs.ExtendedBlock
	lastOK   map[scanKey]time.Time
	kick     chan struct{}
}

type scanKey struct {
	pool   string
	id, gs int64
}

func newScanner(dn *DataNode, period time.Duration, rate int64) *scanner {
	if rate <= 0 {
		rate = 1 << 20
	}
	return &scanner{dn: dn, period: period, rate: rate, lastOK: map[scanKey]time.Time{}, kick: make(chan struct{}, 1)}
}

func (s *scanner) verified(b hdfs.ExtendedBlock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOK[scanKey{b.PoolID, b.ID, b.GenStamp}] = time.Now()
	s.dn.metrics.blocksVerified.Add(1)
}

func (s *scanner) suspect(b hdfs.ExtendedBlock) {
	s.mu.Lock()
	s.suspects = append(s.suspects, b)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *scanner) run(ctx context.Context) {
	var lastPass time.Time
	for ctx.Err() == nil {
		s.mu.Lock()
		sus := s.suspects
		s.suspects = nil
		s.mu.Unlock()
		for _, b := range sus {
			if r, ok := s.dn.st.Get(b.PoolID, b.ID); ok && r.State == hdfs.ReplicaFinalized {
				s.scan(ctx, b.PoolID, r)
			}
		}
		if s.period > 0 && time.Since(lastPass) >= s.period {
			lastPass = time.Now()
			s.pass(ctx)
		}
		wait := time.Minute
		if s.period > 0 {
			wait = min(wait, max(s.period-time.Since(lastPass), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass scans every finalized replica not verified within the period, and
// forgets the verification times of replicas that are gone.
func (s *scanner) pass(ctx context.Context) {
	live := map[scanKey]bool{}
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for k := range s.lastOK {
			if !live[k] {
				delete(s.lastOK, k)
			}
		}
	}()
	for _, pool := range s.dn.st.Pools() {
		for _, r := range s.dn.st.Finalized(pool) {
			live[scanKey{pool, r.ID, r.GenStamp}] = true
			if ctx.Err() != nil {
				return
			}
			s.mu.Lock()
			last, ok := s.lastOK[scanKey{pool, r.ID, r.GenStamp}]
			s.mu.Unlock()
			if ok && time.Since(last) < s.period {
				continue
			}
			s.scan(ctx, pool, r)
		}
	}
}

// scan verifies one replica at the scanner's rate; it reports whether the
// replica is intact.
func (s *scanner) scan(ctx context.Context, pool string, r Replica) bool {
	b := hdfs.ExtendedBlock{PoolID: pool, Block: r.Block}
	rr, err := s.dn.st.OpenRead(b)
	if err != nil {
		return false // deleted or replaced meanwhile
	}
	defer rr.Close()
	bpc := int64(rr.Spec.BytesPerChecksum)
	per := max(packetData/bpc, 1) * bpc
	buf := make([]byte, per)
	start := time.Now()
	for pos := int64(0); pos < rr.NumBytes; {
		m := min(per, rr.NumBytes-pos)
		if _, err := rr.ReadChunks(pos, buf[:m]); err != nil {
			if errors.Is(err, ErrChecksum) {
				s.dn.reportBad(b, rr.StorageUUID)
			} else {
				s.dn.logf("scan %s: %v", b, err)
			}
			return false
		}
		pos += m
		// Throttle: never ahead of rate bytes per second.
		if ahead := time.Duration(float64(pos)/float64(s.rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(ahead):
			}
		}
	}
	s.verified(b)
	return true
}
