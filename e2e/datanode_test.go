package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bigSize is the round trip's file: two 128 MiB blocks, three replicas each.
const bigSize = 256 << 20

// TestSSHDataNodes is the DataNodes' life cycle over SSH on four namespace
// hosts, one cluster whose steps build on each other: apply with a DataNode
// on every host, a 256 MiB round trip, a DataNode decommissioned (its
// replicas copied before it stops, none lost) and put back, a rolling
// restart of every daemon with the data readable after it, destroy keeping
// the blocks, a re-apply serving them, destroy --purge-data.
func TestSSHDataNodes(t *testing.T) {
	lab := newLab(t, 4)
	spec := DefaultSpec()
	spec.DataNodes = []string{"h1", "h2", "h3", "h4"}
	spec.Replication = 3
	c := newSSHCluster(t, lab, spec)
	t.Cleanup(func() {
		r := c.h.Run(context.Background(), 60*time.Second, "destroy", "--auto-approve", "--purge-data", c.dir)
		if r.Code != 0 {
			t.Logf("cleanup destroy: %s", r)
		}
	})
	big := filepath.Join(t.TempDir(), "big.bin")
	bigSum := writeRandomFile(t, big, bigSize)
	var files map[string]string
	steps := []struct {
		name string
		f    func(c *testCluster)
	}{
		{"apply-from-nothing", func(c *testCluster) {
			c.scenarioApplyFromNothing(2)
			c.waitBlocks(4, 0)
		}},
		{"round-trip-256mib", func(c *testCluster) {
			r := c.must(2*time.Minute, "fs", "put", "--config", c.dir, "-f", big, "/e2e/big.bin")
			t.Logf("BENCH fs put 256 MiB, replication 3: %s", r.Duration.Round(time.Millisecond))
			c.requireBig(bigSum)
			files = c.writeFiles("/e2e/dn", 3)
			c.checkFiles(files)
			if b := c.waitBlocks(4, 0); b.BlocksTotal < 2 {
				c.t.Errorf("the NameNode counts %d blocks after a 256 MiB file, want 2 or more", b.BlocksTotal)
			}
		}},
		{"decommission-datanode", func(c *testCluster) {
			spec.DataNodes = []string{"h1", "h2", "h3"}
			writeSSHCluster(c.t, c.dir, lab, spec)
			r := c.apply()
			acts := StepActions(r.Stdout)
			dec, stop := slices.Index(acts, "decommission-datanode"), slices.Index(acts, "stop-datanode")
			if dec < 0 || stop < dec {
				c.t.Fatalf("want decommission-datanode before stop-datanode, got %v:\n%s", acts, r.Stdout)
			}
			if pids := c.datanodePids("h4"); len(pids) > 0 {
				c.t.Errorf("h4's DataNode still runs after its decommission: %v", pids)
			}
			// Every block has its three replicas on h1-h3: none missing, none
			// under-replicated, and the data reads back.
			c.waitBlocks(3, 0)
			c.requireBig(bigSum)
			c.checkFiles(files)
			c.requireConverged()
		}},
		{"recommission-datanode", func(c *testCluster) {
			spec.DataNodes = []string{"h1", "h2", "h3", "h4"}
			writeSSHCluster(c.t, c.dir, lab, spec)
			r := c.apply()
			if acts := StepActions(r.Stdout); !slices.Contains(acts, "start-datanode") {
				c.t.Errorf("putting h4 back does not start its DataNode: %v", acts)
			}
			for _, h := range []string{"h1", "h2"} {
				if out, _ := c.hostExec(h, "cat /etc/hactl/dfs.hosts.exclude 2>/dev/null || true"); strings.TrimSpace(out) != "" {
					c.t.Errorf("%s still excludes %q after h4 came back", h, out)
				}
			}
			b := c.waitBlocks(4, 0)
			for _, d := range b.DataNodes {
				if d.AdminState != "In Service" {
					c.t.Errorf("DataNode %s is %q after the recommission", d.Name, d.AdminState)
				}
			}
			c.requireConverged()
		}},
		{"rolling-restart", func(c *testCluster) {
			// A changed hdfs-site.xml restarts every daemon; the DataNodes
			// go one at a time, each registered again before the next.
			spec.TailEditsPeriod = "2s"
			writeSSHCluster(c.t, c.dir, lab, spec)
			r := c.apply()
			if n := count(StepActions(r.Stdout), "restart-datanode"); n != 4 {
				c.t.Errorf("want 4 restart-datanode steps, saw %d:\n%s", n, r.Stdout)
			}
			c.waitBlocks(4, 0)
			c.requireBig(bigSum)
			c.requireConverged()
		}},
		{"destroy-keeps-blocks", func(c *testCluster) {
			c.scenarioDestroyKeepsData()
			// Which DataNodes hold a block moved with the decommission and the
			// excess replicas deleted after h4's return: count them all.
			total := 0
			for _, h := range spec.DataNodes {
				out, err := c.hostExec(h, "find "+DataNodeDir+" -name 'blk_*' ! -name '*.meta' | wc -l")
				n, _ := strconv.Atoi(strings.TrimSpace(out))
				if err != nil {
					c.t.Errorf("%s: %v", h, err)
				}
				total += n
			}
			// The 256 MiB file's 2 blocks and 3 small files, 3 replicas each.
			if total < 3*(2+3) {
				c.t.Errorf("the DataNodes keep %d block files after destroy, want at least %d", total, 3*(2+3))
			}
		}},
		{"reapply-serves-blocks", func(c *testCluster) {
			c.scenarioReapplyAfterDestroy(2, files)
			c.waitBlocks(4, 0)
			c.requireBig(bigSum)
		}},
		{"destroy-purge-data", func(c *testCluster) { c.scenarioPurge() }},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			sub := *c
			sub.t = t
			s.f(&sub)
		})
		if !ok {
			t.Fatalf("step %s failed; the later steps need it", s.name)
		}
	}
}

// writeRandomFile writes size random bytes to path and returns their sha256.
func writeRandomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// requireBig reads /e2e/big.bin back through hactl fs cat and compares its
// sha256 (a re-applied cluster's DataNodes may still be reporting blocks:
// retried for a while).
func (c *testCluster) requireBig(sum string) {
	c.t.Helper()
	var got string
	err := Eventually(60*time.Second, 2*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, c.h.Bin, "fs", "cat", "--config", c.dir, "/e2e/big.bin")
		cmd.Env = append(os.Environ(), c.h.Env...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		h := sha256.New()
		n, _ := io.Copy(h, out)
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("fs cat: %v: %s", err, tail(stderr.String(), 5))
		}
		got = hex.EncodeToString(h.Sum(nil))
		if n != bigSize || got != sum {
			return fmt.Errorf("read back %d bytes, sha256 %s; wrote %d, %s", n, got, bigSize, sum)
		}
		return nil
	})
	if err != nil {
		c.t.Fatalf("/e2e/big.bin: %v", err)
	}
}

// blockStatus is the status JSON's "blocks" entry of the nameservice.
type blockStatus struct {
	Error           string `json:"error"`
	Live            int    `json:"live_datanodes"`
	BlocksTotal     int64  `json:"blocks_total"`
	Missing         int64  `json:"missing_blocks"`
	UnderReplicated int64  `json:"under_replicated_blocks"`
	DataNodes       []struct {
		Name       string `json:"name"`
		Live       bool   `json:"live"`
		AdminState string `json:"adminState"`
	} `json:"datanodes"`
}

// waitBlocks waits until hactl status shows live DataNodes in service, no
// missing block and at most underReplicated under-replicated ones.
func (c *testCluster) waitBlocks(live int, underReplicated int64) blockStatus {
	c.t.Helper()
	var b blockStatus
	err := Eventually(90*time.Second, time.Second, func() error {
		r := c.run(time.Minute, "status", "--format", "json", c.dir)
		var doc struct {
			Blocks []blockStatus `json:"blocks"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || len(doc.Blocks) != 1 {
			return fmt.Errorf("status JSON: %v (%d block entries)\n%s", err, len(doc.Blocks), r)
		}
		b = doc.Blocks[0]
		inService := 0
		for _, d := range b.DataNodes {
			if d.Live && d.AdminState == "In Service" {
				inService++
			}
		}
		if b.Error != "" || inService != live || b.Missing != 0 || b.UnderReplicated > underReplicated {
			return fmt.Errorf("blocks: %+v", b)
		}
		return nil
	})
	if err != nil {
		c.t.Fatalf("want %d live DataNodes in service, no missing block, at most %d under-replicated: %v", live, underReplicated, err)
	}
	return b
}

// datanodePids are the DataNode processes on host.
func (c *testCluster) datanodePids(host string) []int {
	var out []int
	for _, p := range c.daemonPids(host) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), "runtime datanode") {
			out = append(out, p)
		}
	}
	return out
}
