package zkfc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestNodeInfoIsHadoopsActiveNodeInfo(t *testing.T) {
	n := NodeInfo{Nameservice: "ns", NamenodeID: "nn1", Host: "h", Port: 8020, ZKFCPort: 8019}
	// The protobuf wire format of ActiveNodeInfo, by hand: tag 1 len "ns", tag 2 "nn1", tag 3 "h", tag 4 varint 8020, tag 5 varint 8019.
	want, _ := hex.DecodeString("0a026e7312036e6e311a0168" + "20d43e" + "28d33e")
	if got := n.Encode(); !bytes.Equal(got, want) {
		t.Fatalf("encoding %x, want %x", got, want)
	}
	back, err := DecodeNodeInfo(n.Encode())
	if err != nil || back != n {
		t.Fatalf("round trip %+v %v", back, err)
	}
	// Unknown fields (a newer Hadoop) are skipped.
	ext := append(n.Encode(), 0x32, 0x01, 'x', 0x38, 0x05)
	if back, err := DecodeNodeInfo(ext); err != nil || back != n {
		t.Fatalf("with unknown fields %+v %v", back, err)
	}
	for _, bad := range [][]byte{{0xff}, {0x0a, 0x09, 'a'}, NodeInfo{Host: "h"}.Encode()} {
		if _, err := DecodeNodeInfo(bad); !errors.Is(err, ErrBadNodeInfo) {
			t.Fatalf("%x: err %v", bad, err)
		}
	}
}
