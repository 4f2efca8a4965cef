package rpc

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

// Method names of the journal protocol (Hadoop's QJournalProtocol, plus
// getNamespaceInfo which lets a new JournalNode take the quorum's namespace).
const (
	MethodIsFormatted        = "isFormatted"
	MethodGetJournalState    = "getJournalState"
	MethodNewEpoch           = "newEpoch"
	MethodFormat             = "format"
	MethodStartLogSegment    = "startLogSegment"
	MethodJournal            = "journal"
	MethodHeartbeat          = "heartbeat"
	MethodFinalizeLogSegment = "finalizeLogSegment"
	MethodGetEditLogManifest = "getEditLogManifest"
	MethodGetJournaledEdits  = "getJournaledEdits"
	MethodPrepareRecovery    = "prepareRecovery"
	MethodAcceptRecovery     = "acceptRecovery"
	MethodPurgeLogs          = "purgeLogs"
	MethodGetNamespaceInfo   = "getNamespaceInfo"
	MethodGetStatus          = "getStatus"
)

// NamespaceInfo identifies the namespace a journal belongs to (current/VERSION).
type NamespaceInfo struct {
	NamespaceID int64  `json:"namespaceID"`
	ClusterID   string `json:"clusterID"`
	CTime       int64  `json:"cTime"`
	BlockPoolID string `json:"blockpoolID"`
}

// Compatible reports whether two namespace infos name the same namespace.
func (n NamespaceInfo) Compatible(o NamespaceInfo) bool {
	return n.NamespaceID == o.NamespaceID && n.ClusterID == o.ClusterID
}

func (n NamespaceInfo) String() string {
	return fmt.Sprintf("namespaceID=%d clusterID=%s", n.NamespaceID, n.ClusterID)
}

// Edit is one journal record; Data is opaque to the journal.
type Edit struct {
	Txid int64
	Data []byte
}

// RequestInfo accompanies every epoch-checked call (Hadoop's RequestInfo).
type RequestInfo struct {
	JournalID     string `json:"jid"`
	Epoch         int64  `json:"epoch"`
	IPCSerial     int64  `json:"ipcSerial"`
	CommittedTxid int64  `json:"committedTxid"` // -1 when unknown
}

// SegmentState describes one log segment.
type SegmentState struct {
	StartTxid  int64 `json:"startTxid"`
	EndTxid    int64 `json:"endTxid"`
	InProgress bool  `json:"inProgress"`
	// WriterEpoch, in getEditLogManifest answers and for in-progress
	// segments only, is the epoch whose writer (or recovery) produced the
	// copy's bytes as the JournalNode vouches for it: the JN's
	// last-writer-epoch for the segment it has open (none open: its newest
	// segment), or the epoch that accepted
	// the copy in recovery (the higher of the two, as recovery ranks
	// copies). 0 means the JN vouches for no epoch (an older in-progress
	// segment it did not finalize, or a JN from before this field): such a
	// copy ranks below every other.
	WriterEpoch int64 `json:"writerEpoch,omitempty"`
}

func (s SegmentState) String() string {
	if s.InProgress {
		return fmt.Sprintf("in-progress segment %d-%d", s.StartTxid, s.EndTxid)
	}
	return fmt.Sprintf("finalized segment %d-%d", s.StartTxid, s.EndTxid)
}

// JournalIDRequest names a journal for calls that carry no epoch.
type JournalIDRequest struct {
	JournalID string `json:"jid"`
}

// IsFormattedResponse answers isFormatted.
type IsFormattedResponse struct {
	Formatted bool `json:"formatted"`
}

// GetJournalStateResponse answers getJournalState.
type GetJournalStateResponse struct {
	LastPromisedEpoch int64  `json:"lastPromisedEpoch"`
	HTTPAddr          string `json:"httpAddr"` // host:port serving segment downloads
}

// NewEpochRequest asks a JournalNode to promise an epoch.
type NewEpochRequest struct {
	JournalID string        `json:"jid"`
	Namespace NamespaceInfo `json:"ns"`
	Epoch     int64         `json:"epoch"`
}

// NewEpochResponse carries the start txid of the latest segment (-1 if none).
type NewEpochResponse struct {
	LastSegmentTxid int64 `json:"lastSegmentTxid"`
}

// FormatRequest formats a journal.
type FormatRequest struct {
	JournalID string        `json:"jid"`
	Namespace NamespaceInfo `json:"ns"`
	Force     bool          `json:"force"`
}

// StartLogSegmentRequest opens edits_inprogress_<Txid>.
type StartLogSegmentRequest struct {
	Req  RequestInfo `json:"req"`
	Txid int64       `json:"txid"`
}

// JournalRequest appends a batch of framed records (see AppendRecord).
type JournalRequest struct {
	Req         RequestInfo `json:"req"`
	SegmentTxid int64       `json:"segmentTxid"`
	FirstTxid   int64       `json:"firstTxid"`
	NumTxns     int64       `json:"numTxns"`
	Records     []byte      `json:"-"` // sent raw after the JSON header
}

// RawPayload implements RawCarrier.
func (r JournalRequest) RawPayload() []byte { return r.Records }

// SetRawPayload implements RawCarrier.
func (r *JournalRequest) SetRawPayload(b []byte) { r.Records = b }

// HeartbeatRequest keeps an epoch alive and carries the committed txid.
type HeartbeatRequest struct {
	Req RequestInfo `json:"req"`
}

// FinalizeLogSegmentRequest renames edits_inprogress_<Start> to edits_<Start>-<End>.
type FinalizeLogSegmentRequest struct {
	Req       RequestInfo `json:"req"`
	StartTxid int64       `json:"startTxid"`
	EndTxid   int64       `json:"endTxid"`
}

// GetEditLogManifestRequest lists segments that end at or after SinceTxid.
type GetEditLogManifestRequest struct {
	JournalID    string `json:"jid"`
	SinceTxid    int64  `json:"sinceTxid"`
	InProgressOK bool   `json:"inProgressOk"`
}

// GetEditLogManifestResponse lists segments, oldest first.
type GetEditLogManifestResponse struct {
	Segments []SegmentState `json:"segments"`
	HTTPAddr string         `json:"httpAddr"`
}

// GetJournaledEditsRequest reads recent edits from the JournalNode's memory cache.
type GetJournaledEditsRequest struct {
	JournalID string `json:"jid"`
	SinceTxid int64  `json:"sinceTxid"`
	MaxTxns   int    `json:"maxTxns"`
}

// GetJournaledEditsResponse carries framed records (see ReadRecord).
type GetJournaledEditsResponse struct {
	TxnCount int64 `json:"txnCount"`
	// WriterEpoch is the epoch of the writer whose edits the cache holds
	// (they were all journaled in it; 0 from a JN before this field).
	WriterEpoch int64  `json:"writerEpoch,omitempty"`
	Records     []byte `json:"-"` // sent raw after the JSON header
}

// RawPayload implements RawCarrier.
func (r GetJournaledEditsResponse) RawPayload() []byte { return r.Records }

// SetRawPayload implements RawCarrier.
func (r *GetJournaledEditsResponse) SetRawPayload(b []byte) { r.Records = b }

// PrepareRecoveryRequest is paxos phase 1 for the segment starting at SegmentTxid.
type PrepareRecoveryRequest struct {
	Req         RequestInfo `json:"req"`
	SegmentTxid int64       `json:"segmentTxid"`
}

// PrepareRecoveryResponse describes the JN's copy of the segment.
type PrepareRecoveryResponse struct {
	Segment         *SegmentState `json:"segment,omitempty"`
	AcceptedInEpoch int64         `json:"acceptedInEpoch"` // 0 when nothing was accepted
	LastWriterEpoch int64         `json:"lastWriterEpoch"`
	LastCommitted   int64         `json:"lastCommittedTxid"` // -1 when unknown
}

// AcceptRecoveryRequest is paxos phase 2: make the segment equal to the one at FromHTTP.
type AcceptRecoveryRequest struct {
	Req      RequestInfo  `json:"req"`
	Segment  SegmentState `json:"segment"`
	FromHTTP string       `json:"fromHttp"` // host:port of the JN holding the chosen copy
}

// PurgeLogsRequest deletes finalized segments entirely below MinTxidToKeep.
type PurgeLogsRequest struct {
	Req           RequestInfo `json:"req"`
	MinTxidToKeep int64       `json:"minTxidToKeep"`
}

// GetNamespaceInfoResponse answers getNamespaceInfo.
type GetNamespaceInfoResponse struct {
	Formatted bool          `json:"formatted"`
	Namespace NamespaceInfo `json:"ns"`
}

// StatusResponse answers getStatus (and the JN's /status page).
type StatusResponse struct {
	Formatted      bool          `json:"formatted"`
	Namespace      NamespaceInfo `json:"ns"`
	PromisedEpoch  int64         `json:"lastPromisedEpoch"`
	WriterEpoch    int64         `json:"lastWriterEpoch"`
	CommittedTxid  int64         `json:"committedTxid"`
	HighestTxid    int64         `json:"highestWrittenTxid"`
	CurrentSegment int64         `json:"currentSegmentTxid"` // -1 when none open
	Segments       int           `json:"segments"`
}

// Empty is the response of calls that return nothing.
type Empty struct{}

// Record framing, used in segment files, journal calls and cache reads:
//
//	u32 data length | u32 CRC-32C of (txid, data) | u64 txid | data
//
// A torn tail (short header, short data or a bad checksum) ends a segment.
const RecordHeaderLen = 16

// MaxRecordLen bounds one edit so a corrupt length cannot make a reader allocate gigabytes.
const MaxRecordLen = 16 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrTornRecord means the bytes end inside a record or fail its checksum.
var ErrTornRecord = errors.New("torn or corrupt edit record")

// AppendRecord appends one framed edit to buf.
func AppendRecord(buf []byte, txid int64, data []byte) []byte {
	var h [RecordHeaderLen]byte
	binary.BigEndian.PutUint32(h[0:], uint32(len(data)))
	binary.BigEndian.PutUint64(h[8:], uint64(txid))
	c := crc32.Update(0, crcTable, h[8:16])
	c = crc32.Update(c, crcTable, data)
	binary.BigEndian.PutUint32(h[4:], c)
	buf = append(buf, h[:]...)
	return append(buf, data...)
}

// ReadRecord decodes the record at the start of buf, returning it and its
// framed length. Data aliases buf.
func ReadRecord(buf []byte) (Edit, int, error) {
	if len(buf) < RecordHeaderLen {
		return Edit{}, 0, ErrTornRecord
	}
	n := binary.BigEndian.Uint32(buf[0:])
	if n > MaxRecordLen || int(n) > len(buf)-RecordHeaderLen {
		return Edit{}, 0, ErrTornRecord
	}
	data := buf[RecordHeaderLen : RecordHeaderLen+int(n)]
	c := crc32.Update(0, crcTable, buf[8:16])
	c = crc32.Update(c, crcTable, data)
	if c != binary.BigEndian.Uint32(buf[4:]) {
		return Edit{}, 0, ErrTornRecord
	}
	return Edit{Txid: int64(binary.BigEndian.Uint64(buf[8:])), Data: data}, RecordHeaderLen + int(n), nil
}

// DecodeRecords decodes a whole batch of framed records, copying the data.
func DecodeRecords(buf []byte) ([]Edit, error) {
	var out []Edit
	for len(buf) > 0 {
		e, n, err := ReadRecord(buf)
		if err != nil {
			return out, err
		}
		e.Data = append([]byte(nil), e.Data...)
		out = append(out, e)
		buf = buf[n:]
	}
	return out, nil
}

// RawCarrier is a message with a bulk byte payload (edit records) that
// travels after its JSON header instead of base64 inside it.
type RawCarrier interface {
	RawPayload() []byte
}

// Encode turns a message into the body of a frame: u32 JSON length | JSON | raw payload.
func Encode(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if rc, ok := v.(RawCarrier); ok {
		raw = rc.RawPayload()
	}
	out := make([]byte, 4, 4+len(js)+len(raw))
	binary.BigEndian.PutUint32(out, uint32(len(js)))
	out = append(out, js...)
	return append(out, raw...), nil
}

// Decode fills v from a frame body made by Encode; the raw payload aliases body.
func Decode(body []byte, v any) error {
	if len(body) < 4 {
		return fmt.Errorf("short message: %w", ErrBadRequest)
	}
	n := binary.BigEndian.Uint32(body)
	if int(n) > len(body)-4 {
		return fmt.Errorf("message header overruns the frame: %w", ErrBadRequest)
	}
	if err := json.Unmarshal(body[4:4+n], v); err != nil {
		return fmt.Errorf("decode message: %v: %w", err, ErrBadRequest)
	}
	if rc, ok := v.(interface{ SetRawPayload([]byte) }); ok {
		rc.SetRawPayload(body[4+n:])
	}
	return nil
}
