package ipc

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// HAService is the NameNode's HA side as HAServiceProtocol serves it.
type HAService interface {
	// ServiceStatus is the HA state, and why the NameNode could not become
	// active now ("" when it could).
	ServiceStatus() (state pb.HAServiceStateProto, notReadyReason string)
	TransitionToActive(ctx context.Context) error
	TransitionToStandby(ctx context.Context) error
}

// NamenodeOptions say what the NameNode's protocols are served from.
type NamenodeOptions struct {
	Namesystem webhdfs.Namesystem
	// Blocks serves the block calls (create, addBlock, getBlockLocations, …).
	// Without it create makes an empty closed file through Namesystem and
	// the calls that move file data are refused with an IOException.
	Blocks hdfs.ClientProtocol
	HA     HAService
	// AutoFailover is dfs.ha.automatic-failover.enabled: a transition
	// requested by a user (not forced, not by the ZKFC) is refused, as
	// Hadoop's NameNode refuses it.
	AutoFailover bool
	// TransitionsEnabled (KeyIPCTransitions) allows transitionToActive and
	// transitionToStandby over IPC at all: SIMPLE authentication proves
	// nobody's identity, so they are off unless configured.
	TransitionsEnabled bool
	// MayTransition says whether user may change the HA state (Hadoop:
	// the superuser); nil allows every user once transitions are enabled.
	MayTransition func(user string) bool
	// SafeMode serves setSafeMode (dfsadmin -safemode, HBase's start-up
	// check); it checks the caller and the HA state itself. nil (no block
	// manager, so no safe mode): get answers false, the others are refused.
	SafeMode  func(ctx context.Context, action hdfs.SafeModeAction, checked bool, user string) (bool, error)
	ListLimit int                 // dfs.ls.limit (default 1000)
	Defaults  hdfs.ServerDefaults // getServerDefaults without Blocks
}

// KeyIPCTransitions enables HA transitions over native IPC (default false).
const KeyIPCTransitions = "hactl.ha.ipc.transitions.enabled"

// errNoBlocks refuses the block calls of a NameNode without a block manager.
var errNoBlocks = fmt.Errorf("%w: this NameNode serves no block calls (no block manager): file data is stored inline, read and write it over WebHDFS", webhdfs.ErrIOException)

// NamenodeProtocols returns ClientNamenodeProtocol and HAServiceProtocol
// over o.
func NamenodeProtocols(o NamenodeOptions) []Protocol {
	if o.ListLimit <= 0 {
		o.ListLimit = 1000
	}
	s := &nnServer{o: o}
	return []Protocol{{Name: ProtocolClientNamenode, Methods: s.clientMethods()}, {Name: ProtocolHAService, Methods: s.haMethods()}}
}

type nnServer struct{ o NamenodeOptions }

// method adapts a typed handler to a Method.
func method[Req, Resp proto.Message](newReq func() Req, atMostOnce bool, h func(ctx context.Context, c *Call, req Req) (Resp, error)) Method {
	return Method{AtMostOnce: atMostOnce, Request: func() proto.Message { return newReq() },
		Handle: func(ctx context.Context, c *Call, req proto.Message) (proto.Message, error) {
			resp, err := h(ctx, c, req.(Req))
			if err != nil {
				return nil, err
			}
			return resp, nil
		}}
}

// checkRead refuses a call of category READ on a standby, for the calls
// that do not go through the Namesystem (which checks itself).
func (s *nnServer) checkRead() error {
	if s.o.HA == nil {
		return nil
	}
	if st, _ := s.o.HA.ServiceStatus(); st != pb.HAServiceStateProto_ACTIVE {
		return webhdfs.StandbyError("READ")
	}
	return nil
}

func (s *nnServer) clientMethods() map[string]Method {
	ns := s.o.Namesystem
	m := map[string]Method{
		"getFileInfo": method(func() *pb.GetFileInfoRequestProto { return &pb.GetFileInfoRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetFileInfoRequestProto) (*pb.GetFileInfoResponseProto, error) {
				st, err := ns.GetFileStatus(ctx, r.GetSrc(), c.User)
				if errors.Is(err, webhdfs.ErrNotFound) {
					return &pb.GetFileInfoResponseProto{}, nil // Hadoop answers a missing path with no status
				}
				if err != nil {
					return nil, err
				}
				st.PathSuffix = ""
				return &pb.GetFileInfoResponseProto{Fs: fileStatusToProto(st)}, nil
			}),
		// No symlinks: a path's link info is its status.
		"getFileLinkInfo": method(func() *pb.GetFileLinkInfoRequestProto { return &pb.GetFileLinkInfoRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetFileLinkInfoRequestProto) (*pb.GetFileLinkInfoResponseProto, error) {
				st, err := ns.GetFileStatus(ctx, r.GetSrc(), c.User)
				if errors.Is(err, webhdfs.ErrNotFound) {
					return &pb.GetFileLinkInfoResponseProto{}, nil
				}
				if err != nil {
					return nil, err
				}
				st.PathSuffix = ""
				return &pb.GetFileLinkInfoResponseProto{Fs: fileStatusToProto(st)}, nil
			}),
		"getListing": method(func() *pb.GetListingRequestProto { return &pb.GetListingRequestProto{} }, false, s.getListing),
		"mkdirs": method(func() *pb.MkdirsRequestProto { return &pb.MkdirsRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.MkdirsRequestProto) (*pb.MkdirsResponseProto, error) {
				if !r.GetCreateParent() {
					if err := s.parentExists(ctx, r.GetSrc(), c.User); err != nil {
						return nil, err
					}
				}
				if err := ns.Mkdirs(ctx, r.GetSrc(), permFromProto(r.GetMasked()), c.User); err != nil {
					return nil, err
				}
				return &pb.MkdirsResponseProto{Result: proto.Bool(true)}, nil
			}),
		"rename": method(func() *pb.RenameRequestProto { return &pb.RenameRequestProto{} }, true,
			func(ctx context.Context, c *Call, r *pb.RenameRequestProto) (*pb.RenameResponseProto, error) {
				ok, err := ns.Rename(ctx, r.GetSrc(), r.GetDst(), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.RenameResponseProto{Result: proto.Bool(ok)}, nil
			}),
		"rename2": method(func() *pb.Rename2RequestProto { return &pb.Rename2RequestProto{} }, true, s.rename2),
		"delete": method(func() *pb.DeleteRequestProto { return &pb.DeleteRequestProto{} }, true,
			func(ctx context.Context, c *Call, r *pb.DeleteRequestProto) (*pb.DeleteResponseProto, error) {
				ok, err := ns.Delete(ctx, r.GetSrc(), r.GetRecursive(), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.DeleteResponseProto{Result: proto.Bool(ok)}, nil
			}),
		"setPermission": method(func() *pb.SetPermissionRequestProto { return &pb.SetPermissionRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.SetPermissionRequestProto) (*pb.SetPermissionResponseProto, error) {
				return &pb.SetPermissionResponseProto{}, ns.SetPermission(ctx, r.GetSrc(), permFromProto(r.GetPermission()), c.User)
			}),
		"setOwner": method(func() *pb.SetOwnerRequestProto { return &pb.SetOwnerRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.SetOwnerRequestProto) (*pb.SetOwnerResponseProto, error) {
				return &pb.SetOwnerResponseProto{}, ns.SetOwner(ctx, r.GetSrc(), r.GetUsername(), r.GetGroupname(), c.User)
			}),
		"setReplication": method(func() *pb.SetReplicationRequestProto { return &pb.SetReplicationRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.SetReplicationRequestProto) (*pb.SetReplicationResponseProto, error) {
				ok, err := ns.SetReplication(ctx, r.GetSrc(), int16(r.GetReplication()), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.SetReplicationResponseProto{Result: proto.Bool(ok)}, nil
			}),
		"setTimes": method(func() *pb.SetTimesRequestProto { return &pb.SetTimesRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.SetTimesRequestProto) (*pb.SetTimesResponseProto, error) {
				// -1 (a Java long on the wire) leaves a time as it is.
				return &pb.SetTimesResponseProto{}, ns.SetTimes(ctx, r.GetSrc(), int64(r.GetMtime()), int64(r.GetAtime()), c.User)
			}),
		"getContentSummary": method(func() *pb.GetContentSummaryRequestProto { return &pb.GetContentSummaryRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetContentSummaryRequestProto) (*pb.GetContentSummaryResponseProto, error) {
				cs, err := ns.GetContentSummary(ctx, r.GetPath(), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.GetContentSummaryResponseProto{Summary: &pb.ContentSummaryProto{Length: proto.Uint64(uint64(cs.Length)),
					FileCount: proto.Uint64(uint64(cs.FileCount)), DirectoryCount: proto.Uint64(uint64(cs.DirectoryCount)),
					Quota: proto.Uint64(uint64(cs.Quota)), SpaceConsumed: proto.Uint64(uint64(cs.SpaceConsumed)), SpaceQuota: proto.Uint64(uint64(cs.SpaceQuota))}}, nil
			}),
		"getQuotaUsage": method(func() *pb.GetQuotaUsageRequestProto { return &pb.GetQuotaUsageRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetQuotaUsageRequestProto) (*pb.GetQuotaUsageResponseProto, error) {
				cs, err := ns.GetContentSummary(ctx, r.GetPath(), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.GetQuotaUsageResponseProto{Usage: &pb.QuotaUsageProto{FileAndDirectoryCount: proto.Uint64(uint64(cs.FileCount + cs.DirectoryCount)),
					Quota: proto.Uint64(uint64(cs.Quota)), SpaceConsumed: proto.Uint64(uint64(cs.SpaceConsumed)), SpaceQuota: proto.Uint64(uint64(cs.SpaceQuota))}}, nil
			}),
		"getFsStats": method(func() *pb.GetFsStatusRequestProto { return &pb.GetFsStatusRequestProto{} }, false, s.getFsStats),
		"setSafeMode": method(func() *pb.SetSafeModeRequestProto { return &pb.SetSafeModeRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.SetSafeModeRequestProto) (*pb.SetSafeModeResponseProto, error) {
				action := hdfs.SafeModeAction(r.GetAction())
				if s.o.SafeMode == nil {
					if action != hdfs.SafeModeGet {
						return nil, errNoBlocks
					}
					return &pb.SetSafeModeResponseProto{Result: proto.Bool(false)}, nil
				}
				on, err := s.o.SafeMode(ctx, action, r.GetChecked(), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.SetSafeModeResponseProto{Result: proto.Bool(on)}, nil
			}),
		"getServerDefaults": method(func() *pb.GetServerDefaultsRequestProto { return &pb.GetServerDefaultsRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetServerDefaultsRequestProto) (*pb.GetServerDefaultsResponseProto, error) {
				d := s.o.Defaults
				if s.o.Blocks != nil {
					var err error
					if d, err = s.o.Blocks.GetServerDefaults(ctx); err != nil {
						return nil, err
					}
				} else if err := s.checkRead(); err != nil {
					return nil, err
				}
				return &pb.GetServerDefaultsResponseProto{ServerDefaults: serverDefaultsToProto(d)}, nil
			}),
		"getPreferredBlockSize": method(func() *pb.GetPreferredBlockSizeRequestProto { return &pb.GetPreferredBlockSizeRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetPreferredBlockSizeRequestProto) (*pb.GetPreferredBlockSizeResponseProto, error) {
				st, err := ns.GetFileStatus(ctx, r.GetFilename(), c.User)
				if err != nil {
					return nil, err
				}
				if st.Type == webhdfs.TypeDirectory {
					return nil, fmt.Errorf("%w: Path is not a file: %s", webhdfs.ErrNotFound, r.GetFilename())
				}
				return &pb.GetPreferredBlockSizeResponseProto{Bsize: proto.Uint64(uint64(st.BlockSize))}, nil
			}),
		// msync waits for the client's last seen state on an observer; hactl
		// has no observers, so there is nothing to wait for.
		"msync": method(func() *pb.MsyncRequestProto { return &pb.MsyncRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.MsyncRequestProto) (*pb.MsyncResponseProto, error) {
				return &pb.MsyncResponseProto{}, nil
			}),
		"getHAServiceState": method(func() *pb.HAServiceStateRequestProto { return &pb.HAServiceStateRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.HAServiceStateRequestProto) (*pb.HAServiceStateResponseProto, error) {
				st := pb.HAServiceStateProto_ACTIVE
				if s.o.HA != nil {
					st, _ = s.o.HA.ServiceStatus()
				}
				return &pb.HAServiceStateResponseProto{State: proto.Int32(int32(st))}, nil
			}),
		"isFileClosed": method(func() *pb.IsFileClosedRequestProto { return &pb.IsFileClosedRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.IsFileClosedRequestProto) (*pb.IsFileClosedResponseProto, error) {
				st, err := ns.GetFileStatus(ctx, r.GetSrc(), c.User)
				if err != nil {
					return nil, err
				}
				if st.Type == webhdfs.TypeDirectory {
					return nil, fmt.Errorf("%w: Path is not a file: %s", webhdfs.ErrNotFound, r.GetSrc())
				}
				closed := true
				if s.o.Blocks != nil {
					lb, err := s.o.Blocks.GetBlockLocations(ctx, r.GetSrc(), 0, 0, c.User)
					if err != nil {
						return nil, err
					}
					closed = !lb.UnderConstruction
				}
				return &pb.IsFileClosedResponseProto{Result: proto.Bool(closed)}, nil
			}),
		"concat": method(func() *pb.ConcatRequestProto { return &pb.ConcatRequestProto{} }, true,
			func(ctx context.Context, c *Call, r *pb.ConcatRequestProto) (*pb.ConcatResponseProto, error) {
				return &pb.ConcatResponseProto{}, ns.Concat(ctx, r.GetTrg(), r.GetSrcs(), c.User)
			}),
		"truncate": method(func() *pb.TruncateRequestProto { return &pb.TruncateRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.TruncateRequestProto) (*pb.TruncateResponseProto, error) {
				ok, err := ns.Truncate(ctx, r.GetSrc(), int64(r.GetNewLength()), c.User)
				if err != nil {
					return nil, err
				}
				return &pb.TruncateResponseProto{Result: proto.Bool(ok)}, nil
			}),
		"getDatanodeReport": method(func() *pb.GetDatanodeReportRequestProto { return &pb.GetDatanodeReportRequestProto{} }, false,
			func(ctx context.Context, c *Call, r *pb.GetDatanodeReportRequestProto) (*pb.GetDatanodeReportResponseProto, error) {
				resp := &pb.GetDatanodeReportResponseProto{}
				if s.o.Blocks == nil {
					return resp, s.checkRead() // no DataNode is registered with this NameNode
				}
				kind := hdfs.ReportAll
				switch r.GetType() {
				case pb.DatanodeReportTypeProto_LIVE:
					kind = hdfs.ReportLive
				case pb.DatanodeReportTypeProto_DEAD:
					kind = hdfs.ReportDead
				case pb.DatanodeReportTypeProto_DECOMMISSIONING:
					kind = hdfs.ReportDecommissioning
				case pb.DatanodeReportTypeProto_ENTERING_MAINTENANCE, pb.DatanodeReportTypeProto_IN_MAINTENANCE:
					return resp, nil // hactl has no maintenance state
				}
				dns, err := s.o.Blocks.GetDatanodeReport(ctx, kind, c.User)
				if err != nil {
					return nil, err
				}
				for _, d := range dns {
					resp.Di = append(resp.Di, datanodeInfoToProto(d))
				}
				return resp, nil
			}),
		"create": method(func() *pb.CreateRequestProto { return &pb.CreateRequestProto{} }, true, s.create),
	}
	s.blockMethods(m)
	s.recordedAnswers(m)
	return m
}

// recordedAnswers says how each AtMostOnce call answers a retry that the
// previous active ran and this NameNode learned of from its edit, as
// Hadoop's NameNodeRpcServer does on a cache hit: delete and rename answer
// true (their edit is logged only when they changed something), the void
// calls succeed, create answers the file status recorded when its edit was
// applied, append that status and its last block as it is now.
func (s *nnServer) recordedAnswers(m map[string]Method) {
	set := func(name string, f func(ctx context.Context, c *Call, req proto.Message, result any) (proto.Message, error)) {
		if mm, ok := m[name]; ok && mm.AtMostOnce {
			mm.Recorded = f
			m[name] = mm
		}
	}
	set("delete", func(context.Context, *Call, proto.Message, any) (proto.Message, error) {
		return &pb.DeleteResponseProto{Result: proto.Bool(true)}, nil
	})
	set("rename", func(context.Context, *Call, proto.Message, any) (proto.Message, error) {
		return &pb.RenameResponseProto{Result: proto.Bool(true)}, nil
	})
	set("rename2", func(context.Context, *Call, proto.Message, any) (proto.Message, error) {
		return &pb.Rename2ResponseProto{}, nil
	})
	set("concat", func(context.Context, *Call, proto.Message, any) (proto.Message, error) {
		return &pb.ConcatResponseProto{}, nil
	})
	set("updatePipeline", func(context.Context, *Call, proto.Message, any) (proto.Message, error) {
		return &pb.UpdatePipelineResponseProto{}, nil
	})
	set("create", func(ctx context.Context, c *Call, req proto.Message, result any) (proto.Message, error) {
		st, ok := result.(webhdfs.FileStatus)
		if !ok {
			return nil, fmt.Errorf("%w: the retry cache holds no file status for create %s", webhdfs.ErrIOException, req.(*pb.CreateRequestProto).GetSrc())
		}
		st.PathSuffix = ""
		return &pb.CreateResponseProto{Fs: fileStatusToProto(st)}, nil
	})
	set("append", func(ctx context.Context, c *Call, req proto.Message, result any) (proto.Message, error) {
		src := req.(*pb.AppendRequestProto).GetSrc()
		st, ok := result.(webhdfs.FileStatus)
		if !ok {
			return nil, fmt.Errorf("%w: the retry cache holds no file status for append %s", webhdfs.ErrIOException, src)
		}
		st.PathSuffix = ""
		resp := &pb.AppendResponseProto{Stat: fileStatusToProto(st)}
		// The append reopened a partial last block: the client continues
		// it, so it needs the block, where its replicas are now, and a
		// token to write it.
		if ab, ok := s.o.Blocks.(appendedBlocks); ok && st.Length%max(st.BlockSize, 1) != 0 {
			last, err := ab.AppendedBlock(ctx, src, c.User)
			if err != nil {
				return nil, err
			}
			if last != nil {
				resp.Block = locatedBlockToProto(*last)
			}
		} else if s.o.Blocks != nil && st.Length%max(st.BlockSize, 1) != 0 {
			lb, err := s.o.Blocks.GetBlockLocations(ctx, src, 0, st.Length, c.User)
			if err != nil {
				return nil, err
			}
			last := lb.LastBlock
			if last == nil && len(lb.Blocks) > 0 {
				last = &lb.Blocks[len(lb.Blocks)-1]
			}
			if last != nil {
				resp.Block = locatedBlockToProto(*last)
			}
		}
		return resp, nil
	})
}

// appendedBlocks is a Blocks that can locate an appended file's last
// block for its writer (namenode.ClientRPC): a recorded append answers
// with it; otherwise with the block as a read locates it.
type appendedBlocks interface {
	AppendedBlock(ctx context.Context, path, user string) (*hdfs.LocatedBlock, error)
}

// parentExists is mkdirs' and create's check without createParent.
func (s *nnServer) parentExists(ctx context.Context, p, user string) error {
	parent := path.Dir(path.Clean(p))
	st, err := s.o.Namesystem.GetFileStatus(ctx, parent, user)
	if errors.Is(err, webhdfs.ErrNotFound) {
		return fmt.Errorf("%w: Parent directory doesn't exist: %s", webhdfs.ErrNotFound, parent)
	}
	if err != nil {
		return err
	}
	if st.Type != webhdfs.TypeDirectory {
		return fmt.Errorf("%w (is not a directory): %s", webhdfs.ErrParentNotDir, parent)
	}
	return nil
}

// getListing answers one page of a directory: the entries after startAfter,
// at most ListLimit, and how many remain (Hadoop's partial listing).
func (s *nnServer) getListing(ctx context.Context, c *Call, r *pb.GetListingRequestProto) (*pb.GetListingResponseProto, error) {
	all, err := s.o.Namesystem.ListStatus(ctx, r.GetSrc(), c.User)
	if errors.Is(err, webhdfs.ErrNotFound) {
		return &pb.GetListingResponseProto{}, nil // no dirList: the client reports FileNotFound
	}
	if err != nil {
		return nil, err
	}
	after := string(r.GetStartAfter())
	i := 0
	if after != "" {
		i = sort.Search(len(all), func(i int) bool { return all[i].PathSuffix > after })
	}
	end := min(len(all), i+s.o.ListLimit)
	l := &pb.DirectoryListingProto{RemainingEntries: proto.Uint32(uint32(len(all) - end)), PartialListing: []*pb.HdfsFileStatusProto{}}
	for _, st := range all[i:end] {
		p := fileStatusToProto(st)
		if r.GetNeedLocation() && st.Type == webhdfs.TypeFile {
			// listLocatedStatus (Spark, MapReduce splits): Hadoop's client
			// takes a file status without locations for a different type.
			lb := hdfs.LocatedBlocks{LastBlockComplete: true}
			if s.o.Blocks != nil && st.Length > 0 {
				full := path.Join(r.GetSrc(), st.PathSuffix)
				if st.PathSuffix == "" {
					full = r.GetSrc() // the listing of a file is the file
				}
				if lb, err = s.o.Blocks.GetBlockLocations(ctx, full, 0, st.Length, c.User); err != nil {
					return nil, err
				}
			}
			p.Locations = locatedBlocksToProto(lb)
		}
		l.PartialListing = append(l.PartialListing, p)
	}
	return &pb.GetListingResponseProto{DirList: l}, nil
}

// rename2 is rename with Hadoop's Rename options: the destination is the
// new name (never "into" a directory), an existing one is an error unless
// overwriteDest, and then it must be of the same kind (an empty directory
// for a directory).
func (s *nnServer) rename2(ctx context.Context, c *Call, r *pb.Rename2RequestProto) (*pb.Rename2ResponseProto, error) {
	ns := s.o.Namesystem
	src, dst := path.Clean(r.GetSrc()), path.Clean(r.GetDst())
	srcSt, err := ns.GetFileStatus(ctx, src, c.User)
	if err != nil {
		return nil, err
	}
	if src == dst {
		return nil, fmt.Errorf("%w: The source %s and destination %s are the same", webhdfs.ErrExists, src, dst)
	}
	dstSt, err := ns.GetFileStatus(ctx, dst, c.User)
	switch {
	case err == nil:
		if !r.GetOverwriteDest() {
			return nil, fmt.Errorf("%w: rename destination %s already exists", webhdfs.ErrExists, dst)
		}
		if (dstSt.Type == webhdfs.TypeDirectory) != (srcSt.Type == webhdfs.TypeDirectory) {
			kind := "file"
			if srcSt.Type == webhdfs.TypeDirectory {
				kind = "directory"
			}
			return nil, fmt.Errorf("%w: Source %s and destination %s must both be a %s", webhdfs.ErrIOException, src, dst, kind)
		}
		if dstSt.Type == webhdfs.TypeDirectory && dstSt.ChildrenNum > 0 {
			return nil, fmt.Errorf("%w: Rename destination directory is not empty: %s", webhdfs.ErrIOException, dst)
		}
		// Not the call's answer: its edit carries no retry ids, so only
		// the rename's edit records the call.
		if _, err := ns.Delete(hdfs.WithRetryIDs(ctx, nil, 0), dst, false, c.User); err != nil {
			return nil, err
		}
	case errors.Is(err, webhdfs.ErrNotFound):
		if err := s.parentExists(ctx, dst, c.User); err != nil {
			if errors.Is(err, webhdfs.ErrNotFound) {
				return nil, fmt.Errorf("%w: rename destination parent %s not found.", webhdfs.ErrNotFound, path.Dir(dst))
			}
			return nil, err
		}
	default:
		return nil, err
	}
	ok, err := ns.Rename(ctx, src, dst, c.User)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: rename from %s to %s failed", webhdfs.ErrIOException, src, dst)
	}
	return &pb.Rename2ResponseProto{}, nil
}

// getFsStats sums the live DataNodes' figures, as Hadoop's getStats.
func (s *nnServer) getFsStats(ctx context.Context, c *Call, r *pb.GetFsStatusRequestProto) (*pb.GetFsStatsResponseProto, error) {
	if err := s.checkRead(); err != nil {
		return nil, err
	}
	var capacity, used, remaining int64
	if s.o.Blocks != nil {
		dns, err := s.o.Blocks.GetDatanodeReport(ctx, hdfs.ReportLive, c.User)
		if err != nil {
			return nil, err
		}
		for _, d := range dns {
			capacity += d.Capacity
			used += d.DFSUsed
			remaining += d.Remaining
		}
	}
	zero := proto.Uint64(0)
	return &pb.GetFsStatsResponseProto{Capacity: proto.Uint64(uint64(capacity)), Used: proto.Uint64(uint64(used)), Remaining: proto.Uint64(uint64(remaining)),
		UnderReplicated: zero, CorruptBlocks: zero, MissingBlocks: zero}, nil
}

// create makes the file under construction through Blocks, or (without
// a block manager) an empty closed file through the Namesystem.
func (s *nnServer) create(ctx context.Context, c *Call, r *pb.CreateRequestProto) (*pb.CreateResponseProto, error) {
	overwrite := r.GetCreateFlag()&uint32(pb.CreateFlagProto_OVERWRITE) != 0
	perm := permFromProto(r.GetMasked())
	if s.o.Blocks != nil {
		st, err := s.o.Blocks.Create(ctx, r.GetSrc(), r.GetClientName(), hdfs.CreateOptions{Perm: perm, Overwrite: overwrite,
			CreateParent: r.GetCreateParent(), Replication: int16(r.GetReplication()), BlockSize: int64(r.GetBlockSize())}, c.User)
		if err != nil {
			return nil, err
		}
		st.PathSuffix = ""
		return &pb.CreateResponseProto{Fs: fileStatusToProto(st)}, nil
	}
	if !r.GetCreateParent() {
		if err := s.parentExists(ctx, r.GetSrc(), c.User); err != nil {
			return nil, err
		}
	}
	if err := s.o.Namesystem.Create(ctx, r.GetSrc(), nil, overwrite, perm, int16(r.GetReplication()), int64(r.GetBlockSize()), c.User); err != nil {
		return nil, err
	}
	st, err := s.o.Namesystem.GetFileStatus(ctx, r.GetSrc(), c.User)
	if err != nil {
		return nil, err
	}
	st.PathSuffix = ""
	return &pb.CreateResponseProto{Fs: fileStatusToProto(st)}, nil
}
