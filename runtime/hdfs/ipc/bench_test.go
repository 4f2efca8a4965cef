package ipc

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// BenchmarkGetFileInfo runs getFileInfo over loopback against the in-memory
// Namesystem, one connection per parallel caller; allocations and CPU per
// call are the server's and the client's together.
//
//	go test ./runtime/hdfs/ipc -run '^$' -bench GetFileInfo -benchmem -cpu 2
func BenchmarkGetFileInfo(b *testing.B) {
	mem := webhdfstest.NewMem()
	mem.Mkdirs(context.Background(), "/a/b", 0o755, "alice")
	srv := NewServer(Options{Logf: b.Logf}, NamenodeProtocols(NamenodeOptions{Namesystem: mem})...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	req := &pb.GetFileInfoRequestProto{Src: proto.String("/a/b")}
	b.ReportAllocs()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb_ *testing.PB) {
		c, err := Dial(context.Background(), ln.Addr().String(), ClientOptions{User: "alice", Protocol: ProtocolClientNamenode})
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		var resp pb.GetFileInfoResponseProto
		for pb_.Next() {
			if err := c.Call(context.Background(), "getFileInfo", req, &resp); err != nil || resp.Fs == nil {
				b.Errorf("getFileInfo: %v", err)
				return
			}
		}
	})
}

// cpuTime is the process's user+system CPU time: unlike ns/op, other
// processes' load on the machine does not stretch it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
