package datanode

import (
	"testing"

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
