package namenode

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hactl/hactl/runtime/hdfs"
)

// OpCode names an edit operation (Hadoop's FSEditLogOpCodes, reduced to what
// a namespace without blocks needs).
type OpCode uint8

// Edit operations. Values are part of the on-journal format: never renumber.
const (
	OpNoop           OpCode = 0
	OpMkdirs         OpCode = 1
	OpCreate         OpCode = 2
	OpAppend         OpCode = 3
	OpDelete         OpCode = 4
	OpRename         OpCode = 5
	OpSetPermission  OpCode = 6
	OpSetOwner       OpCode = 7
	OpSetReplication OpCode = 8
	OpTimes          OpCode = 9
	OpTruncate       OpCode = 10
	OpConcat         OpCode = 11
	// The ops of files stored in blocks on DataNodes (Hadoop's names in
	// String). A file in blocks is created empty and under construction,
	// leased to a client; blocks are added, updated and the file closed
	// by later ops.
	OpAddFile       OpCode = 12 // create under construction (OP_ADD with a client name)
	OpAppendFile    OpCode = 13 // reopen for append (OP_APPEND); GenStamp: the partial last block's new stamp
	OpAddBlock      OpCode = 14 // Blocks: [the previous block's final state,] the new block
	OpUpdateBlocks  OpCode = 15 // Blocks: the file's whole list (pipeline recovery, fsync, abandon)
	OpClose         OpCode = 16 // Blocks: the whole list; the file is complete
	OpSetGenStamp   OpCode = 17 // GenStamp: the last generation stamp used
	OpReassignLease OpCode = 18 // ClientName: the new lease holder (lease recovery)
	OpTruncateFile  OpCode = 19 // Length, ClientName, ClientMachine, GenStamp (a partial last block is recovered to Length)
	// OpConvertInline gives the inline file Path (inode InodeID) the
	// blocks of the closed file Dst, which holds the same bytes, and
	// removes Dst: the upgrade of a file stored inline to blocks, in one
	// edit so that the file is never missing or half converted.
	OpConvertInline OpCode = 20
)

func (c OpCode) String() string {
	switch c {
	case OpNoop:
		return "OP_NOOP"
	case OpMkdirs:
		return "OP_MKDIR"
	case OpCreate:
		return "OP_ADD"
	case OpAppend:
		return "OP_APPEND"
	case OpDelete:
		return "OP_DELETE"
	case OpRename:
		return "OP_RENAME_OLD"
	case OpSetPermission:
		return "OP_SET_PERMISSIONS"
	case OpSetOwner:
		return "OP_SET_OWNER"
	case OpSetReplication:
		return "OP_SET_REPLICATION"
	case OpTimes:
		return "OP_TIMES"
	case OpTruncate:
		return "OP_TRUNCATE"
	case OpConcat:
		return "OP_CONCAT_DELETE"
	case OpAddFile:
		return "OP_ADD"
	case OpAppendFile:
		return "OP_APPEND"
	case OpAddBlock:
		return "OP_ADD_BLOCK"
	case OpUpdateBlocks:
		return "OP_UPDATE_BLOCKS"
	case OpClose:
		return "OP_CLOSE"
	case OpSetGenStamp:
		return "OP_SET_GENSTAMP_V2"
	case OpReassignLease:
		return "OP_REASSIGN_LEASE"
	case OpTruncateFile:
		return "OP_TRUNCATE"
	case OpConvertInline:
		return "OP_HACTL_CONVERT_INLINE"
	}
	return fmt.Sprintf("OP_%d", uint8(c))
}

// The first byte of every encoded edit is its version; a reader refuses
// versions it does not know rather than misreading them.
//
// Version 2 is version 1's encoding followed by the caller's client id and
// call id (Hadoop's rpcClientId and rpcCallId of an at-most-once op), so a
// NameNode applying the edit fills its retry cache. Only an edit carrying ids
// is written as version 2: every other edit keeps version 1's bytes, and a
// NameNode of the release before reads everything but those (upgrade the
// standby first, as Hadoop's rolling upgrade does).
const (
	editVersion    = 1
	editVersionIDs = 2
)

// ErrBadEdit is returned for an edit that cannot be decoded.
var ErrBadEdit = errors.New("malformed edit")

// Op is one namespace mutation as written to the journal. Only the fields
// its Code uses are encoded.
type Op struct {
	Code        OpCode
	Path        string
	Dst         string // OpRename: the resolved final path
	Perm        uint16
	Owner       string
	Group       string
	Time        int64 // ms since the epoch, chosen by the active
	Replication int16
	BlockSize   int64
	Overwrite   bool
	Recursive   bool
	Data        []byte
	MTime       int64    // OpTimes: ms since the epoch, -1 leaves it
	ATime       int64    // OpTimes: ms since the epoch, -1 leaves it
	Length      int64    // OpTruncate: the new length
	Srcs        []string // OpConcat: the files appended to Path, in order, then deleted
	// Block ops.
	ClientName    string       // the lease holder
	ClientMachine string       // the writer's host, for placement
	Blocks        []hdfs.Block // OpAddBlock, OpUpdateBlocks, OpClose
	GenStamp      int64        // OpAppendFile, OpSetGenStamp, OpTruncateFile
	InodeID       int64        // OpConvertInline: the inline file's inode
	// RPCClientID and RPCCallID name the at-most-once call that logged the
	// edit (create, append, delete, rename, concat, updatePipeline over
	// native RPC); empty for every other edit.
	RPCClientID []byte
	RPCCallID   int32
	// trivial is set by Prepare for an operation that succeeds without an
	// edit (a rename of a path to itself); never encoded.
	trivial bool
}

// EncodeOp returns the journal bytes of op.
func EncodeOp(op *Op) []byte {
	b := make([]byte, 0, 32+len(op.Path)+len(op.Dst)+len(op.Data)+len(op.RPCClientID))
	version := byte(editVersion)
	if len(op.RPCClientID) > 0 {
		version = editVersionIDs
	}
	b = append(b, version, byte(op.Code))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	switch op.Code {
	case OpNoop:
	case OpMkdirs:
		str(op.Path)
		b = binary.AppendUvarint(b, uint64(op.Perm))
		str(op.Owner)
		str(op.Group)
		b = binary.AppendVarint(b, op.Time)
	case OpCreate:
		str(op.Path)
		b = binary.AppendUvarint(b, uint64(op.Perm))
		str(op.Owner)
		str(op.Group)
		b = binary.AppendVarint(b, op.Time)
		b = binary.AppendVarint(b, int64(op.Replication))
		b = binary.AppendVarint(b, op.BlockSize)
		b = append(b, boolByte(op.Overwrite))
		str(string(op.Data))
	case OpAppend:
		str(op.Path)
		b = binary.AppendVarint(b, op.Time)
		str(string(op.Data))
	case OpDelete:
		str(op.Path)
		b = append(b, boolByte(op.Recursive))
		b = binary.AppendVarint(b, op.Time)
	case OpRename:
		str(op.Path)
		str(op.Dst)
		b = binary.AppendVarint(b, op.Time)
	case OpSetPermission:
		str(op.Path)
		b = binary.AppendUvarint(b, uint64(op.Perm))
	case OpSetOwner:
		str(op.Path)
		str(op.Owner)
		str(op.Group)
	case OpSetReplication:
		str(op.Path)
		b = binary.AppendVarint(b, int64(op.Replication))
	case OpTimes:
		str(op.Path)
		b = binary.AppendVarint(b, op.MTime)
		b = binary.AppendVarint(b, op.ATime)
	case OpTruncate:
		str(op.Path)
		b = binary.AppendVarint(b, op.Length)
		b = binary.AppendVarint(b, op.Time)
	case OpConcat:
		str(op.Path)
		b = binary.AppendUvarint(b, uint64(len(op.Srcs)))
		for _, src := range op.Srcs {
			str(src)
		}
		b = binary.AppendVarint(b, op.Time)
	case OpAddFile:
		str(op.Path)
		b = binary.AppendUvarint(b, uint64(op.Perm))
		str(op.Owner)
		str(op.Group)
		b = binary.AppendVarint(b, op.Time)
		b = binary.AppendVarint(b, int64(op.Replication))
		b = binary.AppendVarint(b, op.BlockSize)
		b = append(b, boolByte(op.Overwrite))
		str(op.ClientName)
		str(op.ClientMachine)
	case OpAppendFile:
		str(op.Path)
		str(op.ClientName)
		str(op.ClientMachine)
		b = binary.AppendVarint(b, op.Time)
		b = binary.AppendVarint(b, op.GenStamp)
	case OpAddBlock, OpUpdateBlocks, OpClose:
		str(op.Path)
		b = binary.AppendVarint(b, op.Time)
		b = binary.AppendUvarint(b, uint64(len(op.Blocks)))
		for _, blk := range op.Blocks {
			b = binary.AppendVarint(b, blk.ID)
			b = binary.AppendVarint(b, blk.GenStamp)
			b = binary.AppendVarint(b, blk.NumBytes)
		}
	case OpSetGenStamp:
		b = binary.AppendVarint(b, op.GenStamp)
	case OpReassignLease:
		str(op.Path)
		str(op.ClientName)
	case OpTruncateFile:
		str(op.Path)
		b = binary.AppendVarint(b, op.Length)
		b = binary.AppendVarint(b, op.Time)
		str(op.ClientName)
		str(op.ClientMachine)
		b = binary.AppendVarint(b, op.GenStamp)
	case OpConvertInline:
		str(op.Path)
		str(op.Dst)
		b = binary.AppendVarint(b, op.InodeID)
		b = binary.AppendVarint(b, op.Time)
	}
	if version == editVersionIDs {
		str(string(op.RPCClientID))
		b = binary.AppendVarint(b, int64(op.RPCCallID))
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrBadEdit
	}
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.fail()
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v != 0
}

// DecodeOp parses journal bytes. An empty record is a no-op, so journal-level
// markers the QJM may write never break replay.
func DecodeOp(b []byte) (*Op, error) {
	if len(b) == 0 {
		return &Op{Code: OpNoop}, nil
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadEdit, len(b))
	}
	if b[0] != editVersion && b[0] != editVersionIDs {
		return nil, fmt.Errorf("%w: edit format version %d, this NameNode reads versions %d and %d", ErrBadEdit, b[0], editVersion, editVersionIDs)
	}
	op := &Op{Code: OpCode(b[1])}
	d := &decoder{b: b[2:]}
	switch op.Code {
	case OpNoop:
	case OpMkdirs:
		op.Path = d.str()
		op.Perm = uint16(d.uvarint())
		op.Owner = d.str()
		op.Group = d.str()
		op.Time = d.varint()
	case OpCreate:
		op.Path = d.str()
		op.Perm = uint16(d.uvarint())
		op.Owner = d.str()
		op.Group = d.str()
		op.Time = d.varint()
		op.Replication = int16(d.varint())
		op.BlockSize = d.varint()
		op.Overwrite = d.bool()
		op.Data = d.bytes()
	case OpAppend:
		op.Path = d.str()
		op.Time = d.varint()
		op.Data = d.bytes()
	case OpDelete:
		op.Path = d.str()
		op.Recursive = d.bool()
		op.Time = d.varint()
	case OpRename:
		op.Path = d.str()
		op.Dst = d.str()
		op.Time = d.varint()
	case OpSetPermission:
		op.Path = d.str()
		op.Perm = uint16(d.uvarint())
	case OpSetOwner:
		op.Path = d.str()
		op.Owner = d.str()
		op.Group = d.str()
	case OpSetReplication:
		op.Path = d.str()
		op.Replication = int16(d.varint())
	case OpTimes:
		op.Path = d.str()
		op.MTime = d.varint()
		op.ATime = d.varint()
	case OpTruncate:
		op.Path = d.str()
		op.Length = d.varint()
		op.Time = d.varint()
	case OpConcat:
		op.Path = d.str()
		// Each source takes at least its length byte: a count beyond the
		// bytes left is malformed, not an allocation.
		if n := d.uvarint(); n <= uint64(len(d.b)) {
			op.Srcs = make([]string, 0, n)
			for range n {
				op.Srcs = append(op.Srcs, d.str())
			}
		} else {
			d.fail()
		}
		op.Time = d.varint()
	case OpAddFile:
		op.Path = d.str()
		op.Perm = uint16(d.uvarint())
		op.Owner = d.str()
		op.Group = d.str()
		op.Time = d.varint()
		op.Replication = int16(d.varint())
		op.BlockSize = d.varint()
		op.Overwrite = d.bool()
		op.ClientName = d.str()
		op.ClientMachine = d.str()
	case OpAppendFile:
		op.Path = d.str()
		op.ClientName = d.str()
		op.ClientMachine = d.str()
		op.Time = d.varint()
		op.GenStamp = d.varint()
	case OpAddBlock, OpUpdateBlocks, OpClose:
		op.Path = d.str()
		op.Time = d.varint()
		// Each block takes at least three bytes.
		if n := d.uvarint(); n <= uint64(len(d.b))/3 {
			op.Blocks = make([]hdfs.Block, 0, n)
			for range n {
				op.Blocks = append(op.Blocks, hdfs.Block{ID: d.varint(), GenStamp: d.varint(), NumBytes: d.varint()})
			}
		} else {
			d.fail()
		}
	case OpSetGenStamp:
		op.GenStamp = d.varint()
	case OpReassignLease:
		op.Path = d.str()
		op.ClientName = d.str()
	case OpTruncateFile:
		op.Path = d.str()
		op.Length = d.varint()
		op.Time = d.varint()
		op.ClientName = d.str()
		op.ClientMachine = d.str()
		op.GenStamp = d.varint()
	case OpConvertInline:
		op.Path = d.str()
		op.Dst = d.str()
		op.InodeID = d.varint()
		op.Time = d.varint()
	default:
		return nil, fmt.Errorf("%w: unknown op code %d", ErrBadEdit, b[1])
	}
	if b[0] == editVersionIDs {
		op.RPCClientID = d.bytes()
		if c := d.varint(); c >= -1<<31 && c < 1<<31 {
			op.RPCCallID = int32(c)
		} else {
			d.fail()
		}
		if len(op.RPCClientID) == 0 {
			d.fail() // version 2 is written only with ids
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: truncated %s", ErrBadEdit, op.Code)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after %s", ErrBadEdit, len(d.b), op.Code)
	}
	return op, nil
}
