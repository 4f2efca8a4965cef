package datanode

import (
	"context"
	"errors"
	"net"
	osuser "os/user"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
)

func dialDN(t *testing.T, dn *DataNode, user string) *ipc.Client {
	t.Helper()
	c, err := ipc.Dial(context.Background(), dn.IPCAddr(), ipc.ClientOptions{Protocol: ipc.ProtocolClientDatanode, User: user, SASL: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func visibleLength(c *ipc.Client, b hdfs.ExtendedBlock) (int64, error) {
	resp := &pb.GetReplicaVisibleLengthResponseProto{}
	err := c.Call(context.Background(), "getReplicaVisibleLength", &pb.GetReplicaVisibleLengthRequestProto{Block: &pb.ExtendedBlockProto{
		PoolId: proto.String(b.PoolID), BlockId: proto.Uint64(uint64(b.ID)), GenerationStamp: proto.Uint64(uint64(b.GenStamp))}}, resp)
	return int64(resp.GetLength()), err
}

func wantRemote(t *testing.T, err error, class, part string) {
	t.Helper()
	var re *ipc.RemoteException
	if !errors.As(err, &re) || re.Class != class || !strings.Contains(re.Message, part) {
		t.Fatalf("got %v, want %s containing %q", err, class, part)
	}
}

// TestClientDatanodeProtocol: the DataNode serves Hadoop's
// ClientDatanodeProtocol on its IPC address and advertises that port. A
// reader of a file being written learns from each DataNode how much of the
// last block it may read: the hflushed bytes while the writer is open, the
// whole block once it is closed; a DataNode without the replica says
// ReplicaNotFoundException, and a replica older than the block asked for is
// an IOException. The dfsadmin calls answer, and triggerBlockReport is for
// the superuser only.
func TestClientDatanodeProtocol(t *testing.T) {
	me, err := osuser.Current()
	if err != nil {
		t.Skip("no current user:", err)
	}
	nn, dns := startClusterWith(t, 4, func(o *Options) {
		o.IPCAddr = "127.0.0.1:0"
		o.PermissionsEnabled, o.Supergroup = true, "hactl-no-such-group"
		o.ConfigVersion, o.BalancerBandwidth = "core-1,hdfs-1", 10<<20
		o.NameNodes[0].RPCAddr = "127.0.0.1:8020"
	})
	for _, dn := range dns {
		_, port, _ := net.SplitHostPort(dn.IPCAddr())
		if p, _ := strconv.Atoi(port); p == 0 || dn.ID().IPCPort != p {
			t.Fatalf("advertised IPC port %d, listening on %s", dn.ID().IPCPort, dn.IPCAddr())
		}
	}

	cnn := &clientNN{dns: dns[:3], files: map[string][]hdfs.LocatedBlock{}}
	fs := dfsclient.New(cnn, dfsclient.Options{User: "test", NoReplaceDatanode: true})
	data := pattern(700_000)
	w, err := fs.Create(context.Background(), "/open", hdfs.CreateOptions{BlockSize: 8 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Hflush(); err != nil {
		t.Fatal(err)
	}
	cnn.mu.Lock()
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: cnn.files["/open"][0].Block.Block}
	cnn.mu.Unlock()
	for i, dn := range dns[:3] {
		if n, err := visibleLength(dialDN(t, dn, "reader"), b); err != nil || n != int64(len(data)) {
			t.Fatalf("dn%d: visible length of the hflushed block %d, %v; want %d", i, n, err, len(data))
		}
	}
	_, err = visibleLength(dialDN(t, dns[3], "reader"), b)
	wantRemote(t, err, ipc.ClassReplicaNotFound, "Replica not found")
	newer := b
	newer.GenStamp++
	_, err = visibleLength(dialDN(t, dns[0], "reader"), newer)
	wantRemote(t, err, ipc.ClassIOException, "generation stamp")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := visibleLength(dialDN(t, dns[1], "reader"), b); err != nil || n != int64(len(data)) {
		t.Fatalf("visible length of the closed block %d, %v", n, err)
	}

	// The dfsadmin calls.
	c := dialDN(t, dns[0], "nobody-hactl-test")
	info := &pb.GetDatanodeInfoResponseProto{}
	if err := c.Call(context.Background(), "getDatanodeInfo", &pb.GetDatanodeInfoRequestProto{}, info); err != nil ||
		info.GetLocalInfo().GetSoftwareVersion() != softwareVersion || info.GetLocalInfo().GetConfigVersion() != "core-1,hdfs-1" {
		t.Fatalf("getDatanodeInfo: %v, %v", info, err)
	}
	bw := &pb.GetBalancerBandwidthResponseProto{}
	if err := c.Call(context.Background(), "getBalancerBandwidth", &pb.GetBalancerBandwidthRequestProto{}, bw); err != nil || bw.GetBandwidth() != 10<<20 {
		t.Fatalf("getBalancerBandwidth: %v, %v", bw, err)
	}
	trigger := func(c *ipc.Client, incremental bool, nnAddr *string) error {
		return c.Call(context.Background(), "triggerBlockReport", &pb.TriggerBlockReportRequestProto{Incremental: proto.Bool(incremental), NnAddress: nnAddr}, &pb.TriggerBlockReportResponseProto{})
	}
	wantRemote(t, trigger(c, false, nil), ipc.ClassAccessControl, "Superuser privilege is required")
	err = c.Call(context.Background(), "shutdownDatanode", &pb.TriggerBlockReportRequestProto{Incremental: proto.Bool(true)}, &pb.TriggerBlockReportResponseProto{})
	wantRemote(t, err, ipc.ClassNoSuchMethod, "shutdownDatanode")

	// The superuser (the user the DataNode runs as) gets a full report
	// sent at once, and is told when no NameNode has the address named.
	admin := dialDN(t, dns[0], me.Username)
	uuid := dns[0].ID().UUID
	nn.mu.Lock()
	delete(nn.reports, uuid)
	nn.mu.Unlock()
	if err := trigger(admin, false, proto.String("127.0.0.1:8020")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the triggered full block report", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		for _, r := range nn.reports[uuid] {
			if r.ID == b.ID && r.State == hdfs.ReplicaFinalized {
				return true
			}
		}
		return false
	})
	if err := trigger(admin, true, nil); err != nil {
		t.Fatal(err)
	}
	wantRemote(t, trigger(admin, false, proto.String("127.0.0.1:9")), ipc.ClassIOException, "not the RPC address")
}
