package webhdfs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"strconv"
)

// FileChecksum is Hadoop's MD5MD5CRC32FileChecksum: the MD5 of the
// per-block MD5s of the blocks' chunk CRCs, what `hadoop fs -checksum` and
// distcp compare. Two files with the same bytes, block size and
// bytes-per-checksum have the same checksum.
type FileChecksum struct {
	BytesPerCRC int
	CRCPerBlock int64
	CRCType     string // "CRC32C" or "CRC32"
	MD5         [md5.Size]byte
}

// Algorithm is Hadoop's name, "MD5-of-<crcPerBlock>MD5-of-<bytesPerCRC><CRC type>".
func (f FileChecksum) Algorithm() string {
	return "MD5-of-" + strconv.FormatInt(f.CRCPerBlock, 10) + "MD5-of-" + strconv.Itoa(f.BytesPerCRC) + f.CRCType
}

// Bytes is the checksum's Writable form: bytesPerCRC (int32),
// crcPerBlock (int64), the MD5, big-endian.
func (f FileChecksum) Bytes() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(f.BytesPerCRC))
	b = binary.BigEndian.AppendUint64(b, uint64(f.CRCPerBlock))
	return append(b, f.MD5[:]...)
}

// MarshalJSON is GETFILECHECKSUM's answer: {"FileChecksum":{"algorithm",
// "bytes" (hex), "length"}}.
func (f FileChecksum) MarshalJSON() ([]byte, error) {
	b := f.Bytes()
	type body struct {
		Algorithm string `json:"algorithm"`
		Bytes     string `json:"bytes"`
		Length    int    `json:"length"`
	}
	return json.Marshal(map[string]body{"FileChecksum": {f.Algorithm(), hex.EncodeToString(b), len(b)}})
}

// CombineBlockMD5s is the file MD5 of the concatenated block MD5s, as
// Hadoop computes it: over the whole backing array of its DataOutputBuffer
// (32 bytes, doubled as it fills), zero bytes past the data included, so
// the result is comparable with Hadoop's own checksums. For an empty file
// (no block) it is Hadoop's fixed MD5 of 32 zero bytes.
func CombineBlockMD5s(md5s []byte) [md5.Size]byte {
	n := 32
	for n < len(md5s) {
		n *= 2
	}
	buf := make([]byte, n)
	copy(buf, md5s)
	return md5.Sum(buf)
}

// EmptyFileChecksum is what Hadoop answers for a file without blocks.
func EmptyFileChecksum() FileChecksum {
	return FileChecksum{CRCType: "CRC32", MD5: CombineBlockMD5s(nil)}
}

// InlineChecksum is the checksum of data stored as one block with CRC32C
// per bytesPerCRC chunk: what a DataNode would compute for a file of one
// block (crcPerBlock is 0 for a single block, as Hadoop's).
func InlineChecksum(data []byte, bytesPerCRC int) FileChecksum {
	if len(data) == 0 {
		return EmptyFileChecksum()
	}
	tab := crc32.MakeTable(crc32.Castagnoli)
	var crcs []byte
	for p := 0; p < len(data); p += bytesPerCRC {
		crcs = binary.BigEndian.AppendUint32(crcs, crc32.Checksum(data[p:min(p+bytesPerCRC, len(data))], tab))
	}
	blockMD5 := md5.Sum(crcs)
	return FileChecksum{BytesPerCRC: bytesPerCRC, CRCType: "CRC32C", MD5: CombineBlockMD5s(blockMD5[:])}
}

// BlockLocation is one block of GETFILEBLOCKLOCATIONS's answer (Hadoop's
// BlockLocation JSON).
type BlockLocation struct {
	CachedHosts   []string `json:"cachedHosts"`
	Corrupt       bool     `json:"corrupt"`
	Hosts         []string `json:"hosts"`
	Length        int64    `json:"length"`
	Names         []string `json:"names"` // ip:xferPort
	Offset        int64    `json:"offset"`
	StorageTypes  []string `json:"storageTypes"`
	TopologyPaths []string `json:"topologyPaths"` // <rack>/<ip:xferPort>
}
