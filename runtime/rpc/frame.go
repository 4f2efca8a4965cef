package rpc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/hactl/hactl/runtime/auth"
)

// MACLen is the length of the MAC that ends every version 2 frame.
const MACLen = sha256.Size

// ErrFrameMAC is returned for a frame whose MAC does not verify: tampered,
// replayed, reordered or spliced from another connection.
var ErrFrameMAC = errors.New("frame authentication failed (tampered, replayed or out of order)")

// ErrBadFrame is returned for a frame whose layout is invalid.
var ErrBadFrame = errors.New("malformed frame")

// framer reads and writes the frames of one connection in one direction
// each. With keys (version 2) every frame ends with
// HMAC-SHA256(key, u64 sequence | u32 length | payload), the sequence
// counting the frames sent in that direction from 0; without (version 1)
// frames carry no MAC.
type framer struct {
	send, recv       hash.Hash // nil: version 1
	sendSeq, recvSeq uint64
}

// sessionKeys derives a connection's two frame keys from the cluster
// secret and both handshake nonces: every connection has its own keys, so
// a frame of one cannot be spliced into another.
func sessionKeys(secret, sn, cn []byte) (clientToServer, serverToClient []byte) {
	s, c := hex.EncodeToString(sn), hex.EncodeToString(cn)
	return auth.MAC(secret, macLabelV2, "key", "client-to-server", s, c),
		auth.MAC(secret, macLabelV2, "key", "server-to-client", s, c)
}

func newFramer(sendKey, recvKey []byte) *framer {
	f := &framer{}
	if sendKey != nil {
		f.send = hmac.New(sha256.New, sendKey)
		f.recv = hmac.New(sha256.New, recvKey)
	}
	return f
}

func (f *framer) macLen() int {
	if f.send == nil {
		return 0
	}
	return MACLen
}

// header returns the length prefix of a frame carrying n payload bytes.
func (f *framer) header(n int) [4]byte {
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], uint32(n+f.macLen()))
	return h
}

func frameMAC(h hash.Hash, seq uint64, length [4]byte, parts ...[]byte) []byte {
	h.Reset()
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	h.Write(s[:])
	h.Write(length[:])
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// writeFrame writes one frame whose payload is the concatenation of parts.
func (f *framer) writeFrame(w io.Writer, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxFrame {
		return fmt.Errorf("%w: payload of %d bytes exceeds the limit", ErrBadFrame, n)
	}
	h := f.header(n)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	if f.send != nil {
		if _, err := w.Write(frameMAC(f.send, f.sendSeq, h, parts...)); err != nil {
			return err
		}
		f.sendSeq++
	}
	return nil
}

// readFrame reads one frame and returns its payload, verified when the
// connection has keys.
func (f *framer) readFrame(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int64(binary.BigEndian.Uint32(h[:]))
	if n > MaxFrame+int64(f.macLen()) {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds the limit", ErrBadFrame, n)
	}
	if n < int64(f.macLen()) {
		return nil, fmt.Errorf("%w: frame of %d bytes is shorter than its MAC", ErrBadFrame, n)
	}
	buf, err := readN(r, int(n))
	if err != nil {
		return nil, err
	}
	if f.recv == nil {
		return buf, nil
	}
	payload, mac := buf[:n-MACLen], buf[n-MACLen:]
	if !hmac.Equal(mac, frameMAC(f.recv, f.recvSeq, h, payload)) {
		return nil, ErrFrameMAC
	}
	f.recvSeq++
	return payload, nil
}

// readChunk bounds what readN allocates ahead of the bytes that arrived.
const readChunk = 1 << 20

// readN reads exactly n bytes. It allocates as the bytes arrive, not all of
// n up front: a peer that announces MaxFrame and sends four bytes does not
// make us allocate 256 MiB (found by FuzzFrameDecoder).
func readN(r io.Reader, n int) ([]byte, error) {
	if n <= readChunk {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, unexpected(err)
		}
		return buf, nil
	}
	buf := make([]byte, 0, readChunk)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(cap(buf), n)
		m, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	return buf, nil
}

// unexpected turns the end of the stream inside a frame into ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// request is a decoded request frame payload: u64 call id | u8 method
// length | method | body.
type request struct {
	id     uint64
	method string
	body   []byte
}

func parseRequest(p []byte) (request, error) {
	if len(p) < 9 || len(p) < 9+int(p[8]) {
		return request{}, fmt.Errorf("%w: request of %d bytes", ErrBadFrame, len(p))
	}
	m := int(p[8])
	return request{id: binary.BigEndian.Uint64(p), method: string(p[9 : 9+m]), body: p[9+m:]}, nil
}

func requestHeader(id uint64, method string) ([]byte, error) {
	if len(method) > 255 {
		return nil, fmt.Errorf("%w: method name of %d bytes", ErrBadFrame, len(method))
	}
	h := binary.BigEndian.AppendUint64(make([]byte, 0, 9+len(method)), id)
	h = append(h, byte(len(method)))
	return append(h, method...), nil
}

// response is a decoded response frame payload: u64 call id | u8 status | body.
type response struct {
	id     uint64
	status byte
	body   []byte
}

func parseResponse(p []byte) (response, error) {
	if len(p) < 9 {
		return response{}, fmt.Errorf("%w: response of %d bytes", ErrBadFrame, len(p))
	}
	return response{id: binary.BigEndian.Uint64(p), status: p[8], body: p[9:]}, nil
}

func responseHeader(id uint64, status byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 9), id), status)
}
