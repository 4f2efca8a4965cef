package datanode

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// clientNN is the ClientProtocol side of a NameNode, just enough for
// runtime/dfsclient to write and read files on in-process DataNodes.
type clientNN struct {
	hdfs.ClientProtocol // calls not listed here panic: the test must not reach them
	mu                  sync.Mutex
	dns                 []*DataNode
	spare               *DataNode // GetAdditionalDatanode's answer, when set
	next                int64
	files               map[string][]hdfs.LocatedBlock
}

func (n *clientNN) locs(excluded ...hdfs.DatanodeID) []hdfs.DatanodeInfo {
	var out []hdfs.DatanodeInfo
next:
	for _, dn := range n.dns {
		for _, x := range excluded {
			if x.UUID == dn.ID().UUID {
				continue next
			}
		}
		out = append(out, hdfs.DatanodeInfo{DatanodeID: dn.ID()})
	}
	return out
}

func (n *clientNN) AbandonBlock(ctx context.Context, b hdfs.ExtendedBlock, fileID int64, path, client, user string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	bs := n.files[path]
	if len(bs) > 0 && bs[len(bs)-1].Block.ID == b.ID {
		n.files[path] = bs[:len(bs)-1]
	}
	return nil
}

func (n *clientNN) Create(ctx context.Context, path, client string, o hdfs.CreateOptions, user string) (webhdfs.FileStatus, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.files[path] = nil
	return webhdfs.FileStatus{Type: "FILE", BlockSize: o.BlockSize, Replication: 3, FileID: 1}, nil
}

func (n *clientNN) AddBlock(ctx context.Context, path, client string, prev *hdfs.ExtendedBlock, ex []hdfs.DatanodeID, fileID int64, user string) (hdfs.LocatedBlock, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.commit(path, prev)
	n.next++
	var off int64
	for _, b := range n.files[path] {
		off += b.Block.NumBytes
	}
	lb := hdfs.LocatedBlock{Block: hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 5000 + n.next, GenStamp: 1001}}, Offset: off, Locations: n.locs(ex...)}
	n.files[path] = append(n.files[path], lb)
	return lb, nil
}

func (n *clientNN) commit(path string, b *hdfs.ExtendedBlock) {
	if b == nil {
		return
	}
	for i := range n.files[path] {
		if n.files[path][i].Block.ID == b.ID {
			n.files[path][i].Block = *b
		}
	}
}

func (n *clientNN) Complete(ctx context.Context, path, client string, last *hdfs.ExtendedBlock, fileID int64, user string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.commit(path, last)
	return true, nil
}

func (n *clientNN) GetBlockLocations(ctx context.Context, path string, off, length int64, user string) (hdfs.LocatedBlocks, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	lbs := hdfs.LocatedBlocks{Blocks: append([]hdfs.LocatedBlock(nil), n.files[path]...), LastBlockComplete: true}
	for _, b := range lbs.Blocks {
		lbs.FileLength += b.Block.NumBytes
	}
	return lbs, nil
}

func (n *clientNN) RenewLease(ctx context.Context, client, user string) error { return nil }

func (n *clientNN) UpdateBlockForPipeline(ctx context.Context, b hdfs.ExtendedBlock, client, user string) (hdfs.LocatedBlock, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b.GenStamp++
	return hdfs.LocatedBlock{Block: b, Locations: n.locs()}, nil
}

func (n *clientNN) UpdatePipeline(ctx context.Context, client string, old, nb hdfs.ExtendedBlock, nodes []hdfs.DatanodeID, user string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for path, bs := range n.files {
		for i := range bs {
			if bs[i].Block.ID == nb.ID {
				bs[i].Block = nb
				bs[i].Locations = nil
				for _, d := range nodes {
					bs[i].Locations = append(bs[i].Locations, hdfs.DatanodeInfo{DatanodeID: d})
				}
				n.files[path] = bs
			}
		}
	}
	return nil
}

func (n *clientNN) GetAdditionalDatanode(ctx context.Context, path string, fileID int64, b hdfs.ExtendedBlock, existing []hdfs.DatanodeInfo, ex []hdfs.DatanodeID, num int, client, user string) (hdfs.LocatedBlock, error) {
	if n.spare == nil {
		return hdfs.LocatedBlock{}, hdfs.ErrNoDatanodes
	}
	locs := append(append([]hdfs.DatanodeInfo(nil), existing...), hdfs.DatanodeInfo{DatanodeID: n.spare.ID()})
	return hdfs.LocatedBlock{Block: b, Locations: locs}, nil
}

// TestDFSClientWritesAndReadsThroughThePipeline: hactl's own DFSClient
// (runtime/dfsclient) writes a multi-block file through three DataNodes,
// reads it back and takes its MD5-of-MD5-of-CRC32C checksum; then a
// DataNode dies during a write and the client's pipeline recovery
// (PIPELINE_SETUP_STREAMING_RECOVERY on the survivors) completes it.
func TestDFSClientWritesAndReadsThroughThePipeline(t *testing.T) {
	_, dns := startCluster(t, 3)
	nn := &clientNN{dns: dns, files: map[string][]hdfs.LocatedBlock{}}
	c := dfsclient.New(nn, dfsclient.Options{User: "test", NoReplaceDatanode: true})
	ctx := context.Background()
	data := pattern(5<<20 + 1234)
	w, err := c.Create(ctx, "/f", hdfs.CreateOptions{BlockSize: 1 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := c.Open(ctx, "/f")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v (%d of %d bytes)", err, len(got), len(data))
	}
	if len(nn.files["/f"]) != 6 {
		t.Fatalf("%d blocks", len(nn.files["/f"]))
	}
	if _, err := c.GetFileChecksum(ctx, "/f"); err != nil {
		t.Fatal(err)
	}

	// A DataNode dies mid-write: the client recovers the pipeline on the
	// other two and the file is whole.
	w, err = c.Create(ctx, "/g", hdfs.CreateOptions{BlockSize: 4 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 8
	if _, err := w.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	dns[1].Close()
	if _, err := w.Write(data[half:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = c.Open(ctx, "/g")
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back after the pipeline recovery: %v (%d of %d bytes)", err, len(got), len(data))
	}
	first := nn.files["/g"][0]
	if first.Block.GenStamp <= 1001 || len(first.Locations) != 2 {
		t.Fatalf("first block after recovery: %+v on %d DataNodes", first.Block, len(first.Locations))
	}
}

// TestDFSClientReplacesADeadDataNode: with replace-datanode-on-failure the
// client asks for an additional DataNode, has a survivor copy the replica
// being written to it (TRANSFER_BLOCK → TRANSFER_RBW) and continues on a
// pipeline of three again.
func TestDFSClientReplacesADeadDataNode(t *testing.T) {
	_, dns := startCluster(t, 4)
	nn := &clientNN{dns: dns[:3], spare: dns[3], files: map[string][]hdfs.LocatedBlock{}}
	c := dfsclient.New(nn, dfsclient.Options{User: "test", Logf: t.Logf})
	ctx := context.Background()
	data := pattern(3 << 20)
	w, err := c.Create(ctx, "/h", hdfs.CreateOptions{BlockSize: 8 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	if err := w.Hflush(); err != nil { // every DataNode holds the first MiB
		t.Fatal(err)
	}
	// Two of three gone: Hadoop's DEFAULT policy replaces one (at most half
	// of the replication left).
	dns[1].Close()
	dns[2].Close()
	if _, err := w.Write(data[1<<20:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := nn.files["/h"][0]
	if len(b.Locations) != 2 || b.Locations[1].UUID != dns[3].ID().UUID {
		t.Fatalf("pipeline after the replacement: %v", b.Locations)
	}
	r := mustGet(t, dns[3], b.Block.ID)
	if r.State != hdfs.ReplicaFinalized || r.NumBytes != int64(len(data)) || r.GenStamp != b.Block.GenStamp {
		t.Fatalf("the added DataNode's replica: %+v (block %+v)", r, b.Block)
	}
	onDisk, _ := os.ReadFile(r.DataPath)
	if !bytes.Equal(onDisk, data) {
		t.Fatal("the added DataNode's replica differs")
	}
}

func (n *clientNN) Fsync(ctx context.Context, path string, fileID int64, client string, length int64, user string) error {
	return nil
}

// Random DataNode deaths during writes (fixed seed, printed on failure):
// every write completes through the survivors and reads back identical.
func TestDFSClientWritesThroughRandomDataNodeDeaths(t *testing.T) {
	const seed = 77
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := 0; round < 4; round++ {
		_, dns := startCluster(t, 4)
		nn := &clientNN{dns: dns[:3], spare: dns[3], files: map[string][]hdfs.LocatedBlock{}}
		c := dfsclient.New(nn, dfsclient.Options{User: "test"})
		ctx := context.Background()
		data := pattern(2<<20 + rng.IntN(1<<20))
		cut := rng.IntN(len(data))
		victim := dns[rng.IntN(3)]
		w, err := c.Create(ctx, "/r", hdfs.CreateOptions{BlockSize: 1 << 20, Replication: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data[:cut]); err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
		if rng.IntN(2) == 0 {
			w.Hflush()
		}
		victim.Close()
		if _, err := w.Write(data[cut:]); err != nil {
			t.Fatalf("seed %d round %d: write after the death of %s at %d: %v", seed, round, victim.XferAddr(), cut, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("seed %d round %d: close: %v", seed, round, err)
		}
		r, err := c.Open(ctx, "/r")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("seed %d round %d: read back after the death at %d: %v (%d of %d bytes)", seed, round, cut, err, len(got), len(data))
		}
	}
}
