package namenode

import (
	"context"
	"fmt"
	"sync"

	"github.com/hactl/hactl/runtime/qjm"
)

// Journal is the shared edit log as the NameNode uses it: the QJM client in
// production (QJMJournal), MemJournal in unit tests.
type Journal interface {
	Format(ctx context.Context, ns qjm.NamespaceInfo, force bool) error
	HasSomeData(ctx context.Context) (bool, error)
	NamespaceInfo(ctx context.Context) (qjm.NamespaceInfo, error)
	// OpenForWrite takes a new epoch, recovers the last segment and starts a new one.
	OpenForWrite(ctx context.Context, ns qjm.NamespaceInfo) (JournalWriter, error)
	ReadEdits(ctx context.Context, fromTxid int64, inProgressOK bool, max int) ([]qjm.Edit, error)
	JournalStatus(ctx context.Context) []qjm.JNStatus
	Close() error
}

// JournalWriter is the single writer of the journal (one epoch).
type JournalWriter interface {
	Epoch() int64
	LastTxid() int64
	// Append assigns the next txid; called under the namespace lock so txids
	// follow the order edits were applied in.
	Append(data []byte) int64
	// Sync returns once txid is durable on a majority (group commit); called
	// outside the namespace lock.
	Sync(ctx context.Context, txid int64) error
	Roll(ctx context.Context) error
	Close(ctx context.Context) error
}

// logPurger is implemented by journal writers that can drop edits older
// than the oldest retained image (Hadoop's purgeLogsOlderThan; only the
// writer of the current epoch may purge).
type logPurger interface {
	PurgeLogs(ctx context.Context, minTxidToKeep int64) error
}

// QJMManager is the part of the quorum journal client (*qjm.Manager) the
// NameNode uses; W is its writer type (*qjm.Writer).
type QJMManager[W JournalWriter] interface {
	Format(ctx context.Context, ns qjm.NamespaceInfo, force bool) error
	HasSomeData(ctx context.Context) (bool, error)
	NamespaceInfo(ctx context.Context) (qjm.NamespaceInfo, error)
	OpenForWrite(ctx context.Context, ns qjm.NamespaceInfo) (W, error)
	ReadEdits(ctx context.Context, fromTxid int64, inProgressOK bool, max int) ([]qjm.Edit, error)
	JournalStatus(ctx context.Context) []qjm.JNStatus
	Close() error
}

// NewQJMJournal adapts the quorum journal client to Journal:
// NewQJMJournal[*qjm.Writer](manager).
func NewQJMJournal[W JournalWriter](m QJMManager[W]) Journal { return qjmJournal[W]{m} }

type qjmJournal[W JournalWriter] struct{ m QJMManager[W] }

func (j qjmJournal[W]) Format(ctx context.Context, ns qjm.NamespaceInfo, force bool) error {
	return j.m.Format(ctx, ns, force)
}
func (j qjmJournal[W]) HasSomeData(ctx context.Context) (bool, error) { return j.m.HasSomeData(ctx) }
func (j qjmJournal[W]) NamespaceInfo(ctx context.Context) (qjm.NamespaceInfo, error) {
	return j.m.NamespaceInfo(ctx)
}
func (j qjmJournal[W]) OpenForWrite(ctx context.Context, ns qjm.NamespaceInfo) (JournalWriter, error) {
	w, err := j.m.OpenForWrite(ctx, ns)
	if err != nil {
		return nil, err
	}
	return w, nil
}
func (j qjmJournal[W]) ReadEdits(ctx context.Context, from int64, inProgressOK bool, max int) ([]qjm.Edit, error) {
	return j.m.ReadEdits(ctx, from, inProgressOK, max)
}
func (j qjmJournal[W]) JournalStatus(ctx context.Context) []qjm.JNStatus {
	return j.m.JournalStatus(ctx)
}
func (j qjmJournal[W]) Close() error { return j.m.Close() }

// MemJournal is an in-memory journal with the QJM's observable rules: a
// newer epoch fences older writers, an edit is readable once synced, txids
// are contiguous. Tests inject failures with FailSync.
type MemJournal struct {
	mu        sync.Mutex
	formatted bool
	info      qjm.NamespaceInfo
	epoch     int64
	edits     []qjm.Edit // committed, txids 1..n minus purged prefix
	purgedTo  int64      // every txid <= purgedTo is gone
	FailSync  error      // when set, every Sync fails with it (a lost quorum)
}

// NewMemJournal returns an unformatted journal.
func NewMemJournal() *MemJournal { return &MemJournal{} }

func (j *MemJournal) Format(ctx context.Context, ns qjm.NamespaceInfo, force bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.formatted && !force {
		return fmt.Errorf("mem journal: already formatted")
	}
	j.formatted, j.info, j.edits, j.purgedTo = true, ns, nil, 0
	return nil
}

func (j *MemJournal) HasSomeData(ctx context.Context) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.formatted || len(j.edits) > 0, nil
}

func (j *MemJournal) NamespaceInfo(ctx context.Context) (qjm.NamespaceInfo, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.formatted {
		return qjm.NamespaceInfo{}, fmt.Errorf("mem journal: not formatted")
	}
	return j.info, nil
}

func (j *MemJournal) lastTxid() int64 { return j.purgedTo + int64(len(j.edits)) }

func (j *MemJournal) OpenForWrite(ctx context.Context, ns qjm.NamespaceInfo) (JournalWriter, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.formatted {
		return nil, fmt.Errorf("mem journal: not formatted")
	}
	if ns != j.info {
		return nil, fmt.Errorf("mem journal: namespace %d/%s, writer has %d/%s", j.info.NamespaceID, j.info.ClusterID, ns.NamespaceID, ns.ClusterID)
	}
	j.epoch++
	return &memWriter{j: j, epoch: j.epoch, last: j.lastTxid(), synced: j.lastTxid()}, nil
}

func (j *MemJournal) ReadEdits(ctx context.Context, from int64, inProgressOK bool, max int) ([]qjm.Edit, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if from <= j.purgedTo {
		return nil, fmt.Errorf("mem journal: txid %d was purged (first kept is %d)", from, j.purgedTo+1)
	}
	i := from - j.purgedTo - 1
	if i >= int64(len(j.edits)) {
		return nil, nil
	}
	end := min(int64(len(j.edits)), i+int64(max))
	return append([]qjm.Edit(nil), j.edits[i:end]...), nil
}

func (j *MemJournal) JournalStatus(ctx context.Context) []qjm.JNStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return []qjm.JNStatus{{Addr: "mem", Reachable: true, Formatted: j.formatted, Epoch: j.epoch, WriterEpoch: j.epoch,
		LastTxid: j.lastTxid(), CommittedTxid: j.lastTxid()}}
}

// PurgeLogs drops edits below minTxidToKeep.
func (j *MemJournal) PurgeLogs(ctx context.Context, minTxidToKeep int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := min(minTxidToKeep-1-j.purgedTo, int64(len(j.edits)))
	if n > 0 {
		j.edits = append([]qjm.Edit(nil), j.edits[n:]...)
		j.purgedTo += n
	}
	return nil
}

func (j *MemJournal) Close() error { return nil }

// LastTxid is the last committed txid (for tests).
func (j *MemJournal) LastTxid() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastTxid()
}

type memWriter struct {
	j       *MemJournal
	mu      sync.Mutex
	epoch   int64
	last    int64
	synced  int64
	pending []qjm.Edit
	broken  error
}

func (w *memWriter) Epoch() int64 { return w.epoch }
func (w *memWriter) LastTxid() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *memWriter) Append(data []byte) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last++
	w.pending = append(w.pending, qjm.Edit{Txid: w.last, Data: append([]byte(nil), data...)})
	return w.last
}

func (w *memWriter) Sync(ctx context.Context, txid int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != nil {
		return w.broken
	}
	if txid <= w.synced {
		return nil
	}
	w.j.mu.Lock()
	defer w.j.mu.Unlock()
	if w.j.epoch != w.epoch {
		w.broken = fmt.Errorf("mem journal: epoch %d, journal promised %d: %w", w.epoch, w.j.epoch, qjm.ErrFenced)
		return w.broken
	}
	if w.j.FailSync != nil {
		w.broken = fmt.Errorf("mem journal: %w", w.j.FailSync)
		return w.broken
	}
	for _, e := range w.pending {
		if e.Txid != w.j.lastTxid()+1 {
			w.broken = fmt.Errorf("mem journal: txid %d after %d", e.Txid, w.j.lastTxid())
			return w.broken
		}
		w.j.edits = append(w.j.edits, e)
	}
	w.synced = w.last
	w.pending = nil
	return nil
}

// PurgeLogs drops edits below minTxidToKeep, as the writer of the epoch.
func (w *memWriter) PurgeLogs(ctx context.Context, minTxidToKeep int64) error {
	return w.j.PurgeLogs(ctx, minTxidToKeep)
}

func (w *memWriter) Roll(ctx context.Context) error { return w.Sync(ctx, w.LastTxid()) }

func (w *memWriter) Close(ctx context.Context) error {
	err := w.Sync(ctx, w.LastTxid())
	w.mu.Lock()
	if w.broken == nil {
		w.broken = qjm.ErrWriterClosed
	}
	w.mu.Unlock()
	return err
}
