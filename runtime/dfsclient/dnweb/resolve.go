package dnweb

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/nnrpc"
	"github.com/hactl/hactl/runtime/webhdfs"
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
		if nn.RPCAddr != "" {
			byAddr[nn.RPCAddr] = nn.Nameservice
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

// WritePacketSize and MaxPacketsInFlight are the packets of the
// DataNode's WebHDFS writes when its configuration does not set
// dfs.client-write-packet-size.
const (
	WritePacketSize    = 1 << 20
	MaxPacketsInFlight = 8
)

// FromConfig is the data path of a DataNode configured by Hadoop XML: the
// nameservices and secret of ConfigResolver, the client keys of
// dfsclient.OptionsFromConfig (dfs.client-write-packet-size,
// dfs.client.socket-timeout, …), the dfs.client.failover.* keys. local,
// when not nil, opens the replicas of the DataNode this handler runs in
// (dfsclient.Options.Local): its reads take them from their files.
func FromConfig(conf *hadoopconf.Config, logf func(format string, args ...any), local dfsclient.LocalDataNode) (http.Handler, error) {
	ropts := nnrpc.ClientOptions{Logf: logf}
	if ip := bindIP(conf); ip != nil {
		// Calls to the NameNode leave from the DataNode's own address, as
		// they would from a host of its own: the NameNode then sees this
		// DataNode as the client machine, places a write's first replica
		// here and sorts this DataNode first for reads (Hadoop's
		// writer-local placement), even when several DataNodes share a
		// machine on loopback addresses.
		t := webhdfs.NewTransport()
		t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}).DialContext
		ropts.HTTPClient = &http.Client{Transport: t}
	}
	resolve, err := ConfigResolver(conf, ropts)
	if err != nil {
		return nil, err
	}
	copts, err := clientOptions(conf)
	if err != nil {
		return nil, err
	}
	copts.Logf = logf
	copts.Local = local
	return Handler(resolve, Options{Client: copts, IdleTimeout: copts.SocketTimeout, Logf: logf}), nil
}

// clientOptions are the DataNode's client keys (dfsclient.OptionsFromConfig)
// with the data path's own packet defaults.
func clientOptions(conf *hadoopconf.Config) (dfsclient.Options, error) {
	copts, err := dfsclient.OptionsFromConfig(conf)
	if err != nil {
		return copts, err
	}
	// Packets of 1 MiB, not a remote client's 64 KiB, unless the
	// DataNode's configuration says otherwise: this writer's pipeline
	// starts in this process, the body arrives at socket speed, and the
	// cost of a packet (a hand-off between goroutines on every DataNode
	// of the pipeline, an ack back) is the same whatever its size —
	// measured with bench/datapath, 64 KiB packets halve a replication-1
	// write's throughput. Hadoop's DataNodes take packets up to 16 MiB.
	// The bytes in flight stay near Hadoop's 80 × 64 KiB.
	if copts.WritePacketSize == 0 {
		copts.WritePacketSize = WritePacketSize
		if copts.MaxPacketsInFlight == 0 {
			copts.MaxPacketsInFlight = MaxPacketsInFlight
		}
	}
	return copts, nil
}

// bindIP is the IP of dfs.datanode.address when it names one (not a
// wildcard, not a host name).
func bindIP(conf *hadoopconf.Config) net.IP {
	host, _, err := net.SplitHostPort(conf.Get("dfs.datanode.address", ""))
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return ip
}
