package webhdfs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// dnCluster is a NameNode (the WebHDFS handler over an in-memory
// namespace) that redirects CREATE and OPEN to DataNodes in the order
// given, skipping those the request's excludedatanodes names, as a real
// NameNode does, and records every exclude list it was sent.
type dnCluster struct {
	mem      *webhdfstest.Mem
	nn       string
	dns      []string
	mu       sync.Mutex
	excludes []string
}

func startDNCluster(t *testing.T, dns ...string) *dnCluster {
	t.Helper()
	c := &dnCluster{mem: webhdfstest.NewMem(), dns: dns}
	h := webhdfs.Handler(c.mem, webhdfs.HandlerOptions{
		DataNode: func(ctx context.Context, op, path string, offset int64, user, clientHost string, exclude []string) (string, error) {
			c.mu.Lock()
			c.excludes = append(c.excludes, strings.Join(exclude, ","))
			c.mu.Unlock()
			for _, d := range c.dns {
				if !slices.Contains(exclude, d) {
					return d, nil
				}
			}
			return "", webhdfs.ErrIOException
		}})
	c.nn = strings.TrimPrefix(serve(t, h).URL, "http://")
	return c
}

func (c *dnCluster) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.excludes)
}

// dataNode serves the data step of OPEN and CREATE from mem; cutAfter > 0
// makes each OPEN answer promise the whole range but drop the connection
// after that many bytes (its host died mid-read).
func dataNode(t *testing.T, mem *webhdfstest.Mem, cutAfter int) string {
	t.Helper()
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		path := strings.TrimPrefix(r.URL.Path, webhdfs.PathPrefix)
		switch q.Get("op") {
		case "CREATE":
			data, _ := io.ReadAll(r.Body)
			if err := mem.Create(r.Context(), path, data, true, 0o644, 3, 1<<20, "alice"); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.WriteHeader(http.StatusCreated)
		case "OPEN":
			off, _ := strconv.ParseInt(q.Get("offset"), 10, 64)
			data, err := mem.Open(r.Context(), path, off, -1, "alice")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			if cutAfter <= 0 || cutAfter >= len(data) {
				w.Write(data)
				return
			}
			w.Write(data[:cutAfter])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}
	}))
	return strings.TrimPrefix(srv.URL, "http://")
}

// A DataNode the NameNode redirects to that cannot be reached (its host
// died, the NameNode has not declared it dead) is named in
// excludedatanodes and the NameNode asked again: the put and the read
// succeed on another DataNode.
func TestClientExcludesUnreachableDataNode(t *testing.T) {
	dead := deadAddr(t)
	c := startDNCluster(t, dead)
	live := dataNode(t, c.mem, 0)
	c.dns = append(c.dns, live)
	cl, err := webhdfs.NewClient("ns", []string{c.nn}, webhdfs.ClientOptions{User: "alice", Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := cl.CreateFrom(ctx, "/f", bytes.NewReader(data), int64(len(data)), webhdfs.CreateOptions{}); err != nil {
		t.Fatalf("put with the first DataNode dead: %v", err)
	}
	if got := c.sent(); !slices.Equal(got, []string{"", dead}) {
		t.Errorf("CREATE: the NameNode was sent excludedatanodes %q, want %q", got, []string{"", dead})
	}
	r, err := cl.OpenStream(ctx, "/f", 0, -1)
	if err != nil {
		t.Fatalf("open with the first DataNode dead: %v", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v; want the %d written", len(got), err, len(data))
	}
	if b, err := cl.Open(ctx, "/f", 10, -1); err != nil || !bytes.Equal(b, data[10:]) {
		t.Fatalf("Open: %d bytes, %v", len(b), err)
	}
}

// A read cut off mid-stream by its DataNode resumes at the offset already
// delivered from another DataNode, the first one excluded: the reader sees
// every byte once, in order.
func TestClientResumesReadCutOffByDataNode(t *testing.T) {
	c := startDNCluster(t)
	data := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 4000)
	if err := c.mem.Create(context.Background(), "/f", data, false, 0o644, 3, 1<<20, "alice"); err != nil {
		t.Fatal(err)
	}
	cut := dataNode(t, c.mem, 30000)
	whole := dataNode(t, c.mem, 0)
	c.dns = []string{cut, whole}
	cl, _ := webhdfs.NewClient("ns", []string{c.nn}, webhdfs.ClientOptions{User: "alice", Logf: t.Logf})
	r, err := cl.OpenStream(context.Background(), "/f", 100, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data[100:]) {
		t.Fatalf("read %d bytes, %v; want the %d from offset 100", len(got), err, len(data)-100)
	}
	if s := c.sent(); !slices.Equal(s, []string{"", cut}) {
		t.Errorf("the NameNode was sent excludedatanodes %q, want %q", s, []string{"", cut})
	}

	// Every DataNode cuts off: the reader gets an error, never a short
	// clean end.
	c.dns = []string{cut, dataNode(t, c.mem, 1000)}
	r, err = cl.OpenStream(context.Background(), "/f", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(r)
	r.Close()
	if err == nil {
		t.Fatalf("read %d of %d bytes with every DataNode failing, and no error", len(got), len(data))
	}
}
