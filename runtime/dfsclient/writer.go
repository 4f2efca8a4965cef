package dfsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// maxPacketHeader is the largest encoded packet header with its lengths
// (Hadoop's PacketHeader.PKT_MAX_HEADER_LEN): packets are sized so that
// header, checksums and data fit dfs.client-write-packet-size.
const maxPacketHeader = 6 + 27

// maxRecoveries bounds the pipeline recoveries of one block (Hadoop gives
// up after 5 recoveries of the same packet).
const maxRecoveries = 5

// Writer writes a file (Hadoop's DFSOutputStream): Write fills 64 KiB
// packets of 512-byte chunks with their CRC32C, sends each down the
// pipeline of the block's DataNodes and keeps it until every DataNode
// acknowledged it. A DataNode that fails mid-block is dropped and the block
// continues on the survivors under a new generation stamp (pipeline
// recovery); only Close (or Hflush) returning nil means the bytes are
// written. A Writer is not safe for concurrent use.
type Writer struct {
	c           *Client
	ctx         context.Context
	path        string
	fileID      int64
	blockSize   int64
	replication int

	buf       []byte // data of the packet being filled
	sums      []byte // scratch for the packet's checksums
	bufOffset int64  // block offset of buf[0]
	maxData   int    // data bytes a full packet carries
	seqno     int64

	block    *hdfs.LocatedBlock  // the block being written; nil between blocks
	pipe     *pipeline           //
	previous *hdfs.ExtendedBlock // the last block finished, for addBlock and complete
	appended bool                // block came from append: its pipeline is set up on the first packet
	excluded []hdfs.DatanodeID   // DataNodes that failed this writer
	written  int64               // bytes accepted by Write
	err      error               // sticky: the writer is dead
	closed   bool
}

// Create makes path (under a lease held by the client) and returns a
// writer for it (Hadoop's DFSClient.create). opts.BlockSize and
// Replication 0 take the NameNode's defaults.
func (c *Client) Create(ctx context.Context, path string, opts hdfs.CreateOptions) (*Writer, error) {
	st, err := c.nn.Create(ctx, path, c.opts.ClientName, opts, c.opts.User)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w, err := c.newWriter(ctx, path, st)
	if err != nil {
		return nil, err
	}
	c.leaseOpened()
	return w, nil
}

// Append reopens path for writing at its end (Hadoop's DFSClient.append).
// A partial last block is continued in place; otherwise the next Write
// starts a new block.
func (c *Client) Append(ctx context.Context, path string) (*Writer, error) {
	lb, st, err := c.nn.Append(ctx, path, c.opts.ClientName, c.opts.User)
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", path, err)
	}
	w, err := c.newWriter(ctx, path, st)
	if err != nil {
		return nil, err
	}
	w.written = st.Length
	if lb != nil {
		w.block = lb
		w.appended = true
		w.bufOffset = lb.Block.NumBytes
		prev := lb.Block
		w.previous = &prev
	} else if st.Length > 0 {
		// The last block is full: the next addBlock commits it by name;
		// the NameNode knows it, so previous is looked up from the locations.
		lbs, err := c.nn.GetBlockLocations(ctx, path, st.Length-1, 1, c.opts.User)
		if err != nil {
			return nil, fmt.Errorf("append %s: %w", path, err)
		}
		if n := len(lbs.Blocks); n > 0 {
			prev := lbs.Blocks[n-1].Block
			w.previous = &prev
		}
	}
	c.leaseOpened()
	return w, nil
}

func (c *Client) newWriter(ctx context.Context, path string, st webhdfs.FileStatus) (*Writer, error) {
	bpc := c.opts.BytesPerChecksum
	if st.BlockSize <= 0 || st.BlockSize%int64(bpc) != 0 {
		return nil, fmt.Errorf("create %s: block size %d is not a positive multiple of %s %d", path, st.BlockSize, KeyBytesPerChecksum, bpc)
	}
	chunks := max((c.opts.WritePacketSize-maxPacketHeader)/(bpc+dtp.ChecksumSize), 1)
	return &Writer{c: c, ctx: context.WithoutCancel(ctx), path: path, fileID: st.FileID, blockSize: st.BlockSize,
		replication: int(st.Replication), maxData: chunks * bpc}, nil
}

// Write buffers p into packets and sends every full one; it returns an
// error once the file can no longer be written (every DataNode of a block
// failed, the lease was lost, …).
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("write to a closed file")
	}
	n := 0
	for len(p) > 0 {
		if w.err != nil {
			return n, w.err
		}
		if w.buf == nil {
			w.buf = w.newBuf()
		}
		room := w.packetRoom()
		k := min(room-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		w.written += int64(k)
		if len(w.buf) == room {
			w.err = w.sendPacket(false)
		}
	}
	return n, w.err
}

// ReadFrom writes what src yields until io.EOF, reading it straight into
// the packet being filled (no copy through a buffer of the caller's): a
// WebHDFS CREATE streams its request body with it. An error of src is
// returned as it is; the file stays open either way.
func (w *Writer) ReadFrom(src io.Reader) (int64, error) {
	if w.closed {
		return 0, errors.New("write to a closed file")
	}
	var total int64
	for {
		if w.err != nil {
			return total, w.err
		}
		if w.buf == nil {
			w.buf = w.newBuf()
		}
		room := w.packetRoom()
		if cap(w.buf) < room {
			w.buf = append(make([]byte, 0, w.maxData), w.buf...)
		}
		n, rerr := src.Read(w.buf[len(w.buf):room])
		w.buf = w.buf[:len(w.buf)+n]
		total += int64(n)
		w.written += int64(n)
		if len(w.buf) == room {
			w.err = w.sendPacket(false)
		}
		if rerr == io.EOF {
			return total, w.err
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// newBuf is an empty buffer for a whole packet's data.
func (w *Writer) newBuf() []byte {
	b := getPacketBuf()
	if cap(b) < w.maxData {
		b = make([]byte, 0, w.maxData)
	}
	return b
}

// packetRoom is how much data the packet being filled may carry: a full
// packet, cut at the block's end, and, when the block ends in a partial
// chunk (an appended block), only that chunk's rest, so that every later
// packet starts on a chunk boundary (Hadoop's computePacketChunkSize).
func (w *Writer) packetRoom() int {
	room := int64(w.maxData)
	bpc := int64(w.c.opts.BytesPerChecksum)
	if r := w.bufOffset % bpc; r != 0 {
		room = bpc - r
	}
	return int(min(room, w.blockSize-w.bufOffset))
}

// sendPacket sends the buffered data as one packet (sync: the DataNodes
// persist it), starting a block first when none is open, and ends the
// block once it is full.
func (w *Writer) sendPacket(sync bool) error {
	if w.block == nil || (w.appended && w.pipe == nil) {
		if err := w.startBlock(); err != nil {
			return err
		}
	}
	data := w.buf
	bpc := w.c.opts.BytesPerChecksum
	w.sums = dtp.AppendChecksums(w.sums[:0], data, bpc)
	head, err := dtp.AppendPacketHead(make([]byte, 0, maxPacketHeader+len(w.sums)), dtp.PacketHeader{OffsetInBlock: w.bufOffset, Seqno: w.seqno, Sync: sync}, w.sums, len(data))
	if err != nil {
		return err
	}
	// The packet keeps the buffer until it is acknowledged (it may be
	// sent again after a pipeline recovery); the next one gets another.
	pkt := &packet{seqno: w.seqno, offset: w.bufOffset, end: w.bufOffset + int64(len(data)), head: head, data: data}
	w.seqno++
	w.bufOffset = pkt.end
	w.buf = nil
	if err := w.sendRecovering(pkt); err != nil {
		return err
	}
	if w.bufOffset == w.blockSize {
		return w.endBlock()
	}
	return nil
}

// sendRecovering sends pkt, recovering the pipeline as often as needed.
func (w *Writer) sendRecovering(pkt *packet) error {
	err := w.pipe.send(pkt, w.c.opts.MaxPacketsInFlight)
	for attempt := 0; err != nil; attempt++ {
		if w.err != nil {
			return w.err
		}
		if attempt >= maxRecoveries {
			return w.fatal(err)
		}
		err = w.recover(err)
	}
	return nil
}

// waitAckedRecovering waits for every packet's ack, recovering as needed.
func (w *Writer) waitAckedRecovering() error {
	err := w.pipe.waitAcked()
	for attempt := 0; err != nil; attempt++ {
		if w.err != nil {
			return w.err
		}
		if attempt >= maxRecoveries {
			return w.fatal(err)
		}
		if err = w.recover(err); err == nil {
			err = w.pipe.waitAcked()
		}
	}
	return nil
}

// fatal makes err the writer's last word.
func (w *Writer) fatal(err error) error {
	if w.pipe != nil {
		w.pipe.close()
		w.pipe = nil
	}
	if w.err == nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

// startBlock allocates the next block and sets up its pipeline, or sets
// up the pipeline of an appended block. A DataNode that refuses the
// pipeline is excluded and the block abandoned for another (Hadoop's
// nextBlockOutputStream, dfs.client.block.write.retries times).
func (w *Writer) startBlock() error {
	if w.appended {
		return w.setupAppend()
	}
	c := w.c
	for retries := c.opts.BlockWriteRetries; ; retries-- {
		lb, err := c.nn.AddBlock(w.ctx, w.path, c.opts.ClientName, w.previous, w.excluded, w.fileID, c.opts.User)
		if err != nil {
			return w.fatal(fmt.Errorf("addBlock: %w", err))
		}
		pipe, err := c.setupPipeline(w.ctx, writeBlockOp{block: lb.Block, token: lb.Token, nodes: lb.Locations, storageIDs: lb.StorageIDs,
			stage: hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE, blockSize: w.blockSize})
		if err == nil {
			w.block, w.pipe, w.bufOffset, w.seqno = &lb, pipe, 0, 0
			return nil
		}
		c.logf("dfsclient: %s: %v; abandoning %s", w.path, err, lb.Block)
		if aerr := c.nn.AbandonBlock(w.ctx, lb.Block, w.fileID, w.path, c.opts.ClientName, c.opts.User); aerr != nil {
			return w.fatal(fmt.Errorf("abandonBlock %s: %w", lb.Block, aerr))
		}
		var pf *pipelineFailure
		if errors.As(err, &pf) && pf.bad >= 0 && pf.bad < len(lb.Locations) {
			w.excluded = append(w.excluded, lb.Locations[pf.bad].DatanodeID)
		}
		if retries <= 1 {
			return w.fatal(fmt.Errorf("unable to create new block: %w", err))
		}
	}
}

// setupAppend continues an appended partial block: a new generation stamp
// for it, a pipeline in PIPELINE_SETUP_APPEND, the new pipeline recorded.
func (w *Writer) setupAppend() error {
	c := w.c
	old := w.block.Block
	upd, err := c.nn.UpdateBlockForPipeline(w.ctx, old, c.opts.ClientName, c.opts.User)
	if err != nil {
		return w.fatal(fmt.Errorf("updateBlockForPipeline %s: %w", old, err))
	}
	newGS := upd.Block.GenStamp
	pipe, err := c.setupPipeline(w.ctx, writeBlockOp{block: old, token: upd.Token, nodes: w.block.Locations, storageIDs: w.block.StorageIDs,
		stage: hadooppb.OpWriteBlockProto_PIPELINE_SETUP_APPEND, minRcvd: old.NumBytes, maxRcvd: old.NumBytes, latestGS: newGS, blockSize: w.blockSize})
	if err != nil {
		return w.fatal(fmt.Errorf("append pipeline: %w", err))
	}
	nb := old
	nb.GenStamp = newGS
	if err := c.nn.UpdatePipeline(w.ctx, c.opts.ClientName, old, nb, ids(w.block.Locations), c.opts.User); err != nil {
		pipe.close()
		return w.fatal(fmt.Errorf("updatePipeline %s: %w", nb, err))
	}
	w.block.Block, w.block.Token = nb, upd.Token
	w.pipe, w.appended, w.seqno = pipe, false, 0
	return nil
}

func ids(nodes []hdfs.DatanodeInfo) []hdfs.DatanodeID {
	out := make([]hdfs.DatanodeID, len(nodes))
	for i, n := range nodes {
		out[i] = n.DatanodeID
	}
	return out
}

// endBlock waits for every packet's ack, sends the empty last packet, waits
// for its ack and closes the pipeline; the block is then finalized on the
// DataNodes and named as previous in the next addBlock or in complete.
func (w *Writer) endBlock() error {
	if err := w.waitAckedRecovering(); err != nil {
		return err
	}
	head, err := dtp.AppendPacketHead(nil, dtp.PacketHeader{OffsetInBlock: w.bufOffset, Seqno: w.seqno, Last: true}, nil, 0)
	if err != nil {
		return err
	}
	pkt := &packet{seqno: w.seqno, offset: w.bufOffset, end: w.bufOffset, last: true, head: head}
	w.seqno++
	if err := w.sendRecovering(pkt); err != nil {
		return err
	}
	if err := w.waitAckedRecovering(); err != nil {
		return err
	}
	w.pipe.close()
	b := w.block.Block
	b.NumBytes = w.bufOffset
	w.previous, w.block, w.pipe, w.bufOffset = &b, nil, nil, 0
	return nil
}

// recover continues the block on the DataNodes that did not fail (Hadoop's
// setupPipelineForAppendOrRecovery): drop the failed DataNode, maybe add
// one, take a new generation stamp, set the survivors up in recovery, tell
// the NameNode the new pipeline, then send every unacknowledged packet
// again. It returns the error of a resend that failed (recover again) or
// of a recovery that cannot succeed (the writer is then dead).
func (w *Writer) recover(cause error) error {
	c := w.c
	var pf *pipelineFailure
	bad := 0
	if errors.As(cause, &pf) {
		bad = pf.bad
	}
	unacked, acked := w.pipe.close()
	nodes := slices.Clone(w.pipe.nodes)
	storage := slices.Clone(w.pipe.storage)
	closing := len(unacked) > 0 && unacked[len(unacked)-1].last
	sent := acked
	if len(unacked) > 0 {
		sent = unacked[len(unacked)-1].end
	}
	old := w.block.Block
	old.NumBytes = acked
	for attempt := 0; ; attempt++ {
		if bad >= 0 && bad < len(nodes) {
			c.logf("dfsclient: %s: %s: DataNode %s failed (%v); recovering the pipeline", w.path, old, nodes[bad].XferAddr(), cause)
			w.excluded = append(w.excluded, nodes[bad].DatanodeID)
			nodes = slices.Delete(nodes, bad, bad+1)
			if bad < len(storage) {
				storage = slices.Delete(storage, bad, bad+1)
			}
		}
		if len(nodes) == 0 {
			return w.fatal(fmt.Errorf("all DataNodes of %s are bad, aborting: %w", old, cause))
		}
		if attempt > maxRecoveries {
			return w.fatal(fmt.Errorf("pipeline recovery of %s failed %d times: %w", old, attempt, cause))
		}
		if !closing && w.wantReplacement(len(nodes)) && acked > 0 {
			nodes, storage = w.addDatanode(old, nodes, storage)
		}
		upd, err := c.nn.UpdateBlockForPipeline(w.ctx, old, c.opts.ClientName, c.opts.User)
		if err != nil {
			return w.fatal(fmt.Errorf("updateBlockForPipeline %s: %w", old, err))
		}
		stage := hadooppb.OpWriteBlockProto_PIPELINE_SETUP_STREAMING_RECOVERY
		if closing {
			stage = hadooppb.OpWriteBlockProto_PIPELINE_CLOSE_RECOVERY
		}
		pipe, err := c.setupPipeline(w.ctx, writeBlockOp{block: old, token: upd.Token, nodes: nodes, storageIDs: storage, stage: stage,
			minRcvd: acked, maxRcvd: sent, latestGS: upd.Block.GenStamp, blockSize: w.blockSize})
		if err != nil {
			cause, bad = err, 0
			if errors.As(err, &pf) {
				bad = pf.bad
			}
			continue
		}
		nb := old
		nb.GenStamp = upd.Block.GenStamp
		if err := c.nn.UpdatePipeline(w.ctx, c.opts.ClientName, old, nb, ids(nodes), c.opts.User); err != nil {
			pipe.close()
			return w.fatal(fmt.Errorf("updatePipeline %s: %w", nb, err))
		}
		w.block.Block, w.block.Token, w.block.Locations, w.block.StorageIDs = nb, upd.Token, nodes, storage
		w.pipe = pipe
		for _, pkt := range unacked {
			if err := pipe.send(pkt, len(unacked)+1); err != nil {
				return err
			}
		}
		return nil
	}
}

// wantReplacement is Hadoop's ReplaceDatanodeOnFailure DEFAULT policy for
// a pipeline left with n DataNodes: replication ≥ 3 and at most half of it
// left. (Hadoop also replaces after an hflush or append; hactl keeps to the
// replica count rule.)
func (w *Writer) wantReplacement(n int) bool {
	return !w.c.opts.NoReplaceDatanode && w.replication >= 3 && n <= w.replication/2
}

// addDatanode asks the NameNode for one more DataNode and has a survivor
// copy the replica written so far to it (TRANSFER_BLOCK with the RBW
// stage). It is best effort: on any failure the pipeline continues with
// the survivors and the NameNode's replication monitor restores the count
// once the file is closed.
func (w *Writer) addDatanode(b hdfs.ExtendedBlock, nodes []hdfs.DatanodeInfo, storage []string) ([]hdfs.DatanodeInfo, []string) {
	c := w.c
	lb, err := c.nn.GetAdditionalDatanode(w.ctx, w.path, w.fileID, b, nodes, w.excluded, 1, c.opts.ClientName, c.opts.User)
	if err != nil {
		c.logf("dfsclient: %s: no DataNode to replace the failed one: %v", w.path, err)
		return nodes, storage
	}
	added := -1
	for i, n := range lb.Locations {
		if !slices.ContainsFunc(nodes, func(o hdfs.DatanodeInfo) bool { return o.UUID == n.UUID }) {
			added = i
		}
	}
	if added < 0 || len(lb.Locations) != len(nodes)+1 {
		return nodes, storage
	}
	src := lb.Locations[max(added-1, 0)]
	if added == 0 {
		src = lb.Locations[1]
	}
	if err := c.transfer(w.ctx, src, b, w.block.Token, lb.Locations[added]); err != nil {
		c.logf("dfsclient: %s: copy %s from %s to the new DataNode %s: %v", w.path, b, src.XferAddr(), lb.Locations[added].XferAddr(), err)
		return nodes, storage
	}
	return lb.Locations, lb.StorageIDs
}

// Hflush sends what is buffered and waits until every DataNode of the
// pipeline acknowledged it: readers see the data from then on (Hadoop's
// hflush). The NameNode is told the block's length.
func (w *Writer) Hflush() error {
	if w.closed {
		return errors.New("hflush of a closed file")
	}
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		// The chunk left partial is sent now and again, completed, with
		// the next packet: keep it and restart the packet at its start.
		bpc := int64(w.c.opts.BytesPerChecksum)
		keep := int((w.bufOffset + int64(len(w.buf))) % bpc)
		if w.bufOffset%bpc != 0 {
			keep = 0 // an appended block's first partial chunk is sent on its own
		}
		tail := append([]byte(nil), w.buf[len(w.buf)-keep:]...)
		if err := w.sendPacket(true); err != nil {
			return err
		}
		if keep > 0 && w.block != nil {
			w.buf = append(w.newBuf(), tail...)
			w.bufOffset -= int64(keep)
		}
	}
	if w.pipe == nil {
		return nil
	}
	if err := w.waitAckedRecovering(); err != nil {
		return err
	}
	if err := w.c.nn.Fsync(w.ctx, w.path, w.fileID, w.c.opts.ClientName, w.pipe.ackedBytes(), w.c.opts.User); err != nil {
		return w.fatal(fmt.Errorf("fsync: %w", err))
	}
	return nil
}

func (p *pipeline) ackedBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked
}

// Written is the number of bytes the file holds once the writer closes.
func (w *Writer) Written() int64 { return w.written }

// Close sends the rest, ends the last block and completes the file,
// repeating complete while the NameNode waits for the last block's minimum
// replicas (Hadoop's completeFile). Only a nil error means the whole file
// is written.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	defer w.c.leaseClosed()
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		if err := w.sendPacket(false); err != nil {
			return err
		}
	}
	if w.block != nil && w.pipe != nil {
		if err := w.endBlock(); err != nil {
			return err
		}
	} else if w.block != nil && w.appended {
		// Appended nothing to the reopened block: it stays as it was.
		b := w.block.Block
		w.previous = &b
	}
	putPacketBuf(w.buf)
	w.buf = nil
	c := w.c
	delay := c.opts.CompleteInitialDelay
	for retries := c.opts.CompleteRetries; ; retries-- {
		ok, err := c.nn.Complete(w.ctx, w.path, c.opts.ClientName, w.previous, w.fileID, c.opts.User)
		if err != nil {
			return w.fatal(fmt.Errorf("complete: %w", err))
		}
		if ok {
			return nil
		}
		if retries <= 0 {
			return w.fatal(errors.New("unable to close file because the last block does not have enough number of replicas"))
		}
		c.logf("dfsclient: %s: complete: the last block is not yet minimally replicated; retrying in %v", w.path, delay)
		if err := c.opts.Sleep(w.ctx, delay); err != nil {
			return w.fatal(err)
		}
		delay *= 2
	}
}

// Abort stops writing without completing the file: the lease is released
// to the NameNode's lease recovery, which closes the file at the length
// every live replica holds.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	defer w.c.leaseClosed()
	if w.pipe != nil {
		w.pipe.close()
		w.pipe = nil
	}
	if w.err == nil {
		w.err = errors.New("write aborted")
	}
}
