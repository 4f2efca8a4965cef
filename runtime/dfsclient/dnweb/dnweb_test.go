package dnweb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/dfsclient/dfstest"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/webhdfs"
)

func setup(t *testing.T) (*httptest.Server, *dfstest.NN) {
	t.Helper()
	var dns []*dfstest.DN
	for i := range 3 {
		dns = append(dns, dfstest.NewDN(t, i))
	}
	nn := dfstest.NewNN(dns, 1<<20, 3)
	resolve := func(addr string) (hdfs.ClientProtocol, error) {
		if addr != "ns1" {
			return nil, fmt.Errorf("%s names no nameservice", addr)
		}
		return nn, nil
	}
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", Handler(resolve, Options{Client: dfsclient.Options{SocketTimeout: 5 * time.Second}}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, nn
}

func do(t *testing.T, method, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func data(n int) []byte {
	r := rand.New(rand.NewPCG(9, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestCreateOpenAppend(t *testing.T) {
	srv, nn := setup(t)
	base := srv.URL + "/webhdfs/v1/dir/f?namenoderpcaddress=ns1&user.name=alice"
	content := data(2<<20 + 333)
	resp, body := do(t, http.MethodPut, base+"&op=CREATE&overwrite=false&replication=3", content)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "hdfs://ns1/dir/f" {
		t.Fatalf("CREATE: %d %s, Location %q", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	if f := nn.File("/dir/f"); f == nil || !f.Complete || f.Length() != int64(len(content)) {
		t.Fatalf("after CREATE the NameNode has %+v", f)
	}
	resp, body = do(t, http.MethodGet, base+"&op=OPEN", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) || resp.ContentLength != int64(len(content)) {
		t.Fatalf("OPEN: %d, %d bytes (Content-Length %d), equal %v", resp.StatusCode, len(body), resp.ContentLength, bytes.Equal(body, content))
	}
	resp, body = do(t, http.MethodGet, base+"&op=OPEN&offset=1048000&length=1000", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content[1048000:1049000]) {
		t.Errorf("OPEN offset/length: %d, %d bytes", resp.StatusCode, len(body))
	}
	more := data(70000)
	resp, body = do(t, http.MethodPost, base+"&op=APPEND", more)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("APPEND: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, http.MethodGet, base+"&op=OPEN", nil)
	if !bytes.Equal(body, append(content, more...)) {
		t.Errorf("OPEN after APPEND: %d bytes, want %d", len(body), len(content)+len(more))
	}
	// Past the end: Hadoop's IOException, 403.
	resp, body = do(t, http.MethodGet, base+fmt.Sprintf("&op=OPEN&offset=%d", 10<<20), nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "out of the range") {
		t.Errorf("OPEN past the end: %d %s", resp.StatusCode, body)
	}
}

func TestErrors(t *testing.T) {
	srv, _ := setup(t)
	cases := []struct {
		method, query string
		body          []byte
		status        int
		exception     string
	}{
		{http.MethodGet, "op=OPEN", nil, 400, "IllegalArgumentException"},                              // no namenoderpcaddress
		{http.MethodGet, "op=OPEN&namenoderpcaddress=other", nil, 400, "IllegalArgumentException"},     // unknown NameNode
		{http.MethodGet, "op=OPEN&namenoderpcaddress=ns1", nil, 404, "FileNotFoundException"},          // no such file
		{http.MethodGet, "op=LISTSTATUS&namenoderpcaddress=ns1", nil, 400, "IllegalArgumentException"}, // not a data op
		{http.MethodGet, "op=CREATE&namenoderpcaddress=ns1", nil, 400, "IllegalArgumentException"},     // wrong method
		{http.MethodPut, "op=CREATE&namenoderpcaddress=ns1&replication=x", nil, 400, "IllegalArgumentException"},
	}
	for _, tc := range cases {
		resp, body := do(t, tc.method, srv.URL+"/webhdfs/v1/f?"+tc.query, tc.body)
		var env struct{ RemoteException webhdfs.RemoteException }
		json.Unmarshal(body, &env)
		if resp.StatusCode != tc.status || env.RemoteException.Exception != tc.exception {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.query, resp.StatusCode, body, tc.status, tc.exception)
		}
	}
	do(t, http.MethodPut, srv.URL+"/webhdfs/v1/f?op=CREATE&namenoderpcaddress=ns1", []byte("x"))
	resp, body := do(t, http.MethodPut, srv.URL+"/webhdfs/v1/f?op=CREATE&namenoderpcaddress=ns1", []byte("y"))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "FileAlreadyExistsException") {
		t.Errorf("CREATE over an existing file: %d %s", resp.StatusCode, body)
	}
}

func TestGetFileChecksum(t *testing.T) {
	srv, _ := setup(t)
	base := srv.URL + "/webhdfs/v1/f?namenoderpcaddress=ns1"
	do(t, http.MethodPut, base+"&op=CREATE", data(1<<20+10))
	resp, body := do(t, http.MethodGet, base+"&op=GETFILECHECKSUM", nil)
	var out struct {
		FileChecksum struct {
			Algorithm string `json:"algorithm"`
			Bytes     string `json:"bytes"`
			Length    int    `json:"length"`
		}
	}
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GETFILECHECKSUM: %d %s", resp.StatusCode, body)
	}
	if out.FileChecksum.Algorithm != "MD5-of-2048MD5-of-512CRC32C" || out.FileChecksum.Length != 28 || len(out.FileChecksum.Bytes) != 56 ||
		!strings.HasPrefix(out.FileChecksum.Bytes, "00000200"+"0000000000000800") {
		t.Errorf("FileChecksum %+v", out.FileChecksum)
	}
}

func TestConfigResolver(t *testing.T) {
	dir := t.TempDir()
	sec := filepath.Join(dir, "secret")
	os.WriteFile(sec, []byte("0123456789abcdef0123456789abcdef"), 0o600)
	conf := hadoopconf.New()
	conf.Set("dfs.nameservices", "ns1")
	conf.Set("dfs.ha.namenodes.ns1", "nn1,nn2")
	conf.Set("dfs.namenode.http-address.ns1.nn1", "127.0.1.1:9870")
	conf.Set("dfs.namenode.http-address.ns1.nn2", "127.0.1.2:9870")
	conf.Set("dfs.namenode.rpc-address.ns1.nn2", "127.0.1.2:8020")
	conf.Set(auth.ConfKey, sec)
	resolve, err := ConfigResolver(conf, nnrpc.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := resolve("ns1")
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.1.2:8020", "127.0.1.1:9870"} {
		b, err := resolve(addr)
		if err != nil || b != a {
			t.Errorf("%s: %v, same client %v", addr, err, b == a)
		}
	}
	if c := a.(*nnrpc.Client); c.Nameservice() != "ns1" {
		t.Errorf("nameservice %s", c.Nameservice())
	}
	if _, err := resolve("127.0.9.9:8020"); err == nil {
		t.Errorf("an unknown address resolved")
	}
	// The daemon's handler from the same XML refuses an unknown NameNode
	// the way Hadoop's DataNode does.
	conf.Set("dfs.client.socket-timeout", "7000")
	h, err := FromConfig(conf, t.Logf, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhdfs/v1/f?op=OPEN&namenoderpcaddress=elsewhere", nil))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "names no nameservice") {
		t.Errorf("FromConfig handler, unknown NameNode: %d %s", rec.Code, rec.Body)
	}
	conf.Unset(auth.ConfKey)
	if _, err := FromConfig(conf, t.Logf, nil); err == nil {
		t.Errorf("FromConfig without a cluster secret succeeded")
	}
	// The data path writes 1 MiB packets, 8 in flight, unless the
	// DataNode's configuration names a packet size (then Hadoop's
	// in-flight default applies unless named too).
	if o, err := clientOptions(conf); err != nil || o.WritePacketSize != WritePacketSize || o.MaxPacketsInFlight != MaxPacketsInFlight {
		t.Errorf("default packets: %d × %d (%v)", o.WritePacketSize, o.MaxPacketsInFlight, err)
	}
	conf.Set("dfs.client-write-packet-size", "65536")
	if o, err := clientOptions(conf); err != nil || o.WritePacketSize != 65536 || o.MaxPacketsInFlight != 0 {
		t.Errorf("configured packets: %d × %d (%v)", o.WritePacketSize, o.MaxPacketsInFlight, err)
	}
}

// slowBody sends n chunks with a pause before each.
type slowBody struct {
	chunks [][]byte
	pause  time.Duration
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	if len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

// TestSlowUploadOutlivesRequestDeadline: the DataNode's HTTP server bounds
// whole requests, as every daemon's; a CREATE body that keeps arriving is
// read past that bound, one that stalls longer than IdleTimeout is not.
func TestSlowUploadOutlivesRequestDeadline(t *testing.T) {
	var dns []*dfstest.DN
	for i := range 3 {
		dns = append(dns, dfstest.NewDN(t, i))
	}
	nn := dfstest.NewNN(dns, 1<<20, 3)
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", Handler(func(string) (hdfs.ClientProtocol, error) { return nn, nil },
		Options{Client: dfsclient.Options{SocketTimeout: 5 * time.Second}, IdleTimeout: 400 * time.Millisecond}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserve.Start(ln, mux, httpserve.Limits{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}, nil)
	t.Cleanup(func() { srv.Close() })
	put := func(path string, body io.Reader) int {
		req, _ := http.NewRequest(http.MethodPut, "http://"+ln.Addr().String()+"/webhdfs/v1"+path+"?op=CREATE&namenoderpcaddress=ns1", body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var chunks [][]byte
	for range 8 {
		chunks = append(chunks, bytes.Repeat([]byte("x"), 1000))
	}
	if code := put("/steady", &slowBody{chunks: chunks, pause: 100 * time.Millisecond}); code != http.StatusCreated {
		t.Errorf("a steady 0.8 s upload through a server with a 0.3 s request deadline: status %d", code)
	}
	if f := nn.File("/steady"); f == nil || !f.Complete || f.Length() != 8000 {
		t.Errorf("the steady upload left %+v", f)
	}
	if code := put("/stalled", &slowBody{chunks: [][]byte{[]byte("a"), []byte("b")}, pause: time.Second}); code == http.StatusCreated {
		t.Errorf("an upload stalled for 1 s past a 0.4 s idle timeout succeeded")
	}
}
