package httpserve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// This package's tests listen on 127.0.10.x.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.10.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func start(t *testing.T, h http.Handler, l Limits) string {
	t.Helper()
	ln := listen(t)
	srv := Start(ln, h, l, nil)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// within fails the test unless ch yields within d: the bound is a liveness
// check (a hang without the limit), generous against a loaded machine.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: nothing after %s", what, d)
	}
	var zero T
	return zero
}

// A client trickling its body (slow loris) is cut off at ReadTimeout.
func TestSlowBodyCutOff(t *testing.T) {
	got := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), Limits{ReadTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 50 ms: the whole body would take 50 s
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	}()
	err = within(t, got, 10*time.Second, "body read of a trickling client")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("body read: %v, want a timeout", err)
	}
}

// A client that never reads its answer is cut off at WriteTimeout.
func TestSlowReaderCutOff(t *testing.T) {
	got := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for range 256 { // far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				got <- err
				return
			}
		}
		got <- nil
	}), Limits{WriteTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := within(t, got, 10*time.Second, "response to a client that does not read"); err == nil {
		t.Fatal("256 MiB were written to a client that reads nothing")
	}
}

// A keep-alive connection left idle is closed at IdleTimeout.
func TestIdleConnectionClosed(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), Limits{IdleTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	closed := make(chan error, 1)
	go func() {
		_, err := br.ReadByte()
		closed <- err
	}()
	if err := within(t, closed, 10*time.Second, "idle keep-alive connection"); err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
}

// No more than MaxConns connections are served at once: the next is
// accepted only when one closes.
func TestConnectionLimit(t *testing.T) {
	var inHandler atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		entered <- struct{}{}
		<-release
	}), Limits{MaxConns: 2})
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr) // the third completes in the kernel's backlog
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		conns = append(conns, c)
	}
	within(t, entered, 10*time.Second, "first request")
	within(t, entered, 10*time.Second, "second request")
	select {
	case <-entered:
		t.Fatalf("a third request was served with MaxConns 2 (%d in the handler)", inHandler.Load())
	case <-time.After(300 * time.Millisecond):
	}
	conns[0].Close() // frees a slot once the server sees it closed
	close(release)
	within(t, entered, 10*time.Second, "third request after a connection closed")
}

// An authenticated bulk transfer lifts the deadlines with Unbounded.
func TestUnboundedLiftsDeadlines(t *testing.T) {
	got := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Unbounded(w)
		b, err := io.ReadAll(r.Body)
		if err == nil && len(b) != 10 {
			err = fmt.Errorf("read %d bytes", len(b))
		}
		got <- err
	}), Limits{ReadTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
	for range 10 { // 600 ms, three times the read timeout
		time.Sleep(60 * time.Millisecond)
		c.Write([]byte{'x'})
	}
	if err := within(t, got, 10*time.Second, "unbounded body read"); err != nil {
		t.Fatalf("body read after Unbounded: %v", err)
	}
}

func TestOrDefaults(t *testing.T) {
	l := Limits{ReadTimeout: time.Second, MaxConns: 7}.OrDefaults()
	want := Defaults
	want.ReadTimeout, want.MaxConns = time.Second, 7
	if l != want {
		t.Errorf("got %+v, want %+v", l, want)
	}
	if (Limits{}).OrDefaults() != Defaults {
		t.Error("zero limits are not the defaults")
	}
	srv := Server(nil, Defaults, nil)
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Errorf("server without a deadline: %+v", srv)
	}
}
