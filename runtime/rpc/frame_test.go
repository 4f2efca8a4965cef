package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

func framesOf(t *testing.T, f *framer, payloads ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range payloads {
		var b bytes.Buffer
		if err := f.writeFrame(&b, []byte(p)); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// TestFrameMACRefusesTamperReplayReorderSplice feeds a receiver frames
// changed the ways an attacker on the path could change them.
func TestFrameMACRefusesTamperReplayReorderSplice(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	sn, cn := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	c2s, s2c := sessionKeys(secret, sn, cn)
	frames := framesOf(t, newFramer(c2s, s2c), "first", "second")
	recv := func() *framer { return newFramer(s2c, c2s) }

	r := recv()
	for i, want := range []string{"first", "second"} {
		got, err := r.readFrame(bytes.NewReader(frames[i]))
		if err != nil || string(got) != want {
			t.Fatalf("genuine frame %d: %q, %v", i, got, err)
		}
	}
	cases := map[string][][]byte{
		"replayed":  {frames[0], frames[0]},
		"reordered": {frames[1]},
		"dropped":   {frames[1], frames[0]},
	}
	tampered := bytes.Clone(frames[0])
	tampered[6] ^= 1
	cases["tampered payload"] = [][]byte{tampered}
	truncated := bytes.Clone(frames[0])
	binary.BigEndian.PutUint32(truncated, binary.BigEndian.Uint32(truncated)-1)
	cases["length changed"] = [][]byte{truncated[:len(truncated)-1]}
	// The same payload on another connection (other nonces) has other keys.
	oc2s, os2c := sessionKeys(secret, sn, bytes.Repeat([]byte{3}, 32))
	cases["spliced from another connection"] = framesOf(t, newFramer(oc2s, os2c), "first")
	cases["reflected back"] = framesOf(t, newFramer(s2c, c2s), "first")
	for name, seq := range cases {
		r := recv()
		var err error
		for _, fr := range seq {
			if _, err = r.readFrame(bytes.NewReader(fr)); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrFrameMAC) {
			t.Errorf("%s: %v, want ErrFrameMAC", name, err)
		}
	}
}

// mitm relays one connection and lets a test rewrite what the client sends
// after the handshake.
type mitm struct {
	ln      net.Listener
	backend string
	// rewrite gets each chunk the client sends after the first 68 bytes
	// (its hello) and returns what to forward.
	rewrite func(p []byte) []byte
}

func (m *mitm) serve(t *testing.T) {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", m.backend)
		if err != nil {
			c.Close()
			return
		}
		go func() { io.Copy(c, b); c.Close() }()
		go func() {
			defer b.Close()
			hello := make([]byte, 68)
			if _, err := io.ReadFull(c, hello); err != nil {
				return
			}
			b.Write(hello)
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					b.Write(m.rewrite(bytes.Clone(buf[:n])))
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

func startMITM(t *testing.T, backend string, rewrite func([]byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.3.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mitm{ln: ln, backend: backend, rewrite: rewrite}
	go m.serve(t)
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestTamperedAndReplayedCallsNeverReachTheHandler runs calls through a
// relay that flips a bit of a request, or sends a request twice: the
// JournalNode must not act on either.
func TestTamperedAndReplayedCallsNeverReachTheHandler(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	ln, err := net.Listen("tcp", "127.0.3.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	srv := &Server{Secret: secret, Handler: func(ctx context.Context, method string, body []byte) (any, error) {
		var r JournalIDRequest
		Decode(body, &r)
		mu.Lock()
		seen = append(seen, method+":"+r.JournalID)
		mu.Unlock()
		return r, nil
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The request carries "ns1"; the relay rewrites it to "ns2".
	flip := startMITM(t, ln.Addr().String(), func(p []byte) []byte {
		return bytes.ReplaceAll(p, []byte(`"ns1"`), []byte(`"ns2"`))
	})
	c := &Client{Addr: flip, Secret: secret}
	defer c.Close()
	if err := c.Call(ctx, "format", JournalIDRequest{JournalID: "ns1"}, nil); err == nil {
		t.Fatal("a call rewritten on the way succeeded")
	}
	// The relay sends every request twice.
	var dups atomic.Int32
	dup := startMITM(t, ln.Addr().String(), func(p []byte) []byte {
		dups.Add(1)
		return append(p, p...)
	})
	c2 := &Client{Addr: dup, Secret: secret}
	defer c2.Close()
	if err := c2.Call(ctx, "newEpoch", JournalIDRequest{JournalID: "ns1"}, nil); err != nil {
		t.Fatalf("the genuine first copy: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // let the server read the copy
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "newEpoch:ns1" || dups.Load() == 0 {
		t.Fatalf("handler saw %q, want only the one genuine newEpoch", seen)
	}
}

// fakeV1Server speaks only protocol version 1, as hactl before frame MACs:
// it refuses any other hello the way that version did and echoes calls.
func fakeV1Server(t *testing.T, secret []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.3.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sn := nonce()
				m := magic(1)
				c.Write(append(m[:], sn...))
				var hello [68]byte
				if _, err := io.ReadFull(c, hello[:]); err != nil {
					return
				}
				if [4]byte(hello[:4]) != magic(1) {
					c.Write(append([]byte{1}, "unsupported protocol (want version 1)"...))
					return
				}
				cn := hello[4:36]
				c.Write(append([]byte{0}, authMAC(secret, macLabelV1, "server", cn, sn)...))
				f := newFramer(nil, nil)
				for {
					p, err := f.readFrame(c)
					if err != nil {
						return
					}
					req, err := parseRequest(p)
					if err != nil {
						return
					}
					f.writeFrame(c, responseHeader(req.id, 0), req.body)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestVersionNegotiation: a new client refuses a version 1 JournalNode
// unless told to accept it for an upgrade, and a new JournalNode refuses a
// version 1 client unless told likewise.
func TestVersionNegotiation(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	old := fakeV1Server(t, secret)
	c := &Client{Addr: old, Secret: secret}
	err := c.Call(ctx, "echo", JournalIDRequest{JournalID: "j"}, nil)
	if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), AcceptV1Key) {
		t.Fatalf("new client to a version 1 JournalNode: %v", err)
	}
	c = &Client{Addr: old, Secret: secret, AcceptV1: true}
	defer c.Close()
	var r JournalIDRequest
	if err := c.Call(ctx, "echo", JournalIDRequest{JournalID: "j"}, &r); err != nil || r.JournalID != "j" {
		t.Fatalf("with %s: %+v, %v", AcceptV1Key, r, err)
	}

	for _, accept := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.3.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &Server{Secret: secret, AcceptV1: accept, Handler: func(ctx context.Context, method string, body []byte) (any, error) {
			var r JournalIDRequest
			Decode(body, &r)
			return r, nil
		}}
		go srv.Serve(ln)
		oldClient := &Client{Addr: ln.Addr().String(), Secret: secret}
		err = oldClient.handshake(ctx, 1) // what a version 1 NameNode sends
		if accept && err != nil {
			t.Errorf("JournalNode with %s refused a version 1 client: %v", AcceptV1Key, err)
		}
		if !accept && (err == nil || !strings.Contains(err.Error(), "requires protocol version 2")) {
			t.Errorf("JournalNode without %s: version 1 client got %v", AcceptV1Key, err)
		}
		if oldClient.conn != nil {
			oldClient.conn.Close()
		}
		// The server itself refuses a version 1 hello, whatever its greeting said.
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		raw.SetDeadline(time.Now().Add(5 * time.Second))
		var greet [36]byte
		io.ReadFull(raw, greet[:])
		cn := nonce()
		m := magic(1)
		raw.Write(append(append(m[:], cn...), authMAC(secret, macLabelV1, "client", greet[4:], cn)...))
		st := make([]byte, 1)
		io.ReadFull(raw, st)
		raw.Close()
		if accepted := st[0] == 0; accepted != accept {
			t.Errorf("JournalNode with accept-v1 %v: version 1 hello accepted = %v", accept, accepted)
		}
		// A new client always gets version 2 (frames authenticated).
		nc := &Client{Addr: ln.Addr().String(), Secret: secret, AcceptV1: true}
		if err := nc.Call(ctx, "echo", JournalIDRequest{JournalID: "k"}, nil); err != nil || nc.f.send == nil {
			t.Errorf("new client to new JournalNode (accept-v1 %v): %v, authenticated frames %v", accept, err, nc.f.send != nil)
		}
		nc.Close()
		srv.Close()
	}
}

func authMAC(secret []byte, label, side string, a, b []byte) []byte {
	return auth.MAC(secret, label, side, hex.EncodeToString(a), hex.EncodeToString(b))
}
