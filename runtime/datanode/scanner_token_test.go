package datanode

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

func TestScannerPassReportsACorruptReplica(t *testing.T) {
	nn := newFakeNN(hdfs.HAActive, 1)
	dn, err := Start(Options{DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		NameNodes: []NameNode{{Nameservice: "ns", ID: "nn1", Proto: nn}}, Heartbeat: 20 * time.Millisecond,
		ScanPeriod: 30 * time.Millisecond, ScanBytesPerSec: 1 << 30, SocketTimeout: 5 * time.Second, Secret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	waitFor(t, "registration", dn.Ready)
	data := pattern(3000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1600, GenStamp: 1001}}
	if err := clientWrite(t, b, data, dn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a scan of the good replica", func() bool { return dn.metrics.blocksVerified.Load() > 0 })
	r := mustGet(t, dn, b.ID)
	f, _ := os.OpenFile(r.DataPath, os.O_RDWR, 0)
	f.WriteAt([]byte{data[2999] ^ 0xff}, 2999)
	f.Close()
	waitFor(t, "the scanner's bad block report", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		return len(nn.bad) > 0 && nn.bad[0].Block.ID == b.ID && nn.bad[0].StorageIDs[0] == r.StorageUUID
	})
}

func TestBlockTokensWhenEnabled(t *testing.T) {
	nn := newFakeNN(hdfs.HAActive, 1)
	secret := []byte("cluster-secret")
	dn, err := Start(Options{DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		NameNodes: []NameNode{{Nameservice: "ns", ID: "nn1", Proto: nn}}, Heartbeat: 20 * time.Millisecond,
		ScanPeriod: -1, SocketTimeout: 5 * time.Second, Secret: secret, BlockTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	waitFor(t, "registration", dn.Ready)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1700, GenStamp: 1001}}
	write := func(tok *hdfs.Token) error {
		c, err := net.Dial("tcp", dn.XferAddr())
		if err != nil {
			return err
		}
		defer c.Close()
		dtp.WriteOp(c, dtp.OpWriteBlock, &hadooppb.OpWriteBlockProto{
			Header: dtp.ClientHeader(b, tok, "DFSClient_t"), Stage: hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE.Enum(),
			PipelineSize: proto.Uint32(1), MinBytesRcvd: proto.Uint64(0), MaxBytesRcvd: proto.Uint64(0),
			LatestGenerationStamp: proto.Uint64(1001), RequestedChecksum: dtp.CRC32C(512),
		})
		in := dtp.NewReader(c)
		if _, err := dtp.ReadResponse(in); err != nil {
			return err
		}
		dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: 0, Seqno: 0, Last: true}, nil, nil)
		_, err = dtp.ReadAck(in)
		return err
	}
	var se *dtp.StatusError
	if err := write(nil); !errors.As(err, &se) || se.Status != hadooppb.Status_ERROR_ACCESS_TOKEN {
		t.Fatalf("write without a token: %v", err)
	}
	readTok := hdfs.NewBlockToken(secret, b, "u", []string{hdfs.AccessRead}, time.Now().Add(time.Minute))
	if err := write(readTok); !errors.As(err, &se) || se.Status != hadooppb.Status_ERROR_ACCESS_TOKEN {
		t.Fatalf("write with a READ token: %v", err)
	}
	if err := write(hdfs.NewBlockToken(secret, b, "u", []string{hdfs.AccessWrite}, time.Now().Add(time.Minute))); err != nil {
		t.Fatalf("write with a WRITE token: %v", err)
	}
	if _, ok := dn.Storage().Get(testPool, b.ID); !ok {
		t.Fatal("no replica after the authorized write")
	}
}
