package journal

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/httpserve"
)

// The JournalNode's HTTP server runs with httpserve's limits: here a
// keep-alive connection left idle is closed (net/http alone keeps it open
// for ever), and a second connection waits while MaxConns are open.
func TestDaemonHTTPLimits(t *testing.T) {
	d, err := Start(Config{
		EditsDir: t.TempDir(), RPCAddr: "127.0.10.2:0", HTTPAddr: "127.0.10.2:0", Secret: []byte("0123456789abcdef0123456789abcdef"),
		HTTPLimits: httpserve.Limits{IdleTimeout: 200 * time.Millisecond, MaxConns: 1},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := net.Dial("tcp", d.HTTPAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// While c holds the only slot, another client is not served.
	second := make(chan error, 1)
	go func() {
		cl := &http.Client{Timeout: 10 * time.Second}
		resp, err := cl.Get("http://" + d.HTTPAddr.String() + "/status")
		if err == nil {
			resp.Body.Close()
		}
		second <- err
	}()
	closed := make(chan error, 1)
	go func() {
		_, err := br.ReadByte()
		closed <- err
	}()
	select {
	case err := <-closed:
		if err != io.EOF {
			t.Fatalf("idle connection: %v, want EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an idle keep-alive connection was still open after 10 s")
	}
	select {
	case err := <-second:
		if err != nil {
			t.Fatalf("second client after the idle one was closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second client was not served after the slot freed")
	}
}
