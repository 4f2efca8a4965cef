package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

type fakeHA struct {
	mu    sync.Mutex
	state pb.HAServiceStateProto
	calls []string
}

func (f *fakeHA) ServiceStatus() (pb.HAServiceStateProto, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == pb.HAServiceStateProto_INITIALIZING {
		return f.state, "NameNode is still loading its namespace"
	}
	return f.state, ""
}

func (f *fakeHA) TransitionToActive(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "active")
	f.state = pb.HAServiceStateProto_ACTIVE
	return nil
}

func (f *fakeHA) TransitionToStandby(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "standby")
	f.state = pb.HAServiceStateProto_STANDBY
	return nil
}

// fakeBlocks records the block calls it gets; the rest of ClientProtocol
// panics (the embedded nil interface), so a test notices a call it did not expect.
type fakeBlocks struct {
	hdfs.ClientProtocol
	mu     sync.Mutex
	create hdfs.CreateOptions
	user   string
	prev   *hdfs.ExtendedBlock
	dns    []hdfs.DatanodeInfo
}

func (f *fakeBlocks) Create(ctx context.Context, path, clientName string, opts hdfs.CreateOptions, user string) (webhdfs.FileStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.create, f.user = opts, user
	return webhdfs.FileStatus{PathSuffix: "f", Type: webhdfs.TypeFile, Permission: "644", FileID: 16390, Replication: opts.Replication, BlockSize: opts.BlockSize}, nil
}

func (f *fakeBlocks) AddBlock(ctx context.Context, path, clientName string, previous *hdfs.ExtendedBlock, excluded []hdfs.DatanodeID, fileID int64, user string) (hdfs.LocatedBlock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prev = previous
	if fileID != 16390 || clientName != "DFSClient_x" {
		return hdfs.LocatedBlock{}, fmt.Errorf("%w: No lease on %s", hdfs.ErrLeaseExpired, path)
	}
	return hdfs.LocatedBlock{Block: hdfs.ExtendedBlock{PoolID: "BP-1", Block: hdfs.Block{ID: 1073741825, GenStamp: 1001}},
		Locations: f.dns, StorageIDs: []string{"DS-1"}}, nil
}

func (f *fakeBlocks) GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (hdfs.LocatedBlocks, error) {
	if path != "/d/data" || offset != 0 || length != 5 {
		return hdfs.LocatedBlocks{}, fmt.Errorf("%w: %s [%d,+%d)", webhdfs.ErrNotFound, path, offset, length)
	}
	return hdfs.LocatedBlocks{FileLength: 5, LastBlockComplete: true, Blocks: []hdfs.LocatedBlock{{Block: hdfs.ExtendedBlock{PoolID: "BP-1", Block: hdfs.Block{ID: 1, GenStamp: 2, NumBytes: 5}}, Locations: f.dns}}}, nil
}

func (f *fakeBlocks) GetDatanodeReport(ctx context.Context, kind hdfs.DatanodeReportType, user string) ([]hdfs.DatanodeInfo, error) {
	return f.dns, nil
}

func nnServe(t *testing.T, o NamenodeOptions) *Client {
	t.Helper()
	srv := NewServer(Options{Logf: t.Logf, RetryCache: NewRetryCache(0, 0)}, NamenodeProtocols(o)...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return dial(t, ln.Addr().String(), ClientOptions{Protocol: ProtocolClientNamenode, User: "alice"})
}

func call[Resp proto.Message](t *testing.T, c *Client, method string, req proto.Message, resp Resp) (Resp, error) {
	t.Helper()
	err := c.Call(context.Background(), method, req, resp)
	return resp, err
}

func must[Resp proto.Message](t *testing.T, c *Client, method string, req proto.Message, resp Resp) Resp {
	t.Helper()
	r, err := call(t, c, method, req, resp)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return r
}

func wantClass(t *testing.T, err error, class, msgPart string) {
	t.Helper()
	var re *RemoteException
	if !errors.As(err, &re) || re.Class != class || !strings.Contains(re.Message, msgPart) {
		t.Fatalf("got %v, want %s containing %q", err, class, msgPart)
	}
}

func perm(n uint32) *pb.FsPermissionProto { return &pb.FsPermissionProto{Perm: proto.Uint32(n)} }

func TestClientNamenodeNamespaceCalls(t *testing.T) {
	mem := webhdfstest.NewMem()
	ha := &fakeHA{state: pb.HAServiceStateProto_ACTIVE}
	c := nnServe(t, NamenodeOptions{Namesystem: mem, HA: ha, ListLimit: 2,
		Defaults: hdfs.ServerDefaults{BlockSize: 128 << 20, BytesPerChecksum: 512, WritePacketSize: 65536, Replication: 3, FileBufferSize: 4096, ChecksumType: "CRC32C"}})

	mk := func(p string, parent bool) error {
		_, err := call(t, c, "mkdirs", &pb.MkdirsRequestProto{Src: proto.String(p), Masked: perm(0o755), CreateParent: proto.Bool(parent)}, &pb.MkdirsResponseProto{})
		return err
	}
	if err := mk("/a/b", true); err != nil {
		t.Fatal(err)
	}
	wantClass(t, mk("/x/y", false), "java.io.FileNotFoundException", "Parent directory doesn't exist: /x")
	fi := must(t, c, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &pb.GetFileInfoResponseProto{})
	if fi.GetFs().GetFileType() != pb.HdfsFileStatusProto_IS_DIR || fi.GetFs().GetPermission().GetPerm() != 0o755 || fi.GetFs().GetChildrenNum() != 1 {
		t.Fatalf("getFileInfo /a: %v", fi)
	}
	if fi := must(t, c, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/nope")}, &pb.GetFileInfoResponseProto{}); fi.Fs != nil {
		t.Fatalf("missing path has a status: %v", fi)
	}
	if li := must(t, c, "getFileLinkInfo", &pb.GetFileLinkInfoRequestProto{Src: proto.String("/a/b")}, &pb.GetFileLinkInfoResponseProto{}); li.GetFs().GetFileType() != pb.HdfsFileStatusProto_IS_DIR {
		t.Fatalf("getFileLinkInfo /a/b: %v", li)
	}

	// create + complete without a block manager: an empty closed file.
	for _, name := range []string{"e", "a", "d", "c"} {
		cr := must(t, c, "create", &pb.CreateRequestProto{Src: proto.String("/a/" + name), Masked: perm(0o644), ClientName: proto.String("DFSClient_x"),
			CreateFlag: proto.Uint32(uint32(pb.CreateFlagProto_CREATE)), CreateParent: proto.Bool(false), Replication: proto.Uint32(2), BlockSize: proto.Uint64(1 << 20)}, &pb.CreateResponseProto{})
		if cr.GetFs().GetFileType() != pb.HdfsFileStatusProto_IS_FILE || cr.GetFs().GetBlockReplication() != 2 {
			t.Fatalf("create: %v", cr)
		}
		if done := must(t, c, "complete", &pb.CompleteRequestProto{Src: proto.String("/a/" + name), ClientName: proto.String("DFSClient_x")}, &pb.CompleteResponseProto{}); !done.GetResult() {
			t.Fatal("complete false")
		}
	}
	_, err := call(t, c, "create", &pb.CreateRequestProto{Src: proto.String("/a/e"), Masked: perm(0o644), ClientName: proto.String("DFSClient_x"),
		CreateFlag: proto.Uint32(1), CreateParent: proto.Bool(false), Replication: proto.Uint32(2), BlockSize: proto.Uint64(1 << 20)}, &pb.CreateResponseProto{})
	wantClass(t, err, "org.apache.hadoop.fs.FileAlreadyExistsException", "/a/e")
	lb := must(t, c, "getBlockLocations", &pb.GetBlockLocationsRequestProto{Src: proto.String("/a/e"), Offset: proto.Uint64(0), Length: proto.Uint64(10)}, &pb.GetBlockLocationsResponseProto{})
	if lb.GetLocations().GetFileLength() != 0 || len(lb.GetLocations().GetBlocks()) != 0 {
		t.Fatalf("empty file's blocks: %v", lb)
	}
	_, err = call(t, c, "addBlock", &pb.AddBlockRequestProto{Src: proto.String("/a/e"), ClientName: proto.String("x")}, &pb.AddBlockResponseProto{})
	wantClass(t, err, ClassIOException, "no block manager")

	// Partial listings: 5 entries (b, a, c, d, e) in pages of 2.
	var names []string
	after := []byte{}
	for page := 0; ; page++ {
		l := must(t, c, "getListing", &pb.GetListingRequestProto{Src: proto.String("/a"), StartAfter: after, NeedLocation: proto.Bool(false)}, &pb.GetListingResponseProto{})
		entries := l.GetDirList().GetPartialListing()
		for _, e := range entries {
			names = append(names, string(e.GetPath()))
		}
		if want := max(0, 5-2*(page+1)); int(l.GetDirList().GetRemainingEntries()) != want {
			t.Fatalf("page %d: remaining %d, want %d", page, l.GetDirList().GetRemainingEntries(), want)
		}
		if l.GetDirList().GetRemainingEntries() == 0 {
			break
		}
		after = entries[len(entries)-1].GetPath()
	}
	if strings.Join(names, ",") != "a,b,c,d,e" {
		t.Fatalf("listing %v", names)
	}
	// A located listing gives files (not directories) their blocks.
	ll := must(t, c, "getListing", &pb.GetListingRequestProto{Src: proto.String("/a"), StartAfter: []byte{}, NeedLocation: proto.Bool(true)}, &pb.GetListingResponseProto{})
	for _, e := range ll.GetDirList().GetPartialListing() {
		if (e.GetFileType() == pb.HdfsFileStatusProto_IS_FILE) != (e.Locations != nil) {
			t.Fatalf("located listing: %s has locations %v", e.GetPath(), e.Locations)
		}
	}
	if l := must(t, c, "getListing", &pb.GetListingRequestProto{Src: proto.String("/nope"), StartAfter: []byte{}, NeedLocation: proto.Bool(false)}, &pb.GetListingResponseProto{}); l.DirList != nil {
		t.Fatal("listing of a missing dir")
	}

	// rename2: an existing destination needs overwrite; a directory is not "into".
	_, err = call(t, c, "rename2", &pb.Rename2RequestProto{Src: proto.String("/a/c"), Dst: proto.String("/a/d"), OverwriteDest: proto.Bool(false)}, &pb.Rename2ResponseProto{})
	wantClass(t, err, "org.apache.hadoop.fs.FileAlreadyExistsException", "rename destination /a/d already exists")
	must(t, c, "rename2", &pb.Rename2RequestProto{Src: proto.String("/a/c"), Dst: proto.String("/a/d"), OverwriteDest: proto.Bool(true)}, &pb.Rename2ResponseProto{})
	_, err = call(t, c, "rename2", &pb.Rename2RequestProto{Src: proto.String("/a/d"), Dst: proto.String("/a/b"), OverwriteDest: proto.Bool(true)}, &pb.Rename2ResponseProto{})
	wantClass(t, err, ClassIOException, "must both be a file")
	_, err = call(t, c, "rename2", &pb.Rename2RequestProto{Src: proto.String("/a/d"), Dst: proto.String("/q/d"), OverwriteDest: proto.Bool(false)}, &pb.Rename2ResponseProto{})
	wantClass(t, err, "java.io.FileNotFoundException", "rename destination parent /q not found")
	if r := must(t, c, "rename", &pb.RenameRequestProto{Src: proto.String("/a/d"), Dst: proto.String("/a/b")}, &pb.RenameResponseProto{}); !r.GetResult() {
		t.Fatal("rename into a directory failed")
	}
	if fi := must(t, c, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/a/b/d")}, &pb.GetFileInfoResponseProto{}); fi.Fs == nil {
		t.Fatal("rename did not move into /a/b")
	}

	must(t, c, "setPermission", &pb.SetPermissionRequestProto{Src: proto.String("/a"), Permission: perm(0o1777)}, &pb.SetPermissionResponseProto{})
	must(t, c, "setOwner", &pb.SetOwnerRequestProto{Src: proto.String("/a"), Username: proto.String("bob"), Groupname: proto.String("staff")}, &pb.SetOwnerResponseProto{})
	fi = must(t, c, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &pb.GetFileInfoResponseProto{})
	if fi.GetFs().GetPermission().GetPerm() != 0o1777 || fi.GetFs().GetOwner() != "bob" || fi.GetFs().GetGroup() != "staff" {
		t.Fatalf("after setPermission/setOwner: %v", fi)
	}
	cs := must(t, c, "getContentSummary", &pb.GetContentSummaryRequestProto{Path: proto.String("/a")}, &pb.GetContentSummaryResponseProto{})
	if cs.GetSummary().GetFileCount() != 3 || cs.GetSummary().GetDirectoryCount() != 2 || int64(cs.GetSummary().GetQuota()) != -1 {
		t.Fatalf("content summary %v", cs)
	}
	sd := must(t, c, "getServerDefaults", &pb.GetServerDefaultsRequestProto{}, &pb.GetServerDefaultsResponseProto{})
	if sd.GetServerDefaults().GetBlockSize() != 128<<20 || sd.GetServerDefaults().GetChecksumType() != pb.ChecksumTypeProto_CHECKSUM_CRC32C {
		t.Fatalf("server defaults %v", sd)
	}
	st := must(t, c, "getFsStats", &pb.GetFsStatusRequestProto{}, &pb.GetFsStatsResponseProto{})
	if st.GetCapacity() != 0 {
		t.Fatalf("fs stats without DataNodes: %v", st)
	}
	_, err = call(t, c, "delete", &pb.DeleteRequestProto{Src: proto.String("/a"), Recursive: proto.Bool(false)}, &pb.DeleteResponseProto{})
	wantClass(t, err, "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", "/a")
	if d := must(t, c, "delete", &pb.DeleteRequestProto{Src: proto.String("/a"), Recursive: proto.Bool(true)}, &pb.DeleteResponseProto{}); !d.GetResult() {
		t.Fatal("delete -r false")
	}

	// A standby refuses reads and writes with StandbyException.
	mem.SetStandby(true)
	ha.state = pb.HAServiceStateProto_STANDBY
	_, err = call(t, c, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/")}, &pb.GetFileInfoResponseProto{})
	wantClass(t, err, ClassStandby, "Operation category READ is not supported in state standby")
	_, err = call(t, c, "getFsStats", &pb.GetFsStatusRequestProto{}, &pb.GetFsStatsResponseProto{})
	wantClass(t, err, ClassStandby, "Operation category READ")
	_, err = call(t, c, "renewLease", &pb.RenewLeaseRequestProto{ClientName: proto.String("x")}, &pb.RenewLeaseResponseProto{})
	wantClass(t, err, ClassStandby, "Operation category WRITE")
	_, err = call(t, c, "mkdirs", &pb.MkdirsRequestProto{Src: proto.String("/z"), Masked: perm(0o755), CreateParent: proto.Bool(true)}, &pb.MkdirsResponseProto{})
	wantClass(t, err, ClassStandby, "Operation category WRITE")
}

func TestClientNamenodeBlockCalls(t *testing.T) {
	mem := webhdfstest.NewMem()
	dn := hdfs.DatanodeInfo{DatanodeID: hdfs.DatanodeID{UUID: "u1", IP: "127.0.0.1", Hostname: "dn1", XferPort: 9866, InfoPort: 9864, IPCPort: 9867},
		Capacity: 1000, DFSUsed: 10, Remaining: 900, AdminState: hdfs.AdminDecommissionInProgress, Location: "/default-rack"}
	fb := &fakeBlocks{dns: []hdfs.DatanodeInfo{dn}}
	c := nnServe(t, NamenodeOptions{Namesystem: mem, Blocks: fb})
	cr := must(t, c, "create", &pb.CreateRequestProto{Src: proto.String("/f"), Masked: perm(0o600), ClientName: proto.String("DFSClient_x"),
		CreateFlag: proto.Uint32(uint32(pb.CreateFlagProto_CREATE | pb.CreateFlagProto_OVERWRITE)), CreateParent: proto.Bool(true), Replication: proto.Uint32(3), BlockSize: proto.Uint64(64 << 20)}, &pb.CreateResponseProto{})
	if fb.create != (hdfs.CreateOptions{Perm: 0o600, Overwrite: true, CreateParent: true, Replication: 3, BlockSize: 64 << 20}) || fb.user != "alice" || cr.GetFs().GetFileId() != 16390 || string(cr.GetFs().GetPath()) != "" {
		t.Fatalf("create passed %+v as %s, answered %v", fb.create, fb.user, cr)
	}
	ab := must(t, c, "addBlock", &pb.AddBlockRequestProto{Src: proto.String("/f"), ClientName: proto.String("DFSClient_x"), FileId: proto.Uint64(16390),
		Previous: &pb.ExtendedBlockProto{PoolId: proto.String("BP-1"), BlockId: proto.Uint64(7), GenerationStamp: proto.Uint64(8), NumBytes: proto.Uint64(9)}}, &pb.AddBlockResponseProto{})
	got := locatedBlockFromProto(ab.GetBlock())
	if got.Block.ID != 1073741825 || len(got.Locations) != 1 || got.Locations[0] != dn || got.Token != nil || ab.GetBlock().GetBlockToken() == nil {
		t.Fatalf("addBlock answered %+v", got)
	}
	if fb.prev == nil || *fb.prev != (hdfs.ExtendedBlock{PoolID: "BP-1", Block: hdfs.Block{ID: 7, GenStamp: 8, NumBytes: 9}}) {
		t.Fatalf("previous block passed as %+v", fb.prev)
	}
	_, err := call(t, c, "addBlock", &pb.AddBlockRequestProto{Src: proto.String("/f"), ClientName: proto.String("other"), FileId: proto.Uint64(16390)}, &pb.AddBlockResponseProto{})
	wantClass(t, err, "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException", "No lease on /f")
	if !errors.Is(err, hdfs.ErrLeaseExpired) {
		t.Fatal("LeaseExpiredException does not map back to hdfs.ErrLeaseExpired")
	}
	mem.Create(context.Background(), "/d/data", []byte("hello"), false, 0o644, 1, 1<<20, "alice")
	ll := must(t, c, "getListing", &pb.GetListingRequestProto{Src: proto.String("/d"), StartAfter: []byte{}, NeedLocation: proto.Bool(true)}, &pb.GetListingResponseProto{})
	if e := ll.GetDirList().GetPartialListing(); len(e) != 1 || len(e[0].GetLocations().GetBlocks()) != 1 || e[0].GetLocations().GetBlocks()[0].GetLocs()[0].GetId().GetHostName() != "dn1" {
		t.Fatalf("located listing of /d: %v", ll)
	}
	rep := must(t, c, "getDatanodeReport", &pb.GetDatanodeReportRequestProto{Type: pb.DatanodeReportTypeProto_LIVE.Enum()}, &pb.GetDatanodeReportResponseProto{})
	if len(rep.GetDi()) != 1 || rep.GetDi()[0].GetAdminState() != pb.DatanodeInfoProto_DECOMMISSION_INPROGRESS {
		t.Fatalf("report %v", rep)
	}
	st := must(t, c, "getFsStats", &pb.GetFsStatusRequestProto{}, &pb.GetFsStatsResponseProto{})
	if st.GetCapacity() != 1000 || st.GetUsed() != 10 || st.GetRemaining() != 900 {
		t.Fatalf("fs stats %v", st)
	}
}

func TestHAServiceProtocol(t *testing.T) {
	toActive := func(c *Client, src pb.HARequestSource) error {
		return c.Call(context.Background(), "transitionToActive", &pb.TransitionToActiveRequestProto{ReqInfo: &pb.HAStateChangeRequestInfoProto{ReqSource: src.Enum()}}, &pb.TransitionToActiveResponseProto{})
	}
	haClient := func(t *testing.T, o NamenodeOptions, user string) *Client {
		srv := NewServer(Options{Logf: t.Logf}, NamenodeProtocols(o)...)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return dial(t, ln.Addr().String(), ClientOptions{Protocol: ProtocolHAService, User: user})
	}
	t.Run("status and health always", func(t *testing.T) {
		ha := &fakeHA{state: pb.HAServiceStateProto_STANDBY}
		c := haClient(t, NamenodeOptions{Namesystem: webhdfstest.NewMem(), HA: ha}, "nobody")
		must(t, c, "monitorHealth", &pb.MonitorHealthRequestProto{}, &pb.MonitorHealthResponseProto{})
		st := must(t, c, "getServiceStatus", &pb.GetServiceStatusRequestProto{}, &pb.GetServiceStatusResponseProto{})
		if st.GetState() != pb.HAServiceStateProto_STANDBY || !st.GetReadyToBecomeActive() {
			t.Fatalf("status %v", st)
		}
		ha.state = pb.HAServiceStateProto_INITIALIZING
		_, err := call(t, c, "monitorHealth", &pb.MonitorHealthRequestProto{}, &pb.MonitorHealthResponseProto{})
		wantClass(t, err, "org.apache.hadoop.ha.HealthCheckFailedException", "still loading")
		if st := must(t, c, "getServiceStatus", &pb.GetServiceStatusRequestProto{}, &pb.GetServiceStatusResponseProto{}); st.GetReadyToBecomeActive() || st.GetNotReadyReason() == "" {
			t.Fatalf("status %v", st)
		}
		// Transitions are off by default, even forced.
		wantClass(t, toActive(c, pb.HARequestSource_REQUEST_BY_USER_FORCED), ClassAccessControl, KeyIPCTransitions)
		if len(ha.calls) != 0 {
			t.Fatalf("transition ran: %v", ha.calls)
		}
	})
	t.Run("enabled with automatic failover", func(t *testing.T) {
		ha := &fakeHA{state: pb.HAServiceStateProto_STANDBY}
		o := NamenodeOptions{Namesystem: webhdfstest.NewMem(), HA: ha, TransitionsEnabled: true, AutoFailover: true,
			MayTransition: func(u string) bool { return u == "hdfs" }}
		c := haClient(t, o, "hdfs")
		wantClass(t, toActive(c, pb.HARequestSource_REQUEST_BY_USER), ClassAccessControl, "Manual HA control for this NameNode is disallowed, because automatic HA is enabled.")
		if err := toActive(c, pb.HARequestSource_REQUEST_BY_USER_FORCED); err != nil {
			t.Fatal(err)
		}
		if err := c.Call(context.Background(), "transitionToStandby", &pb.TransitionToStandbyRequestProto{ReqInfo: &pb.HAStateChangeRequestInfoProto{ReqSource: pb.HARequestSource_REQUEST_BY_ZKFC.Enum()}}, &pb.TransitionToStandbyResponseProto{}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(ha.calls, ",") != "active,standby" {
			t.Fatalf("transitions %v", ha.calls)
		}
		other := haClient(t, o, "mallory")
		wantClass(t, toActive(other, pb.HARequestSource_REQUEST_BY_ZKFC), ClassAccessControl, "Superuser privilege is required")
	})
	t.Run("enabled, manual failover", func(t *testing.T) {
		ha := &fakeHA{state: pb.HAServiceStateProto_STANDBY}
		c := haClient(t, NamenodeOptions{Namesystem: webhdfstest.NewMem(), HA: ha, TransitionsEnabled: true}, "hdfs")
		wantClass(t, toActive(c, pb.HARequestSource_REQUEST_BY_ZKFC), ClassAccessControl, "denied since automatic HA is not enabled")
		if err := toActive(c, pb.HARequestSource_REQUEST_BY_USER); err != nil || ha.state != pb.HAServiceStateProto_ACTIVE {
			t.Fatalf("manual transition: %v, state %v", err, ha.state)
		}
	})
}
