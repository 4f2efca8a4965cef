package dfsclient

import (
	"context"
	"fmt"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// transfer has src copy its replica of b (as written so far) to target
// (TRANSFER_BLOCK; the DataNode sends it in the TRANSFER_RBW stage).
func (c *Client) transfer(ctx context.Context, src hdfs.DatanodeInfo, b hdfs.ExtendedBlock, token *hdfs.Token, target hdfs.DatanodeInfo) error {
	conn, err := c.dialDatanode(ctx, src)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * c.opts.SocketTimeout))
	req := &hadooppb.OpTransferBlockProto{
		Header:             dtp.ClientHeader(b, token, c.opts.ClientName),
		Targets:            []*hadooppb.DatanodeInfoProto{dtp.DatanodeInfoProto(target)},
		TargetStorageTypes: []hadooppb.StorageTypeProto{hadooppb.StorageTypeProto_DISK},
	}
	if err := dtp.WriteOp(conn, dtp.OpTransferBlock, req); err != nil {
		return fmt.Errorf("send TRANSFER_BLOCK to %s: %w", src.XferAddr(), err)
	}
	if _, err := dtp.ReadResponse(dtp.NewReader(conn)); err != nil {
		return fmt.Errorf("TRANSFER_BLOCK %s from %s to %s: %w", b, src.XferAddr(), target.XferAddr(), err)
	}
	return nil
}

// blockChecksum asks one DataNode for the MD5 of the CRCs of b's first
// b.NumBytes bytes (BLOCK_CHECKSUM).
func (c *Client) blockChecksum(ctx context.Context, d hdfs.DatanodeInfo, b hdfs.ExtendedBlock, token *hdfs.Token) (*hadooppb.OpBlockChecksumResponseProto, error) {
	conn, err := c.dialDatanode(ctx, d)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(c.opts.SocketTimeout + 3*time.Second))
	req := &hadooppb.OpBlockChecksumProto{
		Header:               &hadooppb.BaseHeaderProto{Block: dtp.BlockProto(b), Token: dtp.TokenProto(token)},
		BlockChecksumOptions: &hadooppb.BlockChecksumOptionsProto{BlockChecksumType: hadooppb.BlockChecksumTypeProto_MD5CRC.Enum()},
	}
	if err := dtp.WriteOp(conn, dtp.OpBlockChecksum, req); err != nil {
		return nil, fmt.Errorf("send BLOCK_CHECKSUM to %s: %w", d.XferAddr(), err)
	}
	resp, err := dtp.ReadResponse(dtp.NewReader(conn))
	if err != nil {
		return nil, fmt.Errorf("BLOCK_CHECKSUM of %s on %s: %w", b, d.XferAddr(), err)
	}
	if resp.GetChecksumResponse() == nil {
		return nil, fmt.Errorf("BLOCK_CHECKSUM of %s on %s: no checksum in the answer", b, d.XferAddr())
	}
	return resp.GetChecksumResponse(), nil
}
