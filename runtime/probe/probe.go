// Package probe reports what only the installed runtime can tell about its
// host, in one process on that host: its own version, each local NameNode's
// HA state, health and applied txid over its signed HTTP, and the storage dirs
// the installed configuration names.
//
// Everything a shell can read is read by the caller's shell preflight
// (targets/preflight.go), on every host, installed or bare, and interpreted
// by one Go parser there: the binary's and the config files' hashes,
// ZooKeeper's jar, the supervisor records with the liveness of their
// processes and the ports they listen on, and what the storage dirs hold. This
// package reads none of those, so no fact has two readers.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// Options says where to look.
type Options struct {
	ConfDir    string // core-site.xml, hdfs-site.xml, cluster.secret
	InstallDir string // <install_dir>/bin/hactl; "" = /opt/hactl
	// Address is this host's address as the config names it (rpc-address
	// hosts are compared with it). "" = any address of this machine's
	// non-loopback interfaces, or its hostname.
	Address string
	// Version is the version of the binary running the probe; Self its path
	// (to tell whether the installed binary is this one).
	Version, Self string
	HTTPTimeout   time.Duration // per NameNode HA call, default 2 s
	Now           func() time.Time
}

// Report is what `hactl runtime probe` prints (one JSON object). Its fields
// are facts no other reader has: targets combines them with the shell's
// description of the host without any field coming from both.
type Report struct {
	// RuntimeVersion is the installed runtime's version ("" when there is
	// no binary under InstallDir).
	RuntimeVersion string `json:"runtime_version,omitempty"`
	// NameNodes: each NameNode of the installed configuration whose
	// rpc-address is this host, by "<ns>/<nnid>", with its HA state when its
	// HTTP address answered.
	NameNodes map[string]*NameNode `json:"namenodes,omitempty"`
	// Storage: the storage dirs the installed configuration names, for the
	// caller to read (this package never reads what they hold).
	Storage *StorageDirs `json:"storage_dirs,omitempty"`
	// Error: what could not be read (joined); the rest is still reported.
	Error string `json:"error,omitempty"`
}

// NameNode is what a running NameNode says of itself over its signed HTTP.
// Nothing answering at its HTTP address (connection refused) is a NameNode
// that does not run: no HA state and no error.
type NameNode struct {
	Nameservice string `json:"nameservice"`
	ID          string `json:"id"`
	HAState     string `json:"ha_state,omitempty"` // GET /ha/status "state"
	Healthy     bool   `json:"healthy"`            // GET /ha/health is 200
	// LastAppliedTxid is /ha/status "lastAppliedTxid" (the wire name is the
	// one older runtimes used, so their reports still decode).
	LastAppliedTxid int64 `json:"last_txid,omitempty"`
}

// Gather probes this host. Problems reading one part are recorded in Error
// (joined) rather than aborting: a partial picture with its gaps named beats
// none.
func Gather(ctx context.Context, opts Options) (*Report, error) {
	if opts.InstallDir == "" {
		opts.InstallDir = "/opt/hactl"
	}
	if opts.HTTPTimeout <= 0 {
		opts.HTTPTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &gatherer{opts: opts, report: &Report{}}
	g.version(ctx)
	if conf := g.config(); conf != nil {
		g.namenodes(ctx, conf)
	}
	if len(g.errs) > 0 {
		g.report.Error = errors.Join(g.errs...).Error()
	}
	return g.report, nil
}

type gatherer struct {
	opts   Options
	report *Report
	errs   []error
}

func (g *gatherer) fail(format string, args ...any) {
	g.errs = append(g.errs, fmt.Errorf(format, args...))
}

// version reports the installed runtime's version: this binary's when it is
// the installed one (the preflight runs the installed binary), else what
// `<install_dir>/bin/hactl version` prints.
func (g *gatherer) version(ctx context.Context) {
	bin := filepath.Join(g.opts.InstallDir, "bin", "hactl")
	fi, err := os.Stat(bin)
	if errors.Is(err, os.ErrNotExist) {
		return // not installed
	}
	if err != nil {
		g.fail("runtime binary: %w", err)
		return
	}
	if g.opts.Self != "" && g.opts.Version != "" {
		if self, err := os.Stat(g.opts.Self); err == nil && os.SameFile(self, fi) {
			g.report.RuntimeVersion = g.opts.Version
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		g.fail("installed runtime %s does not run: %w", bin, err)
		g.report.RuntimeVersion = "unknown"
		return
	}
	// "hactl 0.1.0 (go1.26, linux/amd64)"
	f := strings.Fields(string(out))
	if len(f) >= 2 && f[0] == "hactl" {
		g.report.RuntimeVersion = f[1]
	} else {
		g.report.RuntimeVersion = strings.TrimSpace(string(out))
	}
}

// config loads the installed Hadoop configuration (nil when none is
// installed yet: a bare host).
func (g *gatherer) config() *hadoopconf.Config {
	dir := g.opts.ConfDir
	if _, err := os.Stat(filepath.Join(dir, "core-site.xml")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	conf, err := hadoopconf.LoadDir(dir)
	if err != nil {
		g.fail("config: %w", err)
		return nil
	}
	return conf
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
