// Package ipc speaks Hadoop's IPC protocol (org.apache.hadoop.ipc, RPC
// version 9 with protobuf payloads), so Hadoop's own clients and other native
// HDFS clients reach hactl's NameNode on its rpc-address.
//
// A connection starts with the 7-byte header "hrpc", version 9, service class
// and auth protocol (0 none, -33 SASL). SASL is answered only far enough for
// a SIMPLE client to proceed: a NEGOTIATE gets SUCCESS, which a client takes
// as "switch to simple", and any other mechanism (Kerberos, tokens) is
// refused with FATAL_UNAUTHORIZED. The connection context (call id -3) names
// the user and protocol; with SIMPLE authentication the user is whoever the
// client says it is, as on an insecure Hadoop cluster.
//
// Every packet after the header is a 4-byte big-endian length followed by
// varint-delimited protobuf messages: RpcRequestHeaderProto, then for a call
// RequestHeaderProto (method, protocol) and the request; a response is
// RpcResponseHeaderProto and, on success, the response message. Errors carry
// Hadoop's exception class name (ExceptionClass maps hactl's sentinel errors)
// so a client reacts as to Hadoop's: a StandbyException makes it fail over.
// Calls marked AtMostOnce go through a RetryCache keyed by client id and call
// id, as Hadoop's, so a retried call is answered from the first execution
// instead of running twice: on the same server from the answer it kept, on
// a NameNode that became active from what it recorded while applying the
// call's edit (the handler's context carries the ids, hdfs.WithRetryIDs, so
// the edit names the call).
package ipc
