package ipc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// Defaults of the server's limits.
const (
	// DefaultMaxConnections bounds open connections (ipc.server.max.connections;
	// Hadoop's default 0 is unbounded, hactl bounds it).
	DefaultMaxConnections = 4096
	// DefaultIdleThreshold is ipc.client.idlethreshold: idle connections are
	// closed only while more than this many are open, as Hadoop's server.
	DefaultIdleThreshold = 4000
	// DefaultMaxIdleTime is twice ipc.client.connection.maxidletime (10 s), as
	// Hadoop's server derives it.
	DefaultMaxIdleTime = 20 * time.Second
	// DefaultHandshakeTimeout bounds the time from accept to a complete
	// connection header and context, so a silent peer cannot hold a slot.
	DefaultHandshakeTimeout = 20 * time.Second
	// DefaultMaxQueuedCalls is Hadoop's dfs.namenode.handler.count (10)
	// times ipc.server.handler.queue.size (100).
	DefaultMaxQueuedCalls = 1000
	// maxInflightPerConn bounds the calls one connection runs at once; more
	// wait in its read loop (back pressure on that client only).
	maxInflightPerConn = 256
)

// Call is what a handler knows about the call it serves.
type Call struct {
	User       string // the connection context's effective user
	Protocol   string
	Method     string
	ClientID   []byte
	CallID     int32
	RetryCount int32
	Remote     net.Addr
}

// Method is one RPC method of a protocol.
type Method struct {
	// Request returns an empty request message to decode into.
	Request func() proto.Message
	// Handle runs the call and returns the response message.
	Handle func(ctx context.Context, c *Call, req proto.Message) (proto.Message, error)
	// AtMostOnce calls (Hadoop's @AtMostOnce: create, delete, rename, …)
	// are answered from the retry cache when retried. Their handler's
	// context carries the call's ids (hdfs.WithRetryIDs), so the edit the
	// call logs names them.
	AtMostOnce bool
	// Recorded answers the retry of an AtMostOnce call this server did not
	// run: another NameNode did, and this one recorded it from the edit
	// (RetryCache.Record) with result. nil: such a retry runs again.
	Recorded func(ctx context.Context, c *Call, req proto.Message, result any) (proto.Message, error)
}

// Protocol is a named set of methods (the Java interface name a client sends
// as declaringClassProtocolName).
type Protocol struct {
	Name    string
	Methods map[string]Method
}

// Options configure a Server; zero fields take the defaults.
type Options struct {
	MaxDataLength    int // ipc.maximum.data.length
	MaxConnections   int // ipc.server.max.connections
	IdleThreshold    int // ipc.client.idlethreshold
	MaxIdleTime      time.Duration
	HandshakeTimeout time.Duration
	// MaxQueuedCalls bounds the calls the server runs or holds at once,
	// across connections (Hadoop: dfs.namenode.handler.count ×
	// ipc.server.handler.queue.size, 10 × 100); beyond it connections
	// are not read until one finishes.
	MaxQueuedCalls int
	// RetryCache, when set, answers retried AtMostOnce calls.
	RetryCache *RetryCache
	// RetryGate, when set, runs before the retry cache is consulted; its
	// error is the call's answer (a standby's StandbyException: as
	// Hadoop's, a NameNode answers a retry from its cache only when it
	// could run the call).
	RetryGate func() error
	Logf      func(format string, args ...any)
}

// Server serves Hadoop IPC connections.
type Server struct {
	opts      Options
	protocols map[string]map[string]Method

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	wg        sync.WaitGroup
	stopIdle  chan struct{}
	slots     chan struct{} // one per call run or held (MaxQueuedCalls)
	ctx       context.Context
	cancel    context.CancelFunc
}

// NewServer returns a server for protocols.
func NewServer(opts Options, protocols ...Protocol) *Server {
	if opts.MaxDataLength <= 0 {
		opts.MaxDataLength = DefaultMaxDataLength
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.IdleThreshold <= 0 {
		opts.IdleThreshold = DefaultIdleThreshold
	}
	if opts.MaxIdleTime <= 0 {
		opts.MaxIdleTime = DefaultMaxIdleTime
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.MaxQueuedCalls <= 0 {
		opts.MaxQueuedCalls = DefaultMaxQueuedCalls
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	s := &Server{opts: opts, protocols: map[string]map[string]Method{}, listeners: map[net.Listener]struct{}{},
		conns: map[*conn]struct{}{}, stopIdle: make(chan struct{}), slots: make(chan struct{}, opts.MaxQueuedCalls)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, p := range protocols {
		s.protocols[p.Name] = p.Methods
	}
	go s.idleScan()
	return s
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("ipc: accept: %w", err)
		}
		delay = 0
		c := &conn{srv: s, nc: nc, w: bufio.NewWriterSize(nc, 64<<10), work: make(chan job)}
		c.lastActive.Store(time.Now().UnixNano())
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.opts.MaxConnections {
			full := !s.closed
			s.mu.Unlock()
			if full {
				s.opts.Logf("ipc: refusing connection from %s: %d connections open (ipc.server.max.connections)", nc.RemoteAddr(), s.opts.MaxConnections)
			}
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// Close stops accepting, closes every connection and waits for running calls.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stopIdle)
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// Connections is the number of open connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// idleScan closes connections without a call in flight that were quiet for
// MaxIdleTime, while more than IdleThreshold are open (Hadoop's
// ConnectionManager.closeIdle): below it an idle client keeps its connection.
func (s *Server) idleScan() {
	t := time.NewTicker(max(s.opts.MaxIdleTime/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stopIdle:
			return
		case <-t.C:
		}
		s.mu.Lock()
		excess := len(s.conns) - s.opts.IdleThreshold
		cutoff := time.Now().Add(-s.opts.MaxIdleTime).UnixNano()
		for c := range s.conns {
			if excess <= 0 {
				break
			}
			if c.inflight.Load() == 0 && c.lastActive.Load() < cutoff {
				c.nc.Close()
				excess--
			}
		}
		s.mu.Unlock()
	}
}

type conn struct {
	srv        *Server
	nc         net.Conn
	wmu        sync.Mutex
	w          *bufio.Writer
	work       chan job // to idle workers
	workers    int      // started; read loop only
	inflight   atomic.Int32
	lastActive atomic.Int64 // unix ns

	user     string
	sasl     bool // the header asked for SASL and negotiation is not over
	haveCtx  bool
	calls    sync.WaitGroup
	fatalErr atomic.Bool
}

// fatalError ends a connection after telling the client why.
type fatalError struct {
	callID int32
	code   pb.RpcResponseHeaderProto_RpcErrorCodeProto
	class  string
	msg    string
}

func (e *fatalError) Error() string { return e.class + ": " + e.msg }

func fatal(callID int32, code pb.RpcResponseHeaderProto_RpcErrorCodeProto, class, format string, args ...any) *fatalError {
	return &fatalError{callID: callID, code: code, class: class, msg: fmt.Sprintf(format, args...)}
}

func (c *conn) serve() {
	defer c.srv.wg.Done()
	defer func() {
		close(c.work)
		c.calls.Wait()
		c.nc.Close()
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c.nc, 64<<10)
	c.nc.SetReadDeadline(time.Now().Add(c.srv.opts.HandshakeTimeout))
	if err := c.readHeader(r); err != nil {
		c.fail(err)
		return
	}
	for {
		frame, err := readFrame(r, c.srv.opts.MaxDataLength)
		if err != nil {
			var tooLong *frameTooLongError
			if errors.As(err, &tooLong) {
				c.fail(fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_UNKNOWN, ClassIOException, "%s. RPC came from %s", err, c.nc.RemoteAddr()))
			}
			return
		}
		c.lastActive.Store(time.Now().UnixNano())
		if err := c.process(frame); err != nil {
			c.fail(err)
			return
		}
	}
}

// fail answers a fatal error (when it is one) before the connection closes.
func (c *conn) fail(err error) {
	var fe *fatalError
	if !errors.As(err, &fe) {
		return
	}
	c.fatalErr.Store(true)
	c.srv.opts.Logf("ipc: closing connection from %s: %v", c.nc.RemoteAddr(), fe)
	h := &pb.RpcResponseHeaderProto{CallId: callIDField(fe.callID), Status: pb.RpcResponseHeaderProto_FATAL.Enum(),
		ServerIpcVersionNum: proto.Uint32(Version), ExceptionClassName: proto.String(fe.class), ErrorMsg: proto.String(fe.msg), ErrorDetail: fe.code.Enum()}
	c.send(h, nil)
}

var httpGet = []byte("GET ")

// httpOnIPCPort is Hadoop's answer to an HTTP request on an IPC port.
const httpOnIPCPort = "HTTP/1.1 404 Not Found\r\nContent-type: text/plain\r\n\r\n" +
	"It looks like you are making an HTTP request to a Hadoop IPC port. This is not the correct port for the web interface on this daemon.\r\n"

func (c *conn) readHeader(r *bufio.Reader) error {
	var h [7]byte
	if _, err := io.ReadFull(r, h[:4]); err != nil {
		return err
	}
	if bytes.Equal(h[:4], httpGet) {
		c.nc.Write([]byte(httpOnIPCPort))
		return errors.New("HTTP request on the IPC port")
	}
	if _, err := io.ReadFull(r, h[4:]); err != nil {
		return err
	}
	if !bytes.Equal(h[:4], connHeaderMagic) || h[4] != Version {
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_VERSION_MISMATCH, "org.apache.hadoop.ipc.RPC$VersionMismatch",
			"Server IPC version %d cannot communicate with client version %d", Version, h[4])
	}
	switch h[6] {
	case AuthNone:
	case AuthSASL:
		c.sasl = true
	default:
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, "org.apache.hadoop.ipc.IpcException", "Unknown auth protocol:%d", int8(h[6]))
	}
	return nil
}

func (c *conn) process(frame []byte) error {
	var rh pb.RpcRequestHeaderProto
	rest, err := decodeDelimited(frame, &rh)
	if err != nil {
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER, ClassServerException, "Invalid RpcRequestHeaderProto: %v", err)
	}
	callID := rh.GetCallId()
	if c.sasl {
		if callID != CallIDSASL {
			return fatal(callID, pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER, ClassServerException, "SASL negotiation expected (call id %d), got call id %d", CallIDSASL, callID)
		}
		return c.processSASL(rest)
	}
	switch {
	case callID == CallIDPing:
		return nil
	case callID == CallIDConnContext:
		return c.processContext(rest)
	case callID == CallIDSASL:
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, ClassAccessControl, "SASL negotiation after the connection switched to SIMPLE authentication")
	case callID < 0:
		return fatal(callID, pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER, ClassServerException, "Unknown out of band call #%d", callID)
	}
	if !c.haveCtx {
		return fatal(callID, pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER, ClassServerException, "Connection context not established")
	}
	if rh.GetRpcKind() != pb.RpcKindProto_RPC_PROTOCOL_BUFFER {
		return fatal(callID, pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER, ClassServerException, "Unknown rpc kind %v", rh.GetRpcKind())
	}
	if rh.GetRpcOp() == pb.RpcRequestHeaderProto_RPC_CLOSE_CONNECTION {
		return io.EOF
	}
	var req pb.RequestHeaderProto
	param, err := decodeDelimited(rest, &req)
	if err != nil {
		return fatal(callID, pb.RpcResponseHeaderProto_FATAL_DESERIALIZING_REQUEST, ClassServerException, "Error decoding the RequestHeaderProto of call #%d: %v", callID, err)
	}
	call := &Call{User: c.user, Protocol: req.GetDeclaringClassProtocolName(), Method: req.GetMethodName(),
		ClientID: rh.GetClientId(), CallID: callID, RetryCount: rh.GetRetryCount(), Remote: c.nc.RemoteAddr()}
	// The server-wide bound: with every slot taken this connection stops
	// reading until a call somewhere finishes (Hadoop's full call queue).
	c.srv.slots <- struct{}{}
	c.inflight.Add(1)
	c.dispatchJob(job{call, param})
	return nil
}

// job is one call waiting for a worker.
type job struct {
	call  *Call
	param []byte
}

// dispatchJob hands j to an idle worker of the connection, or starts one
// (at most maxInflightPerConn; beyond, the read loop waits for one). The
// workers live as long as the connection, so a client making one call at a
// time reuses one goroutine and its grown stack instead of a new goroutine
// per call.
func (c *conn) dispatchJob(j job) {
	select {
	case c.work <- j:
		return
	default:
	}
	if c.workers < maxInflightPerConn {
		c.workers++
		c.calls.Add(1)
		go c.worker(j)
		return
	}
	c.work <- j
}

func (c *conn) worker(j job) {
	defer c.calls.Done()
	for {
		c.run(j.call, j.param)
		c.lastActive.Store(time.Now().UnixNano())
		c.inflight.Add(-1)
		<-c.srv.slots
		var ok bool
		if j, ok = <-c.work; !ok {
			return
		}
	}
}

func (c *conn) processSASL(p []byte) error {
	var m pb.RpcSaslProto
	if _, err := decodeDelimited(p, &m); err != nil {
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, ClassAccessControl, "Malformed SASL message: %v", err)
	}
	switch m.GetState() {
	case pb.RpcSaslProto_NEGOTIATE:
		// A SIMPLE-only server answers the negotiation with SUCCESS, which
		// the client takes as "switch to simple" (Hadoop's Server).
		c.sasl = false
		return c.send(&pb.RpcResponseHeaderProto{CallId: callIDField(CallIDSASL), Status: pb.RpcResponseHeaderProto_SUCCESS.Enum(),
			ServerIpcVersionNum: proto.Uint32(Version)}, &pb.RpcSaslProto{State: pb.RpcSaslProto_SUCCESS.Enum()})
	case pb.RpcSaslProto_INITIATE:
		if len(m.GetAuths()) == 1 && m.GetAuths()[0].GetMethod() == "SIMPLE" {
			c.sasl = false
			return nil
		}
		method := "(none)"
		if len(m.GetAuths()) > 0 {
			method = m.GetAuths()[0].GetMethod()
		}
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, ClassAccessControl,
			"%s authentication is not enabled.  Available:[SIMPLE] (hactl's NameNode serves SIMPLE authentication only; Kerberos is not supported)", method)
	default:
		return fatal(CallIDAuthFailed, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, ClassAccessControl, "Client sent unsupported state %v", m.GetState())
	}
}

func (c *conn) processContext(p []byte) error {
	if c.haveCtx {
		return fatal(CallIDConnContext, pb.RpcResponseHeaderProto_FATAL_INVALID_RPC_HEADER, ClassServerException, "Connection context already processed")
	}
	var ctx pb.IpcConnectionContextProto
	if _, err := decodeDelimited(p, &ctx); err != nil {
		return fatal(CallIDConnContext, pb.RpcResponseHeaderProto_FATAL_DESERIALIZING_REQUEST, ClassServerException, "Connection context could not be decoded: %v", err)
	}
	ui := ctx.GetUserInfo()
	if ui.GetRealUser() != "" && ui.GetRealUser() != ui.GetEffectiveUser() {
		// A proxy user: Hadoop allows it only under hadoop.proxyuser.* rules,
		// which hactl does not implement.
		return fatal(CallIDConnContext, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, "org.apache.hadoop.security.authorize.AuthorizationException",
			"User: %s is not allowed to impersonate %s", ui.GetRealUser(), ui.GetEffectiveUser())
	}
	if ui.GetEffectiveUser() == "" {
		return fatal(CallIDConnContext, pb.RpcResponseHeaderProto_FATAL_UNAUTHORIZED, ClassAccessControl, "Connection context names no user")
	}
	c.user = ui.GetEffectiveUser()
	c.haveCtx = true
	c.nc.SetReadDeadline(time.Time{})
	return nil
}

// run executes a call and sends its answer.
func (c *conn) run(call *Call, param []byte) {
	h := &pb.RpcResponseHeaderProto{CallId: callIDField(call.CallID), ServerIpcVersionNum: proto.Uint32(Version),
		ClientId: call.ClientID, RetryCount: proto.Int32(call.RetryCount)}
	resp, err := c.dispatch(call, param)
	if err != nil {
		var fe *fatalError
		if errors.As(err, &fe) {
			c.fail(fe)
			c.nc.Close()
			return
		}
		class, msg := ExceptionClass(err)
		detail := pb.RpcResponseHeaderProto_ERROR_APPLICATION
		var ce *callError
		if errors.As(err, &ce) {
			detail = ce.code
		}
		h.Status = pb.RpcResponseHeaderProto_ERROR.Enum()
		h.ExceptionClassName, h.ErrorMsg, h.ErrorDetail = proto.String(class), proto.String(msg), detail.Enum()
		c.send(h, nil)
		return
	}
	h.Status = pb.RpcResponseHeaderProto_SUCCESS.Enum()
	c.sendRaw(h, resp)
}

// callError is an error of the RPC layer (no such protocol or method) with
// its error code.
type callError struct {
	code pb.RpcResponseHeaderProto_RpcErrorCodeProto
	*RemoteException
}

func (e *callError) Unwrap() error { return e.RemoteException }

// dispatch decodes and runs the call, through the retry cache when the
// method is AtMostOnce, and returns the marshalled response.
func (c *conn) dispatch(call *Call, param []byte) ([]byte, error) {
	methods, ok := c.srv.protocols[call.Protocol]
	if !ok {
		return nil, &callError{pb.RpcResponseHeaderProto_ERROR_NO_SUCH_PROTOCOL, &RemoteException{ClassNoSuchProtocol, "Unknown protocol: " + call.Protocol}}
	}
	m, ok := methods[call.Method]
	if !ok {
		return nil, &callError{pb.RpcResponseHeaderProto_ERROR_NO_SUCH_METHOD, &RemoteException{ClassNoSuchMethod, fmt.Sprintf("Unknown method %s called on %s protocol.", call.Method, call.Protocol)}}
	}
	req := m.Request()
	if _, err := decodeDelimited(param, req); err != nil {
		return nil, fatal(call.CallID, pb.RpcResponseHeaderProto_FATAL_DESERIALIZING_REQUEST, ClassServerException,
			"Error decoding the request of %s.%s: %v", call.Protocol, call.Method, err)
	}
	rc := c.srv.opts.RetryCache
	if !m.AtMostOnce || rc == nil || len(call.ClientID) == 0 {
		// Without a cache (dfs.namenode.enable.retrycache false) the
		// edits name no call either, as Hadoop's: they keep format 1.
		return c.invoke(c.srv.ctx, m.Handle, call, req)
	}
	ctx := hdfs.WithRetryIDs(c.srv.ctx, call.ClientID, call.CallID)
	if g := c.srv.opts.RetryGate; g != nil {
		if err := g(); err != nil {
			return nil, err
		}
	}
	for {
		e, prev := rc.begin(call.ClientID, call.CallID)
		if prev == nil {
			out, err := c.invoke(ctx, m.Handle, call, req)
			rc.finish(e, err == nil, out)
			return out, err
		}
		if !prev.recorded {
			return prev.payload, nil
		}
		if m.Recorded != nil {
			return c.invoke(ctx, func(ctx context.Context, call *Call, req proto.Message) (proto.Message, error) {
				return m.Recorded(ctx, call, req, prev.result)
			}, call, req)
		}
		// No way to answer from the record: forget it and run the call.
		rc.forget(prev)
	}
}

func (c *conn) invoke(ctx context.Context, h func(context.Context, *Call, proto.Message) (proto.Message, error), call *Call, req proto.Message) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.opts.Logf("ipc: %s.%s panicked: %v", call.Protocol, call.Method, r)
			err = fmt.Errorf("%s.%s failed on the server: %v", call.Protocol, call.Method, r)
		}
	}()
	resp, err := h(ctx, call, req)
	if err != nil {
		return nil, err
	}
	return appendFrameBody(resp)
}

// appendFrameBody is a response message, varint-delimited.
func appendFrameBody(m proto.Message) ([]byte, error) {
	b, err := appendFrame(nil, m)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b[4:], nil
}

// send writes a response packet of header and msg.
func (c *conn) send(h *pb.RpcResponseHeaderProto, msg proto.Message) error {
	var body []byte
	if msg != nil {
		var err error
		if body, err = appendFrameBody(msg); err != nil {
			return err
		}
	}
	return c.sendRaw(h, body)
}

// sendRaw writes a response packet of header and an already delimited body.
func (c *conn) sendRaw(h *pb.RpcResponseHeaderProto, body []byte) error {
	b, err := appendFrame(make([]byte, 0, 64+len(body)), h)
	if err != nil {
		return err
	}
	b = append(b, body...)
	putLen(b)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.MaxIdleTime))
	if _, err := c.w.Write(b); err != nil {
		c.nc.Close()
		return err
	}
	if err := c.w.Flush(); err != nil {
		c.nc.Close()
		return err
	}
	return nil
}

// callIDField is a call id as RpcResponseHeaderProto's uint32 carries it
// (negative ids wrap, as Java's int does on the wire).
func callIDField(id int32) *uint32 { v := uint32(id); return &v }
