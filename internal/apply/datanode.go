package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// DataNodes as the NameNodes see them: Hadoop's JMX bean
// Hadoop:service=NameNode,name=NameNodeInfo carries LiveNodes, DeadNodes
// and DecomNodes, each a JSON object (as a string) keyed by the DataNode's
// name (host:xferPort) whose values carry "xferaddr" and "adminState"
// ("In Service", "Decommission In Progress", "Decommissioned").

// Hadoop's admin states as NameNodeInfo reports them.
const (
	AdminInService      = "In Service"
	AdminDecommissionIP = "Decommission In Progress"
	AdminDecommissioned = "Decommissioned"
)

// DataNodeInfo is one DataNode in a NameNode's NameNodeInfo.
type DataNodeInfo struct {
	Name       string `json:"name"` // the key: host:xferPort
	XferAddr   string `json:"xferaddr"`
	AdminState string `json:"adminState"`
	Live       bool   `json:"live"`
	// Dead DataNodes: Hadoop writes "decommissioned": true for one that was
	// decommissioned before it died.
	Decommissioned bool  `json:"decommissioned"`
	Capacity       int64 `json:"capacity"`
	Used           int64 `json:"usedSpace"`
	Remaining      int64 `json:"remaining"`
	NumBlocks      int64 `json:"numBlocks"`
	LastContact    int64 `json:"lastContact"`
}

// Is reports whether the entry is the DataNode at addr (host:port), or on
// host address addr when it has no port (dfs.hosts.exclude's bare form).
func (d DataNodeInfo) Is(addr string) bool {
	for _, a := range []string{d.XferAddr, d.Name} {
		if a == addr {
			return true
		}
		if h, _, err := net.SplitHostPort(a); err == nil && h == addr {
			return true
		}
	}
	return false
}

// IsDecommissioned reports whether the NameNode holds every block of the
// DataNode elsewhere.
func (d DataNodeInfo) IsDecommissioned() bool {
	return d.AdminState == AdminDecommissioned || (!d.Live && d.Decommissioned)
}

// ParseNameNodeInfo reads the DataNodes of a NameNode's
// /jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo answer, sorted by name.
func ParseNameNodeInfo(body []byte) ([]DataNodeInfo, error) {
	var doc struct {
		Beans []map[string]json.RawMessage `json:"beans"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("NameNodeInfo: %w", err)
	}
	if len(doc.Beans) == 0 {
		return nil, errors.New("NameNodeInfo: no such bean (the NameNode does not report DataNodes)")
	}
	bean := doc.Beans[0]
	byName := map[string]*DataNodeInfo{}
	for _, attr := range []string{"LiveNodes", "DeadNodes", "DecomNodes"} {
		raw, ok := bean[attr]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("NameNodeInfo %s: not a JSON string: %w", attr, err)
		}
		var m map[string]DataNodeInfo
		if s != "" {
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return nil, fmt.Errorf("NameNodeInfo %s: %w", attr, err)
			}
		}
		for name, d := range m {
			prev := byName[name]
			switch attr {
			case "LiveNodes":
				d.Name, d.Live = name, true
				byName[name] = &d
			case "DeadNodes":
				if prev == nil {
					d.Name = name
					byName[name] = &d
				}
			case "DecomNodes":
				// Hadoop lists a node being decommissioned here as well;
				// LiveNodes has its admin state, this only fills a gap.
				if prev == nil {
					d.Name, d.Live = name, true
					if d.AdminState == "" {
						d.AdminState = AdminDecommissionIP
					}
					byName[name] = &d
				}
			}
		}
	}
	out := make([]DataNodeInfo, 0, len(byName))
	for _, d := range byName {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NameNodeInfoQuery is the JMX query of the bean above.
const NameNodeInfoQuery = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"

// DataNodesOf asks the NameNode at hostport for the DataNodes it knows.
func DataNodesOf(ctx context.Context, client *http.Client, hostport string) ([]DataNodeInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+NameNodeInfoQuery, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s from %s: %w", NameNodeInfoQuery, hostport, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("GET %s from %s: %s: %s", NameNodeInfoQuery, hostport, resp.Status, strings.TrimSpace(remoteMessage(body)))
	}
	return ParseNameNodeInfo(body)
}

// RefreshNodes asks the NameNode at hostport to re-read dfs.hosts and
// dfs.hosts.exclude (Hadoop's dfsadmin -refreshNodes), signed.
func RefreshNodes(ctx context.Context, client *http.Client, hostport string) error {
	return getJSON(ctx, client, http.MethodPost, "http://"+hostport+"/dfsadmin/refreshNodes", nil)
}

// SafeMode runs a dfsadmin -safemode action (get, enter, leave,
// forceExit) on the NameNode at hostport (signed POST /dfsadmin/safemode)
// and returns whether it is in safe mode afterwards.
func SafeMode(ctx context.Context, client *http.Client, hostport, action string) (bool, error) {
	var resp struct {
		SafeMode bool `json:"safemode"`
	}
	err := getJSON(ctx, client, http.MethodPost, "http://"+hostport+"/dfsadmin/safemode?action="+url.QueryEscape(action), &resp)
	return resp.SafeMode, err
}

// refused reports a NameNode that is not running (nothing listens).
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

// nnRef is a NameNode's host and HTTP address.
type nnRef struct{ host, http string }

// allNameNodes are every NameNode of the cluster.
func allNameNodes(c *schema.Cluster) []nnRef {
	var out []nnRef
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			out = append(out, nnRef{nn.Host, c.NameNodeHTTPAddr(nn)})
		}
	}
	return out
}

// nameNodeHosts are the hosts running a NameNode, each once, in order.
func nameNodeHosts(c *schema.Cluster) []string {
	var out []string
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if !slices.Contains(out, nn.Host) {
				out = append(out, nn.Host)
			}
		}
	}
	return out
}

// DataNodeStatus is a DataNode's signed GET /dn/status (docs/notes/datanode.md).
type DataNodeStatus struct {
	Ready        bool   `json:"ready"`
	XferAddr     string `json:"xferAddr"`
	Nameservices []struct {
		Nameservice string            `json:"nameservice"`
		Active      string            `json:"activeNamenode"`
		NameNodes   map[string]string `json:"namenodes"` // NameNode ID -> "registered" | "connecting"
	} `json:"nameservices"`
}

// dataNodeReady checks the DataNode on host: ready once it is registered
// with a NameNode of every nameservice, as its /dn/status says: what a
// started or restarted DataNode must reach before apply goes on
// (CheckDataNode), so a rolling restart never has two DataNodes away.
func dataNodeReady(ctx context.Context, env *Env, client *http.Client, host string) error {
	var st DataNodeStatus
	if err := getJSON(ctx, client, http.MethodGet, "http://"+env.Cluster.DataNodeHTTPAddr(host)+"/dn/status", &st); err != nil {
		return err
	}
	if st.Ready {
		return nil
	}
	var waiting []string
	for _, ns := range st.Nameservices {
		for _, id := range slices.Sorted(maps.Keys(ns.NameNodes)) {
			if ns.NameNodes[id] != "registered" {
				waiting = append(waiting, fmt.Sprintf("%s/%s %s", ns.Nameservice, id, ns.NameNodes[id]))
			}
		}
	}
	return fmt.Errorf("not registered with every nameservice yet (%s)", strings.Join(waiting, ", "))
}

// The exclude file holds one address per line, as Hadoop's HostsFileReader
// reads it (# starts a comment).

func readExclude(ctx context.Context, env *Env, host string) ([]string, error) {
	q := targets.ShellQuote(env.Cluster.HostsExcludeFile(host))
	res, err := env.run(ctx, host, targets.Command{Shell: "if [ -s " + q + " ]; then cat " + q + "; fi"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if l, _, _ = strings.Cut(l, "#"); strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out, nil
}

// setExcluded adds (or removes) addr to the exclude file on every NameNode
// host and has every running NameNode re-read it; it reports whether any
// file changed.
func setExcluded(ctx context.Context, env *Env, addr string, excluded bool) (bool, error) {
	changed := false
	for _, host := range nameNodeHosts(env.Cluster) {
		cur, err := readExclude(ctx, env, host)
		if err != nil && !excluded && errors.Is(err, targets.ErrUnreachable) {
			// A DataNode starts even while a NameNode host is away (the plan
			// warned of it); should that NameNode still exclude it, it
			// decommissions it, which copies its blocks: no data lost.
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read the exclude file on %s: %w", host, err)
		}
		next := slices.DeleteFunc(slices.Clone(cur), func(l string) bool { return l == addr })
		if excluded {
			next = append(next, addr)
		}
		if slices.Equal(cur, next) {
			continue
		}
		changed = true
		data := ""
		if len(next) > 0 {
			data = strings.Join(next, "\n") + "\n"
		}
		if err := env.upload(ctx, host, env.Cluster.HostsExcludeFile(host), []byte(data), 0o644); err != nil {
			return false, fmt.Errorf("write the exclude file on %s: %w", host, err)
		}
	}
	if !changed {
		return false, nil
	}
	return true, refreshAll(ctx, env)
}

// refreshAll has every running NameNode re-read the exclude file.
func refreshAll(ctx context.Context, env *Env) error {
	for _, ref := range allNameNodes(env.Cluster) {
		nn := ref.http
		err := env.Guard.Wet(ref.host, "POST http://"+nn+"/dfsadmin/refreshNodes", func() error {
			client, err := env.client(ctx)
			if err != nil {
				return err
			}
			err = RefreshNodes(ctx, client, nn)
			if err != nil && refused(err) {
				return nil // not running: it reads the file when it starts
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("refreshNodes on NameNode %s: %w", nn, err)
		}
	}
	return nil
}

// decommissionDataNode is ActDecommissionDataNode.
type decommissionDataNode struct{ s *planner.Step }

func init() {
	register(planner.ActDecommissionDataNode, func(s *planner.Step) Runner { return &decommissionDataNode{s} })
}

func (r *decommissionDataNode) Title() string { return r.s.Title() }

// DefaultDecommissionTimeout bounds the wait for a decommission: the time
// the NameNodes take to copy the DataNode's replicas elsewhere.
const DefaultDecommissionTimeout = 2 * time.Hour

func (r *decommissionDataNode) Run(ctx context.Context, env *Env) error {
	// A bare address: Hadoop's exclude file matches every DataNode of the
	// host whatever its port, and the port the removed DataNode had is no
	// longer in the configuration.
	addr := env.Cluster.HostAddr(r.s.Host)
	if _, err := setExcluded(ctx, env, addr, true); err != nil {
		return fmt.Errorf("decommission %s: %w", addr, err)
	}
	if env.Guard.DryRun {
		return nil
	}
	client, err := env.client(ctx)
	if err != nil {
		return fmt.Errorf("decommission %s: %w", addr, err)
	}
	timeout := env.DecommissionTimeout
	if timeout <= 0 {
		timeout = DefaultDecommissionTimeout
	}
	deadline := env.now().Add(timeout)
	for {
		pending, err := decommissionPending(ctx, client, env.Cluster, addr)
		if err == nil && len(pending) == 0 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("not yet decommissioned on %s", strings.Join(pending, "; "))
		}
		if env.now().After(deadline) {
			return fmt.Errorf("decommission %s: still not done after %s: %w (a file whose replication is above the number of DataNodes that stay cannot get its replicas elsewhere: lower its replication or keep this DataNode; the DataNode keeps running and a re-run of apply goes on waiting)", addr, timeout, err)
		}
		if err := env.sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// decommissionPending lists the NameNodes that do not yet report the
// DataNode at addr decommissioned ("nn: state"). A NameNode the DataNode
// never registered with holds no replica on it; at least one NameNode must
// answer.
func decommissionPending(ctx context.Context, client *http.Client, c *schema.Cluster, addr string) ([]string, error) {
	var pending []string
	answered := 0
	for _, ref := range allNameNodes(c) {
		nn := ref.http
		dns, err := DataNodesOf(ctx, client, nn)
		if err != nil {
			if refused(err) {
				continue
			}
			return nil, fmt.Errorf("NameNode %s: %w", nn, err)
		}
		answered++
		for _, d := range dns {
			if d.Is(addr) && !d.IsDecommissioned() {
				pending = append(pending, fmt.Sprintf("%s: %s", nn, orDash(d.AdminState)))
			}
		}
	}
	if answered == 0 {
		return nil, errors.New("no NameNode answers")
	}
	return pending, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// recommission takes a DataNode that is (again) in the configuration out of
// the exclude file before it starts, so the NameNodes do not decommission it
// as soon as it registers.
func recommission(ctx context.Context, env *Env, host string, id daemon.ID) error {
	if id.Kind != daemon.DataNode {
		return nil
	}
	if _, err := setExcluded(ctx, env, env.Cluster.HostAddr(host), false); err != nil {
		return fmt.Errorf("take %s out of dfs.hosts.exclude: %w", host, err)
	}
	return nil
}

// BlockFigures are a NameNode's block and capacity figures (Hadoop's JMX
// bean Hadoop:service=NameNode,name=FSNamesystem).
type BlockFigures struct {
	CapacityTotal         int64 `json:"capacity_total"`
	CapacityUsed          int64 `json:"capacity_used"`
	CapacityRemaining     int64 `json:"capacity_remaining"`
	BlocksTotal           int64 `json:"blocks_total"`
	MissingBlocks         int64 `json:"missing_blocks"`
	UnderReplicatedBlocks int64 `json:"under_replicated_blocks"`
	CorruptBlocks         int64 `json:"corrupt_blocks"`
	NumLiveDataNodes      int64 `json:"live_datanodes"`
	NumDeadDataNodes      int64 `json:"dead_datanodes"`
	NumDecommissioning    int64 `json:"decommissioning_datanodes"`
}

// FSNamesystemQuery is the JMX query of BlockFigures' bean.
const FSNamesystemQuery = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem"

// ParseFSNamesystem reads the figures of a FSNamesystem JMX answer.
func ParseFSNamesystem(body []byte) (*BlockFigures, error) {
	var doc struct {
		Beans []struct {
			CapacityTotal                   int64
			CapacityUsed                    int64
			CapacityRemaining               int64
			BlocksTotal                     int64
			MissingBlocks                   int64
			UnderReplicatedBlocks           int64
			CorruptBlocks                   int64
			NumLiveDataNodes                int64
			NumDeadDataNodes                int64
			NumDecommissioningDataNodes     int64
			NumDecomLiveDataNodes           int64
			NumDecommissioningLiveDataNodes int64
		} `json:"beans"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("FSNamesystem: %w", err)
	}
	if len(doc.Beans) == 0 {
		return nil, errors.New("FSNamesystem: no such bean")
	}
	b := doc.Beans[0]
	return &BlockFigures{CapacityTotal: b.CapacityTotal, CapacityUsed: b.CapacityUsed, CapacityRemaining: b.CapacityRemaining,
		BlocksTotal: b.BlocksTotal, MissingBlocks: b.MissingBlocks, UnderReplicatedBlocks: b.UnderReplicatedBlocks,
		CorruptBlocks: b.CorruptBlocks, NumLiveDataNodes: b.NumLiveDataNodes, NumDeadDataNodes: b.NumDeadDataNodes,
		NumDecommissioning: max(b.NumDecommissioningDataNodes, b.NumDecommissioningLiveDataNodes)}, nil
}

// BlockFiguresOf asks the NameNode at hostport for its FSNamesystem figures.
func BlockFiguresOf(ctx context.Context, client *http.Client, hostport string) (*BlockFigures, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+FSNamesystemQuery, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s from %s: %w", FSNamesystemQuery, hostport, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("GET %s from %s: %s", FSNamesystemQuery, hostport, resp.Status)
	}
	return ParseFSNamesystem(body)
}
