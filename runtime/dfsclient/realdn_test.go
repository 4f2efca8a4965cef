package dfsclient_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/datanode"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/dfsclient/dfstest"
	"github.com/hactl/hactl/runtime/hdfs"
)

const pool = "BP-1-127.0.0.1-1"

// activeNN answers the DataNodes' DatanodeProtocol as an active NameNode
// that accepts every registration and report.
type activeNN struct {
	mu         sync.Mutex
	registered map[string]bool
	bad        []hdfs.LocatedBlock // replicas the DataNodes found corrupt
}

func (a *activeNN) VersionRequest(ctx context.Context) (hdfs.NamespaceInfo, error) {
	return hdfs.NamespaceInfo{NamespaceID: 7, ClusterID: "CID-test", BlockPoolID: pool, SoftwareVersion: "test"}, nil
}
func (a *activeNN) RegisterDatanode(ctx context.Context, reg hdfs.Registration) (hdfs.Registration, error) {
	a.mu.Lock()
	a.registered[reg.UUID] = true
	a.mu.Unlock()
	return reg, nil
}
func (a *activeNN) SendHeartbeat(ctx context.Context, hb hdfs.Heartbeat) (hdfs.HeartbeatResponse, error) {
	return hdfs.HeartbeatResponse{HAStatus: hdfs.NNHAStatus{State: hdfs.HAActive, Txid: 1}}, nil
}
func (a *activeNN) BlockReport(ctx context.Context, reg hdfs.Registration, replicas []hdfs.ReplicaReport) ([]hdfs.Command, error) {
	return nil, nil
}
func (a *activeNN) BlockReceivedAndDeleted(ctx context.Context, reg hdfs.Registration, events []hdfs.ReplicaEvent) error {
	return nil
}
func (a *activeNN) ReportBadBlocks(ctx context.Context, reg hdfs.Registration, blocks []hdfs.LocatedBlock) error {
	a.mu.Lock()
	a.bad = append(a.bad, blocks...)
	a.mu.Unlock()
	return nil
}
func (a *activeNN) CommitBlockSynchronization(ctx context.Context, c hdfs.CommitSync) error {
	return nil
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// realCluster starts n runtime/datanode DataNodes in-process.
func realCluster(t *testing.T, n int) ([]*datanode.DataNode, []hdfs.DatanodeInfo, *activeNN) {
	t.Helper()
	dp := &activeNN{registered: map[string]bool{}}
	var dns []*datanode.DataNode
	var infos []hdfs.DatanodeInfo
	for i := range n {
		dn, err := datanode.Start(datanode.Options{
			DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			NameNodes: []datanode.NameNode{{Nameservice: "ns", ID: "nn1", Addr: "fake", Proto: dp}},
			Heartbeat: 20 * time.Millisecond, ScanPeriod: -1, SocketTimeout: 5 * time.Second,
			Secret: []byte("cluster-secret-0123456789"), Logger: log.New(testWriter{t}, "dn: ", 0),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dn.Close() })
		dns = append(dns, dn)
		_ = i
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, dn := range dns {
		for {
			dp.mu.Lock()
			ok := dp.registered[dn.ID().UUID]
			dp.mu.Unlock()
			if ok && dn.Ready() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("DataNodes did not register")
			}
			time.Sleep(10 * time.Millisecond)
		}
		infos = append(infos, hdfs.DatanodeInfo{DatanodeID: dn.ID()})
	}
	return dns, infos, dp
}

// flipByte corrupts the replica of block id on dn at offset off on disk.
func flipByte(t *testing.T, dn *datanode.DataNode, id, off int64) {
	t.Helper()
	rep, _ := dn.Storage().Get(pool, id)
	f, err := os.OpenFile(rep.DataPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func payload(n int) []byte {
	r := rand.New(rand.NewPCG(11, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeAll writes data to a new file at path and closes it.
func writeAll(t *testing.T, c *dfsclient.Client, path string, data []byte) {
	t.Helper()
	w, err := c.Create(context.Background(), path, hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readBack(t *testing.T, c *dfsclient.Client, path string) []byte {
	t.Helper()
	r, err := c.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// TestAgainstRealDataNodes: the client's wire format against the
// DataNode's server: a multi-block file with replication 3 round-trips;
// a DataNode stopped mid-write leaves the write complete on the others; a
// replica corrupted on disk is read from another one and reported.
func TestAgainstRealDataNodes(t *testing.T) {
	dns, infos, dp := realCluster(t, 3)
	nn := dfstest.NewNNOn(infos, pool, 1<<20, 3)
	c := dfsclient.New(nn, dfsclient.Options{User: "alice", SocketTimeout: 5 * time.Second, Logf: t.Logf})
	ctx := context.Background()

	data := payload(3<<20 + 4321)
	writeAll(t, c, "/f", data)
	if got := readBack(t, c, "/f"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
	}
	for _, lb := range nn.File("/f").Blocks {
		for _, dn := range dns {
			r, ok := dn.Storage().Get(pool, lb.Block.ID)
			if !ok || r.State != hdfs.ReplicaFinalized || r.NumBytes != lb.Block.NumBytes || r.GenStamp != lb.Block.GenStamp {
				t.Errorf("%s on %s: %+v (present %v)", lb.Block, dn.ID().UUID, r, ok)
			}
		}
	}

	// Corrupt the first block's replica on the first DataNode on disk.
	first := nn.File("/f").Blocks[0]
	flipByte(t, dns[0], first.Block.ID, 1000)
	if got := readBack(t, c, "/f"); !bytes.Equal(got, data) {
		t.Fatalf("read with a corrupt replica returned wrong data")
	}
	// Someone must tell the NameNode so that it replaces the replica: the
	// reader (reportBadBlocks) or, as runtime/datanode verifies what it
	// sends, the DataNode itself.
	waitUntil := time.Now().Add(5 * time.Second)
	for {
		nn.Mu.Lock()
		byClient := slices.ContainsFunc(nn.BadReports, func(lb hdfs.LocatedBlock) bool { return lb.Block.ID == first.Block.ID })
		nn.Mu.Unlock()
		dp.mu.Lock()
		byDN := slices.ContainsFunc(dp.bad, func(lb hdfs.LocatedBlock) bool { return lb.Block.ID == first.Block.ID })
		dp.mu.Unlock()
		if byClient || byDN {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("the corrupt replica of %s was reported by nobody", first.Block)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// hflush with a partial chunk (sent again, completed, in the next
	// packet), then append to the partial last block.
	w, err := c.Create(ctx, "/h", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data[:1000])
	if err := w.Hflush(); err != nil {
		t.Fatalf("hflush: %v", err)
	}
	if got := readBack(t, c, "/h"); !bytes.Equal(got, data[:1000]) {
		t.Errorf("after hflush a reader sees %d bytes, want 1000", len(got))
	}
	w.Write(data[1000:300000])
	if err := w.Close(); err != nil {
		t.Fatalf("close after hflush: %v", err)
	}
	a, err := c.Append(ctx, "/h")
	if err != nil {
		t.Fatal(err)
	}
	a.Write(data[300000:400000])
	if err := a.Close(); err != nil {
		t.Fatalf("append: %v", err)
	}
	if got := readBack(t, c, "/h"); !bytes.Equal(got, data[:400000]) {
		t.Errorf("after hflush and append read %d bytes, want 400000 identical", len(got))
	}

	// Stop the middle DataNode of the pipeline mid-block.
	w, err = c.Create(ctx, "/g", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:1<<20+300<<10]); err != nil {
		t.Fatal(err)
	}
	dns[1].Close()
	if _, err := w.Write(data[1<<20+300<<10:]); err != nil {
		t.Fatalf("write after a DataNode died: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close after a DataNode died: %v", err)
	}
	if got := readBack(t, c, "/g"); !bytes.Equal(got, data) {
		t.Fatalf("read back after the DataNode died: %d bytes, want %d", len(got), len(data))
	}
	nn.Mu.Lock()
	updates := nn.Updates
	nn.Mu.Unlock()
	if updates == 0 {
		t.Errorf("no pipeline recovery")
	}
}
