package webhdfs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// fuzzMethods are the methods a fuzzed request may use (an index, so the
// fuzzer does not spend its time on method strings net/http would refuse).
var fuzzMethods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodHead, http.MethodOptions}

// FuzzHandlerQuery feeds the WebHDFS handler arbitrary paths, query strings
// (op, numeric parameters, permissions, booleans, user.name, destination…)
// and bodies over an in-memory namespace holding a few files. The handler
// must never panic, must answer every failure with a RemoteException of a
// 4xx status and never with an internal error (one no sentinel maps: 403 as
// Hadoop's, but logged, and here a failure: a client caused it), and its
// query parser must agree with url.ParseQuery.
//
//	go test -run '^$' -fuzz FuzzHandlerQuery -fuzztime 5m ./runtime/webhdfs
func FuzzHandlerQuery(f *testing.F) {
	for _, s := range []struct {
		method uint8
		path   string
		query  string
		body   string
	}{
		{0, "/webhdfs/v1/d/f", "op=OPEN&offset=1&length=9223372036854775807&datanode=true", ""},
		{0, "/webhdfs/v1/d/f", "op=open&offset=-1&length=-2", ""},
		{0, "/webhdfs/v1/d", "op=LISTSTATUS&user.name=alice", ""},
		{0, "/webhdfs/v1/", "op=GETCONTENTSUMMARY", ""},
		{0, "/webhdfs/v1/d/f", "op=GETFILESTATUS", ""},
		{0, "/webhdfs/v1", "op=GETHOMEDIRECTORY&user.name=%00", ""},
		{1, "/webhdfs/v1/d/g", "op=CREATE&overwrite=true&permission=1777&replication=3&blocksize=1048576&buffersize=4096&datanode=true", "data"},
		{1, "/webhdfs/v1/d/g", "op=CREATE&noredirect=true&replication=0", ""},
		{1, "/webhdfs/v1/a/b", "op=MKDIRS&permission=0755", ""},
		{1, "/webhdfs/v1/d/f", "op=RENAME&destination=/d/../x", ""},
		{1, "/webhdfs/v1/d/f", "op=SETPERMISSION&permission=9", ""},
		{1, "/webhdfs/v1/d/f", "op=SETOWNER&owner=bob&group=", ""},
		{2, "/webhdfs/v1/d/f", "op=APPEND&datanode=true", "more"},
		{3, "/webhdfs/v1/d", "op=DELETE&recursive=TRUE", ""},
		{4, "/webhdfs/v1/d/f", "op=OPEN&datanode=true", ""},
		{5, "/webhdfs/v1/x:y", "op=;&%zz", ""},
		{0, "/webhdfs/v1/d", "op=LISTSTATUS_BATCH&startAfter=f", ""},
		{0, "/webhdfs/v1/d", "op=GETQUOTAUSAGE", ""},
		{0, "/webhdfs/v1/d/f", "op=GETSERVERDEFAULTS", ""},
		{0, "/webhdfs/v1/d/f", "op=GETTRASHROOT&user.name=bob", ""},
		{1, "/webhdfs/v1/d/f", "op=SETREPLICATION&replication=-3", ""},
		{1, "/webhdfs/v1/d/f", "op=SETTIMES&modificationtime=-1&accesstime=5", ""},
		{1, "/webhdfs/v1/d/l", "op=CREATESYMLINK&destination=/d/f", ""},
		{2, "/webhdfs/v1/d/f", "op=TRUNCATE&newlength=3", ""},
		{2, "/webhdfs/v1/d/f", "op=CONCAT&sources=/d/f,/d", ""},
	} {
		f.Add(s.method, s.path, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method uint8, path, rawQuery string, body []byte) {
		checkParseQuery(t, rawQuery)

		mem := webhdfstest.NewMem()
		ctx := context.Background()
		if err := mem.Mkdirs(ctx, "/d", 0o755, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := mem.Create(ctx, "/d/f", []byte("0123456789"), false, 0o600, 1, 1024, "alice"); err != nil {
			t.Fatal(err)
		}
		var internal []string
		h := webhdfs.Handler(mem, webhdfs.HandlerOptions{MaxDataBytes: 64, Logf: func(f string, a ...any) {
			internal = append(internal, fmt.Sprintf(f, a...))
		}})
		r := &http.Request{
			Method: fuzzMethods[int(method)%len(fuzzMethods)],
			URL:    &url.URL{Path: path, RawQuery: rawQuery},
			Host:   "nn1:9870",
			Header: http.Header{},
			Body:   http.NoBody,
		}
		if len(body) > 0 {
			r.Body = readCloser{bytes.NewReader(body)}
			r.ContentLength = int64(len(body))
		}
		r = r.WithContext(ctx)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)

		code := w.Code
		if len(internal) > 0 {
			t.Fatalf("%s %s?%s: internal error %v (status %d)", r.Method, path, rawQuery, internal, code)
		}
		switch {
		case code == http.StatusOK || code == http.StatusCreated || code == http.StatusTemporaryRedirect:
		case code >= 400 && code < 500:
			var re struct{ RemoteException webhdfs.RemoteException }
			if err := json.Unmarshal(w.Body.Bytes(), &re); err != nil || re.RemoteException.Exception == "" || re.RemoteException.Message == "" {
				t.Fatalf("%s %s?%s: %d with a body that is no RemoteException: %q (%v)", r.Method, path, rawQuery, code, w.Body.Bytes(), err)
			}
		default:
			t.Fatalf("%s %s?%s: status %d: %s", r.Method, path, rawQuery, code, w.Body.Bytes())
		}
		if code == http.StatusTemporaryRedirect {
			if _, err := url.Parse(w.Header().Get("Location")); err != nil {
				t.Fatalf("%s %s?%s: Location %q does not parse: %v", r.Method, path, rawQuery, w.Header().Get("Location"), err)
			}
		}
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// checkParseQuery is TestParseQueryMatchesNetURL for one input.
func checkParseQuery(t *testing.T, raw string) {
	want, _ := url.ParseQuery(raw)
	got, get := webhdfs.ParseQueryForTest(raw)
	if len(want) == 0 {
		want = url.Values{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: parsed %v, net/url %v", raw, got, want)
	}
	for k := range want {
		if get(k) != want.Get(k) {
			t.Fatalf("%q: Get(%q) = %q, want %q", raw, k, get(k), want.Get(k))
		}
	}
}
