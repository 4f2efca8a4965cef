package datanode

import (
	"errors"

	"github.com/hactl/hactl/runtime/hdfs"
)

// LocalRead is a finalized replica of this DataNode read from its files
// by the DataNode's own WebHDFS (dfsclient.Options.Local): Hadoop's
// short-circuit read, without a DataTransferProtocol connection to itself.
// Every chunk is verified as it is read; a corrupt replica is reported to
// the NameNodes as a READ_BLOCK of it would be, and the read fails so the
// reader takes another replica.
type LocalRead struct {
	dn *DataNode
	rr *ReplicaReader
	b  hdfs.ExtendedBlock // the replica's own block (its stamp)
}

// IsSelf reports whether node is this DataNode.
func (dn *DataNode) IsSelf(node hdfs.DatanodeInfo) bool {
	return node.UUID != "" && node.UUID == dn.st.DatanodeUUID()
}

// OpenLocal opens b for a local read of [off, off+n) when this DataNode's
// replica of b is finalized with b's stamp or a newer one and b's length;
// otherwise ok is false (a replica being written, or one this DataNode
// does not hold, is read over the wire).
func (dn *DataNode) OpenLocal(b hdfs.ExtendedBlock, off, n int64) (*LocalRead, bool) {
	rr, err := dn.st.OpenRead(b)
	if err != nil {
		return nil, false
	}
	if rr.State != hdfs.ReplicaFinalized || rr.NumBytes != b.NumBytes {
		rr.Close()
		return nil, false
	}
	rr.SetReadahead(dn.opts.ReadaheadBytes, off, off+n)
	return &LocalRead{dn: dn, rr: rr, b: hdfs.ExtendedBlock{PoolID: b.PoolID, Block: rr.Block}}, true
}

// BytesPerChecksum is the replica's chunk size.
func (l *LocalRead) BytesPerChecksum() int { return l.rr.Spec.BytesPerChecksum }

// ReadChunks reads and verifies data from block offset off.
func (l *LocalRead) ReadChunks(off int64, data []byte) error {
	if _, err := l.rr.ReadChunks(off, data); err != nil {
		if errors.Is(err, ErrChecksum) {
			go l.dn.reportBad(l.b, l.rr.StorageUUID)
		}
		return err
	}
	l.dn.metrics.bytesRead.Add(int64(len(data)))
	return nil
}

// Close closes the files; complete: the whole range verified.
func (l *LocalRead) Close(complete bool) {
	l.rr.Close()
	if complete {
		l.dn.scanner.verified(l.b)
		l.dn.metrics.blocksRead.Add(1)
	}
}
