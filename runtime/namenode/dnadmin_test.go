package namenode

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
)

// The DataNode administration contract apply and status read: a DataNode
// registered over nnrpc (mounted at /nnrpc/v1/), /jmx NameNodeInfo
// LiveNodes/DecomNodes JSON with adminState, FSNamesystem figures, and a
// signed POST /dfsadmin/refreshNodes starting a decommission that ends once
// the node's blocks have their replication elsewhere.
func TestDataNodeAdministration(t *testing.T) {
	ctx := context.Background()
	_, _, nn1, nn2 := newBlockPair(t)
	exclude := filepath.Join(t.TempDir(), "dfs.exclude")
	if err := os.WriteFile(exclude, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	nn1.cfg.HostsExcludeFile = exclude
	nn1.cfg.DefaultReplication = 2
	addr := serve(t, nn1)
	dns := newDNs(t, []*NameNode{nn1, nn2}, 2)
	// A third DataNode registers over HTTP, as a real one does.
	rpc := nnrpc.NewDatanodeClient(addr, testSecret, nil)
	info, err := rpc.VersionRequest(ctx)
	if err != nil || info.ClusterID != testInfo.ClusterID || info.BlockPoolID != testInfo.BlockPoolID {
		t.Fatalf("versionRequest = %+v, %v", info, err)
	}
	third := &testDN{reg: hdfs.Registration{DatanodeID: hdfs.DatanodeID{UUID: "uuid-x", IP: "127.0.9.9", Hostname: "dn9", XferPort: 9866, InfoPort: 9864},
		ClusterID: info.ClusterID, BlockPoolID: info.BlockPoolID}}
	if _, err := rpc.RegisterDatanode(ctx, third.reg); err != nil {
		t.Fatal(err)
	}
	bad := third.reg
	bad.ClusterID = "CID-other"
	if _, err := rpc.RegisterDatanode(ctx, bad); err == nil {
		t.Fatal("a DataNode of another cluster registered")
	}
	if _, err := rpc.SendHeartbeat(ctx, hdfs.Heartbeat{Reg: third.reg, Reports: []hdfs.StorageReport{{Capacity: 1 << 40, Remaining: 1 << 39}}}); err != nil {
		t.Fatal(err)
	}
	dns = append(dns, third)
	nn1.mu.Lock()
	nn1.ns.MaxInline = 0
	nn1.mu.Unlock()
	// A file of replication 2 on dn1 and dn2 only.
	cp := nn1.ClientProtocol()
	st, err := cp.Create(ctx, "/f", "c", hdfs.CreateOptions{Perm: 0o644, Replication: 2}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cp.AddBlock(ctx, "/f", "c", nil, []hdfs.DatanodeID{third.reg.DatanodeID}, st.FileID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	lb.Block.NumBytes = 10
	for _, d := range dns[:2] {
		d.received(t, nn1, lb.Block.Block)
	}
	if ok, err := cp.Complete(ctx, "/f", "c", &lb.Block, st.FileID, "alice"); err != nil || !ok {
		t.Fatalf("complete %v %v", ok, err)
	}
	nn1.BlockTick(ctx)
	beans := checkExporterBeans(t, addr)
	fs := beans["Hadoop:service=NameNode,name=FSNamesystem"]
	if fs["NumLiveDataNodes"].(float64) != 3 || fs["BlocksTotal"].(float64) != 1 || fs["CapacityTotal"].(float64) != 3<<40 || fs["UnderReplicatedBlocks"].(float64) != 0 {
		t.Fatalf("FSNamesystem %v", fs)
	}
	if st := beans["Hadoop:service=NameNode,name=FSNamesystemState"]; st["FSState"] != "Operational" {
		t.Fatalf("FSNamesystemState %v", st)
	}
	nodes := func(attr string) map[string]map[string]any {
		var m map[string]map[string]any
		if err := json.Unmarshal([]byte(checkExporterBeans(t, addr)["Hadoop:service=NameNode,name=NameNodeInfo"][attr].(string)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	live := nodes("LiveNodes")
	if n := live["dn1:9866"]; len(live) != 3 || n["adminState"] != "In Service" || n["xferaddr"] != "127.0.9.1:9866" || n["numBlocks"].(float64) != 1 {
		t.Fatalf("LiveNodes %v", live)
	}
	// The status page shows the same.
	page, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(body), `<td id="datanodes">3 live, 0 dead, 0 decommissioning</td>`) ||
		!strings.Contains(string(body), `<td id="blocks">1 blocks, 0 under-replicated, 0 missing, 0 corrupt</td>`) {
		t.Fatalf("status page:\n%s", body)
	}
	// Unsigned refreshNodes is refused.
	resp, err := http.Post("http://"+addr+"/dfsadmin/refreshNodes", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned refreshNodes: %d", resp.StatusCode)
	}
	refresh := func() {
		t.Helper()
		resp, err := NewClient(testSecret, 5*time.Second).do(ctx, http.MethodPost, "http://"+addr+"/dfsadmin/refreshNodes", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refreshNodes: %d", resp.StatusCode)
		}
	}
	if err := os.WriteFile(exclude, []byte("# decommission\ndn1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refresh()
	nn1.BlockTick(ctx)
	if d := nodes("DecomNodes")["dn1:9866"]; d == nil || d["adminState"] != "Decommission In Progress" || d["underReplicatedBlocks"].(float64) != 1 {
		t.Fatalf("DecomNodes %v", nodes("DecomNodes"))
	}
	if fs := checkExporterBeans(t, addr)["Hadoop:service=NameNode,name=FSNamesystem"]; fs["NumDecommissioningDataNodes"].(float64) != 1 {
		t.Fatalf("FSNamesystem %v", fs)
	}
	// The monitor copies the block from dn1 to the third DataNode.
	var xfer *hdfs.Command
	for _, c := range dns[0].heartbeat(t, nn1).Commands {
		if c.Action == hdfs.ActionTransfer {
			xfer = &c
		}
	}
	if xfer == nil || xfer.Targets[0][0].UUID != "uuid-x" {
		t.Fatalf("transfer %+v", xfer)
	}
	if err := rpc.BlockReceivedAndDeleted(ctx, third.reg, []hdfs.ReplicaEvent{{Block: lb.Block.Block, Status: hdfs.StatusReceived}}); err != nil {
		t.Fatal(err)
	}
	nn1.BlockTick(ctx)
	if n := nodes("LiveNodes")["dn1:9866"]; n["adminState"] != "Decommissioned" || len(nodes("DecomNodes")) != 0 {
		t.Fatalf("after the copy: %v", nodes("LiveNodes"))
	}
	// A missing exclude file is an error, reported to the caller.
	nn1.cfg.HostsExcludeFile = exclude + ".gone"
	if err := nn1.RefreshNodes(); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refreshNodes without its file: %v", err)
	}
}

// With dfs.block.access.token.enable, located blocks carry tokens a
// DataNode verifies for their block and mode.
func TestBlockAccessTokens(t *testing.T) {
	ctx := context.Background()
	_, _, nn1, nn2 := newBlockPair(t)
	nn1.cfg.BlockTokens = true
	nn1.cfg.Secret = testSecret
	dns := newDNs(t, []*NameNode{nn1, nn2}, 3)
	writeFile(t, nn1, nil, dns, "/t", 5)
	lbs, err := nn1.ClientProtocol().GetBlockLocations(ctx, "/t", 0, 5, "alice")
	if err != nil || len(lbs.Blocks) != 1 {
		t.Fatalf("%+v %v", lbs, err)
	}
	b := lbs.Blocks[0]
	if err := hdfs.VerifyBlockToken(testSecret, b.Token, b.Block, hdfs.AccessRead, time.UnixMilli(1_700_000_000_000)); err != nil {
		t.Fatal(err)
	}
	if err := hdfs.VerifyBlockToken(testSecret, b.Token, b.Block, hdfs.AccessWrite, time.UnixMilli(1_700_000_000_000)); !errors.Is(err, hdfs.ErrBlockToken) {
		t.Fatalf("a read token allowed a write: %v", err)
	}

	// A retried append that the retry cache answers continues the block
	// the append reopened: AppendedBlock locates it with a write token, as
	// the append's own answer did (a read token would not let it write).
	cp := nn1.ClientProtocol()
	if lb, err := cp.AppendedBlock(ctx, "/t", "alice"); err != nil || lb != nil {
		t.Fatalf("a closed file: %+v %v", lb, err)
	}
	appended, _, err := cp.Append(ctx, "/t", "DFSClient_a", "alice")
	if err != nil || appended == nil {
		t.Fatalf("append: %+v %v", appended, err)
	}
	lb, err := cp.AppendedBlock(ctx, "/t", "alice")
	if err != nil || lb == nil || lb.Block != appended.Block || len(lb.Locations) != len(appended.Locations) {
		t.Fatalf("the appended block %+v, the append's %+v (%v)", lb, appended, err)
	}
	if err := hdfs.VerifyBlockToken(testSecret, lb.Token, lb.Block, hdfs.AccessWrite, time.UnixMilli(1_700_000_000_000)); err != nil {
		t.Fatalf("no write token for the appended block: %v", err)
	}
}

// getDatanodeReport answers on the standby too (Hadoop's category
// UNCHECKED), by kind.
func TestGetDatanodeReport(t *testing.T) {
	ctx := context.Background()
	_, _, nn1, nn2 := newBlockPair(t)
	newDNs(t, []*NameNode{nn1, nn2}, 3)
	for kind, want := range map[hdfs.DatanodeReportType]int{hdfs.ReportAll: 3, hdfs.ReportLive: 3, hdfs.ReportDead: 0, hdfs.ReportDecommissioning: 0} {
		got, err := nn2.ClientProtocol().GetDatanodeReport(ctx, kind, "hdfs")
		if err != nil || len(got) != want {
			t.Fatalf("%s on the standby: %d DataNodes, %v; want %d", kind, len(got), err, want)
		}
	}
	if got, _ := nn2.ClientProtocol().GetDatanodeReport(ctx, hdfs.ReportAll, "hdfs"); got[0].XferAddr() != "127.0.9.1:9866" || got[0].Capacity != 1<<40 {
		t.Fatalf("report %+v", got[0])
	}
	if _, err := nn1.ClientProtocol().GetDatanodeReport(ctx, "BOGUS", "hdfs"); err == nil {
		t.Fatal("an unknown report type was accepted")
	}
}
