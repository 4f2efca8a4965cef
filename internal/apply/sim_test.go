package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/rpc"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

// sim is a model of a cluster's hosts behind recording fake targets: the
// runtime commands apply sends (supervise, format, bootstrap-standby,
// format-zk, haadmin) change the model the way the real daemons would, and
// observe() probes it back into a planner.Observed. It also watches the
// safety rules while steps run.
type sim struct {
	t     *testing.T
	c     *schema.Cluster
	fakes map[string]*fake.Host
	hosts map[string]targets.Host

	mu          sync.Mutex
	daemons     map[string]map[string]*simDaemon // host -> daemon name
	nnFormatted map[string]bool                  // ns/id
	jnFormatted map[string]bool                  // host/jid
	znodes      map[string]bool
	zkInstalled map[string]bool
	active      map[string]string // ns -> NameNode ID
	formats     int
	violations  []string
	mutations   int

	// failAt makes the failAt-th mutation (1-based) fail as a lost
	// connection; afterEffect applies its effect first (crash after the
	// host persisted it).
	failAt      int
	afterEffect bool
	// failMatch makes the mutations it matches fail with exit 1;
	// lostAfterMatch makes them take effect, then fail as a lost connection.
	failMatch      fake.Match
	failHost       string
	lostAfterMatch fake.Match

	// Journal contents, for JournalNode set changes: the highest txid of
	// each host/jid, the last txid each nameservice's writer wrote, the
	// NameNodes whose ZKFC left the election (cedeActive), and per
	// nameservice the configured JournalNode hosts a NameNode started with
	// newConfig (host -> config sha) writes to.
	jnTxid     map[string]int64
	lastTxid   map[string]int64
	ceded      map[string]bool
	newConfig  map[string]string
	newJournal map[string][]string

	// reportJournal makes the active NameNode report its writer's view of
	// the JournalNodes in /ha/status; jnOOS are the JournalNode hosts that
	// writer leaves out until its next segment (a stopped one joins them,
	// a log roll takes every running one back), and checkStop then records
	// a JournalNode taken down while fewer than a majority of the others
	// receive the current segment.
	reportJournal bool
	jnOOS         map[string]bool

	// onEffect, when set, is called (under mu) after the model took the
	// effect of a haadmin command or a ZKFC call, with its argument or path:
	// tests interrupt apply there.
	onEffect func(what string)
}

type simDaemon struct {
	running bool
	cfg, rt string
}

func newSim(t *testing.T, c *schema.Cluster) *sim {
	s := &sim{t: t, c: c, fakes: map[string]*fake.Host{}, hosts: map[string]targets.Host{},
		daemons: map[string]map[string]*simDaemon{}, nnFormatted: map[string]bool{}, jnFormatted: map[string]bool{},
		znodes: map[string]bool{}, zkInstalled: map[string]bool{}, active: map[string]string{},
		jnTxid: map[string]int64{}, lastTxid: map[string]int64{}, ceded: map[string]bool{}, newConfig: map[string]string{},
		newJournal: map[string][]string{}, jnOOS: map[string]bool{}}
	for _, h := range c.Hosts {
		f := fake.New(h.Name, h.Address)
		name := h.Name
		f.AddRule(&fake.Rule{Match: fake.Any, Respond: func(fh *fake.Host, c fake.Call) (targets.Result, error) {
			return s.respond(name, fh, c.Op)
		}})
		s.fakes[h.Name] = f
		s.daemons[h.Name] = map[string]*simDaemon{}
		s.hosts[h.Name] = &simHost{Host: f, s: s}
	}
	return s
}

// simHost counts mutations (everything but the read-only probes of files)
// and injects failures.
type simHost struct {
	*fake.Host
	s *sim
}

// readOnly says whether op only reads the host.
func readOnly(op fake.Op) bool {
	switch op.(type) {
	case fake.FileTest, fake.FileRead:
		return true
	}
	return false
}

func (h *simHost) mutation(op fake.Op) (fail bool, after bool) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, lock := op.(fake.LockAcquire); readOnly(op) || lock {
		return false, false
	}
	s.mutations++
	return s.failAt > 0 && s.mutations == s.failAt, s.afterEffect
}

func (h *simHost) Run(ctx context.Context, cmd targets.Command) (targets.Result, error) {
	if m := h.s.lostAfterMatch; m != nil && m(fake.Decode(cmd)) {
		h.Host.Run(ctx, cmd)
		return targets.Result{}, fmt.Errorf("%s: connection lost: %w", h.Name(), targets.ErrUnreachable)
	}
	fail, after := h.mutation(fake.Decode(cmd))
	if fail && !after {
		return targets.Result{}, fmt.Errorf("%s: connection lost: %w", h.Name(), targets.ErrUnreachable)
	}
	res, err := h.Host.Run(ctx, cmd)
	if fail {
		return targets.Result{}, fmt.Errorf("%s: connection lost: %w", h.Name(), targets.ErrUnreachable)
	}
	return res, err
}

func (h *simHost) Upload(ctx context.Context, path string, data io.Reader, mode fs.FileMode, sum string) error {
	fail, after := h.mutation(fake.Upload{Path: path})
	if fail && !after {
		return fmt.Errorf("%s: connection lost: %w", h.Name(), targets.ErrUnreachable)
	}
	err := h.Host.Upload(ctx, path, data, mode, sum)
	if fail {
		return fmt.Errorf("%s: connection lost: %w", h.Name(), targets.ErrUnreachable)
	}
	return err
}

func (s *sim) respond(host string, fh *fake.Host, op fake.Op) (targets.Result, error) {
	switch op := op.(type) {
	case fake.FileTest:
		if f, ok := fh.File(op.Path); ok && len(f.Data) > 0 {
			return targets.Result{Stdout: []byte("yes\n")}, nil
		}
		return targets.Result{Stdout: []byte("no\n")}, nil
	case fake.FileRead:
		if f, ok := fh.File(op.Path); ok && len(f.Data) > 0 {
			return targets.Result{Stdout: f.Data}, nil
		}
		return targets.Result{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failMatch != nil && s.failMatch(op) && (s.failHost == "" || s.failHost == host) {
		return targets.Result{ExitCode: 1, Stderr: []byte("injected failure\n")}, nil
	}
	if in, ok := op.(fake.InstallPackages); ok && slices.Contains(in.Packages, "zookeeper") {
		s.zkInstalled[host] = true
		return targets.Result{}, nil
	}
	r, ok := op.(fake.Runtime)
	if !ok || len(r.Command) == 0 {
		return targets.Result{}, nil // mkdir, rm: nothing to model
	}
	exit := func(code int, msg string) (targets.Result, error) {
		return targets.Result{ExitCode: code, Stderr: []byte(msg + "\n")}, nil
	}
	switch r.Command[0] {
	case "supervise":
		name := r.Flag("--name")
		d := s.daemons[host][name]
		if d == nil {
			d = &simDaemon{}
			s.daemons[host][name] = d
		}
		if r.Is("supervise", "start") {
			if v := r.Env(daemon.EnvConfigSHA256); v != "" {
				d.cfg = v
			}
			if v := r.Env(daemon.EnvRuntimeSHA256); v != "" {
				d.rt = v
			}
			d.running = true
		} else {
			s.checkStop(host, name)
			if r.Has("--forget") {
				s.checkDataNodeStop(host, name)
			}
			d.running = false
			if r.Has("--forget") {
				delete(s.daemons[host], name) // the record is gone too
			}
		}
		s.elect()
	case "format":
		id := r.Flag("--id")
		n := s.c.Nameservice(r.Flag("--nameservice"))
		if n == nil || n.NameNode(id) == nil || n.NameNode(id).Host != host {
			return exit(1, "no NameNode "+r.Flag("--nameservice")+"/"+id+" on "+host)
		}
		force := r.Has("--force")
		for _, nn := range n.NameNodes {
			if s.nnFormatted[planner.NameNodeKey(n.Name, nn.ID)] && !force {
				return exit(1, "data appears to exist")
			}
		}
		for _, h := range n.Journal.Hosts {
			if !s.running(h, daemon.Host(daemon.JournalNode).Name()) {
				return exit(1, "format needs every JournalNode")
			}
			if s.jnFormatted[h+"/"+planner.JournalID(n)] && !force {
				return exit(1, "data appears to exist")
			}
		}
		for _, h := range n.Journal.Hosts {
			s.jnFormatted[h+"/"+planner.JournalID(n)] = true
		}
		s.nnFormatted[planner.NameNodeKey(n.Name, id)] = true
		s.formats++
	case "bootstrap-standby":
		id := r.Flag("--id")
		n := s.c.Nameservice(r.Flag("--nameservice"))
		if n == nil || n.NameNode(id) == nil || n.NameNode(id).Host != host {
			return exit(1, "no NameNode "+r.Flag("--nameservice")+"/"+id+" on "+host)
		}
		if s.nnFormatted[planner.NameNodeKey(n.Name, id)] {
			return exit(5, "local storage holds data")
		}
		peer := false
		for _, nn := range n.NameNodes {
			peer = peer || (nn.ID != id && s.nnFormatted[planner.NameNodeKey(n.Name, nn.ID)] && s.running(nn.Host, daemon.NameNodeID(n.Name, nn.ID).Name()))
		}
		if !peer {
			return exit(1, "no running formatted peer")
		}
		s.nnFormatted[planner.NameNodeKey(n.Name, id)] = true
	case "format-zk":
		n := r.Flag("--nameservice")
		if !s.zkUp() {
			return exit(1, "ZooKeeper unreachable")
		}
		if s.znodes[n] {
			return exit(2, "parent znode exists")
		}
		s.znodes[n] = true
	case "haadmin":
		if id := r.Flag("-transitionToActive"); id != "" {
			s.active[r.Flag("-ns")] = id
		}
		if id := r.Flag("-transitionToStandby"); id != "" && s.active[r.Flag("-ns")] == id {
			delete(s.active, r.Flag("-ns"))
		}
		if s.onEffect != nil {
			for f, v := range r.Flags {
				if strings.HasPrefix(f, "-transition") {
					s.onEffect("haadmin " + f + " " + strings.Join(v, " "))
				}
			}
		}
	}
	return targets.Result{}, nil
}

func (s *sim) running(host, daemon string) bool {
	d := s.daemons[host][daemon]
	return d != nil && d.running
}

func (s *sim) zkUp() bool {
	up := 0
	for _, h := range s.c.ZooKeeper.Servers {
		if s.running(h, daemon.Host(daemon.ZooKeeper).Name()) {
			up++
		}
	}
	return up > len(s.c.ZooKeeper.Servers)/2
}

// serving: a NameNode running on formatted storage.
func (s *sim) serving(ns string, nn *schema.NameNode) bool {
	return s.running(nn.Host, daemon.NameNodeID(ns, nn.ID).Name()) && s.nnFormatted[planner.NameNodeKey(ns, nn.ID)]
}

// checkStop records a safety violation when stopping daemon would take a
// second NameNode or JournalNode down, or the active NameNode while a
// standby could have taken over. Destroy (every NN stopping) is exempt via
// allowOutage.
// checkDataNodeStop records a violation when a running DataNode leaves for
// good (stop --forget) before every NameNode host excludes it: its replicas
// would be lost until re-replicated.
func (s *sim) checkDataNodeStop(host, name string) {
	if id, _ := daemon.Parse(name); id.Kind != daemon.DataNode || !s.running(host, name) || allowOutage {
		return
	}
	if !s.excludedEverywhere(s.c.HostAddr(host)) {
		s.violations = append(s.violations, "DataNode on "+host+" stopped for good without a decommission")
	}
}

// excludedEverywhere says whether every NameNode host's dfs.hosts.exclude
// lists addr.
func (s *sim) excludedEverywhere(addr string) bool {
	for _, ns := range s.c.Nameservices {
		for _, nn := range ns.NameNodes {
			f, _ := s.fakes[nn.Host].File(s.c.HostsExcludeFile(nn.Host))
			if !slices.Contains(strings.Split(string(f.Data), "\n"), addr) {
				return false
			}
		}
	}
	return true
}

func (s *sim) checkStop(host, name string) {
	if !s.running(host, name) || allowOutage {
		return
	}
	id, _ := daemon.Parse(name)
	if id.Kind == daemon.JournalNode && s.reportJournal {
		hosts := planner.JournalHosts(s.c)
		in := 0
		for _, h := range hosts {
			if h != host && !s.jnOOS[h] && s.running(h, daemon.Host(daemon.JournalNode).Name()) {
				in++
			}
		}
		if in <= len(hosts)/2 {
			s.violations = append(s.violations, fmt.Sprintf("JournalNode on %s stopped with %d of %d others receiving the current segment", host, in, len(hosts)))
		}
		s.jnOOS[host] = true // it misses what is written while it is down
	}
	if id.Kind == daemon.JournalNode {
		down := 1
		for _, h := range planner.JournalHosts(s.c) {
			if h != host && !s.running(h, daemon.Host(daemon.JournalNode).Name()) {
				down++
			}
		}
		if n := len(planner.JournalHosts(s.c)); down > (n-1)/2 {
			s.violations = append(s.violations, fmt.Sprintf("%d of %d JournalNodes down", down, n))
		}
	}
	if id.Kind == daemon.NameNode {
		n := s.c.Nameservice(id.Nameservice)
		down := 1
		for _, nn := range n.NameNodes {
			if nn.ID != id.NameNode && !s.serving(n.Name, nn) {
				down++
			}
		}
		if down > 1 {
			s.violations = append(s.violations, fmt.Sprintf("%d NameNodes of %s down", down, n.Name))
		}
		if s.active[n.Name] == id.NameNode {
			s.violations = append(s.violations, fmt.Sprintf("active NameNode %s stopped without a failover", id.NameNode))
		}
	}
}

var allowOutage bool

// elect makes a NameNode with a running ZKFC active when none is, as the
// ZKFCs would.
func (s *sim) elect() {
	for _, ns := range s.c.Nameservices {
		if id := s.active[ns.Name]; id != "" {
			if nn := ns.NameNode(id); nn != nil && s.serving(ns.Name, nn) {
				continue
			}
			delete(s.active, ns.Name)
		}
		if !ns.AutomaticFailover || !s.znodes[ns.Name] || !s.zkUp() {
			continue
		}
		for _, nn := range ns.NameNodes {
			if s.serving(ns.Name, nn) && s.running(nn.Host, daemon.ZKFCID(ns.Name, nn.ID).Name()) && !s.ceded[planner.NameNodeKey(ns.Name, nn.ID)] {
				s.becomeActive(ns.Name, nn)
				break
			}
		}
	}
}

// becomeActive makes nn the writer, recording a violation when it writes to
// a new JournalNode set of which no majority holds the last writer's txid.
func (s *sim) becomeActive(ns string, nn *schema.NameNode) {
	s.active[ns] = nn.ID
	set := s.newJournal[ns]
	d := s.daemons[nn.Host][daemon.NameNodeID(ns, nn.ID).Name()]
	if len(set) == 0 || d == nil || d.cfg != s.newConfig[nn.Host] {
		return
	}
	n := s.c.Nameservice(ns)
	have := 0
	for _, h := range set {
		if s.jnTxid[h+"/"+planner.JournalID(n)] >= s.lastTxid[ns] {
			have++
		}
	}
	if have <= len(set)/2 {
		s.violations = append(s.violations, fmt.Sprintf("%s became active on the new JournalNode set with %d of %d holding txid %d", nn.ID, have, len(set), s.lastTxid[ns]))
	}
}

// journalCall serves sync-journal's getStatus and syncJournal calls.
func (s *sim) journalCall(_ context.Context, addr, method string, req, resp any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hostOf := func(a string) string {
		ip, _, _ := net.SplitHostPort(a)
		for _, h := range s.c.Hosts {
			if h.Address == ip {
				return h.Name
			}
		}
		return ""
	}
	host := hostOf(addr)
	if host == "" || !s.running(host, daemon.Host(daemon.JournalNode).Name()) {
		return errors.New("connection refused")
	}
	switch method {
	case rpc.MethodGetStatus:
		k := host + "/" + req.(rpc.JournalIDRequest).JournalID
		*resp.(*rpc.StatusResponse) = rpc.StatusResponse{Formatted: s.jnFormatted[k], HighestTxid: s.jnTxid[k]}
	case rpc.MethodSyncJournal:
		r := req.(rpc.SyncJournalRequest)
		k := host + "/" + r.JournalID
		for _, p := range r.Peers {
			ph := hostOf(p)
			if pk := ph + "/" + r.JournalID; ph != "" && s.running(ph, daemon.Host(daemon.JournalNode).Name()) && s.jnFormatted[pk] {
				s.jnFormatted[k] = true
				s.jnTxid[k] = max(s.jnTxid[k], s.jnTxid[pk])
			}
		}
		*resp.(*rpc.SyncJournalResponse) = rpc.SyncJournalResponse{Formatted: s.jnFormatted[k], HighestTxid: s.jnTxid[k]}
	default:
		return fmt.Errorf("sim: journal method %s", method)
	}
	return nil
}

func sha(f fake.File, ok bool) string {
	if !ok {
		return ""
	}
	return planner.SHA256Hex(f.Data)
}

// observe probes the model as `hactl runtime probe` would.
func (s *sim) observe() *planner.Observed {
	s.mu.Lock()
	defer s.mu.Unlock()
	obs := &planner.Observed{Hosts: map[string]*planner.ObservedHost{}}
	for _, h := range s.c.Hosts {
		f := s.fakes[h.Name]
		p := s.c.PathsFor(h.Name)
		oh := &planner.ObservedHost{Name: h.Name, Reachable: true, ConfigSHA256: map[string]string{},
			Daemons: map[string]*planner.ObservedDaemon{}, NameNodes: map[string]*planner.ObservedNameNode{},
			JournalNodes: map[string]*planner.ObservedJournal{}, ZooKeeperInstalled: s.zkInstalled[h.Name]}
		if b, ok := f.File(p.Binary + ".sha256"); ok {
			if _, bin := f.File(p.Binary); bin {
				oh.RuntimeSHA256, oh.RuntimeVersion = strings.TrimSpace(string(b.Data)), "test"
			}
		}
		put := func(name, path string) {
			if v := sha(f.File(path)); v != "" {
				oh.ConfigSHA256[name] = v
			}
		}
		put(planner.FileCoreSite, filepath.Join(p.ConfDir, planner.FileCoreSite))
		put(planner.FileHDFSSite, filepath.Join(p.ConfDir, planner.FileHDFSSite))
		put(planner.FileSecret, p.SecretFile)
		put(planner.FileZooCfg, planner.ZooKeeperConfPath(s.c, h.Name))
		put(planner.FileZooKeeperID, filepath.Join(planner.ZooKeeperDataDir(s.c, h.Name), planner.FileZooKeeperID))
		for name, d := range s.daemons[h.Name] {
			oh.Daemons[name] = &planner.ObservedDaemon{Running: d.running, ConfigSHA256: d.cfg, RuntimeSHA256: d.rt}
		}
		for _, ns := range s.c.Nameservices {
			for _, nn := range ns.NameNodes {
				if nn.Host != h.Name {
					continue
				}
				k := planner.NameNodeKey(ns.Name, nn.ID)
				o := &planner.ObservedNameNode{Nameservice: ns.Name, ID: nn.ID, Formatted: s.nnFormatted[k], HasData: s.nnFormatted[k]}
				if s.serving(ns.Name, nn) {
					o.HAState = "standby"
					if s.active[ns.Name] == nn.ID {
						o.HAState = "active"
					}
				}
				oh.NameNodes[k] = o
			}
			jid := planner.JournalID(ns)
			if (ns.Journal != nil && slices.Contains(ns.Journal.Hosts, h.Name)) || s.jnFormatted[h.Name+"/"+jid] {
				oh.JournalNodes[jid] = &planner.ObservedJournal{JournalID: jid, Formatted: s.jnFormatted[h.Name+"/"+jid], HasData: s.jnFormatted[h.Name+"/"+jid]}
			}
		}
		obs.Hosts[h.Name] = oh
	}
	if s.c.ZooKeeper != nil {
		z := &planner.ObservedZooKeeper{Reachable: s.zkUp(), ParentZnodes: map[string]bool{}}
		if z.Reachable {
			for _, ns := range s.c.Nameservices {
				z.ParentZnodes[ns.Name] = s.znodes[ns.Name]
			}
		}
		obs.ZooKeeper = z
	}
	return obs
}

// ready: a started daemon serves when it runs (a NameNode also needs
// formatted storage).
func (s *sim) ready(_ context.Context, _ *Env, host, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running(host, name) {
		return fmt.Errorf("%s not running", name)
	}
	if id, _ := daemon.Parse(name); id.Kind == daemon.NameNode && !s.nnFormatted[planner.NameNodeKey(id.Nameservice, id.NameNode)] {
		return fmt.Errorf("%s has no namespace", name)
	}
	return nil
}

// RoundTrip serves the NameNodes' /ha/status and the ZKFCs' gracefulFailover.
func (s *sim) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err // a cancelled request never reaches the daemon
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	host, portStr, _ := net.SplitHostPort(r.URL.Host)
	port, _ := strconv.Atoi(portStr)
	for _, ns := range s.c.Nameservices {
		for _, nn := range ns.NameNodes {
			if s.c.HostAddr(nn.Host) != host {
				continue
			}
			switch {
			case r.URL.Path == "/dfsadmin/refreshNodes" && port == nn.HTTPPort:
				if !s.serving(ns.Name, nn) {
					return nil, errors.New("connection refused")
				}
				return jsonResp(`{}`), nil
			case r.URL.Path == "/jmx" && port == nn.HTTPPort:
				if !s.serving(ns.Name, nn) {
					return nil, errors.New("connection refused")
				}
				// Every running DataNode is live; one the exclude file of
				// this NameNode's host lists is decommissioned at once.
				f, _ := s.fakes[nn.Host].File(s.c.HostsExcludeFile(nn.Host))
				excluded := strings.Split(string(f.Data), "\n")
				live := map[string]map[string]string{}
				for _, h := range s.c.Hosts {
					if !s.running(h.Name, daemon.Host(daemon.DataNode).Name()) {
						continue
					}
					state := AdminInService
					if slices.Contains(excluded, h.Addr()) {
						state = AdminDecommissioned
					}
					live[h.Addr()+":9866"] = map[string]string{"xferaddr": h.Addr() + ":9866", "adminState": state}
				}
				b, _ := json.Marshal(live)
				return jsonResp(fmt.Sprintf(`{"beans":[{"LiveNodes":%q,"DeadNodes":"{}","DecomNodes":"{}"}]}`, b)), nil
			case r.URL.Path == "/ha/status" && port == nn.HTTPPort:
				if !s.serving(ns.Name, nn) {
					return nil, errors.New("connection refused")
				}
				state := "standby"
				if s.active[ns.Name] == nn.ID {
					state = "active"
				}
				journal := ""
				if state == "active" && s.reportJournal && ns.Journal != nil {
					var js []string
					for _, h := range ns.Journal.Hosts {
						js = append(js, fmt.Sprintf(`{"addr":%q,"inSync":%v}`, net.JoinHostPort(s.c.HostAddr(h), strconv.Itoa(ns.Journal.EffectiveRPCPort())), !s.jnOOS[h]))
					}
					journal = `,"journal":[` + strings.Join(js, ",") + `]`
				}
				return jsonResp(fmt.Sprintf(`{"state":%q,"lastAppliedTxid":%d%s}`, state, s.lastTxid[ns.Name], journal)), nil
			case r.URL.Path == "/ha/rollEdits" && port == nn.HTTPPort && s.active[ns.Name] == nn.ID && s.serving(ns.Name, nn):
				for _, h := range ns.Journal.Hosts {
					if s.running(h, daemon.Host(daemon.JournalNode).Name()) {
						delete(s.jnOOS, h)
					}
				}
				return jsonResp(`{}`), nil
			case r.URL.Path == "/zkfc/gracefulFailover" && port == s.c.ZKFCPort(ns.Name, nn.ID):
				if !s.serving(ns.Name, nn) || !s.running(nn.Host, daemon.ZKFCID(ns.Name, nn.ID).Name()) {
					return nil, errors.New("connection refused")
				}
				if s.active[ns.Name] != nn.ID {
					s.becomeActive(ns.Name, nn)
				}
				for _, o := range ns.NameNodes {
					delete(s.ceded, planner.NameNodeKey(ns.Name, o.ID))
				}
				return jsonResp(`{}`), nil
			case r.URL.Path == "/zkfc/status" && port == s.c.ZKFCPort(ns.Name, nn.ID):
				if !s.running(nn.Host, daemon.ZKFCID(ns.Name, nn.ID).Name()) {
					return nil, fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED)
				}
				state := "standby"
				if s.active[ns.Name] == nn.ID {
					state = "active"
				}
				in := s.serving(ns.Name, nn) && !s.ceded[planner.NameNodeKey(ns.Name, nn.ID)]
				return jsonResp(fmt.Sprintf(`{"electorState":%q,"inElection":%v}`, state, in)), nil
			case r.URL.Path == "/zkfc/cedeActive" && port == s.c.ZKFCPort(ns.Name, nn.ID):
				if !s.running(nn.Host, daemon.ZKFCID(ns.Name, nn.ID).Name()) {
					return nil, errors.New("connection refused")
				}
				k := planner.NameNodeKey(ns.Name, nn.ID)
				if r.URL.Query().Get("millis") != "0" {
					s.ceded[k] = true
					if s.active[ns.Name] == nn.ID {
						delete(s.active, ns.Name)
					}
				} else {
					delete(s.ceded, k)
				}
				s.elect()
				if s.onEffect != nil {
					s.onEffect(r.URL.String())
				}
				return jsonResp(`{}`), nil
			}
		}
	}
	return nil, fmt.Errorf("sim: no handler for %s %s", r.Method, r.URL)
}

func jsonResp(body string) *http.Response {
	return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
}

// testBinary writes a stand-in hactl binary and returns it.
func testBinary(t *testing.T) Binary {
	path := filepath.Join(t.TempDir(), "hactl")
	data := []byte("#!/bin/sh\necho hactl test binary\n")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return Binary{Path: path, SHA256: planner.SHA256Hex(data), Version: "test"}
}

func loadFixture(t *testing.T, name string, mutate func(string) string) *schema.Cluster {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "plans", "fixtures", name+".hcl"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if mutate != nil {
		src = mutate(src)
	}
	c, diags := schema.LoadSources(map[string][]byte{"main.hcl": []byte(src)}, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("fixture %s: %v", name, diags)
	}
	return c
}

// fakeClock advances only when slept on, so waits never take real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (s *sim) env(c *schema.Cluster, bin Binary, dry bool, out io.Writer) *Env {
	d, err := planner.RenderDesired(c)
	if err != nil {
		s.t.Fatal(err)
	}
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return &Env{Cluster: c, Desired: d, Hosts: s.hosts, Guard: &Guard{DryRun: dry}, Binary: bin, Out: out,
		Ready: s.ready, Processes: s.processes, HTTP: &http.Client{Transport: s}, JournalCall: s.journalCall, Now: clk.Now, Sleep: clk.Sleep, ReadyTimeout: 5 * time.Second,
		NewSecret: func() ([]byte, error) {
			return []byte("5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"), nil
		}}
}

// converge plans against the model and applies, as `hactl apply` does.
func (s *sim) apply(c *schema.Cluster, bin Binary, dry bool) (*planner.ClusterPlan, string, error) {
	plan, err := planner.Plan(c, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
	if err != nil {
		s.t.Fatalf("plan: %v", err)
	}
	var out bytes.Buffer
	_, err = Execute(context.Background(), s.env(c, bin, dry, &out), plan)
	return plan, out.String(), err
}

// processes is the model's process table: one recorded process per running
// daemon (the sim's supervisor never loses a record).
func (s *sim) processes(_ context.Context, _ *Env, host string) (*targets.ProcScan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scan := &targets.ProcScan{Binary: true}
	pid := 100
	for _, name := range slices.Sorted(maps.Keys(s.daemons[host])) {
		pid++
		if s.daemons[host][name].running {
			scan.Procs = append(scan.Procs, targets.Process{PID: pid, PGID: pid, Start: 1, Daemon: name, Recorded: true})
		}
	}
	return scan, nil
}
