package namenode

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// The daemon's native RPC serves the NameNode itself: a namespace call lands
// in its namespace, the HA status is its state, a standby refuses.
func TestStartIPCServesNameNode(t *testing.T) {
	j := NewMemJournal()
	n := newFormatted(t, j, newClock(), "nn1")[0]
	// Only "hdfs" (the NameNode's user in testConfig) is a superuser here.
	n.groups.resolve = func(string) ([]string, error) { return []string{"users"}, nil }
	n.cfg.RPCAddr = "127.0.0.1:0"
	conf := hadoopconf.New()
	conf.Set(ipc.KeyIPCTransitions, "true")
	srv, addrs, err := StartIPC(conf, n, webhdfs.HandlerOptions{ListLimit: 1000, DefaultBlockSize: 1 << 20, DefaultReplication: 1}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	dial := func(protocol, user string) *ipc.Client {
		c, err := ipc.Dial(ctx, addrs[0], ipc.ClientOptions{Protocol: protocol, User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	cl, ha := dial(ipc.ProtocolClientNamenode, "hdfs"), dial(ipc.ProtocolHAService, "hdfs")
	mkdirs := &pb.MkdirsRequestProto{Src: proto.String("/rpc/a"), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o750)}, CreateParent: proto.Bool(true)}
	err = cl.Call(ctx, "mkdirs", mkdirs, &pb.MkdirsResponseProto{})
	if !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("standby mkdirs: %v", err)
	}
	var st pb.GetServiceStatusResponseProto
	if err := ha.Call(ctx, "getServiceStatus", &pb.GetServiceStatusRequestProto{}, &st); err != nil || st.GetState() != pb.HAServiceStateProto_STANDBY {
		t.Fatalf("status %v %v", &st, err)
	}
	// A user who is not the superuser may not transition, the superuser may.
	toActive := &pb.TransitionToActiveRequestProto{ReqInfo: &pb.HAStateChangeRequestInfoProto{ReqSource: pb.HARequestSource_REQUEST_BY_USER.Enum()}}
	if err := dial(ipc.ProtocolHAService, "mallory").Call(ctx, "transitionToActive", toActive, &pb.TransitionToActiveResponseProto{}); !errors.Is(err, webhdfs.ErrPermission) {
		t.Fatalf("mallory's transition: %v", err)
	}
	if err := ha.Call(ctx, "transitionToActive", toActive, &pb.TransitionToActiveResponseProto{}); err != nil || n.State() != StateActive {
		t.Fatalf("transition: %v, state %v", err, n.State())
	}
	if err := cl.Call(ctx, "mkdirs", mkdirs, &pb.MkdirsResponseProto{}); err != nil {
		t.Fatal(err)
	}
	got, err := n.GetFileStatus(ctx, "/rpc/a", "hdfs")
	if err != nil || got.Permission != "750" || got.Owner != "hdfs" {
		t.Fatalf("mkdirs over RPC made %+v, %v", got, err)
	}

	// hdfs dfsadmin -safemode over setSafeMode: anyone may ask, only the
	// superuser may enter or leave.
	safemode := func(c *ipc.Client, action pb.SafeModeActionProto) (bool, error) {
		var resp pb.SetSafeModeResponseProto
		err := c.Call(ctx, "setSafeMode", &pb.SetSafeModeRequestProto{Action: action.Enum()}, &resp)
		return resp.GetResult(), err
	}
	mallory := dial(ipc.ProtocolClientNamenode, "mallory")
	if on, err := safemode(mallory, pb.SafeModeActionProto_SAFEMODE_GET); on || err != nil {
		t.Fatalf("get: %v, %v", on, err)
	}
	if _, err := safemode(mallory, pb.SafeModeActionProto_SAFEMODE_ENTER); !errors.Is(err, webhdfs.ErrPermission) {
		t.Fatalf("mallory's enter: %v", err)
	}
	if on, err := safemode(cl, pb.SafeModeActionProto_SAFEMODE_ENTER); !on || err != nil {
		t.Fatalf("enter: %v, %v", on, err)
	}
	mkdirs.Src = proto.String("/rpc/b")
	if err := cl.Call(ctx, "mkdirs", mkdirs, &pb.MkdirsResponseProto{}); !errors.Is(err, hdfs.ErrSafeMode) {
		t.Fatalf("mkdirs in safe mode: %v", err)
	}
	if on, err := safemode(cl, pb.SafeModeActionProto_SAFEMODE_LEAVE); on || err != nil {
		t.Fatalf("leave: %v, %v", on, err)
	}
	if err := cl.Call(ctx, "mkdirs", mkdirs, &pb.MkdirsResponseProto{}); err != nil {
		t.Fatal(err)
	}
}

func TestIPCListeners(t *testing.T) {
	conf := hadoopconf.New()
	if got, _ := ipcListeners(conf, "nn1:8020"); !reflect.DeepEqual(got, []string{"nn1:8020"}) {
		t.Fatalf("rpc only: %v", got)
	}
	conf.Set("dfs.namenode.servicerpc-address", "nn1:8021")
	conf.Set("dfs.namenode.rpc-bind-host", "0.0.0.0")
	if got, _ := ipcListeners(conf, "nn1:8020"); !reflect.DeepEqual(got, []string{"0.0.0.0:8020", "nn1:8021"}) {
		t.Fatalf("with service rpc: %v", got)
	}
	conf.Set("dfs.namenode.servicerpc-address", "nn1:8020")
	if got, _ := ipcListeners(conf, "nn1:8020"); len(got) != 1 {
		t.Fatalf("same address twice: %v", got)
	}
	if got, _ := ipcListeners(hadoopconf.New(), ""); got != nil {
		t.Fatalf("no rpc-address: %v", got)
	}
}
