package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hactl/hactl/internal/netns"
)

// ClusterSpec describes an SSH cluster on a Lab's hosts.
type ClusterSpec struct {
	Hosts           int               // how many of the lab's hosts to declare (all when 0)
	ZooKeeper       []string          // host names of the managed ZooKeeper servers
	Journal         []string          // host names of the JournalNodes
	NameNodes       map[string]string // NameNode ID → host name
	HTTPPorts       map[string]int    // NameNode ID → http_port, when not the default
	RPCPorts        map[string]int    // NameNode ID → rpc_port, when not the default
	TailEditsPeriod string            // dfs.ha.tail-edits.period, "1s" when empty
	Bastion         string            // ssh bastion ("root@addr"), none when empty
	DataNodes       []string          // host names of the DataNodes (data dir /var/lib/hdfs/datanode), none when empty
	Replication     int               // hdfs { replication }, Hadoop's 3 when 0
}

// DataNodeDir is the data dir of the DataNodes WriteSSHCluster declares.
const DataNodeDir = "/var/lib/hdfs/datanode"

// DefaultSpec is the e2e layout on four hosts: ZooKeeper on h1-h3,
// JournalNodes on h2-h4, NameNodes nn1 on h1 and nn2 on h2.
func DefaultSpec() ClusterSpec {
	return ClusterSpec{
		ZooKeeper: []string{"h1", "h2", "h3"},
		Journal:   []string{"h2", "h3", "h4"},
		NameNodes: map[string]string{"nn1": "h1", "nn2": "h2"},
	}
}

func bastionLine(b string) string {
	if b == "" {
		return ""
	}
	return fmt.Sprintf("  bastion     = %q\n", b)
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// WriteSSHCluster writes dir/cluster.hcl for spec on the lab's hosts, root
// over SSH with the lab's key and known_hosts. Every directory is one the
// hosts have privately (/opt, /etc, /var).
func WriteSSHCluster(dir string, lab *netns.Cluster, spec ClusterSpec) error {
	var b strings.Builder
	hosts := lab.Hosts
	if spec.Hosts > 0 && spec.Hosts < len(hosts) {
		hosts = hosts[:spec.Hosts]
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, "host %q { address = %q }\n", h.Name, h.Addr)
	}
	tep := spec.TailEditsPeriod
	if tep == "" {
		tep = "1s"
	}
	fmt.Fprintf(&b, `
ssh {
  user        = "root"
  private_key = %q
  known_hosts = %q
%s}

zookeeper {
  managed         = true
  servers         = %s
  tick_time       = "200ms"
  session_timeout = "2s"
  data_dir        = "/var/lib/zookeeper"
}

nameservice "hacluster" {
`, lab.ClientKey, lab.KnownHosts, bastionLine(spec.Bastion), quoteList(spec.ZooKeeper))
	ids := make([]string, 0, len(spec.NameNodes))
	for id := range spec.NameNodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		extra := ""
		if p := spec.RPCPorts[id]; p != 0 {
			extra += fmt.Sprintf("    rpc_port = %d\n", p)
		}
		if p := spec.HTTPPorts[id]; p != 0 {
			extra += fmt.Sprintf("    http_port = %d\n", p)
		}
		if extra != "" {
			fmt.Fprintf(&b, "  namenode %q {\n    host = %q\n%s  }\n", id, spec.NameNodes[id], extra)
		} else {
			fmt.Fprintf(&b, "  namenode %q { host = %q }\n", id, spec.NameNodes[id])
		}
	}
	fmt.Fprintf(&b, `
  journal {
    hosts     = %s
    edits_dir = "/var/lib/hdfs/journal"
  }
  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir          = "/var/lib/hdfs/namenode"
  tail_edits_period = %q
}

target "ssh" {}
`, quoteList(spec.Journal), tep)
	if len(spec.DataNodes) > 0 {
		fmt.Fprintf(&b, "\ndatanode {\n  hosts     = %s\n  data_dirs = [%q]\n}\n", quoteList(spec.DataNodes), DataNodeDir)
	}
	if spec.Replication > 0 {
		fmt.Fprintf(&b, "\nhdfs {\n  replication = %d\n}\n", spec.Replication)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(b.String()), 0o644)
}
