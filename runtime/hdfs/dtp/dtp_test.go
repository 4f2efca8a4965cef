package dtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

func TestChecksums(t *testing.T) {
	// CRC32C's check value, big-endian as Hadoop stores it.
	if got := AppendChecksums(nil, []byte("123456789"), 512); !bytes.Equal(got, []byte{0xe3, 0x06, 0x92, 0x83}) {
		t.Errorf("CRC32C(123456789) = %x, want e3069283", got)
	}
	data := bytes.Repeat([]byte("abcdefghij"), 130) // 1300 bytes: chunks of 512, 512, 276
	sums := AppendChecksums(nil, data, 512)
	if len(sums) != 12 {
		t.Fatalf("%d bytes of checksums for 3 chunks", len(sums))
	}
	if err := VerifyChecksums(sums, data, 512, 1024); err != nil {
		t.Fatal(err)
	}
	data[700] ^= 1
	var ce *ChecksumError
	if err := VerifyChecksums(sums, data, 512, 1024); !errors.As(err, &ce) || ce.Chunk != 1 || ce.Offset != 1536 {
		t.Errorf("flipped byte in chunk 1: %v", err)
	}
	if err := VerifyChecksums(sums[:8], data, 512, 0); err == nil {
		t.Errorf("missing checksums accepted")
	}
}

func TestPacketWire(t *testing.T) {
	data := []byte("hello, block")
	sums := AppendChecksums(nil, data, 512)
	var buf bytes.Buffer
	h := PacketHeader{OffsetInBlock: 1024, Seqno: 7, Sync: true}
	if err := WritePacket(&buf, h, sums, data); err != nil {
		t.Fatal(err)
	}
	// Hand-built from Hadoop's layout: PLEN = 4 + sums + data, HLEN, header.
	var hdr []byte
	hdr = protowire.AppendTag(hdr, 1, protowire.Fixed64Type)
	hdr = protowire.AppendFixed64(hdr, 1024)
	hdr = protowire.AppendTag(hdr, 2, protowire.Fixed64Type)
	hdr = protowire.AppendFixed64(hdr, 7)
	hdr = protowire.AppendTag(hdr, 3, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, 0)
	hdr = protowire.AppendTag(hdr, 4, protowire.Fixed32Type)
	hdr = protowire.AppendFixed32(hdr, uint32(len(data)))
	hdr = protowire.AppendTag(hdr, 5, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, 1)
	want := binary.BigEndian.AppendUint32(nil, uint32(4+len(sums)+len(data)))
	want = binary.BigEndian.AppendUint16(want, uint16(len(hdr)))
	want = append(append(append(want, hdr...), sums...), data...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("packet\n %x\nwant\n %x", buf.Bytes(), want)
	}
	// Two packets back to back read with one reused buffer.
	if err := WritePacket(&buf, PacketHeader{OffsetInBlock: 1036, Seqno: 8, Last: true}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var p Packet
	if err := ReadPacket(&buf, &p); err != nil {
		t.Fatal(err)
	}
	h.DataLen = int32(len(data))
	if p.Header != h || !bytes.Equal(p.Data, data) || !bytes.Equal(p.Sums, sums) || !bytes.Equal(p.Raw, want) {
		t.Errorf("read back %+v data %q sums %x", p.Header, p.Data, p.Sums)
	}
	if err := ReadPacket(&buf, &p); err != nil {
		t.Fatal(err)
	}
	if !p.Header.Last || p.Header.Seqno != 8 || len(p.Data) != 0 || len(p.Sums) != 0 {
		t.Errorf("last packet read back as %+v", p.Header)
	}
	// A truncated packet is an error, not a short packet.
	var tr bytes.Buffer
	WritePacket(&tr, h, sums, data)
	if err := ReadPacket(bytes.NewReader(tr.Bytes()[:tr.Len()-3]), &p); err == nil {
		t.Errorf("truncated packet accepted")
	}
}

func TestOpAndResponse(t *testing.T) {
	var buf bytes.Buffer
	op := &hadooppb.OpReadBlockProto{Header: ClientHeader(hdfs.ExtendedBlock{PoolID: "BP-1", Block: hdfs.Block{ID: 5, GenStamp: 1001}}, nil, "DFSClient_x"),
		Offset: proto.Uint64(10), Len: proto.Uint64(20)}
	if err := WriteOp(&buf, OpReadBlock, op); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); b[0] != 0 || b[1] != 28 || b[2] != 81 {
		t.Errorf("op prefix %x, want 001c51", b[:3])
	}
	r := NewReader(&buf)
	got, err := ReadOp(r)
	if err != nil || got != OpReadBlock {
		t.Fatalf("ReadOp = %v, %v", got, err)
	}
	var back hadooppb.OpReadBlockProto
	if err := ReadDelimited(r, &back); err != nil || !proto.Equal(&back, op) {
		t.Fatalf("op read back %v, %v", &back, err)
	}
	buf.Reset()
	buf.Write([]byte{0, 27, 81})
	if _, err := ReadOp(&buf); !errors.Is(err, ErrVersion) {
		t.Errorf("version 27: %v", err)
	}
	buf.Reset()
	WriteDelimited(&buf, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR.Enum(), FirstBadLink: proto.String("127.0.1.2:9866"), Message: proto.String("boom")})
	_, err = ReadResponse(&buf)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != hadooppb.Status_ERROR || se.FirstBadLink != "127.0.1.2:9866" {
		t.Errorf("error response: %v", err)
	}
}

func TestAck(t *testing.T) {
	var buf bytes.Buffer
	a := Ack{Seqno: 3, Replies: []hadooppb.Status{hadooppb.Status_SUCCESS, hadooppb.Status_ERROR_CHECKSUM}}
	if err := WriteAck(&buf, a); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAck(&buf)
	if err != nil || got.Seqno != 3 || got.OK() || got.FirstBad() != 1 {
		t.Errorf("ack read back %+v, %v", got, err)
	}
	// An ack with reply only (an old DataNode), and one whose flag carries
	// ECN bits above the status: both read as the status.
	WriteDelimited(&buf, &hadooppb.PipelineAckProto{Seqno: proto.Int64(4), Reply: []hadooppb.Status{hadooppb.Status_SUCCESS}})
	WriteDelimited(&buf, &hadooppb.PipelineAckProto{Seqno: proto.Int64(5), Reply: []hadooppb.Status{hadooppb.Status_SUCCESS}, Flag: []uint32{0x20}})
	for _, seq := range []int64{4, 5} {
		got, err := ReadAck(&buf)
		if err != nil || got.Seqno != seq || !got.OK() || got.FirstBad() != -1 {
			t.Errorf("ack %d read back %+v, %v", seq, got, err)
		}
	}
}

func TestConvert(t *testing.T) {
	d := hdfs.DatanodeInfo{DatanodeID: hdfs.DatanodeID{UUID: "u", IP: "127.0.1.1", Hostname: "h", XferPort: 9866, InfoPort: 9864, IPCPort: 9867},
		Capacity: 10, DFSUsed: 2, NonDFSUsed: 1, Remaining: 7, BlockPoolUsed: 2, LastUpdate: 99, XceiverCount: 3,
		AdminState: hdfs.AdminDecommissionInProgress, Location: "/default-rack"}
	if got := DatanodeInfoFromProto(DatanodeInfoProto(d)); got != d {
		t.Errorf("DatanodeInfo round trip %+v, want %+v", got, d)
	}
	b := hdfs.ExtendedBlock{PoolID: "BP-1", Block: hdfs.Block{ID: 1 << 40, GenStamp: 1002, NumBytes: 77}}
	if got := BlockFromProto(BlockProto(b)); got != b {
		t.Errorf("block round trip %+v", got)
	}
	if TokenFromProto(TokenProto(nil)) != nil {
		t.Errorf("empty token did not convert back to nil")
	}
	tok := &hdfs.Token{Identifier: []byte{1}, Password: []byte{2}, Kind: "HDFS_BLOCK_TOKEN", Service: "s"}
	if got := TokenFromProto(TokenProto(tok)); got == nil || got.Kind != tok.Kind || !bytes.Equal(got.Password, tok.Password) {
		t.Errorf("token round trip %+v", got)
	}
}

// TestWritePacketWritevMatchesAppendPacket: a full 64 KiB packet written
// to a TCP connection (writev of header and data) carries exactly the
// bytes AppendPacket builds.
func TestWritePacketWritevMatchesAppendPacket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	sums := AppendChecksums(nil, data, 512)
	h := PacketHeader{OffsetInBlock: 1<<40 + 3, Seqno: 1 << 50, Sync: true}
	want, err := AppendPacket(nil, h, sums, data)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		WritePacket(c, h, sums, data)
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%d bytes (%v), want the %d AppendPacket builds", len(got), err, len(want))
	}
}

// readRecorder remembers where each Read wrote.
type readRecorder struct {
	r     io.Reader
	dests [][]byte
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	rr.dests = append(rr.dests, p[:n])
	return n, err
}

// TestPacketBodyIsReadStraightIntoThePacket: through NewReader, most of
// a 64 KiB packet's bytes are read from the connection directly into the
// packet, not copied through the reader's buffer first.
func TestPacketBodyIsReadStraightIntoThePacket(t *testing.T) {
	data := make([]byte, 126*512)
	for i := range data {
		data[i] = byte(i * 3)
	}
	var wire bytes.Buffer
	for seq := range int64(3) {
		if err := WritePacket(&wire, PacketHeader{OffsetInBlock: seq * int64(len(data)), Seqno: seq}, AppendChecksums(nil, data, 512), data); err != nil {
			t.Fatal(err)
		}
	}
	rec := &readRecorder{r: &wire}
	br := NewReader(rec)
	var p Packet
	for range 3 {
		if err := ReadPacket(br, &p); err != nil {
			t.Fatal(err)
		}
	}
	direct := 0
	raw := p.Raw[:cap(p.Raw)]
	for _, d := range rec.dests {
		lo, hi := uintptr(unsafe.Pointer(&raw[0])), uintptr(unsafe.Pointer(&raw[len(raw)-1]))
		if len(d) > 0 && uintptr(unsafe.Pointer(&d[0])) >= lo && uintptr(unsafe.Pointer(&d[0])) <= hi {
			direct += len(d)
		}
	}
	if direct < len(data)/2 {
		t.Fatalf("%d bytes of the last 64 KiB packet read into it directly (reads: %d)", direct, len(rec.dests))
	}
}
