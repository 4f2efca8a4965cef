package webhdfs_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// TestGetFileChecksumAndBlockLocations: GETFILECHECKSUM of an inline file
// is summed on the NameNode as one block; with a DataNode chooser it is
// redirected like OPEN; GETFILEBLOCKLOCATIONS answers Hadoop's JSON.
func TestGetFileChecksumAndBlockLocations(t *testing.T) {
	mem := webhdfstest.NewMem()
	ctx := context.Background()
	if err := mem.Create(ctx, "/f", []byte("hello checksum"), false, 0o644, 3, 128<<20, "u"); err != nil {
		t.Fatal(err)
	}
	mem.Create(ctx, "/empty", nil, false, 0o644, 3, 128<<20, "u")
	var chooserOp string
	srv := serve(t, webhdfs.Handler(mem, webhdfs.HandlerOptions{}))
	get := func(url string) (int, string, http.Header) {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, body, _ := get(srv.URL + "/webhdfs/v1/f?op=GETFILECHECKSUM")
	want := webhdfs.InlineChecksum([]byte("hello checksum"), 512)
	wb, _ := json.Marshal(want)
	if code != 200 || strings.TrimSpace(body) != string(wb) || !strings.Contains(body, `"algorithm":"MD5-of-0MD5-of-512CRC32C"`) || !strings.Contains(body, `"length":28`) {
		t.Errorf("GETFILECHECKSUM: %d %s, want %s", code, body, wb)
	}
	code, body, _ = get(srv.URL + "/webhdfs/v1/empty?op=GETFILECHECKSUM")
	if code != 200 || !strings.Contains(body, `"bytes":"00000000000000000000000070bc8f4b72a86921468bf8e8441dce51"`) || !strings.Contains(body, "MD5-of-0MD5-of-0CRC32") {
		t.Errorf("GETFILECHECKSUM of an empty file: %d %s", code, body)
	}
	if code, body, _ = get(srv.URL + "/webhdfs/v1/nope?op=GETFILECHECKSUM"); code != 404 {
		t.Errorf("GETFILECHECKSUM of a missing file: %d %s", code, body)
	}

	// With DataNodes: redirected to the one the chooser names for OPEN.
	srv2 := serve(t, webhdfs.Handler(mem, webhdfs.HandlerOptions{NamenodeRPCAddress: "ns1",
		DataNode: func(ctx context.Context, op, path string, offset int64, user, clientHost string, exclude []string) (string, error) {
			chooserOp = op
			return "127.0.1.7:9864", nil
		},
		BlockLocations: func(ctx context.Context, path string, offset, length int64, user string) ([]webhdfs.BlockLocation, error) {
			return []webhdfs.BlockLocation{{Hosts: []string{"h1"}, Names: []string{"127.0.1.7:9866"}, Length: 14, Offset: 0,
				StorageTypes: []string{"DISK"}, TopologyPaths: []string{"/default-rack/127.0.1.7:9866"}, CachedHosts: []string{}}}, nil
		}}))
	code, _, hdr := get(srv2.URL + "/webhdfs/v1/f?op=GETFILECHECKSUM&user.name=u")
	loc := hdr.Get("Location")
	if code != http.StatusTemporaryRedirect || chooserOp != "OPEN" || !strings.HasPrefix(loc, "http://127.0.1.7:9864/webhdfs/v1/f?") ||
		!strings.Contains(loc, "op=GETFILECHECKSUM") || !strings.Contains(loc, "namenoderpcaddress=ns1") {
		t.Errorf("GETFILECHECKSUM with DataNodes: %d, Location %q, chooser asked for %q", code, loc, chooserOp)
	}
	code, body, _ = get(srv2.URL + "/webhdfs/v1/f?op=GETFILEBLOCKLOCATIONS&offset=0&length=10")
	if code != 200 || !strings.Contains(body, `{"BlockLocations":{"BlockLocation":[{"cachedHosts":[],"corrupt":false,"hosts":["h1"],"length":14,"names":["127.0.1.7:9866"],"offset":0,"storageTypes":["DISK"],"topologyPaths":["/default-rack/127.0.1.7:9866"]}]}}`) {
		t.Errorf("GETFILEBLOCKLOCATIONS: %d %s", code, body)
	}
	code, body, _ = get(srv.URL + "/webhdfs/v1/f?op=GETFILEBLOCKLOCATIONS")
	if code != 200 || strings.TrimSpace(body) != `{"BlockLocations":{"BlockLocation":[]}}` {
		t.Errorf("GETFILEBLOCKLOCATIONS of an inline file: %d %s", code, body)
	}
}
