package webhdfs

import "net/url"

// ParseQueryForTest exposes the handler's query parser to the external
// tests: the pairs as url.Values and its Get.
func ParseQueryForTest(raw string) (url.Values, func(string) string) {
	q := parseQuery(raw)
	v := q.values()
	get := map[string]string{}
	for k := range v {
		get[k] = q.Get(k)
	}
	q.release()
	return v, func(k string) string { return get[k] }
}
