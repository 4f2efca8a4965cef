package datanode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Checksum types as Hadoop's DataChecksum numbers them (the byte in a meta
// file's header and ChecksumTypeProto's values).
const (
	ChecksumNull   byte = 0
	ChecksumCRC32  byte = 1
	ChecksumCRC32C byte = 2
)

// metaVersion is BlockMetadataHeader.VERSION: the first two bytes of every
// meta file.
const metaVersion = 1

// MetaHeaderLen is the meta file's header: 2-byte version, 1-byte checksum
// type, 4-byte bytesPerChecksum (all big-endian).
const MetaHeaderLen = 7

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ChecksumSpec is a replica's DataChecksum: the CRC kind and the chunk it covers.
type ChecksumSpec struct {
	Type             byte
	BytesPerChecksum int
}

// Size is the bytes of one chunk's checksum.
func (c ChecksumSpec) Size() int {
	if c.Type == ChecksumNull {
		return 0
	}
	return 4
}

// Validate refuses a spec no reader could use.
func (c ChecksumSpec) Validate() error {
	switch c.Type {
	case ChecksumNull, ChecksumCRC32, ChecksumCRC32C:
	default:
		return fmt.Errorf("unknown checksum type %d", c.Type)
	}
	if c.BytesPerChecksum <= 0 || c.BytesPerChecksum > 1<<24 {
		return fmt.Errorf("bytesPerChecksum %d out of range", c.BytesPerChecksum)
	}
	return nil
}

// Chunks is the number of chunks of n data bytes.
func (c ChecksumSpec) Chunks(n int64) int64 {
	return (n + int64(c.BytesPerChecksum) - 1) / int64(c.BytesPerChecksum)
}

// Sum computes one chunk's checksum.
func (c ChecksumSpec) Sum(chunk []byte) uint32 {
	switch c.Type {
	case ChecksumCRC32:
		return crc32.ChecksumIEEE(chunk)
	case ChecksumCRC32C:
		return crc32.Checksum(chunk, castagnoli)
	}
	return 0
}

// AppendSums appends the checksum of every chunk of data (the last may be
// partial) to dst.
func (c ChecksumSpec) AppendSums(dst, data []byte) []byte {
	if c.Size() == 0 {
		return dst
	}
	for len(data) > 0 {
		n := min(len(data), c.BytesPerChecksum)
		dst = binary.BigEndian.AppendUint32(dst, c.Sum(data[:n]))
		data = data[n:]
	}
	return dst
}

// ChecksumError is a chunk whose data does not match its checksum (Hadoop's
// ChecksumException).
type ChecksumError struct {
	Offset int64 // of the chunk in the block
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum error at block offset %d", e.Offset)
}

// ErrChecksum matches every *ChecksumError with errors.Is.
var ErrChecksum = errors.New("checksum error")

func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// Verify checks data (starting at block offset off, a chunk boundary)
// against sums, one per chunk.
func (c ChecksumSpec) Verify(off int64, data, sums []byte) error {
	if c.Size() == 0 {
		return nil
	}
	if int64(len(sums)) < c.Chunks(int64(len(data)))*4 {
		return fmt.Errorf("%d checksum bytes for %d data bytes", len(sums), len(data))
	}
	for i := 0; len(data) > 0; i++ {
		n := min(len(data), c.BytesPerChecksum)
		if binary.BigEndian.Uint32(sums[i*4:]) != c.Sum(data[:n]) {
			return &ChecksumError{Offset: off + int64(i)*int64(c.BytesPerChecksum)}
		}
		data = data[n:]
	}
	return nil
}

// EncodeMetaHeader is BlockMetadataHeader's on-disk header for spec.
func EncodeMetaHeader(spec ChecksumSpec) []byte {
	b := make([]byte, MetaHeaderLen)
	binary.BigEndian.PutUint16(b, metaVersion)
	b[2] = spec.Type
	binary.BigEndian.PutUint32(b[3:], uint32(spec.BytesPerChecksum))
	return b
}

// ReadMetaHeader reads and checks a meta file's header.
func ReadMetaHeader(r io.Reader) (ChecksumSpec, error) {
	var b [MetaHeaderLen]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return ChecksumSpec{}, fmt.Errorf("read meta header: %w", err)
	}
	if v := binary.BigEndian.Uint16(b[:]); v != metaVersion {
		return ChecksumSpec{}, fmt.Errorf("meta file version %d, want %d", v, metaVersion)
	}
	spec := ChecksumSpec{Type: b[2], BytesPerChecksum: int(binary.BigEndian.Uint32(b[3:]))}
	if err := spec.Validate(); err != nil {
		return ChecksumSpec{}, fmt.Errorf("meta header: %w", err)
	}
	return spec, nil
}
