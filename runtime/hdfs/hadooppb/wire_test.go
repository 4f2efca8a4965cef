package hadooppb

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A packet header is fixed-length by design: Hadoop sizes its packet buffers
// from the serialized size of a header with every field set (25 bytes, 27
// with syncBlock), whatever the values.
func TestPacketHeaderIsFixedLength(t *testing.T) {
	for _, h := range []*PacketHeaderProto{
		{OffsetInBlock: proto.Int64(0), Seqno: proto.Int64(0), LastPacketInBlock: proto.Bool(false), DataLen: proto.Int32(0)},
		{OffsetInBlock: proto.Int64(1 << 40), Seqno: proto.Int64(-1), LastPacketInBlock: proto.Bool(true), DataLen: proto.Int32(65536)},
	} {
		b, err := proto.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 25 {
			t.Errorf("header %v: %d bytes, want 25", h, len(b))
		}
	}
	h := &PacketHeaderProto{OffsetInBlock: proto.Int64(7), Seqno: proto.Int64(3), LastPacketInBlock: proto.Bool(false), DataLen: proto.Int32(512), SyncBlock: proto.Bool(true)}
	if n := proto.Size(h); n != 27 {
		t.Errorf("header with syncBlock: %d bytes, want 27", n)
	}
}

// Field numbers are the contract with Hadoop: spot-check encodings against
// bytes built by hand from Hadoop's definitions.
func TestHadoopFieldNumbers(t *testing.T) {
	b := &ExtendedBlockProto{PoolId: proto.String("BP-1"), BlockId: proto.Uint64(1073741825), GenerationStamp: proto.Uint64(1001), NumBytes: proto.Uint64(5)}
	got, err := proto.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = protowire.AppendTag(want, 1, protowire.BytesType)
	want = protowire.AppendString(want, "BP-1")
	want = protowire.AppendTag(want, 2, protowire.VarintType)
	want = protowire.AppendVarint(want, 1073741825)
	want = protowire.AppendTag(want, 3, protowire.VarintType)
	want = protowire.AppendVarint(want, 1001)
	want = protowire.AppendTag(want, 4, protowire.VarintType)
	want = protowire.AppendVarint(want, 5)
	if !bytes.Equal(got, want) {
		t.Errorf("ExtendedBlockProto = %x, want %x", got, want)
	}

	// callId is sint32 (zigzag): the connection context's -3 is 5 on the wire.
	h := &RpcRequestHeaderProto{CallId: proto.Int32(-3), ClientId: []byte{}}
	got, err = proto.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x18, 0x05, 0x22, 0x00}; !bytes.Equal(got, want) {
		t.Errorf("RpcRequestHeaderProto = %x, want %x", got, want)
	}

	// Hadoop's parsers reject a message missing a required field; so do ours.
	if _, err := proto.Marshal(&ExtendedBlockProto{PoolId: proto.String("BP-1")}); err == nil {
		t.Error("ExtendedBlockProto without blockId marshalled")
	}
}

// ClientDatanodeProtocol: the visible length is a uint64 that Hadoop reads
// as a long, so -1 ("nothing visible yet") is ten bytes of varint; the
// local info's uptime is field 3.
func TestClientDatanodeFieldNumbers(t *testing.T) {
	got, err := proto.Marshal(&GetReplicaVisibleLengthResponseProto{Length: proto.Uint64(^uint64(0))})
	if err != nil {
		t.Fatal(err)
	}
	want := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), ^uint64(0))
	if !bytes.Equal(got, want) || len(got) != 11 {
		t.Errorf("visible length -1 = %x, want %x", got, want)
	}
	got, err = proto.Marshal(&DatanodeLocalInfoProto{SoftwareVersion: proto.String("v"), ConfigVersion: proto.String("c"), Uptime: proto.Uint64(9)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x0a, 1, 'v', 0x12, 1, 'c', 0x18, 9}; !bytes.Equal(got, want) {
		t.Errorf("DatanodeLocalInfoProto = %x, want %x", got, want)
	}
}
