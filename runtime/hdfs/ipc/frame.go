package ipc

import (
	"encoding/binary"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Protocol constants of Hadoop's IPC (RpcConstants, Server.AuthProtocol).
const (
	Version              = 9
	AuthNone             = 0
	AuthSASL             = 0xdf // -33 as a signed byte
	CallIDConnContext    = -3
	CallIDPing           = -4
	CallIDSASL           = -33
	CallIDAuthFailed     = -1
	DefaultMaxDataLength = 128 << 20 // ipc.maximum.data.length
)

var connHeaderMagic = []byte("hrpc")

// frameTooLongError is a packet longer than the configured maximum.
type frameTooLongError struct{ size, max int64 }

func (e *frameTooLongError) Error() string {
	return fmt.Sprintf("Requested data length %d is longer than maximum configured RPC length %d", e.size, e.max)
}

// readFrame reads one length-prefixed packet of at most max bytes.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := int64(int32(binary.BigEndian.Uint32(n[:])))
	if size < 0 {
		return nil, fmt.Errorf("unexpected data length %d", size)
	}
	if size > int64(max) {
		return nil, &frameTooLongError{size, int64(max)}
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// appendFrame appends a packet holding msgs, each varint-delimited, to b.
func appendFrame(b []byte, msgs ...proto.Message) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for _, m := range msgs {
		if m == nil {
			continue
		}
		size := proto.Size(m)
		b = protowire.AppendVarint(b, uint64(size))
		var err error
		if b, err = (proto.MarshalOptions{}).MarshalAppend(b, m); err != nil {
			return nil, err
		}
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b, nil
}

// nextDelimited splits the next varint-delimited message off p.
func nextDelimited(p []byte) (msg, rest []byte, err error) {
	v, n := protowire.ConsumeBytes(p)
	if n < 0 {
		return nil, nil, fmt.Errorf("malformed delimited message: %w", protowire.ParseError(n))
	}
	return v, p[n:], nil
}

// decodeDelimited decodes the next delimited message of p into m.
func decodeDelimited(p []byte, m proto.Message) ([]byte, error) {
	msg, rest, err := nextDelimited(p)
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(msg, m); err != nil {
		return nil, err
	}
	return rest, nil
}

// putLen sets the length prefix of the packet b.
func putLen(b []byte) { binary.BigEndian.PutUint32(b, uint32(len(b)-4)) }
