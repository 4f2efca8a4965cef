package namenode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// benchNameNode is an active NameNode over the in-memory journal holding
// /bench/d0 … /bench/d{dirs-1}, behind the daemon's HTTP handler.
func benchNameNode(b *testing.B, dirs int) (*NameNode, http.Handler) {
	b.Helper()
	j := NewMemJournal()
	n := newFormatted(b, j, newClock(), "nn1")[0]
	n.logf = func(string, ...any) {}
	ctx := context.Background()
	if err := n.TransitionToActive(ctx); err != nil {
		b.Fatal(err)
	}
	for i := range dirs {
		if err := n.Mkdirs(ctx, fmt.Sprintf("/bench/d%d", i), 0o755, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	return n, n.Handler(webhdfs.Handler(n, webhdfs.HandlerOptions{}))
}

// discardWriter is the least a ResponseWriter can be, so the benchmark
// counts the handler's own cost (routing, parameters, namespace, JSON).
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkGetFileStatusHandler: one GETFILESTATUS through the NameNode's
// HTTP handler (mux, WebHDFS handler, namespace, JSON), without net/http's
// connection handling:
//
//	go test ./runtime/namenode -run '^$' -bench GetFileStatusHandler -benchmem
//
// BenchmarkGetFileStatusHandler: superuser skips the permission checker,
// checked is an ordinary user whose every call goes through it.
func BenchmarkGetFileStatusHandler(b *testing.B) {
	for _, checked := range []bool{false, true} {
		name := "superuser"
		if checked {
			name = "checked"
		}
		b.Run(name, func(b *testing.B) {
			n, h := benchNameNode(b, 1000)
			n.groups.ttl = time.Hour // cached, as with the default hadoop.security.groups.cache.secs
			if checked {
				n.groups = &groupCache{resolve: func(string) ([]string, error) { return []string{"bench"}, nil },
					ttl: time.Hour, now: time.Now, logf: b.Logf}
			}
			reqs := make([]*http.Request, 64)
			for i := range reqs {
				r, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://nn:9870/webhdfs/v1/bench/d%d?op=GETFILESTATUS&user.name=bench", i*7), nil)
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = r
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				clear(w.h)
				h.ServeHTTP(w, reqs[i%len(reqs)])
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// processCPU is the process's user+system CPU time so far, in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkGetFileStatusTCP: GETFILESTATUS over real keep-alive TCP
// connections to the daemon's http.Server (one connection per parallel
// client, a minimal HTTP/1.1 client), so a CPU profile shows net/http's
// share too:
//
//	go test ./runtime/namenode -run '^$' -bench GetFileStatusTCP -benchmem -cpu 2 -cpuprofile /tmp/gfs.prof
func BenchmarkGetFileStatusTCP(b *testing.B) {
	_, h := benchNameNode(b, 1000)
	ln, err := net.Listen("tcp", "127.0.4.30:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	var worker atomic.Int64
	b.SetParallelism(32) // 64 clients with -cpu 2
	b.ReportAllocs()
	// CPU time per op (client and server, user and system) is steadier than
	// ns/op on a shared machine: other processes stretch wall time, not it.
	cpu0 := processCPU(b)
	defer func() { b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		var req []byte
		for i := 0; pb.Next(); i++ {
			req = fmt.Appendf(req[:0], "GET /webhdfs/v1/bench/d%d?op=GETFILESTATUS&user.name=bench HTTP/1.1\r\nHost: %s\r\n\r\n", (int(w)*31+i)%1000, addr)
			if _, err := conn.Write(req); err != nil {
				b.Error(err)
				return
			}
			length := -1
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					b.Error(err)
					return
				}
				if len(line) <= 2 {
					break
				}
				if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
					length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
				}
			}
			if length < 0 {
				b.Error("no Content-Length")
				return
			}
			if _, err := r.Discard(length); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateHandler: both steps of a CREATE of an empty file (the 307
// redirect, then the data step) through the NameNode's HTTP handler over
// the in-memory journal, without net/http's connection handling.
func BenchmarkCreateHandler(b *testing.B) {
	_, h := benchNameNode(b, 0)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for _, step := range []string{"", "&datanode=true"} {
			r, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://nn:9870/webhdfs/v1/bench/f%d?op=CREATE&user.name=bench%s", i, step), http.NoBody)
			if err != nil {
				b.Fatal(err)
			}
			clear(w.h)
			h.ServeHTTP(w, r)
			want := http.StatusCreated
			if step == "" {
				want = http.StatusTemporaryRedirect
			}
			if w.code != want {
				b.Fatalf("step %q: status %d", step, w.code)
			}
		}
	}
}
