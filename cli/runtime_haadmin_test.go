package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/namenode"
	"github.com/hactl/hactl/runtime/qjm"
)

// haTestCluster runs two in-process NameNodes over one in-memory journal on
// 127.0.4.20x and writes the hdfs-site.xml haadmin reads.
func haTestCluster(t *testing.T, auto bool) (string, []*namenode.NameNode) {
	t.Helper()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "cluster.secret")
	secret := "haadmin-test-secret-0123456789"
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	j := namenode.NewMemJournal()
	info := qjm.NamespaceInfo{NamespaceID: 7, ClusterID: "CID-x", BlockPoolID: "BP-x"}
	c := hadoopconf.New()
	c.Set("dfs.nameservices", "ns1")
	c.Set("dfs.ha.namenodes.ns1", "nn1,nn2")
	c.Set("hactl.cluster.secret.file", secretFile)
	c.Set("dfs.ha.automatic-failover.enabled", fmt.Sprint(auto))
	var nns []*namenode.NameNode
	for i, id := range []string{"nn1", "nn2"} {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.4.%d:0", 200+i))
		if err != nil {
			t.Fatal(err)
		}
		cfg := namenode.Config{Nameservice: "ns1", ID: id, HTTPAddr: ln.Addr().String(),
			NameDirs: []string{filepath.Join(dir, id)}, Retained: 2, CheckpointTxns: 1 << 40, Secret: []byte(secret)}
		if i == 0 {
			if err := namenode.Format(context.Background(), cfg, j, info, false, time.Unix(1, 0)); err != nil {
				t.Fatal(err)
			}
		} else if err := (&namenode.Storage{Dirs: cfg.NameDirs}).Format(info, namenode.NewNamespace(1, "hdfs", "supergroup", 1).EncodeImage(), 0); err != nil {
			t.Fatal(err)
		}
		nn := namenode.New(cfg, j, namenode.Options{Logf: t.Logf})
		if err := nn.Load(); err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: nn.Handler(nil)}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		c.Set("dfs.namenode.http-address.ns1."+id, cfg.HTTPAddr)
		c.Set("dfs.namenode.rpc-address.ns1."+id, fmt.Sprintf("127.0.4.%d:8020", 200+i))
		nns = append(nns, nn)
	}
	if err := os.WriteFile(filepath.Join(dir, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, nns
}

func haadmin(t *testing.T, conf string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"hactl", "runtime", "haadmin", "--conf", conf}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestHAAdminCommands(t *testing.T) {
	conf, nns := haTestCluster(t, false)
	if out, errs, code := haadmin(t, conf, "-getServiceState", "nn1"); code != 0 || out != "standby\n" {
		t.Fatalf("getServiceState: %q %q %d", out, errs, code)
	}
	if _, errs, code := haadmin(t, conf, "-transitionToActive", "nn1"); code != 0 {
		t.Fatalf("transitionToActive: %s %d", errs, code)
	}
	if nns[0].State() != namenode.StateActive {
		t.Fatal("nn1 is not active")
	}
	// A second active is refused, as hdfs haadmin does, unless --forceactive.
	_, errs, code := haadmin(t, conf, "-transitionToActive", "nn2")
	if code != 255 || !strings.Contains(errs, "transitionToActive: Node nn1 is already active") {
		t.Fatalf("second active: %q %d", errs, code)
	}
	out, _, code := haadmin(t, conf, "-getAllServiceState")
	want := fmt.Sprintf("%-50s %-10s\n%-50s %-10s\n", "127.0.4.200:8020", "active", "127.0.4.201:8020", "standby")
	if code != 0 || out != want {
		t.Fatalf("getAllServiceState:\n%q\nwant\n%q", out, want)
	}
	if _, errs, code := haadmin(t, conf, "-checkHealth", "nn2"); code != 0 {
		t.Fatalf("checkHealth: %s %d", errs, code)
	}
	if _, errs, code := haadmin(t, conf, "-transitionToStandby", "nn1"); code != 0 {
		t.Fatalf("transitionToStandby: %s", errs)
	}
	if _, errs, code := haadmin(t, conf, "-transitionToActive", "nn2"); code != 0 {
		t.Fatalf("failover to nn2: %s", errs)
	}
	if out, _, _ := haadmin(t, conf, "-getServiceState", "nn2"); out != "active\n" {
		t.Fatalf("nn2 is %q", out)
	}
	// Usage mistakes: Hadoop's messages, exit -1.
	if _, errs, code := haadmin(t, conf, "-getServiceState"); code != 255 || !strings.Contains(errs, "getServiceState: incorrect number of arguments") {
		t.Fatalf("missing arg: %q %d", errs, code)
	}
	if _, errs, code := haadmin(t, conf, "-getServiceState", "nn9"); code != 255 || !strings.Contains(errs, "Illegal argument") {
		t.Fatalf("unknown NN: %q %d", errs, code)
	}
}

func TestHAAdminRefusesManualWithAutoFailover(t *testing.T) {
	conf, nns := haTestCluster(t, true)
	_, errs, code := haadmin(t, conf, "-transitionToActive", "nn1")
	if code != 255 || !strings.Contains(errs, "Refusing to manually manage HA state") {
		t.Fatalf("manual transition with auto failover: %q %d", errs, code)
	}
	if nns[0].State() != namenode.StateStandby {
		t.Fatal("refused transition changed the state")
	}
	if _, errs, code := haadminIn(t, conf, "y\n", "-transitionToActive", "--forcemanual", "nn1"); code != 0 {
		t.Fatalf("--forcemanual: %q %d", errs, code)
	}
	if nns[0].State() != namenode.StateActive {
		t.Fatal("--forcemanual did not transition")
	}
}
