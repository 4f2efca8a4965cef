package rpc

import (
	"errors"
	"fmt"
)

// Protocol outcomes. A JournalNode's refusal crosses the wire as a code and
// comes back as an error that errors.Is matches against these.
var (
	ErrEpochTooOld           = errors.New("epoch is older than the promised epoch")
	ErrNotWriter             = errors.New("epoch is not the current writer epoch")
	ErrNotFormatted          = errors.New("journal not formatted")
	ErrAlreadyFormatted      = errors.New("journal already formatted")
	ErrIncompatibleNS        = errors.New("incompatible namespace")
	ErrOutOfSync             = errors.New("journal out of sync with the writer")
	ErrFinalizedSegment      = errors.New("finalized segment must not be overwritten")
	ErrNoSuchSegment         = errors.New("no such segment")
	ErrCacheMiss             = errors.New("edits not in the journalnode's cache")
	ErrCommittedTxidBackward = errors.New("committed txid would move backwards")
	ErrUnauthenticated       = errors.New("unauthenticated")
	ErrBadRequest            = errors.New("bad request")
	ErrUnknownMethod         = errors.New("unknown method")
)

var errorCodes = []struct {
	code string
	err  error
}{
	{"EpochTooOld", ErrEpochTooOld},
	{"NotWriter", ErrNotWriter},
	{"NotFormatted", ErrNotFormatted},
	{"AlreadyFormatted", ErrAlreadyFormatted},
	{"IncompatibleNamespace", ErrIncompatibleNS},
	{"OutOfSync", ErrOutOfSync},
	{"FinalizedSegment", ErrFinalizedSegment},
	{"NoSuchSegment", ErrNoSuchSegment},
	{"CacheMiss", ErrCacheMiss},
	{"CommittedTxidBackward", ErrCommittedTxidBackward},
	{"Unauthenticated", ErrUnauthenticated},
	{"BadRequest", ErrBadRequest},
	{"UnknownMethod", ErrUnknownMethod},
}

// WireError is the error body of a failed call.
type WireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ToWire encodes err for the wire.
func ToWire(err error) WireError {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return WireError{Code: c.code, Message: err.Error()}
		}
	}
	return WireError{Code: "IOException", Message: err.Error()}
}

// RemoteError is a JournalNode's refusal as seen by the caller.
type RemoteError struct {
	Code     string
	Message  string
	sentinel error
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap lets errors.Is match the sentinel named by the code.
func (e *RemoteError) Unwrap() error { return e.sentinel }

// FromWire decodes a wire error.
func FromWire(w WireError) error {
	e := &RemoteError{Code: w.Code, Message: w.Message}
	for _, c := range errorCodes {
		if c.code == w.Code {
			e.sentinel = c.err
		}
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("remote error %s", w.Code)
	}
	return e
}
