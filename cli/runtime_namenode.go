package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/namenode"
	"github.com/hactl/hactl/runtime/qjm"
	"github.com/hactl/hactl/runtime/webhdfs"
)

func init() { registerRuntime(runtimeNamenodeCommand) }

// nnEnv is what the NameNode commands resolve from --conf and --id.
type nnEnv struct {
	conf   *hadoopconf.Config
	cfg    namenode.Config
	secret []byte
}

func loadNNEnv(confDir, id string) (*nnEnv, error) {
	conf, err := hadoopconf.LoadDir(confDir)
	if err != nil {
		return nil, err
	}
	cfg, err := namenode.LoadConfig(conf, id)
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
	return &nnEnv{conf: conf, cfg: cfg, secret: secret}, nil
}

func (e *nnEnv) openJournal() (namenode.Journal, error) {
	qc, err := qjm.ConfigFromHadoop(e.conf, e.cfg.Nameservice, e.secret)
	if err != nil {
		return nil, err
	}
	m, err := qjm.New(qc)
	if err != nil {
		return nil, fmt.Errorf("quorum journal client: %w", err)
	}
	return namenode.NewQJMJournal[*qjm.Writer](m), nil
}

// confirm asks a Hadoop-style (Y or N) question on stdin.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "%s (Y or N) ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.TrimSpace(strings.ToLower(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// sizeKey reads Hadoop sizes such as dfs.blocksize (134217728, 128m, 1g).
func sizeKey(c *hadoopconf.Config, key string, def int64) int64 {
	v := strings.ToLower(c.Get(key, ""))
	if v == "" {
		return def
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSuffix(v, suffix), m
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n * mult
}

func commonNNFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "conf", Usage: "directory holding core-site.xml and hdfs-site.xml", Required: true},
		&ucli.StringFlag{Name: "id", Usage: "NameNode ID (from dfs.ha.namenodes.<ns>)", Required: true},
	}
}

func runtimeNamenodeCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "namenode",
		Usage: "run an HA NameNode (Hadoop's hdfs namenode): namespace, quorum journal, WebHDFS, /jmx, HA admin",
		Description: "Starts in standby, tails the shared edits and checkpoints; becomes active on\n" +
			"/ha/transitionToActive (haadmin or the ZKFC). Serves WebHDFS, /jmx, a status page and the\n" +
			"signed HA admin calls on dfs.namenode.http-address.<ns>.<id>. SIGTERM stops it cleanly.",
		Flags: commonNNFlags(),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			env, err := loadNNEnv(cmd.String("conf"), cmd.String("id"))
			if err != nil {
				return exitCode(1, fmt.Errorf("namenode: %w", err))
			}
			return runNamenode(ctx, env, cmd.Root().ErrWriter)
		},
	}
}

func runNamenode(ctx context.Context, env *nnEnv, stderr io.Writer) error {
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	c := env.conf
	j, err := env.openJournal()
	if err != nil {
		return exitCode(1, fmt.Errorf("namenode: %w", err))
	}
	defer j.Close()
	allowStale, err := c.Bool("dfs.ha.allow.stale.reads", false)
	if err != nil {
		return exitCode(1, err)
	}
	roll, err := c.Seconds("dfs.ha.log-roll.period", 2*time.Minute)
	if err != nil {
		return exitCode(1, err)
	}
	extra, err := c.Int("dfs.namenode.num.extra.edits.retained", 1000000)
	if err != nil {
		return exitCode(1, err)
	}
	nn := namenode.New(env.cfg, j, namenode.Options{Logf: logger.Printf, AllowStale: allowStale, RollPeriod: roll, ExtraEdits: extra})
	client := namenode.NewClient(env.secret, 5*time.Minute)
	nn.Upload = client.UploadImage
	repl, _ := c.Int("dfs.replication", 3)
	wh := webhdfs.Handler(nn, webhdfs.HandlerOptions{
		DefaultReplication: int16(repl),
		DefaultBlockSize:   sizeKey(c, "dfs.blocksize", 128<<20),
		// Bodies up to 64 MiB reach the namespace, whose error names the
		// hactl.namenode.max-inline-file-bytes key.
		MaxDataBytes: max(env.cfg.MaxInline+1, 64<<20),
		Logf:         logger.Printf,
	})
	ln, err := net.Listen("tcp", env.cfg.HTTPAddr)
	if err != nil {
		return exitCode(1, fmt.Errorf("namenode: listen on %s: %w", env.cfg.HTTPAddr, err))
	}
	srv := &http.Server{Handler: nn.Handler(wh), ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(ln)
	logger.Printf("namenode %s of %s: HTTP on %s", env.cfg.ID, env.cfg.Nameservice, env.cfg.HTTPAddr)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	runErr := nn.Run(ctx)
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return exitCode(1, fmt.Errorf("namenode: %w", runErr))
	}
	logger.Printf("namenode %s: stopped", env.cfg.ID)
	return nil
}
