package planner

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the plan Terraform-style: one line per step with its
// change marker, host, action and reason, then the summary line and the
// warnings.
func (p *ClusterPlan) WriteText(w io.Writer) error {
	var b strings.Builder
	if len(p.Steps) == 0 || p.Empty() {
		if p.Destroy {
			b.WriteString("No changes. Nothing of hactl is installed on the reachable hosts.\n")
		} else {
			b.WriteString("No changes. The cluster matches the configuration.\n")
		}
	} else {
		b.WriteString("hactl will perform the following actions, in order:\n\n")
		hostW, titleW := 0, 0
		for _, s := range p.Steps {
			hostW = max(hostW, len(s.Host))
			titleW = max(titleW, len(s.Title()))
		}
		for i, s := range p.Steps {
			reason := s.Reason
			if s.Disruptive {
				reason = "[disruptive] " + reason
			}
			fmt.Fprintf(&b, "  %3s %2d. %-*s  %-*s  %s\n", s.Change.Sign(), i+1, hostW, s.Host, titleW, s.Title(), reason)
		}
		fmt.Fprintf(&b, "\n%s\n", p.Summary())
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "\nWarning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonPlan is the --format json shape of a plan.
type jsonPlan struct {
	FormatVersion int      `json:"format_version"`
	Destroy       bool     `json:"destroy,omitempty"`
	Steps         []*Step  `json:"steps"`
	Warnings      []string `json:"warnings"`
	Summary       Summary  `json:"summary"`
	Changes       bool     `json:"changes"`
}

// WriteJSON prints the plan as one JSON document.
func (p *ClusterPlan) WriteJSON(w io.Writer) error {
	steps := p.Steps
	if steps == nil {
		steps = []*Step{}
	}
	warnings := p.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonPlan{FormatVersion: 1, Destroy: p.Destroy, Steps: steps, Warnings: warnings,
		Summary: p.Summary(), Changes: !p.Empty()})
}
