package dfsclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// packet is one encoded packet kept until the whole pipeline acknowledged
// it: after a DataNode fails it is sent again to the survivors.
type packet struct {
	seqno  int64
	offset int64  // of its first data byte in the block
	end    int64  // offset + data length
	last   bool   // the empty packet that ends the block
	head   []byte // lengths, header, checksums
	data   []byte // the writer's buffer itself: sent after head with writev, not copied
}

// pipeline is one block's write connection to its first DataNode, which
// forwards each packet down the chain (Hadoop's DataStreamer with its
// ResponseProcessor): packets are queued for acknowledgement before they
// are sent, and an ack goroutine pops them as the acks come back.
type pipeline struct {
	conn    net.Conn
	nodes   []hdfs.DatanodeInfo
	storage []string
	timeout time.Duration

	sendMu   sync.Mutex // serializes writes to conn (packets and heartbeats)
	lastSend time.Time

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []*packet // sent (or being sent), not yet acknowledged, in seqno order
	acked    int64     // block bytes the whole pipeline acknowledged
	err      error     // first failure; the pipeline is dead once set
	bad      int       // index in nodes of the DataNode that failed, -1 unknown
	finished bool      // the last packet of the block was acknowledged

	ackDone chan struct{}
	stop    chan struct{}
}

// pipelineFailure is a dead pipeline's error with the DataNode to blame.
type pipelineFailure struct {
	bad int // index in the pipeline's nodes, -1 unknown
	err error
}

func (e *pipelineFailure) Error() string { return e.err.Error() }
func (e *pipelineFailure) Unwrap() error { return e.err }

// writeBlockOp is the WRITE_BLOCK request of a pipeline setup.
type writeBlockOp struct {
	block      hdfs.ExtendedBlock // the replica as the DataNodes know it (its current stamp)
	token      *hdfs.Token
	nodes      []hdfs.DatanodeInfo
	storageIDs []string
	stage      hadooppb.OpWriteBlockProto_BlockConstructionStage
	minRcvd    int64 // bytes every DataNode must already hold (recovery, append)
	maxRcvd    int64 // bytes sent so far
	latestGS   int64 // the stamp the replicas take (recovery, append); 0 on create
	blockSize  int64 // the file's block size, the header block's length as Hadoop sends it
}

// setupPipeline connects to the first DataNode and sends WRITE_BLOCK
// naming the rest; on refusal it names the DataNode to blame (the
// response's firstBadLink, else the first).
func (c *Client) setupPipeline(ctx context.Context, op writeBlockOp) (*pipeline, error) {
	if len(op.nodes) == 0 {
		return nil, &pipelineFailure{bad: -1, err: errors.New("no DataNodes to write to")}
	}
	conn, err := c.dialDatanode(ctx, op.nodes[0])
	if err != nil {
		return nil, &pipelineFailure{bad: 0, err: err}
	}
	hdr := op.block
	hdr.NumBytes = op.blockSize
	req := &hadooppb.OpWriteBlockProto{
		Header:                dtp.ClientHeader(hdr, op.token, c.opts.ClientName),
		Stage:                 op.stage.Enum(),
		PipelineSize:          proto.Uint32(uint32(len(op.nodes))),
		MinBytesRcvd:          proto.Uint64(uint64(op.minRcvd)),
		MaxBytesRcvd:          proto.Uint64(uint64(op.maxRcvd)),
		LatestGenerationStamp: proto.Uint64(uint64(op.latestGS)),
		RequestedChecksum:     dtp.CRC32C(c.opts.BytesPerChecksum),
		CachingStrategy:       &hadooppb.CachingStrategyProto{},
		StorageType:           hadooppb.StorageTypeProto_DISK.Enum(),
	}
	for i, n := range op.nodes[1:] {
		req.Targets = append(req.Targets, dtp.DatanodeInfoProto(n))
		req.TargetStorageTypes = append(req.TargetStorageTypes, hadooppb.StorageTypeProto_DISK)
		req.TargetPinnings = append(req.TargetPinnings, false)
		if i+1 < len(op.storageIDs) {
			req.TargetStorageIds = append(req.TargetStorageIds, op.storageIDs[i+1])
		}
	}
	if len(op.storageIDs) > 0 {
		req.StorageId = proto.String(op.storageIDs[0])
	}
	_ = conn.SetDeadline(time.Now().Add(c.opts.SocketTimeout + time.Duration(len(op.nodes))*5*time.Second))
	if err := dtp.WriteOp(conn, dtp.OpWriteBlock, req); err != nil {
		conn.Close()
		return nil, &pipelineFailure{bad: 0, err: fmt.Errorf("send WRITE_BLOCK to %s: %w", op.nodes[0].XferAddr(), err)}
	}
	rd := dtp.NewReader(conn)
	if _, err := dtp.ReadResponse(rd); err != nil {
		conn.Close()
		bad := 0
		var se *dtp.StatusError
		if errors.As(err, &se) && se.FirstBadLink != "" {
			for i, n := range op.nodes {
				if n.XferAddr() == se.FirstBadLink {
					bad = i
				}
			}
		}
		return nil, &pipelineFailure{bad: bad, err: fmt.Errorf("pipeline %s for %s: %w", nodeList(op.nodes), op.block, err)}
	}
	_ = conn.SetDeadline(time.Time{})
	p := &pipeline{conn: conn, nodes: op.nodes, storage: op.storageIDs, timeout: c.opts.SocketTimeout,
		acked: op.minRcvd, bad: -1, ackDone: make(chan struct{}), stop: make(chan struct{}), lastSend: time.Now()}
	p.cond = sync.NewCond(&p.mu)
	go p.readAcks(rd)
	go p.keepAlive()
	return p, nil
}

func nodeList(nodes []hdfs.DatanodeInfo) string {
	s := "["
	for i, n := range nodes {
		if i > 0 {
			s += ", "
		}
		s += n.XferAddr()
	}
	return s + "]"
}

// fail marks the pipeline dead (the first failure wins) and wakes waiters.
func (p *pipeline) fail(bad int, err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err, p.bad = err, bad
	} else if p.bad < 0 && bad >= 0 {
		p.bad = bad // a more precise culprit for the same failure
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.conn.Close() // unblocks the ack reader and a blocked send
}

// readAcks pops acknowledged packets off the queue in order; any ack that
// is not SUCCESS from every DataNode, or out of order, kills the pipeline.
func (p *pipeline) readAcks(rd *bufio.Reader) {
	defer close(p.ackDone)
	for {
		ack, err := dtp.ReadAck(rd)
		if err != nil {
			// Nothing more from the first DataNode: blame it unless an ack
			// already named another (Hadoop's markFirstNodeIfNotMarked).
			p.fail(-1, fmt.Errorf("read pipeline ack from %s: %w", p.nodes[0].XferAddr(), err))
			return
		}
		if ack.Seqno == dtp.HeartbeatSeqno {
			if !ack.OK() {
				p.fail(ack.FirstBad(), fmt.Errorf("heartbeat ack from %s: %v", p.nodes[ack.FirstBad()].XferAddr(), ack.Replies))
				return
			}
			continue
		}
		if i := ack.FirstBad(); i >= 0 {
			bad := min(i, len(p.nodes)-1)
			p.fail(bad, fmt.Errorf("bad ack for packet %d: DataNode %s answered %v", ack.Seqno, p.nodes[bad].XferAddr(), ack.Replies[i]))
			return
		}
		p.mu.Lock()
		if len(p.queue) == 0 || p.queue[0].seqno != ack.Seqno {
			want := int64(-2)
			if len(p.queue) > 0 {
				want = p.queue[0].seqno
			}
			p.mu.Unlock()
			p.fail(-1, fmt.Errorf("pipeline ack for seqno %d, expected %d", ack.Seqno, want))
			return
		}
		pkt := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.acked = pkt.end
		last := pkt.last
		if last {
			p.finished = true
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		putPacketBuf(pkt.data)
		if last {
			return
		}
	}
}

// keepAlive sends a heartbeat packet when the pipeline was idle for half
// the socket timeout (the DataNodes would otherwise time the stream out
// while a slow producer fills the next packet), and kills a pipeline whose
// oldest packet waits for its ack longer than the timeout.
func (p *pipeline) keepAlive() {
	tick := min(time.Second, p.timeout/4)
	t := time.NewTicker(tick)
	defer t.Stop()
	var waitingSince time.Time
	var waitingFor int64 = -1
	for {
		select {
		case <-p.stop:
			return
		case <-p.ackDone:
			return
		case <-t.C:
		}
		p.mu.Lock()
		dead, empty := p.err != nil, len(p.queue) == 0
		var head int64 = -1
		if !empty {
			head = p.queue[0].seqno
		}
		p.mu.Unlock()
		if dead {
			return
		}
		now := time.Now()
		if head != waitingFor {
			waitingFor, waitingSince = head, now
		}
		if head >= 0 && now.Sub(waitingSince) > p.timeout {
			p.fail(-1, fmt.Errorf("no ack for packet %d from %s in %v", head, p.nodes[0].XferAddr(), p.timeout))
			return
		}
		if empty {
			p.sendMu.Lock()
			if now.Sub(p.lastSend) >= p.timeout/2 {
				b, _ := dtp.AppendPacket(nil, dtp.PacketHeader{Seqno: dtp.HeartbeatSeqno}, nil, nil)
				_ = p.conn.SetWriteDeadline(now.Add(p.timeout))
				if _, err := p.conn.Write(b); err != nil {
					p.sendMu.Unlock()
					p.fail(-1, fmt.Errorf("send heartbeat to %s: %w", p.nodes[0].XferAddr(), err))
					return
				}
				p.lastSend = now
			}
			p.sendMu.Unlock()
		}
	}
}

// send queues pkt for its ack and writes it, waiting while maxInFlight
// packets are unacknowledged. The packet stays queued even when the write
// fails: recovery sends every queued packet again.
func (p *pipeline) send(pkt *packet, maxInFlight int) error {
	p.mu.Lock()
	for len(p.queue) >= maxInFlight && p.err == nil {
		p.cond.Wait()
	}
	p.queue = append(p.queue, pkt)
	err := p.err
	p.mu.Unlock()
	if err != nil {
		return p.failure()
	}
	p.sendMu.Lock()
	_ = p.conn.SetWriteDeadline(time.Now().Add(p.timeout))
	bufs := net.Buffers{pkt.head, pkt.data}
	_, err = bufs.WriteTo(p.conn)
	p.lastSend = time.Now()
	p.sendMu.Unlock()
	if err != nil {
		p.fail(-1, fmt.Errorf("send packet %d to %s: %w", pkt.seqno, p.nodes[0].XferAddr(), err))
		return p.failure()
	}
	return nil
}

// waitAcked waits until every queued packet is acknowledged.
func (p *pipeline) waitAcked() error {
	p.mu.Lock()
	for len(p.queue) > 0 && p.err == nil {
		p.cond.Wait()
	}
	err := p.err
	p.mu.Unlock()
	if err != nil {
		return p.failure()
	}
	return nil
}

// failure is the pipeline's error with the DataNode to blame: an unknown
// culprit is the first DataNode, the one the client talks to.
func (p *pipeline) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	bad := p.bad
	if bad < 0 {
		bad = 0
	}
	return &pipelineFailure{bad: bad, err: p.err}
}

// close ends the connection and waits for the ack goroutine. It returns
// the packets still unacknowledged and the bytes acknowledged.
func (p *pipeline) close() ([]*packet, int64) {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.mu.Lock()
	if p.err == nil {
		p.err = errors.New("pipeline closed")
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.conn.Close()
	<-p.ackDone
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue
	p.queue = nil
	return q, p.acked
}

var packetBufs = sync.Pool{New: func() any { return []byte(nil) }}

func getPacketBuf() []byte { return packetBufs.Get().([]byte)[:0] }

func putPacketBuf(b []byte) {
	if cap(b) > 0 {
		packetBufs.Put(b[:0]) //nolint:staticcheck // a slice header is small next to the buffer it saves
	}
}
