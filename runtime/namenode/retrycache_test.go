package namenode

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/internal/hadoopconf"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// An at-most-once edit carries its call's ids (format version 2); every
// other edit keeps version 1's bytes; an edit a NameNode of the release
// before wrote (no ids) still decodes.
func TestEditRetryIDs(t *testing.T) {
	id := []byte("0123456789abcdef")
	for _, op := range []*Op{
		{Code: OpDelete, Path: "/a", Recursive: true, Time: 10, RPCClientID: id, RPCCallID: 7},
		{Code: OpAddFile, Path: "/f", Perm: 0o644, Owner: "u", Group: "g", Time: 7, Replication: 3, BlockSize: 1 << 20, ClientName: "DFSClient_1", ClientMachine: "h", RPCClientID: id, RPCCallID: -2},
		{Code: OpRename, Path: "/x", Dst: "/y", Time: 11, RPCClientID: id, RPCCallID: 1<<31 - 1},
	} {
		b := EncodeOp(op)
		if b[0] != 2 {
			t.Fatalf("%s with ids written as version %d", op.Code, b[0])
		}
		got, err := DecodeOp(b)
		if err != nil {
			t.Fatalf("%s: %v", op.Code, err)
		}
		if !bytes.Equal(got.RPCClientID, id) || got.RPCCallID != op.RPCCallID || got.Path != op.Path || got.Time != op.Time {
			t.Fatalf("%s: got %+v", op.Code, *got)
		}
		if _, err := DecodeOp(b[:len(b)-1]); !errors.Is(err, ErrBadEdit) {
			t.Fatalf("%s: truncated ids decoded: %v", op.Code, err)
		}
	}
	// OP_DELETE of /a, recursive, time 10, as version 1 encodes it.
	old := []byte{1, byte(OpDelete), 2, '/', 'a', 1, 20}
	got, err := DecodeOp(old)
	if err != nil || got.Path != "/a" || !got.Recursive || got.Time != 10 || got.RPCClientID != nil {
		t.Fatalf("version 1 edit: %+v, %v", got, err)
	}
	if b := EncodeOp(&Op{Code: OpDelete, Path: "/a", Recursive: true, Time: 10}); !bytes.Equal(b, old) {
		t.Fatalf("an edit without ids changed its bytes: %v", b)
	}
	// Version 2 is written only with ids.
	if _, err := DecodeOp([]byte{2, byte(OpDelete), 2, '/', 'a', 1, 20, 0, 0}); !errors.Is(err, ErrBadEdit) {
		t.Fatalf("version 2 without ids: %v", err)
	}
}

// The retry cache survives a failover: the standby fills it from the edits
// of the calls the active ran, so after it becomes active a retry with the
// same client and call id gets the first answer (create's and append's file
// status, delete's and rename's true) instead of running again, and the old active, now standby,
// refuses the retry.
func TestRetryCacheSurvivesFailover(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nns := newFormatted(t, j, newClock(), "nn1", "nn2")
	nn1, nn2 := nns[0], nns[1]
	serve := func(n *NameNode) string {
		n.cfg.RPCAddr = "127.0.0.1:0"
		srv, addrs, err := StartIPC(hadoopconf.New(), n, webhdfs.HandlerOptions{ListLimit: 1000, DefaultBlockSize: 1 << 20, DefaultReplication: 1}, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return addrs[0]
	}
	addr1, addr2 := serve(nn1), serve(nn2)
	clientID := []byte("retry-client-id!")
	dial := func(addr string) *ipc.Client {
		c, err := ipc.Dial(ctx, addr, ipc.ClientOptions{Protocol: ipc.ProtocolClientNamenode, User: "hdfs", ClientID: clientID})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	create := &pb.CreateRequestProto{Src: proto.String("/f"), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o644)}, ClientName: proto.String("DFSClient_x"),
		CreateFlag: proto.Uint32(uint32(pb.CreateFlagProto_CREATE)), CreateParent: proto.Bool(true), Replication: proto.Uint32(1), BlockSize: proto.Uint64(1 << 20)}
	del := &pb.DeleteRequestProto{Src: proto.String("/d"), Recursive: proto.Bool(true)}

	if err := nn1.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Mkdirs(ctx, "/d/e", 0o755, "hdfs"); err != nil {
		t.Fatal(err)
	}
	c1 := dial(addr1)
	var first pb.CreateResponseProto
	if err := c1.CallRetry(ctx, 10, 0, "create", create, &first); err != nil {
		t.Fatal(err)
	}
	var deleted pb.DeleteResponseProto
	if err := c1.CallRetry(ctx, 11, 0, "delete", del, &deleted); err != nil || !deleted.GetResult() {
		t.Fatalf("delete: %v %v", deleted.GetResult(), err)
	}
	// /g: created, closed, reopened for append by the client; /r1 renamed.
	g := proto.Clone(create).(*pb.CreateRequestProto)
	g.Src = proto.String("/g")
	if err := c1.Call(ctx, "create", g, &pb.CreateResponseProto{}); err != nil {
		t.Fatal(err)
	}
	var closed pb.CompleteResponseProto
	if err := c1.Call(ctx, "complete", &pb.CompleteRequestProto{Src: proto.String("/g"), ClientName: proto.String("DFSClient_x")}, &closed); err != nil || !closed.GetResult() {
		t.Fatalf("complete: %v %v", closed.GetResult(), err)
	}
	appendReq := &pb.AppendRequestProto{Src: proto.String("/g"), ClientName: proto.String("DFSClient_x")}
	var appended pb.AppendResponseProto
	if err := c1.CallRetry(ctx, 14, 0, "append", appendReq, &appended); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Mkdirs(ctx, "/r1", 0o755, "hdfs"); err != nil {
		t.Fatal(err)
	}
	rename := &pb.RenameRequestProto{Src: proto.String("/r1"), Dst: proto.String("/r2")}
	var renamed pb.RenameResponseProto
	if err := c1.CallRetry(ctx, 15, 0, "rename", rename, &renamed); err != nil || !renamed.GetResult() {
		t.Fatalf("rename: %v %v", renamed.GetResult(), err)
	}
	// rename2 over an existing empty directory logs a delete and a rename:
	// only the rename, which completes the call, names it.
	for _, d := range []string{"/s", "/t"} {
		if err := nn1.Mkdirs(ctx, d, 0o755, "hdfs"); err != nil {
			t.Fatal(err)
		}
	}
	from := j.LastTxid() + 1
	rename2 := &pb.Rename2RequestProto{Src: proto.String("/s"), Dst: proto.String("/t"), OverwriteDest: proto.Bool(true)}
	if err := c1.CallRetry(ctx, 16, 0, "rename2", rename2, &pb.Rename2ResponseProto{}); err != nil {
		t.Fatal(err)
	}
	edits, err := j.ReadEdits(ctx, from, true, 10)
	if err != nil || len(edits) != 2 {
		t.Fatalf("rename2 logged %d edits: %v", len(edits), err)
	}
	for i, want := range []struct {
		code OpCode
		ids  bool
	}{{OpDelete, false}, {OpRename, true}} {
		op, err := DecodeOp(edits[i].Data)
		if err != nil || op.Code != want.code || (len(op.RPCClientID) > 0) != want.ids || (want.ids && op.RPCCallID != 16) {
			t.Fatalf("rename2 edit %d: %+v, %v", i, op, err)
		}
	}
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}

	c2 := dial(addr2)
	var again pb.CreateResponseProto
	if err := c2.CallRetry(ctx, 10, 1, "create", create, &again); err != nil {
		t.Fatalf("retried create on the new active: %v", err)
	}
	if again.GetFs().GetFileId() != first.GetFs().GetFileId() || again.GetFs().GetFileId() == 0 {
		t.Fatalf("retried create answered file %d, first %d", again.GetFs().GetFileId(), first.GetFs().GetFileId())
	}
	var delAgain pb.DeleteResponseProto
	if err := c2.CallRetry(ctx, 11, 1, "delete", del, &delAgain); err != nil || !delAgain.GetResult() {
		t.Fatalf("retried delete on the new active: %v %v", delAgain.GetResult(), err)
	}
	var appendAgain pb.AppendResponseProto
	if err := c2.CallRetry(ctx, 14, 1, "append", appendReq, &appendAgain); err != nil {
		t.Fatalf("retried append on the new active: %v", err)
	}
	if appendAgain.GetStat().GetFileId() != appended.GetStat().GetFileId() || appendAgain.GetStat().GetFileId() == 0 {
		t.Fatalf("retried append answered file %d, first %d", appendAgain.GetStat().GetFileId(), appended.GetStat().GetFileId())
	}
	var renameAgain pb.RenameResponseProto
	if err := c2.CallRetry(ctx, 15, 1, "rename", rename, &renameAgain); err != nil || !renameAgain.GetResult() {
		t.Fatalf("retried rename on the new active: %v %v", renameAgain.GetResult(), err)
	}
	if err := c2.CallRetry(ctx, 16, 1, "rename2", rename2, &pb.Rename2ResponseProto{}); err != nil {
		t.Fatalf("retried rename2 on the new active: %v", err)
	}
	// The same calls under new call ids run: the file exists, /d is gone.
	if err := c2.CallRetry(ctx, 12, 0, "create", create, &pb.CreateResponseProto{}); err == nil {
		t.Fatal("a new create of an existing file succeeded")
	}
	var delNew pb.DeleteResponseProto
	if err := c2.CallRetry(ctx, 13, 0, "delete", del, &delNew); err != nil || delNew.GetResult() {
		t.Fatalf("a new delete of a missing path: %v %v", delNew.GetResult(), err)
	}
	// The old active, now standby, answers a retry with StandbyException.
	if err := c1.CallRetry(ctx, 11, 2, "delete", del, &pb.DeleteResponseProto{}); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("retry on the standby: %v", err)
	}
}
