package datanode

import (
	"context"
	"io"
	"os"

	"testing"

	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
)

// BenchmarkPipelineWrite writes 16 MiB blocks through a pipeline of three
// in-process DataNodes (one disk for all three, so each byte is written
// three times): go test -run - -bench PipelineWrite ./runtime/datanode
func BenchmarkPipelineWrite(b *testing.B) {
	_, dns := startCluster(b, 3)
	data := pattern(16 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		blk := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: int64(100000 + i), GenStamp: 1001}}
		if err := clientWriteStage(b, blk, stageCreate, 1001, data, 0, true, dns...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads a 16 MiB block from one DataNode.
func BenchmarkRead(b *testing.B) {
	_, dns := startCluster(b, 1)
	data := pattern(16 << 20)
	blk := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 200000, GenStamp: 1001}}
	if err := clientWriteStage(b, blk, stageCreate, 1001, data, 0, true, dns...); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := clientRead(blk, 0, int64(len(data)), dns[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDFSClientWrite writes a 64 MiB file of 16 MiB blocks with
// hactl's DFSClient through three in-process DataNodes in 64 KiB writes
// (dnweb's copy size): the client's packetizing and checksums plus the
// pipeline, which is what a WebHDFS CREATE runs inside the DataNode.
func BenchmarkDFSClientWrite(b *testing.B) {
	_, dns := startCluster(b, 3)
	nn := &clientNN{dns: dns, files: map[string][]hdfs.LocatedBlock{}}
	c := dfsclient.New(nn, dfsclient.Options{User: "bench", NoReplaceDatanode: true})
	data := pattern(64 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := c.Create(context.Background(), "/bench", hdfs.CreateOptions{BlockSize: 16 << 20, Replication: 3})
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(data); off += 64 << 10 {
			if _, err := w.Write(data[off : off+64<<10]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDFSClientRead reads a 64 MiB file back with the DFSClient as a
// WebHDFS OPEN does inside the DataNode: through (*Reader).WriteTo, or in
// 64 KiB reads with HACTL_BENCH_READ=copy (the way before WriteTo).
func BenchmarkDFSClientRead(b *testing.B) {
	_, dns := startCluster(b, 1)
	nn := &clientNN{dns: dns, files: map[string][]hdfs.LocatedBlock{}}
	c := dfsclient.New(nn, dfsclient.Options{User: "bench", NoReplaceDatanode: true})
	ctx := context.Background()
	data := pattern(64 << 20)
	w, err := c.Create(ctx, "/bench", hdfs.CreateOptions{BlockSize: 16 << 20, Replication: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := c.Open(ctx, "/bench")
		if err != nil {
			b.Fatal(err)
		}
		n, err := readOut(r, buf)
		r.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("read %d of %d bytes: %v", n, len(data), err)
		}
	}
}

func readOut(r *dfsclient.Reader, buf []byte) (int64, error) {
	if os.Getenv("HACTL_BENCH_READ") == "copy" {
		return io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
	}
	return r.WriteTo(io.Discard)
}
