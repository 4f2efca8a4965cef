package dfsclient

import (
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/hactl/hactl/runtime/hdfs"
)

// LocalDataNode is the DataNode a client runs in (Options.Local).
type LocalDataNode interface {
	// IsSelf reports whether node is this DataNode.
	IsSelf(node hdfs.DatanodeInfo) bool
	// OpenLocal opens this DataNode's replica of b for reading [off,
	// off+n) from its files; ok false (a replica being written, another
	// stamp or length, none): read it over the wire.
	OpenLocal(b hdfs.ExtendedBlock, off, n int64) (r LocalReplica, ok bool)
	// DialSelf connects to this DataNode's DataTransferProtocol server in
	// memory (a pipeline that starts here, a read of a replica being
	// written).
	DialSelf() (net.Conn, error)
}

// LocalReplica is a finalized replica read from its files by the process
// of the DataNode that holds it (Options.Local).
type LocalReplica interface {
	// BytesPerChecksum is the replica's chunk size.
	BytesPerChecksum() int
	// ReadChunks fills data with the replica's bytes from off (a chunk
	// boundary; data ends at a chunk boundary or at the replica's end),
	// verified against the checksums in its meta file.
	ReadChunks(off int64, data []byte) error
	// Close ends the read; complete: the whole range was read and
	// verified (the DataNode notes the replica as recently verified, as
	// it does for a reader's CHECKSUM_OK).
	Close(complete bool)
}

// localReadSize is how much one ReadChunks of a local replica reads;
// localBuffers of them are read ahead of the caller at most.
const (
	localReadSize = 1 << 20
	localBuffers  = 4
)

// localBlockReader reads a block range from a LocalReplica in reads of
// localReadSize, each verified before any of it is handed out. A goroutine
// reads up to localBuffers pieces ahead while the caller sends the current
// one, so the disk and the network are busy at once.
type localBlockReader struct {
	lb   hdfs.LocatedBlock
	node hdfs.DatanodeInfo
	rep  LocalReplica
	pos  int64 // block offset of the next byte to hand out
	end  int64
	data []byte
	cur  []byte // the buffer data points into, recycled at the next take

	free  chan []byte
	ready chan localPiece
	quit  chan struct{}
	wg    sync.WaitGroup
}

// localPiece is one verified read: buf holds block bytes [start, stop).
type localPiece struct {
	buf         []byte
	start, stop int64
	err         error
}

func newLocalBlockReader(lb hdfs.LocatedBlock, node hdfs.DatanodeInfo, rep LocalReplica, off, n int64) *localBlockReader {
	bpc := int64(max(rep.BytesPerChecksum(), 1))
	size := max(localReadSize/bpc, 1) * bpc
	l := &localBlockReader{lb: lb, node: node, rep: rep, pos: off, end: off + n,
		free: make(chan []byte, localBuffers), ready: make(chan localPiece, localBuffers), quit: make(chan struct{})}
	for range localBuffers {
		l.free <- make([]byte, size)
	}
	// Whole chunks, from the chunk holding off to the one holding the
	// range's last byte, or the block's end.
	from, to := off-off%bpc, min((l.end+bpc-1)/bpc*bpc, lb.Block.NumBytes)
	l.wg.Add(1)
	go l.readAhead(from, to)
	return l
}

func (l *localBlockReader) readAhead(from, to int64) {
	defer l.wg.Done()
	defer close(l.ready)
	for pos := from; pos < to; {
		var buf []byte
		select {
		case buf = <-l.free:
		case <-l.quit:
			return
		}
		stop := min(to, pos+int64(len(buf)))
		err := l.rep.ReadChunks(pos, buf[:stop-pos])
		select {
		case l.ready <- localPiece{buf: buf, start: pos, stop: stop, err: err}:
		case <-l.quit:
			return
		}
		if err != nil {
			return
		}
		pos = stop
	}
}

func (l *localBlockReader) take(max int) ([]byte, error) {
	for len(l.data) == 0 {
		if l.pos >= l.end {
			return nil, io.EOF
		}
		if l.cur != nil {
			l.free <- l.cur // the caller is done with it: free has room for every buffer
			l.cur = nil
		}
		p, ok := <-l.ready
		if !ok {
			return nil, fmt.Errorf("local read of %s ended at %d, before %d", l.lb.Block, l.pos, l.end)
		}
		if p.err != nil {
			return nil, p.err
		}
		l.cur = p.buf
		l.data = p.buf[l.pos-p.start : min(p.stop, l.end)-p.start]
	}
	n := min(max, len(l.data))
	d := l.data[:n]
	l.data = l.data[n:]
	l.pos += int64(n)
	return d, nil
}

func (l *localBlockReader) done() bool { return len(l.data) == 0 && l.pos >= l.end }

func (l *localBlockReader) close(complete bool) {
	close(l.quit)
	l.wg.Wait()
	l.rep.Close(complete)
}

func (l *localBlockReader) location() (hdfs.LocatedBlock, hdfs.DatanodeInfo) { return l.lb, l.node }
