package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
	"github.com/hactl/hactl/runtime/httpserve"
)

// versionOnlyNN answers the handshake; a DataNode refusing it never gets further.
type versionOnlyNN struct {
	hdfs.DatanodeProtocol
	info hdfs.NamespaceInfo
}

func (n versionOnlyNN) VersionRequest(context.Context) (hdfs.NamespaceInfo, error) {
	return n.info, nil
}

// A data dir of another cluster: hactl runtime datanode refuses the
// NameNode, leaves the dir as it was and exits 1 naming both clusters.
func TestRuntimeDatanodeRefusesAnotherClustersDataDir(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("0123456789abcdef0123456789abcdef")
	secretFile := filepath.Join(dir, "cluster.secret")
	os.WriteFile(secretFile, secret, 0o600)
	data := filepath.Join(dir, "data")
	version := "#old\nstorageID=DS-1\nclusterID=CID-other\ncTime=0\ndatanodeUuid=u-1\nstorageType=DATA_NODE\nlayoutVersion=-57\n"
	os.MkdirAll(filepath.Join(data, "current"), 0o700)
	os.WriteFile(filepath.Join(data, "current", "VERSION"), []byte(version), 0o600)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nn := versionOnlyNN{info: hdfs.NamespaceInfo{NamespaceID: 7, ClusterID: "CID-mine", BlockPoolID: "BP-7"}}
	srv := httpserve.Start(ln, nnrpc.Handler(nil, nn, nnrpc.HandlerOptions{Verifier: auth.NewVerifier(secret, ln.Addr().String())}), httpserve.Limits{}, nil)
	defer srv.Close()

	c := hadoopconf.New()
	for k, v := range map[string]string{
		"dfs.datanode.data.dir":            data,
		"dfs.datanode.address":             "127.0.0.1:0",
		"dfs.datanode.http.address":        "127.0.0.1:0",
		"dfs.datanode.ipc.address":         "127.0.0.1:0",
		"dfs.nameservices":                 "ns",
		"dfs.ha.namenodes.ns":              "nn1",
		"dfs.namenode.http-address.ns.nn1": ln.Addr().String(),
		auth.ConfKey:                       secretFile,
	} {
		c.Set(k, v)
	}
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o700)
	os.WriteFile(filepath.Join(conf, "hdfs-site.xml"), c.Marshal(), 0o600)

	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"hactl", "runtime", "datanode", "--conf", conf}, &out, &errb)
	}()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(errb.String(), "CID-other") || !strings.Contains(errb.String(), "CID-mine") {
			t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the DataNode kept running with another cluster's data dir")
	}
	got, _ := os.ReadFile(filepath.Join(data, "current", "VERSION"))
	if string(got) != version {
		t.Fatalf("VERSION changed:\n%s", got)
	}
}
