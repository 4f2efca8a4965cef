package qjm

// LoggerSync is the writer's view of one JournalNode: whether it receives the
// current segment's edits (a JournalNode that missed an edit, or was down when
// the segment started, is left out until the next segment, as Hadoop's
// IPCLoggerChannel does), and the highest txid it acknowledged.
type LoggerSync struct {
	Addr      string `json:"addr"`
	InSync    bool   `json:"inSync"`
	AckedTxid int64  `json:"ackedTxid"`
}

// InSync reports every JournalNode as this writer sees it, in URI order. It
// asks no JournalNode: it is what the writer's next finalize or write can
// count on. A rolling restart of JournalNodes uses it to keep a majority
// holding the current segment: only those can finalize it.
func (w *Writer) InSync() []LoggerSync {
	out := make([]LoggerSync, len(w.m.loggers))
	for i, l := range w.m.loggers {
		l.mu.Lock()
		out[i] = LoggerSync{Addr: l.addr, InSync: !l.outOfSync, AckedTxid: l.lastAcked}
		l.mu.Unlock()
	}
	return out
}
