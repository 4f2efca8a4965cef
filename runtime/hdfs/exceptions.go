package hdfs

import (
	"net/http"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// The block calls' errors travel as Hadoop's exceptions over every
// transport (WebHDFS, nnrpc): registering them with webhdfs makes its
// handler answer them by their Hadoop names and a decoded RemoteException
// satisfy errors.Is for them. ErrNoDatanodes is a plain IOException in
// Hadoop and stays one.
func init() {
	for _, e := range []struct {
		sentinel error
		class    string
	}{
		{ErrLeaseExpired, "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException"},
		{ErrAlreadyBeingCreated, "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"},
		{ErrNotReplicatedYet, "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException"},
		{ErrSafeMode, "org.apache.hadoop.hdfs.server.namenode.SafeModeException"},
		{ErrRecoveryInProgress, "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException"},
		{ErrNotRegistered, "org.apache.hadoop.hdfs.protocol.UnregisteredNodeException"},
	} {
		// IOExceptions all: Hadoop's WebHDFS ExceptionHandler answers 403.
		webhdfs.RegisterException(e.sentinel, e.sentinel.Error(), e.class, http.StatusForbidden)
	}
}
