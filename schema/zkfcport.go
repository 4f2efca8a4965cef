package schema

import (
	"strconv"
	"strings"
)

// ZKFCPort is the port of the ZKFC of NameNode nn of nameservice ns: Hadoop
// resolves dfs.ha.zkfc.port with the .<ns>.<nn> and .<ns> suffixes first,
// which is how federated NameNodes sharing a host give their ZKFCs distinct
// ports.
func (c *Cluster) ZKFCPort(ns, nn string) int {
	if h := c.Hadoop; h != nil {
		for _, k := range []string{KeyZKFCPort + "." + ns + "." + nn, KeyZKFCPort + "." + ns, KeyZKFCPort} {
			if p, err := strconv.Atoi(strings.TrimSpace(h.HDFSSite[k])); err == nil && p > 0 && p < 65536 {
				return p
			}
		}
	}
	return DefaultZKFCPort
}
