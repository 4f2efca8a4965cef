package ipc

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// Protocol names and versions hactl's NameNode serves.
const (
	ProtocolClientNamenode = "org.apache.hadoop.hdfs.protocol.ClientProtocol"
	ProtocolHAService      = "org.apache.hadoop.ha.HAServiceProtocol"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	User     string // the effective user the connection context names
	Protocol string // the protocol every call declares
	// SASL makes the client start with the SASL auth protocol and a
	// NEGOTIATE, as Hadoop's client does when it may use SASL.
	SASL        bool
	DialTimeout time.Duration
	// ClientID is the 16-byte id every call carries (nil: a random one).
	// Hadoop's DFSClient keeps one id across its connections and
	// failovers, so a call retried on another NameNode is known there.
	ClientID []byte
}

// Client is one Hadoop IPC connection; calls from many goroutines share it,
// each under its own call id, as Hadoop's Client multiplexes them.
type Client struct {
	opts     ClientOptions
	nc       net.Conn
	clientID []byte
	nextID   atomic.Int32

	wmu sync.Mutex
	w   *bufio.Writer

	mu      sync.Mutex
	pending map[int32]chan result
	err     error // set once the connection broke
}

type result struct {
	h    *pb.RpcResponseHeaderProto
	body []byte
}

// Dial connects to addr and sends the connection header and context.
func Dial(ctx context.Context, addr string, opts ClientOptions) (*Client, error) {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: opts.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Client{opts: opts, nc: nc, clientID: make([]byte, 16), pending: map[int32]chan result{}, w: bufio.NewWriter(nc)}
	if len(opts.ClientID) > 0 {
		c.clientID = append([]byte(nil), opts.ClientID...)
	} else {
		rand.Read(c.clientID)
	}
	r := bufio.NewReader(nc)
	if err := c.handshake(r); err != nil {
		nc.Close()
		return nil, fmt.Errorf("ipc handshake with %s: %w", addr, err)
	}
	go c.readLoop(r)
	return c, nil
}

// ClientID is the 16-byte id every call of this client carries.
func (c *Client) ClientID() []byte { return c.clientID }

func (c *Client) handshake(r *bufio.Reader) error {
	auth := byte(AuthNone)
	if c.opts.SASL {
		auth = AuthSASL
	}
	hdr := append(append([]byte{}, connHeaderMagic...), Version, 0, auth)
	if c.opts.SASL {
		b, err := appendFrame(hdr, c.header(CallIDSASL, 0), &pb.RpcSaslProto{State: pb.RpcSaslProto_NEGOTIATE.Enum()})
		if err != nil {
			return err
		}
		if _, err := c.nc.Write(b); err != nil {
			return err
		}
		c.nc.SetReadDeadline(time.Now().Add(c.opts.DialTimeout))
		frame, err := readFrame(r, DefaultMaxDataLength)
		if err != nil {
			return err
		}
		c.nc.SetReadDeadline(time.Time{})
		var h pb.RpcResponseHeaderProto
		rest, err := decodeDelimited(frame, &h)
		if err != nil {
			return err
		}
		if h.GetStatus() != pb.RpcResponseHeaderProto_SUCCESS {
			return &RemoteException{Class: h.GetExceptionClassName(), Message: h.GetErrorMsg()}
		}
		var m pb.RpcSaslProto
		if _, err := decodeDelimited(rest, &m); err != nil {
			return err
		}
		if m.GetState() != pb.RpcSaslProto_SUCCESS {
			return fmt.Errorf("server asks for SASL state %v; only SIMPLE authentication is supported", m.GetState())
		}
		hdr = nil
	}
	b, err := appendFrame(hdr, c.header(CallIDConnContext, 0), &pb.IpcConnectionContextProto{
		UserInfo: &pb.UserInformationProto{EffectiveUser: proto.String(c.opts.User)}, Protocol: proto.String(c.opts.Protocol)})
	if err != nil {
		return err
	}
	_, err = c.nc.Write(b)
	return err
}

func (c *Client) header(callID, retry int32) *pb.RpcRequestHeaderProto {
	return &pb.RpcRequestHeaderProto{RpcKind: pb.RpcKindProto_RPC_PROTOCOL_BUFFER.Enum(), RpcOp: pb.RpcRequestHeaderProto_RPC_FINAL_PACKET.Enum(),
		CallId: proto.Int32(callID), ClientId: c.clientID, RetryCount: proto.Int32(retry)}
}

func (c *Client) readLoop(r *bufio.Reader) {
	var err error
	for {
		var frame []byte
		if frame, err = readFrame(r, DefaultMaxDataLength); err != nil {
			break
		}
		h := &pb.RpcResponseHeaderProto{}
		var rest []byte
		if rest, err = decodeDelimited(frame, h); err != nil {
			break
		}
		if h.GetStatus() == pb.RpcResponseHeaderProto_FATAL {
			err = &RemoteException{Class: h.GetExceptionClassName(), Message: h.GetErrorMsg()}
			break
		}
		id := int32(h.GetCallId())
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- result{h, rest}
		}
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = fmt.Errorf("ipc connection to %s: %w", c.nc.RemoteAddr(), err)
	}
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.mu.Unlock()
	c.nc.Close()
}

// Call runs method with req and decodes the answer into resp. A server
// error comes back as a *RemoteException.
func (c *Client) Call(ctx context.Context, method string, req, resp proto.Message) error {
	return c.CallRetry(ctx, c.nextID.Add(1)-1, 0, method, req, resp)
}

// CallRetry sends a call under a given call id and retry count: a retry of
// an earlier call reuses its id so the server's retry cache recognizes it.
func (c *Client) CallRetry(ctx context.Context, callID, retry int32, method string, req, resp proto.Message) error {
	ch := make(chan result, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.pending[callID] = ch
	c.mu.Unlock()
	b, err := appendFrame(nil, c.header(callID, retry),
		&pb.RequestHeaderProto{MethodName: proto.String(method), DeclaringClassProtocolName: proto.String(c.opts.Protocol), ClientProtocolVersion: proto.Uint64(1)}, req)
	if err == nil {
		c.wmu.Lock()
		if _, err = c.w.Write(b); err == nil {
			err = c.w.Flush()
		}
		c.wmu.Unlock()
	}
	if err != nil {
		c.nc.Close()
		c.forget(callID)
		return fmt.Errorf("ipc call %s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.err
		}
		if r.h.GetStatus() != pb.RpcResponseHeaderProto_SUCCESS {
			return &RemoteException{Class: r.h.GetExceptionClassName(), Message: r.h.GetErrorMsg()}
		}
		if _, err := decodeDelimited(r.body, resp); err != nil {
			return fmt.Errorf("ipc call %s: decode response: %w", method, err)
		}
		return nil
	case <-ctx.Done():
		c.forget(callID)
		return ctx.Err()
	}
}

func (c *Client) forget(id int32) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Ping sends Hadoop's keep-alive ping (call id -4), which has no answer.
func (c *Client) Ping() error {
	b, err := appendFrame(nil, c.header(CallIDPing, 0))
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	return c.w.Flush()
}

// Close closes the connection; pending calls fail.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = errors.New("ipc client closed")
	}
	c.mu.Unlock()
	return c.nc.Close()
}
