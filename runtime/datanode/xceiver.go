package datanode

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// packetData is the data bytes per packet the DataNode sends (Hadoop's
// 64 KiB write packet size, a whole number of chunks).
const packetData = 64 << 10

type stage = hadooppb.OpWriteBlockProto_BlockConstructionStage

// serveXfer accepts DataTransferProtocol connections (Hadoop's DataXceiverServer).
func (dn *DataNode) serveXfer() {
	for {
		c, err := dn.xferLn.Accept()
		if err != nil {
			if dn.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		dn.serve(c)
	}
}

// serve runs c's operations in a goroutine of their own, if a transfer
// thread is free (dfs.datanode.max.transfer.threads); false: c was closed.
func (dn *DataNode) serve(c net.Conn) bool {
	select {
	case dn.slots <- struct{}{}:
	default:
		dn.logf("refusing a DataTransferProtocol connection from %s: dfs.datanode.max.transfer.threads (%d) in use", c.RemoteAddr(), dn.opts.MaxXceivers)
		c.Close()
		return false
	}
	dn.connsMu.Lock()
	dn.conns[c] = true
	dn.connsMu.Unlock()
	dn.wg.Add(1)
	go func() {
		defer dn.wg.Done()
		defer func() { <-dn.slots }()
		dn.xceiver.Add(1)
		defer dn.xceiver.Add(-1)
		dn.serveConn(c)
		dn.connsMu.Lock()
		delete(dn.conns, c)
		dn.connsMu.Unlock()
		c.Close()
	}()
	return true
}

// DialSelf connects to this DataNode's DataTransferProtocol server through
// memory instead of a loopback socket: its own WebHDFS's pipelines and
// reads start here without the kernel's TCP copies. The connection is
// served exactly as an accepted one.
func (dn *DataNode) DialSelf() (net.Conn, error) {
	if dn.ctx.Err() != nil {
		return nil, fmt.Errorf("DataNode %s is stopping", dn.XferAddr())
	}
	client, server := newMemConn()
	if !dn.serve(server) {
		client.Close()
		return nil, fmt.Errorf("DataNode %s: dfs.datanode.max.transfer.threads (%d) in use", dn.XferAddr(), dn.opts.MaxXceivers)
	}
	return client, nil
}

// serveConn runs operations on one connection; a read that ended well may be
// followed by another (Hadoop's socket reuse).
func (dn *DataNode) serveConn(c net.Conn) {
	br := dtp.NewReader(c)
	wait := dn.opts.SocketTimeout
	for dn.ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(wait))
		// A reused connection waits for its next op only briefly
		// (Hadoop's dfs.datanode.socket.reuse.keepalive).
		wait = min(wait, dn.opts.ReuseKeepalive)
		op, err := dtp.ReadOp(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				dn.logf("DataTransferProtocol from %s: %v", c.RemoteAddr(), err)
			}
			return
		}
		var again bool
		switch op {
		case dtp.OpWriteBlock:
			err = dn.opWriteBlock(c, br)
		case dtp.OpReadBlock:
			again, err = dn.opReadBlock(c, br)
		case dtp.OpBlockChecksum:
			err = dn.opBlockChecksum(c, br)
		case dtp.OpTransferBlock:
			err = dn.opTransferBlock(c, br)
		case dtp.OpCopyBlock:
			err = dn.opCopyBlock(c, br)
		case dtp.OpReplaceBlock:
			err = dn.opReplaceBlock(c, br)
		default:
			writeResponse(c, hadooppb.Status_ERROR_UNSUPPORTED, fmt.Sprintf("operation %s is not supported", op))
			return
		}
		if err != nil {
			dn.logf("%s from %s: %v", op, c.RemoteAddr(), err)
			return
		}
		if !again {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func writeResponse(w io.Writer, st hadooppb.Status, msg string) error {
	r := &hadooppb.BlockOpResponseProto{Status: st.Enum()}
	if msg != "" {
		r.Message = proto.String(msg)
	}
	return dtp.WriteDelimited(w, r)
}

// checkToken verifies an operation's block token when tokens are enabled.
func (dn *DataNode) checkToken(t *hadooppb.TokenProto, b hdfs.ExtendedBlock, mode string) error {
	if !dn.opts.BlockTokens {
		return nil
	}
	return hdfs.VerifyBlockToken(dn.opts.Secret, dtp.TokenFromProto(t), b, mode, time.Now())
}

func specFromProto(p *hadooppb.ChecksumProto) ChecksumSpec {
	return ChecksumSpec{Type: byte(p.GetType()), BytesPerChecksum: int(p.GetBytesPerChecksum())}
}

func specProto(s ChecksumSpec) *hadooppb.ChecksumProto {
	return &hadooppb.ChecksumProto{Type: hadooppb.ChecksumTypeProto(s.Type).Enum(), BytesPerChecksum: proto.Uint32(uint32(s.BytesPerChecksum))}
}

// opWriteBlock is Hadoop's DataXceiver.writeBlock with its BlockReceiver:
// set up the replica for the stage, connect the pipeline's next DataNode,
// then receive packets, verify their checksums, mirror them downstream,
// write them, and (for a client) acknowledge each once the rest of the
// pipeline has.
func (dn *DataNode) opWriteBlock(c net.Conn, br *bufio.Reader) error {
	req := &hadooppb.OpWriteBlockProto{}
	if err := dtp.ReadDelimited(br, req); err != nil {
		return fmt.Errorf("read WRITE_BLOCK: %w", err)
	}
	hdr := req.GetHeader()
	b := dtp.BlockFromProto(hdr.GetBaseHeader().GetBlock())
	clientName := hdr.GetClientName()
	isClient := clientName != ""
	stg := req.GetStage()
	isTransfer := stg == hadooppb.OpWriteBlockProto_TRANSFER_RBW || stg == hadooppb.OpWriteBlockProto_TRANSFER_FINALIZED
	// A client's pipeline gets a connect ack once its downstream is set up;
	// a transfer gets only the close ack once the replica is stored (the
	// source takes the first answer as the end of the copy).
	connectAck := isClient && !isTransfer
	newGS := int64(req.GetLatestGenerationStamp())
	fail := func(st hadooppb.Status, err error) error {
		if isClient || isTransfer {
			writeResponse(c, st, err.Error())
		}
		return err
	}
	if err := dn.checkToken(hdr.GetBaseHeader().GetToken(), b, hdfs.AccessWrite); err != nil {
		return fail(hadooppb.Status_ERROR_ACCESS_TOKEN, err)
	}
	spec := specFromProto(req.GetRequestedChecksum())
	if err := spec.Validate(); err != nil {
		return fail(hadooppb.Status_ERROR_INVALID, err)
	}

	var w *ReplicaWriter
	var err error
	switch stg {
	case hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE:
		gb := b
		gb.GenStamp = max(newGS, b.GenStamp)
		w, err = dn.st.CreateRBW(gb, spec, 128<<20, !isClient)
		if err == nil && isClient {
			dn.notify(w.Block(), hdfs.StatusReceiving, w.StorageUUID(), "")
		}
	case hadooppb.OpWriteBlockProto_TRANSFER_RBW, hadooppb.OpWriteBlockProto_TRANSFER_FINALIZED:
		w, err = dn.st.CreateRBW(b, spec, b.NumBytes, true)
	case hadooppb.OpWriteBlockProto_PIPELINE_SETUP_APPEND, hadooppb.OpWriteBlockProto_PIPELINE_SETUP_APPEND_RECOVERY:
		finalized := stg == hadooppb.OpWriteBlockProto_PIPELINE_SETUP_APPEND
		if r, ok := dn.st.Get(b.PoolID, b.ID); ok && r.State == hdfs.ReplicaFinalized {
			finalized = true
		}
		if w, err = dn.st.ReopenRBW(b, newGS, finalized); err == nil {
			// The NameNode learns the replica is being written again
			// (Hadoop notifies RECEIVING_BLOCK for appends too).
			dn.notify(w.Block(), hdfs.StatusReceiving, w.StorageUUID(), "")
		}
	case hadooppb.OpWriteBlockProto_PIPELINE_SETUP_STREAMING_RECOVERY:
		w, err = dn.st.ReopenRBW(b, newGS, false)
	case hadooppb.OpWriteBlockProto_PIPELINE_CLOSE_RECOVERY:
		if err = dn.st.CloseRecovery(b, newGS); err == nil {
			if r, ok := dn.st.Get(b.PoolID, b.ID); ok {
				nb := b
				nb.GenStamp, nb.NumBytes = r.GenStamp, r.NumBytes
				dn.notify(nb, hdfs.StatusReceived, r.StorageUUID, "")
			}
		}
	default:
		err = fmt.Errorf("block construction stage %s is not supported", stg)
	}
	if err != nil {
		st := hadooppb.Status_ERROR
		if errors.Is(err, ErrReplicaExists) {
			st = hadooppb.Status_ERROR_EXISTS
		}
		return fail(st, fmt.Errorf("set up %s for %s: %w", b, stg, err))
	}
	if w != nil && w.Spec() != spec && stg != hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE && !isTransfer {
		// Continuing a replica: the client must use its checksum.
		spec = w.Spec()
	}
	done := false
	defer func() {
		if !done && w != nil {
			// An unfinished transfer leaves nothing; a client's RBW stays
			// for pipeline or lease recovery.
			w.Abort(!isClient || isTransfer)
		}
	}()

	// Connect downstream.
	targets := req.GetTargets()
	var mirror net.Conn
	var mirrorIn *bufio.Reader
	firstBadLink := ""
	if len(targets) > 0 {
		addr := dtp.DatanodeInfoFromProto(targets[0]).XferAddr()
		mirror, err = net.DialTimeout("tcp", addr, dn.opts.SocketTimeout)
		if err == nil {
			defer mirror.Close()
			mreq := proto.Clone(req).(*hadooppb.OpWriteBlockProto)
			mreq.Targets = targets[1:]
			if len(mreq.TargetStorageTypes) > 0 {
				mreq.TargetStorageTypes = mreq.TargetStorageTypes[1:]
			}
			if len(mreq.TargetStorageIds) > 0 {
				mreq.TargetStorageIds = mreq.TargetStorageIds[1:]
			}
			if len(mreq.TargetPinnings) > 0 {
				mreq.TargetPinnings = mreq.TargetPinnings[1:]
			}
			mirror.SetDeadline(time.Now().Add(dn.opts.SocketTimeout))
			err = dtp.WriteOp(mirror, dtp.OpWriteBlock, mreq)
			mirrorIn = dtp.NewReader(mirror)
			if err == nil && connectAck {
				var resp *hadooppb.BlockOpResponseProto
				resp, err = dtp.ReadResponse(mirrorIn)
				if err != nil && resp != nil && resp.GetFirstBadLink() != "" {
					firstBadLink = resp.GetFirstBadLink()
				}
			}
		}
		if err != nil {
			if firstBadLink == "" {
				firstBadLink = addr
			}
			if connectAck {
				dtp.WriteDelimited(c, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR.Enum(),
					FirstBadLink: proto.String(firstBadLink), Message: proto.String(err.Error())})
				return fmt.Errorf("connect to the pipeline's next DataNode %s: %w", addr, err)
			}
			return fmt.Errorf("connect to %s: %w", addr, err)
		}
	}
	if connectAck {
		if err := dtp.WriteDelimited(c, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum(), FirstBadLink: proto.String("")}); err != nil {
			return err
		}
	}

	rc := &receiver{dn: dn, c: c, in: br, w: w, spec: spec, mirror: mirror, mirrorIn: mirrorIn,
		acks: isClient && !isTransfer, block: b, stage: stg}
	err = rc.receive()
	if err != nil {
		return fmt.Errorf("receive %s: %w", b, err)
	}
	done = true
	if isTransfer {
		return writeResponse(c, hadooppb.Status_SUCCESS, "")
	}
	return nil
}

// receiver is Hadoop's BlockReceiver with its PacketResponder.
type receiver struct {
	dn       *DataNode
	c        net.Conn
	in       *bufio.Reader
	w        *ReplicaWriter // nil for PIPELINE_CLOSE_RECOVERY: packets acknowledged, nothing written
	spec     ChecksumSpec
	mirror   net.Conn
	mirrorIn *bufio.Reader
	// mirrorDead: a write downstream failed; nothing more is sent there.
	mirrorDead bool
	acks       bool
	block      hdfs.ExtendedBlock
	stage      stage
	delHint    string // REPLACE_BLOCK: the DataNode whose replica may go
}

type ackItem struct {
	seqno  int64
	last   bool
	status hadooppb.Status
	end    int64 // block offset after the packet's data
}

func (rc *receiver) receive() error {
	var queue chan ackItem
	respDone := make(chan error, 1)
	if rc.acks {
		if rc.w != nil {
			rc.w.TrackAcked()
		}
		queue = make(chan ackItem, 256)
		go func() { respDone <- rc.respond(queue) }()
	}
	finish := func(err error) error {
		if err != nil && rc.mirror != nil {
			// Upstream is gone or the data was bad: the responder must not
			// wait out the socket timeout for acks that will not come.
			rc.mirror.Close()
		}
		if queue != nil {
			close(queue)
			if rerr := <-respDone; err == nil {
				err = rerr
			}
		}
		return err
	}
	var p dtp.Packet
	for {
		rc.c.SetReadDeadline(time.Now().Add(rc.dn.opts.SocketTimeout))
		if err := dtp.ReadPacket(rc.in, &p); err != nil {
			return finish(fmt.Errorf("read packet: %w", err))
		}
		h := p.Header
		if rc.mirror != nil && !rc.mirrorDead {
			rc.mirror.SetWriteDeadline(time.Now().Add(rc.dn.opts.SocketTimeout))
			if _, err := rc.mirror.Write(p.Raw); err != nil {
				// Hadoop keeps receiving and lets the ack name the mirror
				// as bad; here the missing downstream ack does it.
				rc.dn.logf("mirror %s for %s: %v", rc.mirror.RemoteAddr(), rc.block, err)
				rc.mirror.Close()
				rc.mirrorDead = true
			}
		}
		status := hadooppb.Status_SUCCESS
		if h.Seqno != dtp.HeartbeatSeqno && len(p.Data) > 0 && rc.w != nil {
			if err := rc.spec.Verify(h.OffsetInBlock, p.Data, p.Sums); err != nil {
				// The packet was damaged on the way: Hadoop's last DataNode
				// answers ERROR_CHECKSUM so the client rebuilds the pipeline.
				rc.dn.logf("packet %d of %s: %v", h.Seqno, rc.block, err)
				if queue != nil {
					queue <- ackItem{seqno: h.Seqno, status: hadooppb.Status_ERROR_CHECKSUM}
				}
				return finish(err)
			}
			verified := p.Sums
			if rc.w.Spec() != rc.spec {
				verified = nil // an append to a replica of another checksum: recomputed in its own
			}
			if err := rc.w.WriteVerified(h.OffsetInBlock, p.Data, verified); err != nil {
				rc.dn.st.diskError(rc.w.r.vol, err)
				return finish(fmt.Errorf("write: %w", err))
			}
			rc.dn.metrics.bytesWritten.Add(int64(len(p.Data)))
			if h.Sync {
				if err := rc.w.Sync(); err != nil {
					return finish(fmt.Errorf("hsync: %w", err))
				}
			}
		}
		if h.Last {
			if rc.w != nil {
				if err := rc.finalize(); err != nil {
					return finish(err)
				}
			}
			if queue != nil {
				queue <- ackItem{seqno: h.Seqno, last: true, status: status}
			}
			if rc.mirror != nil && !rc.acks {
				// A DataNode-to-DataNode transfer has no acks: wait for the
				// downstream's close (its end of the stream) briefly.
				rc.mirror.SetReadDeadline(time.Now().Add(rc.dn.opts.SocketTimeout))
				io.Copy(io.Discard, rc.mirrorIn)
			}
			return finish(nil)
		}
		if queue != nil {
			queue <- ackItem{seqno: h.Seqno, status: status, end: h.OffsetInBlock + int64(len(p.Data))}
		}
	}
}

func (rc *receiver) finalize() error {
	if rc.stage == hadooppb.OpWriteBlockProto_TRANSFER_RBW {
		if err := rc.dn.st.TemporaryToRBW(rc.w); err != nil {
			return fmt.Errorf("convert %s to rbw: %w", rc.block, err)
		}
		return nil
	}
	if err := rc.w.Finalize(); err != nil {
		return fmt.Errorf("finalize: %w", err)
	}
	b := rc.w.Block()
	rc.dn.metrics.blocksWritten.Add(1)
	rc.dn.notify(b, hdfs.StatusReceived, rc.w.StorageUUID(), rc.delHint)
	return nil
}

// respond sends each packet's ack upstream once the downstream DataNodes
// acknowledged it: [this node's status] + the downstream replies. A
// downstream that fails is named by an ERROR reply in its place.
func (rc *receiver) respond(queue <-chan ackItem) error {
	var failed bool
	for it := range queue {
		replies := []hadooppb.Status{it.status}
		if rc.mirror != nil {
			if failed {
				replies = append(replies, hadooppb.Status_ERROR)
			} else {
				rc.mirror.SetReadDeadline(time.Now().Add(rc.dn.opts.SocketTimeout))
				ack, err := dtp.ReadAck(rc.mirrorIn)
				if err == nil && ack.Seqno != it.seqno {
					err = fmt.Errorf("downstream acked seqno %d, expected %d", ack.Seqno, it.seqno)
				}
				if err != nil {
					rc.dn.logf("ack from %s for %s: %v", rc.mirror.RemoteAddr(), rc.block, err)
					failed = true
					replies = append(replies, hadooppb.Status_ERROR)
				} else {
					replies = append(replies, ack.Replies...)
				}
			}
		}
		// The bytes are visible (getReplicaVisibleLength, readers) before
		// the writer hears they are acknowledged, as Hadoop's
		// PacketResponder sets bytesAcked before replying: a read right
		// after an hflush must see everything it flushed.
		ok := !slices.ContainsFunc(replies, func(s hadooppb.Status) bool { return s != hadooppb.Status_SUCCESS })
		if ok && rc.w != nil && it.seqno != dtp.HeartbeatSeqno {
			rc.w.SetAcked(it.end)
		}
		rc.c.SetWriteDeadline(time.Now().Add(rc.dn.opts.SocketTimeout))
		if err := dtp.WriteAck(rc.c, dtp.Ack{Seqno: it.seqno, Replies: replies}); err != nil {
			for range queue {
			}
			return fmt.Errorf("ack upstream: %w", err)
		}
		if failed || it.status != hadooppb.Status_SUCCESS {
			for range queue {
			}
			return fmt.Errorf("pipeline broken downstream of this DataNode")
		}
	}
	return nil
}

// opReadBlock is Hadoop's DataXceiver.readBlock with its BlockSender.
func (dn *DataNode) opReadBlock(c net.Conn, br *bufio.Reader) (again bool, err error) {
	req := &hadooppb.OpReadBlockProto{}
	if err := dtp.ReadDelimited(br, req); err != nil {
		return false, fmt.Errorf("read READ_BLOCK: %w", err)
	}
	b := dtp.BlockFromProto(req.GetHeader().GetBaseHeader().GetBlock())
	if err := dn.checkToken(req.GetHeader().GetBaseHeader().GetToken(), b, hdfs.AccessRead); err != nil {
		writeResponse(c, hadooppb.Status_ERROR_ACCESS_TOKEN, err.Error())
		return false, err
	}
	off, n := int64(req.GetOffset()), int64(req.GetLen())
	if err := dn.sendBlock(c, b, off, n, req.GetSendChecksums()); err != nil {
		return false, err
	}
	// The client says whether the checksums verified (Hadoop's
	// ClientReadStatusProto); a client that read less may just close.
	c.SetReadDeadline(time.Now().Add(dn.opts.SocketTimeout))
	var st hadooppb.ClientReadStatusProto
	if err := dtp.ReadDelimited(br, &st); err != nil {
		return false, nil
	}
	switch st.GetStatus() {
	case hadooppb.Status_CHECKSUM_OK:
		dn.scanner.verified(b)
	case hadooppb.Status_ERROR_CHECKSUM:
		dn.scanner.suspect(b)
	}
	return true, nil
}

// sendBlock answers a read of [off, off+n) of b: the response with the
// checksum and the first chunk's offset, then packets of whole chunks, then
// an empty last packet. Each chunk is verified as it is read: a corrupt
// replica is reported to the NameNodes and the read fails, so the reader
// takes another replica instead of this one's bad bytes.
func (dn *DataNode) sendBlock(c net.Conn, b hdfs.ExtendedBlock, off, n int64, sendSums bool) error {
	rr, err := dn.st.OpenRead(b)
	if err != nil {
		writeResponse(c, hadooppb.Status_ERROR, err.Error())
		return err
	}
	defer rr.Close()
	visible := rr.NumBytes
	if off < 0 || n < 0 || off > visible || off+n > visible {
		err := fmt.Errorf("offset %d and length %d do not match block %s of %d bytes", off, n, b, visible)
		writeResponse(c, hadooppb.Status_ERROR_INVALID, err.Error())
		return err
	}
	rr.SetReadahead(dn.opts.ReadaheadBytes, off, off+n)
	bpc := int64(rr.Spec.BytesPerChecksum)
	start := off - off%bpc
	end := min((off+n+bpc-1)/bpc*bpc, visible)
	bw := bufio.NewWriterSize(c, 128<<10)
	resp := &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum(),
		ReadOpChecksumInfo: &hadooppb.ReadOpChecksumInfoProto{Checksum: specProto(rr.Spec), ChunkOffset: proto.Uint64(uint64(start))}}
	c.SetWriteDeadline(time.Now().Add(dn.opts.SocketTimeout))
	if err := dtp.WriteDelimited(bw, resp); err != nil {
		return err
	}
	// Packets go to the connection itself: WritePacket sends header and
	// data in one writev, with no copy into a buffer.
	if err := bw.Flush(); err != nil {
		return err
	}
	per := max(packetData/bpc, 1) * bpc
	buf := make([]byte, per)
	seq := int64(0)
	for pos := start; pos < end; seq++ {
		m := min(per, end-pos)
		data := buf[:m]
		sums, err := rr.ReadChunks(pos, data)
		if err != nil {
			if errors.Is(err, ErrChecksum) && rr.State == hdfs.ReplicaFinalized {
				go dn.reportBad(hdfs.ExtendedBlock{PoolID: b.PoolID, Block: rr.Block}, rr.StorageUUID)
			}
			return fmt.Errorf("send %s: %w", b, err)
		}
		if !sendSums {
			sums = nil
		}
		c.SetWriteDeadline(time.Now().Add(dn.opts.SocketTimeout))
		if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: pos, Seqno: seq}, sums, data); err != nil {
			return err
		}
		dn.metrics.bytesRead.Add(m)
		pos += m
	}
	if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: end, Seqno: seq, Last: true}, nil, nil); err != nil {
		return err
	}
	dn.metrics.blocksRead.Add(1)
	return nil
}

// opCopyBlock sends a whole block (Hadoop's balancer copy).
func (dn *DataNode) opCopyBlock(c net.Conn, br *bufio.Reader) error {
	req := &hadooppb.OpCopyBlockProto{}
	if err := dtp.ReadDelimited(br, req); err != nil {
		return fmt.Errorf("read COPY_BLOCK: %w", err)
	}
	b := dtp.BlockFromProto(req.GetHeader().GetBlock())
	if err := dn.checkToken(req.GetHeader().GetToken(), b, hdfs.AccessCopy); err != nil {
		writeResponse(c, hadooppb.Status_ERROR_ACCESS_TOKEN, err.Error())
		return err
	}
	r, ok := dn.st.Get(b.PoolID, b.ID)
	if !ok || r.State != hdfs.ReplicaFinalized {
		err := fmt.Errorf("copy %s: %w", b, ErrReplicaNotFound)
		writeResponse(c, hadooppb.Status_ERROR, err.Error())
		return err
	}
	return dn.sendBlock(c, b, 0, r.NumBytes, true)
}

// opBlockChecksum answers BLOCK_CHECKSUM as Hadoop's for MD5MD5CRC32C: the
// MD5 of the CRCs of the block's first b.NumBytes bytes (a partial last
// chunk's CRC is computed over the bytes asked for).
func (dn *DataNode) opBlockChecksum(c net.Conn, br *bufio.Reader) error {
	req := &hadooppb.OpBlockChecksumProto{}
	if err := dtp.ReadDelimited(br, req); err != nil {
		return fmt.Errorf("read BLOCK_CHECKSUM: %w", err)
	}
	b := dtp.BlockFromProto(req.GetHeader().GetBlock())
	if err := dn.checkToken(req.GetHeader().GetToken(), b, hdfs.AccessRead); err != nil {
		writeResponse(c, hadooppb.Status_ERROR_ACCESS_TOKEN, err.Error())
		return err
	}
	if t := req.GetBlockChecksumOptions().GetBlockChecksumType(); t != hadooppb.BlockChecksumTypeProto_MD5CRC {
		err := fmt.Errorf("block checksum type %s is not supported", t)
		writeResponse(c, hadooppb.Status_ERROR_UNSUPPORTED, err.Error())
		return err
	}
	sum, crcs, spec, err := dn.blockChecksum(b)
	if err != nil {
		writeResponse(c, hadooppb.Status_ERROR, err.Error())
		return err
	}
	return dtp.WriteDelimited(c, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum(),
		ChecksumResponse: &hadooppb.OpBlockChecksumResponseProto{
			BytesPerCrc: proto.Uint32(uint32(spec.BytesPerChecksum)), CrcPerBlock: proto.Uint64(uint64(crcs)),
			BlockChecksum: sum[:], CrcType: hadooppb.ChecksumTypeProto(spec.Type).Enum(),
		}})
}

func (dn *DataNode) blockChecksum(b hdfs.ExtendedBlock) (sum [16]byte, crcs int64, spec ChecksumSpec, err error) {
	rr, err := dn.st.OpenRead(b)
	if err != nil {
		return sum, 0, spec, err
	}
	defer rr.Close()
	spec = rr.Spec
	n := b.NumBytes
	if n <= 0 || n > rr.NumBytes {
		n = rr.NumBytes
	}
	sums, err := rr.AllSums(n)
	if err != nil {
		return sum, 0, spec, err
	}
	bpc := int64(spec.BytesPerChecksum)
	if rem := n % bpc; rem != 0 && n < rr.NumBytes && spec.Size() > 0 {
		last := make([]byte, rem)
		if _, err := rr.data.ReadAt(last, n-rem); err != nil {
			return sum, 0, spec, err
		}
		binary.BigEndian.PutUint32(sums[len(sums)-4:], spec.Sum(last))
	}
	return md5.Sum(sums), spec.Chunks(n), spec, nil
}

// opTransferBlock copies a replica to targets for a client rebuilding its
// pipeline (Hadoop's transferBlock): TRANSFER_RBW or TRANSFER_FINALIZED,
// acknowledged by the target before this DataNode answers SUCCESS.
func (dn *DataNode) opTransferBlock(c net.Conn, br *bufio.Reader) error {
	req := &hadooppb.OpTransferBlockProto{}
	if err := dtp.ReadDelimited(br, req); err != nil {
		return fmt.Errorf("read TRANSFER_BLOCK: %w", err)
	}
	b := dtp.BlockFromProto(req.GetHeader().GetBaseHeader().GetBlock())
	if err := dn.checkToken(req.GetHeader().GetBaseHeader().GetToken(), b, hdfs.AccessCopy); err != nil {
		writeResponse(c, hadooppb.Status_ERROR_ACCESS_TOKEN, err.Error())
		return err
	}
	var targets []hdfs.DatanodeInfo
	for _, t := range req.GetTargets() {
		targets = append(targets, dtp.DatanodeInfoFromProto(t))
	}
	ctx, cancel := context.WithTimeout(dn.ctx, 10*dn.opts.SocketTimeout)
	defer cancel()
	if err := dn.transfer(ctx, b, targets, req.GetHeader().GetClientName(), true); err != nil {
		writeResponse(c, hadooppb.Status_ERROR, err.Error())
		return err
	}
	return writeResponse(c, hadooppb.Status_SUCCESS, "")
}

// transfer sends this DataNode's replica of b to targets as a pipeline
// (Hadoop's DataNode.DataTransfer). Without a client it is re-replication:
// stage PIPELINE_SETUP_CREATE, no acks, the targets tell the NameNode. For
// a client (TRANSFER_BLOCK) the stage says whether the replica is still
// being written, and the first target confirms with a close ack.
func (dn *DataNode) transfer(ctx context.Context, b hdfs.ExtendedBlock, targets []hdfs.DatanodeInfo, clientName string, forClient bool) error {
	rr, err := dn.st.OpenRead(b)
	if err != nil {
		return err
	}
	defer rr.Close()
	blk := hdfs.ExtendedBlock{PoolID: b.PoolID, Block: rr.Block}
	stg := hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE
	if forClient {
		stg = hadooppb.OpWriteBlockProto_TRANSFER_FINALIZED
		if rr.State != hdfs.ReplicaFinalized {
			stg = hadooppb.OpWriteBlockProto_TRANSFER_RBW
		}
		if b.NumBytes < blk.NumBytes {
			blk.NumBytes = b.NumBytes // the bytes the client saw acknowledged
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", targets[0].XferAddr())
	if err != nil {
		return err
	}
	defer conn.Close()
	// Shutting down (or the caller's deadline) ends the copy at once.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	var token *hdfs.Token
	if dn.opts.BlockTokens {
		token = hdfs.NewBlockToken(dn.opts.Secret, blk, "", []string{hdfs.AccessWrite}, time.Now().Add(10*time.Minute))
	}
	var tps []*hadooppb.DatanodeInfoProto
	for _, t := range targets[1:] {
		tps = append(tps, dtp.DatanodeInfoProto(t))
	}
	src := dtp.DatanodeInfoProto(hdfs.DatanodeInfo{DatanodeID: dn.ID()})
	req := &hadooppb.OpWriteBlockProto{
		Header:  dtp.ClientHeader(blk, token, clientName),
		Targets: tps, Source: src, Stage: stg.Enum(), PipelineSize: proto.Uint32(uint32(len(targets))),
		MinBytesRcvd: proto.Uint64(0), MaxBytesRcvd: proto.Uint64(0),
		LatestGenerationStamp: proto.Uint64(uint64(blk.GenStamp)), RequestedChecksum: specProto(rr.Spec),
	}
	bw := bufio.NewWriterSize(conn, 128<<10)
	if err := dtp.WriteOp(bw, dtp.OpWriteBlock, req); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	bpc := int64(rr.Spec.BytesPerChecksum)
	per := max(packetData/bpc, 1) * bpc
	buf := make([]byte, per)
	seq := int64(0)
	for pos := int64(0); pos < blk.NumBytes; seq++ {
		conn.SetWriteDeadline(time.Now().Add(dn.opts.SocketTimeout))
		m := min(per, blk.NumBytes-pos)
		sums, err := rr.ReadChunks(pos, buf[:m])
		if err != nil {
			if errors.Is(err, ErrChecksum) && rr.State == hdfs.ReplicaFinalized {
				go dn.reportBad(blk, rr.StorageUUID)
			}
			return err
		}
		if err := dtp.WritePacket(conn, dtp.PacketHeader{OffsetInBlock: pos, Seqno: seq}, sums, buf[:m]); err != nil {
			return err
		}
		pos += m
	}
	conn.SetWriteDeadline(time.Now().Add(dn.opts.SocketTimeout))
	if err := dtp.WritePacket(conn, dtp.PacketHeader{OffsetInBlock: blk.NumBytes, Seqno: seq, Last: true}, nil, nil); err != nil {
		return err
	}
	// The target answers (or closes) once it has stored the replica.
	conn.SetReadDeadline(time.Now().Add(dn.opts.SocketTimeout))
	if forClient {
		_, err := dtp.ReadResponse(dtp.NewReader(conn))
		return err
	}
	// Re-replication has no acks; closing our side after the last packet
	// ends the stream, and the first target closes once it has finalized.
	conn.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, conn)
	return nil
}

// opReplaceBlock is Hadoop's replaceBlock (the balancer's move): copy the
// block from the source DataNode (COPY_BLOCK), store it, and tell the
// NameNode it was received with delHint naming the replica that may go.
func (dn *DataNode) opReplaceBlock(c net.Conn, br *bufio.Reader) error {
	req := &hadooppb.OpReplaceBlockProto{}
	if err := dtp.ReadDelimited(br, req); err != nil {
		return fmt.Errorf("read REPLACE_BLOCK: %w", err)
	}
	b := dtp.BlockFromProto(req.GetHeader().GetBlock())
	if err := dn.checkToken(req.GetHeader().GetToken(), b, hdfs.AccessReplace); err != nil {
		writeResponse(c, hadooppb.Status_ERROR_ACCESS_TOKEN, err.Error())
		return err
	}
	if _, ok := dn.st.Get(b.PoolID, b.ID); ok {
		err := fmt.Errorf("replace %s: %w here already (one storage type: nothing to move)", b, ErrReplicaExists)
		writeResponse(c, hadooppb.Status_ERROR_EXISTS, err.Error())
		return err
	}
	src := dtp.DatanodeInfoFromProto(req.GetSource())
	if err := dn.copyFrom(src, b, req.GetHeader().GetToken(), req.GetDelHint()); err != nil {
		writeResponse(c, hadooppb.Status_ERROR, err.Error())
		return fmt.Errorf("replace %s from %s: %w", b, src.XferAddr(), err)
	}
	return writeResponse(c, hadooppb.Status_SUCCESS, "")
}

// copyFrom reads b from src with COPY_BLOCK into a new replica here.
func (dn *DataNode) copyFrom(src hdfs.DatanodeInfo, b hdfs.ExtendedBlock, token *hadooppb.TokenProto, delHint string) error {
	conn, err := net.DialTimeout("tcp", src.XferAddr(), dn.opts.SocketTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := dtp.WriteOp(conn, dtp.OpCopyBlock, &hadooppb.OpCopyBlockProto{Header: &hadooppb.BaseHeaderProto{Block: dtp.BlockProto(b), Token: token}}); err != nil {
		return err
	}
	in := dtp.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(dn.opts.SocketTimeout))
	resp, err := dtp.ReadResponse(in)
	if err != nil {
		return err
	}
	spec := specFromProto(resp.GetReadOpChecksumInfo().GetChecksum())
	if err := spec.Validate(); err != nil {
		return err
	}
	w, err := dn.st.CreateRBW(b, spec, b.NumBytes, true)
	if err != nil {
		return err
	}
	rc := &receiver{dn: dn, c: conn, in: in, w: w, spec: spec, block: b,
		stage: hadooppb.OpWriteBlockProto_TRANSFER_FINALIZED, delHint: delHint}
	if err := rc.receive(); err != nil {
		w.Abort(true)
		return err
	}
	return nil
}
