package cli

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
)

// Status shows each daemon as its supervisor sees it: a NameNode backing off
// between restarts (how many so far, when the next try is), a JournalNode
// whose supervisor gave up (and its last exit), a ZKFC whose supervisor was
// killed, one running without a record; at a glance in the text and in the
// JSON.
func TestStatusShowsTheSupervisorsView(t *testing.T) {
	c, diags := schema.Load("../testdata/plans/fixtures/three.hcl", schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	nn := daemon.NameNodeID("hacluster", "dnn").Name()
	zkfc := daemon.OfNameNode(daemon.ZKFC, "hacluster", "dnn").Name()
	obs := &planner.Observed{Hosts: map[string]*planner.ObservedHost{
		"dim": {Name: "dim", Reachable: true, Daemons: map[string]*planner.ObservedDaemon{
			nn:            {State: "backoff", SupervisorAlive: true, Restarts: 3, LastExit: "signal: killed", NextStartIn: 4},
			"journalnode": {State: "failed", Restarts: 4, LastExit: "exit status 1"},
			zkfc:          {State: "dead", LastExit: "signal: killed"},
			"zookeeper":   {Running: true, PID: 77, State: "running", SupervisorAlive: true, Restarts: 2},
		}},
		"oim": {Name: "oim", Reachable: true, Daemons: map[string]*planner.ObservedDaemon{
			daemon.NameNodeID("hacluster", "onn").Name(): {Unrecorded: []int{4242}},
		}},
	}}
	st := BuildStatus(c, obs)
	var text bytes.Buffer
	if err := st.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`hacluster\s+dnn\s+dim\s+BACKING OFF \(3 restarts so far, next try in 4s, last exit: signal: killed\)`,
		`hacluster\s+dim\s+FAILED \(gave up after 4 restarts, last exit: exit status 1\)`,
		`dim\s+\S+\s+` + regexp.QuoteMeta(zkfc) + `\s+-\s+DEAD \(its supervisor is gone`,
		`dim\s+\S+\s+zookeeper\s+77\s+running \(2 restarts\)`,
		`oim\s+\S+\s+namenode\.hacluster\.onn\s+-\s+RUNNING WITHOUT RECORD \(pid 4242\)`,
	} {
		if !regexp.MustCompile(re).MatchString(text.String()) {
			t.Errorf("status text lacks %s:\n%s", re, text.String())
		}
	}
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NameNodes []struct {
			ID         string
			HAState    string `json:"ha_state"`
			Supervisor *struct {
				State       string `json:"state"`
				Restarts    int    `json:"restarts"`
				NextStartIn *int   `json:"next_start_in_s"`
			} `json:"supervisor"`
		} `json:"namenodes"`
		JournalNodes []struct {
			Host       string
			Supervisor *struct {
				State    string `json:"state"`
				LastExit string `json:"last_exit"`
			} `json:"supervisor"`
		} `json:"journalnodes"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, n := range doc.NameNodes {
		switch n.ID {
		case "dnn":
			if n.HAState != "stopped" || n.Supervisor == nil || n.Supervisor.State != "backoff" || n.Supervisor.Restarts != 3 ||
				n.Supervisor.NextStartIn == nil || *n.Supervisor.NextStartIn != 4 {
				t.Errorf("dnn in JSON: %+v %+v", n, n.Supervisor)
			}
		case "onn":
			if n.Supervisor == nil || n.Supervisor.State != "unrecorded" {
				t.Errorf("onn in JSON: %+v", n.Supervisor)
			}
		case "jnn":
			if n.Supervisor != nil {
				t.Errorf("jnn has no record: %+v", n.Supervisor)
			}
		}
	}
	for _, j := range doc.JournalNodes {
		if j.Host == "dim" && (j.Supervisor == nil || j.Supervisor.State != "failed" || j.Supervisor.LastExit != "exit status 1") {
			t.Errorf("dim's journalnode in JSON: %+v", j.Supervisor)
		}
	}
}
