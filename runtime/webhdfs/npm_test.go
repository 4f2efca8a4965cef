package webhdfs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// TestOffTheShelfNodeClient drives the handler with the npm `webhdfs` package,
// a WebHDFS client nobody here wrote. HACTL_WEBHDFS_NPM_PREFIX may name a
// directory where `npm install --prefix DIR webhdfs` already ran.
func TestOffTheShelfNodeClient(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (needs node and npm with access to the npm registry)")
	}
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		t.Skip("node or npm is not installed: skipping the off-the-shelf WebHDFS client test")
	}
	prefix := os.Getenv("HACTL_WEBHDFS_NPM_PREFIX")
	if prefix == "" {
		prefix = t.TempDir()
	}
	if _, err := os.Stat(filepath.Join(prefix, "node_modules", "webhdfs", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--silent", "webhdfs@1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install webhdfs: %v\n%s", err, out)
		}
	}

	mem := webhdfstest.NewMem()
	ln, err := net.Listen("tcp", "127.0.5.10:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", webhdfs.Handler(mem, webhdfs.HandlerOptions{}))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln) //nolint:errcheck // returns when closed
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "npm_client.js"), host, port)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(prefix, "node_modules"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, stderr.Bytes())
	}
	var got struct {
		List []struct {
			Name, Type, Owner string
			Length            int64
		}
		Read string
		Stat struct {
			Type, Permission string
			Length           int64
		}
		RenamedList       []string
		ExistsAfterDelete bool
		MissingError      *string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	if len(got.List) != 1 || got.List[0].Name != "hello.txt" || got.List[0].Type != "FILE" || got.List[0].Length != 25 || got.List[0].Owner != "nodeuser" {
		t.Errorf("readdir saw %+v", got.List)
	}
	if got.Read != "hello from node, appended" {
		t.Errorf("readFile got %q", got.Read)
	}
	if got.Stat.Type != "FILE" || got.Stat.Length != 25 || got.Stat.Permission != "755" {
		t.Errorf("stat saw %+v", got.Stat)
	}
	if !reflect.DeepEqual(got.RenamedList, []string{"renamed.txt"}) {
		t.Errorf("after rename readdir saw %v", got.RenamedList)
	}
	if got.ExistsAfterDelete {
		t.Error("exists() is true after a recursive delete")
	}
	if got.MissingError == nil || *got.MissingError != "File does not exist: /npm/missing" {
		t.Errorf("stat of a missing file: error %v, want Hadoop's message", got.MissingError)
	}
	// The server's namespace holds what the client left.
	if b, err := mem.Open(context.Background(), "/npm/kept.txt", 0, -1, "nodeuser"); err != nil || string(b) != "kept" {
		t.Errorf("/npm/kept.txt on the server: %q %v", b, err)
	}
	if _, err := mem.GetFileStatus(context.Background(), "/npm/dir", "nodeuser"); err == nil {
		t.Error("/npm/dir still exists on the server")
	}
}
