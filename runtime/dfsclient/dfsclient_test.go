package dfsclient

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hactl/hactl/runtime/dfsclient/dfstest"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

type cluster struct {
	dns []*dfstest.DN
	nn  *dfstest.NN
	c   *Client
	log *logs
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, format)
	l.mu.Unlock()
}

func newCluster(t *testing.T, n int, blockSize int64, replication int) *cluster {
	t.Helper()
	var dns []*dfstest.DN
	for i := range n {
		dns = append(dns, dfstest.NewDN(t, i))
	}
	nn := dfstest.NewNN(dns, blockSize, replication)
	l := &logs{}
	c := New(nn, Options{User: "alice", SocketTimeout: 5 * time.Second, Logf: l.logf,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	return &cluster{dns: dns, nn: nn, c: c, log: l}
}

func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeAll writes data in uneven pieces, as a stream arrives.
func writeAll(t *testing.T, w *Writer, data []byte) {
	t.Helper()
	for off, i := 0, 0; off < len(data); i++ {
		n := min([]int{1, 511, 4096, 70001, 130000}[i%5], len(data)-off)
		if _, err := w.Write(data[off : off+n]); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		off += n
	}
}

func readAll(t *testing.T, c *Client, path string) []byte {
	t.Helper()
	r, err := c.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return got
}

// TestWriteReadRoundTrip: a file of several blocks lands on every replica
// byte for byte and reads back identical, whole and from an offset.
func TestWriteReadRoundTrip(t *testing.T) {
	cl := newCluster(t, 3, 1<<20, 3)
	data := randomData(1, 3<<20+12345)
	w, err := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := cl.nn.File("/f")
	if !f.Complete || len(f.Blocks) != 4 || f.Length() != int64(len(data)) {
		t.Fatalf("NameNode has %d blocks, %d bytes, complete %v", len(f.Blocks), f.Length(), f.Complete)
	}
	for i, lb := range f.Blocks {
		want := data[lb.Offset : lb.Offset+lb.Block.NumBytes]
		for _, d := range cl.dns {
			r := d.Replica(lb.Block.ID)
			if r == nil || !r.Finalized || !bytes.Equal(r.Data, want) {
				t.Errorf("block %d on %s: not the data written (finalized %v)", i, d.Info.UUID, r != nil && r.Finalized)
			}
		}
	}
	if got := readAll(t, cl.c, "/f"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
	}
	r, err := cl.c.Open(context.Background(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	off := int64(1<<20 - 100) // across a block boundary, not chunk-aligned
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 5000)
	if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, data[off:off+5000]) {
		t.Errorf("read at %d: %v, data equal %v", off, err, bytes.Equal(part, data[off:off+5000]))
	}
	// WriteTo (io.Copy) from the middle of a chunk to the end: the rest of
	// the file, across blocks, straight from the packets.
	off = 2<<20 - 777
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	if n, err := io.Copy(&rest, r); err != nil || !bytes.Equal(rest.Bytes(), data[off:]) {
		t.Errorf("WriteTo from %d: %d bytes, %v, data equal %v", off, n, err, bytes.Equal(rest.Bytes(), data[off:]))
	}
	if n, err := r.WriteTo(&rest); n != 0 || err != nil {
		t.Errorf("WriteTo at the end: %d bytes, %v", n, err)
	}
}

// TestReadFromStreamsIntoPackets: (*Writer).ReadFrom (io.Copy) of a
// source yielding odd-sized pieces writes the same file as Write, across
// blocks and an hflush's partial chunk; a source's error comes back as it
// is.
func TestReadFromStreamsIntoPackets(t *testing.T) {
	cl := newCluster(t, 3, 1<<20, 3)
	data := randomData(7, 2<<20+4321)
	w, err := cl.c.Create(context.Background(), "/rf", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(w, iotest.HalfReader(bytes.NewReader(data[:1000]))); n != 1000 || err != nil {
		t.Fatalf("ReadFrom: %d bytes, %v", n, err)
	}
	if err := w.Hflush(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.ReadFrom(iotest.HalfReader(bytes.NewReader(data[1000:]))); n != int64(len(data)-1000) || err != nil {
		t.Fatalf("ReadFrom: %d bytes, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, cl.c, "/rf"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
	}
	w, err = cl.c.Create(context.Background(), "/rf2", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	boom := errors.New("client went away")
	if n, err := w.ReadFrom(io.MultiReader(bytes.NewReader(data[:70000]), iotest.ErrReader(boom))); n != 70000 || err != boom {
		t.Fatalf("ReadFrom of a failing source: %d bytes, %v", n, err)
	}
}

// TestEmptyFile: closing without writing completes the file with no block.
func TestEmptyFile(t *testing.T) {
	cl := newCluster(t, 1, 1<<20, 1)
	w, err := cl.c.Create(context.Background(), "/e", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if f := cl.nn.File("/e"); !f.Complete || len(f.Blocks) != 0 {
		t.Errorf("empty file: complete %v, %d blocks", f.Complete, len(f.Blocks))
	}
	if got := readAll(t, cl.c, "/e"); len(got) != 0 {
		t.Errorf("read %d bytes of an empty file", len(got))
	}
}

// TestWriteSurvivesDatanodeDeath: a DataNode killed mid-block (the middle,
// the first, the last of the pipeline) is dropped, the block continues on
// the survivors under a new generation stamp, and every byte is there.
func TestWriteSurvivesDatanodeDeath(t *testing.T) {
	for _, victim := range []int{1, 0, 2} {
		cl := newCluster(t, 3, 1<<20, 3)
		cl.dns[victim].DieAfter(300 << 10)
		data := randomData(uint64(victim)+2, 2<<20+777)
		w, err := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, data)
		if err := w.Close(); err != nil {
			t.Fatalf("victim %d: close: %v", victim, err)
		}
		if cl.nn.Updates == 0 {
			t.Errorf("victim %d: no updatePipeline: the pipeline was not recovered", victim)
		}
		f := cl.nn.File("/f")
		for i, lb := range f.Blocks {
			for _, loc := range lb.Locations {
				if loc.UUID == cl.dns[victim].Info.UUID {
					t.Errorf("victim %d: block %d still located on the dead DataNode", victim, i)
				}
			}
			if len(lb.Locations) != 2 {
				t.Errorf("victim %d: block %d on %d DataNodes, want the 2 survivors", victim, i, len(lb.Locations))
			}
		}
		if got := readAll(t, cl.c, "/f"); !bytes.Equal(got, data) {
			t.Errorf("victim %d: read back %d bytes, not the %d written", victim, len(got), len(data))
		}
	}
}

// TestWriteFailsWhenEveryDatanodeDies: no replica left is an error from
// Write or Close, never a silent success.
func TestWriteFailsWhenEveryDatanodeDies(t *testing.T) {
	cl := newCluster(t, 1, 1<<20, 1)
	cl.dns[0].DieAfter(100 << 10)
	w, err := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write(randomData(3, 512<<10))
	cerr := w.Close()
	if werr == nil && cerr == nil {
		t.Fatal("write with its only DataNode dead succeeded")
	}
	if cl.nn.File("/f").Complete {
		t.Errorf("the file was completed")
	}
}

// TestReadCorruptReplica: a replica whose data no longer matches its CRCs
// is reported to the NameNode and the read continues from another replica
// with the right bytes.
func TestReadCorruptReplica(t *testing.T) {
	cl := newCluster(t, 3, 1<<20, 3)
	data := randomData(4, 1<<20+5000)
	w, _ := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	writeAll(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	first := cl.nn.File("/f").Blocks[0]
	cl.dns[0].Corrupt(first.Block.ID)
	if got := readAll(t, cl.c, "/f"); !bytes.Equal(got, data) {
		t.Fatalf("read with a corrupt replica returned wrong data")
	}
	if len(cl.nn.BadReports) != 1 || cl.nn.BadReports[0].Block.ID != first.Block.ID ||
		len(cl.nn.BadReports[0].Locations) != 1 || cl.nn.BadReports[0].Locations[0].UUID != cl.dns[0].Info.UUID {
		t.Errorf("bad block reports %+v, want block %d on %s", cl.nn.BadReports, first.Block.ID, cl.dns[0].Info.UUID)
	}
}

// TestReadDeadDatanode: a DataNode that is gone is skipped.
func TestReadDeadDatanode(t *testing.T) {
	cl := newCluster(t, 3, 1<<20, 3)
	data := randomData(5, 1<<20+1)
	w, _ := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	writeAll(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cl.dns[0].Kill()
	cl.dns[1].Kill()
	if got := readAll(t, cl.c, "/f"); !bytes.Equal(got, data) {
		t.Fatalf("read with two DataNodes dead returned wrong data")
	}
	cl.dns[2].Kill()
	r, err := cl.c.Open(context.Background(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err == nil {
		t.Errorf("read with every DataNode dead succeeded")
	}
}

// TestCompleteRetries: complete is repeated while the NameNode waits for
// the last block's replicas.
func TestCompleteRetries(t *testing.T) {
	cl := newCluster(t, 1, 1<<20, 1)
	cl.nn.NotYet = 2
	w, _ := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	w.Write([]byte("abc"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if cl.nn.Completes != 3 || !cl.nn.File("/f").Complete {
		t.Errorf("complete called %d times", cl.nn.Completes)
	}
	cl.nn.NotYet = 100
	w, _ = cl.c.Create(context.Background(), "/g", hdfs.CreateOptions{})
	if err := w.Close(); err == nil {
		t.Errorf("close succeeded though complete never did")
	}
}

// TestHflushAndAppend: hflushed bytes are readable while the file is open
// (the partial chunk sent again with the next packet), and an append
// continues the partial last block.
func TestHflushAndAppend(t *testing.T) {
	cl := newCluster(t, 2, 1<<20, 2)
	data := randomData(6, 300000)
	w, _ := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	w.Write(data[:1000])
	if err := w.Hflush(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, cl.c, "/f"); !bytes.Equal(got, data[:1000]) {
		t.Fatalf("after hflush a reader sees %d bytes, want the 1000 flushed", len(got))
	}
	w.Write(data[1000:200000])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := cl.c.Append(context.Background(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, a, data[200000:])
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, cl.c, "/f"); !bytes.Equal(got, data) {
		t.Fatalf("after append read %d bytes, want %d", len(got), len(data))
	}
	if n := len(cl.nn.File("/f").Blocks); n != 1 {
		t.Errorf("append made %d blocks, want the partial one continued", n)
	}
}

// TestLeaseRenewedWhileOpen: the lease is renewed while a writer is open
// and no longer once every writer closed.
func TestLeaseRenewedWhileOpen(t *testing.T) {
	cl := newCluster(t, 1, 1<<20, 1)
	cl.c.opts.LeaseRenewInterval = 5 * time.Millisecond
	w, _ := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		cl.nn.Mu.Lock()
		n := cl.nn.Renewals
		cl.nn.Mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lease never renewed while the file was open")
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
	cl.nn.Mu.Lock()
	after := cl.nn.Renewals
	cl.nn.Mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	cl.nn.Mu.Lock()
	defer cl.nn.Mu.Unlock()
	if cl.nn.Renewals > after+1 {
		t.Errorf("lease renewed %d times after close", cl.nn.Renewals-after)
	}
}

// TestFileChecksum: Hadoop's MD5-of-MD5-of-CRC32C over the blocks, and its
// fixed value for an empty file.
func TestFileChecksum(t *testing.T) {
	cl := newCluster(t, 2, 1<<20, 2)
	data := randomData(7, 2<<20+100)
	w, _ := cl.c.Create(context.Background(), "/f", hdfs.CreateOptions{})
	writeAll(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := cl.c.GetFileChecksum(context.Background(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	// By hand: each block's MD5 of its chunk CRCs, concatenated, padded
	// with zeros to Hadoop's buffer size (3 MD5s: 48 bytes in 64).
	var md5s []byte
	for off := 0; off < len(data); off += 1 << 20 {
		blk := data[off:min(off+1<<20, len(data))]
		var crcs []byte
		for p := 0; p < len(blk); p += 512 {
			crcs = binary.BigEndian.AppendUint32(crcs, crc32.Checksum(blk[p:min(p+512, len(blk))], crc32.MakeTable(crc32.Castagnoli)))
		}
		s := md5.Sum(crcs)
		md5s = append(md5s, s[:]...)
	}
	want := md5.Sum(append(md5s, make([]byte, 64-len(md5s))...))
	if got.MD5 != want || got.BytesPerCRC != 512 || got.CRCPerBlock != 2048 || got.Algorithm() != "MD5-of-2048MD5-of-512CRC32C" {
		t.Errorf("checksum %+v (%s), want md5 %x", got, got.Algorithm(), want)
	}
	if len(got.Bytes()) != 28 {
		t.Errorf("checksum bytes %d long, want 28", len(got.Bytes()))
	}
	// A one-block file sums as the NameNode sums an inline file.
	small := randomData(8, 300000)
	w, _ = cl.c.Create(context.Background(), "/small", hdfs.CreateOptions{})
	w.Write(small)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := cl.c.GetFileChecksum(context.Background(), "/small"); err != nil || got != webhdfs.InlineChecksum(small, 512) {
		t.Errorf("one-block checksum %+v (%v), want the inline sum %+v", got, err, webhdfs.InlineChecksum(small, 512))
	}
	w, _ = cl.c.Create(context.Background(), "/empty", hdfs.CreateOptions{})
	w.Close()
	empty, err := cl.c.GetFileChecksum(context.Background(), "/empty")
	if err != nil {
		t.Fatal(err)
	}
	// What Hadoop answers for any empty file.
	if hex.EncodeToString(empty.Bytes()) != "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51" || empty.Algorithm() != "MD5-of-0MD5-of-0CRC32" {
		t.Errorf("empty file checksum %s %x", empty.Algorithm(), empty.Bytes())
	}
}
