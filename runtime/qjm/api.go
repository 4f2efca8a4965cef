package qjm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/rpc"
)

// Sentinel errors of the client. Errors refused by a JournalNode keep their
// typed sentinel from runtime/rpc (rpc.ErrEpochTooOld, rpc.ErrOutOfSync, …)
// so errors.Is works across the wire.
var (
	// ErrFenced means another writer took a newer epoch: this writer can never
	// acknowledge an edit again.
	ErrFenced = errors.New("qjm: writer fenced: a newer writer holds the journal epoch")
	// ErrNoQuorum means fewer than a majority of JournalNodes answered successfully.
	ErrNoQuorum = errors.New("qjm: no quorum of journalnodes")
	// ErrWriterClosed is returned by a Writer after Close or after a failed Sync.
	ErrWriterClosed = errors.New("qjm: writer closed")
	// ErrRecovery means segment recovery found the journals in a state it must not repair.
	ErrRecovery = errors.New("qjm: segment recovery failed")
)

// Timeouts are the per-call timeouts, from dfs.qjournal.*.timeout.ms.
type Timeouts struct {
	StartSegment       time.Duration // dfs.qjournal.start-segment.timeout.ms
	PrepareRecovery    time.Duration // dfs.qjournal.prepare-recovery.timeout.ms
	AcceptRecovery     time.Duration // dfs.qjournal.accept-recovery.timeout.ms
	FinalizeSegment    time.Duration // dfs.qjournal.finalize-segment.timeout.ms
	SelectInputStreams time.Duration // dfs.qjournal.select-input-streams.timeout.ms
	GetJournalState    time.Duration // dfs.qjournal.get-journal-state.timeout.ms
	NewEpoch           time.Duration // dfs.qjournal.new-epoch.timeout.ms
	WriteTxns          time.Duration // dfs.qjournal.write-txns.timeout.ms
}

// DefaultTimeouts are Hadoop's defaults for the dfs.qjournal.*.timeout.ms keys.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		StartSegment:       20 * time.Second,
		PrepareRecovery:    120 * time.Second,
		AcceptRecovery:     120 * time.Second,
		FinalizeSegment:    120 * time.Second,
		SelectInputStreams: 20 * time.Second,
		GetJournalState:    120 * time.Second,
		NewEpoch:           120 * time.Second,
		WriteTxns:          20 * time.Second,
	}
}

// Config says which journal to use and how to reach its JournalNodes.
type Config struct {
	JournalID string
	Addrs     []string // host:port of each JN RPC endpoint, in URI order
	Secret    []byte
	Timeouts  Timeouts // from dfs.qjournal.*.timeout.ms; zero fields take Hadoop's defaults
	// WholeSegmentReads makes every segment read download the segment from
	// its start, as before reads continued from a byte offset (for
	// benchmarks comparing the two; nothing else needs it).
	WholeSegmentReads bool
	// AcceptV1 lets the channels fall back to the journal protocol's
	// version 1 (frames without MAC) with JournalNodes that speak nothing
	// newer: for a rolling upgrade only (rpc.AcceptV1Key).
	AcceptV1 bool
}

// NamespaceInfo identifies the namespace a journal belongs to.
type NamespaceInfo = rpc.NamespaceInfo

// Edit is one journal record; Data is opaque to the journal.
type Edit = rpc.Edit

// JNStatus is what one JournalNode reports about the journal.
type JNStatus struct {
	Addr          string `json:"addr"`
	Reachable     bool   `json:"reachable"`
	Error         string `json:"error,omitempty"`
	Formatted     bool   `json:"formatted"`
	Epoch         int64  `json:"epoch"`       // last promised epoch
	WriterEpoch   int64  `json:"writerEpoch"` // last writer epoch
	LastTxid      int64  `json:"lastTxid"`    // highest txid written on that JN
	CommittedTxid int64  `json:"committedTxid"`
	Lag           int64  `json:"lag"`       // txids behind the most advanced JN
	OutOfSync     bool   `json:"outOfSync"` // this client stopped sending it edits until the next segment
}

// ParseURI splits a qjournal://h1:p1;h2:p2/journalId URI.
func ParseURI(uri string) (addrs []string, journalID string, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(uri), "qjournal://")
	if !ok {
		return nil, "", fmt.Errorf("shared edits %q: not a qjournal:// URI", uri)
	}
	hosts, jid, ok := strings.Cut(rest, "/")
	jid = strings.Trim(jid, "/")
	if !ok || jid == "" || strings.Contains(jid, "/") {
		return nil, "", fmt.Errorf("shared edits %q: want qjournal://host:port;host:port/journalId", uri)
	}
	for _, h := range strings.Split(hosts, ";") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if !strings.Contains(h, ":") {
			h += ":8485" // Hadoop's default JournalNode RPC port
		}
		addrs = append(addrs, h)
	}
	if len(addrs) == 0 {
		return nil, "", fmt.Errorf("shared edits %q: no journalnodes", uri)
	}
	return addrs, jid, nil
}

// ConfigFromHadoop builds a Config from dfs.namenode.shared.edits.dir[.<ns>]
// and the dfs.qjournal.*.timeout.ms keys. The secret is loaded by the caller
// (runtime/auth.LoadSecret on hactl.cluster.secret.file).
func ConfigFromHadoop(c *hadoopconf.Config, nameservice string, secret []byte) (Config, error) {
	uri := ""
	if nameservice != "" {
		uri = c.Get("dfs.namenode.shared.edits.dir."+nameservice, "")
	}
	if uri == "" {
		uri = c.Get("dfs.namenode.shared.edits.dir", "")
	}
	if uri == "" {
		return Config{}, fmt.Errorf("dfs.namenode.shared.edits.dir is not set")
	}
	addrs, jid, err := ParseURI(uri)
	if err != nil {
		return Config{}, err
	}
	t := DefaultTimeouts()
	for _, f := range []struct {
		key string
		d   *time.Duration
	}{
		{"dfs.qjournal.start-segment.timeout.ms", &t.StartSegment},
		{"dfs.qjournal.prepare-recovery.timeout.ms", &t.PrepareRecovery},
		{"dfs.qjournal.accept-recovery.timeout.ms", &t.AcceptRecovery},
		{"dfs.qjournal.finalize-segment.timeout.ms", &t.FinalizeSegment},
		{"dfs.qjournal.select-input-streams.timeout.ms", &t.SelectInputStreams},
		{"dfs.qjournal.get-journal-state.timeout.ms", &t.GetJournalState},
		{"dfs.qjournal.new-epoch.timeout.ms", &t.NewEpoch},
		{"dfs.qjournal.write-txns.timeout.ms", &t.WriteTxns},
	} {
		if *f.d, err = c.Millis(f.key, *f.d); err != nil {
			return Config{}, err
		}
	}
	acceptV1, err := c.Bool(rpc.AcceptV1Key, false)
	if err != nil {
		return Config{}, err
	}
	return Config{JournalID: jid, Addrs: addrs, Secret: secret, Timeouts: t, AcceptV1: acceptV1}, nil
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	for _, p := range []struct{ v, def *time.Duration }{
		{&t.StartSegment, &d.StartSegment}, {&t.PrepareRecovery, &d.PrepareRecovery},
		{&t.AcceptRecovery, &d.AcceptRecovery}, {&t.FinalizeSegment, &d.FinalizeSegment},
		{&t.SelectInputStreams, &d.SelectInputStreams}, {&t.GetJournalState, &d.GetJournalState},
		{&t.NewEpoch, &d.NewEpoch}, {&t.WriteTxns, &d.WriteTxns},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return t
}
