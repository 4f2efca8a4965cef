package cli

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/dfsclient/dfstest"
	"github.com/hactl/hactl/runtime/dfsclient/dnweb"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// TestFsPutGetThroughDataNode: put, cat and get of a file larger than the
// inline limit go through the 307 to a DataNode's data path, streamed.
func TestFsPutGetThroughDataNode(t *testing.T) {
	var dns []*dfstest.DN
	for i := range 3 {
		dns = append(dns, dfstest.NewDN(t, i))
	}
	nn := dfstest.NewNN(dns, 1<<20, 3)
	dnLn, err := net.Listen("tcp", "127.0.5.6:0")
	if err != nil {
		t.Fatal(err)
	}
	dnMux := http.NewServeMux()
	dnMux.Handle(webhdfs.PathPrefix+"/", dnweb.Handler(func(string) (hdfs.ClientProtocol, error) { return nn, nil },
		dnweb.Options{Client: dfsclient.Options{SocketTimeout: 5 * time.Second}}))
	dnSrv := &http.Server{Handler: dnMux}
	go dnSrv.Serve(dnLn) //nolint:errcheck // returns when closed
	t.Cleanup(func() { dnSrv.Close() })

	// The NameNode's side of the redirect (what the nn helper's WebHDFS
	// answers with DataNodes): CREATE and OPEN go to the DataNode.
	nnLn, err := net.Listen("tcp", "127.0.5.5:0")
	if err != nil {
		t.Fatal(err)
	}
	nnSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch q.Get("op") {
		case "CREATE", "OPEN":
			q.Set("namenoderpcaddress", "hacluster")
			w.Header().Set("Location", "http://"+dnLn.Addr().String()+r.URL.Path+"?"+q.Encode())
			w.WriteHeader(http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException","message":"File does not exist"}}`)
		}
	})}
	go nnSrv.Serve(nnLn) //nolint:errcheck // returns when closed
	t.Cleanup(func() { nnSrv.Close() })

	conf := writeXMLConf(t, nnLn.Addr().String())
	dir := t.TempDir()
	local := filepath.Join(dir, "big.bin")
	r := rand.New(rand.NewPCG(3, 3))
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	os.WriteFile(local, data, 0o644)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := fsRun(t, append(args, "--config", conf, "--user", "alice")...)
		if code != 0 {
			t.Fatalf("hactl fs %v: exit %d: %s", args, code, errOut)
		}
		if errOut != "" {
			t.Errorf("hactl fs %v wrote to stderr (not a terminal): %q", args, errOut)
		}
		return out
	}
	run("put", local, "hdfs://hacluster/big.bin")
	if f := nn.File("/big.bin"); f == nil || !f.Complete || f.Length() != int64(len(data)) || len(f.Blocks) != 4 {
		t.Fatalf("after put the NameNode has %+v", f)
	}
	if got := run("cat", "hdfs://hacluster/big.bin"); got != string(data) {
		t.Fatalf("cat: %d bytes, want %d", len(got), len(data))
	}
	out := filepath.Join(dir, "copy.bin")
	run("get", "hdfs://hacluster/big.bin", out)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes, want %d", len(got), len(data))
	}
	if _, err := os.Stat(out + "._COPYING_"); !os.IsNotExist(err) {
		t.Errorf("the temporary copy was left behind: %v", err)
	}
	_, errOut, code := fsRun(t, "get", "hdfs://hacluster/big.bin", out, "--config", conf)
	if code != 1 || !strings.Contains(errOut, "File exists") {
		t.Errorf("get over an existing file: exit %d %q", code, errOut)
	}
	run("get", "-f", "hdfs://hacluster/big.bin", dir) // into a directory: the remote name
	if got, _ := os.ReadFile(filepath.Join(dir, "big.bin")); !bytes.Equal(got, data) {
		t.Errorf("get into a directory: wrong content")
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &b, label: "put /f", total: 4 << 20, now: func() time.Time { return now }, period: 200 * time.Millisecond}
	p.start = now
	rd := p.reader(bytes.NewReader(make([]byte, 4<<20)))
	buf := make([]byte, 1<<20)
	for {
		now = now.Add(250 * time.Millisecond)
		if _, err := rd.Read(buf); err == io.EOF {
			break
		}
	}
	p.done(true)
	got := b.String()
	if !strings.Contains(got, "\rput /f: 1.0 MiB / 4.0 MiB ( 25%) 4.0 MiB/s") || !strings.HasSuffix(got, "\rput /f: 4.0 MiB / 4.0 MiB (100%) 3.2 MiB/s \x1b[K\n") {
		t.Errorf("progress output %q", got)
	}
	if newProgress(&b, "x", 1).w != nil {
		t.Errorf("progress drawn on a buffer, which is no terminal")
	}
}
