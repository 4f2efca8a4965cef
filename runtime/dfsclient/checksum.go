package dfsclient

import (
	"context"
	"crypto/md5"
	"fmt"

	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// FileChecksum is Hadoop's MD5MD5CRC32FileChecksum (webhdfs.FileChecksum).
type FileChecksum = webhdfs.FileChecksum

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
		return webhdfs.EmptyFileChecksum(), nil
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
	out.MD5 = webhdfs.CombineBlockMD5s(md5s)
	return out, nil
}
