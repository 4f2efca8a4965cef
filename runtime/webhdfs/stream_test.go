package webhdfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// onceReader fails the test when read again after its end: a streamed body
// is never sent twice.
type onceReader struct {
	t    *testing.T
	r    io.Reader
	done bool
}

func (o *onceReader) Read(p []byte) (int, error) {
	if o.done {
		o.t.Error("the stream was read again after its end")
	}
	n, err := o.r.Read(p)
	if err == io.EOF {
		o.done = true
	}
	return n, err
}

// TestStreamedCreateAndOpen: CREATE streams its body to the redirect's
// Location (here the in-memory NameNode itself, as in inline mode), with a
// failover before the body was sent, and OPEN streams the file back.
func TestStreamedCreateAndOpen(t *testing.T) {
	nn1, nn2 := startNameNode(t), startNameNode(t)
	nn1.mem.SetStandby(true)
	c, err := webhdfs.NewClient("ns1", []string{nn1.addr, nn2.addr}, webhdfs.ClientOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 10000)
	if err := c.CreateFrom(ctx, "/f", &onceReader{t: t, r: bytes.NewReader(data)}, int64(len(data)), webhdfs.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendFrom(ctx, "/f", strings.NewReader("tail"), -1); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), data...), "tail"...)
	fr, err := c.OpenStream(ctx, "/f", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(fr)
	fr.Close()
	if err != nil || !bytes.Equal(got, want) || fr.Size != int64(len(want)) {
		t.Fatalf("OpenStream: %d bytes (Size %d), %v", len(got), fr.Size, err)
	}
	fr, err = c.OpenStream(ctx, "/f", 99990, 20)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(fr)
	fr.Close()
	if string(got) != "0123456789tail" {
		t.Errorf("OpenStream with offset and length: %q", got)
	}
	if _, err := c.OpenStream(ctx, "/nope", 0, -1); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Errorf("OpenStream of a missing file: %v", err)
	}
}

// TestStreamedCreateNotRepeatedOnceSent: a data step that fails after the
// body was sent is an error, never a CREATE repeated on another NameNode
// with a stream that is already consumed, even when the failure is one
// that fails over (the NameNode of an inline data step became standby).
func TestStreamedCreateNotRepeatedOnceSent(t *testing.T) {
	var firstSteps atomic.Int64
	dn := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"RemoteException":{"exception":"StandbyException","javaClassName":"org.apache.hadoop.ipc.StandbyException","message":"Operation category WRITE is not supported in state standby"}}`))
	}))
	nn := func() string {
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("op") != "CREATE" {
				w.Write([]byte(`{"FileStatus":{"type":"DIRECTORY"}}`)) // discovery: an active NameNode
				return
			}
			firstSteps.Add(1)
			w.Header().Set("Location", dn.URL+r.URL.Path+"?op=CREATE&namenoderpcaddress=ns1")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}))
		return strings.TrimPrefix(srv.URL, "http://")
	}
	c, _ := webhdfs.NewClient("ns1", []string{nn(), nn()}, webhdfs.ClientOptions{})
	data := bytes.Repeat([]byte("x"), 1<<20)
	err := c.CreateFrom(context.Background(), "/f", bytes.NewReader(data), int64(len(data)), webhdfs.CreateOptions{})
	if !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("a CREATE whose data step was refused: %v", err)
	}
	if n := firstSteps.Load(); n != 1 {
		t.Errorf("the CREATE was started %d times", n)
	}
}

// TestOpenStreamCutShort: a body that ends before its Content-Length is an
// error.
func TestOpenStreamCutShort(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(1000))
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	c, _ := webhdfs.NewClient("ns1", []string{strings.TrimPrefix(srv.URL, "http://")}, webhdfs.ClientOptions{})
	fr, err := c.OpenStream(context.Background(), "/f", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	if _, err := io.ReadAll(fr); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("body cut short: %v", err)
	}
}
