package dtp

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// PacketHeader is a packet's PacketHeaderProto.
type PacketHeader struct {
	OffsetInBlock int64 // of the packet's first data byte in the block
	Seqno         int64 // HeartbeatSeqno for a heartbeat packet
	Last          bool  // lastPacketInBlock: the empty packet that ends a block
	DataLen       int32
	Sync          bool // syncBlock: hsync the replica once this packet is written
}

// HeartbeatSeqno is the seqno of a heartbeat packet, which a writer sends
// to keep an idle pipeline open (Hadoop's DFSPacket.HEART_BEAT_SEQNO).
const HeartbeatSeqno = -1

// ChecksumSize is the size of one CRC32C (or CRC32) chunk checksum.
const ChecksumSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendChecksums appends the CRC32C of each bytesPerChecksum chunk of data
// (the last chunk may be short), big-endian, as a packet carries them.
func AppendChecksums(dst, data []byte, bytesPerChecksum int) []byte {
	for len(data) > 0 {
		n := min(bytesPerChecksum, len(data))
		dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(data[:n], castagnoli))
		data = data[n:]
	}
	return dst
}

// ChecksumError names the first chunk whose CRC does not match.
type ChecksumError struct {
	Chunk  int   // index of the chunk in the packet
	Offset int64 // of the chunk in the block (packet offset + Chunk·bytesPerChecksum)
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum error at chunk %d (block offset %d)", e.Chunk, e.Offset)
}

// VerifyChecksums checks data against its chunk checksums; offset is the
// block offset of data[0], for the error.
func VerifyChecksums(sums, data []byte, bytesPerChecksum int, offset int64) error {
	want := (len(data) + bytesPerChecksum - 1) / bytesPerChecksum
	if len(sums) != want*ChecksumSize {
		return fmt.Errorf("packet carries %d bytes of checksums for %d bytes of data: want %d", len(sums), len(data), want*ChecksumSize)
	}
	for i := 0; len(data) > 0; i++ {
		n := min(bytesPerChecksum, len(data))
		if crc32.Checksum(data[:n], castagnoli) != binary.BigEndian.Uint32(sums[i*ChecksumSize:]) {
			return &ChecksumError{Chunk: i, Offset: offset + int64(i*bytesPerChecksum)}
		}
		data = data[n:]
	}
	return nil
}

func (h PacketHeader) proto() *hadooppb.PacketHeaderProto {
	p := &hadooppb.PacketHeaderProto{
		OffsetInBlock:     proto.Int64(h.OffsetInBlock),
		Seqno:             proto.Int64(h.Seqno),
		LastPacketInBlock: proto.Bool(h.Last),
		DataLen:           proto.Int32(h.DataLen),
	}
	if h.Sync {
		p.SyncBlock = proto.Bool(true)
	}
	return p
}

// AppendPacket appends a whole packet (lengths, header, checksums, data)
// to dst; h.DataLen is set from data.
func AppendPacket(dst []byte, h PacketHeader, sums, data []byte) ([]byte, error) {
	dst, err := AppendPacketHead(dst, h, sums, len(data))
	if err != nil {
		return dst, err
	}
	return append(dst, data...), nil
}

// AppendPacketHead appends what precedes a packet's dataLen data bytes
// (lengths, header with DataLen set, checksums) to dst, for a writer that
// sends the data from its own buffer (writev) instead of copying it.
func AppendPacketHead(dst []byte, h PacketHeader, sums []byte, dataLen int) ([]byte, error) {
	h.DataLen = int32(dataLen)
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0)
	// Marshalled in place after the 6 bytes of lengths, which need its size.
	hdr, err := proto.MarshalOptions{}.MarshalAppend(dst, h.proto())
	if err != nil {
		return dst[:start], fmt.Errorf("encode packet header: %w", err)
	}
	hlen := len(hdr) - len(dst)
	dst = hdr
	binary.BigEndian.PutUint32(dst[start:], uint32(4+len(sums)+dataLen))
	binary.BigEndian.PutUint16(dst[start+4:], uint16(hlen))
	return append(dst, sums...), nil
}

// maxHeaderLen bounds an encoded PacketHeaderProto (five fields, two of
// them 10-byte varints at most).
const maxHeaderLen = 40

// WritePacket writes one packet. The data is not copied into a packet
// buffer: lengths, header and checksums go out with it in one writev when w
// is a connection (net.Buffers), so a DataNode sending a block copies each
// byte only from the file into its read buffer.
func WritePacket(w io.Writer, h PacketHeader, sums, data []byte) error {
	head, err := AppendPacketHead(make([]byte, 0, 6+maxHeaderLen+len(sums)), h, sums, len(data))
	if err != nil {
		return err
	}
	if len(data) == 0 {
		_, err = w.Write(head)
		return err
	}
	bufs := net.Buffers{head, data}
	_, err = bufs.WriteTo(w)
	return err
}

// Packet is a packet read off the wire; Sums and Data alias Raw, which the
// next ReadPacket into the same Packet reuses.
type Packet struct {
	Header PacketHeader
	Sums   []byte
	Data   []byte
	Raw    []byte // the packet as received, lengths included: what a DataNode mirrors downstream
}

// ReadPacket reads the next packet into p, reusing its buffer.
func ReadPacket(r io.Reader, p *Packet) error {
	var lens [6]byte
	if _, err := io.ReadFull(r, lens[:]); err != nil {
		return err
	}
	plen := int(binary.BigEndian.Uint32(lens[:4]))
	hlen := int(binary.BigEndian.Uint16(lens[4:]))
	if plen < 4 || plen+hlen > MaxPacketBytes {
		return fmt.Errorf("invalid packet: payload length %d, header length %d", plen, hlen)
	}
	total := 6 + hlen + plen - 4
	if cap(p.Raw) < total {
		p.Raw = make([]byte, total)
	}
	p.Raw = p.Raw[:total]
	copy(p.Raw, lens[:])
	if _, err := io.ReadFull(r, p.Raw[6:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	var hp hadooppb.PacketHeaderProto
	if err := proto.Unmarshal(p.Raw[6:6+hlen], &hp); err != nil {
		return fmt.Errorf("decode packet header: %w", err)
	}
	p.Header = PacketHeader{OffsetInBlock: hp.GetOffsetInBlock(), Seqno: hp.GetSeqno(), Last: hp.GetLastPacketInBlock(),
		DataLen: hp.GetDataLen(), Sync: hp.GetSyncBlock()}
	body := p.Raw[6+hlen:]
	dl := int(p.Header.DataLen)
	if dl < 0 || dl > len(body) {
		return fmt.Errorf("invalid packet: data length %d in a payload of %d bytes", dl, len(body))
	}
	p.Sums, p.Data = body[:len(body)-dl], body[len(body)-dl:]
	return nil
}

// Ack is a PipelineAckProto: the seqno acknowledged and one status per
// DataNode from the one answering to the end of the pipeline.
type Ack struct {
	Seqno   int64
	Replies []hadooppb.Status
}

// OK reports whether every DataNode succeeded.
func (a Ack) OK() bool {
	for _, s := range a.Replies {
		if s != hadooppb.Status_SUCCESS {
			return false
		}
	}
	return true
}

// FirstBad is the index of the first DataNode that did not succeed, -1 if none.
func (a Ack) FirstBad() int {
	for i, s := range a.Replies {
		if s != hadooppb.Status_SUCCESS {
			return i
		}
	}
	return -1
}

// WriteAck sends an ack. Hadoop since 2.7 reads a reply's status from the
// flag field (status in its low 4 bits, ECN above) and older readers from
// reply: both are filled, as Hadoop's PipelineAck does.
func WriteAck(w io.Writer, a Ack) error {
	p := &hadooppb.PipelineAckProto{Seqno: proto.Int64(a.Seqno), Reply: a.Replies, DownstreamAckTimeNanos: proto.Uint64(0)}
	for _, s := range a.Replies {
		p.Flag = append(p.Flag, uint32(s))
	}
	return WriteDelimited(w, p)
}

// ReadAck reads an ack.
func ReadAck(r io.Reader) (Ack, error) {
	var p hadooppb.PipelineAckProto
	if err := ReadDelimited(r, &p); err != nil {
		return Ack{}, err
	}
	a := Ack{Seqno: p.GetSeqno()}
	if flags := p.GetFlag(); len(flags) > 0 {
		for _, f := range flags {
			a.Replies = append(a.Replies, hadooppb.Status(f&0xf))
		}
	} else {
		a.Replies = p.GetReply()
	}
	return a, nil
}
