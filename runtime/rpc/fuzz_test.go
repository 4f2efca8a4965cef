package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

// FuzzFrameDecoder feeds arbitrary bytes to the frame decoder as a peer
// would send them, with and without frame MACs, and parses what it accepts
// as requests and responses. It must never panic nor allocate for a frame
// more than it was sent, and a frame it writes must read back as written
// while any changed byte fails its MAC.
//
//	go test ./runtime/rpc -run '^$' -fuzz FuzzFrameDecoder -fuzztime 5m
func FuzzFrameDecoder(f *testing.F) {
	secret := []byte("0123456789abcdef-secret")
	sn, cn := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	c2s, s2c := sessionKeys(secret, sn, cn)
	seed := func(fr *framer, parts ...[]byte) []byte {
		var b bytes.Buffer
		fr.writeFrame(&b, parts...)
		return b.Bytes()
	}
	hdr, _ := requestHeader(7, "journal")
	body, _ := Encode(JournalIDRequest{JournalID: "ns1"})
	f.Add(seed(newFramer(nil, nil), hdr, body), uint16(0))
	f.Add(seed(newFramer(c2s, s2c), hdr, body), uint16(3))
	f.Add(seed(newFramer(nil, nil), responseHeader(7, 1), []byte(`{"code":"x"}`)), uint16(1))
	f.Add(append(seed(newFramer(c2s, s2c), hdr), seed(newFramer(c2s, s2c), hdr)...), uint16(9))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint16(0))
	f.Add([]byte{0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(0))
	f.Add(binary.BigEndian.AppendUint32(nil, MaxFrame), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, flip uint16) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, keyed := range []bool{false, true} {
			fr := newFramer(nil, nil)
			if keyed {
				fr = newFramer(s2c, c2s)
			}
			r := bytes.NewReader(data)
			for {
				p, err := fr.readFrame(r)
				if err != nil {
					break
				}
				if len(p) > len(data) {
					t.Fatalf("decoded a %d-byte payload from %d bytes", len(p), len(data))
				}
				if req, err := parseRequest(p); err == nil {
					if 9+len(req.method)+len(req.body) != len(p) {
						t.Fatalf("request parts do not add up to the frame: %+v of %d bytes", req, len(p))
					}
				}
				if res, err := parseResponse(p); err == nil && 9+len(res.body) != len(p) {
					t.Fatalf("response parts do not add up to the frame")
				}
			}
		}
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > uint64(8*len(data)+4*readChunk) {
			t.Fatalf("decoding %d bytes allocated %d", len(data), a)
		}
		if len(data) > MaxFrame {
			return
		}
		// Round trip on an authenticated connection.
		var b bytes.Buffer
		if err := newFramer(c2s, s2c).writeFrame(&b, data); err != nil {
			t.Fatal(err)
		}
		wire := b.Bytes()
		got, err := newFramer(s2c, c2s).readFrame(bytes.NewReader(wire))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
		i := int(flip) % len(wire)
		wire[i] ^= 0x80
		if _, err := newFramer(s2c, c2s).readFrame(bytes.NewReader(wire)); err == nil {
			t.Fatalf("frame with byte %d changed was accepted", i)
		} else if i >= 4 && !errors.Is(err, ErrFrameMAC) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("frame with byte %d changed: %v", i, err)
		}
	})
}
