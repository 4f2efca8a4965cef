package journal

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/httpserve"
	"github.com/hactl/hactl/runtime/rpc"
)

// Config is a JournalNode's configuration, read from Hadoop's keys.
type Config struct {
	EditsDir     string              // dfs.journalnode.edits.dir
	RPCAddr      string              // dfs.journalnode.rpc-address
	HTTPAddr     string              // dfs.journalnode.http-address
	Secret       []byte              // from hactl.cluster.secret.file
	CacheBytes   int                 // dfs.journalnode.edit-cache-size.bytes
	SyncEnabled  bool                // dfs.journalnode.enable.sync
	SyncInterval time.Duration       // dfs.journalnode.sync.interval (ms)
	Quorums      map[string][]string // journal id → JN RPC addresses, from dfs.namenode.shared.edits.dir[.<ns>]
	HTTPLimits   httpserve.Limits    // zero fields: httpserve.Defaults
	AcceptV1     bool                // rpc.AcceptV1Key: also serve (and sync with) journal protocol version 1, for an upgrade
}

// ConfigFromHadoop reads a JournalNode's settings; the secret file must be
// readable by its owner only.
func ConfigFromHadoop(c *hadoopconf.Config) (Config, error) {
	cfg := Config{
		EditsDir: c.Get("dfs.journalnode.edits.dir", "/tmp/hadoop/dfs/journalnode"),
		RPCAddr:  c.Get("dfs.journalnode.rpc-address", "0.0.0.0:8485"),
		HTTPAddr: c.Get("dfs.journalnode.http-address", "0.0.0.0:8480"),
		Quorums:  map[string][]string{},
	}
	secretFile := c.Get(auth.ConfKey, "")
	if secretFile == "" {
		return cfg, fmt.Errorf("%s is not set: the journalnode refuses to run without the cluster secret", auth.ConfKey)
	}
	var err error
	if cfg.Secret, err = auth.LoadSecret(secretFile); err != nil {
		return cfg, err
	}
	if cfg.AcceptV1, err = c.Bool(rpc.AcceptV1Key, false); err != nil {
		return cfg, err
	}
	cb, err := c.Int("dfs.journalnode.edit-cache-size.bytes", 1<<20)
	if err != nil {
		return cfg, err
	}
	cfg.CacheBytes = int(cb)
	if cfg.SyncEnabled, err = c.Bool("dfs.journalnode.enable.sync", true); err != nil {
		return cfg, err
	}
	if cfg.SyncInterval, err = c.Millis("dfs.journalnode.sync.interval", 2*time.Minute); err != nil {
		return cfg, err
	}
	keys := []string{"dfs.namenode.shared.edits.dir"}
	for _, ns := range c.Strings("dfs.nameservices") {
		keys = append(keys, "dfs.namenode.shared.edits.dir."+ns)
	}
	for _, k := range keys {
		uri := c.Get(k, "")
		if uri == "" || !strings.HasPrefix(uri, "qjournal://") {
			continue
		}
		addrs, jid, err := parseQJournalURI(uri)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", k, err)
		}
		cfg.Quorums[jid] = addrs
	}
	return cfg, nil
}

// parseQJournalURI is qjm.ParseURI (kept here so the JN does not import the client).
func parseQJournalURI(uri string) ([]string, string, error) {
	rest := strings.TrimPrefix(strings.TrimSpace(uri), "qjournal://")
	hosts, jid, ok := strings.Cut(rest, "/")
	jid = strings.Trim(jid, "/")
	if !ok || jid == "" {
		return nil, "", fmt.Errorf("%q: want qjournal://host:port;host:port/journalId", uri)
	}
	var addrs []string
	for _, h := range strings.Split(hosts, ";") {
		if h = strings.TrimSpace(h); h != "" {
			if !strings.Contains(h, ":") {
				h += ":8485"
			}
			addrs = append(addrs, h)
		}
	}
	return addrs, jid, nil
}

// Daemon is a running JournalNode.
type Daemon struct {
	Node     *Node
	RPCAddr  net.Addr
	HTTPAddr net.Addr
	rpcSrv   *rpc.Server
	httpSrv  *http.Server
	cancel   context.CancelFunc
	done     chan struct{}
}

// Start listens on the RPC and HTTP addresses and serves until Close.
func Start(cfg Config, logger *log.Logger) (*Daemon, error) {
	rln, err := net.Listen("tcp", cfg.RPCAddr)
	if err != nil {
		return nil, fmt.Errorf("journalnode rpc-address: %w", err)
	}
	hln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		rln.Close()
		return nil, fmt.Errorf("journalnode http-address: %w", err)
	}
	node, err := NewNode(Options{Dir: cfg.EditsDir, HTTPAddr: advertised(hln.Addr(), cfg.HTTPAddr), Secret: cfg.Secret, CacheBytes: cfg.CacheBytes, Log: logger})
	if err != nil {
		rln.Close()
		hln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Daemon{
		Node: node, RPCAddr: rln.Addr(), HTTPAddr: hln.Addr(), cancel: cancel, done: make(chan struct{}),
		rpcSrv: &rpc.Server{Secret: cfg.Secret, Handler: node.Handle, Log: logger, AcceptV1: cfg.AcceptV1},
	}
	go d.rpcSrv.Serve(rln)
	d.httpSrv = httpserve.Start(hln, node.HTTPHandler(), cfg.HTTPLimits.OrDefaults(), logger)
	syncer := &Syncer{Node: node, Journals: map[string][]Peer{}, Interval: cfg.SyncInterval, Log: logger}
	for jid, addrs := range cfg.Quorums {
		for _, a := range addrs {
			if sameAddr(a, rln.Addr()) {
				continue
			}
			c := &rpc.Client{Addr: a, Secret: cfg.Secret, AcceptV1: cfg.AcceptV1}
			syncer.Journals[jid] = append(syncer.Journals[jid], Peer{Addr: a, Call: c.Call})
		}
	}
	go func() {
		defer close(d.done)
		if cfg.SyncEnabled && len(syncer.Journals) > 0 && cfg.SyncInterval > 0 {
			syncer.Run(ctx)
		}
	}()
	if logger != nil {
		logger.Printf("journalnode serving %s on rpc %s, http %s", cfg.EditsDir, rln.Addr(), hln.Addr())
	}
	return d, nil
}

// Close stops serving and closes the journals' files.
func (d *Daemon) Close() error {
	d.cancel()
	d.rpcSrv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.httpSrv.Shutdown(sctx)
	<-d.done
	d.Node.Close()
	return nil
}

// advertised turns a bound address into one peers can reach.
func advertised(bound net.Addr, configured string) string {
	host, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, _, err := net.SplitHostPort(configured); err == nil && h != "" && net.ParseIP(h) == nil {
			host = h
		} else if hn, err := os.Hostname(); err == nil {
			host = hn
		}
	}
	return net.JoinHostPort(host, port)
}

func sameAddr(a string, own net.Addr) bool {
	if a == own.String() {
		return true
	}
	ta, err := net.ResolveTCPAddr("tcp", a)
	if err != nil {
		return false
	}
	to, ok := own.(*net.TCPAddr)
	return ok && ta.Port == to.Port && (ta.IP.Equal(to.IP) || (to.IP.IsUnspecified() && ta.IP.IsLoopback()))
}

// Run serves the JournalNode configured by conf until ctx ends (SIGTERM).
func Run(ctx context.Context, conf *hadoopconf.Config, logger *log.Logger) error {
	cfg, err := ConfigFromHadoop(conf)
	if err != nil {
		return fmt.Errorf("journalnode: %w", err)
	}
	d, err := Start(cfg, logger)
	if err != nil {
		return err
	}
	<-ctx.Done()
	if logger != nil {
		logger.Printf("journalnode stopping")
	}
	err = d.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
