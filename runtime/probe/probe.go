// Package probe gathers what hactl needs to know about one host that only
// the installed runtime can tell, in one process on that host: the installed
// runtime, config hashes, supervised daemons with their listening ports, the
// NameNodes' HA state over their signed HTTP, and the storage dirs the
// installed configuration names. It does not read storage: the caller's shell
// preflight (targets/preflight.go) is the one reader of what NameNode and
// JournalNode dirs hold, on every host, installed or bare.
package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/auth"
)

// DefaultZooKeeperJar is the file whose presence means Debian's zookeeper
// package is installed.
const DefaultZooKeeperJar = "/usr/share/java/zookeeper.jar"

// Options says where to look.
type Options struct {
	ConfDir    string // core-site.xml, hdfs-site.xml, cluster.secret, zookeeper/zoo.cfg
	RunDir     string // supervisor records
	InstallDir string // <install_dir>/bin/hactl; "" = /opt/hactl
	// Address is this host's address as the config names it (rpc-address
	// hosts are compared with it). "" = any address of this machine's
	// non-loopback interfaces, or its hostname.
	Address string
	// Version is the version of the binary running the probe; Self its path
	// (to tell whether the installed binary is this one).
	Version, Self string
	ZooKeeperJar  string        // default DefaultZooKeeperJar
	HTTPTimeout   time.Duration // per NameNode HA call, default 2 s
	Now           func() time.Time
}

// Report is what `hactl runtime probe` prints (one JSON object): the host as
// observed, without storage facts (NameNodes carry HA state only, no
// JournalNodes), and the storage dirs the installed configuration names, for
// the caller to read.
type Report struct {
	planner.ObservedHost
	Storage *StorageDirs `json:"storage_dirs,omitempty"`
}

// Gather probes this host. Name and Reachable are left for the caller.
// Problems reading one part are recorded in Error (joined) rather than
// aborting: a partial picture with its gaps named beats none.
func Gather(ctx context.Context, opts Options) (*Report, error) {
	if opts.InstallDir == "" {
		opts.InstallDir = "/opt/hactl"
	}
	if opts.ZooKeeperJar == "" {
		opts.ZooKeeperJar = DefaultZooKeeperJar
	}
	if opts.HTTPTimeout <= 0 {
		opts.HTTPTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &gatherer{opts: opts, report: &Report{}, hashes: map[string]string{}}
	g.out = &g.report.ObservedHost
	g.runtime(ctx)
	conf := g.config()
	g.daemons()
	if conf != nil {
		g.namenodes(ctx, conf)
	}
	if _, err := os.Stat(opts.ZooKeeperJar); err == nil {
		g.out.ZooKeeperInstalled = true
	}
	if len(g.errs) > 0 {
		g.out.Error = errors.Join(g.errs...).Error()
	}
	return g.report, nil
}

type gatherer struct {
	opts   Options
	report *Report
	out    *planner.ObservedHost // &report.ObservedHost
	errs   []error
	hashes map[string]string // file path -> sha256, so a binary is hashed once
}

func (g *gatherer) fail(format string, args ...any) {
	g.errs = append(g.errs, fmt.Errorf(format, args...))
}

// fileSHA256 returns the hex sha256 of path ("" and nil when it is absent).
func (g *gatherer) fileSHA256(path string) (string, error) {
	if s, ok := g.hashes[path]; ok {
		return s, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	s := hex.EncodeToString(h.Sum(nil))
	g.hashes[path] = s
	return s, nil
}

func (g *gatherer) runtime(ctx context.Context) {
	bin := filepath.Join(g.opts.InstallDir, "bin", "hactl")
	fi, err := os.Stat(bin)
	if errors.Is(err, os.ErrNotExist) {
		return // not installed
	}
	if err != nil {
		g.fail("runtime binary: %w", err)
		return
	}
	// apply writes bin/hactl.sha256 after a sha256-checked upload; trusting
	// it when it is not older than the binary saves hashing 20 MB per plan.
	sum := ""
	if side, err := os.Stat(bin + ".sha256"); err == nil && !side.ModTime().Before(fi.ModTime()) {
		if b, err := os.ReadFile(bin + ".sha256"); err == nil && len(b) >= 64 {
			sum = string(b[:64])
			g.hashes[bin] = sum
		}
	}
	if sum == "" {
		if sum, err = g.fileSHA256(bin); err != nil {
			g.fail("runtime binary: %w", err)
			return
		}
	}
	g.out.RuntimeSHA256 = sum
	g.out.Supervisor = true // the supervisor ships inside the runtime binary
	self := ""
	if g.opts.Self != "" {
		self, _ = g.fileSHA256(g.opts.Self)
	}
	if self == sum && g.opts.Version != "" {
		g.out.RuntimeVersion = g.opts.Version
		return
	}
	// Probing with an uploaded newer binary: ask the installed one.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		g.fail("installed runtime %s does not run: %w", bin, err)
		g.out.RuntimeVersion = "unknown"
		return
	}
	// "hactl 0.1.0 (go1.26, linux/amd64)"
	f := strings.Fields(string(out))
	if len(f) >= 2 && f[0] == "hactl" {
		g.out.RuntimeVersion = f[1]
	} else {
		g.out.RuntimeVersion = strings.TrimSpace(string(out))
	}
}

// config hashes the files apply writes and loads the Hadoop configuration.
func (g *gatherer) config() *hadoopconf.Config {
	hash := func(key, path string) {
		s, err := g.fileSHA256(path)
		if err != nil {
			g.fail("config %s: %w", key, err)
			return
		}
		if s != "" {
			if g.out.ConfigSHA256 == nil {
				g.out.ConfigSHA256 = map[string]string{}
			}
			g.out.ConfigSHA256[key] = s
		}
	}
	dir := g.opts.ConfDir
	hash("core-site.xml", filepath.Join(dir, "core-site.xml"))
	hash("hdfs-site.xml", filepath.Join(dir, "hdfs-site.xml"))
	zooCfg := filepath.Join(dir, "zookeeper", "zoo.cfg")
	hash("zoo.cfg", zooCfg)
	if dataDir := zooDataDir(zooCfg); dataDir != "" {
		hash("myid", filepath.Join(dataDir, "myid"))
	}
	if _, err := os.Stat(filepath.Join(dir, "core-site.xml")); errors.Is(err, os.ErrNotExist) {
		hash("cluster.secret", filepath.Join(dir, "cluster.secret"))
		return nil // nothing configured yet: a bare host
	}
	conf, err := hadoopconf.LoadDir(dir)
	if err != nil {
		g.fail("config: %w", err)
		return nil
	}
	hash("cluster.secret", conf.Get(auth.ConfKey, filepath.Join(dir, "cluster.secret")))
	return conf
}

// zooDataDir reads dataDir from zoo.cfg ("" when absent).
func zooDataDir(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "dataDir="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// isThisHost reports whether host (from an rpc-address) names this machine.
func (g *gatherer) isThisHost(host string) bool {
	if g.opts.Address != "" {
		return host == g.opts.Address
	}
	if hn, err := os.Hostname(); err == nil && strings.EqualFold(hn, host) {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		if ips, err := net.LookupIP(host); err == nil && len(ips) > 0 {
			ip = ips[0]
		}
	}
	if ip == nil || ip.IsLoopback() {
		return false // on one machine several loopback "hosts" exist: needs Address
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
