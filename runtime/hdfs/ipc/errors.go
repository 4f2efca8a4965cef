package ipc

import (
	"errors"
	"strings"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// Hadoop exception class names a client tells apart.
const (
	ClassStandby         = "org.apache.hadoop.ipc.StandbyException"
	ClassIOException     = "java.io.IOException"
	ClassAccessControl   = "org.apache.hadoop.security.AccessControlException"
	ClassNoSuchMethod    = "org.apache.hadoop.ipc.RpcNoSuchMethodException"
	ClassNoSuchProtocol  = "org.apache.hadoop.ipc.RpcNoSuchProtocolException"
	ClassServerException = "org.apache.hadoop.ipc.RpcServerException"
)

// RemoteException is an error a server answered with: Hadoop's exception
// class name and message. A handler may return one to choose the class
// itself; the client returns one for every error answer, and errors.Is maps
// it back onto hactl's sentinel errors (a FileNotFoundException is
// webhdfs.ErrNotFound, and so on).
type RemoteException struct {
	Class   string
	Message string
}

func (e *RemoteException) Error() string {
	if e.Message == "" {
		return e.Class
	}
	return e.Class + ": " + e.Message
}

// Is makes errors.Is(err, webhdfs.ErrStandby) etc. hold for a remote error.
func (e *RemoteException) Is(target error) bool {
	for _, m := range exceptionMap {
		if m.sentinel == target {
			return m.class == e.Class
		}
	}
	return false
}

type exceptionInfo struct {
	sentinel error
	class    string
}

// exceptionMap pairs hactl's sentinel errors with Hadoop's exception classes.
// The first entry naming a class is the one a client maps it back to.
var exceptionMap = []exceptionInfo{
	{webhdfs.ErrStandby, ClassStandby},
	{webhdfs.ErrRetriable, "org.apache.hadoop.ipc.RetriableException"},
	{webhdfs.ErrNotFound, "java.io.FileNotFoundException"},
	{webhdfs.ErrExists, "org.apache.hadoop.fs.FileAlreadyExistsException"},
	{webhdfs.ErrNotEmpty, "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"},
	{webhdfs.ErrInvalidPath, "org.apache.hadoop.fs.InvalidPathException"},
	{webhdfs.ErrParentNotDir, "org.apache.hadoop.fs.ParentNotDirectoryException"},
	{webhdfs.ErrPermission, ClassAccessControl},
	{hdfs.ErrLeaseExpired, "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException"},
	{hdfs.ErrAlreadyBeingCreated, "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"},
	{hdfs.ErrNotReplicatedYet, "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException"},
	{hdfs.ErrSafeMode, "org.apache.hadoop.hdfs.server.namenode.SafeModeException"},
	{hdfs.ErrRecoveryInProgress, "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException"},
	{hdfs.ErrNotRegistered, "org.apache.hadoop.hdfs.protocol.UnregisteredNodeException"},
	{webhdfs.ErrIOException, ClassIOException},
	{webhdfs.ErrTooLarge, ClassIOException},
	{hdfs.ErrNoDatanodes, ClassIOException},
}

// ExceptionClass maps err onto the Hadoop exception class and message a
// server answers it with: a RemoteException as it is, a sentinel of
// runtime/webhdfs or runtime/hdfs as its Hadoop exception, anything else as
// an IOException with the error's text (Hadoop's server-side failures are
// IOExceptions too).
func ExceptionClass(err error) (class, msg string) {
	var re *RemoteException
	if errors.As(err, &re) {
		return re.Class, re.Message
	}
	for _, m := range exceptionMap {
		if errors.Is(err, m.sentinel) {
			return m.class, exceptionMessage(err, m.sentinel)
		}
	}
	// WebHDFS's own mapping knows the rest (IllegalArgumentException,
	// UnsupportedOperationException); an IOException there is ours too.
	if re := webhdfs.ToRemoteException(err); re.JavaClassName != "" && re.JavaClassName != ClassIOException {
		return re.JavaClassName, re.Message
	}
	return ClassIOException, err.Error()
}

// exceptionMessage is the message of err mapped through sentinel: its own
// text, whose sentinel part is Hadoop's wording already, without a marker
// that only names the class ("IOException: …", "LeaseExpiredException: …").
func exceptionMessage(err, sentinel error) string {
	msg := err.Error()
	if sentinel == webhdfs.ErrStandby {
		// Keep the most specific "Operation category …" sentence when the
		// sentinel's own WRITE sentence is repeated around it.
		if i := strings.LastIndex(msg, "Operation category "); i > 0 {
			return msg[i:]
		}
		return msg
	}
	s := sentinel.Error()
	if !strings.Contains(s, " ") { // a class-name marker, not a sentence
		if rest, ok := strings.CutPrefix(msg, s+": "); ok {
			return rest
		}
		if msg == s {
			return ""
		}
	}
	return msg
}
