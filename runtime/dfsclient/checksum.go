package dfsclient

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
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

// Algorithm is Hadoop's algorithm name, "MD5-of-<crcPerBlock>MD5-of-<bytesPerCRC><CRC type>".
func (f FileChecksum) Algorithm() string {
	return "MD5-of-" + strconv.FormatInt(f.CRCPerBlock, 10) + "MD5-of-" + strconv.Itoa(f.BytesPerCRC) + f.CRCType
}

// Bytes is the checksum's Writable form: bytesPerCRC (int32),
// crcPerBlock (int64), the MD5 (16 bytes), all big-endian.
func (f FileChecksum) Bytes() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(f.BytesPerCRC))
	b = binary.BigEndian.AppendUint64(b, uint64(f.CRCPerBlock))
	return append(b, f.MD5[:]...)
}

// WebHDFSJSON is the checksum as WebHDFS's GETFILECHECKSUM answers it.
func (f FileChecksum) WebHDFSJSON() map[string]any {
	b := f.Bytes()
	return map[string]any{"FileChecksum": map[string]any{"algorithm": f.Algorithm(), "bytes": hex.EncodeToString(b), "length": len(b)}}
}

// md5Buffer hashes the concatenated block MD5s as Hadoop does: it digests
// the whole backing array of its DataOutputBuffer (32 bytes, doubled as it
// fills), zero bytes past the data included, so the result is comparable
// with Hadoop's own checksums.
func md5Buffer(data []byte) [md5.Size]byte {
	n := 32
	for n < len(data) {
		n *= 2
	}
	buf := make([]byte, n)
	copy(buf, data)
	return md5.Sum(buf)
}

// GetFileChecksum computes path's checksum from its blocks' checksums,
// asking each block's DataNodes in turn (BLOCK_CHECKSUM), as Hadoop's
// FileChecksumHelper with MD5MD5CRC.
func (c *Client) GetFileChecksum(ctx context.Context, path string) (FileChecksum, error) {
	lbs, err := c.nn.GetBlockLocations(ctx, path, 0, 1<<62, c.opts.User)
	if err != nil {
		return FileChecksum{}, fmt.Errorf("checksum of %s: %w", path, err)
	}
	blocks := lbs.Blocks
	if lbs.FileLength == 0 || len(blocks) == 0 {
		// Hadoop's magic for an empty file: MD5 of 32 zero bytes, CRC32.
		return FileChecksum{CRCType: "CRC32", MD5: md5Buffer(nil)}, nil
	}
	var out FileChecksum
	var md5s []byte
	for i, lb := range blocks {
		var resp *hadooppb.OpBlockChecksumResponseProto
		var lastErr error
		for _, d := range lb.Locations {
			resp, lastErr = c.blockChecksum(ctx, d, lb.Block, lb.Token)
			if lastErr == nil {
				break
			}
			c.logf("dfsclient: checksum of %s: %v", path, lastErr)
		}
		if resp == nil {
			if lastErr == nil {
				lastErr = fmt.Errorf("no DataNode holds %s", lb.Block)
			}
			return FileChecksum{}, fmt.Errorf("checksum of %s: fail to get block MD5 for %s: %w", path, lb.Block, lastErr)
		}
		bpc := int(resp.GetBytesPerCrc())
		if i == 0 {
			out.BytesPerCRC = bpc
			if len(blocks) > 1 {
				out.CRCPerBlock = int64(resp.GetCrcPerBlock())
			}
			out.CRCType = "CRC32C"
			if resp.GetCrcType() == hadooppb.ChecksumTypeProto_CHECKSUM_CRC32 {
				out.CRCType = "CRC32"
			}
		} else if bpc != out.BytesPerCRC {
			return FileChecksum{}, fmt.Errorf("checksum of %s: byte-per-checksum not matched: bpc=%d but bytesPerCRC=%d", path, bpc, out.BytesPerCRC)
		}
		if len(resp.GetBlockChecksum()) != md5.Size {
			return FileChecksum{}, fmt.Errorf("checksum of %s: block MD5 of %s has %d bytes", path, lb.Block, len(resp.GetBlockChecksum()))
		}
		md5s = append(md5s, resp.GetBlockChecksum()...)
	}
	out.MD5 = md5Buffer(md5s)
	return out, nil
}
