// Package nnrpc is hactl's internal transport of the two Go protocols of
// runtime/hdfs (ClientProtocol and DatanodeProtocol) over the NameNode's HTTP
// server: one POST per call to PathPrefix+"<protocol>/<method>", its
// arguments and its result as JSON (the json tags of runtime/hdfs are the
// wire names), every request signed with the cluster secret (runtime/auth)
// exactly as the NameNode's /ha/* calls are.
//
// The signature proves the caller holds the cluster secret (a DataNode, a
// DataNode's WebHDFS data path, hactl itself); the user a call runs as is an
// argument, as WebHDFS's user.name is a parameter, and the NameNode checks
// permissions as that user.
//
// Errors travel as Hadoop's RemoteException JSON
// ({"RemoteException":{"exception","javaClassName","message"}}) with the
// class names webhdfs maps (StandbyException, FileNotFoundException, …,
// and runtime/hdfs's LeaseExpiredException, NotReplicatedYetException, …),
// and come back as *webhdfs.RemoteException, so that
// errors.Is(err, webhdfs.ErrStandby) or errors.Is(err, hdfs.ErrLeaseExpired)
// holds on the caller's side.
//
// Client is a ClientProtocol for a nameservice that fails over between its
// NameNodes as webhdfs.Client does; DatanodeClient is a DatanodeProtocol for
// one NameNode (a DataNode runs one per NameNode, as Hadoop's BPServiceActor).
package nnrpc
