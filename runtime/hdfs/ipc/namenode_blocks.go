package ipc

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// blockMethods adds the ClientProtocol calls about blocks and leases: each
// goes to Blocks; without it only what holds for inline files is answered
// (an empty file has no blocks, every file is closed, no lease is held).
func (s *nnServer) blockMethods(m map[string]Method) {
	b := s.o.Blocks
	ns := s.o.Namesystem
	m["getBlockLocations"] = method(func() *pb.GetBlockLocationsRequestProto { return &pb.GetBlockLocationsRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.GetBlockLocationsRequestProto) (*pb.GetBlockLocationsResponseProto, error) {
			if b == nil {
				st, err := ns.GetFileStatus(ctx, r.GetSrc(), c.User)
				if err != nil {
					return nil, err
				}
				if st.Type == webhdfs.TypeDirectory {
					return nil, fmt.Errorf("%w: Path is not a file: %s", webhdfs.ErrNotFound, r.GetSrc())
				}
				if st.Length > 0 {
					return nil, errNoBlocks
				}
				return &pb.GetBlockLocationsResponseProto{Locations: locatedBlocksToProto(hdfs.LocatedBlocks{LastBlockComplete: true})}, nil
			}
			lb, err := b.GetBlockLocations(ctx, r.GetSrc(), int64(r.GetOffset()), int64(r.GetLength()), c.User)
			if err != nil {
				return nil, err
			}
			return &pb.GetBlockLocationsResponseProto{Locations: locatedBlocksToProto(lb)}, nil
		})
	m["complete"] = method(func() *pb.CompleteRequestProto { return &pb.CompleteRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.CompleteRequestProto) (*pb.CompleteResponseProto, error) {
			if b == nil {
				// create made the file closed already.
				if _, err := ns.GetFileStatus(ctx, r.GetSrc(), c.User); err != nil {
					return nil, err
				}
				return &pb.CompleteResponseProto{Result: proto.Bool(true)}, nil
			}
			ok, err := b.Complete(ctx, r.GetSrc(), r.GetClientName(), optBlockFromProto(r.GetLast()), int64(r.GetFileId()), c.User)
			if err != nil {
				return nil, err
			}
			return &pb.CompleteResponseProto{Result: proto.Bool(ok)}, nil
		})
	m["renewLease"] = method(func() *pb.RenewLeaseRequestProto { return &pb.RenewLeaseRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.RenewLeaseRequestProto) (*pb.RenewLeaseResponseProto, error) {
			if b == nil {
				if s.o.HA != nil {
					if st, _ := s.o.HA.ServiceStatus(); st != pb.HAServiceStateProto_ACTIVE {
						return nil, webhdfs.StandbyError("WRITE")
					}
				}
				return &pb.RenewLeaseResponseProto{}, nil // no file is ever under construction
			}
			return &pb.RenewLeaseResponseProto{}, b.RenewLease(ctx, r.GetClientName(), c.User)
		})
	m["recoverLease"] = method(func() *pb.RecoverLeaseRequestProto { return &pb.RecoverLeaseRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.RecoverLeaseRequestProto) (*pb.RecoverLeaseResponseProto, error) {
			if b == nil {
				if _, err := ns.GetFileStatus(ctx, r.GetSrc(), c.User); err != nil {
					return nil, err
				}
				return &pb.RecoverLeaseResponseProto{Result: proto.Bool(true)}, nil
			}
			ok, err := b.RecoverLease(ctx, r.GetSrc(), r.GetClientName(), c.User)
			if err != nil {
				return nil, err
			}
			return &pb.RecoverLeaseResponseProto{Result: proto.Bool(ok)}, nil
		})
	if b == nil {
		for _, name := range []string{"append", "addBlock", "abandonBlock", "getAdditionalDatanode", "updateBlockForPipeline", "updatePipeline", "fsync", "reportBadBlocks"} {
			m[name] = Method{Request: func() proto.Message { return &pb.MsyncRequestProto{} }, // any request decodes as an empty message
				Handle: func(context.Context, *Call, proto.Message) (proto.Message, error) { return nil, errNoBlocks }}
		}
		return
	}
	m["append"] = method(func() *pb.AppendRequestProto { return &pb.AppendRequestProto{} }, true,
		func(ctx context.Context, c *Call, r *pb.AppendRequestProto) (*pb.AppendResponseProto, error) {
			last, st, err := b.Append(ctx, r.GetSrc(), r.GetClientName(), c.User)
			if err != nil {
				return nil, err
			}
			st.PathSuffix = ""
			resp := &pb.AppendResponseProto{Stat: fileStatusToProto(st)}
			if last != nil {
				resp.Block = locatedBlockToProto(*last)
			}
			return resp, nil
		})
	m["addBlock"] = method(func() *pb.AddBlockRequestProto { return &pb.AddBlockRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.AddBlockRequestProto) (*pb.AddBlockResponseProto, error) {
			var excluded []hdfs.DatanodeID
			for _, d := range r.GetExcludeNodes() {
				excluded = append(excluded, datanodeIDFromProto(d.GetId()))
			}
			lb, err := b.AddBlock(ctx, r.GetSrc(), r.GetClientName(), optBlockFromProto(r.GetPrevious()), excluded, int64(r.GetFileId()), c.User)
			if err != nil {
				return nil, err
			}
			return &pb.AddBlockResponseProto{Block: locatedBlockToProto(lb)}, nil
		})
	m["abandonBlock"] = method(func() *pb.AbandonBlockRequestProto { return &pb.AbandonBlockRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.AbandonBlockRequestProto) (*pb.AbandonBlockResponseProto, error) {
			return &pb.AbandonBlockResponseProto{}, b.AbandonBlock(ctx, blockFromProto(r.GetB()), int64(r.GetFileId()), r.GetSrc(), r.GetHolder(), c.User)
		})
	m["getAdditionalDatanode"] = method(func() *pb.GetAdditionalDatanodeRequestProto { return &pb.GetAdditionalDatanodeRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.GetAdditionalDatanodeRequestProto) (*pb.GetAdditionalDatanodeResponseProto, error) {
			var existing []hdfs.DatanodeInfo
			for _, d := range r.GetExistings() {
				existing = append(existing, datanodeInfoFromProto(d))
			}
			var excluded []hdfs.DatanodeID
			for _, d := range r.GetExcludes() {
				excluded = append(excluded, datanodeIDFromProto(d.GetId()))
			}
			lb, err := b.GetAdditionalDatanode(ctx, r.GetSrc(), int64(r.GetFileId()), blockFromProto(r.GetBlk()), existing, excluded,
				int(r.GetNumAdditionalNodes()), r.GetClientName(), c.User)
			if err != nil {
				return nil, err
			}
			return &pb.GetAdditionalDatanodeResponseProto{Block: locatedBlockToProto(lb)}, nil
		})
	m["updateBlockForPipeline"] = method(func() *pb.UpdateBlockForPipelineRequestProto { return &pb.UpdateBlockForPipelineRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.UpdateBlockForPipelineRequestProto) (*pb.UpdateBlockForPipelineResponseProto, error) {
			lb, err := b.UpdateBlockForPipeline(ctx, blockFromProto(r.GetBlock()), r.GetClientName(), c.User)
			if err != nil {
				return nil, err
			}
			return &pb.UpdateBlockForPipelineResponseProto{Block: locatedBlockToProto(lb)}, nil
		})
	m["updatePipeline"] = method(func() *pb.UpdatePipelineRequestProto { return &pb.UpdatePipelineRequestProto{} }, true,
		func(ctx context.Context, c *Call, r *pb.UpdatePipelineRequestProto) (*pb.UpdatePipelineResponseProto, error) {
			var nodes []hdfs.DatanodeID
			for _, d := range r.GetNewNodes() {
				nodes = append(nodes, datanodeIDFromProto(d))
			}
			return &pb.UpdatePipelineResponseProto{}, b.UpdatePipeline(ctx, r.GetClientName(), blockFromProto(r.GetOldBlock()), blockFromProto(r.GetNewBlock()), nodes, c.User)
		})
	m["fsync"] = method(func() *pb.FsyncRequestProto { return &pb.FsyncRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.FsyncRequestProto) (*pb.FsyncResponseProto, error) {
			return &pb.FsyncResponseProto{}, b.Fsync(ctx, r.GetSrc(), int64(r.GetFileId()), r.GetClient(), r.GetLastBlockLength(), c.User)
		})
	m["reportBadBlocks"] = method(func() *pb.ReportBadBlocksRequestProto { return &pb.ReportBadBlocksRequestProto{} }, false,
		func(ctx context.Context, c *Call, r *pb.ReportBadBlocksRequestProto) (*pb.ReportBadBlocksResponseProto, error) {
			var blocks []hdfs.LocatedBlock
			for _, lb := range r.GetBlocks() {
				blocks = append(blocks, locatedBlockFromProto(lb))
			}
			return &pb.ReportBadBlocksResponseProto{}, b.ReportBadBlocks(ctx, blocks, c.User)
		})
}

// haMethods serves HAServiceProtocol.
func (s *nnServer) haMethods() map[string]Method {
	status := func() (pb.HAServiceStateProto, string) {
		if s.o.HA == nil {
			return pb.HAServiceStateProto_ACTIVE, ""
		}
		return s.o.HA.ServiceStatus()
	}
	transition := func(active bool) func(ctx context.Context, c *Call, info *pb.HAStateChangeRequestInfoProto) error {
		return func(ctx context.Context, c *Call, info *pb.HAStateChangeRequestInfoProto) error {
			if !s.o.TransitionsEnabled || s.o.HA == nil {
				return &RemoteException{ClassAccessControl, "HA state changes over native RPC are disabled on this NameNode (" + KeyIPCTransitions +
					" is false: SIMPLE authentication identifies nobody); hactl's ZKFC and `hactl runtime haadmin` use the NameNode's signed HTTP admin calls"}
			}
			src := info.GetReqSource()
			if s.o.AutoFailover && src == pb.HARequestSource_REQUEST_BY_USER {
				return &RemoteException{ClassAccessControl, "Manual HA control for this NameNode is disallowed, because automatic HA is enabled."}
			}
			if !s.o.AutoFailover && src == pb.HARequestSource_REQUEST_BY_ZKFC {
				return &RemoteException{ClassAccessControl, fmt.Sprintf("Request from ZK failover controller at %v denied since automatic HA is not enabled", c.Remote)}
			}
			if s.o.MayTransition != nil && !s.o.MayTransition(c.User) {
				return &RemoteException{ClassAccessControl, "Access denied for user " + c.User + ". Superuser privilege is required"}
			}
			var err error
			if active {
				err = s.o.HA.TransitionToActive(ctx)
			} else {
				err = s.o.HA.TransitionToStandby(ctx)
			}
			if err != nil {
				return &RemoteException{"org.apache.hadoop.ha.ServiceFailedException", err.Error()}
			}
			return nil
		}
	}
	toActive, toStandby := transition(true), transition(false)
	return map[string]Method{
		"monitorHealth": method(func() *pb.MonitorHealthRequestProto { return &pb.MonitorHealthRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.MonitorHealthRequestProto) (*pb.MonitorHealthResponseProto, error) {
				if st, reason := status(); st != pb.HAServiceStateProto_ACTIVE && st != pb.HAServiceStateProto_STANDBY {
					return nil, &RemoteException{"org.apache.hadoop.ha.HealthCheckFailedException", "The NameNode is not healthy: " + reason}
				}
				return &pb.MonitorHealthResponseProto{}, nil
			}),
		"getServiceStatus": method(func() *pb.GetServiceStatusRequestProto { return &pb.GetServiceStatusRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetServiceStatusRequestProto) (*pb.GetServiceStatusResponseProto, error) {
				st, reason := status()
				resp := &pb.GetServiceStatusResponseProto{State: st.Enum(), ReadyToBecomeActive: proto.Bool(reason == "")}
				if reason != "" {
					resp.NotReadyReason = proto.String(reason)
				}
				return resp, nil
			}),
		"transitionToActive": method(func() *pb.TransitionToActiveRequestProto { return &pb.TransitionToActiveRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.TransitionToActiveRequestProto) (*pb.TransitionToActiveResponseProto, error) {
				return &pb.TransitionToActiveResponseProto{}, toActive(ctx, c, r.GetReqInfo())
			}),
		"transitionToStandby": method(func() *pb.TransitionToStandbyRequestProto { return &pb.TransitionToStandbyRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.TransitionToStandbyRequestProto) (*pb.TransitionToStandbyResponseProto, error) {
				return &pb.TransitionToStandbyResponseProto{}, toStandby(ctx, c, r.GetReqInfo())
			}),
		"transitionToObserver": method(func() *pb.TransitionToObserverRequestProto { return &pb.TransitionToObserverRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.TransitionToObserverRequestProto) (*pb.TransitionToObserverResponseProto, error) {
				return nil, &RemoteException{"org.apache.hadoop.ha.ServiceFailedException", "hactl's NameNode does not support the Observer state"}
			}),
	}
}
