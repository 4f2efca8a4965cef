package datanode

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
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
func startCluster(t testing.TB, n int) (*fakeNN, []*DataNode) {
	t.Helper()
	return startClusterWith(t, n, func(*Options) {})
}

func startClusterWith(t testing.TB, n int, tweak func(*Options)) (*fakeNN, []*DataNode) {
	t.Helper()
	nn := newFakeNN(hdfs.HAActive, 10)
	var dns []*DataNode
	for i := 0; i < n; i++ {
		opts := Options{
			DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			NameNodes: []NameNode{{Nameservice: "ns", ID: "nn1", Addr: "fake", Proto: nn}},
			Heartbeat: 20 * time.Millisecond, ScanPeriod: -1, SocketTimeout: 5 * time.Second,
			Secret: []byte("cluster-secret"), Logger: log.New(testWriter{t}, fmt.Sprintf("dn%d: ", i), 0),
		}
		tweak(&opts)
		dn, err := Start(opts)
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

var stageCreate = hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE

func info(dn *DataNode) *hadooppb.DatanodeInfoProto {
	return dtp.DatanodeInfoProto(hdfs.DatanodeInfo{DatanodeID: dn.ID()})
}

// clientWrite writes data as block b through the pipeline dns[0] → dns[1:]
// as a DFSClient does, checking every ack.
func clientWrite(t testing.TB, b hdfs.ExtendedBlock, data []byte, dns ...*DataNode) error {
	return clientWriteStage(t, b, hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE, b.GenStamp, data, 0, true, dns...)
}

// clientWriteStage sends data[from:] (from the chunk boundary at or before
// from) in the given stage; without finish it stops after the acks of the
// data packets, leaving the block unfinished as a writer that died.
func clientWriteStage(t testing.TB, b hdfs.ExtendedBlock, stg hadooppb.OpWriteBlockProto_BlockConstructionStage, newGS int64, data []byte, from int64, finish bool, dns ...*DataNode) error {
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
		Stage: stg.Enum(), PipelineSize: proto.Uint32(uint32(len(dns))),
		MinBytesRcvd: proto.Uint64(uint64(from)), MaxBytesRcvd: proto.Uint64(uint64(from)), LatestGenerationStamp: proto.Uint64(uint64(newGS)),
		RequestedChecksum: dtp.CRC32C(512),
	})
	if err != nil {
		return err
	}
	in := dtp.NewReader(c)
	if _, err := dtp.ReadResponse(in); err != nil {
		return err
	}
	// Packets of 10,000 bytes; each starts at a chunk boundary, resending
	// the partial chunk the previous one ended in (as after an hflush).
	type pkt struct {
		off  int64
		data []byte
	}
	var pkts []pkt
	for off := from; off < int64(len(data)); {
		end := min(off+10000, int64(len(data)))
		start := off - off%512
		pkts = append(pkts, pkt{start, data[start:end]})
		off = end
	}
	acks := make(chan error, 1)
	go func() {
		want := len(pkts)
		if finish {
			want++
		}
		for seq := int64(0); seq < int64(want); seq++ {
			a, err := dtp.ReadAck(in)
			if err != nil {
				acks <- err
				return
			}
			if a.Seqno != seq || !a.OK() || len(a.Replies) != len(dns) {
				acks <- fmt.Errorf("bad ack: seqno %d (want %d), replies %v", a.Seqno, seq, a.Replies)
				return
			}
		}
		acks <- nil
	}()
	for i, p := range pkts {
		if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: p.off, Seqno: int64(i)}, dtp.AppendChecksums(nil, p.data, 512), p.data); err != nil {
			return err
		}
	}
	if finish {
		if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: int64(len(data)), Seqno: int64(len(pkts)), Last: true}, nil, nil); err != nil {
			return err
		}
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

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestPipelineRecoveryWithoutAFailedDataNode(t *testing.T) {
	_, dns := startCluster(t, 3)
	data := pattern(45_000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1200, GenStamp: 1001}}
	// 25,000 bytes acknowledged by all three, then the writer's pipeline breaks.
	if err := clientWriteStage(t, b, hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE, 1001, data[:25000], 0, false, dns...); err != nil {
		t.Fatal(err)
	}
	for _, dn := range dns {
		waitFor(t, "the writer to stop", func() bool {
			r, ok := dn.Storage().Get(testPool, b.ID)
			return ok && r.State == hdfs.ReplicaRBW
		})
	}
	// The client continues with a new stamp on the two good DataNodes,
	// resending from the acknowledged length.
	if err := clientWriteStage(t, b, hadooppb.OpWriteBlockProto_PIPELINE_SETUP_STREAMING_RECOVERY, 1002, data, 25000, true, dns[0], dns[2]); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		r := mustGet(t, dns[i], b.ID)
		if r.State != hdfs.ReplicaFinalized || r.GenStamp != 1002 || r.NumBytes != int64(len(data)) {
			t.Fatalf("dn%d: %+v", i, r)
		}
		got, err := clientRead(hdfs.ExtendedBlock{PoolID: testPool, Block: r.Block}, 0, int64(len(data)), dns[i])
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("dn%d read: %v", i, err)
		}
	}
	if r := mustGet(t, dns[1], b.ID); r.GenStamp != 1001 || r.State != hdfs.ReplicaRBW {
		t.Fatalf("the excluded DataNode's replica: %+v", r)
	}
	// The stale stamp is no longer readable where the replica moved on.
	if _, err := clientRead(hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: b.ID, GenStamp: 1003}}, 0, 10, dns[0]); err == nil {
		t.Fatal("read of a newer stamp than the replica's succeeded")
	}
}

func TestAppendContinuesAFinalizedReplica(t *testing.T) {
	nn, dns := startCluster(t, 2)
	data := pattern(9000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1300, GenStamp: 1001}}
	if err := clientWrite(t, b, data[:5100], dns...); err != nil {
		t.Fatal(err)
	}
	ab := b
	ab.NumBytes = 5100
	if err := clientWriteStage(t, ab, hadooppb.OpWriteBlockProto_PIPELINE_SETUP_APPEND, 1002, data, 5100, true, dns...); err != nil {
		t.Fatal(err)
	}
	for i, dn := range dns {
		r := mustGet(t, dn, b.ID)
		if r.State != hdfs.ReplicaFinalized || r.GenStamp != 1002 || r.NumBytes != 9000 {
			t.Fatalf("dn%d: %+v", i, r)
		}
		meta, _ := os.ReadFile(r.MetaPath)
		if !bytes.Equal(meta[MetaHeaderLen:], crc512.AppendSums(nil, data)) {
			t.Fatalf("dn%d: the meta file's CRCs do not cover the appended block chunk by chunk", i)
		}
	}
	waitFor(t, "RECEIVING_BLOCK of the appended replica from both DataNodes", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		n := 0
		for _, e := range nn.events {
			if e.Status == hdfs.StatusReceiving && e.Block.ID == b.ID && e.Block.GenStamp == 1002 {
				n++
			}
		}
		return n == 2
	})
}

func TestRestartReportsStoredReplicas(t *testing.T) {
	nn := newFakeNN(hdfs.HAActive, 10)
	dir := t.TempDir()
	opts := Options{DataDirs: []string{dir}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		NameNodes: []NameNode{{Nameservice: "ns", ID: "nn1", Proto: nn}}, Heartbeat: 20 * time.Millisecond, ScanPeriod: -1,
		SocketTimeout: 5 * time.Second, Secret: []byte("s")}
	dn, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "registration", dn.Ready)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1400, GenStamp: 1001}}
	if err := clientWrite(t, b, pattern(700), dn); err != nil {
		t.Fatal(err)
	}
	uuid := dn.ID().UUID
	dn.Close()
	nn.mu.Lock()
	nn.reports = map[string][]hdfs.ReplicaReport{}
	nn.mu.Unlock()
	dn2, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer dn2.Close()
	waitFor(t, "the full block report after the restart", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		rep := nn.reports[uuid]
		return len(rep) == 1 && rep[0].ID == 1400 && rep[0].NumBytes == 700 && rep[0].State == hdfs.ReplicaFinalized
	})
	if dn2.ID().UUID != uuid {
		t.Fatalf("datanodeUuid changed across the restart: %s → %s", uuid, dn2.ID().UUID)
	}
}

// TestCRC32WriterAsColinmarc writes as github.com/colinmarc/hdfs/v2 does:
// CRC32 (not CRC32C) checksums, seqnos from 1, latestGenerationStamp 0,
// pipelineSize counting only the targets; the replica keeps CRC32 and a
// read says so.
func TestCRC32WriterAsColinmarc(t *testing.T) {
	_, dns := startCluster(t, 2)
	data := pattern(70_000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1500, GenStamp: 1001}}
	c, err := net.Dial("tcp", dns[0].XferAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	crc32spec := ChecksumSpec{Type: ChecksumCRC32, BytesPerChecksum: 512}
	err = dtp.WriteOp(c, dtp.OpWriteBlock, &hadooppb.OpWriteBlockProto{
		Header: dtp.ClientHeader(b, nil, "go-hdfs-x"), Targets: []*hadooppb.DatanodeInfoProto{info(dns[1])},
		Stage: hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE.Enum(), PipelineSize: proto.Uint32(1),
		MinBytesRcvd: proto.Uint64(0), MaxBytesRcvd: proto.Uint64(0), LatestGenerationStamp: proto.Uint64(0),
		RequestedChecksum: &hadooppb.ChecksumProto{Type: hadooppb.ChecksumTypeProto_CHECKSUM_CRC32.Enum(), BytesPerChecksum: proto.Uint32(512)},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := dtp.NewReader(c)
	if _, err := dtp.ReadResponse(in); err != nil {
		t.Fatal(err)
	}
	seq := int64(1)
	for off := 0; off < len(data); off += 65536 {
		piece := data[off:min(off+65536, len(data))]
		if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: int64(off), Seqno: seq}, crc32spec.AppendSums(nil, piece), piece); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	if err := dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: int64(len(data)), Seqno: seq, Last: true}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= seq; want++ {
		a, err := dtp.ReadAck(in)
		if err != nil || a.Seqno != want || !a.OK() || len(a.Replies) != 2 {
			t.Fatalf("ack %d: %+v %v", want, a, err)
		}
	}
	for _, dn := range dns {
		rr, err := dn.Storage().OpenRead(b)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Spec != crc32spec || rr.NumBytes != int64(len(data)) {
			t.Fatalf("replica %+v spec %+v", rr.Replica, rr.Spec)
		}
		rr.Close()
	}
	// A CRC32C checksum on a CRC32 write is refused with ERROR_CHECKSUM.
	b2 := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1501, GenStamp: 1001}}
	c2, _ := net.Dial("tcp", dns[0].XferAddr())
	defer c2.Close()
	dtp.WriteOp(c2, dtp.OpWriteBlock, &hadooppb.OpWriteBlockProto{
		Header: dtp.ClientHeader(b2, nil, "go-hdfs-x"), Stage: hadooppb.OpWriteBlockProto_PIPELINE_SETUP_CREATE.Enum(),
		PipelineSize: proto.Uint32(0), MinBytesRcvd: proto.Uint64(0), MaxBytesRcvd: proto.Uint64(0), LatestGenerationStamp: proto.Uint64(0),
		RequestedChecksum: &hadooppb.ChecksumProto{Type: hadooppb.ChecksumTypeProto_CHECKSUM_CRC32.Enum(), BytesPerChecksum: proto.Uint32(512)},
	})
	in2 := dtp.NewReader(c2)
	if _, err := dtp.ReadResponse(in2); err != nil {
		t.Fatal(err)
	}
	dtp.WritePacket(c2, dtp.PacketHeader{OffsetInBlock: 0, Seqno: 1}, dtp.AppendChecksums(nil, data[:1000], 512), data[:1000])
	if a, err := dtp.ReadAck(in2); err != nil || a.OK() || a.Replies[0] != hadooppb.Status_ERROR_CHECKSUM {
		t.Fatalf("damaged packet: ack %+v, %v", a, err)
	}
}

// A client that vanishes mid-block frees the pipeline at once: the DataNode
// does not wait out the socket timeout for a downstream ack that will not
// come.
func TestClientGoneFreesThePipeline(t *testing.T) {
	_, dns := startClusterWith(t, 1, func(o *Options) { o.SocketTimeout = time.Minute })
	// A downstream DataNode that accepts the block and then never acks.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		in := dtp.NewReader(c)
		dtp.ReadOp(in)
		dtp.ReadDelimited(in, &hadooppb.OpWriteBlockProto{})
		dtp.WriteDelimited(c, &hadooppb.BlockOpResponseProto{Status: hadooppb.Status_SUCCESS.Enum()})
		io.Copy(io.Discard, in)
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	mute := hdfs.DatanodeInfo{DatanodeID: hdfs.DatanodeID{UUID: "mute", IP: "127.0.0.1", XferPort: port}}
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1800, GenStamp: 1001}}
	c, err := net.Dial("tcp", dns[0].XferAddr())
	if err != nil {
		t.Fatal(err)
	}
	dtp.WriteOp(c, dtp.OpWriteBlock, &hadooppb.OpWriteBlockProto{
		Header: dtp.ClientHeader(b, nil, "DFSClient_t"), Targets: []*hadooppb.DatanodeInfoProto{dtp.DatanodeInfoProto(mute)},
		Stage: stageCreate.Enum(), PipelineSize: proto.Uint32(2), MinBytesRcvd: proto.Uint64(0), MaxBytesRcvd: proto.Uint64(0),
		LatestGenerationStamp: proto.Uint64(1001), RequestedChecksum: dtp.CRC32C(512),
	})
	if _, err := dtp.ReadResponse(dtp.NewReader(c)); err != nil {
		t.Fatal(err)
	}
	data := pattern(4096)
	dtp.WritePacket(c, dtp.PacketHeader{OffsetInBlock: 0, Seqno: 0}, dtp.AppendChecksums(nil, data, 512), data)
	waitFor(t, "the packet on disk", func() bool { return dns[0].metrics.bytesWritten.Load() == 4096 })
	// Not acknowledged downstream: not visible to readers.
	if rr, err := dns[0].Storage().OpenRead(b); err != nil || rr.NumBytes != 0 {
		t.Fatalf("visible length of an unacknowledged packet: %v %v", rr, err)
	} else {
		rr.Close()
	}
	c.Close()
	start := time.Now()
	waitFor(t, "the DataNode to drop the pipeline", func() bool { return dns[0].xceiverCount() == 0 })
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the pipeline stayed open %s after the client left", d)
	}
}

func TestReplaceBlockCopiesFromTheSource(t *testing.T) {
	nn, dns := startCluster(t, 2)
	data := pattern(100_000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 1900, GenStamp: 1001}}
	if err := clientWrite(t, b, data, dns[0]); err != nil {
		t.Fatal(err)
	}
	b.NumBytes = int64(len(data))
	replace := func(target *DataNode) error {
		c, err := net.Dial("tcp", target.XferAddr())
		if err != nil {
			return err
		}
		defer c.Close()
		dtp.WriteOp(c, dtp.OpReplaceBlock, &hadooppb.OpReplaceBlockProto{
			Header: &hadooppb.BaseHeaderProto{Block: dtp.BlockProto(b)}, DelHint: proto.String(dns[0].ID().UUID),
			Source: info(dns[0]),
		})
		_, err = dtp.ReadResponse(dtp.NewReader(c))
		return err
	}
	if err := replace(dns[1]); err != nil {
		t.Fatal(err)
	}
	r := mustGet(t, dns[1], b.ID)
	onDisk, _ := os.ReadFile(r.DataPath)
	if r.State != hdfs.ReplicaFinalized || !bytes.Equal(onDisk, data) {
		t.Fatalf("moved replica %+v", r)
	}
	waitFor(t, "RECEIVED with the delete hint", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		for _, e := range nn.events {
			if e.Status == hdfs.StatusReceived && e.Block.ID == b.ID && e.StorageUUID == r.StorageUUID && e.DelHint == dns[0].ID().UUID {
				return true
			}
		}
		return false
	})
	var se *dtp.StatusError
	if err := replace(dns[1]); !errors.As(err, &se) || se.Status != hadooppb.Status_ERROR_EXISTS {
		t.Fatalf("a second replace onto the same DataNode: %v", err)
	}
}

// A DataNode restarted under a half-written block reports it RWR with the
// bytes its checksums vouch for, and takes part in the block's recovery.
func TestRestartedReplicaIsRecovered(t *testing.T) {
	nn := newFakeNN(hdfs.HAActive, 10)
	var opts []Options
	var dns []*DataNode
	for i := 0; i < 2; i++ {
		o := Options{DataDirs: []string{t.TempDir()}, XferAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			NameNodes: []NameNode{{Nameservice: "ns", ID: "nn1", Proto: nn}}, Heartbeat: 20 * time.Millisecond,
			ScanPeriod: -1, SocketTimeout: 5 * time.Second, Secret: []byte("cluster-secret")}
		dn, err := Start(o)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { dn.Close() }()
		waitFor(t, "registration", func() bool { return dn.Ready() && dn.bps["ns"].activeNN() == "nn1" })
		opts, dns = append(opts, o), append(dns, dn)
	}
	data := pattern(30000)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 2000, GenStamp: 1001}}
	if err := clientWriteStage(t, b, stageCreate, 1001, data, 0, false, dns...); err != nil {
		t.Fatal(err)
	}
	uuid := dns[1].ID().UUID
	dns[1].Close()
	dn, err := Start(opts[1])
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	dns[1] = dn
	waitFor(t, "the RWR replica in the restarted DataNode's report", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		for _, r := range nn.reports[uuid] {
			if r.ID == b.ID && r.State == hdfs.ReplicaRWR && r.NumBytes == int64(len(data)) {
				return true
			}
		}
		return false
	})
	waitFor(t, "the restarted DataNode to follow the active", func() bool { return dn.bps["ns"].activeNN() == "nn1" })
	// Nothing of a replica waiting for recovery is visible to a reader
	// (getReplicaVisibleLength), while the survivor's is whole.
	if n, err := dn.Storage().VisibleLength(b); n != -1 || err != nil {
		t.Fatalf("visible length of the RWR replica: %d, %v", n, err)
	}
	if n, err := dns[0].Storage().VisibleLength(b); n != int64(len(data)) || err != nil {
		t.Fatalf("visible length of the RBW replica: %d, %v", n, err)
	}
	var locs []hdfs.DatanodeInfo
	for _, d := range dns {
		locs = append(locs, hdfs.DatanodeInfo{DatanodeID: d.ID()})
	}
	nn.sendTo(dns[1].ID().UUID, hdfs.Command{Action: hdfs.ActionRecover, PoolID: testPool,
		Recovering: []hdfs.RecoveringBlock{{Block: b, Locations: locs, NewGenStamp: 1002}}})
	waitFor(t, "commitBlockSynchronization", func() bool {
		nn.mu.Lock()
		defer nn.mu.Unlock()
		return len(nn.commits) == 1
	})
	// The RBW replica (best state) decides; the restarted RWR one does not
	// take part, and the NameNode deletes it later.
	c := nn.commits[0]
	if c.NewLength != int64(len(data)) || len(c.NewTargets) != 1 || c.NewTargets[0].UUID != dns[0].ID().UUID {
		t.Fatalf("commit %+v", c)
	}
}

// A replication to a target that never answers does not keep the DataNode
// from shutting down.
func TestCloseEndsAHungReplication(t *testing.T) {
	nn, dns := startClusterWith(t, 1, func(o *Options) { o.SocketTimeout = time.Minute })
	dn := dns[0]
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 2100, GenStamp: 1001}}
	if err := clientWrite(t, b, pattern(5000), dn); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got, stop := make(chan struct{}), make(chan struct{})
	defer close(stop)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var one [1]byte
		c.Read(one[:])
		close(got)
		io.Copy(io.Discard, c) // reads all, never answers
		<-stop                 // and keeps the connection open
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	nn.sendTo(dn.ID().UUID, hdfs.Command{Action: hdfs.ActionTransfer, PoolID: testPool,
		Blocks:  []hdfs.Block{{ID: 2100, GenStamp: 1001, NumBytes: 5000}},
		Targets: [][]hdfs.DatanodeInfo{{{DatanodeID: hdfs.DatanodeID{UUID: "mute", IP: "127.0.0.1", XferPort: port}}}}})
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the replication never started")
	}
	closed := make(chan error, 1)
	go func() { closed <- dn.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a replication whose target never answers")
	}
}

// After a read the connection may carry another op, but an idle one is
// closed after the reuse keepalive, not held for the socket timeout.
func TestIdleReusedConnectionIsClosed(t *testing.T) {
	_, dns := startClusterWith(t, 1, func(o *Options) {
		o.SocketTimeout, o.ReuseKeepalive = time.Minute, 50*time.Millisecond
	})
	dn := dns[0]
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 2200, GenStamp: 1001}}
	if err := clientWrite(t, b, pattern(3000), dn); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", dn.XferAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := dtp.NewReader(c)
	read := func() {
		dtp.WriteOp(c, dtp.OpReadBlock, &hadooppb.OpReadBlockProto{Header: dtp.ClientHeader(b, nil, "c"), Offset: proto.Uint64(0), Len: proto.Uint64(3000)})
		if _, err := dtp.ReadResponse(in); err != nil {
			t.Fatal(err)
		}
		var p dtp.Packet
		for !p.Header.Last {
			if err := dtp.ReadPacket(in, &p); err != nil {
				t.Fatal(err)
			}
		}
		dtp.WriteDelimited(c, &hadooppb.ClientReadStatusProto{Status: hadooppb.Status_CHECKSUM_OK.Enum()})
	}
	read()
	read() // the same connection serves a second read
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := in.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v, want the DataNode to close it", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("idle connection held %s", d)
	}
}
