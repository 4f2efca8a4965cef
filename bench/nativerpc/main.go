// Command nativerpc measures NameNode metadata throughput over Hadoop's
// native RPC next to the same operations over WebHDFS, in the same run and
// against the same NameNode: mkdirs, getFileInfo, and create+complete of an
// empty file (WebHDFS: MKDIRS, GETFILESTATUS, two-step CREATE), each at 1, 16
// and 64 concurrent clients. Every native client has its own connection
// (runtime/hdfs/ipc.Client); the WebHDFS clients share one keep-alive
// transport (runtime/webhdfs.Client, hactl fs's client). The protocols
// alternate per measurement and the table gives the median of -runs runs.
//
// By default it starts its own nameservice from a freshly built hactl binary
// (e2e/proccluster: 3 JournalNodes with fsync, 2 NameNodes, on 127.0.22.x —
// run it under the integration lock); -conf/-nn measure a running cluster.
//
//	flock -o /tmp/hactl-integration.lock go run ./bench/nativerpc [-runs 3] [-duration 3s] [-clients 1,16,64]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	osuser "os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/e2e/proccluster"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
	"github.com/hactl/hactl/runtime/webhdfs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nativerpc:", err)
		os.Exit(1)
	}
}

type target struct {
	rpcAddr, httpAddr string
	user              string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("nativerpc", flag.ContinueOnError)
	runs := fl.Int("runs", 3, "runs; the table gives each figure's median")
	duration := fl.Duration("duration", 3*time.Second, "measuring time per protocol, operation and concurrency")
	clientsFlag := fl.String("clients", "1,16,64", "concurrency levels")
	opsFlag := fl.String("ops", "getFileInfo,mkdirs,create", "operations")
	rpcAddr := fl.String("rpc", "", "the active NameNode's rpc-address (with -http: measure a running cluster)")
	httpAddr := fl.String("http", "", "the active NameNode's http-address")
	bin := fl.String("bin", "", "hactl binary for the cluster it starts (default: go build ./cmd/hactl)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var levels []int
	for _, s := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients: bad level %q", s)
		}
		levels = append(levels, n)
	}
	ops := strings.Split(*opsFlag, ",")
	for _, op := range ops {
		if !slices.Contains([]string{"getFileInfo", "mkdirs", "create"}, op) {
			return fmt.Errorf("-ops: unknown operation %q", op)
		}
	}
	u, err := osuser.Current()
	if err != nil {
		return err
	}
	tg := target{rpcAddr: *rpcAddr, httpAddr: *httpAddr, user: u.Username}
	if tg.rpcAddr == "" || tg.httpAddr == "" {
		dir, err := os.MkdirTemp("", "hactl-nativerpc-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if *bin == "" {
			fmt.Fprintln(out, "building hactl …")
			if *bin, err = proccluster.Build(".", dir); err != nil {
				return err
			}
		}
		c, err := proccluster.Start(ctx, proccluster.Options{Bin: *bin, Dir: filepath.Join(dir, "cluster"), IPPrefix: "127.0.22."})
		if err != nil {
			return err
		}
		defer c.Close()
		tg.rpcAddr, tg.httpAddr = c.RPC["nn1"], c.HTTP["nn1"]
		fmt.Fprintf(out, "cluster: 3 JournalNodes (fsync on), NameNodes nn1 (active, rpc %s, http %s) and nn2 (standby, tailing)\n", tg.rpcAddr, tg.httpAddr)
	}
	wc, err := webhdfs.NewClient("bench", []string{tg.httpAddr}, webhdfs.ClientOptions{User: tg.user})
	if err != nil {
		return err
	}
	if _, err := wc.Mkdirs(ctx, "/bench/stat", 0o755); err != nil {
		return err
	}
	if err := wc.Create(ctx, "/bench/stat/file", nil, webhdfs.CreateOptions{Overwrite: true}); err != nil {
		return err
	}
	type key struct {
		op, proto string
		clients   int
	}
	figures := map[key][]float64{}
	for r := 1; r <= *runs; r++ {
		for _, op := range ops {
			for _, n := range levels {
				for _, p := range []string{"native", "webhdfs"} {
					if r%2 == 0 { // alternate which protocol goes first
						p = map[string]string{"native": "webhdfs", "webhdfs": "native"}[p]
					}
					prefix := fmt.Sprintf("/bench/r%d/%s/%s/c%d", r, p, op, n)
					var rate float64
					if p == "native" {
						rate, err = measureNative(ctx, tg, op, prefix, n, *duration)
					} else {
						rate, err = measureWebHDFS(ctx, wc, op, prefix, n, *duration)
					}
					if err != nil {
						return fmt.Errorf("run %d, %s %s at %d clients: %w", r, p, op, n, err)
					}
					figures[key{op, p, n}] = append(figures[key{op, p, n}], rate)
					fmt.Fprintf(out, "run %d  %-12s %-8s %3d clients  %9.0f ops/s\n", r, op, p, n, rate)
				}
			}
		}
	}
	fmt.Fprintf(out, "\nmedian of %d runs, %v each (ops/s)\n", *runs, *duration)
	fmt.Fprintf(out, "%-12s %8s %12s %12s %8s\n", "operation", "clients", "native RPC", "WebHDFS", "ratio")
	for _, op := range ops {
		for _, n := range levels {
			nat, web := median(figures[key{op, "native", n}]), median(figures[key{op, "webhdfs", n}])
			fmt.Fprintf(out, "%-12s %8d %12.0f %12.0f %7.2fx\n", op, n, nat, web, nat/web)
		}
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// drive runs n workers calling do(worker, i) until d passed and returns
// completed calls per second; the first error stops the measurement.
func drive(ctx context.Context, n int, d time.Duration, do func(ctx context.Context, w, i int) error) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				if err := do(ctx, w, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

func measureNative(ctx context.Context, tg target, op, prefix string, n int, d time.Duration) (float64, error) {
	clients := make([]*ipc.Client, n)
	for w := range clients {
		c, err := ipc.Dial(ctx, tg.rpcAddr, ipc.ClientOptions{User: tg.user, Protocol: ipc.ProtocolClientNamenode})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		clients[w] = c
	}
	perm := &pb.FsPermissionProto{Perm: proto.Uint32(0o755)}
	if op == "create" {
		for w := range clients {
			if err := clients[w].Call(ctx, "mkdirs", &pb.MkdirsRequestProto{Src: proto.String(fmt.Sprintf("%s/w%d", prefix, w)), Masked: perm, CreateParent: proto.Bool(true)}, &pb.MkdirsResponseProto{}); err != nil {
				return 0, err
			}
		}
	}
	return drive(ctx, n, d, func(ctx context.Context, w, i int) error {
		c := clients[w]
		switch op {
		case "getFileInfo":
			var resp pb.GetFileInfoResponseProto
			if err := c.Call(ctx, "getFileInfo", &pb.GetFileInfoRequestProto{Src: proto.String("/bench/stat/file")}, &resp); err != nil {
				return err
			}
			if resp.Fs == nil {
				return errors.New("getFileInfo: /bench/stat/file missing")
			}
			return nil
		case "mkdirs":
			return c.Call(ctx, "mkdirs", &pb.MkdirsRequestProto{Src: proto.String(fmt.Sprintf("%s/w%d/d%d", prefix, w, i)), Masked: perm, CreateParent: proto.Bool(true)}, &pb.MkdirsResponseProto{})
		}
		p := fmt.Sprintf("%s/w%d/f%d", prefix, w, i)
		name := fmt.Sprintf("bench-client-%d", w)
		if err := c.Call(ctx, "create", &pb.CreateRequestProto{Src: proto.String(p), Masked: &pb.FsPermissionProto{Perm: proto.Uint32(0o644)},
			ClientName: proto.String(name), CreateFlag: proto.Uint32(uint32(pb.CreateFlagProto_CREATE)), CreateParent: proto.Bool(false),
			Replication: proto.Uint32(1), BlockSize: proto.Uint64(128 << 20)}, &pb.CreateResponseProto{}); err != nil {
			return err
		}
		var done pb.CompleteResponseProto
		if err := c.Call(ctx, "complete", &pb.CompleteRequestProto{Src: proto.String(p), ClientName: proto.String(name)}, &done); err != nil {
			return err
		}
		if !done.GetResult() {
			return fmt.Errorf("complete %s: false", p)
		}
		return nil
	})
}

func measureWebHDFS(ctx context.Context, wc *webhdfs.Client, op, prefix string, n int, d time.Duration) (float64, error) {
	if op == "create" {
		for w := range n {
			if _, err := wc.Mkdirs(ctx, fmt.Sprintf("%s/w%d", prefix, w), 0o755); err != nil {
				return 0, err
			}
		}
	}
	return drive(ctx, n, d, func(ctx context.Context, w, i int) error {
		switch op {
		case "getFileInfo":
			_, err := wc.GetFileStatus(ctx, "/bench/stat/file")
			return err
		case "mkdirs":
			_, err := wc.Mkdirs(ctx, fmt.Sprintf("%s/w%d/d%d", prefix, w, i), 0o755)
			return err
		}
		return wc.Create(ctx, fmt.Sprintf("%s/w%d/f%d", prefix, w, i), nil, webhdfs.CreateOptions{Replication: 1})
	})
}
