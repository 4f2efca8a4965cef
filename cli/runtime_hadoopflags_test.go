package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
)

func runRuntime(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"hactl", "runtime"}, args...), &out, &errb)
	return code, out.String() + errb.String()
}

// TestFormatZKNeedsAutomaticFailover: format-zk is refused with Hadoop's
// exit 5 before ZooKeeper is contacted when automatic failover is off (the
// global key, or the nameservice's own key overriding it), and Hadoop's
// single-dash -force / -nonInteractive are accepted.
func TestFormatZKNeedsAutomaticFailover(t *testing.T) {
	off := zkfcConfDir(t, "false")
	code, msg := runRuntime(t, "format-zk", "--conf", off, "-nonInteractive")
	if code != 5 || !strings.Contains(msg, "automatic failover is not enabled for nameservice ns1") {
		t.Fatalf("automatic failover off: exit %d, %s", code, msg)
	}
	on := zkfcConfDir(t, "true")
	if code, msg := runRuntime(t, "format-zk", "-conf", on, "-force", "-nonInteractive"); code != 6 || !strings.Contains(msg, "127.0.6.99:2181") {
		t.Fatalf("automatic failover on: exit %d, %s; want ZooKeeper contacted (6)", code, msg)
	}
	// The nameservice's key overrides the global one.
	c, err := hadoopconf.LoadDir(on)
	if err != nil {
		t.Fatal(err)
	}
	c.Set("dfs.ha.automatic-failover.enabled.ns1", "false")
	if err := os.WriteFile(filepath.Join(on, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, msg := runRuntime(t, "format-zk", "--conf", on, "--non-interactive"); code != 5 {
		t.Fatalf("automatic failover off for ns1 only: exit %d, %s", code, msg)
	}
}

// TestBootstrapStandbyHadoopFlags: hdfs namenode -bootstrapStandby
// -nonInteractive's spelling refuses a name dir holding data with exit 5
// before anything is contacted.
func TestBootstrapStandbyHadoopFlags(t *testing.T) {
	dir := zkfcConfDir(t, "true")
	nameDir := filepath.Join(dir, "name")
	if err := os.MkdirAll(filepath.Join(nameDir, "current"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nameDir, "current", "VERSION"), []byte("namespaceID=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := hadoopconf.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Set("dfs.namenode.name.dir", nameDir)
	c.Set("dfs.namenode.shared.edits.dir", "qjournal://127.0.6.99:8485/ns1")
	if err := os.WriteFile(filepath.Join(dir, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg := runRuntime(t, "bootstrap-standby", "-conf", dir, "-id", "nn2", "-nonInteractive")
	if code != 5 || !strings.Contains(msg, "Running in non-interactive mode, and data appears to exist in Storage Directory") {
		t.Fatalf("-nonInteractive over data: exit %d, %s", code, msg)
	}
}

// TestFormatAcceptsHadoopSpellings: hdfs namenode -format's flags as Hadoop
// spells them reach format's action with their meaning (the action itself
// needs JournalNodes, so it is replaced here).
func TestFormatAcceptsHadoopSpellings(t *testing.T) {
	for _, args := range [][]string{
		{"format", "-conf", "/c", "-id", "nn1", "-clusterid", "CID-1", "-force", "-nonInteractive"},
		{"format", "--conf", "/c", "--id", "nn1", "--clusterid", "CID-1", "--force", "--non-interactive"},
	} {
		cmd := runtimeFormatCommand()
		var got string
		cmd.Action = func(ctx context.Context, c *ucli.Command) error {
			got = fmt.Sprintf("%s %s %v %v", c.String("conf"), c.String("clusterid"), c.Bool("force"), c.Bool("non-interactive"))
			return nil
		}
		var errb bytes.Buffer
		cmd.ErrWriter = &errb
		if err := cmd.Run(context.Background(), args); err != nil || got != "/c CID-1 true true" {
			t.Errorf("%v: parsed %q, %v %s", args, got, err, errb.String())
		}
	}
}
