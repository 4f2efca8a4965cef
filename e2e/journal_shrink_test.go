package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
)

// shrinkRange is this test's loopback range (TestLocalCluster uses
// 127.0.10.1-3).
const shrinkRange = "127.0.10.2"

func shrinkHCL(stateDir string, journal []string) string {
	q := make([]string, len(journal))
	for i, h := range journal {
		q[i] = fmt.Sprintf("%q", h)
	}
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "host \"j%d\" { address = \"%s%d\" }\n", i, shrinkRange, i)
	}
	fmt.Fprintf(&b, `
zookeeper {
  managed         = true
  servers         = ["j1", "j2", "j3"]
  tick_time       = "200ms"
  session_timeout = "2s"
  data_dir        = "/var/lib/zookeeper"
}

nameservice "hacluster" {
  namenode "nn1" { host = "j1" }
  namenode "nn2" { host = "j2" }
  journal {
    hosts     = [%s]
    edits_dir = "/hdfs/journalnode"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/namenode"
}

target "local" { state_dir = %q }
`, strings.Join(q, ", "), stateDir)
	return b.String()
}

// TestLocalJournalShrink: five JournalNodes shrunk to three on real
// processes (ZooKeeper, JournalNodes, NameNodes, ZKFCs). Every edit is
// acknowledged by j1, j2, j3 alone (j4 and j5 are down while the files are
// written); the configuration then keeps j1, j4, j5, removing j2 and j3, two
// of that majority. apply runs sync-journal (writes paused through the ZKFCs,
// the new set synced, the handover) before a NameNode writes to the new set;
// the cluster converges with every file readable and j4 and j5 holding the
// writer's last txid. That the sync is what keeps the edits is shown, with a
// control that loses them, by internal/apply's
// TestJournalShrinkFiveToThreeLosesNoAckedEdit.
func TestLocalJournalShrink(t *testing.T) {
	needIntegration(t)
	base := t.TempDir()
	dir, stateDir := filepath.Join(base, "cluster"), filepath.Join(base, "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(journal ...string) {
		if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(shrinkHCL(stateDir, journal)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("j1", "j2", "j3", "j4", "j5")
	c := &testCluster{t: t, h: &Hactl{Bin: hactlBin}, dir: dir}
	cleanupLocal(t, c.h, dir, stateDir)
	cl := c.load()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// Runs before the destroy above: the daemons' logs, for the failure.
		logs, _ := filepath.Glob(filepath.Join(stateDir, "hosts", "*", "var", "log", "hactl", "*.log"))
		for _, l := range logs {
			if b, err := os.ReadFile(l); err == nil {
				t.Logf("--- %s ---\n%s", l, tail(string(b), 3000))
			}
		}
	})
	superviseCmd := func(host, verb, name string) {
		t.Helper()
		p := cl.PathsFor(host)
		r := c.h.Run(context.Background(), commandTimeout, "runtime", "supervise", verb, "--name", name, "--run-dir", p.RunDir)
		if r.Code != 0 {
			t.Fatalf("supervise %s %s on %s: %s", verb, name, host, r)
		}
	}
	jn := daemon.Host(daemon.JournalNode).Name()

	c.apply()
	c.waitOneActive(2, 30*time.Second)
	superviseCmd("j4", "stop", jn)
	superviseCmd("j5", "stop", jn)
	files := c.writeFiles("/shrink", 12)

	write("j1", "j4", "j5")
	r := c.apply()
	acts := StepActions(r.Stdout)
	if count(acts, "sync-journal") != 1 || count(acts, "stop-journalnode") != 2 {
		t.Fatalf("shrink apply: want one sync-journal and two stop-journalnode:\n%s", r.Stdout)
	}
	c.waitOneActive(2, 30*time.Second)
	c.requireConverged()
	c.checkFiles(files)

	// The new set's majority without j1 (which held everything anyway)
	// holds the writer's last txid: j4 and j5, the two that missed every
	// edit while they were down, now have them all.
	var last int64
	r = c.h.Run(context.Background(), commandTimeout, "status", "--format", "json", dir)
	var st struct {
		NameNodes []struct {
			LastTxid int64 `json:"last_txid"`
		} `json:"namenodes"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("status: %v\n%s", err, r)
	}
	for _, nn := range st.NameNodes {
		last = max(last, nn.LastTxid)
	}
	if last < int64(len(files)) {
		t.Fatalf("status reports last txid %d for %d files", last, len(files))
	}
	for _, h := range []string{"j4", "j5"} {
		resp, err := http.Get("http://" + cl.Host(h).Address + ":8480/status")
		if err != nil {
			t.Fatal(err)
		}
		var js struct {
			Journals map[string]struct {
				HighestTxid int64 `json:"highestWrittenTxid"`
			} `json:"journals"`
		}
		err = json.NewDecoder(resp.Body).Decode(&js)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := js.Journals["hacluster"].HighestTxid; got < last {
			t.Errorf("JournalNode %s holds txid %d, the writer was at %d", h, got, last)
		}
	}
}
