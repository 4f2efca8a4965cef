package rpc

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// Version is the wire protocol version this side speaks (see doc.go):
// version 2 authenticates every frame; version 1 only the handshake.
const Version = 2

// MaxFrame bounds one frame's payload so a bad peer cannot make us allocate
// without limit.
const MaxFrame = 256 << 20

const (
	macLabelV1 = "hactl-qjm-v1"
	macLabelV2 = "hactl-qjm-v2"
)

// AcceptV1Key is the configuration key that lets a JournalNode accept, and a
// NameNode fall back to, protocol version 1: only for the window of a
// rolling upgrade from a version that speaks nothing else (README, Upgrade).
const AcceptV1Key = "hactl.journal.rpc.accept-v1"

func magic(v byte) [4]byte { return [4]byte{'H', 'Q', 'J', v} }

func macLabel(v byte) string {
	if v == 1 {
		return macLabelV1
	}
	return macLabelV2
}

// errUnsupported marks a server's refusal of the offered version.
const errUnsupported = "unsupported protocol"

// Handler serves one call; body is the request as made by Encode (decode it
// with Decode). The returned value is sent with Encode, an error as a WireError.
type Handler func(ctx context.Context, method string, body []byte) (any, error)

// Server accepts authenticated connections and serves calls on them in order.
type Server struct {
	Secret  []byte
	Handler Handler
	Log     *log.Logger
	// AcceptV1 also serves version 1 clients, whose frames carry no MAC.
	AcceptV1 bool

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
	// The greeting names the lowest version this server accepts: a version
	// 1 client refuses anything but 1 with a clear message.
	lowest := byte(Version)
	if s.AcceptV1 {
		lowest = 1
	}
	m := magic(lowest)
	if _, err := c.Write(append(m[:], sn...)); err != nil {
		return
	}
	var hello [4 + 32 + 32]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil {
		s.logf("refused connection from %s: incomplete handshake: %v", peer, err)
		return
	}
	v := hello[3]
	if string(hello[:3]) != "HQJ" || v > Version || v < lowest {
		s.logf("refused connection from %s: not hactl journal protocol version %d..%d", peer, lowest, Version)
		msg := fmt.Sprintf("%s (want version %d", errUnsupported, Version)
		if lowest == 1 {
			msg += " or 1"
		}
		msg += "; a JournalNode accepts version 1 only with " + AcceptV1Key + "=true)"
		c.Write(append([]byte{1}, msg...))
		return
	}
	cn := hello[4:36]
	want := auth.MAC(s.Secret, macLabel(v), "client", hex.EncodeToString(sn), hex.EncodeToString(cn))
	if !hmac.Equal(want, hello[36:]) {
		s.logf("refused connection from %s: %v (wrong cluster secret)", peer, auth.ErrUnauthenticated)
		c.Write(append([]byte{1}, "unauthenticated: wrong cluster secret"...))
		return
	}
	if _, err := c.Write(append([]byte{0}, auth.MAC(s.Secret, macLabel(v), "server", hex.EncodeToString(cn), hex.EncodeToString(sn))...)); err != nil {
		return
	}
	f := newFramer(nil, nil)
	if v >= 2 {
		c2s, s2c := sessionKeys(s.Secret, sn, cn)
		f = newFramer(s2c, c2s)
	} else {
		s.logf("connection from %s speaks protocol version 1: its frames are not authenticated (%s)", peer, AcceptV1Key)
	}
	c.SetDeadline(time.Time{})
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 64<<10)
	ctx := context.Background()
	for {
		frame, err := f.readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.logf("closed connection from %s: %v", peer, err)
			}
			return
		}
		req, err := parseRequest(frame)
		if err != nil {
			s.logf("closed connection from %s: %v", peer, err)
			return
		}
		res, herr := s.Handler(ctx, req.method, req.body)
		status := byte(0)
		var out []byte
		if herr != nil {
			status = 1
			out, _ = json.Marshal(ToWire(herr))
		} else if out, err = Encode(res); err != nil {
			status = 1
			out, _ = json.Marshal(ToWire(fmt.Errorf("encode response: %w", err)))
		}
		if err := f.writeFrame(w, responseHeader(req.id, status), out); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// Client is one reused, authenticated connection to a server; calls on it
// are serialized, in the order they acquire it.
type Client struct {
	Addr   string
	Secret []byte
	Dial   func(ctx context.Context, addr string) (net.Conn, error) // net.Dialer when nil
	// AcceptV1 falls back to version 1 (frames without MAC) with a server
	// that speaks nothing newer.
	AcceptV1 bool

	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	f      *framer
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
	err := c.handshake(ctx, Version)
	var old *oldServerError
	if errors.As(err, &old) {
		if !c.AcceptV1 {
			return fmt.Errorf("%w: the JournalNode speaks only protocol version 1, whose frames are not authenticated: upgrade it (or set %s=true for the upgrade)", ErrUnauthenticated, AcceptV1Key)
		}
		return c.handshake(ctx, 1)
	}
	return err
}

// oldServerError is a version 1 server's refusal of a newer hello.
type oldServerError struct{ reason string }

func (e *oldServerError) Error() string { return "server refused: " + e.reason }

func (c *Client) handshake(ctx context.Context, v byte) error {
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
	lowest := hello[3]
	if string(hello[:3]) != "HQJ" || lowest < 1 || lowest > Version {
		conn.Close()
		return fmt.Errorf("handshake: peer does not speak hactl journal protocol version %d", Version)
	}
	if lowest > v {
		conn.Close()
		return fmt.Errorf("%w: the JournalNode requires protocol version %d or newer", ErrUnauthenticated, lowest)
	}
	sn := hello[4:]
	cn := nonce()
	m := magic(v)
	msg := append(append(m[:], cn...), auth.MAC(c.Secret, macLabel(v), "client", hex.EncodeToString(sn), hex.EncodeToString(cn))...)
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
		// A version 1 JournalNode greets with 1 and refuses a newer hello
		// as "unsupported protocol (want version 1)".
		if lowest == 1 && v > 1 && strings.HasPrefix(string(reason), errUnsupported) && strings.Contains(string(reason), "want version 1)") {
			return &oldServerError{string(reason)}
		}
		return fmt.Errorf("%w: server refused: %s", ErrUnauthenticated, reason)
	}
	var mac [32]byte
	if _, err := io.ReadFull(r, mac[:]); err != nil {
		conn.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	if !hmac.Equal(mac[:], auth.MAC(c.Secret, macLabel(v), "server", hex.EncodeToString(cn), hex.EncodeToString(sn))) {
		conn.Close()
		return fmt.Errorf("%w: server cannot prove the cluster secret", ErrUnauthenticated)
	}
	conn.SetDeadline(time.Time{})
	c.f = newFramer(nil, nil)
	if v >= 2 {
		c2s, s2c := sessionKeys(c.Secret, sn, cn)
		c.f = newFramer(c2s, s2c)
	}
	c.conn, c.r = conn, r
	return nil
}

// frameBuffer collects one frame for a single Write.
type frameBuffer []byte

func (b *frameBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

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
	hdr, err := requestHeader(id, method)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	// One write: the frame goes out in as few segments as it did unframed.
	var out frameBuffer
	if err := c.f.writeFrame(&out, hdr, body); err != nil {
		return fail(err)
	}
	if _, err := conn.Write(out); err != nil {
		return fail(err)
	}
	frame, err := c.f.readFrame(c.r)
	if err != nil {
		return fail(err)
	}
	res, err := parseResponse(frame)
	if err != nil {
		return fail(err)
	}
	if res.id != id {
		return fail(errors.New("response out of order"))
	}
	if res.status != 0 {
		var we WireError
		if err := json.Unmarshal(res.body, &we); err != nil {
			return fail(fmt.Errorf("decode error: %w", err))
		}
		return FromWire(we)
	}
	if resp != nil {
		if err := Decode(res.body, resp); err != nil {
			return fmt.Errorf("%s to %s: decode: %w", method, c.Addr, err)
		}
	}
	return nil
}
