package dnweb

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/dfsclient"
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

// FromConfig is the data path of a DataNode configured by Hadoop XML: the
// nameservices and secret of ConfigResolver, the client keys of
// dfsclient.OptionsFromConfig (dfs.client-write-packet-size,
// dfs.client.socket-timeout, …), the dfs.client.failover.* keys.
func FromConfig(conf *hadoopconf.Config, logf func(format string, args ...any)) (http.Handler, error) {
	resolve, err := ConfigResolver(conf, nnrpc.ClientOptions{Logf: logf})
	if err != nil {
		return nil, err
	}
	copts, err := dfsclient.OptionsFromConfig(conf)
	if err != nil {
		return nil, err
	}
	copts.Logf = logf
	return Handler(resolve, Options{Client: copts, IdleTimeout: copts.SocketTimeout, Logf: logf}), nil
}
