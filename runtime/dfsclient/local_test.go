package dfsclient_test

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/datanode"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/dfsclient/dfstest"
	"github.com/hactl/hactl/runtime/hdfs"
)

// selfDN is a DataNode as the dfsclient.LocalDataNode of its own WebHDFS,
// counting what went through memory and files.
type selfDN struct {
	dn            *datanode.DataNode
	dials, locals atomic.Int32
}

func (s *selfDN) IsSelf(node hdfs.DatanodeInfo) bool { return s.dn.IsSelf(node) }
func (s *selfDN) DialSelf() (net.Conn, error) {
	s.dials.Add(1)
	return s.dn.DialSelf()
}
func (s *selfDN) OpenLocal(b hdfs.ExtendedBlock, off, n int64) (dfsclient.LocalReplica, bool) {
	r, ok := s.dn.OpenLocal(b, off, n)
	if !ok {
		return nil, false
	}
	s.locals.Add(1)
	return r, true
}

// TestLocalDataNode: a client running in a DataNode (its WebHDFS) writes
// through pipelines that start at that DataNode in memory and reads its
// replicas from their files, even when the NameNode lists it last; the
// bytes are right, a replica being written is read over the in-memory
// connection, and a corrupt local replica is reported by the DataNode and
// read from another.
func TestLocalDataNode(t *testing.T) {
	dns, infos, dp := realCluster(t, 3)
	self := &selfDN{dn: dns[0]}
	opts := dfsclient.Options{User: "alice", SocketTimeout: 5 * time.Second, Logf: t.Logf}
	ctx := context.Background()
	data := payload(5<<20 + 777)

	// The NameNode puts the local DataNode first (the writer's own, as
	// Hadoop's placement): the pipelines start there in memory.
	nn := dfstest.NewNNOn(infos, pool, 1<<20, 3)
	lopts := opts
	lopts.Local = self
	c := dfsclient.New(nn, lopts)
	writeAll(t, c, "/f", data)
	blocks := nn.File("/f").Blocks
	if self.dials.Load() < int32(len(blocks)) {
		t.Errorf("%d pipelines of %d blocks started in memory", self.dials.Load(), len(blocks))
	}
	for _, lb := range blocks {
		if r, ok := dns[0].Storage().Get(pool, lb.Block.ID); !ok || r.State != hdfs.ReplicaFinalized || r.NumBytes != lb.Block.NumBytes {
			t.Fatalf("%s on the local DataNode: %+v (present %v)", lb.Block, r, ok)
		}
	}
	// Read with the local DataNode listed last: its files are read all
	// the same.
	if got := readBack(t, dfsclient.New(localLast{nn}, lopts), "/f"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
	}
	if n := self.locals.Load(); n != int32(len(blocks)) {
		t.Errorf("%d of %d blocks read from the local files", n, len(blocks))
	}
	// A read from inside a block across the next block boundary.
	r, err := c.Open(ctx, "/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(1<<20-1000, 0); err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	if _, err := rest.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !bytes.Equal(rest.Bytes(), data[1<<20-1000:]) {
		t.Fatalf("read from offset %d returned wrong bytes", 1<<20-1000)
	}

	// An hflushed file being written: its last block is read over the
	// in-memory connection (the replica is not finalized).
	dials := self.dials.Load()
	w, err := c.Create(ctx, "/h", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:3000]); err != nil {
		t.Fatal(err)
	}
	if err := w.Hflush(); err != nil {
		t.Fatal(err)
	}
	if self.dials.Load() == dials {
		t.Errorf("the pipeline did not start at the local DataNode in memory")
	}
	dials, locals := self.dials.Load(), self.locals.Load()
	if got := readBack(t, c, "/h"); !bytes.Equal(got, data[:3000]) {
		t.Fatalf("read of an hflushed file: %d bytes, want 3000", len(got))
	}
	if self.dials.Load() == dials || self.locals.Load() != locals {
		t.Errorf("the replica being written was not read over the in-memory connection (dials %d → %d, local opens %d → %d)",
			dials, self.dials.Load(), locals, self.locals.Load())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// Corrupt the local replica of the first block: the read is still
	// right (from another DataNode) and the DataNode reports its replica.
	first := nn.File("/f").Blocks[0]
	flipByte(t, dns[0], first.Block.ID, 4096)
	if got := readBack(t, c, "/f"); !bytes.Equal(got, data) {
		t.Fatal("read with a corrupt local replica returned wrong data")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		dp.mu.Lock()
		reported := slices.ContainsFunc(dp.bad, func(lb hdfs.LocatedBlock) bool { return lb.Block.ID == first.Block.ID })
		dp.mu.Unlock()
		if reported {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the corrupt local replica was not reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// localLast lists every block's first location last.
type localLast struct{ hdfs.ClientProtocol }

func (l localLast) GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (hdfs.LocatedBlocks, error) {
	lbs, err := l.ClientProtocol.GetBlockLocations(ctx, path, offset, length, user)
	for i, b := range lbs.Blocks {
		if len(b.Locations) > 1 {
			lbs.Blocks[i].Locations = append(append([]hdfs.DatanodeInfo(nil), b.Locations[1:]...), b.Locations[0])
		}
	}
	return lbs, err
}
