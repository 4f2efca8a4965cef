package dnweb

import (
	"fmt"
	"sync"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
)

// ConfigResolver resolves a namenoderpcaddress with the DataNode's Hadoop
// configuration: a nameservice of dfs.nameservices, or the RPC or HTTP
// address of one of its NameNodes, which names its nameservice. Each
// nameservice gets one nnrpc client (failing over between its NameNodes),
// signed with the cluster secret (hactl.cluster.secret.file).
func ConfigResolver(conf *hadoopconf.Config, opts nnrpc.ClientOptions) (Resolver, error) {
	secret, err := nnrpc.LoadSecret(conf)
	if err != nil {
		return nil, err
	}
	nns, err := nnrpc.NameNodes(conf)
	if err != nil {
		return nil, err
	}
	byAddr := map[string]string{}
	byNS := map[string][]string{}
	for _, nn := range nns {
		byNS[nn.Nameservice] = append(byNS[nn.Nameservice], nn.HTTPAddr)
		byAddr[nn.HTTPAddr] = nn.Nameservice
		key := "dfs.namenode.rpc-address." + nn.Nameservice
		if nn.ID != "" {
			key += "." + nn.ID
		}
		if a := conf.Get(key, ""); a != "" {
			byAddr[a] = nn.Nameservice
		}
	}
	var mu sync.Mutex
	clients := map[string]*nnrpc.Client{}
	return func(addr string) (hdfs.ClientProtocol, error) {
		ns := addr
		if _, ok := byNS[ns]; !ok {
			if ns, ok = byAddr[addr]; !ok {
				return nil, fmt.Errorf("%s names no nameservice or NameNode of this DataNode's configuration", addr)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[ns]; ok {
			return c, nil
		}
		c, err := nnrpc.NewClient(ns, byNS[ns], secret, opts)
		if err != nil {
			return nil, err
		}
		clients[ns] = c
		return c, nil
	}, nil
}
