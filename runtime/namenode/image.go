package namenode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hactl/hactl/runtime/blockmgmt"
	"github.com/hactl/hactl/runtime/hdfs"
)

// imageMagic opens every fsimage hactl writes; the format is hactl's own (a
// preorder walk of the tree with varint fields), not Hadoop's protobuf image.
const imageMagic = "HACTLFSI"

// imageVersion is bumped whenever the image layout changes; the decoder
// still reads every older version (an upgraded NameNode loads the image the
// previous release saved). Version 2 adds the last block ID and generation
// stamp after the last inode ID, and after each file's inline data its
// blocks (id, stamp, length) and, for a file under construction, its lease
// holder and client machine.
const imageVersion = 2

// ErrBadImage is returned for an image that cannot be decoded.
var ErrBadImage = errors.New("malformed fsimage")

// EncodeImage serializes the whole namespace. The caller holds the namespace
// lock (at least for reading).
func (ns *Namespace) EncodeImage() []byte {
	var buf bytes.Buffer
	buf.Grow(64 + int(ns.files+ns.dirs)*40)
	var scratch [binary.MaxVarintLen64]byte
	uv := func(v uint64) { buf.Write(scratch[:binary.PutUvarint(scratch[:], v)]) }
	sv := func(v int64) { buf.Write(scratch[:binary.PutVarint(scratch[:], v)]) }
	str := func(s string) { uv(uint64(len(s))); buf.WriteString(s) }
	buf.WriteString(imageMagic)
	uv(imageVersion)
	sv(ns.lastTxid)
	sv(ns.lastInodeID)
	sv(ns.lastBlockID)
	sv(ns.genStamp)
	uv(uint64(len(ns.names)))
	for _, s := range ns.names {
		str(s)
	}
	var walk func(n *inode)
	walk = func(n *inode) {
		str(n.name)
		buf.WriteByte(boolByte(n.dir))
		sv(n.id)
		sv(n.mtime)
		sv(n.atime)
		uv(uint64(n.perm))
		uv(uint64(n.owner))
		uv(uint64(n.group))
		if !n.dir {
			sv(int64(n.repl))
			sv(n.blockSize)
			uv(uint64(len(n.data)))
			buf.Write(n.data)
			uv(uint64(len(n.blocks)))
			for _, b := range n.blocks {
				sv(b.ID)
				sv(b.GenStamp)
				sv(b.NumBytes)
			}
			buf.WriteByte(boolByte(n.uc != nil))
			if n.uc != nil {
				str(n.uc.holder)
				str(n.uc.machine)
			}
			return
		}
		uv(uint64(len(n.children)))
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(ns.root)
	return buf.Bytes()
}

// DecodeImage rebuilds a namespace from an image.
func DecodeImage(b []byte, maxInline int64) (*Namespace, error) {
	if !bytes.HasPrefix(b, []byte(imageMagic)) {
		return nil, fmt.Errorf("%w: no %s header", ErrBadImage, imageMagic)
	}
	d := &decoder{b: b[len(imageMagic):]}
	version := d.uvarint()
	if version < 1 || version > imageVersion {
		return nil, fmt.Errorf("%w: image version %d, this NameNode reads versions 1 to %d", ErrBadImage, version, imageVersion)
	}
	ns := &Namespace{nameIdx: map[string]uint32{}, MaxInline: maxInline, uc: map[int64]*inode{},
		lastBlockID: firstBlockID - 1, genStamp: firstGenStamp - 1}
	ns.lastTxid = d.varint()
	ns.lastInodeID = d.varint()
	if version >= 2 {
		ns.lastBlockID = d.varint()
		ns.genStamp = d.varint()
	}
	nnames := d.uvarint()
	if d.err != nil || nnames > uint64(len(d.b)) {
		return nil, fmt.Errorf("%w: bad string table", ErrBadImage)
	}
	for range nnames {
		ns.intern(d.str())
	}
	var read func(depth int) *inode
	read = func(depth int) *inode {
		if depth > 10000 || d.err != nil {
			d.fail()
			return nil
		}
		n := &inode{name: d.str(), dir: d.bool()}
		n.id = d.varint()
		n.mtime = d.varint()
		n.atime = d.varint()
		n.perm = uint16(d.uvarint())
		n.owner = uint32(d.uvarint())
		n.group = uint32(d.uvarint())
		if n.owner >= uint32(len(ns.names)) || n.group >= uint32(len(ns.names)) {
			d.fail()
			return nil
		}
		if !n.dir {
			ns.files++
			n.repl = int16(d.varint())
			n.blockSize = d.varint()
			if data := d.bytes(); len(data) > 0 {
				n.data = bytes.Clone(data)
			}
			if version < 2 {
				return n
			}
			nb := d.uvarint()
			if d.err != nil || nb > uint64(len(d.b))/3 {
				d.fail()
				return nil
			}
			if nb > 0 {
				n.blocks = make([]*blockmgmt.BlockInfo, nb)
				for i := range n.blocks {
					n.blocks[i] = &blockmgmt.BlockInfo{Block: hdfs.Block{ID: d.varint(), GenStamp: d.varint(), NumBytes: d.varint()},
						FileID: n.id, Replication: n.repl, State: blockmgmt.Complete}
				}
			}
			if d.bool() {
				n.uc = &fileUC{holder: d.str(), machine: d.str()}
				ns.uc[n.id] = n
				if len(n.blocks) > 0 {
					n.blocks[len(n.blocks)-1].State = blockmgmt.UnderConstruction
				}
			}
			return n
		}
		ns.dirs++
		nc := d.uvarint()
		if d.err != nil || nc > uint64(len(d.b)) {
			d.fail()
			return nil
		}
		if nc > 0 {
			n.children = make([]*inode, nc)
			for i := range n.children {
				if n.children[i] = read(depth + 1); n.children[i] == nil {
					return nil
				}
				if i > 0 && n.children[i-1].name >= n.children[i].name {
					d.fail() // children must be sorted: binary search depends on it
					return nil
				}
			}
		}
		return n
	}
	ns.root = read(0)
	if d.err != nil || ns.root == nil || !ns.root.dir {
		return nil, fmt.Errorf("%w: truncated or inconsistent inode tree", ErrBadImage)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadImage, len(d.b))
	}
	return ns, nil
}
