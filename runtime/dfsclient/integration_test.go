package dfsclient_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/e2e/proccluster"
	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// startDataCluster starts 3 JournalNodes, 2 NameNodes and 3 DataNodes from
// the hactl binary on 127.0.23.x (run under the integration lock) and waits
// until the active NameNode counts every DataNode live.
func startDataCluster(t *testing.T, blockSize int64) (*proccluster.Cluster, *hadoopconf.Config, *nnrpc.Client) {
	t.Helper()
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("set HACTL_INTEGRATION=1 (and hold /tmp/hactl-integration.lock) to start real daemons")
	}
	dir := t.TempDir()
	bin, err := proccluster.Build("../..", dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: bin, Dir: filepath.Join(dir, "cluster"), IPPrefix: "127.0.23.", DataNodes: 3,
		Extra: map[string]string{
			"hactl.namenode.max-inline-file-bytes":    "0", // every file in blocks on the DataNodes
			"dfs.replication":                         "3",
			"dfs.blocksize":                           strconv.FormatInt(blockSize, 10),
			"dfs.namenode.heartbeat.recheck-interval": "5000",
		}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
		c.Close()
	})
	conf, err := hadoopconf.LoadDir(c.ClientConf)
	if err != nil {
		t.Fatal(err)
	}
	nn, err := nnrpc.NewClientFromConfig(conf, c.Nameservice, nnrpc.ClientOptions{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	waitLive(t, nn, 3)
	return c, conf, nn
}

func waitLive(t *testing.T, nn *nnrpc.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		live, err := nn.GetDatanodeReport(context.Background(), hdfs.ReportLive, superuser(t))
		if err == nil && len(live) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the active NameNode counts %d live DataNodes (%v), want %d", len(live), err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// superuser is the OS user the test (and so the NameNodes) runs as: the
// owner of / and HDFS's superuser.
func superuser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// expectedChecksum computes Hadoop's file checksum of r's bytes in blocks
// of blockSize, CRC32C per 512 bytes, independently of the DataNodes.
func expectedChecksum(r io.Reader, blockSize int64) webhdfs.FileChecksum {
	tab := crc32.MakeTable(crc32.Castagnoli)
	var md5s, crcs []byte
	chunk := make([]byte, 512)
	var inBlock int64
	blocks := 0
	flush := func() {
		s := md5.Sum(crcs)
		md5s = append(md5s, s[:]...)
		crcs, inBlock = crcs[:0], 0
		blocks++
	}
	for {
		n, err := io.ReadFull(r, chunk)
		if n > 0 {
			crcs = binary.BigEndian.AppendUint32(crcs, crc32.Checksum(chunk[:n], tab))
			if inBlock += int64(n); inBlock == blockSize {
				flush()
			}
		}
		if err != nil {
			break
		}
	}
	if inBlock > 0 {
		flush()
	}
	out := webhdfs.FileChecksum{BytesPerCRC: 512, CRCType: "CRC32C", MD5: webhdfs.CombineBlockMD5s(md5s)}
	if blocks > 1 {
		out.CRCPerBlock = blockSize / 512
	}
	return out
}

// pattern is a reproducible stream of n bytes (never held in memory whole).
type pattern struct {
	n, off int64
	seed   byte
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n-p.off))
	for i := range k {
		o := p.off + int64(i)
		b[i] = byte(o>>12) ^ byte(o) ^ p.seed
	}
	p.off += int64(k)
	return k, nil
}

func digest(t *testing.T, r io.Reader) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read after %d bytes: %v", n, err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s, n
}

// TestDataPathIntegration: through the real daemons, a 256 MiB file with
// replication 3 is written over WebHDFS (the NameNode's 307 to a DataNode,
// which streams it through the block pipeline) and read back
// byte-identical; a DataNode killed -9 in the middle of a write does not
// fail it; replicas corrupted on disk are read around.
func TestDataPathIntegration(t *testing.T) {
	const size = 256 << 20
	c, conf, nn := startDataCluster(t, 32<<20)
	ctx := context.Background()
	wc, err := webhdfs.NewClientFromConfig(conf, c.Nameservice, webhdfs.ClientOptions{User: superuser(t)})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := digest(t, &pattern{n: size, seed: 1})

	start := time.Now()
	if err := wc.CreateFrom(ctx, "/big", &pattern{n: size, seed: 1}, size, webhdfs.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("256 MiB written over WebHDFS with replication 3 in %v", time.Since(start).Round(time.Millisecond))
	// Complete needs one replica per block; the others' incremental block
	// reports reach the NameNode just after.
	var lbs hdfs.LocatedBlocks
	for deadline := time.Now().Add(10 * time.Second); ; {
		lbs, err = nn.GetBlockLocations(ctx, "/big", 0, size, superuser(t))
		if err != nil || lbs.FileLength != size || len(lbs.Blocks) != 8 {
			t.Fatalf("the NameNode has %d bytes in %d blocks (%v), want 8 blocks of 32 MiB", lbs.FileLength, len(lbs.Blocks), err)
		}
		three := true
		for _, lb := range lbs.Blocks {
			three = three && len(lb.Locations) == 3
		}
		if three {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocks not on 3 DataNodes 10 s after the write: %+v", lbs.Blocks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	start = time.Now()
	fr, err := wc.OpenStream(ctx, "/big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, n := digest(t, fr)
	fr.Close()
	if got != want || n != size {
		t.Fatalf("read back %d bytes, sha256 differs: %v", n, got != want)
	}
	t.Logf("256 MiB read over WebHDFS in %v", time.Since(start).Round(time.Millisecond))

	// GETFILECHECKSUM: the NameNode redirects it to a DataNode, which
	// combines the DataNodes' BLOCK_CHECKSUMs; the value is Hadoop's
	// MD5-of-MD5-of-CRC32C of these bytes in blocks of 32 MiB.
	resp, err := http.Get("http://" + c.HTTP["nn1"] + "/webhdfs/v1/big?op=GETFILECHECKSUM&user.name=" + superuser(t))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantSum, _ := json.Marshal(expectedChecksum(&pattern{n: size, seed: 1}, 32<<20))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != string(wantSum) {
		t.Errorf("GETFILECHECKSUM: %d %s, want %s", resp.StatusCode, body, wantSum)
	}

	// hactl fs put and get of a 64 MiB file, as an operator runs them.
	local := filepath.Join(t.TempDir(), "in.bin")
	lf, err := os.Create(local)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(lf, &pattern{n: 64 << 20, seed: 3})
	lf.Close()
	if out, err := c.Run(ctx, "fs", "put", local, "hdfs://"+c.Nameservice+"/fsput", "--config", c.ClientConf, "--user", superuser(t)); err != nil {
		t.Fatalf("hactl fs put: %v\n%s", err, out)
	}
	back := filepath.Join(t.TempDir(), "out.bin")
	if out, err := c.Run(ctx, "fs", "get", "hdfs://"+c.Nameservice+"/fsput", back, "--config", c.ClientConf, "--user", superuser(t)); err != nil {
		t.Fatalf("hactl fs get: %v\n%s", err, out)
	}
	bf, err := os.Open(back)
	if err != nil {
		t.Fatal(err)
	}
	gotFs, nFs := digest(t, bf)
	bf.Close()
	if wantFs, _ := digest(t, &pattern{n: 64 << 20, seed: 3}); gotFs != wantFs || nFs != 64<<20 {
		t.Fatalf("hactl fs get returned %d bytes, sha256 differs: %v", nFs, gotFs != wantFs)
	}

	// kill -9 a DataNode while the client streams a file through a pipeline
	// of all three.
	dc := dfsclient.New(nn, dfsclient.Options{User: superuser(t), Logf: t.Logf})
	w, err := dc.Create(ctx, "/killed", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := &pattern{n: 96 << 20, seed: 2}
	buf := make([]byte, 1<<20)
	for written := 0; ; written += len(buf) {
		k, rerr := src.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				t.Fatalf("write at %d: %v", written, err)
			}
		}
		if written == 40<<20 {
			if err := c.Stop("dn2", syscall.SIGKILL); err != nil && !strings.Contains(err.Error(), "signal: killed") {
				t.Logf("kill dn2: %v", err)
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close after kill -9 of a DataNode: %v", err)
	}
	r, err := dc.Open(ctx, "/killed")
	if err != nil {
		t.Fatal(err)
	}
	got, n = digest(t, r)
	r.Close()
	if want2, _ := digest(t, &pattern{n: 96 << 20, seed: 2}); got != want2 || n != 96<<20 {
		t.Fatalf("after kill -9 of dn2 read back %d bytes, sha256 differs: %v", n, got != want2)
	}

	// dn2 comes back (its replicas survived the kill); then two of the
	// three replicas of /big's first block are corrupted on disk: every
	// read must still return the right bytes, from dn2.
	if err := c.StartDN(ctx, "dn2"); err != nil {
		t.Fatal(err)
	}
	waitLive(t, nn, 3)
	first := lbs.Blocks[0].Block
	corrupted := 0
	for _, id := range []string{"dn1", "dn3"} {
		filepath.WalkDir(c.DataDir(id), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Base(p) != first.BlockName() {
				return nil
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var b [1]byte
			f.ReadAt(b[:], 5<<20)
			b[0] ^= 0xff
			f.WriteAt(b[:], 5<<20)
			corrupted++
			return nil
		})
	}
	if corrupted != 2 {
		t.Fatalf("corrupted %d replica files of %s, want 2", corrupted, first)
	}
	for i := range 2 {
		fr, err := wc.OpenStream(ctx, "/big", 0, 32<<20)
		if err != nil {
			t.Fatal(err)
		}
		got, n := digest(t, fr)
		fr.Close()
		wantFirst, _ := digest(t, io.LimitReader(&pattern{n: size, seed: 1}, 32<<20))
		if got != wantFirst || n != 32<<20 {
			t.Fatalf("read %d of the first block with corrupt replicas: %d bytes, sha256 differs: %v", i, n, got != wantFirst)
		}
	}
}

// TestWriteAcrossNameNodeFailover: kill -9 of the active NameNode in the
// middle of a write, the standby made active: the pipelines to the
// DataNodes carry on, the writer's addBlock and complete fail over (nnrpc),
// and the file completes with every byte there.
func TestWriteAcrossNameNodeFailover(t *testing.T) {
	const size = 128 << 20
	c, _, nn := startDataCluster(t, 16<<20)
	ctx := context.Background()
	dc := dfsclient.New(nn, dfsclient.Options{User: superuser(t), Logf: t.Logf})
	w, err := dc.Create(ctx, "/across", hdfs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := &pattern{n: size, seed: 4}
	buf := make([]byte, 1<<20)
	var werr error
	for written := 0; werr == nil; written += len(buf) {
		k, rerr := src.Read(buf)
		if k > 0 {
			_, werr = w.Write(buf[:k])
		}
		if written == 40<<20 {
			c.Stop("nn1", syscall.SIGKILL)
			if out, err := c.HAAdmin(ctx, "-transitionToActive", "--forceactive", "nn2"); err != nil {
				t.Fatalf("transitionToActive nn2: %v\n%s", err, out)
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if werr == nil {
		werr = w.Close()
	} else {
		w.Abort()
	}
	if werr != nil {
		t.Fatalf("the write failed across the failover: %v", werr)
	}
	r, err := dc.Open(ctx, "/across")
	if err != nil {
		t.Fatal(err)
	}
	got, n := digest(t, r)
	r.Close()
	if want, _ := digest(t, &pattern{n: size, seed: 4}); got != want || n != size {
		t.Fatalf("the write succeeded across the failover but reads back %d bytes, sha256 differs: %v", n, got != want)
	}
	t.Logf("128 MiB written across a kill -9 of the active NameNode")
}
