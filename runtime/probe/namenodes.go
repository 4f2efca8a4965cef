package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
)

// This file names the storage dirs of the installed configuration and asks
// the local NameNodes for their HA state. It does not read storage: what the
// dirs hold (VERSION, seen_txid, journals, epochs…) is read by one reader
// only, the caller's shell preflight (targets/preflight.go), on installed and
// bare hosts alike; Report.Storage tells the caller which dirs the installed
// configuration uses so that it reads those too.

// StorageDirs are the storage dirs the installed configuration names on this
// host, as Hadoop resolves them (file:// stripped).
type StorageDirs struct {
	// NameDirs: "<ns>/<nnid>" -> name dirs, for each NameNode whose
	// rpc-address is this host.
	NameDirs map[string][]string `json:"name_dirs,omitempty"`
	// EditsRoots: the JournalNode edits dirs (each holds <jid>/current).
	EditsRoots []string `json:"edits_roots,omitempty"`
	// DataDirs: DataNode data dirs (dfs.datanode.data.dir) apply put on the
	// host; only the storage record (targets) fills it in.
	DataDirs []string `json:"data_dirs,omitempty"`
}

func stripFileURI(d string) string {
	if p, ok := strings.CutPrefix(d, "file://"); ok {
		return p
	}
	return d
}

// nameDirs resolves dfs.namenode.name.dir as Hadoop does for ns/nn: the most
// specific suffixed key wins.
func nameDirs(conf *hadoopconf.Config, ns, nn string) []string {
	for _, k := range []string{"dfs.namenode.name.dir." + ns + "." + nn, "dfs.namenode.name.dir." + ns, "dfs.namenode.name.dir"} {
		if v := conf.Strings(k); len(v) > 0 {
			out := make([]string, 0, len(v))
			for _, d := range v {
				out = append(out, stripFileURI(d))
			}
			return out
		}
	}
	return nil
}

// editsRoots returns the generic and per-nameservice JournalNode edits dirs.
func editsRoots(conf *hadoopconf.Config) []string {
	var out []string
	add := func(d string) {
		if d = stripFileURI(d); d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	add(conf.Get("dfs.journalnode.edits.dir", ""))
	for _, ns := range conf.Strings("dfs.nameservices") {
		add(conf.Get("dfs.journalnode.edits.dir."+ns, ""))
	}
	sort.Strings(out)
	return out
}

// namenodes reports each NameNode of the installed configuration that lives
// on this host (its HA state when it answers) and the storage dirs to read.
func (g *gatherer) namenodes(ctx context.Context, conf *hadoopconf.Config) {
	dirs := &StorageDirs{EditsRoots: editsRoots(conf)}
	var secret []byte
	var secretErr error
	loadSecret := func() ([]byte, error) {
		if secret == nil && secretErr == nil {
			secret, secretErr = auth.LoadSecret(conf.Get(auth.ConfKey, filepath.Join(g.opts.ConfDir, "cluster.secret")))
		}
		return secret, secretErr
	}
	for _, ns := range conf.Strings("dfs.nameservices") {
		for _, nn := range conf.Strings("dfs.ha.namenodes." + ns) {
			rpc := conf.Get("dfs.namenode.rpc-address."+ns+"."+nn, "")
			host, _, err := net.SplitHostPort(rpc)
			if err != nil || !g.isThisHost(host) {
				continue
			}
			key := ns + "/" + nn // the report's key (docs/CONTRACTS.md), as planner.NameNodeKey

			o := &NameNode{Nameservice: ns, ID: nn}
			if d := nameDirs(conf, ns, nn); len(d) > 0 {
				if dirs.NameDirs == nil {
					dirs.NameDirs = map[string][]string{}
				}
				dirs.NameDirs[key] = d
			}
			g.haState(ctx, o, conf.Get("dfs.namenode.http-address."+ns+"."+nn, ""), loadSecret)
			if g.report.NameNodes == nil {
				g.report.NameNodes = map[string]*NameNode{}
			}
			g.report.NameNodes[key] = o
		}
	}
	if len(dirs.NameDirs) > 0 || len(dirs.EditsRoots) > 0 {
		g.report.Storage = dirs
	}
}

// haStatus is the body of GET /ha/status (CONTRACTS.md "NameNode HTTP").
type haStatus struct {
	State           string `json:"state"`
	LastAppliedTxid int64  `json:"lastAppliedTxid"`
}

// haState asks the NameNode at httpAddr for its HA state and health. Nothing
// listening there (connection refused) is a NameNode that does not run: no
// state and no error. Whether its daemon runs is the caller's to judge (the
// shell reads the supervisor records); every other failure is an error.
func (g *gatherer) haState(ctx context.Context, o *NameNode, httpAddr string, loadSecret func() ([]byte, error)) {
	if httpAddr == "" {
		return
	}
	fail := func(err error) { g.fail("namenode %s/%s HA state: %w", o.Nameservice, o.ID, err) }
	conn, err := (&net.Dialer{Timeout: g.opts.HTTPTimeout}).DialContext(ctx, "tcp", httpAddr)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return
	}
	if err != nil {
		fail(err)
		return
	}
	conn.Close()
	secret, err := loadSecret()
	if err != nil {
		fail(err)
		return
	}
	client := &http.Client{Timeout: g.opts.HTTPTimeout}
	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+path, nil)
		if err != nil {
			return nil, err
		}
		if err := auth.SignRequest(req, secret, g.opts.Now()); err != nil {
			return nil, err
		}
		return client.Do(req)
	}
	resp, err := get("/ha/status")
	if err != nil {
		fail(err)
		return
	}
	var st haStatus
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		fail(fmt.Errorf("HTTP %d %v", resp.StatusCode, err))
		return
	}
	o.HAState = st.State
	o.LastAppliedTxid = st.LastAppliedTxid
	if resp, err := get("/ha/health"); err == nil {
		o.Healthy = resp.StatusCode == http.StatusOK
		resp.Body.Close()
	}
}
