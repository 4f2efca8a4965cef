package probe

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/auth"
)

// readProperties parses a Java properties file such as Hadoop's VERSION.
func readProperties(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out, nil
}

// readLong reads a number file: decimal text (Hadoop's PersistentLongFile) or
// 8 big-endian bytes (BestEffortLongFile, committed-txid). ok=false if absent.
func readLong(path string) (int64, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil {
		return n, true, nil
	}
	if len(data) == 8 {
		return int64(binary.BigEndian.Uint64(data)), true, nil
	}
	return 0, false, fmt.Errorf("%s: not a number", path)
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
			return v
		}
	}
	return nil
}

func (g *gatherer) namenodes(ctx context.Context, conf *hadoopconf.Config) {
	var secret []byte
	for _, ns := range conf.Strings("dfs.nameservices") {
		for _, nn := range conf.Strings("dfs.ha.namenodes." + ns) {
			rpc := conf.Get("dfs.namenode.rpc-address."+ns+"."+nn, "")
			host, _, err := net.SplitHostPort(rpc)
			if err != nil || !g.isThisHost(host) {
				continue
			}
			o := &planner.ObservedNameNode{Nameservice: ns, ID: nn}
			for _, d := range nameDirs(conf, ns, nn) {
				g.nameDir(o, stripFileURI(d))
			}
			if d := g.out.Daemons["namenode-"+nn]; d != nil && d.Running {
				if secret == nil {
					secret, err = auth.LoadSecret(conf.Get(auth.ConfKey, filepath.Join(g.opts.ConfDir, "cluster.secret")))
					if err != nil {
						g.fail("namenode %s/%s HA state: %w", ns, nn, err)
					}
				}
				if secret != nil {
					g.haState(ctx, o, conf.Get("dfs.namenode.http-address."+ns+"."+nn, ""), secret)
				}
			}
			if g.out.NameNodes == nil {
				g.out.NameNodes = map[string]*planner.ObservedNameNode{}
			}
			g.out.NameNodes[ns+"/"+nn] = o
		}
	}
}

// nameDir reads one NameNode storage directory (current/VERSION, seen_txid).
func (g *gatherer) nameDir(o *planner.ObservedNameNode, dir string) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		g.fail("namenode %s/%s: %w", o.Nameservice, o.ID, err)
		return
	}
	if len(ents) > 0 {
		o.HasData = true
	}
	v, err := readProperties(filepath.Join(dir, "current", "VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		g.fail("namenode %s/%s: %w", o.Nameservice, o.ID, err)
		return
	}
	o.Formatted = true
	o.ClusterID = v["clusterID"]
	o.NamespaceID, _ = strconv.ParseInt(v["namespaceID"], 10, 64)
	if t, ok, _ := readLong(filepath.Join(dir, "current", "seen_txid")); ok && t > o.LastTxid {
		o.LastTxid = t
	}
}

// haStatus is the body of GET /ha/status (CONTRACTS.md "NameNode HTTP").
type haStatus struct {
	State           string `json:"state"`
	LastAppliedTxid int64  `json:"lastAppliedTxid"`
}

func (g *gatherer) haState(ctx context.Context, o *planner.ObservedNameNode, httpAddr string, secret []byte) {
	if httpAddr == "" {
		return
	}
	client := &http.Client{Timeout: g.opts.HTTPTimeout}
	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+path, nil)
		if err != nil {
			return nil, err
		}
		auth.SignRequest(req, secret, g.opts.Now())
		return client.Do(req)
	}
	resp, err := get("/ha/status")
	if err != nil {
		g.fail("namenode %s/%s HA state: %w", o.Nameservice, o.ID, err)
		return
	}
	var st haStatus
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		g.fail("namenode %s/%s HA state: HTTP %d %v", o.Nameservice, o.ID, resp.StatusCode, err)
		return
	}
	o.HAState = st.State
	if st.LastAppliedTxid > o.LastTxid {
		o.LastTxid = st.LastAppliedTxid
	}
	if resp, err := get("/ha/health"); err == nil {
		o.Healthy = resp.StatusCode == http.StatusOK
		resp.Body.Close()
	}
}

// journalDirs returns each journal's directory: <edits.dir>/<jid> for every
// journal found under the generic and per-nameservice edits dirs.
func journalDirs(conf *hadoopconf.Config) map[string]string {
	roots := map[string]bool{}
	if d := conf.Get("dfs.journalnode.edits.dir", ""); d != "" {
		roots[stripFileURI(d)] = true
	}
	for _, ns := range conf.Strings("dfs.nameservices") {
		if d := conf.Get("dfs.journalnode.edits.dir."+ns, ""); d != "" {
			roots[stripFileURI(d)] = true
		}
	}
	out := map[string]string{}
	for root := range roots {
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				out[e.Name()] = filepath.Join(root, e.Name())
			}
		}
	}
	return out
}

func (g *gatherer) journals(conf *hadoopconf.Config) {
	for jid, dir := range journalDirs(conf) {
		j, err := readJournal(jid, dir)
		if err != nil {
			g.fail("journal %s: %w", jid, err)
		}
		if j == nil {
			continue
		}
		if g.out.JournalNodes == nil {
			g.out.JournalNodes = map[string]*planner.ObservedJournal{}
		}
		g.out.JournalNodes[jid] = j
	}
}

// readJournal reads <edits.dir>/<jid>/current as Hadoop's Journal lays it out.
func readJournal(jid, dir string) (*planner.ObservedJournal, error) {
	cur := filepath.Join(dir, "current")
	ents, err := os.ReadDir(cur)
	if errors.Is(err, os.ErrNotExist) {
		return &planner.ObservedJournal{JournalID: jid}, nil
	}
	if err != nil {
		return nil, err
	}
	j := &planner.ObservedJournal{JournalID: jid}
	var errs []error
	if v, err := readProperties(filepath.Join(cur, "VERSION")); err == nil {
		j.Formatted = true
		j.ClusterID = v["clusterID"]
		j.NamespaceID, _ = strconv.ParseInt(v["namespaceID"], 10, 64)
	} else if !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for name, dst := range map[string]*int64{
		"last-promised-epoch": &j.LastPromisedEpoch,
		"last-writer-epoch":   &j.LastWriterEpoch,
		"committed-txid":      &j.CommittedTxid,
	} {
		n, _, err := readLong(filepath.Join(cur, name))
		if err != nil {
			errs = append(errs, err)
		}
		*dst = n
	}
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, "edits_inprogress_"):
			// The in-progress segment's end is only known by reading it;
			// at least its first txid is there.
			if s, err := strconv.ParseInt(strings.TrimPrefix(n, "edits_inprogress_"), 10, 64); err == nil {
				j.HasData = true
				j.LastTxid = max(j.LastTxid, s)
			}
		case strings.HasPrefix(n, "edits_"):
			if _, end, ok := strings.Cut(strings.TrimPrefix(n, "edits_"), "-"); ok {
				if e, err := strconv.ParseInt(end, 10, 64); err == nil {
					j.HasData = true
					j.LastTxid = max(j.LastTxid, e)
				}
			}
		case n == "paxos":
			if p, _ := os.ReadDir(filepath.Join(cur, n)); len(p) > 0 {
				j.HasData = true
			}
		}
	}
	if j.Formatted || j.LastPromisedEpoch > 0 {
		// A formatted journal holds a namespace: formatting over it loses it.
		j.HasData = true
	}
	return j, errors.Join(errs...)
}
