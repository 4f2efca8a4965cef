// Package proccluster runs a small HA nameservice from the hactl binary on
// one machine, as separate processes on loopback addresses: three
// JournalNodes and two or more NameNodes (formatted, bootstrapped, nn1
// active, manual failover). The native-client acceptance tests
// (e2e/nativeclient, a module of its own) and the native RPC benchmark
// (bench/nativerpc) start it; it writes a client conf dir that Hadoop-style
// clients take as HADOOP_CONF_DIR (fs.defaultFS=hdfs://<nameservice>).
//
// Addresses are fixed per caller (IPPrefix), so callers run under the
// integration lock (TESTING.md).
package proccluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe the cluster to start.
type Options struct {
	Bin       string // the hactl binary
	Dir       string // scratch dir (confs, data, logs)
	IPPrefix  string // "127.0.21.": JNs on .1-.3, NameNodes on .11, .12, …
	NameNodes int    // default 2
	// DataNodes started after the NameNodes (on .21, .22, …), each
	// registered with every NameNode before Start returns; with any, the
	// NameNodes keep no file data inline (max-inline-file-bytes 0, as
	// hactl render writes it with DataNodes).
	DataNodes int
	// Host, when set, gives the IP a daemon ("jn1", "nn2") listens on
	// instead of IPPrefix's; Wrap, when set, a command prefix to start it
	// with (`ip netns exec NS` puts a NameNode on a namespace host).
	Host func(daemon string) string
	Wrap func(daemon string) []string
	// Extra keys for every daemon's hdfs-site.xml and the client conf.
	Extra map[string]string
	Logf  func(format string, args ...any)
}

// Cluster is a running nameservice.
type Cluster struct {
	opts        Options
	Nameservice string
	ClientConf  string   // HADOOP_CONF_DIR for clients
	NNIDs       []string // nn1, nn2, …
	RPC         map[string]string
	HTTP        map[string]string
	// DataNodeAddrs are the DataNodes' transfer addresses (dfs.datanode.address).
	DataNodeAddrs []string

	mu    sync.Mutex
	procs map[string]*exec.Cmd
	logs  map[string]string
}

// Ports: JournalNode i listens on jnRPCPort+i and jnHTTPPort+i, so the
// three may share one IP; NameNodes on nnRPCPort and nnHTTPPort.
const (
	jnRPCPort  = 28480
	jnHTTPPort = 28490
	nnRPCPort  = 28020
	nnHTTPPort = 29870
	dnXferPort = 29866
	dnHTTPPort = 29864
	dnIPCPort  = 29867
)

func (o Options) host(daemon string, i int) string {
	if o.Host != nil {
		if h := o.Host(daemon); h != "" {
			return h
		}
	}
	return fmt.Sprintf("%s%d", o.IPPrefix, i)
}

// Start writes the confs, starts the JournalNodes, formats nn1, starts it,
// bootstraps and starts the others and makes nn1 active.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.NameNodes == 0 {
		o.NameNodes = 2
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	c := &Cluster{opts: o, Nameservice: "nativens", ClientConf: filepath.Join(o.Dir, "client-conf"),
		RPC: map[string]string{}, HTTP: map[string]string{}, procs: map[string]*exec.Cmd{}, logs: map[string]string{}}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	secret := filepath.Join(o.Dir, "cluster.secret")
	if err := os.WriteFile(secret, []byte("proccluster-secret-0123456789abcdef"), 0o600); err != nil {
		return nil, err
	}
	var jns []string
	for i := 1; i <= 3; i++ {
		jns = append(jns, fmt.Sprintf("%s:%d", o.host(fmt.Sprintf("jn%d", i), i), jnRPCPort+i))
	}
	for i := 1; i <= o.NameNodes; i++ {
		id := fmt.Sprintf("nn%d", i)
		c.NNIDs = append(c.NNIDs, id)
		c.RPC[id] = fmt.Sprintf("%s:%d", o.host(id, 10+i), nnRPCPort)
		c.HTTP[id] = fmt.Sprintf("%s:%d", o.host(id, 10+i), nnHTTPPort)
	}
	ns := c.Nameservice
	base := map[string]string{
		"dfs.nameservices":                         ns,
		"dfs.ha.namenodes." + ns:                   strings.Join(c.NNIDs, ","),
		"dfs.namenode.shared.edits.dir":            "qjournal://" + strings.Join(jns, ";") + "/" + ns,
		"hactl.cluster.secret.file":                secret,
		"dfs.ha.tail-edits.period":                 "10ms",
		"dfs.ha.tail-edits.in-progress":            "true",
		"dfs.ha.automatic-failover.enabled":        "false",
		"dfs.client.failover.proxy.provider." + ns: "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider",
		"dfs.replication":                          "1",
		"dfs.namenode.checkpoint.txns":             "1000000",
		"dfs.namenode.num.extra.edits.retained":    "1000000",
		"hactl.namenode.max-inline-file-bytes":     "1048576",
		"dfs.namenode.name.dir":                    "", // per NameNode below
		"dfs.journalnode.edits.dir":                "", // per JournalNode below
		"dfs.journalnode.rpc-address":              "",
		"dfs.journalnode.http-address":             "",
	}
	for _, id := range c.NNIDs {
		base["dfs.namenode.rpc-address."+ns+"."+id] = c.RPC[id]
		base["dfs.namenode.http-address."+ns+"."+id] = c.HTTP[id]
		base["dfs.namenode.name.dir."+ns+"."+id] = filepath.Join(o.Dir, id, "name")
	}
	if o.DataNodes > 0 {
		base["hactl.namenode.max-inline-file-bytes"] = "0"
	}
	for k, v := range o.Extra {
		base[k] = v
	}
	core := map[string]string{"fs.defaultFS": "hdfs://" + ns, "hactl.cluster.secret.file": secret}
	client := map[string]string{}
	for k, v := range base {
		if v != "" {
			client[k] = v
		}
	}
	if err := writeConf(c.ClientConf, core, client); err != nil {
		return nil, err
	}
	for i := 1; i <= 3; i++ {
		hs := copyMap(client)
		hs["dfs.journalnode.edits.dir"] = filepath.Join(o.Dir, fmt.Sprintf("jn%d", i), "data")
		hs["dfs.journalnode.rpc-address"] = jns[i-1]
		hs["dfs.journalnode.http-address"] = fmt.Sprintf("%s:%d", o.host(fmt.Sprintf("jn%d", i), i), jnHTTPPort+i)
		if err := writeConf(c.conf(fmt.Sprintf("jn%d", i)), core, hs); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("jn%d", i)
		if err := c.start(name, "runtime", "journalnode", "--conf", c.conf(name)); err != nil {
			return nil, err
		}
	}
	for _, jn := range jns {
		if err := waitPort(ctx, jn); err != nil {
			return nil, c.withLogs(err)
		}
	}
	if out, err := c.Run(ctx, "runtime", "format", "--conf", c.ClientConf, "--id", "nn1", "--non-interactive"); err != nil {
		return nil, c.withLogs(fmt.Errorf("format nn1: %v\n%s", err, out))
	}
	if err := c.StartNN(ctx, "nn1"); err != nil {
		return nil, err
	}
	for _, id := range c.NNIDs[1:] {
		if out, err := c.Run(ctx, "runtime", "bootstrap-standby", "--conf", c.ClientConf, "--id", id, "--non-interactive"); err != nil {
			return nil, c.withLogs(fmt.Errorf("bootstrap-standby %s: %v\n%s", id, err, out))
		}
		if err := c.StartNN(ctx, id); err != nil {
			return nil, err
		}
	}
	if out, err := c.HAAdmin(ctx, "-transitionToActive", "nn1"); err != nil {
		return nil, c.withLogs(fmt.Errorf("transitionToActive nn1: %v\n%s", err, out))
	}
	for i := 1; i <= o.DataNodes; i++ {
		name := fmt.Sprintf("dn%d", i)
		ip := o.host(name, 20+i)
		hs := copyMap(client)
		hs["dfs.datanode.data.dir"] = filepath.Join(o.Dir, name, "data")
		hs["dfs.datanode.address"] = fmt.Sprintf("%s:%d", ip, dnXferPort)
		hs["dfs.datanode.http.address"] = fmt.Sprintf("%s:%d", ip, dnHTTPPort)
		hs["dfs.datanode.ipc.address"] = fmt.Sprintf("%s:%d", ip, dnIPCPort)
		hs["dfs.datanode.hostname"] = ip
		if err := writeConf(c.conf(name), core, hs); err != nil {
			return nil, err
		}
		if err := c.start(name, "runtime", "datanode", "--conf", c.conf(name)); err != nil {
			return nil, err
		}
		c.DataNodeAddrs = append(c.DataNodeAddrs, hs["dfs.datanode.address"])
	}
	if err := c.waitDataNodes(ctx); err != nil {
		return nil, c.withLogs(err)
	}
	ok = true
	return c, nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (c *Cluster) conf(name string) string { return filepath.Join(c.opts.Dir, name, "conf") }

// writeConf writes core-site.xml and hdfs-site.xml, keys sorted.
func writeConf(dir string, core, hdfs map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, m := range map[string]map[string]string{"core-site.xml": core, "hdfs-site.xml": hdfs} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("<?xml version=\"1.0\"?>\n<configuration>\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  <property><name>%s</name><value>%s</value></property>\n", xmlEscape(k), xmlEscape(m[k]))
		}
		b.WriteString("</configuration>\n")
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (c *Cluster) start(name string, args ...string) error {
	logPath := filepath.Join(c.opts.Dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	argv := append([]string{c.opts.Bin}, args...)
	if c.opts.Wrap != nil {
		argv = append(c.opts.Wrap(name), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[name], c.logs[name] = cmd, logPath
	c.mu.Unlock()
	return nil
}

// StartNN starts (or restarts) NameNode id and waits for its ports.
func (c *Cluster) StartNN(ctx context.Context, id string) error {
	if err := c.start(id, "runtime", "namenode", "--conf", c.ClientConf, "--id", id); err != nil {
		return err
	}
	for _, a := range []string{c.HTTP[id], c.RPC[id]} {
		if err := waitPort(ctx, a); err != nil {
			return c.withLogs(fmt.Errorf("namenode %s: %w", id, err))
		}
	}
	return nil
}

// Pid is the process id of a daemon (0 when it is not running).
func (c *Cluster) Pid(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.procs[name]; p != nil {
		return p.Process.Pid
	}
	return 0
}

// Stop signals a daemon and waits up to 10 s for it to exit (then kills it).
func (c *Cluster) Stop(name string, sig syscall.Signal) error {
	c.mu.Lock()
	cmd := c.procs[name]
	delete(c.procs, name)
	c.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within 10s of %v", name, sig)
	}
}

// Close kills every daemon.
func (c *Cluster) Close() {
	c.mu.Lock()
	var names []string
	for n := range c.procs {
		names = append(names, n)
	}
	c.mu.Unlock()
	for _, n := range names {
		c.Stop(n, syscall.SIGKILL)
	}
}

// Run runs a one-shot hactl command and returns its combined output.
func (c *Cluster) Run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.opts.Bin, args...)
	cmd.Stdin = strings.NewReader("")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(c.opts.Dir, "cache"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// HAAdmin runs `hactl runtime haadmin` against the nameservice.
func (c *Cluster) HAAdmin(ctx context.Context, args ...string) (string, error) {
	return c.Run(ctx, append([]string{"runtime", "haadmin", "--conf", c.ClientConf}, args...)...)
}

// Logs returns the tail of every daemon's log, for a failure message.
func (c *Cluster) Logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	names := make([]string, 0, len(c.logs))
	for n := range c.logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, _ := os.ReadFile(c.logs[n])
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "=== %s (tail) ===\n%s\n", n, data)
	}
	return b.String()
}

func (c *Cluster) withLogs(err error) error { return fmt.Errorf("%w\n%s", err, c.Logs()) }

func waitPort(ctx context.Context, addr string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not start listening within 20s", addr)
}

// Build compiles the hactl binary of the module rooted at root into dir.
func Build(root, dir string) (string, error) {
	bin := filepath.Join(dir, "hactl")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hactl")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// StartDN restarts DataNode name ("dn2", after Stop) with the
// configuration Start wrote and waits for its transfer port.
func (c *Cluster) StartDN(ctx context.Context, name string) error {
	var i int
	if _, err := fmt.Sscanf(name, "dn%d", &i); err != nil || i < 1 || i > len(c.DataNodeAddrs) {
		return fmt.Errorf("no DataNode %s", name)
	}
	if err := c.start(name, "runtime", "datanode", "--conf", c.conf(name)); err != nil {
		return err
	}
	if err := waitPort(ctx, c.DataNodeAddrs[i-1]); err != nil {
		return c.withLogs(fmt.Errorf("datanode %s: %w", name, err))
	}
	return nil
}

// DataDir is DataNode name's data dir (dfs.datanode.data.dir).
func (c *Cluster) DataDir(name string) string { return filepath.Join(c.opts.Dir, name, "data") }

// waitDataNodes waits until every NameNode counts every DataNode live
// (NumLiveDataNodes in its /jmx), so a client's first block finds them.
func (c *Cluster) waitDataNodes(ctx context.Context) error {
	if c.opts.DataNodes == 0 {
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range c.NNIDs {
		for {
			n, err := c.liveDataNodes(ctx, id)
			if err == nil && n >= c.opts.DataNodes {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("namenode %s counts %d of %d DataNodes live after 30s (%v)", id, n, c.opts.DataNodes, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

var liveRE = regexp.MustCompile(`"NumLiveDataNodes"\s*:\s*(\d+)`)

func (c *Cluster) liveDataNodes(ctx context.Context, id string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.HTTP[id]+"/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	m := liveRE.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no NumLiveDataNodes in %s's FSNamesystem bean", id)
	}
	return strconv.Atoi(string(m[1]))
}
