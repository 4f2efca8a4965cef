package planner

import "fmt"

// Change is how a step shows in the Terraform-style plan and which summary
// count it adds to.
type Change string

const (
	ChangeCreate  Change = "create"  // + : counts as "to add"
	ChangeUpdate  Change = "update"  // ~ : counts as "to change"
	ChangeReplace Change = "replace" // -/+ : counts as "to change"
	ChangeDestroy Change = "destroy" // - : counts as "to destroy"
	ChangeRead    Change = "read"    // <= : a check; not counted
)

// Sign is the Terraform-style marker of a change.
func (c Change) Sign() string {
	switch c {
	case ChangeCreate:
		return "+"
	case ChangeUpdate:
		return "~"
	case ChangeReplace:
		return "-/+"
	case ChangeDestroy:
		return "-"
	default:
		return "<="
	}
}

// Step is one unit of work on one host. Steps run in plan order; Depends
// names the earlier steps this one needs (for display and for a future
// parallel executor).
type Step struct {
	ID          string   `json:"id"`
	Host        string   `json:"host"`
	Action      Action   `json:"action"`
	Change      Change   `json:"change"`
	Daemon      string   `json:"daemon,omitempty"`      // supervisor name (daemon.ID.Name), for daemon steps
	Record      string   `json:"record,omitempty"`      // restart/stop: the running record's name when not Daemon (an earlier hactl's)
	Nameservice string   `json:"nameservice,omitempty"` // NameNode, ZKFC, format-zk, failover steps
	NameNode    string   `json:"namenode,omitempty"`    // NameNode ID (failover: the one to make active)
	Force       bool     `json:"force,omitempty"`       // format-namenode over existing data (--force-format)
	PurgeData   bool     `json:"purge_data,omitempty"`  // purge-data / destroy
	Reason      string   `json:"reason"`
	Disruptive  bool     `json:"disruptive"`
	Depends     []string `json:"depends,omitempty"`
	// SyncFrom are the hosts that held the journal when planned (sync-journal:
	// the old JournalNode set the new one copies from).
	SyncFrom []string `json:"sync_from,omitempty"`
}

// Subject names what the step acts on beyond the host ("hacluster/nn1").
func (s *Step) Subject() string {
	switch {
	case s.Nameservice != "" && s.NameNode != "":
		return s.Nameservice + "/" + s.NameNode
	case s.Nameservice != "":
		return s.Nameservice
	}
	return ""
}

// Title is "action subject" as printed by plan and apply.
func (s *Step) Title() string {
	if sub := s.Subject(); sub != "" {
		return fmt.Sprintf("%s %s", s.Action, sub)
	}
	return string(s.Action)
}

// ClusterPlan is the ordered steps that converge the hosts, plus what the operator
// must know about what was left out.
type ClusterPlan struct {
	Steps    []*Step  `json:"steps"`
	Warnings []string `json:"warnings,omitempty"`
	Destroy  bool     `json:"destroy,omitempty"`
}

// Summary counts the steps as Terraform's "Plan: N to add, M to change, K to destroy."
type Summary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

// Summary counts the plan's steps by change.
func (p *ClusterPlan) Summary() Summary {
	var s Summary
	for _, st := range p.Steps {
		switch st.Change {
		case ChangeCreate:
			s.Add++
		case ChangeUpdate, ChangeReplace:
			s.Change++
		case ChangeDestroy:
			s.Destroy++
		}
	}
	return s
}

// Empty reports whether the plan changes nothing.
func (p *ClusterPlan) Empty() bool {
	s := p.Summary()
	return s.Add+s.Change+s.Destroy == 0
}

func (s Summary) String() string {
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
}
