// Package dfstest holds fakes of a NameNode's ClientProtocol and of
// DataNodes speaking DataTransferProtocol from memory, for tests of the
// data path (runtime/dfsclient, its WebHDFS handler, hactl fs).
package dfstest

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// DN is a DataNode speaking DataTransferProtocol from memory: the
// write pipeline with mirroring and acks, recovery stages, reads with
// checksums, BLOCK_CHECKSUM. It can die after receiving some bytes (as
// kill -9: every connection closes, nothing answers) and corrupt a replica.
type DN struct {
	t    *testing.T
	Info hdfs.DatanodeInfo
	ln   net.Listener

	mu        sync.Mutex
	replicas  map[int64]*Replica
	conns     map[net.Conn]bool
	dead      bool
	dieAfter  int64 // > 0: die once this many data bytes were received
	received  int64
	corrupt   map[int64]bool // block id → flip a byte when serving it
	reads     int
	recovered int // pipeline recoveries seen
}

// Replica is a DataNode's copy of a block.
type Replica struct {
	gs        int64
	Data      []byte
	Finalized bool
}

// NewDN starts DataNode i on 127.0.0.1 (any port); the test's cleanup
// kills it.
func NewDN(t *testing.T, i int) *DN {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	d := &DN{t: t, ln: ln, replicas: map[int64]*Replica{}, conns: map[net.Conn]bool{}, corrupt: map[int64]bool{},
		Info: hdfs.DatanodeInfo{DatanodeID: hdfs.DatanodeID{UUID: "dn-" + strconv.Itoa(i), IP: "127.0.0.1", Hostname: "dn" + strconv.Itoa(i), XferPort: port}}}
	go d.serve()
	t.Cleanup(d.Kill)
	return d
}

func (d *DN) serve() {
	for {
		conn, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		if d.dead {
			d.mu.Unlock()
			conn.Close()
			continue
		}
		d.conns[conn] = true
		d.mu.Unlock()
		go func() {
			defer func() {
				d.mu.Lock()
				delete(d.conns, conn)
				d.mu.Unlock()
				conn.Close()
			}()
			d.handle(conn)
		}()
	}
}

// DieAfter makes the DataNode die (Kill) once it received n more bytes
// of block data.
func (d *DN) DieAfter(n int64) {
	d.mu.Lock()
	d.dieAfter = d.received + n
	d.mu.Unlock()
}

// Corrupt makes the DataNode serve block id with a byte flipped, as a
// replica corrupted on disk (its stored CRCs no longer match).
func (d *DN) Corrupt(id int64) {
	d.mu.Lock()
	d.corrupt[id] = true
	d.mu.Unlock()
}

// Reads counts READ_BLOCK requests served.
func (d *DN) Reads() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reads
}

// Kill is kill -9: the listener and every connection close at once.
func (d *DN) Kill() {
	d.mu.Lock()
	d.dead = true
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.ln.Close()
}

// Replica is the DataNode's copy of block id, nil if none.
func (d *DN) Replica(id int64) *Replica {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.replicas[id]
}

func (d *DN) handle(conn net.Conn) {
	rd := bufio.NewReader(conn)
	op, err := dtp.ReadOp(rd)
	if err != nil {
		return
	}
	switch op {
	case dtp.OpWriteBlock:
		d.writeBlock(conn, rd)
	case dtp.OpReadBlock:
		d.readBlock(conn, rd)
	case dtp.OpBlockChecksum:
		d.blockChecksum(conn, rd)
	default:
		dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR_UNSUPPORTED.Enum()})
	}
}

func (d *DN) writeBlock(conn net.Conn, rd *bufio.Reader) {
	var op hadooppb.OpWriteBlockProto
	if err := dtp.ReadDelimited(rd, &op); err != nil {
		return
	}
	b := dtp.BlockFromProto(op.GetHeader().GetBaseHeader().GetBlock())
	stage := op.GetStage()
	bpc := int(op.GetRequestedChecksum().GetBytesPerChecksum())
	d.mu.Lock()
	r := d.replicas[b.ID]
	switch stage {
	case hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE:
		r = &Replica{gs: b.GenStamp}
		d.replicas[b.ID] = r
	case hadooppb.OpWriteBlockProto_PIPELINE_SETUP_STREAMING_RECOVERY, hadooppb.OpWriteBlockProto_PIPELINE_CLOSE_RECOVERY,
		hadooppb.OpWriteBlockProto_PIPELINE_SETUP_APPEND:
		d.recovered++
		if r == nil || r.gs != b.GenStamp || int64(len(r.Data)) < int64(op.GetMinBytesRcvd()) {
			d.mu.Unlock()
			dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR.Enum(), Message: proto.String("no such replica")})
			return
		}
		r.Data = r.Data[:op.GetMinBytesRcvd()]
		r.gs = int64(op.GetLatestGenerationStamp())
		r.Finalized = false
	}
	// A recovery moves the replica to a new stamp: this connection's
	// writer stops then, as a DataNode stops the old writer thread.
	myGS := r.gs
	d.mu.Unlock()

	// Mirror to the next DataNode of the pipeline.
	var mirror net.Conn
	var mrd *bufio.Reader
	if targets := op.GetTargets(); len(targets) > 0 {
		next := dtp.DatanodeInfoFromProto(targets[0])
		fwd := proto.Clone(&op).(*hadooppb.OpWriteBlockProto)
		fwd.Targets = targets[1:]
		m, err := net.Dial("tcp", next.XferAddr())
		if err == nil {
			err = dtp.WriteOp(m, dtp.OpWriteBlock, fwd)
		}
		if err == nil {
			mrd = bufio.NewReader(m)
			_, err = dtp.ReadResponse(mrd)
		}
		if err != nil {
			bad := next.XferAddr()
			var se *dtp.StatusError
			if errors.As(err, &se) && se.FirstBadLink != "" {
				bad = se.FirstBadLink
			}
			if m != nil {
				m.Close()
			}
			dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR.Enum(), FirstBadLink: proto.String(bad)})
			return
		}
		mirror = m
		defer mirror.Close()
	}
	if err := dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum()}); err != nil {
		return
	}
	downstream := len(op.GetTargets())
	var pkt dtp.Packet
	for {
		if err := dtp.ReadPacket(rd, &pkt); err != nil {
			return
		}
		h := pkt.Header
		mirrorOK := mirror != nil
		if mirror != nil {
			if _, err := mirror.Write(pkt.Raw); err != nil {
				mirrorOK = false
				mirror.Close()
				mirror = nil
			}
		}
		status := hadooppb.Status_SUCCESS
		if h.Seqno != dtp.HeartbeatSeqno {
			if err := dtp.VerifyChecksums(pkt.Sums, pkt.Data, bpc, h.OffsetInBlock); err != nil {
				status = hadooppb.Status_ERROR_CHECKSUM
			}
			d.mu.Lock()
			if r.gs != myGS {
				d.mu.Unlock()
				return
			}
			if h.OffsetInBlock > int64(len(r.Data)) {
				d.mu.Unlock()
				d.t.Errorf("%s: packet at %d past the replica's %d bytes", d.Info.XferAddr(), h.OffsetInBlock, len(r.Data))
				return
			}
			r.Data = append(r.Data[:h.OffsetInBlock], pkt.Data...)
			d.received += int64(len(pkt.Data))
			die := d.dieAfter > 0 && d.received >= d.dieAfter
			if h.Last {
				r.Finalized = true
			}
			d.mu.Unlock()
			if die {
				d.Kill()
				return
			}
		}
		replies := []hadooppb.Status{status}
		if downstream > 0 {
			if mirrorOK {
				ack, err := dtp.ReadAck(mrd)
				if err == nil && ack.Seqno == h.Seqno {
					replies = append(replies, ack.Replies...)
				} else {
					mirrorOK = false
				}
			}
			if !mirrorOK {
				replies = append(replies, hadooppb.Status_ERROR)
				for len(replies) < downstream+1 {
					replies = append(replies, hadooppb.Status_SUCCESS)
				}
			}
		}
		if err := dtp.WriteAck(conn, dtp.Ack{Seqno: h.Seqno, Replies: replies}); err != nil {
			return
		}
		if !mirrorOK && downstream > 0 {
			return // the client recovers the pipeline
		}
		if h.Last {
			return
		}
	}
}

func (d *DN) readBlock(conn net.Conn, rd *bufio.Reader) {
	var op hadooppb.OpReadBlockProto
	if err := dtp.ReadDelimited(rd, &op); err != nil {
		return
	}
	b := dtp.BlockFromProto(op.GetHeader().GetBaseHeader().GetBlock())
	d.mu.Lock()
	d.reads++
	r := d.replicas[b.ID]
	var data []byte
	if r != nil {
		data = slices.Clone(r.Data)
	}
	corrupt := d.corrupt[b.ID]
	d.mu.Unlock()
	if r == nil || r.gs != b.GenStamp {
		dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR.Enum(), Message: proto.String("replica not found")})
		return
	}
	const bpc = 512
	off, n := int64(op.GetOffset()), int64(op.GetLen())
	start := off / bpc * bpc
	end := min(off+n, int64(len(data)))
	dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum(),
		ReadOpChecksumInfo: &hadooppb.ReadOpChecksumInfoProto{Checksum: dtp.CRC32C(bpc), ChunkOffset: proto.Uint64(uint64(start))}})
	seq := int64(0)
	for p := start; p < end; {
		q := min(p+64*bpc, end)
		if r := q % bpc; r != 0 && q != int64(len(data)) {
			q += bpc - r // whole chunks, as the checksums cover them
			q = min(q, int64(len(data)))
		}
		chunk := slices.Clone(data[p:q])
		sums := dtp.AppendChecksums(nil, chunk, bpc)
		if corrupt {
			chunk[len(chunk)/2] ^= 0xff // on-disk corruption: the stored CRC no longer matches
		}
		if err := dtp.WritePacket(conn, dtp.PacketHeader{OffsetInBlock: p, Seqno: seq}, sums, chunk); err != nil {
			return
		}
		seq++
		p = q
	}
	dtp.WritePacket(conn, dtp.PacketHeader{OffsetInBlock: end, Seqno: seq, Last: true}, nil, nil)
	var st hadooppb.ClientReadStatusProto
	dtp.ReadDelimited(rd, &st)
}

func (d *DN) blockChecksum(conn net.Conn, rd *bufio.Reader) {
	var op hadooppb.OpBlockChecksumProto
	if err := dtp.ReadDelimited(rd, &op); err != nil {
		return
	}
	b := dtp.BlockFromProto(op.GetHeader().GetBlock())
	r := d.Replica(b.ID)
	if r == nil {
		dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_ERROR.Enum()})
		return
	}
	data := r.Data[:min(int64(len(r.Data)), b.NumBytes)]
	var crcs []byte
	for p := 0; p < len(data); p += 512 {
		crcs = binary.BigEndian.AppendUint32(crcs, crc32.Checksum(data[p:min(p+512, len(data))], crc32.MakeTable(crc32.Castagnoli)))
	}
	sum := md5.Sum(crcs)
	dtp.WriteDelimited(conn, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum(),
		ChecksumResponse: &hadooppb.OpBlockChecksumResponseProto{BytesPerCrc: proto.Uint32(512), CrcPerBlock: proto.Uint64(uint64(len(crcs) / 4)),
			BlockChecksum: sum[:], CrcType: hadooppb.ChecksumTypeProto_CHECKSUM_CRC32C.Enum()}})
}

// NN is the NameNode's ClientProtocol from memory: placement on the
// first DataNodes not excluded, generation stamps, recorded pipelines.
type NN struct {
	Mu          sync.Mutex
	nodes       []hdfs.DatanodeInfo
	pool        string
	Files       map[string]*File
	nextID      int64
	gs          int64
	blockSize   int64
	replication int
	BadReports  []hdfs.LocatedBlock
	Renewals    int
	Updates     int // updatePipeline calls
	Completes   int
	NotYet      int // complete answers false this many times first
}

// File is a file of the fake namespace.
type File struct {
	id       int64
	Blocks   []hdfs.LocatedBlock
	Complete bool
	holder   string
}

// NewNN places blocks of blockSize on the first replication DataNodes of
// dns that a writer did not exclude.
func NewNN(dns []*DN, blockSize int64, replication int) *NN {
	var nodes []hdfs.DatanodeInfo
	for _, d := range dns {
		nodes = append(nodes, d.Info)
	}
	return NewNNOn(nodes, "BP-test", blockSize, replication)
}

// NewNNOn is NewNN over any DataNodes (real ones in-process) of block
// pool pool.
func NewNNOn(nodes []hdfs.DatanodeInfo, pool string, blockSize int64, replication int) *NN {
	return &NN{nodes: nodes, pool: pool, Files: map[string]*File{}, nextID: 1 << 30, gs: 1000, blockSize: blockSize, replication: replication}
}

func (n *NN) Create(ctx context.Context, path, clientName string, opts hdfs.CreateOptions, user string) (webhdfs.FileStatus, error) {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	if f, ok := n.Files[path]; ok && !opts.Overwrite {
		_ = f
		return webhdfs.FileStatus{}, fmt.Errorf("%w: %s", webhdfs.ErrExists, path)
	}
	n.nextID++
	n.Files[path] = &File{id: n.nextID, holder: clientName}
	return webhdfs.FileStatus{Type: webhdfs.TypeFile, FileID: n.nextID, BlockSize: n.blockSize, Replication: int16(n.replication)}, nil
}

func (n *NN) file(path string, fileID int64) (*File, error) {
	f, ok := n.Files[path]
	if !ok || (fileID != 0 && f.id != fileID) {
		return nil, fmt.Errorf("%w: %s", webhdfs.ErrNotFound, path)
	}
	return f, nil
}

func (n *NN) Append(ctx context.Context, path, clientName, user string) (*hdfs.LocatedBlock, webhdfs.FileStatus, error) {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	f, err := n.file(path, 0)
	if err != nil {
		return nil, webhdfs.FileStatus{}, err
	}
	f.Complete, f.holder = false, clientName
	st := webhdfs.FileStatus{Type: webhdfs.TypeFile, FileID: f.id, BlockSize: n.blockSize, Replication: int16(n.replication), Length: f.Length()}
	if k := len(f.Blocks); k > 0 && f.Blocks[k-1].Block.NumBytes < n.blockSize {
		lb := f.Blocks[k-1]
		return &lb, st, nil
	}
	return nil, st, nil
}

// Length is the sum of the blocks' lengths.
func (f *File) Length() int64 {
	var l int64
	for _, b := range f.Blocks {
		l += b.Block.NumBytes
	}
	return l
}

func (n *NN) commit(f *File, b *hdfs.ExtendedBlock) error {
	if b == nil {
		return nil
	}
	for i := range f.Blocks {
		if f.Blocks[i].Block.ID == b.ID {
			if f.Blocks[i].Block.GenStamp != b.GenStamp {
				return fmt.Errorf("commit %s: the NameNode has stamp %d", b, f.Blocks[i].Block.GenStamp)
			}
			f.Blocks[i].Block.NumBytes = b.NumBytes
			return nil
		}
	}
	return fmt.Errorf("commit %s: no such block", b)
}

func (n *NN) AddBlock(ctx context.Context, path, clientName string, previous *hdfs.ExtendedBlock, excluded []hdfs.DatanodeID, fileID int64, user string) (hdfs.LocatedBlock, error) {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	f, err := n.file(path, fileID)
	if err != nil {
		return hdfs.LocatedBlock{}, err
	}
	if err := n.commit(f, previous); err != nil {
		return hdfs.LocatedBlock{}, err
	}
	var locs []hdfs.DatanodeInfo
	for _, d := range n.nodes {
		if len(locs) == n.replication {
			break
		}
		if !slices.ContainsFunc(excluded, func(e hdfs.DatanodeID) bool { return e.UUID == d.UUID }) {
			locs = append(locs, d)
		}
	}
	if len(locs) == 0 {
		return hdfs.LocatedBlock{}, hdfs.ErrNoDatanodes
	}
	n.nextID++
	n.gs++
	lb := hdfs.LocatedBlock{Block: hdfs.ExtendedBlock{PoolID: n.pool, Block: hdfs.Block{ID: n.nextID, GenStamp: n.gs}}, Offset: f.Length(), Locations: locs}
	f.Blocks = append(f.Blocks, lb)
	return lb, nil
}

func (n *NN) AbandonBlock(ctx context.Context, b hdfs.ExtendedBlock, fileID int64, path, clientName, user string) error {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	f, err := n.file(path, fileID)
	if err != nil {
		return err
	}
	f.Blocks = slices.DeleteFunc(f.Blocks, func(lb hdfs.LocatedBlock) bool { return lb.Block.ID == b.ID })
	return nil
}

func (n *NN) Complete(ctx context.Context, path, clientName string, last *hdfs.ExtendedBlock, fileID int64, user string) (bool, error) {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	f, err := n.file(path, fileID)
	if err != nil {
		return false, err
	}
	if err := n.commit(f, last); err != nil {
		return false, err
	}
	n.Completes++
	if n.NotYet > 0 {
		n.NotYet--
		return false, nil
	}
	f.Complete = true
	return true, nil
}

func (n *NN) GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (hdfs.LocatedBlocks, error) {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	f, err := n.file(path, 0)
	if err != nil {
		return hdfs.LocatedBlocks{}, err
	}
	out := hdfs.LocatedBlocks{FileLength: f.Length(), UnderConstruction: !f.Complete, LastBlockComplete: f.Complete}
	for _, b := range f.Blocks {
		if b.Offset+b.Block.NumBytes > offset && b.Offset < offset+length {
			out.Blocks = append(out.Blocks, b)
		}
	}
	return out, nil
}

func (n *NN) GetAdditionalDatanode(ctx context.Context, path string, fileID int64, b hdfs.ExtendedBlock, existing []hdfs.DatanodeInfo, excluded []hdfs.DatanodeID, numAdditional int, clientName, user string) (hdfs.LocatedBlock, error) {
	return hdfs.LocatedBlock{}, hdfs.ErrNoDatanodes
}

func (n *NN) UpdateBlockForPipeline(ctx context.Context, b hdfs.ExtendedBlock, clientName, user string) (hdfs.LocatedBlock, error) {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	n.gs++
	b.GenStamp = n.gs
	return hdfs.LocatedBlock{Block: b}, nil
}

func (n *NN) UpdatePipeline(ctx context.Context, clientName string, oldBlock, newBlock hdfs.ExtendedBlock, newNodes []hdfs.DatanodeID, user string) error {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	n.Updates++
	for _, f := range n.Files {
		for i := range f.Blocks {
			if f.Blocks[i].Block.ID == oldBlock.ID {
				if f.Blocks[i].Block.GenStamp != oldBlock.GenStamp {
					return fmt.Errorf("updatePipeline %s: stamp %d", oldBlock, f.Blocks[i].Block.GenStamp)
				}
				f.Blocks[i].Block = newBlock
				var locs []hdfs.DatanodeInfo
				for _, id := range newNodes {
					for _, d := range n.nodes {
						if d.UUID == id.UUID {
							locs = append(locs, d)
						}
					}
				}
				f.Blocks[i].Locations = locs
				return nil
			}
		}
	}
	return fmt.Errorf("updatePipeline: no block %s", oldBlock)
}

func (n *NN) Fsync(ctx context.Context, path string, fileID int64, clientName string, lastBlockLength int64, user string) error {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	f, err := n.file(path, fileID)
	if err != nil {
		return err
	}
	if k := len(f.Blocks); k > 0 {
		f.Blocks[k-1].Block.NumBytes = lastBlockLength
	}
	return nil
}

func (n *NN) RenewLease(ctx context.Context, clientName, user string) error {
	n.Mu.Lock()
	n.Renewals++
	n.Mu.Unlock()
	return nil
}

func (n *NN) RecoverLease(ctx context.Context, path, clientName, user string) (bool, error) {
	return true, nil
}

func (n *NN) GetDatanodeReport(ctx context.Context, kind hdfs.DatanodeReportType, user string) ([]hdfs.DatanodeInfo, error) {
	return nil, nil
}

func (n *NN) ReportBadBlocks(ctx context.Context, blocks []hdfs.LocatedBlock, user string) error {
	n.Mu.Lock()
	n.BadReports = append(n.BadReports, blocks...)
	n.Mu.Unlock()
	return nil
}

func (n *NN) GetServerDefaults(ctx context.Context) (hdfs.ServerDefaults, error) {
	return hdfs.ServerDefaults{BlockSize: n.blockSize, BytesPerChecksum: 512, WritePacketSize: 65536, Replication: int16(n.replication), ChecksumType: "CRC32C"}, nil
}

// File returns the file at path (nil if none), under the lock.
func (n *NN) File(path string) *File {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	return n.Files[path]
}
