package webhdfs

import (
	"net/url"
	"strings"
	"sync"
)

// query is a request's parsed query string: the pairs in order, as
// url.ParseQuery would give them (pairs split on '&', keys and values
// unescaped, a pair that does not unescape or holds a ';' dropped), without
// its map and per-key slices: a WebHDFS request carries two to six
// parameters and the handler looks each up at most a few times, so a linear
// scan of a pooled slice is cheaper than building url.Values per request.
type query struct {
	kv []queryPair
}

type queryPair struct{ k, v string }

var queryPool = sync.Pool{New: func() any { return &query{kv: make([]queryPair, 0, 8)} }}

// parseQuery parses raw into a pooled query; release it after the request.
func parseQuery(raw string) *query {
	q := queryPool.Get().(*query)
	q.kv = q.kv[:0]
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue // url.ParseQuery skips these too
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok1 := unescapeQuery(k)
		v, ok2 := unescapeQuery(v)
		if !ok1 || !ok2 {
			continue
		}
		q.kv = append(q.kv, queryPair{k, v})
	}
	return q
}

func (q *query) release() {
	clear(q.kv) // drop the strings for the GC
	queryPool.Put(q)
}

// unescapeQuery is url.QueryUnescape, without allocating when s holds no
// escape ('%' or '+').
func unescapeQuery(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// Get returns the first value of key, "" when absent (url.Values.Get).
func (q *query) Get(key string) string {
	for _, p := range q.kv {
		if p.k == key {
			return p.v
		}
	}
	return ""
}

// values returns the pairs as url.Values (for re-encoding a redirect).
func (q *query) values() url.Values {
	v := make(url.Values, len(q.kv)+1)
	for _, p := range q.kv {
		v[p.k] = append(v[p.k], p.v)
	}
	return v
}
