package webhdfs

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// StandbyMessage is the message Hadoop's standby NameNode gives for an
// operation of category ("READ" or "WRITE").
func StandbyMessage(category string) string {
	return "Operation category " + category + " is not supported in state standby. Visit https://s.apache.org/sbnn-error"
}

// OffsetError is the IOException (403) Hadoop answers an OPEN whose offset
// lies past the end of the file with; a Namesystem's Open returns it.
func OffsetError(offset, fileLength int64, path string) error {
	return fmt.Errorf("%w: Offset=%d out of the range [0, %d); OPEN, path=%s", ErrIOException, offset, fileLength, path)
}

// StandbyError is what a standby Namesystem returns for an operation of
// category "READ" or "WRITE": it wraps ErrStandby with Hadoop's message.
func StandbyError(category string) error {
	return &standbyError{category: category}
}

type standbyError struct{ category string }

func (e *standbyError) Error() string { return StandbyMessage(e.category) }
func (e *standbyError) Unwrap() error { return ErrStandby }

// RemoteException is Hadoop's error body, {"RemoteException":{…}}; the client
// returns it for every error answer, and errors.Is maps it back onto the
// sentinel errors (a FileNotFoundException is ErrNotFound, and so on).
type RemoteException struct {
	Exception     string `json:"exception"`
	JavaClassName string `json:"javaClassName"`
	Message       string `json:"message"`
	StatusCode    int    `json:"-"` // HTTP status the server answered with
	internal      bool   // no sentinel matched: the server's own failure, logged
}

func (e *RemoteException) Error() string {
	return e.Exception + ": " + e.Message
}

// Is lets errors.Is(err, ErrNotFound) etc. hold for a decoded RemoteException.
func (e *RemoteException) Is(target error) bool {
	for _, m := range exceptionMap {
		if m.sentinel == target {
			return m.exception == e.Exception
		}
	}
	return false
}

type exceptionInfo struct {
	sentinel  error
	exception string
	javaClass string
	status    int
}

// exceptionMap pairs each sentinel error with Hadoop's exception and the
// status Hadoop's WebHDFS ExceptionHandler answers it with (IOExceptions are
// 403, FileNotFoundException 404, IllegalArgumentException 400).
var exceptionMap = []exceptionInfo{
	{ErrStandby, "StandbyException", "org.apache.hadoop.ipc.StandbyException", http.StatusForbidden},
	// Before any cause it wraps (SafeModeException): the class is the retry's.
	{ErrRetriable, "RetriableException", "org.apache.hadoop.ipc.RetriableException", http.StatusForbidden},
	{ErrNotFound, "FileNotFoundException", "java.io.FileNotFoundException", http.StatusNotFound},
	{ErrExists, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", http.StatusForbidden},
	{ErrNotEmpty, "PathIsNotEmptyDirectoryException", "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", http.StatusForbidden},
	{ErrInvalidPath, "InvalidPathException", "org.apache.hadoop.fs.InvalidPathException", http.StatusBadRequest},
	{ErrParentNotDir, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", http.StatusForbidden},
	{ErrPermission, "AccessControlException", "org.apache.hadoop.security.AccessControlException", http.StatusForbidden},
	// 403 rather than 413: Hadoop answers IOExceptions with 403 and
	// off-the-shelf clients (the npm webhdfs package) only parse 4xx they know.
	{ErrTooLarge, "IOException", "java.io.IOException", http.StatusForbidden},
	{ErrIOException, "IOException", "java.io.IOException", http.StatusForbidden},
	{errIllegalArgument, "IllegalArgumentException", "java.lang.IllegalArgumentException", http.StatusBadRequest},
	{errUnsupported, "UnsupportedOperationException", "java.lang.UnsupportedOperationException", http.StatusBadRequest},
}

// RegisterException adds a sentinel error of another package (runtime/hdfs's
// LeaseExpiredException, SafeModeException, …) to the map, so that the
// handler answers it as Hadoop's exception and a decoded RemoteException
// satisfies errors.Is for it. Call it from an init function only: the map
// is read without a lock.
func RegisterException(sentinel error, exception, javaClassName string, status int) {
	exceptionMap = append(exceptionMap, exceptionInfo{sentinel, exception, javaClassName, status})
}

// ToRemoteException maps err onto Hadoop's exception, as the handler answers
// it; the other transports of the NameNode (runtime/hdfs/nnrpc) and the
// DataNode's WebHDFS data path use it to answer the same way.
func ToRemoteException(err error) *RemoteException { return toRemoteException(err) }

// WriteError answers err as Hadoop's RemoteException JSON with its status;
// logf, when set, is told of errors no sentinel names (server failures).
func WriteError(w http.ResponseWriter, err error, logf func(string, ...any)) {
	writeError(w, err, logf)
}

// DecodeError reads an error answer's RemoteException (a *RemoteException
// whatever the body holds).
func DecodeError(resp *http.Response) error { return decodeError(resp) }

// toRemoteException maps err onto Hadoop's exception; anything unknown is an
// IOException with status 403, as Hadoop's ExceptionHandler answers every
// IOException (a server-side failure, e.g. the edit log, is one there too).
func toRemoteException(err error) *RemoteException {
	var re *RemoteException
	if errors.As(err, &re) {
		return re
	}
	for _, m := range exceptionMap {
		if errors.Is(err, m.sentinel) {
			msg := errorMessage(err, m.sentinel)
			if m.sentinel.Error() == m.exception {
				// A sentinel named after its exception (runtime/hdfs's) would
				// repeat the name: "LeaseExpiredException: LeaseExpiredException: …".
				msg = strings.TrimPrefix(msg, m.exception+": ")
			}
			return &RemoteException{Exception: m.exception, JavaClassName: m.javaClass, Message: msg, StatusCode: m.status}
		}
	}
	return &RemoteException{Exception: "IOException", JavaClassName: "java.io.IOException", Message: err.Error(), StatusCode: http.StatusForbidden, internal: true}
}

// errorMessage is the RemoteException message: the error's own text, whose
// sentinel part is already Hadoop's wording; only the internal
// IllegalArgumentException marker is dropped.
func errorMessage(err, sentinel error) string {
	msg := err.Error()
	switch sentinel {
	case errIllegalArgument, ErrIOException, errUnsupported:
		return strings.TrimPrefix(msg, sentinel.Error()+": ")
	case ErrStandby:
		// fmt.Errorf("%w: Operation category READ …", ErrStandby) would repeat
		// the sentinel's own WRITE sentence: keep the most specific one.
		if i := strings.LastIndex(msg, "Operation category "); i > 0 {
			return msg[i:]
		}
	}
	return msg
}

func writeError(w http.ResponseWriter, err error, logf func(string, ...any)) {
	re := toRemoteException(err)
	code := re.StatusCode
	if code == 0 {
		code = http.StatusInternalServerError
	}
	if re.internal && logf != nil {
		logf("webhdfs: %v", err)
	}
	b := make([]byte, 0, 128+len(re.Message))
	b = append(b, `{"RemoteException":{"exception":`...)
	b = appendString(b, re.Exception)
	b = append(b, `,"javaClassName":`...)
	b = appendString(b, re.JavaClassName)
	b = append(b, `,"message":`...)
	b = appendString(b, re.Message)
	b = append(b, "}}\n"...)
	writeJSON(w, code, b)
}

// appendFileStatus writes st as WebHDFS JSON by hand: GETFILESTATUS is the
// hottest call and reflection-based encoding/json would dominate it.
func appendFileStatus(b []byte, st *FileStatus) []byte {
	b = append(b, `{"accessTime":`...)
	b = strconv.AppendInt(b, st.AccessTime, 10)
	b = append(b, `,"blockSize":`...)
	b = strconv.AppendInt(b, st.BlockSize, 10)
	b = append(b, `,"childrenNum":`...)
	b = strconv.AppendInt(b, int64(st.ChildrenNum), 10)
	b = append(b, `,"fileId":`...)
	b = strconv.AppendInt(b, st.FileID, 10)
	b = append(b, `,"group":`...)
	b = appendString(b, st.Group)
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, st.Length, 10)
	b = append(b, `,"modificationTime":`...)
	b = strconv.AppendInt(b, st.ModificationTime, 10)
	b = append(b, `,"owner":`...)
	b = appendString(b, st.Owner)
	b = append(b, `,"pathSuffix":`...)
	b = appendString(b, st.PathSuffix)
	b = append(b, `,"permission":`...)
	b = appendString(b, st.Permission)
	b = append(b, `,"replication":`...)
	b = strconv.AppendInt(b, int64(st.Replication), 10)
	b = append(b, `,"storagePolicy":0,"type":`...)
	b = appendString(b, st.Type)
	return append(b, '}')
}

func appendContentSummary(b []byte, cs *ContentSummary) []byte {
	b = append(b, `{"directoryCount":`...)
	b = strconv.AppendInt(b, cs.DirectoryCount, 10)
	b = append(b, `,"fileCount":`...)
	b = strconv.AppendInt(b, cs.FileCount, 10)
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, cs.Length, 10)
	b = append(b, `,"quota":`...)
	b = strconv.AppendInt(b, cs.Quota, 10)
	b = append(b, `,"spaceConsumed":`...)
	b = strconv.AppendInt(b, cs.SpaceConsumed, 10)
	b = append(b, `,"spaceQuota":`...)
	b = strconv.AppendInt(b, cs.SpaceQuota, 10)
	return append(b, `,"typeQuota":{}}`...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping as encoding/json does
// for control characters, quotes and backslashes (HTML is not escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
