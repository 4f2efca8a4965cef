// Package dtp is the framing of Hadoop's DataTransferProtocol, the TCP
// protocol that moves block data between clients and DataNodes (on
// dfs.datanode.address) and between DataNodes: operation requests,
// varint-delimited protobuf messages (runtime/hdfs/hadooppb), data packets
// with their CRC32C chunk checksums, and pipeline acks, byte for byte as
// Hadoop's Sender, Receiver, PacketReceiver and PipelineAck put them on the
// wire. Both sides use it: the client (runtime/dfsclient) and the DataNode's
// server (runtime/datanode).
//
// An operation is
//
//	version (uint16 big-endian, 28) | op code (1 byte) | varint length | Op…Proto
//
// answered with a varint-delimited BlockOpResponseProto. Data follows in
// packets:
//
//	PLEN (uint32: 4 + len(checksums) + len(data)) | HLEN (uint16) | PacketHeaderProto | checksums | data
//
// with one 4-byte big-endian CRC per bytes-per-checksum chunk of data. A
// writer's pipeline answers each packet with a varint-delimited
// PipelineAckProto naming the packet's seqno and one status per DataNode
// of the pipeline.
package dtp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// Version is Hadoop's DataTransferProtocol.DATA_TRANSFER_VERSION.
const Version = 28

// Op is an operation code (Hadoop's Op enum).
type Op byte

const (
	OpWriteBlock    Op = 80
	OpReadBlock     Op = 81
	OpReadMetadata  Op = 82
	OpReplaceBlock  Op = 83
	OpCopyBlock     Op = 84
	OpBlockChecksum Op = 85
	OpTransferBlock Op = 86
)

func (o Op) String() string {
	switch o {
	case OpWriteBlock:
		return "WRITE_BLOCK"
	case OpReadBlock:
		return "READ_BLOCK"
	case OpReadMetadata:
		return "READ_METADATA"
	case OpReplaceBlock:
		return "REPLACE_BLOCK"
	case OpCopyBlock:
		return "COPY_BLOCK"
	case OpBlockChecksum:
		return "BLOCK_CHECKSUM"
	case OpTransferBlock:
		return "TRANSFER_BLOCK"
	}
	return fmt.Sprintf("Op(%d)", byte(o))
}

// MaxMessageBytes bounds a delimited message: operation requests and
// responses are small (a pipeline of DataNodes at most).
const MaxMessageBytes = 1 << 20

// MaxPacketBytes bounds a packet (Hadoop's PacketReceiver.MAX_PACKET_SIZE).
const MaxPacketBytes = 16 << 20

// WriteOp sends an operation request: version, op code, the message.
func WriteOp(w io.Writer, op Op, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", op, err)
	}
	buf := make([]byte, 0, 3+binary.MaxVarintLen64+len(b))
	buf = binary.BigEndian.AppendUint16(buf, Version)
	buf = append(buf, byte(op))
	buf = protowire.AppendVarint(buf, uint64(len(b)))
	buf = append(buf, b...)
	_, err = w.Write(buf)
	return err
}

// ErrVersion: the peer speaks another DataTransferProtocol version.
var ErrVersion = errors.New("unsupported DataTransferProtocol version")

// ReadOp reads an operation request's version and op code; the caller then
// reads the op's message with ReadDelimited.
func ReadOp(r io.Reader) (Op, error) {
	var h [3]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, err
	}
	if v := binary.BigEndian.Uint16(h[:2]); v != Version {
		return 0, fmt.Errorf("%w: got %d, want %d", ErrVersion, v, Version)
	}
	return Op(h[2]), nil
}

// WriteDelimited writes m prefixed with its varint length (protobuf's
// writeDelimitedTo).
func WriteDelimited(w io.Writer, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	buf := protowire.AppendVarint(make([]byte, 0, binary.MaxVarintLen64+len(b)), uint64(len(b)))
	_, err = w.Write(append(buf, b...))
	return err
}

// ReadDelimited reads a varint-delimited message into m (protobuf's
// parseDelimitedFrom).
func ReadDelimited(r io.Reader, m proto.Message) error {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = byteReader{r}
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if n > MaxMessageBytes {
		return fmt.Errorf("delimited message of %d bytes: more than %d", n, MaxMessageBytes)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	return proto.Unmarshal(b, m)
}

type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.r, c[:])
	return c[0], err
}

// NewReader buffers a connection for reading messages and packets. The
// buffer is small on purpose: a packet's body (≈ 64 KiB) is then read
// straight into the packet by bufio (a read of at least the buffer's size
// skips it), where a 64 KiB buffer copied nearly every byte through itself.
func NewReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, readBufferSize) }

const readBufferSize = 8 << 10

// StatusError is a non-SUCCESS status a DataNode answered with.
type StatusError struct {
	Status       hadooppb.Status
	Message      string
	FirstBadLink string // WRITE_BLOCK: the pipeline's first DataNode that failed
}

func (e *StatusError) Error() string {
	s := e.Status.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.FirstBadLink != "" {
		s += " (first bad link " + e.FirstBadLink + ")"
	}
	return s
}

// ReadResponse reads a BlockOpResponseProto; a status other than SUCCESS is
// returned as *StatusError along with the response.
func ReadResponse(r io.Reader) (*hadooppb.BlockOpResponseProto, error) {
	resp := &hadooppb.BlockOpResponseProto{}
	if err := ReadDelimited(r, resp); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.GetStatus() != hadooppb.Status_SUCCESS {
		return resp, &StatusError{Status: resp.GetStatus(), Message: resp.GetMessage(), FirstBadLink: resp.GetFirstBadLink()}
	}
	return resp, nil
}
