package ipc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

const testProto = "org.example.TestProtocol"

// testServer serves testProto: "stat" answers the path's length from files
// (FileNotFound otherwise), "remove" (AtMostOnce) deletes it and counts runs.
type testServer struct {
	srv     *Server
	addr    string
	mu      sync.Mutex
	files   map[string]uint64
	removes atomic.Int32
	users   chan string
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	ts := &testServer{files: map[string]uint64{"/a": 3}, users: make(chan string, 100)}
	methods := map[string]Method{
		"stat": {Request: func() proto.Message { return &pb.GetFileInfoRequestProto{} },
			Handle: func(ctx context.Context, c *Call, req proto.Message) (proto.Message, error) {
				ts.users <- c.User
				src := req.(*pb.GetFileInfoRequestProto).GetSrc()
				ts.mu.Lock()
				n, ok := ts.files[src]
				ts.mu.Unlock()
				if !ok {
					return nil, fmt.Errorf("%w: %s", webhdfs.ErrNotFound, src)
				}
				return &pb.GetPreferredBlockSizeResponseProto{Bsize: proto.Uint64(n)}, nil
			}},
		"remove": {AtMostOnce: true, Request: func() proto.Message { return &pb.DeleteRequestProto{} },
			Handle: func(ctx context.Context, c *Call, req proto.Message) (proto.Message, error) {
				ts.removes.Add(1)
				src := req.(*pb.DeleteRequestProto).GetSrc()
				if src == "/standby" {
					return nil, webhdfs.StandbyError("WRITE")
				}
				ts.mu.Lock()
				_, ok := ts.files[src]
				delete(ts.files, src)
				ts.mu.Unlock()
				return &pb.DeleteResponseProto{Result: proto.Bool(ok)}, nil
			}},
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ts.srv = NewServer(opts, Protocol{Name: testProto, Methods: methods})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go ts.srv.Serve(ln)
	t.Cleanup(func() { ts.srv.Close() })
	return ts
}

func dial(t *testing.T, addr string, opts ClientOptions) *Client {
	t.Helper()
	if opts.Protocol == "" {
		opts.Protocol = testProto
	}
	if opts.User == "" {
		opts.User = "alice"
	}
	c, err := Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallAndErrors(t *testing.T) {
	for _, sasl := range []bool{false, true} {
		t.Run(fmt.Sprintf("sasl=%v", sasl), func(t *testing.T) {
			ts := newTestServer(t, Options{})
			c := dial(t, ts.addr, ClientOptions{SASL: sasl})
			var resp pb.GetPreferredBlockSizeResponseProto
			if err := c.Call(context.Background(), "stat", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.GetBsize() != 3 || <-ts.users != "alice" {
				t.Fatalf("stat /a = %d", resp.GetBsize())
			}
			err := c.Call(context.Background(), "stat", &pb.GetFileInfoRequestProto{Src: proto.String("/nope")}, &resp)
			var re *RemoteException
			if !errors.As(err, &re) || re.Class != "java.io.FileNotFoundException" || re.Message != "File does not exist: /nope" || !errors.Is(err, webhdfs.ErrNotFound) {
				t.Fatalf("stat /nope: %v", err)
			}
			err = c.Call(context.Background(), "remove", &pb.DeleteRequestProto{Src: proto.String("/standby"), Recursive: proto.Bool(false)}, &pb.DeleteResponseProto{})
			if !errors.As(err, &re) || re.Class != ClassStandby || re.Message != webhdfs.StandbyMessage("WRITE") || !errors.Is(err, webhdfs.ErrStandby) {
				t.Fatalf("remove /standby: %v", err)
			}
			err = c.Call(context.Background(), "nope", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &resp)
			if !errors.As(err, &re) || re.Class != ClassNoSuchMethod || re.Message != "Unknown method nope called on "+testProto+" protocol." {
				t.Fatalf("unknown method: %v", err)
			}
			// The connection survives application errors.
			if err := c.Ping(); err != nil {
				t.Fatal(err)
			}
			if err := c.Call(context.Background(), "stat", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &resp); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnknownProtocol(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := dial(t, ts.addr, ClientOptions{Protocol: "org.example.Other"})
	err := c.Call(context.Background(), "stat", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &pb.GetPreferredBlockSizeResponseProto{})
	var re *RemoteException
	if !errors.As(err, &re) || re.Class != ClassNoSuchProtocol {
		t.Fatalf("got %v", err)
	}
}

func TestRetryCacheAnswersRetriedCall(t *testing.T) {
	ts := newTestServer(t, Options{RetryCache: NewRetryCache(0, 0)})
	c := dial(t, ts.addr, ClientOptions{})
	ctx := context.Background()
	del := func(callID, retry int32, path string) (bool, error) {
		var resp pb.DeleteResponseProto
		err := c.CallRetry(ctx, callID, retry, "remove", &pb.DeleteRequestProto{Src: proto.String(path), Recursive: proto.Bool(false)}, &resp)
		return resp.GetResult(), err
	}
	if ok, err := del(7, 0, "/a"); !ok || err != nil {
		t.Fatalf("first delete: %v %v", ok, err)
	}
	// The retry (same client and call id) is answered, not run again: a
	// second run would answer false.
	if ok, err := del(7, 1, "/a"); !ok || err != nil || ts.removes.Load() != 1 {
		t.Fatalf("retried delete: %v %v, %d runs", ok, err, ts.removes.Load())
	}
	// Another call id runs.
	if ok, err := del(8, 0, "/a"); ok || err != nil || ts.removes.Load() != 2 {
		t.Fatalf("new delete: %v %v, %d runs", ok, err, ts.removes.Load())
	}
	// A failed call is not remembered: its retry runs again.
	del(9, 0, "/standby")
	del(9, 1, "/standby")
	if ts.removes.Load() != 4 {
		t.Fatalf("failed call retried: %d runs, want 4", ts.removes.Load())
	}
	// Another client's call with the same id is not confused with ours.
	c2 := dial(t, ts.addr, ClientOptions{})
	var resp pb.DeleteResponseProto
	if err := c2.CallRetry(ctx, 7, 0, "remove", &pb.DeleteRequestProto{Src: proto.String("/a"), Recursive: proto.Bool(false)}, &resp); err != nil || resp.GetResult() || ts.removes.Load() != 5 {
		t.Fatalf("other client: %v %v, %d runs", resp.GetResult(), err, ts.removes.Load())
	}
}

func TestRetryCacheExpiry(t *testing.T) {
	rc := NewRetryCache(time.Minute, 2)
	now := time.Unix(1000, 0)
	rc.now = func() time.Time { return now }
	for i := range int32(3) {
		e, prev := rc.begin([]byte("c"), i)
		if prev != nil {
			t.Fatal("cached before run")
		}
		rc.finish(e, true, []byte{byte(i)})
	}
	if rc.Len() != 2 {
		t.Fatalf("bounded to 2, holds %d", rc.Len())
	}
	if _, prev := rc.begin([]byte("c"), 2); prev == nil || prev.payload[0] != 2 {
		t.Fatal("newest entry lost")
	}
	now = now.Add(2 * time.Minute)
	e, prev := rc.begin([]byte("c"), 2)
	if prev != nil {
		t.Fatal("expired entry answered")
	}
	rc.finish(e, true, nil)
	if rc.Len() != 1 {
		t.Fatalf("expired entries kept: %d", rc.Len())
	}
}

// A call recorded from another NameNode's edit is answered by the method's
// Recorded with what the edit gave, without running; it expires by the time
// its call ran; the gate (a standby) answers before the cache; the handler of
// a call it runs sees the call's ids.
func TestRetryCacheRecordedCall(t *testing.T) {
	rc := NewRetryCache(time.Minute, 0)
	var gate atomic.Pointer[error]
	var runs atomic.Int32
	var seenClient atomic.Value
	srv := NewServer(Options{RetryCache: rc, RetryGate: func() error {
		if p := gate.Load(); p != nil {
			return *p
		}
		return nil
	}, Logf: t.Logf}, Protocol{Name: "p", Methods: map[string]Method{
		"remove": {AtMostOnce: true, Request: func() proto.Message { return &pb.DeleteRequestProto{} },
			Handle: func(ctx context.Context, c *Call, req proto.Message) (proto.Message, error) {
				runs.Add(1)
				if id, call, ok := hdfs.RetryIDs(ctx); ok && call == c.CallID {
					seenClient.Store(string(id))
				}
				return &pb.DeleteResponseProto{Result: proto.Bool(false)}, nil
			},
			Recorded: func(ctx context.Context, c *Call, req proto.Message, result any) (proto.Message, error) {
				return &pb.DeleteResponseProto{Result: proto.Bool(result.(bool))}, nil
			}},
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	id := []byte("0123456789abcdef")
	c := dial(t, ln.Addr().String(), ClientOptions{Protocol: "p", ClientID: id})
	ctx := context.Background()
	del := func(callID int32) (bool, error) {
		var resp pb.DeleteResponseProto
		err := c.CallRetry(ctx, callID, 1, "remove", &pb.DeleteRequestProto{Src: proto.String("/a"), Recursive: proto.Bool(false)}, &resp)
		return resp.GetResult(), err
	}
	rc.Record(id, 5, time.Now(), true)
	rc.Record(id, 6, time.Now().Add(-2*time.Minute), true) // ran longer ago than the expiry
	if ok, err := del(5); !ok || err != nil || runs.Load() != 0 {
		t.Fatalf("recorded call: %v %v, %d runs", ok, err, runs.Load())
	}
	if ok, err := del(6); ok || err != nil || runs.Load() != 1 {
		t.Fatalf("expired record: %v %v, %d runs", ok, err, runs.Load())
	}
	if got, _ := seenClient.Load().(string); got != string(id) {
		t.Fatalf("handler saw client id %q", got)
	}
	// Recording a call known already changes nothing: call 6 ran here.
	rc.Record(id, 6, time.Now(), true)
	if ok, err := del(6); ok || err != nil || runs.Load() != 1 {
		t.Fatalf("call run here: %v %v, %d runs", ok, err, runs.Load())
	}
	standby := webhdfs.StandbyError("WRITE")
	gate.Store(&standby)
	if _, err := del(5); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("gated retry: %v", err)
	}
	// Without a cache the handler is told no ids, so no edit names the call.
	seenClient.Store("")
	plain := NewServer(Options{Logf: t.Logf}, Protocol{Name: "p", Methods: srv.protocols["p"]})
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go plain.Serve(ln2)
	t.Cleanup(func() { plain.Close() })
	c = dial(t, ln2.Addr().String(), ClientOptions{Protocol: "p", ClientID: id})
	if _, err := del(9); err != nil {
		t.Fatal(err)
	}
	if got, _ := seenClient.Load().(string); got != "" {
		t.Fatalf("handler without a retry cache saw client id %q", got)
	}
}

// rawConn speaks the protocol by hand, for what the client never sends.
func rawConn(t *testing.T, addr string, header []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(header); err != nil {
		t.Fatal(err)
	}
	return nc, bufio.NewReader(nc)
}

func readResponse(t *testing.T, r *bufio.Reader) (*pb.RpcResponseHeaderProto, []byte) {
	t.Helper()
	frame, err := readFrame(r, DefaultMaxDataLength)
	if err != nil {
		t.Fatal(err)
	}
	var h pb.RpcResponseHeaderProto
	rest, err := decodeDelimited(frame, &h)
	if err != nil {
		t.Fatal(err)
	}
	return &h, rest
}

func expectClosed(t *testing.T, r *bufio.Reader) {
	t.Helper()
	if _, err := r.ReadByte(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("connection not closed: %v", err)
	}
}

func TestKerberosRefused(t *testing.T) {
	ts := newTestServer(t, Options{})
	nc, r := rawConn(t, ts.addr, []byte{'h', 'r', 'p', 'c', Version, 0, AuthSASL})
	c := &Client{clientID: make([]byte, 16)}
	b, _ := appendFrame(nil, c.header(CallIDSASL, 0), &pb.RpcSaslProto{State: pb.RpcSaslProto_INITIATE.Enum(),
		Auths: []*pb.RpcSaslProto_SaslAuth{{Method: proto.String("KERBEROS"), Mechanism: proto.String("GSSAPI")}}})
	nc.Write(b)
	h, _ := readResponse(t, r)
	if h.GetStatus() != pb.RpcResponseHeaderProto_FATAL || h.GetErrorDetail() != pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED ||
		h.GetExceptionClassName() != ClassAccessControl || !strings.HasPrefix(h.GetErrorMsg(), "KERBEROS authentication is not enabled.  Available:[SIMPLE]") {
		t.Fatalf("got %v", h)
	}
	expectClosed(t, r)
}

func TestBadHeaders(t *testing.T) {
	ts := newTestServer(t, Options{MaxDataLength: 1024})
	t.Run("version", func(t *testing.T) {
		_, r := rawConn(t, ts.addr, []byte{'h', 'r', 'p', 'c', 7, 0, 0})
		h, _ := readResponse(t, r)
		if h.GetErrorDetail() != pb.RpcResponseHeaderProto_FATAL_VERSION_MISMATCH || h.GetErrorMsg() != "Server IPC version 9 cannot communicate with client version 7" {
			t.Fatalf("got %v", h)
		}
		expectClosed(t, r)
	})
	t.Run("http", func(t *testing.T) {
		_, r := rawConn(t, ts.addr, []byte("GET / HTTP/1.1\r\n\r\n"))
		b, _ := io.ReadAll(r)
		if !strings.Contains(string(b), "making an HTTP request to a Hadoop IPC port") {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("call before context", func(t *testing.T) {
		nc, r := rawConn(t, ts.addr, []byte{'h', 'r', 'p', 'c', Version, 0, 0})
		c := &Client{clientID: make([]byte, 16)}
		b, _ := appendFrame(nil, c.header(0, 0), &pb.RequestHeaderProto{MethodName: proto.String("stat"),
			DeclaringClassProtocolName: proto.String(testProto), ClientProtocolVersion: proto.Uint64(1)}, &pb.GetFileInfoRequestProto{Src: proto.String("/a")})
		nc.Write(b)
		h, _ := readResponse(t, r)
		if h.GetErrorDetail() != pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER || h.GetErrorMsg() != "Connection context not established" {
			t.Fatalf("got %v", h)
		}
		expectClosed(t, r)
	})
	t.Run("too long", func(t *testing.T) {
		nc, r := rawConn(t, ts.addr, []byte{'h', 'r', 'p', 'c', Version, 0, 0})
		nc.Write([]byte{0, 0, 8, 0}) // 2048 > 1024
		h, _ := readResponse(t, r)
		if h.GetStatus() != pb.RpcResponseHeaderProto_FATAL || !strings.Contains(h.GetErrorMsg(), "Requested data length 2048 is longer than maximum configured RPC length 1024") {
			t.Fatalf("got %v", h)
		}
		expectClosed(t, r)
	})
	t.Run("proxy user", func(t *testing.T) {
		nc, r := rawConn(t, ts.addr, []byte{'h', 'r', 'p', 'c', Version, 0, 0})
		c := &Client{clientID: make([]byte, 16)}
		b, _ := appendFrame(nil, c.header(CallIDConnContext, 0), &pb.IpcConnectionContextProto{
			UserInfo: &pb.UserInformationProto{EffectiveUser: proto.String("root"), RealUser: proto.String("alice")}, Protocol: proto.String(testProto)})
		nc.Write(b)
		h, _ := readResponse(t, r)
		if h.GetErrorDetail() != pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED || h.GetErrorMsg() != "User: alice is not allowed to impersonate root" {
			t.Fatalf("got %v", h)
		}
		expectClosed(t, r)
	})
}

func TestConnectionLimits(t *testing.T) {
	ts := newTestServer(t, Options{MaxConnections: 1, IdleThreshold: 1, MaxIdleTime: 50 * time.Millisecond, HandshakeTimeout: 100 * time.Millisecond})
	c := dial(t, ts.addr, ClientOptions{})
	if err := c.Call(context.Background(), "stat", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &pb.GetPreferredBlockSizeResponseProto{}); err != nil {
		t.Fatal(err)
	}
	// A second connection is refused while the first is open.
	_, r := rawConn(t, ts.addr, []byte{'h', 'r', 'p', 'c', Version, 0, 0})
	expectClosed(t, r)
	// At the threshold (1 open) the idle connection is kept.
	time.Sleep(200 * time.Millisecond)
	if err := c.Call(context.Background(), "stat", &pb.GetFileInfoRequestProto{Src: proto.String("/a")}, &pb.GetPreferredBlockSizeResponseProto{}); err != nil {
		t.Fatalf("idle connection at the threshold closed: %v", err)
	}
	c.Close()
	waitFor(t, func() bool { return ts.srv.Connections() == 0 })
	// A peer that never completes its handshake is dropped.
	_, r = rawConn(t, ts.addr, []byte{'h', 'r', 'p'})
	expectClosed(t, r)
}

func TestIdleConnectionsClosedAboveThreshold(t *testing.T) {
	ts := newTestServer(t, Options{IdleThreshold: 1, MaxIdleTime: 50 * time.Millisecond})
	a := dial(t, ts.addr, ClientOptions{})
	b := dial(t, ts.addr, ClientOptions{})
	_ = a
	_ = b
	waitFor(t, func() bool { return ts.srv.Connections() == 1 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExceptionClass(t *testing.T) {
	for _, tc := range []struct {
		err        error
		class, msg string
	}{
		{fmt.Errorf("%w: /x", webhdfs.ErrExists), "org.apache.hadoop.fs.FileAlreadyExistsException", "File already exists: /x"},
		{fmt.Errorf("%w: Offset=9", webhdfs.ErrIOException), ClassIOException, "Offset=9"},
		{errors.New("disk on fire"), ClassIOException, "disk on fire"},
		{webhdfs.IllegalArgumentError("create %s: no client name", "/f"), "java.lang.IllegalArgumentException", "create /f: no client name"},
		{&RemoteException{Class: "org.apache.hadoop.ha.ServiceFailedException", Message: "no"}, "org.apache.hadoop.ha.ServiceFailedException", "no"},
	} {
		class, msg := ExceptionClass(tc.err)
		if class != tc.class || msg != tc.msg {
			t.Errorf("%v: %s %q, want %s %q", tc.err, class, msg, tc.class, tc.msg)
		}
	}
}

// With MaxQueuedCalls taken, a call from another connection waits until
// one finishes instead of running (Hadoop's bounded call queue).
func TestMaxQueuedCalls(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 4)
	methods := map[string]Method{"block": {Request: func() proto.Message { return &pb.GetFileInfoRequestProto{} },
		Handle: func(ctx context.Context, c *Call, req proto.Message) (proto.Message, error) {
			started <- req.(*pb.GetFileInfoRequestProto).GetSrc()
			if req.(*pb.GetFileInfoRequestProto).GetSrc() == "/slow" {
				<-release
			}
			return &pb.GetFileInfoResponseProto{}, nil
		}}}
	srv := NewServer(Options{Logf: t.Logf, MaxQueuedCalls: 1}, Protocol{Name: testProto, Methods: methods})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	a, b := dial(t, ln.Addr().String(), ClientOptions{}), dial(t, ln.Addr().String(), ClientOptions{})
	slow := make(chan error, 1)
	go func() {
		slow <- a.Call(context.Background(), "block", &pb.GetFileInfoRequestProto{Src: proto.String("/slow")}, &pb.GetFileInfoResponseProto{})
	}()
	if got := <-started; got != "/slow" {
		t.Fatalf("first call %s", got)
	}
	fast := make(chan error, 1)
	go func() {
		fast <- b.Call(context.Background(), "block", &pb.GetFileInfoRequestProto{Src: proto.String("/fast")}, &pb.GetFileInfoResponseProto{})
	}()
	select {
	case got := <-started:
		t.Fatalf("%s ran while the only slot was taken", got)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if err := <-fast; err != nil || <-started != "/fast" {
		t.Fatalf("queued call: %v", err)
	}
}
