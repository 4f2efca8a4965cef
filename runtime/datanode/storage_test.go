package datanode

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hactl/hactl/runtime/hdfs"
)

const testPool = "BP-1-127.0.0.1-1"

func newTestStorage(t *testing.T, dirs ...string) *Storage {
	t.Helper()
	if len(dirs) == 0 {
		dirs = []string{t.TempDir(), t.TempDir()}
	}
	s, err := OpenStorage(dirs, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Format("CID-test"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPool(testPool, 42); err != nil {
		t.Fatal(err)
	}
	return s
}

var crc512 = ChecksumSpec{Type: ChecksumCRC32C, BytesPerChecksum: 512}

func writeBlock(t *testing.T, s *Storage, id int64, data []byte) hdfs.ExtendedBlock {
	t.Helper()
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: id, GenStamp: 1001}}
	w, err := s.CreateRBW(b, crc512, int64(len(data)), false)
	if err != nil {
		t.Fatal(err)
	}
	// Unaligned pieces: every chunk's checksum must still cover exactly it.
	for off := 0; off < len(data); {
		n := min(700, len(data)-off)
		if err := w.Write(int64(off), data[off:off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if err := w.Finalize(); err != nil {
		t.Fatal(err)
	}
	b.NumBytes = int64(len(data))
	return b
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestStorageLayoutAndMetaFormat(t *testing.T) {
	dir := t.TempDir()
	s := newTestStorage(t, dir)
	data := pattern(1300)
	id := int64(1073741825 + 0x10203)
	writeBlock(t, s, id, data)

	version, err := os.ReadFile(filepath.Join(dir, "current", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"clusterID=CID-test", "storageType=DATA_NODE", "layoutVersion=-57", "storageID=DS-", "datanodeUuid=" + s.DatanodeUUID()} {
		if !strings.Contains(string(version), want) {
			t.Errorf("VERSION lacks %q:\n%s", want, version)
		}
	}
	bpVersion, err := os.ReadFile(filepath.Join(dir, "current", testPool, "current", "VERSION"))
	if err != nil || !strings.Contains(string(bpVersion), "namespaceID=42") || !strings.Contains(string(bpVersion), "blockpoolID="+testPool) {
		t.Fatalf("block pool VERSION: %v\n%s", err, bpVersion)
	}
	sub := filepath.Join(dir, "current", testPool, "current", "finalized",
		"subdir"+itoa((id>>16)&31), "subdir"+itoa((id>>8)&31))
	got, err := os.ReadFile(filepath.Join(sub, "blk_"+itoa(id)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("block file: %v (len %d)", err, len(got))
	}
	meta, err := os.ReadFile(filepath.Join(sub, "blk_"+itoa(id)+"_1001.meta"))
	if err != nil {
		t.Fatal(err)
	}
	// version 1, CRC32C (2), bytesPerChecksum 512, then 3 CRCs.
	if !bytes.Equal(meta[:7], []byte{0, 1, 2, 0, 0, 2, 0}) || len(meta) != 7+3*4 {
		t.Fatalf("meta header % x, len %d", meta[:7], len(meta))
	}
	if want := crc512.AppendSums(nil, data); !bytes.Equal(meta[7:], want) {
		t.Fatalf("meta CRCs % x, want % x", meta[7:], want)
	}
	if rep := s.Replicas(testPool); len(rep) != 1 || rep[0].State != hdfs.ReplicaFinalized || rep[0].NumBytes != 1300 {
		t.Fatalf("report %+v", rep)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFlippedByteIsDetected(t *testing.T) {
	s := newTestStorage(t)
	data := pattern(2000)
	b := writeBlock(t, s, 7, data)
	r, _ := s.Get(testPool, 7)
	f, err := os.OpenFile(r.DataPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{data[1100] ^ 0x01}, 1100)
	f.Close()
	rr, err := s.OpenRead(b)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	if _, err := rr.ReadChunks(0, make([]byte, 1024)); err != nil {
		t.Fatalf("chunks before the flip: %v", err)
	}
	_, err = rr.ReadChunks(1024, make([]byte, 976))
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Offset != 1024 {
		t.Fatalf("flipped byte at 1100: got %v, want a checksum error at chunk 1024", err)
	}
}

func TestForeignClusterDirIsRefusedNotWiped(t *testing.T) {
	dir := t.TempDir()
	s := newTestStorage(t, dir)
	writeBlock(t, s, 9, pattern(10))
	if err := s.Format("CID-other"); !errors.Is(err, ErrIncompatibleCluster) {
		t.Fatalf("format with another cluster: %v", err)
	}
	other := t.TempDir()
	o, err := OpenStorage([]string{other}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Format("CID-other"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStorage([]string{dir, other}, 0, 0); !errors.Is(err, ErrIncompatibleCluster) || !strings.Contains(err.Error(), other) {
		t.Fatalf("mixed clusters: %v", err)
	}
	s2, err := OpenStorage([]string{dir}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s2.ClusterID() != "CID-test" {
		t.Fatalf("clusterID %q", s2.ClusterID())
	}
	if err := s2.AddPool(testPool, 42); err != nil {
		t.Fatal(err)
	}
	if _, ok := s2.Get(testPool, 9); !ok {
		t.Fatal("the block is gone after the refusal")
	}
	if err := s2.AddPool("BP-9", 1); err != nil {
		t.Fatal(err)
	}
	s3, _ := OpenStorage([]string{dir}, 0, 0)
	if err := s3.AddPool(testPool, 43); !errors.Is(err, ErrIncompatibleCluster) {
		t.Fatalf("block pool of another namespace: %v", err)
	}
}

func TestRestartTurnsRBWIntoRWRWithValidLength(t *testing.T) {
	dir := t.TempDir()
	s := newTestStorage(t, dir)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 5, GenStamp: 1001}}
	w, err := s.CreateRBW(b, crc512, 4096, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(0, pattern(1500)); err != nil {
		t.Fatal(err)
	}
	w.Sync()
	// A crash after the data but before its checksum reached the disk:
	// the last chunk no longer matches and is not vouched for.
	r, _ := s.Get(testPool, 5)
	f, _ := os.OpenFile(r.DataPath, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(pattern(100))
	f.WriteAt([]byte{0xff, 0xfe}, 1400)
	f.Close()
	w.Abort(false)

	s2, err := OpenStorage([]string{dir}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.AddPool(testPool, 42); err != nil {
		t.Fatal(err)
	}
	got, ok := s2.Get(testPool, 5)
	if !ok || got.State != hdfs.ReplicaRWR || got.NumBytes != 1024 {
		t.Fatalf("after restart: %+v", got)
	}
}

func TestRoundRobinAndInvalidate(t *testing.T) {
	s := newTestStorage(t)
	seen := map[string]int{}
	for id := int64(1); id <= 4; id++ {
		writeBlock(t, s, id, pattern(100))
		r, _ := s.Get(testPool, id)
		seen[r.StorageUUID]++
	}
	if len(seen) != 2 || seen[s.StorageUUIDs()[0]] != 2 {
		t.Fatalf("volumes chosen %v", seen)
	}
	r, _ := s.Get(testPool, 3)
	if _, err := s.Invalidate(hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 3, GenStamp: 1001}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.DataPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("block file still there: %v", err)
	}
	if _, ok := s.Get(testPool, 3); ok {
		t.Fatal("replica still in the map")
	}
}

func TestFailedVolumeIsReported(t *testing.T) {
	good := t.TempDir()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o600)
	if _, err := OpenStorage([]string{good, file}, 0, 0); err == nil {
		t.Fatal("a failed volume beyond the tolerated count was accepted")
	}
	s, err := OpenStorage([]string{good, file}, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if f := s.FailedVolumes(); len(f) != 1 || !strings.HasPrefix(f[0], file) {
		t.Fatalf("failed volumes %v", f)
	}
}

func TestInvalidateOnlyTheStampNamed(t *testing.T) {
	s := newTestStorage(t)
	writeBlock(t, s, 11, pattern(100)) // stamp 1001
	if _, err := s.Invalidate(hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 11, GenStamp: 1000}}); err == nil {
		t.Fatal("an older stamp's invalidation deleted the newer replica")
	}
	if _, ok := s.Get(testPool, 11); !ok {
		t.Fatal("replica gone")
	}
	if _, err := s.Invalidate(hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 11, GenStamp: 1001}}); err != nil {
		t.Fatal(err)
	}
}

// A reader of a replica being written never sees a chunk whose data is
// newer than its checksum (which would make a live replica look corrupt).
func TestReadWhileWritingSeesConsistentChunks(t *testing.T) {
	s := newTestStorage(t)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 12, GenStamp: 1001}}
	w, err := s.CreateRBW(b, crc512, 1<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(5000 * 37)
	done := make(chan error, 1)
	go func() {
		for off := 0; off < len(data); off += 37 {
			if err := w.Write(int64(off), data[off:off+37]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		rr, err := s.OpenRead(b)
		if err != nil {
			t.Fatal(err)
		}
		n := rr.NumBytes
		if n > 0 {
			buf := make([]byte, n)
			sums, err := rr.ReadChunks(0, buf)
			if err != nil {
				t.Fatalf("read of %d bytes while writing: %v", n, err)
			}
			if !bytes.Equal(buf, data[:n]) || !bytes.Equal(sums, crc512.AppendSums(nil, buf)) {
				t.Fatalf("read of %d bytes while writing: wrong data or checksums", n)
			}
		}
		rr.Close()
	}
}

// An I/O error on a volume fails it: its replicas leave the map (the
// NameNode hears of it through the full report the callback triggers) and
// new replicas go to the other volumes.
func TestVolumeFailureAtRuntime(t *testing.T) {
	s := newTestStorage(t)
	failed := make(chan string, 1)
	s.onVolumeFailure = func(root string, err error) { failed <- root }
	writeBlock(t, s, 21, pattern(100))
	writeBlock(t, s, 22, pattern(100))
	r, _ := s.Get(testPool, 21)
	var bad *volume
	for _, v := range s.vols {
		if v.storageID == r.StorageUUID {
			bad = v
		}
	}
	s.diskError(bad, &os.PathError{Op: "write", Path: r.DataPath, Err: syscall.EIO})
	if got := <-failed; got != bad.root {
		t.Fatalf("callback for %s, want %s", got, bad.root)
	}
	if _, ok := s.Get(testPool, 21); ok {
		t.Fatal("a replica of the failed volume is still served")
	}
	if _, ok := s.Get(testPool, 22); !ok {
		t.Fatal("the other volume's replica is gone")
	}
	if f := s.FailedVolumes(); len(f) != 1 || !strings.Contains(f[0], "input/output error") {
		t.Fatalf("failed volumes %v", f)
	}
	for id := int64(30); id < 33; id++ {
		writeBlock(t, s, id, pattern(10))
		if r, _ := s.Get(testPool, id); r.StorageUUID == bad.storageID {
			t.Fatal("a new replica went to the failed volume")
		}
	}
	reports := s.Reports(testPool)
	var sawFailed bool
	for _, rep := range reports {
		if rep.StorageUUID == bad.storageID {
			sawFailed = rep.Failed
		}
	}
	if !sawFailed {
		t.Fatalf("storage reports do not mark the failed volume: %+v", reports)
	}
	// ENOSPC is not a failed disk.
	good := s.vols[0]
	if good == bad {
		good = s.vols[1]
	}
	s.diskError(good, syscall.ENOSPC)
	if len(s.FailedVolumes()) != 1 {
		t.Fatal("out of space failed a volume")
	}
}

// Any single flipped bit of a block file or its checksums is caught in the
// chunk that holds it (randomized with a fixed seed, printed on failure).
func TestRandomCorruptionIsDetectedInItsChunk(t *testing.T) {
	const seed = 20261206
	rng := rand.New(rand.NewPCG(seed, 0))
	s := newTestStorage(t)
	data := pattern(10_000)
	b := writeBlock(t, s, 40, data)
	r, _ := s.Get(testPool, 40)
	for i := 0; i < 200; i++ {
		inMeta := rng.IntN(4) == 0
		path, size := r.DataPath, int64(len(data))
		if inMeta {
			path, size = r.MetaPath, MetaHeaderLen+crc512.Chunks(size)*4
		}
		off := rng.Int64N(size)
		if inMeta && off < MetaHeaderLen {
			off += MetaHeaderLen // a damaged header is another failure, tested by the header's checks
		}
		bit := byte(1) << rng.IntN(8)
		flip := func() {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			var c [1]byte
			f.ReadAt(c[:], off)
			c[0] ^= bit
			f.WriteAt(c[:], off)
			f.Close()
		}
		flip()
		chunk := off / 512
		if inMeta {
			chunk = (off - MetaHeaderLen) / 4
		}
		rr, err := s.OpenRead(b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rr.ReadChunks(0, make([]byte, len(data)))
		rr.Close()
		var ce *ChecksumError
		if !errors.As(err, &ce) || ce.Offset != chunk*512 {
			t.Fatalf("seed %d, round %d: flipped bit %#x at %d of %s: got %v, want a checksum error at %d", seed, i, bit, off, filepath.Base(path), err, chunk*512)
		}
		flip()
	}
}

// TestWriteVerifiedStoresThePacketsChecksums: a chunk-aligned write keeps
// the receiver's verified CRCs as they are (not computed again); a write
// that starts inside a chunk, or sums of the wrong count, fall back to
// recomputing, so the meta file always holds one correct CRC per chunk.
func TestWriteVerifiedStoresThePacketsChecksums(t *testing.T) {
	s := newTestStorage(t)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 77, GenStamp: 1001}}
	w, err := s.CreateRBW(b, crc512, 4096, false)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(2000)
	// Marker sums stand in for "verified": seeing them in the meta file
	// shows they were used rather than recomputed.
	marker := bytes.Repeat([]byte{0xAB, 0xCD, 0xEF, 0x01}, 2)
	if err := w.WriteVerified(0, data[:1024], marker); err != nil {
		t.Fatal(err)
	}
	meta := func() []byte {
		t.Helper()
		got, err := os.ReadFile(w.r.metaPath())
		if err != nil {
			t.Fatal(err)
		}
		return got[MetaHeaderLen:]
	}
	if got := meta(); !bytes.Equal(got, marker) {
		t.Fatalf("aligned write stored sums %x, want the packet's %x", got, marker)
	}
	// Wrong count of sums for an aligned write (a resend of the same
	// bytes): recomputed.
	if err := w.WriteVerified(0, data[:1024], marker[:4]); err != nil {
		t.Fatal(err)
	}
	if got, want := meta(), crc512.AppendSums(nil, data[:1024]); !bytes.Equal(got, want) {
		t.Fatalf("meta sums after a short sums slice %x, want %x", got, want)
	}
	// Unaligned (completes chunk 2, adds 3): recomputed over the disk bytes.
	if err := w.WriteVerified(1024, data[1024:1300], crc512.AppendSums(nil, data[1024:1300])); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteVerified(1300, data[1300:2000], marker); err != nil {
		t.Fatal(err)
	}
	if got, want := meta(), crc512.AppendSums(nil, data); !bytes.Equal(got, want) {
		t.Fatalf("meta sums\n %x\nwant\n %x", got, want)
	}
}

// TestSyncAndDropBehindWrites: with dfs.datanode.sync.behind.writes and
// drop.cache.behind.writes on, a replica written in packets, partly
// rewritten from an earlier offset (a pipeline recovery resending
// packets), then read with readahead, holds exactly the bytes written; the
// writer started the writeback behind itself and dropped what lay far
// enough behind; readahead covers a long read up to its end, and no short
// one.
func TestSyncAndDropBehindWrites(t *testing.T) {
	s := newTestStorage(t)
	s.SetSyncBehindWrites(true)
	s.SetDropCacheBehindWrites(true)
	data := pattern(3*syncBehindBytes + 12345)
	b := hdfs.ExtendedBlock{PoolID: testPool, Block: hdfs.Block{ID: 77, GenStamp: 1001}}
	w, err := s.CreateRBW(b, crc512, int64(len(data)), false)
	if err != nil {
		t.Fatal(err)
	}
	const packet = 64512
	write := func(from, to int) {
		for off := from; off < to; off += packet {
			if err := w.Write(int64(off), data[off:min(off+packet, to)]); err != nil {
				t.Fatal(err)
			}
			// The calls run in the background, and one still running
			// makes the next wait: here none is skipped.
			w.behind.Wait()
		}
	}
	write(0, 2*syncBehindBytes+packet)
	// Hadoop's lag: what lies 8 MiB behind the previous writeback point.
	if w.syncedTo < 2*syncBehindBytes || w.droppedTo <= 0 || w.droppedTo > w.syncedTo-2*syncBehindBytes+packet {
		t.Fatalf("after %d bytes: writeback started to %d, cache dropped to %d", 2*syncBehindBytes+packet, w.syncedTo, w.droppedTo)
	}
	// Resent from an earlier packet boundary, then on to the end.
	write(syncBehindBytes/packet*packet, len(data))
	if err := w.Finalize(); err != nil {
		t.Fatal(err)
	}
	b.NumBytes = int64(len(data))
	rr, err := s.OpenRead(b)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	rr.SetReadahead(4<<20, 0, int64(len(data)))
	got := make([]byte, 0, len(data))
	buf := make([]byte, 1<<20)
	for off := int64(0); off < int64(len(data)); {
		n := min(int64(len(buf)), int64(len(data))-off)
		if _, err := rr.ReadChunks(off, buf[:n]); err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
		off += n
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the replica differs from the bytes written")
	}
	if rr.raEnd != int64(len(data)) {
		t.Errorf("readahead reached %d, want the read's end %d", rr.raEnd, len(data))
	}
	// A short read asks for none (Hadoop's long-read threshold).
	short, err := s.OpenRead(b)
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	short.SetReadahead(4<<20, 0, 4096)
	if _, err := short.ReadChunks(0, buf[:4096]); err != nil || short.raEnd != 0 {
		t.Fatalf("short read: readahead to %d (%v)", short.raEnd, err)
	}
}
