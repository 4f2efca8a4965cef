package namenode_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/e2e/proccluster"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
)

// Two NameNode processes over three JournalNodes (127.0.38.x, under the
// integration lock): a create and a delete over native RPC on nn1, nn1 is
// killed and nn2 made active, and the retries of both with the same client
// and call ids answer on nn2 as they did on nn1 (the file's id, true)
// instead of running again.
func TestIntegrationRetryCacheAcrossFailover(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("set HACTL_INTEGRATION=1 (and hold /tmp/hactl-integration.lock) to start real daemons")
	}
	dir := t.TempDir()
	bin, err := proccluster.Build("../..", dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: bin, Dir: filepath.Join(dir, "cluster"), IPPrefix: "127.0.38.", Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
		c.Close()
	})
	// The NameNodes' superuser: the user this test (and they) run as.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	clientID := []byte("integration-cid!")
	dial := func(nn string) *ipc.Client {
		cl, err := ipc.Dial(ctx, c.RPC[nn], ipc.ClientOptions{Protocol: ipc.ProtocolClientNamenode, User: me.Username, ClientID: clientID})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	create := &pb.CreateRequestProto{Src: proto.String("/retry/f"), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o644)}, ClientName: proto.String("DFSClient_it"),
		CreateFlag: proto.Uint32(uint32(pb.CreateFlagProto_CREATE)), CreateParent: proto.Bool(true), Replication: proto.Uint32(1), BlockSize: proto.Uint64(1 << 20)}
	del := &pb.DeleteRequestProto{Src: proto.String("/retry/d"), Recursive: proto.Bool(true)}

	c1 := dial("nn1")
	if err := c1.Call(ctx, "mkdirs", &pb.MkdirsRequestProto{Src: proto.String("/retry/d"), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o755)}, CreateParent: proto.Bool(true)}, &pb.MkdirsResponseProto{}); err != nil {
		t.Fatal(err)
	}
	var first pb.CreateResponseProto
	if err := c1.CallRetry(ctx, 100, 0, "create", create, &first); err != nil {
		t.Fatal(err)
	}
	var deleted pb.DeleteResponseProto
	if err := c1.CallRetry(ctx, 101, 0, "delete", del, &deleted); err != nil || !deleted.GetResult() {
		t.Fatalf("delete: %v %v", deleted.GetResult(), err)
	}
	// The answers are lost with nn1: the client retries on nn2.
	if err := c.Stop("nn1", syscall.SIGKILL); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Fatal(err)
	}
	if out, err := c.HAAdmin(ctx, "-transitionToActive", "--forceactive", "nn2"); err != nil {
		t.Fatalf("transitionToActive nn2: %v\n%s", err, out)
	}
	c2 := dial("nn2")
	var again pb.CreateResponseProto
	if err := c2.CallRetry(ctx, 100, 1, "create", create, &again); err != nil {
		t.Fatalf("retried create on nn2: %v", err)
	}
	if id := again.GetFs().GetFileId(); id == 0 || id != first.GetFs().GetFileId() {
		t.Fatalf("retried create answered file %d, nn1 answered %d", id, first.GetFs().GetFileId())
	}
	var delAgain pb.DeleteResponseProto
	if err := c2.CallRetry(ctx, 101, 1, "delete", del, &delAgain); err != nil || !delAgain.GetResult() {
		t.Fatalf("retried delete on nn2: %v %v", delAgain.GetResult(), err)
	}
	// A new call is run: the file exists, so a second create fails.
	if err := c2.CallRetry(ctx, 102, 0, "create", create, &pb.CreateResponseProto{}); err == nil {
		t.Fatal("a new create of an existing file succeeded on nn2")
	}
}
