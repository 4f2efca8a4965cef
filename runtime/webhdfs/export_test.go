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

// Active is the address of the NameNode the client tries first; the
// failover tests read it, nothing else needs it.
func (c *Client) Active() string { return c.addrs[c.active.Load()] }

// ActiveCacheNameForTest is the cache file name of a nameservice and NameNode list.
func ActiveCacheNameForTest(nameservice string, addrs []string) string {
	return activeCacheName(nameservice, addrs)
}
