package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// zkfcConfDir writes a minimal HA configuration whose ZooKeeper is unreachable
// (nothing listens on 127.0.6.99 in this package's tests).
func zkfcConfDir(t *testing.T, auto string) string {
	t.Helper()
	dir := t.TempDir()
	secret := filepath.Join(dir, "cluster.secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := hadoopconf.New()
	for k, v := range map[string]string{
		"ha.zookeeper.quorum":               "127.0.6.99:2181",
		"ha.zookeeper.session-timeout.ms":   "300",
		"dfs.nameservices":                  "ns1",
		"dfs.ha.namenodes.ns1":              "nn1,nn2",
		"dfs.namenode.rpc-address.ns1.nn1":  "127.0.6.11:8020",
		"dfs.namenode.http-address.ns1.nn1": "127.0.6.11:9870",
		"dfs.namenode.rpc-address.ns1.nn2":  "127.0.6.12:8020",
		"dfs.namenode.http-address.ns1.nn2": "127.0.6.12:9870",
		"dfs.ha.automatic-failover.enabled": auto,
		"dfs.ha.fencing.methods":            "shell(/bin/true)",
		"hactl.cluster.secret.file":         secret,
	} {
		c.Set(k, v)
	}
	if err := os.WriteFile(filepath.Join(dir, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRuntimeZKFCExitCodes(t *testing.T) {
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"hactl", "runtime"}, args...), &out, &errb)
		return code, errb.String()
	}
	off := zkfcConfDir(t, "false")
	if code, msg := run("zkfc", "--conf", off, "--id", "nn1"); code != 5 || !strings.Contains(msg, "dfs.ha.automatic-failover.enabled") {
		t.Fatalf("automatic failover off: exit %d, %s", code, msg)
	}
	on := zkfcConfDir(t, "true")
	if code, msg := run("zkfc", "--conf", on, "--id", "nn1"); code != 6 || !strings.Contains(msg, "127.0.6.99:2181") {
		t.Fatalf("ZooKeeper unreachable: exit %d, %s", code, msg)
	}
	if code, msg := run("format-zk", "--conf", on, "--non-interactive"); code != 6 || !strings.Contains(msg, "127.0.6.99:2181") {
		t.Fatalf("format-zk, ZooKeeper unreachable: exit %d, %s", code, msg)
	}
	if code, msg := run("zkfc", "--conf", on, "--id", "nn7"); code != 1 || !strings.Contains(msg, "nn7") {
		t.Fatalf("unknown NameNode: exit %d, %s", code, msg)
	}
}
