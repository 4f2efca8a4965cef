package namenode

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/qjm"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// Env is what the NameNode's commands (run, format, bootstrap-standby,
// initialize-shared-edits) resolve from a configuration dir and a NameNode
// ID: the Hadoop configuration, this NameNode's Config and the cluster
// secret.
type Env struct {
	Conf   *hadoopconf.Config
	Config Config
	Secret []byte
}

// LoadEnv reads core-site.xml and hdfs-site.xml from confDir and resolves
// NameNode id of nameservice ns ("" = the one listing id) and the cluster
// secret they name.
func LoadEnv(confDir, ns, id string) (*Env, error) {
	conf, err := hadoopconf.LoadDir(confDir)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(conf, ns, id)
	if err != nil {
		return nil, err
	}
	secretFile := conf.Get(auth.ConfKey, "")
	if secretFile == "" {
		return nil, fmt.Errorf("%s is not set: the NameNode needs the cluster secret", auth.ConfKey)
	}
	secret, err := auth.LoadSecret(secretFile)
	if err != nil {
		return nil, err
	}
	cfg.Secret = secret
	// The daemon reads the rest of its keys as this NameNode's.
	conf = hadoopconf.NameNodeView(conf, cfg.Nameservice, cfg.ID)
	return &Env{Conf: conf, Config: cfg, Secret: secret}, nil
}

// OpenJournal returns the quorum journal of the NameNode's nameservice
// (connections are made on first use).
func (e *Env) OpenJournal() (Journal, error) {
	qc, err := qjm.ConfigFromHadoop(e.Conf, e.Config.Nameservice, e.Secret)
	if err != nil {
		return nil, err
	}
	m, err := qjm.New(qc)
	if err != nil {
		return nil, fmt.Errorf("quorum journal client: %w", err)
	}
	return NewQJMJournal[*qjm.Writer](m), nil
}

// Run serves the NameNode of env (namespace, quorum journal, WebHDFS, /jmx,
// HA admin on its HTTP address) until ctx ends, then stops it cleanly.
func Run(ctx context.Context, env *Env, logger *log.Logger) error {
	c := env.Conf
	j, err := env.OpenJournal()
	if err != nil {
		return fmt.Errorf("namenode: %w", err)
	}
	defer j.Close()
	allowStale, err := c.Bool("dfs.ha.allow.stale.reads", false)
	if err != nil {
		return err
	}
	roll, err := c.Seconds("dfs.ha.log-roll.period", 2*time.Minute)
	if err != nil {
		return err
	}
	extra, err := c.Int("dfs.namenode.num.extra.edits.retained", 1000000)
	if err != nil {
		return err
	}
	nn := New(env.Config, j, Options{Logf: logger.Printf, AllowStale: allowStale, RollPeriod: roll, ExtraEdits: extra})
	client := NewClient(env.Secret, 5*time.Minute)
	nn.Upload = client.UploadImage
	repl, _ := c.Int("dfs.replication", 3)
	lsLimit, err := c.Int("dfs.ls.limit", 1000)
	if err != nil {
		return err
	}
	// GETSERVERDEFAULTS tells clients the NameNode's own fs.trash.interval,
	// as Hadoop's FSNamesystem reads it (a long, in minutes).
	trash, err := c.Int("fs.trash.interval", 0)
	if err != nil {
		return err
	}
	whOpts := webhdfs.HandlerOptions{
		DefaultReplication: int16(repl),
		DefaultBlockSize:   c.Size("dfs.blocksize", 128<<20),
		ListLimit:          int(min(max(lsLimit, 1), 1<<20)),
		TrashInterval:      trash,
		Logf:               logger.Printf,
	}
	wh := nn.WebHDFSHandler(whOpts)
	// Native RPC (ClientNamenodeProtocol, HAServiceProtocol) on the
	// rpc-address, as Hadoop's NameNode; it binds before HTTP so a port
	// taken by something else stops the start.
	rpcSrv, rpcAddrs, err := StartIPC(c, nn, whOpts, logger.Printf)
	if err != nil {
		return fmt.Errorf("namenode: %w", err)
	}
	if rpcSrv != nil {
		defer rpcSrv.Close()
		logger.Printf("namenode %s of %s: native RPC on %s", env.Config.ID, env.Config.Nameservice, strings.Join(rpcAddrs, ", "))
	}
	ln, err := net.Listen("tcp", env.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("namenode: listen on %s: %w", env.Config.HTTPAddr, err)
	}
	srv := nn.StartHTTP(ln, wh)
	logger.Printf("namenode %s of %s: HTTP on %s", env.Config.ID, env.Config.Nameservice, env.Config.HTTPAddr)

	runErr := nn.Run(ctx)
	if rpcSrv != nil {
		rpcSrv.Close()
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("namenode: %w", runErr)
	}
	logger.Printf("namenode %s: stopped", env.Config.ID)
	return nil
}
