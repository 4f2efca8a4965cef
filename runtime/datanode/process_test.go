package datanode

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/e2e/proccluster"
	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
)

// TestProcessesWriteThroughAKilledDataNode runs real daemons from
// e2e/proccluster: 3 JournalNodes, 2 NameNodes and four `hactl runtime
// datanode` processes on 127.0.37.21-24. A 64 MiB file is
// written with replication 3 while one DataNode of its pipeline is killed
// with SIGKILL; the write completes, reads back byte-identical, and the
// NameNode's replication monitor restores three replicas of every block.
// HACTL_INTEGRATION=1, under the integration lock (fixed addresses).
func TestProcessesWriteThroughAKilledDataNode(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("HACTL_INTEGRATION=1 runs real daemons")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	root, _ := filepath.Abs("../..")
	bin, err := proccluster.Build(root, dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: bin, Dir: filepath.Join(dir, "cluster"), IPPrefix: "127.0.37.",
		DataNodes: 4, Extra: map[string]string{
			"dfs.replication": "3", "dfs.heartbeat.interval": "1", "dfs.namenode.heartbeat.recheck-interval": "2000",
			// The monitor may pick the victim as a target before it is
			// declared dead; as Hadoop's, it retries such a transfer only
			// after the pending timeout (5 minutes by default).
			"dfs.namenode.reconstruction.pending.timeout-sec": "5",
		}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
		c.Close()
	}()
	conf, err := hadoopconf.LoadDir(c.ClientConf)
	if err != nil {
		t.Fatal(err)
	}
	nn, err := nnrpc.NewClientFromConfig(conf, c.Nameservice, nnrpc.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	me := "root"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	live := func() (int, error) {
		ds, err := nn.GetDatanodeReport(ctx, hdfs.ReportLive, me)
		return len(ds), err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := live()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 4 DataNodes live after 60s: %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	cl := dfsclient.New(nn, dfsclient.Options{User: me, Logf: t.Logf})
	data := make([]byte, 64<<20)
	rand.Read(data)
	w, err := cl.Create(ctx, "/big", hdfs.CreateOptions{BlockSize: 16 << 20, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:20<<20]); err != nil {
		t.Fatal(err)
	}
	if err := w.Hflush(); err != nil {
		t.Fatal(err)
	}
	// Kill a DataNode of the second block's pipeline.
	lbs, err := nn.GetBlockLocations(ctx, "/big", 0, 1<<40, me)
	if err != nil {
		t.Fatal(err)
	}
	var victim hdfs.DatanodeInfo
	if lbs.LastBlock != nil && len(lbs.LastBlock.Locations) > 0 {
		victim = lbs.LastBlock.Locations[len(lbs.LastBlock.Locations)-1]
	} else {
		victim = lbs.Blocks[len(lbs.Blocks)-1].Locations[0]
	}
	var victimName string
	for i, a := range c.DataNodeAddrs {
		if a == victim.XferAddr() {
			victimName = fmt.Sprintf("dn%d", i+1)
		}
	}
	if victimName == "" {
		t.Fatalf("no DataNode at %s (%v)", victim.XferAddr(), c.DataNodeAddrs)
	}
	t.Logf("killing %s (%s) mid-write", victimName, victim.XferAddr())
	c.Stop(victimName, syscall.SIGKILL) // its error is the kill itself
	if _, err := w.Write(data[20<<20:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cl.Open(ctx, "/big")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v (%d bytes, equal %v)", err, len(got), bytes.Equal(got, data))
	}
	// The dead DataNode's replicas come back on the others.
	deadline = time.Now().Add(90 * time.Second)
	for {
		lbs, err := nn.GetBlockLocations(ctx, "/big", 0, 1<<40, me)
		ok := err == nil && len(lbs.Blocks) == 4
		for _, b := range lbs.Blocks {
			n := 0
			for _, l := range b.Locations {
				if l.IP != victim.IP {
					n++
				}
			}
			ok = ok && n >= 3
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, b := range lbs.Blocks {
				var ips []string
				for _, l := range b.Locations {
					ips = append(ips, l.IP)
				}
				desc = append(desc, fmt.Sprintf("%s on %v", b.Block, ips))
			}
			if ds, rerr := nn.GetDatanodeReport(ctx, hdfs.ReportAll, me); rerr == nil {
				for _, d := range ds {
					desc = append(desc, fmt.Sprintf("%s: %s xceivers %d remaining %d last update %d", d.IP, d.AdminState, d.XceiverCount, d.Remaining, d.LastUpdate))
				}
			}
			t.Fatalf("replication not restored (victim %s): %s %v", victim.IP, strings.Join(desc, "; "), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
