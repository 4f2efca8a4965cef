package namenode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// countingBody counts what the handler reads of a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A CREATE body over the inline file limit is refused having read no more
// than the limit (by its Content-Length, without reading any), not buffered
// to 64 MiB first: the NameNode's WebHDFS handler is bounded by what it can
// store.
func TestOversizedBodyRefusedEarly(t *testing.T) {
	n := newFormatted(t, NewMemJournal(), newClock(), "nn1")[0]
	if err := n.TransitionToActive(context.Background()); err != nil {
		t.Fatal(err)
	}
	limit := n.cfg.MaxInline // 4096 in tests
	var read atomic.Int64
	wh := n.WebHDFSHandler(webhdfs.HandlerOptions{})
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{r.Body, &read}
		wh.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.4.60:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := n.StartHTTP(ln, counted)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/webhdfs/v1/big?op=CREATE&datanode=true&user.name=hdfs"

	// Chunked, so the size is unknown up front: 1 MiB streamed.
	pr, pw := io.Pipe()
	go func() {
		chunk := make([]byte, 32<<10)
		for range 32 {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPut, base, io.NopCloser(pr))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe)
	var re struct{ RemoteException webhdfs.RemoteException }
	_ = json.Unmarshal(body, &re)
	if resp.StatusCode != http.StatusForbidden || re.RemoteException.Exception != "IOException" ||
		!strings.Contains(re.RemoteException.Message, fmt.Sprintf("limit of %d bytes per request (%s)", limit, KeyMaxInline)) {
		t.Fatalf("chunked oversized CREATE: %d %s", resp.StatusCode, body)
	}
	if got := read.Load(); got > limit+1 {
		t.Errorf("the handler read %d bytes of a body over the %d-byte limit", got, limit)
	}

	// A declared length over the limit is refused before any is read.
	read.Store(0)
	req, _ = http.NewRequest(http.MethodPut, base, strings.NewReader(strings.Repeat("x", int(limit)+1)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), KeyMaxInline) || read.Load() != 0 {
		t.Errorf("declared oversized CREATE: %d %s, %d bytes read", resp.StatusCode, body, read.Load())
	}
	if _, err := n.GetFileStatus(context.Background(), "/big", "hdfs"); err == nil {
		t.Error("an oversized file was stored")
	}
}

// The NameNode's HTTP server runs with its configured limits: a WebHDFS
// client trickling a CREATE body (slow loris) is cut off at the read
// deadline and told so with an IOException, not served for as long as it
// likes.
func TestSlowLorisCutOff(t *testing.T) {
	n := newFormatted(t, NewMemJournal(), newClock(), "nn1")[0]
	if err := n.TransitionToActive(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.cfg.HTTPLimits = httpserve.Limits{ReadTimeout: 300 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.4.61:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := n.StartHTTP(ln, n.WebHDFSHandler(webhdfs.HandlerOptions{}))
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /webhdfs/v1/slow?op=CREATE&datanode=true&user.name=hdfs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	}()
	answer := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c) // the answer, then the server closes
		answer <- string(b)
	}()
	select {
	case got := <-answer:
		if !strings.Contains(got, "403") || !strings.Contains(got, "read request body") {
			t.Errorf("trickled CREATE answered %q, want a 403 IOException about the body", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a client trickling its body was still being served after 10 s")
	}
	if _, err := n.GetFileStatus(context.Background(), "/slow", "hdfs"); err == nil {
		t.Error("the cut-off CREATE stored a file")
	}
}
