package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/supervise"
	"github.com/hactl/hactl/schema"
	ucli "github.com/urfave/cli/v3"
)

func init() { register(statusCommand) }

func statusCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "status",
		Usage:     "show every daemon on every host, HA states, JournalNode lag, ZooKeeper health, DataNodes and blocks",
		ArgsUsage: "[PATH]",
		Flags: append(clusterFlags(),
			&ucli.StringFlag{Name: "format", Value: "text", Usage: "output format: text or json"},
		),
		Action: runStatus,
	}
}

// ClusterStatus is `hactl status --format json`.
type ClusterStatus struct {
	NameNodes    []NameNodeStatus    `json:"namenodes"`
	JournalNodes []JournalNodeStatus `json:"journalnodes"`
	ZooKeeper    *ZooKeeperStatus    `json:"zookeeper,omitempty"`
	Hosts        []HostStatus        `json:"hosts"`
	// Blocks: per nameservice, the DataNodes and blocks its active
	// NameNode reports (only for a cluster with DataNodes).
	Blocks []BlockStatus `json:"blocks,omitempty"`
}

// NameNodeStatus is one NameNode.
type NameNodeStatus struct {
	Nameservice string `json:"nameservice"`
	ID          string `json:"id"`
	Host        string `json:"host"`
	HAState     string `json:"ha_state"` // active | standby | initializing | stopped | unknown
	PID         int    `json:"pid"`
	Running     bool   `json:"running"`
	Formatted   bool   `json:"formatted"`
	LastTxid    int64  `json:"last_txid"`
	ZKFCRunning bool   `json:"zkfc_running"`
	// Supervisor is the NameNode's supervisor's view (nil: no record).
	Supervisor *SupervisorView `json:"supervisor,omitempty"`
	// Sidecars: whether each per-NameNode daemon kind beside the NameNode
	// (the registry's StatusColumn kinds: zkfc) runs, by kind.
	Sidecars map[string]bool `json:"sidecars,omitempty"`
}

// JournalNodeStatus is one journal on one JournalNode.
type JournalNodeStatus struct {
	Host          string `json:"host"`
	JournalID     string `json:"journal_id"`
	Reachable     bool   `json:"reachable"`
	Running       bool   `json:"running"`
	PID           int    `json:"pid"`
	Formatted     bool   `json:"formatted"`
	Epoch         int64  `json:"epoch"`
	LastTxid      int64  `json:"last_txid"`
	CommittedTxid int64  `json:"committed_txid"`
	Lag           int64  `json:"lag"` // transactions behind the most advanced JournalNode of the journal
	// Supervisor is the JournalNode's supervisor's view (nil: no record).
	Supervisor *SupervisorView `json:"supervisor,omitempty"`
}

// ZooKeeperStatus is the quorum's health.
type ZooKeeperStatus struct {
	Managed      bool            `json:"managed"`
	Reachable    bool            `json:"reachable"`
	Error        string          `json:"error,omitempty"`
	ServersUp    []string        `json:"servers_up"`
	ParentZnodes map[string]bool `json:"parent_znodes"`
}

// HostStatus is one host and its daemons.
type HostStatus struct {
	Name           string         `json:"name"`
	Address        string         `json:"address"`
	Reachable      bool           `json:"reachable"`
	Error          string         `json:"error,omitempty"`
	RuntimeVersion string         `json:"runtime_version,omitempty"`
	Daemons        []DaemonStatus `json:"daemons"`
}

// DaemonStatus is one supervised daemon.
type DaemonStatus struct {
	Name        string `json:"name"`
	Kind        string `json:"kind,omitempty"`        // "" for a record of a kind this build does not know
	Nameservice string `json:"nameservice,omitempty"` // per-NameNode kinds
	NameNode    string `json:"namenode,omitempty"`
	Record      string `json:"record,omitempty"` // the supervisor record, when an earlier hactl named it otherwise
	Running     bool   `json:"running"`
	PID         int    `json:"pid,omitempty"`
	// Supervisor is what keeps it running, as its supervisor sees it.
	Supervisor SupervisorView `json:"supervisor"`
}

// Supervisor states as status shows them (the record's, plus what only the
// probe can tell).
const (
	SupervisorRunning    = "running"
	SupervisorBackoff    = "backoff"                   // the daemon crashed; its supervisor starts it again in NextStartIn s
	SupervisorFailed     = "failed"                    // its supervisor gave up after repeated fast crashes
	SupervisorStopped    = "stopped"                   // stopped, or never started
	SupervisorGone       = planner.StateSupervisorGone // its supervisor was killed (or the host rebooted): nothing restarts it
	SupervisorUnrecorded = "unrecorded"                // runs, but no record names it (its record was lost)
)

// SupervisorView is a daemon as its supervisor sees it.
type SupervisorView struct {
	State          string `json:"state"` // one of the Supervisor* constants (or the record's own state)
	Restarts       int    `json:"restarts"`
	LastExit       string `json:"last_exit,omitempty"`
	NextStartIn    *int   `json:"next_start_in_s,omitempty"` // backoff only
	UnrecordedPIDs []int  `json:"unrecorded_pids,omitempty"`
}

func supervisorView(d *planner.ObservedDaemon) SupervisorView {
	v := SupervisorView{State: SupervisorStopped, Restarts: d.Restarts, LastExit: d.LastExit, UnrecordedPIDs: d.Unrecorded}
	switch {
	case d.Running:
		v.State = SupervisorRunning
	case len(d.Unrecorded) > 0:
		v.State = SupervisorUnrecorded
	case d.State == SupervisorBackoff:
		v.State = SupervisorBackoff
		n := d.NextStartIn
		v.NextStartIn = &n
	case d.State != "" && d.State != supervise.StateRunning && d.State != supervise.StateStarting:
		v.State = d.State
	}
	return v
}

// Text is the view in a few words, for the tables: a crash-looping or
// failed daemon stands out.
func (v SupervisorView) Text() string {
	last := ""
	if v.LastExit != "" {
		last = ", last exit: " + v.LastExit
	}
	switch v.State {
	case SupervisorRunning:
		if v.Restarts > 0 {
			return fmt.Sprintf("running (%d restarts)", v.Restarts)
		}
		return "running"
	case SupervisorBackoff:
		next := 0
		if v.NextStartIn != nil {
			next = *v.NextStartIn
		}
		return fmt.Sprintf("BACKING OFF (%d restarts so far, next try in %ds%s)", v.Restarts, next, last)
	case SupervisorFailed:
		return fmt.Sprintf("FAILED (gave up after %d restarts%s)", v.Restarts, last)
	case SupervisorGone:
		return "DEAD (its supervisor is gone, nothing restarts it" + last + ")"
	case SupervisorUnrecorded:
		return fmt.Sprintf("RUNNING WITHOUT RECORD (pid %s)", strings.Trim(fmt.Sprint(v.UnrecordedPIDs), "[]"))
	}
	return v.State
}

// BuildStatus turns a probe into the status report.
func BuildStatus(c *schema.Cluster, obs *planner.Observed) *ClusterStatus {
	st := &ClusterStatus{NameNodes: []NameNodeStatus{}, JournalNodes: []JournalNodeStatus{}, Hosts: []HostStatus{}}
	host := func(name string) *planner.ObservedHost {
		if obs.Hosts[name] == nil {
			return &planner.ObservedHost{Name: name}
		}
		return obs.Hosts[name]
	}
	for _, h := range c.Hosts {
		oh := host(h.Name)
		hs := HostStatus{Name: h.Name, Address: h.Address, Reachable: oh.Reachable, Error: oh.Error, RuntimeVersion: oh.RuntimeVersion, Daemons: []DaemonStatus{}}
		names := make([]string, 0, len(oh.Daemons))
		for n := range oh.Daemons {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			d := oh.Daemons[n]
			ds := DaemonStatus{Name: n, Record: d.Record, Running: d.Running, PID: d.PID, Supervisor: supervisorView(d)}
			if id, ok := daemon.Parse(n); ok {
				ds.Kind, ds.Nameservice, ds.NameNode = string(id.Kind), id.Nameservice, id.NameNode
			} else if l, ok := daemon.ParseLegacy(n); ok {
				ds.Kind, ds.NameNode = string(l.Kind), l.NameNode
			}
			hs.Daemons = append(hs.Daemons, ds)
		}
		st.Hosts = append(st.Hosts, hs)
	}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			oh := host(nn.Host)
			s := NameNodeStatus{Nameservice: ns.Name, ID: nn.ID, Host: nn.Host, HAState: "unknown"}
			if d := oh.Daemon(daemon.NameNodeID(ns.Name, nn.ID)); d != nil {
				v := supervisorView(d)
				s.Supervisor = &v
				if d.Running {
					s.Running, s.PID = true, d.PID
				}
			}
			for _, k := range statusColumns() {
				d := oh.Daemon(daemon.OfNameNode(k.Kind, ns.Name, nn.ID))
				if s.Sidecars == nil {
					s.Sidecars = map[string]bool{}
				}
				s.Sidecars[string(k.Kind)] = d != nil && d.Running
			}
			s.ZKFCRunning = s.Sidecars[string(daemon.ZKFC)]
			if o := oh.NameNodes[planner.NameNodeKey(ns.Name, nn.ID)]; o != nil {
				s.Formatted, s.LastTxid = o.Formatted, o.LastTxid
				if o.HAState != "" {
					s.HAState = o.HAState
				}
			}
			switch {
			case !oh.Reachable:
				s.HAState = "unreachable"
			case !s.Running:
				s.HAState = "stopped"
			}
			st.NameNodes = append(st.NameNodes, s)
		}
		if ns.Journal == nil {
			continue
		}
		jid := planner.JournalID(ns)
		first := len(st.JournalNodes)
		var maxTxid int64
		for _, h := range ns.Journal.Hosts {
			oh := host(h)
			s := JournalNodeStatus{Host: h, JournalID: jid, Reachable: oh.Reachable}
			if d := oh.Daemon(daemon.Host(daemon.JournalNode)); d != nil {
				v := supervisorView(d)
				s.Supervisor = &v
				if d.Running {
					s.Running, s.PID = true, d.PID
				}
			}
			if j := oh.JournalNodes[jid]; j != nil {
				s.Formatted, s.Epoch, s.LastTxid, s.CommittedTxid = j.Formatted, j.LastWriterEpoch, j.LastTxid, j.CommittedTxid
			}
			maxTxid = max(maxTxid, s.LastTxid)
			st.JournalNodes = append(st.JournalNodes, s)
		}
		for i := first; i < len(st.JournalNodes); i++ {
			if st.JournalNodes[i].Reachable {
				st.JournalNodes[i].Lag = maxTxid - st.JournalNodes[i].LastTxid
			}
		}
	}
	if c.ZooKeeper != nil {
		z := &ZooKeeperStatus{Managed: c.ZooKeeper.Managed, ServersUp: []string{}, ParentZnodes: map[string]bool{}}
		if o := obs.ZooKeeper; o != nil {
			z.Reachable, z.Error = o.Reachable, o.Error
			z.ServersUp = append(z.ServersUp, o.ServersUp...)
			for k, v := range o.ParentZnodes {
				z.ParentZnodes[k] = v
			}
		}
		st.ZooKeeper = z
	}
	return st
}

// WriteText prints the status as tables.
func (st *ClusterStatus) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "NAMESERVICE\tNAMENODE\tHOST\tSTATE\tPID"
	for _, k := range statusColumns() {
		head += "\t" + k.StatusColumn
	}
	fmt.Fprintln(tw, head+"\tLAST TXID")
	for _, n := range st.NameNodes {
		state := n.HAState
		if n.HAState == "stopped" && n.Supervisor != nil {
			state = n.Supervisor.Text() // why it is down, and whether it comes back
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", n.Nameservice, n.ID, n.Host, state, pidText(n.PID))
		for _, k := range statusColumns() {
			mark := "-"
			if n.Sidecars[string(k.Kind)] {
				mark = "running"
			}
			line += "\t" + mark
		}
		fmt.Fprintf(tw, "%s\t%d\n", line, n.LastTxid)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "JOURNAL\tJOURNALNODE\tSTATE\tPID\tEPOCH\tLAST TXID\tCOMMITTED\tLAG")
	for _, j := range st.JournalNodes {
		state := "stopped"
		switch {
		case !j.Reachable:
			state = "unreachable"
		case j.Running:
			state = "running"
		case j.Supervisor != nil:
			state = j.Supervisor.Text()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", j.JournalID, j.Host, state, pidText(j.PID), j.Epoch, j.LastTxid, j.CommittedTxid, j.Lag)
	}
	if z := st.ZooKeeper; z != nil {
		fmt.Fprintln(tw)
		health := "unreachable"
		if z.Reachable {
			health = "healthy"
		}
		var znodes []string
		for ns, ok := range z.ParentZnodes {
			mark := "absent"
			if ok {
				mark = "present"
			}
			znodes = append(znodes, ns+" "+mark)
		}
		slices.Sort(znodes)
		fmt.Fprintf(tw, "ZOOKEEPER\t%s\tservers up: %s\tznodes: %s\n", health, strings.Join(z.ServersUp, ","), strings.Join(znodes, ", "))
		if z.Error != "" {
			fmt.Fprintf(tw, "\t%s\n", z.Error)
		}
	}
	st.writeBlocks(tw)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "HOST\tADDRESS\tDAEMON\tPID\tSUPERVISOR")
	for _, h := range st.Hosts {
		if !h.Reachable {
			fmt.Fprintf(tw, "%s\t%s\tUNREACHABLE: %s\t\t\n", h.Name, h.Address, h.Error)
			continue
		}
		if len(h.Daemons) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\n", h.Name, h.Address)
		}
		for _, d := range h.Daemons {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Name, h.Address, d.Name, pidText(d.PID), d.Supervisor.Text())
		}
	}
	return tw.Flush()
}

// statusColumns are the daemon kinds the NameNode table shows a column for
// (the registry's per-NameNode kinds with a StatusColumn).
func statusColumns() []daemon.Spec {
	var out []daemon.Spec
	for _, s := range daemon.Registry {
		if s.PerNameNode && s.StatusColumn != "" {
			out = append(out, s)
		}
	}
	return out
}

func pidText(pid int) string {
	if pid == 0 {
		return "-"
	}
	return fmt.Sprint(pid)
}

func runStatus(ctx context.Context, cmd *ucli.Command) error {
	out := cmd.Root().Writer
	format := cmd.String("format")
	if format != "text" && format != "json" {
		return usageError("--format must be text or json, not %q", format)
	}
	path, err := pathArgOrDot(cmd)
	if err != nil {
		return err
	}
	s, err := openSession(cmd, path, cmd.StringSlice("var"), cmd.StringSlice("var-file"))
	if err != nil {
		return err
	}
	defer s.Close()
	obs, err := s.probe(ctx)
	if err != nil {
		return err
	}
	st := BuildStatus(s.cluster, obs)
	fillBlocks(ctx, s.env(io.Discard, true).PublicClient(), s.cluster, st) // through the target, as plan and apply
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return st.WriteText(out)
}
