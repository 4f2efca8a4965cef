package webhdfs

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// parseQuery must see what url.ParseQuery (r.URL.Query()) sees.
func TestParseQueryMatchesNetURL(t *testing.T) {
	for _, raw := range []string{
		"", "op=GETFILESTATUS", "op=getfilestatus&user.name=bench", "op=MKDIRS&permission=755&user.name=a%20b",
		"a=1&a=2&b", "&&op=x&", "k=v+w&x=%2F%3D", "bad=%zz&op=OPEN", "%zz=1&op=2", "a=1;b=2&op=LISTSTATUS",
		"=v&op=", "destination=%2Fa%2Fb%26c&op=RENAME", "x==y", "noredirect=true&datanode=true&op=CREATE",
	} {
		want, _ := url.ParseQuery(raw)
		q := parseQuery(raw)
		got := q.values()
		if len(want) == 0 {
			want = url.Values{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: parsed %v, net/url %v", raw, got, want)
		}
		for k := range want {
			if q.Get(k) != want.Get(k) {
				t.Errorf("%q: Get(%q) = %q, want %q", raw, k, q.Get(k), want.Get(k))
			}
		}
		if q.Get("absent") != "" {
			t.Errorf("%q: absent key has a value", raw)
		}
		q.release()
	}
}

func TestUpperASCII(t *testing.T) {
	for _, in := range []string{"GETFILESTATUS", "mkdirs", "Open", "", "ǆ", "getﬁlestatus"} {
		if got, want := upperASCII(in), strings.ToUpper(in); got != want {
			t.Errorf("upperASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
