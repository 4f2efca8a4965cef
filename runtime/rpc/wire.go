package rpc

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// Version is the wire protocol version sent in the handshake.
const Version = 1

// MaxFrame bounds one frame so a bad peer cannot make us allocate without limit.
const MaxFrame = 256 << 20

const macLabel = "hactl-qjm-v1"

var magic = [4]byte{'H', 'Q', 'J', Version}

// Handler serves one call; body is the request as made by Encode (decode it
// with Decode). The returned value is sent with Encode, an error as a WireError.
type Handler func(ctx context.Context, method string, body []byte) (any, error)

// Server accepts authenticated connections and serves calls on them in order.
type Server struct {
	Secret  []byte
	Handler Handler
	Log     *log.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	lns   []net.Listener
	done  bool
	wg    sync.WaitGroup
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// Serve accepts connections on ln until Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.lns = append(s.lns, ln)
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			done := s.done
			s.mu.Unlock()
			if done {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, closes every connection and waits for calls in progress.
func (s *Server) Close() error {
	s.mu.Lock()
	s.done = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func nonce() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return b
}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	peer := c.RemoteAddr().String()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	sn := nonce()
	if _, err := c.Write(append(magic[:], sn...)); err != nil {
		return
	}
	var hello [4 + 32 + 32]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil {
		s.logf("refused connection from %s: incomplete handshake: %v", peer, err)
		return
	}
	if [4]byte(hello[:4]) != magic {
		s.logf("refused connection from %s: not hactl journal protocol version %d", peer, Version)
		c.Write(append([]byte{1}, fmt.Sprintf("unsupported protocol (want version %d)", Version)...))
		return
	}
	cn := hello[4:36]
	want := auth.MAC(s.Secret, macLabel, "client", hex.EncodeToString(sn), hex.EncodeToString(cn))
	if !hmac.Equal(want, hello[36:]) {
		s.logf("refused connection from %s: %v (wrong cluster secret)", peer, auth.ErrUnauthenticated)
		c.Write(append([]byte{1}, "unauthenticated: wrong cluster secret"...))
		return
	}
	if _, err := c.Write(append([]byte{0}, auth.MAC(s.Secret, macLabel, "server", hex.EncodeToString(cn), hex.EncodeToString(sn))...)); err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 64<<10)
	ctx := context.Background()
	for {
		frame, err := readFrame(r)
		if err != nil {
			return
		}
		if len(frame) < 9 || len(frame) < 9+int(frame[8]) {
			s.logf("bad frame from %s", peer)
			return
		}
		id := frame[:8]
		method := string(frame[9 : 9+int(frame[8])])
		body := frame[9+int(frame[8]):]
		res, herr := s.Handler(ctx, method, body)
		status := byte(0)
		var out []byte
		if herr != nil {
			status = 1
			out, _ = json.Marshal(ToWire(herr))
		} else if out, err = Encode(res); err != nil {
			status = 1
			out, _ = json.Marshal(ToWire(fmt.Errorf("encode response: %w", err)))
		}
		var h [13]byte
		binary.BigEndian.PutUint32(h[:], uint32(9+len(out)))
		copy(h[4:], id)
		h[12] = status
		w.Write(h[:])
		w.Write(out)
		if err := w.Flush(); err != nil {
			return
		}
	}
}

func readFrame(r io.Reader) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > MaxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds the limit", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Client is one reused, authenticated connection to a server; calls on it
// are serialized, in the order they acquire it.
type Client struct {
	Addr   string
	Secret []byte
	Dial   func(ctx context.Context, addr string) (net.Conn, error) // net.Dialer when nil

	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	nextID uint64
	closed bool
}

// ErrClientClosed is returned by calls on a closed Client.
var ErrClientClosed = errors.New("rpc client closed")

// Close closes the connection; later calls fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	return nil
}

func (c *Client) connect(ctx context.Context) error {
	dial := c.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 15 * time.Second}
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	conn, err := dial(ctx, c.Addr)
	if err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	dl := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	conn.SetDeadline(dl)
	var hello [36]byte
	if _, err := io.ReadFull(conn, hello[:]); err != nil {
		conn.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	if [4]byte(hello[:4]) != magic {
		conn.Close()
		return fmt.Errorf("handshake: peer does not speak hactl journal protocol version %d", Version)
	}
	sn := hello[4:]
	cn := nonce()
	msg := append(append(magic[:], cn...), auth.MAC(c.Secret, macLabel, "client", hex.EncodeToString(sn), hex.EncodeToString(cn))...)
	if _, err := conn.Write(msg); err != nil {
		conn.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	st, err := r.ReadByte()
	if err != nil {
		conn.Close()
		return fmt.Errorf("handshake: %w (the server may have refused our cluster secret)", err)
	}
	if st != 0 {
		reason, _ := io.ReadAll(io.LimitReader(r, 512))
		conn.Close()
		return fmt.Errorf("%w: server refused: %s", ErrUnauthenticated, reason)
	}
	var mac [32]byte
	if _, err := io.ReadFull(r, mac[:]); err != nil {
		conn.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	if !hmac.Equal(mac[:], auth.MAC(c.Secret, macLabel, "server", hex.EncodeToString(cn), hex.EncodeToString(sn))) {
		conn.Close()
		return fmt.Errorf("%w: server cannot prove the cluster secret", ErrUnauthenticated)
	}
	conn.SetDeadline(time.Time{})
	c.conn, c.r = conn, r
	return nil
}

// Call sends method with req and decodes the response into resp (may be nil).
// A refusal by the server comes back as a *RemoteError.
func (c *Client) Call(ctx context.Context, method string, req, resp any) error {
	body, err := Encode(req)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", method, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClientClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.conn == nil {
		if err := c.connect(ctx); err != nil {
			return fmt.Errorf("connect %s: %w", c.Addr, err)
		}
	}
	conn := c.conn
	fail := func(err error) error {
		conn.Close()
		c.conn = nil
		if ctx.Err() != nil {
			return fmt.Errorf("%s to %s: %w", method, c.Addr, ctx.Err())
		}
		return fmt.Errorf("%s to %s: %w", method, c.Addr, err)
	}
	// A context cancelled mid-call closes the connection: the response, if it
	// ever comes, can no longer be matched to a caller.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	} else {
		conn.SetDeadline(time.Time{})
	}
	c.nextID++
	id := c.nextID
	frame := make([]byte, 0, 13+len(method)+len(body))
	frame = binary.BigEndian.AppendUint32(frame, uint32(9+len(method)+len(body)))
	frame = binary.BigEndian.AppendUint64(frame, id)
	frame = append(frame, byte(len(method)))
	frame = append(frame, method...)
	frame = append(frame, body...)
	if _, err := conn.Write(frame); err != nil {
		return fail(err)
	}
	res, err := readFrame(c.r)
	if err != nil {
		return fail(err)
	}
	if len(res) < 9 || binary.BigEndian.Uint64(res) != id {
		return fail(errors.New("response out of order"))
	}
	if res[8] != 0 {
		var we WireError
		if err := json.Unmarshal(res[9:], &we); err != nil {
			return fail(fmt.Errorf("decode error: %w", err))
		}
		return FromWire(we)
	}
	if resp != nil {
		if err := Decode(res[9:], resp); err != nil {
			return fmt.Errorf("%s to %s: decode: %w", method, c.Addr, err)
		}
	}
	return nil
}
