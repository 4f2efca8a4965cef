package zkfc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// NodeInfo is what the lock and breadcrumb znodes hold: Hadoop's ActiveNodeInfo
// (HAZKInfo.proto), encoded as the same protobuf message, so Hadoop's ZKFC and
// hactl's read each other's znodes:
//
//	1: nameserviceId (string)  2: namenodeId (string)  3: hostname (string)
//	4: port (int32, the NameNode's RPC port)  5: zkfcPort (int32)
type NodeInfo struct {
	Nameservice string
	NamenodeID  string
	Host        string
	Port        int
	ZKFCPort    int
}

// ErrBadNodeInfo means znode data is not an ActiveNodeInfo message.
var ErrBadNodeInfo = errors.New("znode data is not an ActiveNodeInfo")

// Encode returns the protobuf encoding.
func (n NodeInfo) Encode() []byte {
	var b []byte
	str := func(field int, s string) {
		b = binary.AppendUvarint(b, uint64(field<<3|2))
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(field, v int) {
		b = binary.AppendUvarint(b, uint64(field<<3))
		b = binary.AppendUvarint(b, uint64(int64(int32(v)))) // int32 is sign-extended, as protobuf does
	}
	str(1, n.Nameservice)
	str(2, n.NamenodeID)
	str(3, n.Host)
	num(4, n.Port)
	num(5, n.ZKFCPort)
	return b
}

// DecodeNodeInfo parses the protobuf encoding, skipping unknown fields.
func DecodeNodeInfo(b []byte) (NodeInfo, error) {
	var n NodeInfo
	for len(b) > 0 {
		key, k := binary.Uvarint(b)
		if k <= 0 {
			return n, ErrBadNodeInfo
		}
		b = b[k:]
		field, wire := int(key>>3), int(key&7)
		switch wire {
		case 0:
			v, k := binary.Uvarint(b)
			if k <= 0 {
				return n, ErrBadNodeInfo
			}
			b = b[k:]
			switch field {
			case 4:
				n.Port = int(int32(v))
			case 5:
				n.ZKFCPort = int(int32(v))
			}
		case 2:
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l {
				return n, ErrBadNodeInfo
			}
			s := string(b[k : k+int(l)])
			b = b[k+int(l):]
			switch field {
			case 1:
				n.Nameservice = s
			case 2:
				n.NamenodeID = s
			case 3:
				n.Host = s
			}
		case 1:
			if len(b) < 8 {
				return n, ErrBadNodeInfo
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return n, ErrBadNodeInfo
			}
			b = b[4:]
		default:
			return n, ErrBadNodeInfo
		}
	}
	if n.Nameservice == "" || n.NamenodeID == "" { // needed to know whom to fence
		return n, fmt.Errorf("%w: missing nameservice or namenode ID", ErrBadNodeInfo)
	}
	return n, nil
}

// SameNode reports whether two infos name the same NameNode (addresses may
// differ after a reconfiguration; the identity is the nameservice and ID).
func (n NodeInfo) SameNode(o NodeInfo) bool {
	return n.Nameservice == o.Nameservice && n.NamenodeID == o.NamenodeID
}

func (n NodeInfo) String() string {
	return fmt.Sprintf("%s.%s (%s:%d, zkfc port %d)", n.Nameservice, n.NamenodeID, n.Host, n.Port, n.ZKFCPort)
}
