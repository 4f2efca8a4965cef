package ipc

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// ProtocolClientDatanode is the protocol a DataNode serves on
// dfs.datanode.ipc.address.
const ProtocolClientDatanode = "org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol"

// ClassReplicaNotFound is the exception of a replica the DataNode does not
// hold: a reader asking for a file's last block length counts it as "no
// replica here" rather than as a failure.
const ClassReplicaNotFound = "org.apache.hadoop.hdfs.server.datanode.ReplicaNotFoundException"

// DatanodeService is what ClientDatanodeProtocol serves from a DataNode.
type DatanodeService interface {
	// ReplicaVisibleLength is the length of b's replica a reader may see:
	// the acknowledged bytes of one being written, the length of a
	// finalized one, -1 for one waiting for recovery. Errors: a
	// RemoteException of ClassReplicaNotFound when there is none.
	ReplicaVisibleLength(b hdfs.ExtendedBlock) (int64, error)
	// LocalInfo is the software and configuration version, and how long
	// the DataNode has run.
	LocalInfo() (softwareVersion, configVersion string, uptime time.Duration)
	// TriggerBlockReport sends an incremental (or full) block report now,
	// to the NameNode at nnAddress (its RPC address) or to all ("").
	TriggerBlockReport(incremental bool, nnAddress string) error
	// BalancerBandwidth is dfs.datanode.balance.bandwidthPerSec, bytes/s.
	BalancerBandwidth() int64
}

// DatanodeOptions say what ClientDatanodeProtocol is served from.
type DatanodeOptions struct {
	Service DatanodeService
	// IsSuperuser says whether user may run the admin calls
	// (triggerBlockReport), as Hadoop's DataNode checks its superuser
	// privilege; nil allows every user.
	IsSuperuser func(user string) bool
}

// DatanodeProtocols returns ClientDatanodeProtocol over o: the calls a
// stock client makes of a DataNode (getReplicaVisibleLength, to learn how
// much of a file being written it may read) and the dfsadmin ones
// (-getDatanodeInfo, -triggerBlockReport, -getBalancerBandwidth).
func DatanodeProtocols(o DatanodeOptions) []Protocol {
	d := o.Service
	m := map[string]Method{
		"getReplicaVisibleLength": method(func() *pb.GetReplicaVisibleLengthRequestProto { return &pb.GetReplicaVisibleLengthRequestProto{} }, false,
			func(ctx context.Context, c *Call, req *pb.GetReplicaVisibleLengthRequestProto) (*pb.GetReplicaVisibleLengthResponseProto, error) {
				n, err := d.ReplicaVisibleLength(blockFromProto(req.GetBlock()))
				if err != nil {
					return nil, err
				}
				// A uint64 on the wire that Hadoop reads as a long: -1
				// (nothing visible) travels as its two's complement.
				return &pb.GetReplicaVisibleLengthResponseProto{Length: proto.Uint64(uint64(n))}, nil
			}),
		"getDatanodeInfo": method(func() *pb.GetDatanodeInfoRequestProto { return &pb.GetDatanodeInfoRequestProto{} }, false,
			func(ctx context.Context, c *Call, req *pb.GetDatanodeInfoRequestProto) (*pb.GetDatanodeInfoResponseProto, error) {
				sv, cv, up := d.LocalInfo()
				return &pb.GetDatanodeInfoResponseProto{LocalInfo: &pb.DatanodeLocalInfoProto{
					SoftwareVersion: proto.String(sv), ConfigVersion: proto.String(cv), Uptime: proto.Uint64(uint64(up / time.Second))}}, nil
			}),
		"triggerBlockReport": method(func() *pb.TriggerBlockReportRequestProto { return &pb.TriggerBlockReportRequestProto{} }, false,
			func(ctx context.Context, c *Call, req *pb.TriggerBlockReportRequestProto) (*pb.TriggerBlockReportResponseProto, error) {
				if o.IsSuperuser != nil && !o.IsSuperuser(c.User) {
					return nil, &RemoteException{ClassAccessControl, "Access denied for user " + c.User + ". Superuser privilege is required"}
				}
				if err := d.TriggerBlockReport(req.GetIncremental(), req.GetNnAddress()); err != nil {
					return nil, err
				}
				return &pb.TriggerBlockReportResponseProto{}, nil
			}),
		"getBalancerBandwidth": method(func() *pb.GetBalancerBandwidthRequestProto { return &pb.GetBalancerBandwidthRequestProto{} }, false,
			func(ctx context.Context, c *Call, req *pb.GetBalancerBandwidthRequestProto) (*pb.GetBalancerBandwidthResponseProto, error) {
				return &pb.GetBalancerBandwidthResponseProto{Bandwidth: proto.Uint64(uint64(max(d.BalancerBandwidth(), 0)))}, nil
			}),
	}
	return []Protocol{{Name: ProtocolClientDatanode, Methods: m}}
}
