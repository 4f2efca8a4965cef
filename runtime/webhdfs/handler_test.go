package webhdfs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// serve starts h on a loopback address of this package's range (127.0.5.x).
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.5.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func newServer(t *testing.T) (*webhdfstest.Mem, *httptest.Server) {
	t.Helper()
	mem := webhdfstest.NewMem()
	mem.Now = func() time.Time { return time.UnixMilli(1700000000000) }
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", webhdfs.Handler(mem, webhdfs.HandlerOptions{MaxDataBytes: 1024}))
	return mem, serve(t, mux)
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

// noFollow does not follow redirects, so each step of the protocol is visible.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, u string, body []byte) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func wantJSON(t *testing.T, a answer, code int, want string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("status %d, want %d; body %s", a.code, code, a.body)
	}
	var got, exp any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", a.body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if !bytes.Equal(gb, eb) {
		t.Fatalf("body\n got %s\nwant %s", gb, eb)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

// wantRemote checks a RemoteException answer; msgPart "=text" must be the whole message.
func wantRemote(t *testing.T, a answer, code int, exception, javaClass, msgPart string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("status %d, want %d; body %s", a.code, code, a.body)
	}
	var env struct {
		RemoteException map[string]string
	}
	if err := json.Unmarshal(a.body, &env); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	re := env.RemoteException
	if len(re) != 3 {
		t.Errorf("RemoteException has fields %v, want exception, javaClassName, message", re)
	}
	msgOK := strings.Contains(re["message"], msgPart)
	if exact, ok := strings.CutPrefix(msgPart, "="); ok { // "=msg": the whole message
		msgOK = re["message"] == exact
	}
	if re["exception"] != exception || re["javaClassName"] != javaClass || !msgOK {
		t.Fatalf("RemoteException %v, want %s / %s / message containing %q", re, exception, javaClass, msgPart)
	}
}

func TestMkdirsAndStatusShapes(t *testing.T) {
	_, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	wantJSON(t, do(t, "PUT", base+"/user/alice/dir?op=MKDIRS&permission=750&user.name=alice", nil), 200, `{"boolean":true}`)
	// mkdirs of an existing directory succeeds, as in HDFS.
	wantJSON(t, do(t, "PUT", base+"/user/alice/dir?op=mkdirs", nil), 200, `{"boolean":true}`)

	wantJSON(t, do(t, "GET", base+"/user/alice/dir?op=GETFILESTATUS", nil), 200, `{"FileStatus":{
		"accessTime":0,"blockSize":0,"childrenNum":0,"fileId":16388,"group":"supergroup","length":0,
		"modificationTime":1700000000000,"owner":"alice","pathSuffix":"","permission":"750",
		"replication":0,"storagePolicy":0,"type":"DIRECTORY"}}`)

	wantJSON(t, do(t, "GET", base+"/user/alice?op=LISTSTATUS", nil), 200, `{"FileStatuses":{"FileStatus":[{
		"accessTime":0,"blockSize":0,"childrenNum":0,"fileId":16388,"group":"supergroup","length":0,
		"modificationTime":1700000000000,"owner":"alice","pathSuffix":"dir","permission":"750",
		"replication":0,"storagePolicy":0,"type":"DIRECTORY"}]}}`)

	// An empty directory lists as an empty array, not null.
	wantJSON(t, do(t, "GET", base+"/user/alice/dir?op=LISTSTATUS", nil), 200, `{"FileStatuses":{"FileStatus":[]}}`)
	// The root, with and without the trailing slash.
	a := do(t, "GET", base+"/?op=GETFILESTATUS", nil)
	if a.code != 200 || !bytes.Contains(a.body, []byte(`"childrenNum":1`)) {
		t.Fatalf("root status %d %s", a.code, a.body)
	}
}

func TestCreateIsTwoStep(t *testing.T) {
	mem, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	first := do(t, "PUT", base+"/d/f.txt?op=CREATE&overwrite=false&permission=600&replication=2&blocksize=1048576&user.name=bob", nil)
	if first.code != http.StatusTemporaryRedirect {
		t.Fatalf("first CREATE step: %d %s, want 307", first.code, first.body)
	}
	loc, err := url.Parse(first.header.Get("Location"))
	if err != nil || loc.Host != strings.TrimPrefix(srv.URL, "http://") || loc.Path != "/webhdfs/v1/d/f.txt" {
		t.Fatalf("Location %q does not point back at this server's file", first.header.Get("Location"))
	}
	if loc.Query().Get("op") != "CREATE" || loc.Query().Get("datanode") != "true" || loc.Query().Get("replication") != "2" {
		t.Fatalf("Location %q lost the parameters or the data marker", loc)
	}
	if _, err := mem.GetFileStatus(context.Background(), "/d/f.txt", "hdfs"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Fatalf("the first step created the file (err %v)", err)
	}
	second := do(t, "PUT", loc.String(), []byte("hello, world"))
	if second.code != http.StatusCreated || !strings.HasPrefix(second.header.Get("Location"), "webhdfs://") {
		t.Fatalf("second CREATE step: %d Location %q %s", second.code, second.header.Get("Location"), second.body)
	}
	st, err := mem.GetFileStatus(context.Background(), "/d/f.txt", "hdfs")
	if err != nil {
		t.Fatal(err)
	}
	if st.Length != 12 || st.Owner != "bob" || st.Permission != "600" || st.Replication != 2 || st.BlockSize != 1<<20 {
		t.Fatalf("created %+v", st)
	}

	// Without overwrite the second create fails; with it, it replaces.
	again := do(t, "PUT", loc.String(), []byte("x"))
	wantRemote(t, again, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", "/d/f.txt")
	over := do(t, "PUT", base+"/d/f.txt?op=CREATE&overwrite=true&datanode=true", []byte("new"))
	if over.code != 201 {
		t.Fatalf("overwrite: %d %s", over.code, over.body)
	}
	if st, _ := mem.GetFileStatus(context.Background(), "/d/f.txt", "hdfs"); st.Length != 3 || st.Replication != 3 || st.BlockSize != 128<<20 {
		t.Fatalf("after overwrite %+v, want 3 bytes with the default replication and block size", st)
	}

	// noredirect=true answers the Location as JSON (Hadoop 2.8+).
	nr := do(t, "PUT", base+"/d/g?op=CREATE&noredirect=true", nil)
	if nr.code != 200 || !bytes.Contains(nr.body, []byte(`"Location":"http://`)) || bytes.Contains(nr.body, []byte("noredirect")) {
		t.Fatalf("noredirect: %d %s", nr.code, nr.body)
	}
}

func TestOpenAndAppend(t *testing.T) {
	mem, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	if err := mem.Create(context.Background(), "/f", []byte("0123456789"), false, 0o644, 3, 1024, "u"); err != nil {
		t.Fatal(err)
	}
	first := do(t, "GET", base+"/f?op=OPEN&offset=2&length=5", nil)
	if first.code != http.StatusTemporaryRedirect {
		t.Fatalf("OPEN first step %d", first.code)
	}
	data := do(t, "GET", first.header.Get("Location"), nil)
	if data.code != 200 || string(data.body) != "23456" || data.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("OPEN data %d %q %v", data.code, data.body, data.header)
	}
	// A client that follows redirects reads the whole file in one call.
	resp, err := http.Get(base + "/f?op=OPEN")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(all) != "0123456789" {
		t.Fatalf("OPEN followed: %q", all)
	}
	wantRemote(t, do(t, "GET", base+"/missing?op=OPEN", nil), 404, "FileNotFoundException", "java.io.FileNotFoundException", "/missing")

	ap := do(t, "POST", base+"/f?op=APPEND", nil)
	if ap.code != http.StatusTemporaryRedirect {
		t.Fatalf("APPEND first step %d", ap.code)
	}
	if got := do(t, "POST", ap.header.Get("Location"), []byte("abc")); got.code != 200 {
		t.Fatalf("APPEND data %d %s", got.code, got.body)
	}
	if b, _ := mem.Open(context.Background(), "/f", 0, -1, "hdfs"); string(b) != "0123456789abc" {
		t.Fatalf("after append %q", b)
	}
	// Bodies over MaxDataBytes are refused with a clear message.
	big := do(t, "POST", ap.header.Get("Location"), make([]byte, 2048))
	wantRemote(t, big, 403, "IOException", "java.io.IOException", "limit of 1024 bytes")
}

// OPEN's offset and length are validated as Hadoop's OffsetParam and
// LengthParam (longs >= 0; -1 accepted as "to the end"), and an offset plus a
// length past int64 reads to the end instead of overflowing into a panic.
func TestOpenOffsetLength(t *testing.T) {
	mem, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	if err := mem.Create(context.Background(), "/f", []byte("0123456789"), false, 0o644, 3, 1024, "u"); err != nil {
		t.Fatal(err)
	}
	const iae, iaeClass = "IllegalArgumentException", "java.lang.IllegalArgumentException"
	for _, c := range []struct {
		query string
		code  int
		want  string // body, or a part of the RemoteException message
	}{
		{"offset=1&length=9223372036854775807", 200, "123456789"},
		{"offset=9&length=9223372036854775807", 200, "9"},
		{"offset=10&length=9223372036854775807", 200, ""},
		{"offset=3&length=-1", 200, "3456789"},
		{"offset=3&length=0", 200, ""},
		{"length=-2", 400, `Invalid value for webhdfs parameter "length": Invalid parameter range: length = -2 < 0`},
		{"length=-9223372036854775808", 400, "length = -9223372036854775808 < 0"},
		{"offset=-1", 400, `Invalid value for webhdfs parameter "offset": Invalid parameter range: offset = -1 < 0`},
		{"offset=9223372036854775808", 400, `Failed to parse "9223372036854775808" as a radix-10 long integer.`},
		{"length=1e3", 400, `Failed to parse "1e3" as a radix-10 long integer.`},
		{"buffersize=0", 400, `Invalid value for webhdfs parameter "buffersize": Invalid parameter range: buffersize = 0 < 1`},
		{"offset=11", 403, "Offset=11 out of the range [0, 10); OPEN, path=/f"},
	} {
		first := do(t, "GET", base+"/f?op=OPEN&"+c.query, nil)
		if c.code == 400 {
			wantRemote(t, first, 400, iae, iaeClass, c.want)
			continue
		}
		if c.code == 403 {
			wantRemote(t, first, 403, "IOException", "java.io.IOException", c.want)
			continue
		}
		if first.code != http.StatusTemporaryRedirect {
			t.Fatalf("OPEN?%s: first step %d %s", c.query, first.code, first.body)
		}
		got := do(t, "GET", first.header.Get("Location"), nil)
		if got.code != c.code || string(got.body) != c.want {
			t.Errorf("OPEN?%s: %d %q, want %d %q", c.query, got.code, got.body, c.code, c.want)
		}
	}
}

// Every numeric parameter is checked the same way, in Hadoop's words.
func TestNumericParams(t *testing.T) {
	_, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	const iae, iaeClass = "IllegalArgumentException", "java.lang.IllegalArgumentException"
	for q, want := range map[string]string{
		"op=CREATE&replication=0":            `"replication": Invalid parameter range: replication = 0 < 1`,
		"op=CREATE&replication=40000":        `"replication": Failed to parse "40000" as a radix-10 short integer.`,
		"op=CREATE&blocksize=-5":             `"blocksize": Invalid parameter range: blocksize = -5 < 1`,
		"op=CREATE&blocksize=x":              `"blocksize": Failed to parse "x" as a radix-10 long integer.`,
		"op=CREATE&buffersize=4294967296":    `"buffersize": Failed to parse "4294967296" as a radix-10 integer.`,
		"op=CREATE&permission=2000":          `"permission": Invalid parameter range: permission = 2000 > 1777`,
		"op=CREATE&permission=-1":            `"permission": Failed to parse "-1" as a radix-8 short integer.`,
		"op=MKDIRS&permission=8":             `"permission": Failed to parse "8" as a radix-8 short integer.`,
		"op=SETPERMISSION&permission=777777": `"permission": Failed to parse "777777" as a radix-8 short integer.`,
	} {
		wantRemote(t, do(t, "PUT", base+"/n?"+q, nil), 400, iae, iaeClass, want)
	}
}

func TestDeleteRenameSetters(t *testing.T) {
	mem, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	ctx := context.Background()
	for _, p := range []string{"/a/b/c"} {
		if err := mem.Mkdirs(ctx, p, 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	if err := mem.Create(ctx, "/a/b/c/f", []byte("xyz"), false, 0o644, 3, 1024, "u"); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, do(t, "GET", base+"/a?op=GETCONTENTSUMMARY", nil), 200, `{"ContentSummary":{
		"directoryCount":3,"fileCount":1,"length":3,"quota":-1,"spaceConsumed":9,"spaceQuota":-1,"typeQuota":{}}}`)

	wantJSON(t, do(t, "PUT", base+"/a/b/c/f?op=RENAME&destination=/a/g", nil), 200, `{"boolean":true}`)
	wantJSON(t, do(t, "PUT", base+"/nope?op=RENAME&destination=/a/h", nil), 200, `{"boolean":false}`)
	wantRemote(t, do(t, "PUT", base+"/a/g?op=RENAME", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "destination")

	if a := do(t, "PUT", base+"/a/g?op=SETPERMISSION&permission=1777", nil); a.code != 200 || len(a.body) != 0 {
		t.Fatalf("SETPERMISSION %d %q", a.code, a.body)
	}
	if a := do(t, "PUT", base+"/a/g?op=SETOWNER&owner=carol&group=staff", nil); a.code != 200 {
		t.Fatalf("SETOWNER %d %s", a.code, a.body)
	}
	st, _ := mem.GetFileStatus(ctx, "/a/g", "hdfs")
	if st.Permission != "1777" || st.Owner != "carol" || st.Group != "staff" {
		t.Fatalf("after setters %+v", st)
	}
	wantRemote(t, do(t, "PUT", base+"/a/g?op=SETPERMISSION&permission=999", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "permission")

	wantRemote(t, do(t, "DELETE", base+"/a?op=DELETE", nil), 403, "PathIsNotEmptyDirectoryException", "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", "/a")
	wantJSON(t, do(t, "DELETE", base+"/a?op=DELETE&recursive=true", nil), 200, `{"boolean":true}`)
	wantJSON(t, do(t, "DELETE", base+"/a?op=DELETE&recursive=true", nil), 200, `{"boolean":false}`)
}

// failing is a Namesystem whose every call fails with err.
type failing struct {
	webhdfs.Namesystem
	err error
}

func (f failing) Mkdirs(context.Context, string, fs.FileMode, string) error { return f.err }
func (f failing) GetFileStatus(context.Context, string, string) (webhdfs.FileStatus, error) {
	return webhdfs.FileStatus{}, f.err
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err              error
		code             int
		exception, class string
		msg              string
	}{
		{webhdfs.StandbyError("WRITE"), 403, "StandbyException", "org.apache.hadoop.ipc.StandbyException", "Operation category WRITE is not supported in state standby"},
		{fmt.Errorf("%w: Operation category READ is not supported in state standby. Visit https://s.apache.org/sbnn-error", webhdfs.ErrStandby), 403, "StandbyException", "org.apache.hadoop.ipc.StandbyException", "=Operation category READ is not supported in state standby. Visit https://s.apache.org/sbnn-error"},
		{errors.New("journal quorum lost"), 403, "IOException", "java.io.IOException", "journal quorum lost"},
		{errors.Join(errors.New("x"), webhdfs.ErrPermission), 403, "AccessControlException", "org.apache.hadoop.security.AccessControlException", "x"},
		{webhdfs.ErrParentNotDir, 403, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", "Parent path is not a directory"},
		{webhdfs.ErrExists, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", "File already exists"},
	}
	for i, tc := range cases {
		var logged []string
		h := webhdfs.Handler(failing{err: tc.err}, webhdfs.HandlerOptions{Logf: func(f string, a ...any) { logged = append(logged, f) }})
		srv := serve(t, h)
		wantRemote(t, do(t, "PUT", srv.URL+"/webhdfs/v1/x?op=MKDIRS", nil), tc.code, tc.exception, tc.class, tc.msg)
		// Only the error no sentinel matched (the server's own failure) is logged.
		if internal := i == 2; internal != (len(logged) > 0) {
			t.Errorf("%v: logged %v, want logged=%v", tc.err, logged, internal)
		}
	}
}

func TestBadRequests(t *testing.T) {
	_, srv := newServer(t)
	base := srv.URL + "/webhdfs/v1"
	const iae, iaeClass = "IllegalArgumentException", "java.lang.IllegalArgumentException"
	wantRemote(t, do(t, "GET", base+"/x", nil), 400, iae, iaeClass, "op")
	wantRemote(t, do(t, "GET", base+"/x?op=FROBNICATE", nil), 400, iae, iaeClass, "No enum constant FROBNICATE")
	wantRemote(t, do(t, "GET", base+"/x?op=MKDIRS", nil), 400, iae, iaeClass, "MKDIRS is not a valid GET operation")
	wantRemote(t, do(t, "DELETE", base+"/x?op=DELETE&recursive=maybe", nil), 400, iae, iaeClass, "recursive")
	wantRemote(t, do(t, "GET", base+"/x?op=OPEN&offset=-1", nil), 400, iae, iaeClass, "offset")
	wantRemote(t, do(t, "PUT", base+"/x?op=CREATE&replication=zero", nil), 400, iae, iaeClass, "replication")
	// Served without a ServeMux, which would clean "/a/../b" and redirect.
	bare := serve(t, webhdfs.Handler(webhdfstest.NewMem(), webhdfs.HandlerOptions{}))
	for _, p := range []string{"/a/../b", "/a//b", "/a/./b", "/a/b:c"} {
		wantRemote(t, do(t, "GET", bare.URL+"/webhdfs/v1"+p+"?op=GETFILESTATUS", nil), 400, "InvalidPathException", "org.apache.hadoop.fs.InvalidPathException", "Invalid path name")
	}
	wantRemote(t, do(t, "GET", base+"/no/such?op=GETFILESTATUS", nil), 404, "FileNotFoundException", "java.io.FileNotFoundException", "File does not exist: /no/such")
	wantRemote(t, do(t, "GET", base+"/no/such?op=LISTSTATUS", nil), 404, "FileNotFoundException", "java.io.FileNotFoundException", "/no/such")
}

func TestStandbyRefusesEverything(t *testing.T) {
	mem, srv := newServer(t)
	mem.SetStandby(true)
	base := srv.URL + "/webhdfs/v1"
	const se, seClass = "StandbyException", "org.apache.hadoop.ipc.StandbyException"
	wantRemote(t, do(t, "PUT", base+"/d?op=MKDIRS", nil), 403, se, seClass, "Operation category WRITE is not supported in state standby")
	wantRemote(t, do(t, "GET", base+"/?op=GETFILESTATUS", nil), 403, se, seClass, "Operation category READ")
	wantRemote(t, do(t, "PUT", base+"/f?op=CREATE&datanode=true", []byte("x")), 403, se, seClass, "WRITE")
}

// Names with characters JSON must escape survive the hand-written encoder.
func TestEscapedNamesRoundTrip(t *testing.T) {
	mem, srv := newServer(t)
	name := "we\"ird\\ na\tme\x01é"
	if err := mem.Mkdirs(context.Background(), "/"+name, 0o755, "u"); err != nil {
		t.Fatal(err)
	}
	a := do(t, "GET", srv.URL+"/webhdfs/v1/?op=LISTSTATUS", nil)
	var out struct {
		FileStatuses struct{ FileStatus []webhdfs.FileStatus }
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
	if len(out.FileStatuses.FileStatus) != 1 || out.FileStatuses.FileStatus[0].PathSuffix != name {
		t.Fatalf("listed %+v, want %q", out.FileStatuses.FileStatus, name)
	}
}

// An HTTP/1.0 request without Host still gets a usable redirect.
func TestRedirectWithoutHostHeader(t *testing.T) {
	_, srv := newServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("PUT /webhdfs/v1/x?op=CREATE HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 307 || !strings.HasPrefix(resp.Header.Get("Location"), "http://"+addr+"/webhdfs/v1/x?") {
		t.Fatalf("%d Location %q, want a redirect to http://%s/…", resp.StatusCode, resp.Header.Get("Location"), addr)
	}
}

// Every JSON answer is sent with a Content-Length, never chunked: small ones
// get it from net/http, large ones (a long LISTSTATUS) from the handler;
// HEAD gets the length a GET would have.
func TestJSONAnswersCarryContentLength(t *testing.T) {
	mem, srv := newServer(t)
	ctx := context.Background()
	for i := range 40 {
		if err := mem.Mkdirs(ctx, fmt.Sprintf("/big/directory-with-a-long-name-%02d", i), 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ method, target string }{
		{http.MethodGet, "/big?op=GETFILESTATUS"},
		{http.MethodHead, "/big?op=GETFILESTATUS"},
		{http.MethodGet, "/big?op=LISTSTATUS"},
		{http.MethodHead, "/big?op=LISTSTATUS"},
		{http.MethodGet, "/missing?op=GETFILESTATUS"},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+webhdfs.PathPrefix+tc.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(resp.TransferEncoding) != 0 || resp.ContentLength <= 0 ||
			(tc.method == http.MethodGet && resp.ContentLength != int64(len(body))) {
			t.Errorf("%s %s: Content-Length %d, Transfer-Encoding %v, %d body bytes", tc.method, tc.target, resp.ContentLength, resp.TransferEncoding, len(body))
		}
		if strings.Contains(tc.target, "LISTSTATUS") && resp.ContentLength <= 2048 {
			t.Errorf("%s: the listing is meant to exceed net/http's 2048-byte buffer, got %d", tc.target, resp.ContentLength)
		}
	}
}

func TestListStatusBatchPages(t *testing.T) {
	mem := webhdfstest.NewMem()
	mem.Now = func() time.Time { return time.UnixMilli(1700000000000) }
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", webhdfs.Handler(mem, webhdfs.HandlerOptions{ListLimit: 2}))
	srv := serve(t, mux)
	base := srv.URL + webhdfs.PathPrefix
	for _, d := range []string{"/d/a", "/d/b", "/d/c", "/d/e", "/d/f"} {
		if err := mem.Mkdirs(context.Background(), d, 0o755, "dr.who"); err != nil {
			t.Fatal(err)
		}
	}
	type listing struct {
		DirectoryListing struct {
			PartialListing struct {
				FileStatuses struct {
					FileStatus []webhdfs.FileStatus
				}
			} `json:"partialListing"`
			RemainingEntries *int `json:"remainingEntries"`
		}
	}
	page := func(after string) ([]string, int) {
		t.Helper()
		u := base + "/d?op=LISTSTATUS_BATCH"
		if after != "" {
			u += "&startAfter=" + url.QueryEscape(after)
		}
		a := do(t, "GET", u, nil)
		if a.code != 200 {
			t.Fatalf("GET %s: %d %s", u, a.code, a.body)
		}
		var l listing
		if err := json.Unmarshal(a.body, &l); err != nil || l.DirectoryListing.RemainingEntries == nil {
			t.Fatalf("GET %s: %s: not a DirectoryListing (%v)", u, a.body, err)
		}
		var names []string
		for _, st := range l.DirectoryListing.PartialListing.FileStatuses.FileStatus {
			names = append(names, st.PathSuffix)
		}
		return names, *l.DirectoryListing.RemainingEntries
	}
	// Hadoop's client pages with the last name it got until none remain.
	var got []string
	after, pages := "", 0
	for {
		names, remaining := page(after)
		got = append(got, names...)
		pages++
		if remaining == 0 {
			break
		}
		if len(names) != 2 || pages > 5 {
			t.Fatalf("page %d after %q: %v with %d remaining", pages, after, names, remaining)
		}
		after = names[len(names)-1]
	}
	if strings.Join(got, ",") != "a,b,c,e,f" || pages != 3 {
		t.Errorf("listing = %v in %d pages, want a,b,c,e,f in 3", got, pages)
	}
	// startAfter need not name an entry: the page starts past it.
	if names, remaining := page("d"); strings.Join(names, ",") != "e,f" || remaining != 0 {
		t.Errorf("startAfter=d: %v, %d remaining; want [e f], 0", names, remaining)
	}
	if names, remaining := page("f"); len(names) != 0 || remaining != 0 {
		t.Errorf("startAfter=f: %v, %d remaining; want nothing", names, remaining)
	}
	wantRemote(t, do(t, "GET", base+"/nope?op=LISTSTATUS_BATCH", nil), 404, "FileNotFoundException", "java.io.FileNotFoundException", "/nope")
}

func TestServerDefaultsAndTrashRoot(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", webhdfs.Handler(webhdfstest.NewMem(), webhdfs.HandlerOptions{DefaultReplication: 2, DefaultBlockSize: 1 << 20, TrashInterval: 1440}))
	srv := serve(t, mux)
	base := srv.URL + webhdfs.PathPrefix
	wantJSON(t, do(t, "GET", base+"/?op=GETSERVERDEFAULTS", nil), 200,
		`{"FsServerDefaults":{"blockSize":1048576,"bytesPerChecksum":512,"checksumType":2,"defaultStoragePolicyId":7,"encryptDataTransfer":false,"fileBufferSize":4096,"keyProviderUri":"","replication":2,"trashInterval":1440,"writePacketSize":65536}}`)
	wantJSON(t, do(t, "GET", base+"/data/x?op=GETTRASHROOT&user.name=alice", nil), 200, `{"Path":"/user/alice/.Trash"}`)
	wantJSON(t, do(t, "GET", base+"/?op=GETTRASHROOT", nil), 200, `{"Path":"/user/dr.who/.Trash"}`)
	// Known ops, so a wrong method is refused as such, not as an unknown op.
	wantRemote(t, do(t, "PUT", base+"/?op=GETSERVERDEFAULTS", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "GETSERVERDEFAULTS is not a valid PUT operation")
}

func TestAttributeOpsAndTruncate(t *testing.T) {
	mem, srv := newServer(t)
	base := srv.URL + webhdfs.PathPrefix
	ctx := context.Background()
	if err := mem.Create(ctx, "/d/f", []byte("0123456789"), false, 0o644, 3, 1024, "u"); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, do(t, "PUT", base+"/d/f?op=SETREPLICATION&replication=2", nil), 200, `{"boolean":true}`)
	wantJSON(t, do(t, "PUT", base+"/d?op=SETREPLICATION&replication=2", nil), 200, `{"boolean":false}`)
	wantRemote(t, do(t, "PUT", base+"/d/f?op=SETREPLICATION&replication=0", nil), 403, "IOException", "java.io.IOException", "=Requested replication factor of 0 is outside [1, 512] for /d/f")
	wantRemote(t, do(t, "PUT", base+"/d/f?op=SETREPLICATION&replication=x", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "radix-10 short integer")
	if st, _ := mem.GetFileStatus(ctx, "/d/f", "u"); st.Replication != 2 {
		t.Errorf("replication %d, want 2", st.Replication)
	}
	// Absent, the factor is dfs.replication (the handler's default, 3).
	wantJSON(t, do(t, "PUT", base+"/d/f?op=SETREPLICATION", nil), 200, `{"boolean":true}`)
	if st, _ := mem.GetFileStatus(ctx, "/d/f", "u"); st.Replication != 3 {
		t.Errorf("replication %d, want the default 3", st.Replication)
	}

	a := do(t, "PUT", base+"/d/f?op=SETTIMES&modificationtime=1234&accesstime=-1", nil)
	if a.code != 200 || len(a.body) != 0 {
		t.Fatalf("SETTIMES: %d %s", a.code, a.body)
	}
	st, _ := mem.GetFileStatus(ctx, "/d/f", "u")
	if st.ModificationTime != 1234 || st.AccessTime != 1700000000000 {
		t.Errorf("after SETTIMES: m=%d a=%d", st.ModificationTime, st.AccessTime)
	}
	wantRemote(t, do(t, "PUT", base+"/d/f?op=SETTIMES&accesstime=-2", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "accesstime = -2 < -1")
	wantRemote(t, do(t, "PUT", base+"/nope?op=SETTIMES&accesstime=5", nil), 404, "FileNotFoundException", "java.io.FileNotFoundException", "/nope")

	wantJSON(t, do(t, "POST", base+"/d/f?op=TRUNCATE&newlength=4", nil), 200, `{"boolean":true}`)
	if b, _ := mem.Open(ctx, "/d/f", 0, -1, "u"); string(b) != "0123" {
		t.Errorf("after TRUNCATE: %q", b)
	}
	wantRemote(t, do(t, "POST", base+"/d/f?op=TRUNCATE&newlength=9", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "=Cannot truncate to a larger file size. Current size: 4, truncate size: 9.")
	wantRemote(t, do(t, "POST", base+"/d/f?op=TRUNCATE", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "newlength")
	wantRemote(t, do(t, "PUT", base+"/d/f?op=TRUNCATE&newlength=1", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "TRUNCATE is not a valid PUT operation")

	wantJSON(t, do(t, "GET", base+"/d?op=GETQUOTAUSAGE", nil), 200,
		`{"QuotaUsage":{"fileAndDirectoryCount":2,"quota":-1,"spaceConsumed":12,"spaceQuota":-1,"typeQuota":{}}}`)

	wantRemote(t, do(t, "PUT", base+"/link?op=CREATESYMLINK&destination=/d/f", nil), 400, "UnsupportedOperationException", "java.lang.UnsupportedOperationException", "=Symlinks not supported")
	wantRemote(t, do(t, "PUT", base+"/link?op=CREATESYMLINK", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "destination")
}

func TestConcat(t *testing.T) {
	mem, srv := newServer(t)
	base := srv.URL + webhdfs.PathPrefix
	ctx := context.Background()
	for p, data := range map[string]string{"/d/t": "T", "/d/a": "aa", "/d/b": "bbb"} {
		if err := mem.Create(ctx, p, []byte(data), false, 0o644, 1, 1024, "u"); err != nil {
			t.Fatal(err)
		}
	}
	wantRemote(t, do(t, "POST", base+"/d/t?op=CONCAT", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "=Required param sources for op: CONCAT is null or empty")
	wantRemote(t, do(t, "POST", base+"/d/t?op=CONCAT&sources=/d/../x", nil), 400, "InvalidPathException", "org.apache.hadoop.fs.InvalidPathException", "/d/../x")
	wantRemote(t, do(t, "POST", base+"/d/t?op=CONCAT&sources=/d/t", nil), 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "/d/t")
	a := do(t, "POST", base+"/d/t?op=CONCAT&sources=/d/b,/d/a", nil)
	if a.code != 200 || len(a.body) != 0 {
		t.Fatalf("CONCAT: %d %s", a.code, a.body)
	}
	if b, _ := mem.Open(ctx, "/d/t", 0, -1, "u"); string(b) != "Tbbbaa" {
		t.Errorf("target %q, want Tbbbaa", b)
	}
	if _, err := mem.GetFileStatus(ctx, "/d/a", "u"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Errorf("source kept: %v", err)
	}
}
