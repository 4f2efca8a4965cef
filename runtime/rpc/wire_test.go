package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countingListener struct {
	net.Listener
	accepts atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepts.Add(1)
	}
	return c, err
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startServer(t *testing.T, secret []byte) (*countingListener, *syncBuf) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.3.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	logs := &syncBuf{}
	srv := &Server{Secret: secret, Log: log.New(logs, "", 0), Handler: func(ctx context.Context, method string, body []byte) (any, error) {
		switch method {
		case "echo":
			var r JournalIDRequest
			Decode(body, &r)
			return r, nil
		case "fence":
			return nil, fmt.Errorf("journal x: IPC's epoch 1 is less than the last promised epoch 2: %w", ErrEpochTooOld)
		}
		return nil, ErrUnknownMethod
	}}
	go srv.Serve(cl)
	t.Cleanup(func() { srv.Close() })
	return cl, logs
}

func TestCallsReuseOneAuthenticatedConnection(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	ln, _ := startServer(t, secret)
	c := &Client{Addr: ln.Addr().String(), Secret: secret}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		var r JournalIDRequest
		if err := c.Call(ctx, "echo", JournalIDRequest{JournalID: fmt.Sprint("j", i)}, &r); err != nil || r.JournalID != fmt.Sprint("j", i) {
			t.Fatalf("echo %d = %+v, %v", i, r, err)
		}
	}
	if n := ln.accepts.Load(); n != 1 {
		t.Fatalf("%d connections for 3 calls, want 1 reused", n)
	}
	err := c.Call(ctx, "fence", struct{}{}, nil)
	var re *RemoteError
	if !errors.Is(err, ErrEpochTooOld) || !errors.As(err, &re) || !strings.Contains(err.Error(), "last promised epoch 2") {
		t.Fatalf("typed error across the wire: %v", err)
	}
	if err := c.Call(ctx, "nope", struct{}{}, nil); !errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("unknown method: %v", err)
	}
	// The connection survives refusals.
	if err := c.Call(ctx, "echo", JournalIDRequest{}, nil); err != nil || ln.accepts.Load() != 1 {
		t.Fatalf("call after a refusal: %v (connections %d)", err, ln.accepts.Load())
	}
}

func TestWrongSecretRefusedAndLogged(t *testing.T) {
	ln, logs := startServer(t, []byte("0123456789abcdef-secret"))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.3.2")}}
	c := &Client{Addr: ln.Addr().String(), Secret: []byte("another-secret-0123456"),
		Dial: func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.Call(ctx, "echo", JournalIDRequest{}, nil)
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("wrong secret: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "refused connection from 127.0.3.2:") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "refused connection from 127.0.3.2:") {
		t.Fatalf("refusal not logged with the peer address: %q", logs.String())
	}
	// A peer that does not speak the protocol at all is refused too.
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	hello := make([]byte, 36)
	if _, err := raw.Read(hello); err != nil {
		t.Fatal(err)
	}
	raw.Write(bytes.Repeat([]byte{'x'}, 68))
	reply := make([]byte, 64)
	n, _ := raw.Read(reply)
	if n == 0 || reply[0] != 1 {
		t.Fatalf("garbage handshake answered %q", reply[:n])
	}
}

func TestRecordFramingDetectsTornAndCorrupt(t *testing.T) {
	b := AppendRecord(nil, 7, []byte("hello"))
	b = AppendRecord(b, 8, nil)
	edits, err := DecodeRecords(b)
	if err != nil || len(edits) != 2 || edits[0].Txid != 7 || string(edits[0].Data) != "hello" || edits[1].Txid != 8 {
		t.Fatalf("decode = %v, %v", edits, err)
	}
	for cut := 1; cut < RecordHeaderLen+5; cut++ {
		if _, _, err := ReadRecord(b[:cut]); !errors.Is(err, ErrTornRecord) {
			t.Fatalf("record cut at %d bytes accepted", cut)
		}
	}
	bad := append([]byte{}, b...)
	bad[RecordHeaderLen] ^= 1
	if _, _, err := ReadRecord(bad); !errors.Is(err, ErrTornRecord) {
		t.Fatal("flipped bit accepted")
	}
}

// TestWriterEpochFieldCompatible: the writer epoch added to version 1 reads
// as 0 from a peer that does not send it, and round-trips when sent.
func TestWriterEpochFieldCompatible(t *testing.T) {
	recs := AppendRecord(nil, 9, []byte("x"))
	b, err := Encode(GetJournaledEditsResponse{TxnCount: 1, WriterEpoch: 3, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	var r GetJournaledEditsResponse
	if err := Decode(b, &r); err != nil || r.WriterEpoch != 3 || r.TxnCount != 1 || string(r.Records) != string(recs) {
		t.Fatalf("round trip: %+v, %v", r, err)
	}
	// A body as a JournalNode from before the field sends it.
	body := func(js string, raw []byte) []byte {
		return append(append(binary.BigEndian.AppendUint32(nil, uint32(len(js))), js...), raw...)
	}
	r = GetJournaledEditsResponse{}
	if err := Decode(body(`{"txnCount":1}`, recs), &r); err != nil || r.WriterEpoch != 0 || r.TxnCount != 1 || string(r.Records) != string(recs) {
		t.Fatalf("answer of a JN without the field: %+v, %v", r, err)
	}
	var m GetEditLogManifestResponse
	if err := Decode(body(`{"segments":[{"startTxid":9,"endTxid":12,"inProgress":true}],"httpAddr":"a:1"}`, nil), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Segments) != 1 || m.Segments[0].WriterEpoch != 0 {
		t.Fatalf("manifest of a JN without the field: %+v", m)
	}
	// A finalized segment (and a paxos file's) carries no epoch on the wire.
	if b, _ := json.Marshal(SegmentState{StartTxid: 1, EndTxid: 8}); strings.Contains(string(b), "writerEpoch") {
		t.Fatalf("finalized segment encodes %s", b)
	}
}
