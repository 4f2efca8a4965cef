// Package hadooppb holds Hadoop's protobuf messages for the HDFS protocols
// hactl speaks: IPC framing (RpcHeader.proto), HAServiceProtocol,
// ClientNamenodeProtocol, ClientDatanodeProtocol, the shared hdfs.proto types
// and DataTransferProtocol (datatransfer.proto). The .proto files here are
// hactl's transcription of the messages it uses, with Hadoop's field numbers,
// types and labels so the bytes on the wire are Hadoop's; the proto packages are hactl's own
// (hactl.hadoop.*) so they never clash with another copy of Hadoop's
// definitions linked into the same program.
//
// The .pb.go files are generated: `make proto` (protoc from Debian's
// protobuf-compiler, protoc-gen-go from google.golang.org/protobuf).
package hadooppb

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative Security.proto RpcHeader.proto HAServiceProtocol.proto hdfs.proto datatransfer.proto ClientNamenodeProtocol.proto ClientDatanodeProtocol.proto
