package planner

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	hactldaemon "github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/schema"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/plans/*.txt")

const plansDir = "../testdata/plans"

// testRuntime is the sha256 of "the hactl binary being applied" in scenarios.
const testRuntime = "2f1e0c9b7a6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f"

// scenario is one testdata/plans/*.txt file: free text, then sections
// "-- config --" (HCL, or "@fixture NAME"), optionally "-- old-config --"
// (what the hosts converged to before), "-- observed --" (the DSL below) and
// "-- plan --" (the expected output, rewritten with -rewrite).
type scenario struct {
	path     string
	header   string
	sections map[string]string
	order    []string
}

func parseScenario(t *testing.T, path string) *scenario {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &scenario{path: path, sections: map[string]string{}}
	cur := ""
	var buf strings.Builder
	flush := func() {
		if cur == "" {
			s.header = buf.String()
		} else {
			s.sections[cur] = buf.String()
			s.order = append(s.order, cur)
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return s
}

func (s *scenario) write() error {
	var b strings.Builder
	b.WriteString(s.header)
	for _, name := range s.order {
		fmt.Fprintf(&b, "-- %s --\n", name)
		body := s.sections[name]
		b.WriteString(body)
		if body != "" && !strings.HasSuffix(body, "\n") {
			b.WriteString("\n")
		}
	}
	return os.WriteFile(s.path, []byte(b.String()), 0o644)
}

func loadConfig(t testing.TB, src string) (*schema.Cluster, string) {
	t.Helper()
	src = strings.TrimSpace(src)
	if name, ok := strings.CutPrefix(src, "@fixture "); ok {
		data, err := os.ReadFile(filepath.Join(plansDir, "fixtures", strings.TrimSpace(name)+".hcl"))
		if err != nil {
			t.Fatal(err)
		}
		src = string(data)
	}
	c, diags := schema.LoadSources(map[string][]byte{"main.hcl": []byte(src)}, schema.LoadOptions{})
	if diags.HasErrors() {
		var msgs []string
		for _, d := range diags {
			if d.Severity == 1 { // hcl.DiagError
				msgs = append(msgs, d.Summary)
			}
		}
		return nil, fmt.Sprintf("no plan: the configuration has %d error(s): %s\n", len(msgs), strings.Join(msgs, "; "))
	}
	return c, ""
}

// converged is the observed state of hosts fully applied with c.
func converged(t testing.TB, c *schema.Cluster) *Observed {
	t.Helper()
	d, err := RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	obs := &Observed{Hosts: map[string]*ObservedHost{}, ZooKeeper: &ObservedZooKeeper{
		Reachable: true, ParentZnodes: map[string]bool{}, ActiveNameNodes: map[string]string{}}}
	pid := 100
	daemon := func(cfg string) *ObservedDaemon {
		pid++
		return &ObservedDaemon{Running: true, PID: pid, ConfigSHA256: cfg, RuntimeSHA256: testRuntime}
	}
	for _, h := range c.Hosts {
		dh := d.Hosts[h.Name]
		oh := &ObservedHost{Name: h.Name, Reachable: true, RuntimeVersion: "0.1.0", RuntimeSHA256: testRuntime,
			ConfigSHA256: map[string]string{FileSecret: "secret-sha"}, Supervisor: true,
			Daemons: map[string]*ObservedDaemon{}, NameNodes: map[string]*ObservedNameNode{}, JournalNodes: map[string]*ObservedJournal{}}
		for f, sum := range dh.SHA256 {
			oh.ConfigSHA256[f] = sum
		}
		if ZooKeeperServerID(c, h.Name) > 0 {
			oh.ZooKeeperInstalled = true
			oh.Daemons[hactldaemon.Host(hactldaemon.ZooKeeper).Name()] = daemon(dh.ConfigSHA256(hactldaemon.ZooKeeper))
		}
		if slices.Contains(JournalHosts(c), h.Name) {
			oh.Daemons[hactldaemon.Host(hactldaemon.JournalNode).Name()] = daemon(dh.ConfigSHA256(hactldaemon.JournalNode))
		}
		if c.DataNodeGroupOf(h.Name) != nil {
			oh.Daemons[hactldaemon.Host(hactldaemon.DataNode).Name()] = daemon(dh.ConfigSHA256(hactldaemon.DataNode))
		}
		obs.Hosts[h.Name] = oh
	}
	for _, ns := range c.Nameservices {
		obs.ZooKeeper.ParentZnodes[ns.Name] = ns.AutomaticFailover
		for i, nn := range ns.NameNodes {
			oh := obs.Hosts[nn.Host]
			state := "standby"
			if i == 0 {
				state = "active"
				obs.ZooKeeper.ActiveNameNodes[ns.Name] = nn.ID
			}
			oh.NameNodes[NameNodeKey(ns.Name, nn.ID)] = &ObservedNameNode{Nameservice: ns.Name, ID: nn.ID, Formatted: true, HasData: true,
				ClusterID: "CID-1", NamespaceID: 42, HAState: state, Healthy: true, LastTxid: 1000, Dirs: slices.Clone(ns.EffectiveNameDirs(nn))}
			cfg := d.Hosts[nn.Host].ConfigSHA256(hactldaemon.NameNode)
			oh.Daemons[hactldaemon.NameNodeID(ns.Name, nn.ID).Name()] = daemon(cfg)
			if ns.AutomaticFailover {
				oh.Daemons[hactldaemon.ZKFCID(ns.Name, nn.ID).Name()] = daemon(cfg)
			}
		}
		if ns.Journal != nil {
			for _, h := range ns.Journal.Hosts {
				obs.Hosts[h].JournalNodes[JournalID(ns)] = &ObservedJournal{JournalID: JournalID(ns), Formatted: true, HasData: true,
					ClusterID: "CID-1", NamespaceID: 42, LastPromisedEpoch: 3, LastWriterEpoch: 3, LastTxid: 1000, CommittedTxid: 1000,
					Dir: path.Join(ns.Journal.EditsDir, JournalID(ns))}
			}
		}
	}
	return obs
}

func bareHost(name string) *ObservedHost {
	return &ObservedHost{Name: name, Reachable: true}
}

// buildObserved runs the observed-state DSL:
//
//	baseline bare | converged | converged-old
//	unreachable HOST [reason…]
//	runtime HOST|* none|SHA
//	config HOST|* stale|missing|secret-missing
//	zoocfg HOST stale|missing
//	daemon HOST NAME running|stopped|absent|config-stale|runtime-stale
//	nn HOST NS/ID empty|data|formatted|active|standby|down|cid=X ...
//	jn HOST JID empty|data|formatted|cid=X
//	zk reachable|unreachable
//	znode NS present|absent
//	zkinstalled HOST true|false
//	option force-format | destroy | purge-data | no-runtime
func buildObserved(t *testing.T, c, old *schema.Cluster, dsl string) (*Observed, Options, map[string]bool) {
	t.Helper()
	obs := &Observed{Hosts: map[string]*ObservedHost{}}
	opts := Options{RuntimeSHA256: testRuntime, RuntimeVersion: "0.2.0"}
	flags := map[string]bool{}
	hostsOf := func(name string) []*ObservedHost {
		if name == "*" {
			var out []*ObservedHost
			for _, k := range sortedKeys(obs.Hosts) {
				out = append(out, obs.Hosts[k])
			}
			return out
		}
		h := obs.Hosts[name]
		if h == nil {
			h = bareHost(name)
			obs.Hosts[name] = h
		}
		return []*ObservedHost{h}
	}
	ensureMaps := func(h *ObservedHost) {
		if h.Daemons == nil {
			h.Daemons = map[string]*ObservedDaemon{}
		}
		if h.NameNodes == nil {
			h.NameNodes = map[string]*ObservedNameNode{}
		}
		if h.JournalNodes == nil {
			h.JournalNodes = map[string]*ObservedJournal{}
		}
		if h.ConfigSHA256 == nil {
			h.ConfigSHA256 = map[string]string{}
		}
	}
	zk := func() *ObservedZooKeeper {
		if obs.ZooKeeper == nil {
			obs.ZooKeeper = &ObservedZooKeeper{ParentZnodes: map[string]bool{}, ActiveNameNodes: map[string]string{}}
		}
		return obs.ZooKeeper
	}
	for ln, line := range strings.Split(dsl, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		bad := func() { t.Fatalf("observed line %d: cannot read %q", ln+1, line) }
		need := func(n int) {
			if len(f) < n {
				bad()
			}
		}
		switch f[0] {
		case "baseline":
			need(2)
			switch f[1] {
			case "bare":
			case "converged":
				obs = converged(t, c)
			case "converged-old":
				if old == nil {
					t.Fatal("converged-old needs an old-config section")
				}
				obs = converged(t, old)
			default:
				bad()
			}
		case "unreachable":
			need(2)
			obs.Hosts[f[1]] = &ObservedHost{Name: f[1], Reachable: false, Error: strings.Join(f[2:], " ")}
		case "runtime":
			need(3)
			for _, h := range hostsOf(f[1]) {
				h.RuntimeSHA256, h.RuntimeVersion = f[2], "0.1.0"
				if f[2] == "none" {
					h.RuntimeSHA256, h.RuntimeVersion = "", ""
				}
				for _, d := range h.Daemons {
					if d.RuntimeSHA256 != "" {
						d.RuntimeSHA256 = h.RuntimeSHA256
					}
				}
			}
		case "config":
			need(3)
			for _, h := range hostsOf(f[1]) {
				ensureMaps(h)
				switch f[2] {
				case "stale":
					h.ConfigSHA256[FileHDFSSite] = "stale"
				case "missing":
					delete(h.ConfigSHA256, FileCoreSite)
					delete(h.ConfigSHA256, FileHDFSSite)
					delete(h.ConfigSHA256, FileSecret)
				case "secret-missing":
					delete(h.ConfigSHA256, FileSecret)
				case "storage-unrecorded": // the rest of the line: dirs
					h.StorageUnrecorded = append(h.StorageUnrecorded, f[3:]...)
				default:
					bad()
				}
			}
		case "zoocfg":
			need(3)
			for _, h := range hostsOf(f[1]) {
				ensureMaps(h)
				if f[2] == "missing" {
					delete(h.ConfigSHA256, FileZooCfg)
					delete(h.ConfigSHA256, FileZooKeeperID)
				} else {
					h.ConfigSHA256[FileZooCfg] = "stale"
				}
			}
		case "daemon":
			need(4)
			for _, h := range hostsOf(f[1]) {
				ensureMaps(h)
				d := h.Daemons[f[2]]
				if d == nil {
					d = &ObservedDaemon{PID: 999}
					h.Daemons[f[2]] = d
				}
				switch f[3] {
				case "running":
					d.Running = true
				case "stopped":
					d.Running, d.PID = false, 0
				case "backoff": // crashed; its supervisor waits to restart it
					d.Running, d.PID, d.SupervisorAlive, d.State = false, 0, true, "backoff"
				case "failed": // its supervisor gave up
					d.Running, d.PID, d.SupervisorAlive, d.State = false, 0, false, "failed"
				case "unsupervised": // runs, but its supervisor was killed
					d.Running, d.SupervisorAlive, d.State = true, false, StateSupervisorGone
				case "unrecorded": // runs, but its record was lost
					d.Running, d.PID, d.Unrecorded = false, 0, []int{4242}
				case "absent":
					delete(h.Daemons, f[2])
				case "config-stale":
					d.ConfigSHA256 = "older-config"
				case "runtime-stale":
					d.RuntimeSHA256 = "older-runtime"
				default:
					bad()
				}
			}
		case "nn":
			need(4)
			ns, id, ok := strings.Cut(f[2], "/")
			if !ok {
				bad()
			}
			for _, h := range hostsOf(f[1]) {
				ensureMaps(h)
				k := NameNodeKey(ns, id)
				o := h.NameNodes[k]
				if o == nil {
					o = &ObservedNameNode{Nameservice: ns, ID: id}
					h.NameNodes[k] = o
				}
				for _, a := range f[3:] {
					switch {
					case a == "empty":
						o.Formatted, o.HasData, o.ClusterID, o.NamespaceID, o.HAState = false, false, "", 0, ""
					case a == "data":
						o.Formatted, o.HasData = false, true
					case a == "formatted":
						o.Formatted, o.HasData, o.ClusterID, o.NamespaceID = true, true, "CID-1", 42
					case a == "active" || a == "standby":
						o.HAState = a
						if a == "active" {
							zk().ActiveNameNodes[ns] = id
						}
					case a == "down":
						o.HAState = ""
					case strings.HasPrefix(a, "cid="):
						o.ClusterID = strings.TrimPrefix(a, "cid=")
					default:
						bad()
					}
				}
			}
		case "jn":
			need(4)
			for _, h := range hostsOf(f[1]) {
				ensureMaps(h)
				o := h.JournalNodes[f[2]]
				if o == nil {
					o = &ObservedJournal{JournalID: f[2]}
					h.JournalNodes[f[2]] = o
				}
				for _, a := range f[3:] {
					switch {
					case a == "empty":
						*o = ObservedJournal{JournalID: f[2]}
					case a == "data":
						o.HasData = true
					case a == "formatted":
						o.Formatted, o.HasData, o.ClusterID, o.NamespaceID = true, true, "CID-1", 42
					case strings.HasPrefix(a, "cid="):
						o.ClusterID = strings.TrimPrefix(a, "cid=")
					default:
						bad()
					}
				}
			}
		case "zk":
			need(2)
			zk().Reachable = f[1] == "reachable"
			if !zk().Reachable {
				zk().Error = "dial tcp: connection refused"
			}
		case "znode":
			need(3)
			zk().ParentZnodes[f[1]] = f[2] == "present"
		case "zkinstalled":
			need(3)
			for _, h := range hostsOf(f[1]) {
				h.ZooKeeperInstalled, _ = strconv.ParseBool(f[2])
			}
		case "option":
			need(2)
			switch f[1] {
			case "force-format":
				opts.ForceFormat = true
			case "no-runtime":
				opts.RuntimeSHA256 = ""
			default:
				flags[f[1]] = true
			}
		default:
			bad()
		}
	}
	// Hosts of the configuration the DSL did not mention are bare and reachable.
	for _, h := range c.Hosts {
		if obs.Hosts[h.Name] == nil {
			obs.Hosts[h.Name] = bareHost(h.Name)
		}
		// As targets does with every probe: records of an earlier hactl are
		// filed under their identity.
		AdoptLegacyDaemons(c, h.Name, obs.Hosts[h.Name])
	}
	return obs, opts, flags
}

func runScenario(t *testing.T, s *scenario) (string, *ClusterPlan, *schema.Cluster, *Observed) {
	t.Helper()
	c, errText := loadConfig(t, s.sections["config"])
	if c == nil {
		return errText, nil, nil, nil
	}
	var old *schema.Cluster
	if src, ok := s.sections["old-config"]; ok {
		old, errText = loadConfig(t, src)
		if old == nil {
			t.Fatalf("old-config: %s", errText)
		}
	}
	obs, opts, flags := buildObserved(t, c, old, s.sections["observed"])
	var plan *ClusterPlan
	var err error
	if flags["destroy"] {
		plan, err = PlanDestroy(c, obs, DestroyOptions{PurgeData: flags["purge-data"]})
	} else {
		plan, err = Plan(c, obs, opts)
	}
	if err != nil {
		return "error: " + err.Error() + "\n", nil, c, obs
	}
	var b bytes.Buffer
	if err := plan.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String(), plan, c, obs
}

func TestPlanScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(plansDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Errorf("want at least 25 plan scenarios, have %d", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			s := parseScenario(t, path)
			got, plan, c, obs := runScenario(t, s)
			if plan != nil {
				if err := checkSafety(c, obs, plan); err != nil {
					t.Errorf("safety: %v", err)
				}
			}
			if *rewrite {
				if _, ok := s.sections["plan"]; !ok {
					s.order = append(s.order, "plan")
				}
				s.sections["plan"] = got
				if err := s.write(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := s.sections["plan"]; got != want {
				t.Errorf("plan differs (run go test ./planner -rewrite to accept)\n--- got ---\n%s--- want ---\n%s", got, want)
			}
		})
	}
}
