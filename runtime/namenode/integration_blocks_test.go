package namenode

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hactl/hactl/internal/hadoopconf"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
)

// fsNamesystem reads one NameNode's /jmx FSNamesystem bean.
func (c *itCluster) fsNamesystem(id string) map[string]any {
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get("http://" + c.nnHTTP[id] + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct{ Beans []map[string]any }
	if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Beans) != 1 {
		return nil
	}
	return out.Beans[0]
}

func (c *itCluster) waitJMX(id, what string, ok func(map[string]any) bool) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b := c.fsNamesystem(id); b != nil && ok(b) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.dumpLogs()
	c.t.Fatalf("%s: timed out waiting for %s (FSNamesystem %v)", id, what, c.fsNamesystem(id))
}

// The real binaries: 3 JournalNodes, 2 NameNodes storing files in blocks
// (no inline limit), 3 DataNodes reporting to both. `hactl fs put` of a
// multi-block file and `cat` back; the active is killed with SIGKILL and the
// standby, made active, serves the file at once from the block reports it
// already had; a write to the new active works.
// startBlockCluster starts 3 JournalNodes, nn1 (active) and nn2
// (standby) storing files in blocks of 1 MiB, and 3 DataNodes on
// 127.0.4.21-23 reporting to both; sub offsets the ports.
func startBlockCluster(t *testing.T, sub int) *itCluster {
	c := newITCluster(t, 2, sub)
	dn := func(i int) string { return fmt.Sprintf("dn%d", i) }
	for _, name := range []string{"jn1", "jn2", "jn3", "nn1", "nn2", dn(1), dn(2), dn(3)} {
		src := name
		if name[:2] == "dn" {
			src = "nn1"
		}
		hc, err := hadoopconf.LoadDir(c.conf(src))
		if err != nil {
			t.Fatal(err)
		}
		hc.Set(KeyMaxInline, "0")
		hc.Set("dfs.replication", "3")
		hc.Set("dfs.blocksize", "1048576")
		hc.Set("dfs.heartbeat.interval", "1")
		if name[:2] == "dn" {
			i := name[2:]
			hc.Set("dfs.datanode.data.dir", filepath.Join(c.dir, name, "data"))
			hc.Set("dfs.datanode.address", fmt.Sprintf("127.0.4.2%s:%d", i, 19866+sub))
			hc.Set("dfs.datanode.http.address", fmt.Sprintf("127.0.4.2%s:%d", i, 19764+sub))
			hc.Set("dfs.datanode.ipc.address", fmt.Sprintf("127.0.4.2%s:%d", i, 19666+sub))
			hc.Set("dfs.datanode.scan.period.hours", "-1")
		}
		c.writeConf(name, hc)
	}
	c.startJNs()
	if out, code := c.run("runtime", "format", "--conf", c.conf("nn1"), "--id", "nn1", "--non-interactive", "--clusterid", "CID-blocks"); code != 0 {
		t.Fatalf("format: %d\n%s", code, out)
	}
	c.startNN("nn1")
	c.waitState("nn1", "standby")
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn1"); code != 0 {
		t.Fatalf("transitionToActive: %d %s", code, out)
	}
	if out, code := c.run("runtime", "bootstrap-standby", "--conf", c.conf("nn2"), "--id", "nn2", "--non-interactive"); code != 0 {
		t.Fatalf("bootstrap-standby: %d\n%s", code, out)
	}
	c.startNN("nn2")
	c.waitState("nn2", "standby")
	for i := 1; i <= 3; i++ {
		c.start(dn(i), "runtime", "datanode", "--conf", c.conf(dn(i)))
	}
	for _, id := range c.nnIDs {
		c.waitJMX(id, "3 live DataNodes", func(b map[string]any) bool { return b["NumLiveDataNodes"] == float64(3) })
	}
	return c
}

func TestIntegrationDataNodes(t *testing.T) {
	integration(t)
	c := startBlockCluster(t, 5)
	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	local := filepath.Join(c.dir, "in.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := c.run("fs", "put", "--config", c.conf("nn1"), local, "hdfs://itns/data.bin"); code != 0 {
		c.dumpLogs()
		t.Fatalf("fs put: %d\n%s", code, out)
	}
	cat := func() []byte {
		t.Helper()
		out := filepath.Join(c.dir, "out.bin")
		os.Remove(out)
		if msg, code := c.run("fs", "get", "--config", c.conf("nn1"), "hdfs://itns/data.bin", out); code != 0 {
			c.dumpLogs()
			t.Fatalf("fs get: %d\n%s", code, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := cat(); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(data))
	}
	c.waitJMX("nn1", "4 blocks, fully replicated", func(b map[string]any) bool {
		return b["BlocksTotal"] == float64(4) && b["UnderReplicatedBlocks"] == float64(0) && b["MissingBlocks"] == float64(0)
	})
	c.checkVisibleLengths("nn1", "/data.bin")
	// hdfs dfsadmin -safemode, as hactl runtime dfsadmin spells it: both
	// NameNodes answer; in safe mode the active refuses writes.
	safemode := func(action, want string) {
		c.t.Helper()
		out, code := c.run("runtime", "dfsadmin", "--conf", c.conf("nn1"), "-safemode", action)
		if code != 0 || strings.Count(out, want) != 2 {
			c.t.Fatalf("-safemode %s: exit %d, want %q twice:\n%s", action, code, want, out)
		}
	}
	safemode("get", "Safe mode is OFF in ")
	safemode("enter", "Safe mode is ON in ")
	if c.mkdir("nn1", "/in-safe-mode") {
		t.Fatal("mkdir succeeded in safe mode")
	}
	safemode("leave", "Safe mode is OFF in ")
	if !c.mkdir("nn1", "/in-safe-mode") {
		t.Fatal("mkdir failed after leaving safe mode")
	}
	// The standby has applied the edits and every replica's report.
	st, err := c.status("nn1")
	if err != nil {
		t.Fatal(err)
	}
	c.waitCaughtUp("nn2", st.LastAppliedTxid)

	// The active dies; the standby takes over and serves the file at once.
	c.stop("nn1", syscall.SIGKILL)
	if out, code := c.haadmin("-transitionToActive", "--forceactive", "nn2"); code != 0 {
		t.Fatalf("transitionToActive nn2: %d %s", code, out)
	}
	if got := cat(); !bytes.Equal(got, data) {
		t.Fatalf("after failover: read %d bytes, differ", len(got))
	}
	if b := c.fsNamesystem("nn2"); b["BlocksTotal"] != float64(4) || b["NumLiveDataNodes"] != float64(3) {
		t.Fatalf("nn2 FSNamesystem %v", b)
	}
	if out, code := c.run("fs", "put", "--config", c.conf("nn2"), local, "hdfs://itns/again.bin"); code != 0 {
		c.dumpLogs()
		t.Fatalf("fs put on the new active: %d\n%s", code, out)
	}
	c.waitJMX("nn2", "8 blocks, fully replicated", func(b map[string]any) bool {
		return b["BlocksTotal"] == float64(8) && b["UnderReplicatedBlocks"] == float64(0)
	})
}

// The active NameNode SIGKILLed in the middle of a write: the writer (a
// DataNode's WebHDFS data path, through hactl fs put from stdin) carries on
// with the standby once it is active, and the file holds every byte.
func TestIntegrationDataNodesKillActiveMidWrite(t *testing.T) {
	integration(t)
	c := startBlockCluster(t, 6)
	data := make([]byte, 6<<20+777)
	rand.Read(data)
	cmd := exec.Command(c.bin, "fs", "put", "--config", c.conf("nn1"), "-", "hdfs://itns/mid.bin")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(c.dir, "cache"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	if _, err := stdin.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	// Some blocks are complete on the DataNodes and in nn1's edits.
	c.waitJMX("nn1", "two blocks allocated", func(b map[string]any) bool { return b["BlocksTotal"].(float64) >= 2 })
	c.stop("nn1", syscall.SIGKILL)
	if msg, code := c.haadmin("-transitionToActive", "--forceactive", "nn2"); code != 0 {
		t.Fatalf("transitionToActive nn2: %d %s", code, msg)
	}
	if _, err := stdin.Write(data[half:]); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		c.dumpLogs()
		t.Fatalf("fs put across the failover: %v\n%s", err, out.String())
	}
	got := filepath.Join(c.dir, "mid.out")
	if msg, code := c.run("fs", "get", "--config", c.conf("nn2"), "hdfs://itns/mid.bin", got); code != 0 {
		c.dumpLogs()
		t.Fatalf("fs get: %d\n%s", code, msg)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, data) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(b), len(data))
	}
	c.waitJMX("nn2", "every block fully replicated", func(b map[string]any) bool {
		return b["BlocksTotal"] == float64(7) && b["UnderReplicatedBlocks"] == float64(0) && b["MissingBlocks"] == float64(0)
	})
}

// checkVisibleLengths asks nn for path's blocks over native RPC and each
// replica's DataNode, at the IPC port the NameNode advertises for it, for
// the replica's visible length, as Hadoop's client does for a file's last
// block: every one must be the block's length.
func (c *itCluster) checkVisibleLengths(nn, path string) {
	c.t.Helper()
	ctx := context.Background()
	cl, err := ipc.Dial(ctx, c.confValue(nn, "dfs.namenode.rpc-address.itns."+nn), ipc.ClientOptions{Protocol: ipc.ProtocolClientNamenode, User: "reader"})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	locs := &pb.GetBlockLocationsResponseProto{}
	if err := cl.Call(ctx, "getBlockLocations", &pb.GetBlockLocationsRequestProto{Src: proto.String(path), Offset: proto.Uint64(0), Length: proto.Uint64(1 << 40)}, locs); err != nil {
		c.t.Fatal(err)
	}
	blocks := locs.GetLocations().GetBlocks()
	if len(blocks) == 0 {
		c.t.Fatalf("%s: no blocks", path)
	}
	for _, lb := range blocks {
		for _, dn := range lb.GetLocs() {
			id := dn.GetId()
			addr := net.JoinHostPort(id.GetIpAddr(), strconv.Itoa(int(id.GetIpcPort())))
			dc, err := ipc.Dial(ctx, addr, ipc.ClientOptions{Protocol: ipc.ProtocolClientDatanode, User: "reader", SASL: true})
			if err != nil {
				c.t.Fatalf("DataNode %s at its advertised IPC address %s: %v", id.GetDatanodeUuid(), addr, err)
			}
			resp := &pb.GetReplicaVisibleLengthResponseProto{}
			err = dc.Call(ctx, "getReplicaVisibleLength", &pb.GetReplicaVisibleLengthRequestProto{Block: lb.GetB()}, resp)
			dc.Close()
			if err != nil || resp.GetLength() != lb.GetB().GetNumBytes() {
				c.t.Fatalf("block %d on %s: visible length %d, %v; want %d", lb.GetB().GetBlockId(), addr, resp.GetLength(), err, lb.GetB().GetNumBytes())
			}
		}
	}
}
