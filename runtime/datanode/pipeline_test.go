package datanode

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/dtp"
	"github.com/hactl/hactl/runtime/hdfs/hadooppb"
)

// startCluster starts n in-process DataNodes reporting to one fake active
// NameNode, and waits until every one has registered.
func startCluster(t *testing.T, n int) (*fakeNN, []*DataNode) {
	t.Helper()
	nn := newFakeNN(hdfs.HAActive, 10)
	var dns []*DataNode
	for i := 0; i < n; i++ {
		dn, err := Start(Options{
			DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			NameNodes: []NameNode{{Nameservice: "ns", ID: "nn1", Addr: "fake", Proto: nn}},
			Heartbeat: 20 * time.Millisecond, ScanPeriod: -1, SocketTimeout: 5 * time.Second,
			Secret: []byte("cluster-secret"), Logger: log.New(testWriter{t}, fmt.Sprintf("dn%d: ", i), 0),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dn.Close() })
		dns = append(dns, dn)
	}
	for _, dn := range dns {
		waitFor(t, "registration", func() bool { return dn.Ready() && dn.poolService(testPool) != nil && dn.bps["ns"].activeNN() == "nn1" })
	}
	return nn, dns
}

func info(dn *DataNode) *hadooppb.DatanodeInfoProto {
	return dtp.DatanodeInfoProto(hdfs.DatanodeInfo{DatanodeID: dn.ID()})
}

// clientWrite writes data as block b through the pipeline dns[0] → dns[1:]
// as a DFSClient does, returning the acks' replies.
func clientWrite(t *testing.T, b hdfs.ExtendedBlock, data []byte, dns ...*DataNode) error {
	t.Helper()
	c, err := net.Dial("tcp", dns[0].XferAddr())
	if err != nil {
		return err
	}
	defer c.Close()
	var targets []*hadooppb.DatanodeInfoProto
	for _, d := range dns[1:] {
		targets = append(targets, info(d))
	}
	err = dtp.WriteOp(c, dtp.OpWriteBlock, &hadooppb.OpWriteBlockProto{
		Header: dtp.ClientHeader(b, nil, "DFSClient_test"), Targets: targets,
		Stage: hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE.Enum(), PipelineSize: proto.Uint32(uint32(len(dns))),
		MinBytesRcvd: proto.Uint64(0), MaxBytesRcvd: proto.Uint64(0), LatestGenerationStamp: proto.Uint64(uint64(b.GenStamp)),
		RequestedChecksum: dtp.CRC32C(512),
	})
	if err != nil {
		return err
	}
	in := dtp.NewReader(c)
	if _, err := dtp.ReadResponse(in); err != nil {
		return err
	}
	acks := make(chan error, 1)
	npk := (len(data) + 9999) / 10000
	go func() {
		for seq := int64(0); ; seq++ {
			a, err := dtp.ReadAck(in)
			if err != nil {
				acks <- err
				return
			}
			if a.Seqno != seq || !a.OK() || len(a.Replies) != len(dns) {
				acks <- fmt.Errorf("bad ack: seqno %d (want %d), replies %v", a.Seqno, seq, a.Replies)
				return
			}
			if int(seq) == npk {
				acks <- nil
				return
			}
		}
	}()
	// Packets of 10,000 bytes: not chunk aligned, as after an hflush.
	var off int64
	seq := int64(0)
	for ; off < int64(len(data)); seq++ {
		end := min(off+10000, int64(len(data)))
		// A packet starts at a chunk boundary: resend the partial chunk.
		start := off - off%512
		piece := data[start:end]
		if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: start, Seqno: seq}, dtp.AppendChecksums(nil, piece, 512), piece); err != nil {
			return err
		}
		off = end
	}
	if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: off, Seqno: seq, Last: true}, nil, nil); err != nil {
		return err
	}
	return <-acks
}

// clientRead reads [off, off+n) of b from dn as a DFSClient does.
func clientRead(b hdfs.ExtendedBlock, off, n int64, dn *DataNode) ([]byte, error) {
	c, err := net.Dial("tcp", dn.XferAddr())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	err = dtp.WriteOp(c, dtp.OpReadBlock, &hadooppb.OpReadBlockProto{
		Header: dtp.ClientHeader(b, nil, "DFSClient_test"), Offset: proto.Uint64(uint64(off)), Len: proto.Uint64(uint64(n)),
	})
	if err != nil {
		return nil, err
	}
	in := dtp.NewReader(c)
	resp, err := dtp.ReadResponse(in)
	if err != nil {
		return nil, err
	}
	ci := resp.GetReadOpChecksumInfo()
	bpc := int(ci.GetChecksum().GetBytesPerChecksum())
	pos := int64(ci.GetChunkOffset())
	var got []byte
	var p dtp.Packet
	for {
		if err := dtp.ReadPacket(in, &p); err != nil {
			return nil, err
		}
		if p.Header.Last {
			break
		}
		if p.Header.OffsetInBlock != pos {
			return nil, errors.New("packet out of order")
		}
		if err := dtp.VerifyChecksums(p.Sums, p.Data, bpc, pos); err != nil {
			return nil, err
		}
		got = append(got, p.Data...)
		pos += int64(len(p.Data))
	}
	skip := off - int64(ci.GetChunkOffset())
	dtp.WriteDelimited(c, &hadooppb.ClientReadStatusProto{Status: hadooppb.Status_CHECKSUM_OK.Enum()})
	return got[skip : skip+n], nil
}

func TestPipelineOfThreeWritesAndReads(t *testing.T) {
	nn, dns := startCluster(t, 3)
	data := pattern(300_000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1073741900, GenStamp: 1001}}
	if err := clientWrite(t, b, data, dns...); err != nil {
		t.Fatal(err)
	}
	for i, dn := range dns {
		r, ok := dn.Storage().Get(testPool, b.ID)
		if !ok || r.State != hdfs.ReplicaFinalized || r.NumBytes != int64(len(data)) {
			t.Fatalf("dn%d replica %+v", i, r)
		}
		onDisk, _ := os.ReadFile(r.DataPath)
		if !bytes.Equal(onDisk, data) {
			t.Fatalf("dn%d: block file differs", i)
		}
	}
	waitFor(t, "RECEIVED from every DataNode", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		got := map[string]bool{}
		for _, e := range nn.events {
			if e.Status == hdfs.StatusReceived && e.Block.ID == b.ID && e.Block.NumBytes == int64(len(data)) {
				got[e.StorageUUID] = true
			}
		}
		return len(got) == 3
	})
	got, err := clientRead(b, 1000, 200_000, dns[2])
	if err != nil || !bytes.Equal(got, data[1000:201000]) {
		t.Fatalf("read: %v (got %d bytes)", err, len(got))
	}
	waitFor(t, "BlocksRead 1", func() bool { return dns[2].metrics.blocksRead.Load() == 1 })

	// BLOCK_CHECKSUM: the MD5 of the block's CRC32Cs.
	c, _ := net.Dial("tcp", dns[1].XferAddr())
	defer c.Close()
	bb := b
	bb.NumBytes = int64(len(data))
	dtp.WriteOp(c, dtp.OpBlockChecksum, &hadooppb.OpBlockChecksumProto{Header: &hadooppb.BaseHeaderProto{Block: dtp.BlockProto(bb)}})
	resp, err := dtp.ReadResponse(dtp.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	want := md5.Sum(crc512.AppendSums(nil, data))
	cr := resp.GetChecksumResponse()
	if !bytes.Equal(cr.GetBlockChecksum(), want[:]) || cr.GetCrcPerBlock() != uint64((len(data)+511)/512) || cr.GetBytesPerCrc() != 512 {
		t.Fatalf("checksum response %v", cr)
	}
}

func TestCorruptReplicaReadFailsAndIsReported(t *testing.T) {
	nn, dns := startCluster(t, 2)
	data := pattern(5000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 77, GenStamp: 1001}}
	if err := clientWrite(t, b, data, dns...); err != nil {
		t.Fatal(err)
	}
	r, _ := dns[1].Storage().Get(testPool, b.ID)
	f, _ := os.OpenFile(r.DataPath, os.O_RDWR, 0)
	f.WriteAt([]byte{data[4000] ^ 0x80}, 4000)
	f.Close()
	if _, err := clientRead(b, 0, 5000, dns[1]); err == nil {
		t.Fatal("a read of the corrupt replica succeeded")
	}
	waitFor(t, "the bad block report", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		return len(nn.bad) == 1 && nn.bad[0].Block.ID == b.ID && nn.bad[0].Locations[0].UUID == dns[1].ID().UUID
	})
	if got, err := clientRead(b, 0, 5000, dns[0]); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the good replica: %v", err)
	}
	// The scanner finds it too.
	if dns[1].scanner.scan(t.Context(), testPool, r) {
		t.Fatal("the scanner passed a corrupt replica")
	}
	if !dns[0].scanner.scan(t.Context(), testPool, mustGet(t, dns[0], b.ID)) {
		t.Fatal("the scanner failed a good replica")
	}
}

func mustGet(t *testing.T, dn *DataNode, id int64) Replica {
	t.Helper()
	r, ok := dn.Storage().Get(testPool, id)
	if !ok {
		t.Fatalf("no replica of %d", id)
	}
	return r
}

func TestReplicateAndInvalidateCommands(t *testing.T) {
	nn, dns := startCluster(t, 3)
	data := pattern(150_000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 500, GenStamp: 1002}}
	if err := clientWrite(t, b, data, dns[0]); err != nil {
		t.Fatal(err)
	}
	nn.sendTo(dns[0].ID().UUID, hdfs.Command{Action: hdfs.ActionTransfer, PoolID: testPool,
		Blocks:  []hdfs.Block{{ID: 500, GenStamp: 1002, NumBytes: int64(len(data))}},
		Targets: [][]hdfs.DatanodeInfo{{{DatanodeID: dns[1].ID()}, {DatanodeID: dns[2].ID()}}}})
	for _, dn := range dns[1:] {
		waitFor(t, "the replicated replica", func() bool {
			r, ok := dn.Storage().Get(testPool, 500)
			return ok && r.State == hdfs.ReplicaFinalized && r.NumBytes == int64(len(data))
		})
		r := mustGet(t, dn, 500)
		onDisk, _ := os.ReadFile(r.DataPath)
		if !bytes.Equal(onDisk, data) || r.GenStamp != 1002 {
			t.Fatal("replica differs")
		}
	}
	nn.sendTo(dns[0].ID().UUID, hdfs.Command{Action: hdfs.ActionInvalidate, PoolID: testPool, Blocks: []hdfs.Block{{ID: 500, GenStamp: 1002}}})
	waitFor(t, "the deletion and its DELETED report", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		for _, e := range nn.events {
			if e.Status == hdfs.StatusDeleted && e.Block.ID == 500 {
				_, ok := dns[0].Storage().Get(testPool, 500)
				return !ok
			}
		}
		return false
	})
}

func TestRecoveryAgreesOnALength(t *testing.T) {
	nn, dns := startCluster(t, 3)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 900, GenStamp: 1005}}
	data := pattern(3000)
	// A writer died mid-block: the replicas got different amounts.
	for i, n := range []int{2600, 1800, 2100} {
		w, err := dns[i].Storage().CreateRBW(b, crc512, 4096, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(0, data[:n]); err != nil {
			t.Fatal(err)
		}
	}
	var locs []hdfs.DatanodeInfo
	for _, dn := range dns {
		locs = append(locs, hdfs.DatanodeInfo{DatanodeID: dn.ID()})
	}
	nn.sendTo(dns[0].ID().UUID, hdfs.Command{Action: hdfs.ActionRecover, PoolID: testPool,
		Recovering: []hdfs.RecoveringBlock{{Block: b, Locations: locs, NewGenStamp: 1006}}})
	waitFor(t, "commitBlockSynchronization", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		return len(nn.commits) == 1
	})
	c := nn.commits[0]
	if c.NewLength != 1800 || c.NewGenStamp != 1006 || !c.CloseFile || c.DeleteBlock || len(c.NewTargets) != 3 {
		t.Fatalf("commit %+v", c)
	}
	for i, dn := range dns {
		r := mustGet(t, dn, 900)
		if r.State != hdfs.ReplicaFinalized || r.NumBytes != 1800 || r.GenStamp != 1006 {
			t.Fatalf("dn%d after recovery: %+v", i, r)
		}
		got, err := clientRead(hdfs.ExtendedBlock{PoolID: testPool, Block: r.Block}, 0, 1800, dn)
		if err != nil || !bytes.Equal(got, data[:1800]) {
			t.Fatalf("dn%d read after recovery: %v", i, err)
		}
	}
	// A recovery call without the cluster secret is refused.
	resp, err := http.Post("http://"+dns[1].HTTPAddr()+"/dn/initReplicaRecovery", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned recovery call: %s", resp.Status)
	}
}

func TestRecoveryPlan(t *testing.T) {
	at := func(st hdfs.ReplicaState, n int64) replicaAt {
		return replicaAt{info: RecoveryInfo{Block: hdfs.Block{NumBytes: n}, State: st}}
	}
	for _, tc := range []struct {
		name  string
		in    []replicaAt
		parts int
		n     int64
		err   bool
	}{
		{"finalized wins, rbw of its length joins", []replicaAt{at(hdfs.ReplicaFinalized, 100), at(hdfs.ReplicaRBW, 100), at(hdfs.ReplicaRBW, 150)}, 2, 100, false},
		{"rbw: shortest", []replicaAt{at(hdfs.ReplicaRBW, 300), at(hdfs.ReplicaRBW, 200), at(hdfs.ReplicaRWR, 100)}, 2, 200, false},
		{"rwr only", []replicaAt{at(hdfs.ReplicaRWR, 300), at(hdfs.ReplicaRWR, 250)}, 2, 250, false},
		{"finalized disagree", []replicaAt{at(hdfs.ReplicaFinalized, 1), at(hdfs.ReplicaFinalized, 2)}, 0, 0, true},
	} {
		parts, n, err := recoveryPlan(tc.in)
		if (err != nil) != tc.err || len(parts) != tc.parts || n != tc.n {
			t.Errorf("%s: %d parts, length %d, err %v", tc.name, len(parts), n, err)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
