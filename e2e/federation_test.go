package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
)

// federationRange is the loopback range of the federation test.
const federationRange = "127.0.12."

// federationHCL: two nameservices whose NameNodes are both nn1 and nn2, on
// the same two hosts (Hadoop allows a NameNode ID to repeat across
// nameservices); ns2's NameNodes and ZKFCs take other ports.
const federationHCL = `
host "n1" { address = "127.0.12.1" }
host "n2" { address = "127.0.12.2" }
host "n3" { address = "127.0.12.3" }

zookeeper {
  managed         = true
  servers         = ["n1", "n2", "n3"]
  tick_time       = "200ms"
  session_timeout = "2s"
  data_dir        = "/var/lib/zookeeper"
}

hadoop {
  hdfs_site = {
    "dfs.ha.zkfc.port.ns2" = "8029"
  }
}

nameservice "ns1" {
  namenode "nn1" { host = "n1" }
  namenode "nn2" { host = "n2" }
  journal {
    hosts     = ["n1", "n2", "n3"]
    edits_dir = "/hdfs/journalnode"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/ns1"
}

nameservice "ns2" {
  namenode "nn1" {
    host      = "n1"
    rpc_port  = 8021
    http_port = 9871
  }
  namenode "nn2" {
    host      = "n2"
    rpc_port  = 8021
    http_port = 9871
  }
  journal {
    hosts     = ["n1", "n2", "n3"]
    edits_dir = "/hdfs/journalnode"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/ns2"
}

target "local" {
  state_dir = %q
}
`

// TestLocalFederationRepeatedNameNodeIDs applies a federation whose two
// nameservices both name their NameNodes nn1 and nn2 on the same hosts: the
// four NameNodes and four ZKFCs run side by side (none evicts another), each
// nameservice has one active and one standby, a write to each reads back
// from it, a second plan has nothing to do, and destroy leaves nothing
// running.
func TestLocalFederationRepeatedNameNodeIDs(t *testing.T) {
	needIntegration(t)
	base := t.TempDir()
	dir, stateDir := filepath.Join(base, "cluster"), filepath.Join(base, "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(fmt.Sprintf(federationHCL, stateDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newLocalClusterAt(t, dir, stateDir, federationRange)
	cl := c.load()

	r := c.apply()
	if n := count(StepActions(r.Stdout), "format-namenode"); n != 2 {
		t.Errorf("apply formatted %d NameNodes, want one per nameservice:\n%s", n, r.Stdout)
	}
	var nns []NameNodeStatus
	err := Eventually(60*time.Second, 500*time.Millisecond, func() error {
		var err error
		if nns, _, err = c.status(); err != nil {
			return err
		}
		if len(nns) != 4 {
			return fmt.Errorf("status lists %d NameNodes, want 4: %+v", len(nns), nns)
		}
		for _, ns := range []string{"ns1", "ns2"} {
			var of []NameNodeStatus
			for _, nn := range nns {
				if nn.Nameservice == ns {
					of = append(of, nn)
				}
			}
			if len(of) != 2 {
				return fmt.Errorf("%s: %d NameNodes in status, want 2: %+v", ns, len(of), nns)
			}
			if err := CheckOneActive(of); err != nil {
				return fmt.Errorf("%s: %w", ns, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("waiting for one active NameNode in each nameservice: %v", err)
	}
	// Every NameNode is its own process, under its own supervisor record.
	pids := map[int]string{}
	for _, ns := range cl.Nameservices {
		for _, nn := range ns.NameNodes {
			for _, id := range []daemon.ID{daemon.NameNodeID(ns.Name, nn.ID), daemon.ZKFCID(ns.Name, nn.ID)} {
				got := c.supervisorPids(nn.Host, id.Name())
				if len(got) == 0 {
					t.Errorf("no supervised process for %s on %s", id, nn.Host)
				}
				for _, p := range got {
					if other, dup := pids[p]; dup {
						t.Errorf("%s and %s are the same process %d", other, id, p)
					}
					pids[p] = id.Name()
				}
			}
		}
	}
	for _, ns := range []string{"ns1", "ns2"} {
		path := "hdfs://" + ns + "/e2e/federation/" + ns
		content := fmt.Sprintf("written to %s by %s\n", ns, t.Name())
		c.must(fsTimeout, "fs", "mkdir", "--config", c.dir, "-p", "hdfs://"+ns+"/e2e/federation")
		if r := c.put(path, content); r.Code != 0 {
			t.Fatalf("fs put %s: %s", path, r)
		}
		if r := c.cat(path); r.Code != 0 || r.Stdout != content {
			t.Errorf("fs cat %s: want %q\n%s", path, content, r)
		}
	}
	// Each namespace holds only its own file.
	if r := c.cat("hdfs://ns2/e2e/federation/ns1"); r.Code == 0 {
		t.Errorf("ns2 holds ns1's file: %s", r)
	}
	c.requireConverged()

	r = c.must(applyTimeout, "destroy", "--auto-approve", "--purge-data", c.dir)
	c.t.Logf("destroy --purge-data:\n%s", r.Stdout)
	for _, h := range cl.Hosts {
		if left := c.waitNoDaemons(h.Name); len(left) > 0 {
			t.Errorf("destroy left processes on %s: %v", h.Name, left)
		}
	}
	if left := ProcsMatching(stateDir + "/"); len(left) > 0 {
		t.Errorf("processes of this cluster still run: %v", left)
	}
	if !strings.Contains(r.Stdout, "stop-namenode ns2/nn1") || !strings.Contains(r.Stdout, "stop-namenode ns1/nn1") {
		t.Errorf("destroy does not stop both nn1s:\n%s", r.Stdout)
	}
}
