// Package hdfs is the seam between hactl's NameNode, its DataNodes and the
// clients that move file data: the types they exchange (blocks, DataNode
// identities, located blocks) and the two protocols, as Go interfaces,
// modelled on Hadoop's own:
//
//   - ClientProtocol: the NameNode's calls about blocks (Hadoop's
//     ClientProtocol without the namespace calls, which stay in
//     webhdfs.Namesystem): create a file under a lease, allocate blocks on
//     DataNodes, complete it, locate its blocks, recover a pipeline or a lease.
//     The NameNode implements it; the DataNode's WebHDFS data path, the
//     native RPC server (runtime/hdfs/ipc) and tests call it.
//   - DatanodeProtocol: what a DataNode says to every NameNode of every
//     nameservice (Hadoop's DatanodeProtocol, as BPServiceActor uses it):
//     handshake, registration, heartbeats with storage figures, full and
//     incremental block reports, bad blocks, block recovery's commit. The
//     NameNode implements it; the DataNode calls one instance per NameNode.
//
// File data never crosses these interfaces: it moves between clients and
// DataNodes over Hadoop's DataTransferProtocol (runtime/hdfs/hadooppb holds
// the protobuf messages), with CRC32C checksums per dfs.bytes-per-checksum
// chunk.
//
// Errors are the sentinel errors of runtime/webhdfs (ErrNotFound,
// ErrStandby, ErrPermission, …), which every transport maps to Hadoop's
// exception class names, plus the ones declared here. Every user-facing
// method takes the calling user's name last, as webhdfs.Namesystem does; a
// transport passes the user the caller authenticated as.
//
// JSON tags are the wire names of hactl's internal signed-HTTP transport
// (runtime/hdfs/nnrpc); renaming one is a protocol change.
package hdfs
