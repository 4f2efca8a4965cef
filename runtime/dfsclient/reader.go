package dfsclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// prefetchBlocks is how many blocks' locations one getBlockLocations asks
// for (Hadoop's dfs.client.read.prefetch.size, 10 blocks).
const prefetchBlocks = 10

// defaultBlockSize sizes the first prefetch before any block is known.
const defaultBlockSize = 128 << 20

// ErrBlockMissing: no DataNode could serve a block (Hadoop's
// BlockMissingException, "Could not obtain block").
var ErrBlockMissing = errors.New("could not obtain block")

// Reader reads a file (Hadoop's DFSInputStream): each block from the first
// of its locations (the NameNode sorts them nearest first) that works,
// verifying every chunk's CRC32C. A replica that fails its checksum is
// reported to the NameNode and read from another DataNode; a DataNode that
// cannot be reached is skipped; when none is left the locations are
// fetched again (after a NameNode failover they may have changed). It holds
// one packet at a time. A Reader is not safe for concurrent use.
type Reader struct {
	c      *Client
	ctx    context.Context
	path   string
	length int64
	pos    int64

	located hdfs.LocatedBlocks // the prefetched window
	br      blockSource
	dead    map[string]bool // DataNodes (UUID) that failed for the current block
	curBlk  int64           // block id dead refers to
	failed  int             // location refetches of the current block
}

// Open opens path for reading.
func (c *Client) Open(ctx context.Context, path string) (*Reader, error) {
	r := &Reader{c: c, ctx: context.WithoutCancel(ctx), path: path, dead: map[string]bool{}}
	if err := r.fetch(ctx, 0); err != nil {
		return nil, err
	}
	return r, nil
}

// Len is the file's length: its complete blocks and, for a file being
// written, the length of its last block the NameNode knows (set by hflush).
func (r *Reader) Len() int64 { return r.length }

func (r *Reader) fetch(ctx context.Context, off int64) error {
	bs := int64(defaultBlockSize)
	if n := len(r.located.Blocks); n > 0 && r.located.Blocks[0].Block.NumBytes > 0 {
		bs = r.located.Blocks[0].Block.NumBytes
	}
	lbs, err := r.c.nn.GetBlockLocations(ctx, r.path, off, prefetchBlocks*bs, r.c.opts.User)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.path, err)
	}
	r.located = lbs
	r.length = lbs.FileLength
	if lbs.UnderConstruction && lbs.LastBlock != nil && !lbs.LastBlockComplete {
		r.length = lbs.LastBlock.Offset + lbs.LastBlock.Block.NumBytes
	}
	return nil
}

// blockAt is the located block holding file offset off (from the
// prefetched window, fetching another when off is outside it).
func (r *Reader) blockAt(off int64) (hdfs.LocatedBlock, error) {
	find := func() (hdfs.LocatedBlock, bool) {
		for _, b := range r.located.Blocks {
			if off >= b.Offset && off < b.Offset+b.Block.NumBytes {
				return b, true
			}
		}
		if lb := r.located.LastBlock; lb != nil && off >= lb.Offset && off < lb.Offset+lb.Block.NumBytes {
			return *lb, true
		}
		return hdfs.LocatedBlock{}, false
	}
	if b, ok := find(); ok {
		return b, nil
	}
	if err := r.fetch(r.ctx, off); err != nil {
		return hdfs.LocatedBlock{}, err
	}
	if b, ok := find(); ok {
		return b, nil
	}
	return hdfs.LocatedBlock{}, fmt.Errorf("%w: no block of %s holds offset %d (file length %d)", ErrBlockMissing, r.path, off, r.length)
}

// Seek sets the offset of the next Read (io.SeekStart and io.SeekCurrent).
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.length
	default:
		return r.pos, fmt.Errorf("seek: bad whence %d", whence)
	}
	if offset < 0 {
		return r.pos, fmt.Errorf("seek %s to %d: negative offset", r.path, offset)
	}
	if offset != r.pos && r.br != nil {
		r.br.close(r.br.done())
		r.br = nil
	}
	r.pos = offset
	return offset, nil
}

// Read reads the next bytes of the file.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := r.next(len(p))
	return copy(p, b), err
}

// WriteTo writes the rest of the file to w straight from the packets as
// they arrive (verified), without copying them through a caller's buffer:
// io.Copy uses it.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b, err := r.next(math.MaxInt)
		if len(b) > 0 {
			n, werr := w.Write(b)
			total += int64(n)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// next hands out up to max of the next bytes of the file: a slice of the
// current packet, valid until the next call.
func (r *Reader) next(max int) ([]byte, error) {
	for {
		if r.br != nil && r.br.done() {
			// Closed only now, not right after the last slice was handed
			// out: closing reads the block's last packet into the buffer
			// that slice points into.
			r.br.close(true)
			r.br = nil
		}
		if r.pos >= r.length {
			return nil, io.EOF
		}
		if r.br == nil {
			if err := r.openBlock(); err != nil {
				return nil, err
			}
		}
		b, err := r.br.take(max)
		n := len(b)
		r.pos += int64(n)
		if err == nil || (err == io.EOF && n > 0) {
			return b, nil
		}
		if err == io.EOF {
			r.br.close(true)
			r.br = nil
			continue
		}
		// The replica or its DataNode failed: skip it for this block and
		// go on from the same offset elsewhere.
		bad := r.br
		r.br = nil
		bad.close(false)
		lb, node := bad.location()
		r.dead[node.UUID] = true
		var ce *dtp.ChecksumError
		if errors.As(err, &ce) {
			r.c.logf("dfsclient: %s: checksum error in %s on %s at block offset %d; reporting it and reading another replica", r.path, lb.Block, node.XferAddr(), ce.Offset)
			rep := lb
			rep.Locations = []hdfs.DatanodeInfo{node}
			if rerr := r.c.nn.ReportBadBlocks(r.ctx, []hdfs.LocatedBlock{rep}, r.c.opts.User); rerr != nil {
				r.c.logf("dfsclient: reportBadBlocks %s: %v", rep.Block, rerr)
			}
		} else {
			r.c.logf("dfsclient: %s: read %s from %s: %v; trying another DataNode", r.path, lb.Block, node.XferAddr(), err)
		}
		if n > 0 {
			return b, nil
		}
	}
}

// openBlock starts reading the block at r.pos from the best live DataNode,
// refetching locations when every DataNode failed (up to
// dfs.client.max.block.acquire.failures times, waiting longer each time,
// as Hadoop's chooseDataNode).
func (r *Reader) openBlock() error {
	for {
		lb, err := r.blockAt(r.pos)
		if err != nil {
			return err
		}
		if lb.Block.ID != r.curBlk {
			r.curBlk, r.failed = lb.Block.ID, 0
			clear(r.dead)
		}
		var lastErr error
		for _, d := range r.c.localFirst(lb.Locations) {
			if r.dead[d.UUID] {
				continue
			}
			br, err := r.c.openBlockAt(r.ctx, lb, d, r.pos-lb.Offset, lb.Block.NumBytes-(r.pos-lb.Offset))
			if err == nil {
				r.br = br
				return nil
			}
			lastErr = err
			r.dead[d.UUID] = true
			r.c.logf("dfsclient: %s: %v; trying another DataNode", r.path, err)
		}
		if r.failed >= r.c.opts.MaxBlockAcquire {
			if lastErr == nil {
				lastErr = errors.New("no live DataNode holds it")
			}
			return fmt.Errorf("%w: %s of %s: %v", ErrBlockMissing, lb.Block, r.path, lastErr)
		}
		// Hadoop's wait: a random part of 3 s, growing with each failure.
		r.failed++
		wait := time.Duration(float64(3*time.Second) * (float64(r.failed-1) + rand.Float64()*float64(r.failed)))
		r.c.logf("dfsclient: %s: no DataNode could serve %s; fetching its locations again in %v", r.path, lb.Block, wait.Round(time.Millisecond))
		if err := r.c.opts.Sleep(r.ctx, wait); err != nil {
			return err
		}
		clear(r.dead)
		if err := r.fetch(r.ctx, r.pos); err != nil {
			return err
		}
	}
}

// Close ends the read.
func (r *Reader) Close() error {
	if r.br != nil {
		r.br.close(r.br.done())
		r.br = nil
	}
	return nil
}

// blockSource hands out one block range from one replica.
type blockSource interface {
	// take hands out up to max of the next bytes (verified), valid until
	// the next call; io.EOF once the range is read.
	take(max int) ([]byte, error)
	// done reports whether the range was handed out entirely.
	done() bool
	close(complete bool)
	location() (hdfs.LocatedBlock, hdfs.DatanodeInfo)
}

// localFirst is locs with the replicas this process holds (Options.Local)
// moved to the front: a read from the files beats one over the network.
func (c *Client) localFirst(locs []hdfs.DatanodeInfo) []hdfs.DatanodeInfo {
	if c.opts.Local == nil {
		return locs
	}
	var self, others []hdfs.DatanodeInfo
	for _, d := range locs {
		if c.opts.Local.IsSelf(d) {
			self = append(self, d)
		} else {
			others = append(others, d)
		}
	}
	return append(self, others...)
}

// openBlockAt reads [off, off+n) of lb's block from d: from its files when
// d is this process's DataNode and holds it (Options.Local), else over
// DataTransferProtocol.
func (c *Client) openBlockAt(ctx context.Context, lb hdfs.LocatedBlock, d hdfs.DatanodeInfo, off, n int64) (blockSource, error) {
	if c.opts.Local != nil && c.opts.Local.IsSelf(d) {
		if rep, ok := c.opts.Local.OpenLocal(lb.Block, off, n); ok {
			return newLocalBlockReader(lb, d, rep, off, n), nil
		}
	}
	return c.readBlock(ctx, lb, d, off, n)
}

// blockReader streams one block range from one DataNode (Hadoop's
// BlockReaderRemote): READ_BLOCK, then packets of checksummed chunks.
type blockReader struct {
	c       *Client
	lb      hdfs.LocatedBlock
	node    hdfs.DatanodeInfo
	conn    net.Conn
	rd      *bufio.Reader
	bpc     int
	pos     int64 // block offset of the next byte to hand out
	end     int64 // block offset the read stops at
	pkt     dtp.Packet
	data    []byte // unread data of the current packet
	sawLast bool
}

// readBlock asks d for [off, off+n) of lb's block.
func (c *Client) readBlock(ctx context.Context, lb hdfs.LocatedBlock, d hdfs.DatanodeInfo, off, n int64) (*blockReader, error) {
	conn, err := c.dialDatanode(ctx, d)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(c.opts.SocketTimeout))
	req := &hadooppb.OpReadBlockProto{
		Header:          dtp.ClientHeader(lb.Block, lb.Token, c.opts.ClientName),
		Offset:          proto.Uint64(uint64(off)),
		Len:             proto.Uint64(uint64(n)),
		SendChecksums:   proto.Bool(true),
		CachingStrategy: &hadooppb.CachingStrategyProto{},
	}
	if err := dtp.WriteOp(conn, dtp.OpReadBlock, req); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send READ_BLOCK to %s: %w", d.XferAddr(), err)
	}
	rd := dtp.NewReader(conn)
	resp, err := dtp.ReadResponse(rd)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("READ_BLOCK %s from %s: %w", lb.Block, d.XferAddr(), err)
	}
	info := resp.GetReadOpChecksumInfo()
	cs := info.GetChecksum()
	if cs.GetType() != hadooppb.ChecksumTypeProto_CHECKSUM_CRC32C || cs.GetBytesPerChecksum() == 0 {
		conn.Close()
		return nil, fmt.Errorf("READ_BLOCK %s from %s: checksum %v/%d: only CRC32C is supported", lb.Block, d.XferAddr(), cs.GetType(), cs.GetBytesPerChecksum())
	}
	first := int64(info.GetChunkOffset())
	if first > off || off-first >= int64(cs.GetBytesPerChecksum()) {
		conn.Close()
		return nil, fmt.Errorf("READ_BLOCK %s from %s: data starts at %d for a read at %d", lb.Block, d.XferAddr(), first, off)
	}
	return &blockReader{c: c, lb: lb, node: d, conn: conn, rd: rd, bpc: int(cs.GetBytesPerChecksum()), pos: off, end: off + n}, nil
}

// take hands out up to max bytes of the block's data from b.pos (a slice
// of the current packet); io.EOF once the requested range is read.
func (b *blockReader) take(max int) ([]byte, error) {
	for len(b.data) == 0 {
		if b.pos >= b.end {
			return nil, io.EOF
		}
		if b.sawLast {
			return nil, fmt.Errorf("read %s from %s: the replica ends at %d, before %d", b.lb.Block, b.node.XferAddr(), b.pos, b.end)
		}
		if err := b.next(); err != nil {
			return nil, err
		}
	}
	n := min(max, len(b.data))
	d := b.data[:n]
	b.data = b.data[n:]
	return d, nil
}

// next reads and verifies the next packet.
func (b *blockReader) next() error {
	_ = b.conn.SetReadDeadline(time.Now().Add(b.c.opts.SocketTimeout))
	if err := dtp.ReadPacket(b.rd, &b.pkt); err != nil {
		return fmt.Errorf("read packet of %s from %s: %w", b.lb.Block, b.node.XferAddr(), err)
	}
	h := b.pkt.Header
	if h.Last && len(b.pkt.Data) == 0 {
		b.sawLast = true
		return nil
	}
	if h.OffsetInBlock > b.pos {
		return fmt.Errorf("read %s from %s: packet at block offset %d, expected %d", b.lb.Block, b.node.XferAddr(), h.OffsetInBlock, b.pos)
	}
	if err := dtp.VerifyChecksums(b.pkt.Sums, b.pkt.Data, b.bpc, h.OffsetInBlock); err != nil {
		return err
	}
	data := b.pkt.Data
	if skip := b.pos - h.OffsetInBlock; skip > 0 {
		if skip > int64(len(data)) {
			skip = int64(len(data))
		}
		data = data[skip:]
	}
	wantEnd := b.end - b.pos
	if int64(len(data)) > wantEnd {
		data = data[:wantEnd]
	}
	b.data = data
	b.pos += int64(len(data))
	if h.Last {
		b.sawLast = true
	}
	return nil
}

func (b *blockReader) done() bool { return len(b.data) == 0 && b.pos >= b.end }

func (b *blockReader) location() (hdfs.LocatedBlock, hdfs.DatanodeInfo) { return b.lb, b.node }

// close ends the read. After a complete read the DataNode is told the
// checksums verified (CHECKSUM_OK), as Hadoop's client does, which lets it
// note the replica as recently verified.
func (b *blockReader) close(complete bool) {
	if complete {
		if !b.sawLast {
			// The empty last packet follows the data.
			_ = b.conn.SetReadDeadline(time.Now().Add(b.c.opts.SocketTimeout))
			for !b.sawLast {
				if err := dtp.ReadPacket(b.rd, &b.pkt); err != nil {
					break
				}
				if b.pkt.Header.Last || len(b.pkt.Data) == 0 {
					b.sawLast = true
				}
			}
		}
		if b.sawLast {
			_ = b.conn.SetWriteDeadline(time.Now().Add(b.c.opts.SocketTimeout))
			_ = dtp.WriteDelimited(b.conn, &hadooppb.ClientReadStatusProto{Status: hadooppb.Status_CHECKSUM_OK.Enum()})
		}
	}
	b.conn.Close()
}
