package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	ucli "github.com/urfave/cli/v3"
)

// Target ec2: hactl-ec2 (module ec2/, the Pulumi program) provisions the
// instances; hactl runs it and reads the host list it leaves. These are the
// hooks plan, apply and destroy call.

// ec2BinaryEnv names a hactl-ec2 to run instead of the one next to hactl or
// on PATH.
const ec2BinaryEnv = "HACTL_EC2"

func isEC2(c *schema.Cluster) bool { return c.Target != nil && c.Target.Kind == schema.TargetEC2 }

// provisionedAddresses gives an ec2 cluster's hosts the addresses of its
// provisioned instances (the host list the last up wrote), as apply
// renders them; it returns the hosts with no instance yet. Other targets:
// nothing.
func provisionedAddresses(c *schema.Cluster) ([]string, error) {
	if !isEC2(c) {
		return nil, nil
	}
	l, err := targets.ReadEC2HostList(c)
	if err != nil {
		return nil, err
	}
	return targets.ApplyEC2HostList(c, l), nil
}

// ec2Binary finds hactl-ec2: $HACTL_EC2, next to this hactl, then on PATH.
func ec2Binary() (string, error) {
	if p := os.Getenv(ec2BinaryEnv); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "hactl-ec2")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("hactl-ec2"); err == nil {
		return p, nil
	}
	return "", errors.New("target ec2 needs hactl-ec2, the provisioner (a binary of its own so the AWS SDK stays out of hactl's build): " +
		"build it with `make build-ec2` (or `cd ec2 && go build -o ~/bin/hactl-ec2 ./cmd/hactl-ec2`) and put it next to hactl or on PATH")
}

// runEC2 runs hactl-ec2 VERB on the session's configuration; its progress
// goes to errw, its JSON answer is returned.
func (s *session) runEC2(ctx context.Context, verb string, errw io.Writer) ([]byte, error) {
	bin, err := ec2Binary()
	if err != nil {
		return nil, err
	}
	args := []string{verb}
	for _, v := range s.vars {
		args = append(args, "--var", v)
	}
	for _, f := range s.varFiles {
		args = append(args, "--var-file", f)
	}
	args = append(args, s.path)
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, errw
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("hactl-ec2 %s: %w", verb, err)
	}
	return stdout.Bytes(), nil
}

// ec2Preview is what an up would change.
func (s *session) ec2Preview(ctx context.Context, errw io.Writer) ([]targets.EC2Change, error) {
	out, err := s.runEC2(ctx, "preview", errw)
	if err != nil {
		return nil, err
	}
	var changes []targets.EC2Change
	if err := json.Unmarshal(out, &changes); err != nil {
		return nil, fmt.Errorf("hactl-ec2 preview: unreadable answer: %w", err)
	}
	return changes, nil
}

var ec2OpMark = map[string]string{
	targets.EC2Create: "  +", targets.EC2Update: "  ~", targets.EC2Replace: "-/+", targets.EC2Delete: "  -",
}

// writeEC2Changes prints the EC2 resources an up changes, before the host
// steps. A change that loses a host's data (its instance is replaced or
// deleted with its volumes) says so, and that it needs --purge-data.
func writeEC2Changes(w io.Writer, c *schema.Cluster, changes []targets.EC2Change, purgeData bool) {
	if len(changes) == 0 {
		fmt.Fprintf(w, "EC2 (region %s): the instances, network and security groups match the configuration.\n\n", c.Target.EC2.Region)
		return
	}
	fmt.Fprintf(w, "EC2 (region %s): Pulumi will make these changes first:\n\n", c.Target.EC2.Region)
	width := 0
	for _, ch := range changes {
		width = max(width, len(ch.Type)+1+len(ch.Name))
	}
	count := map[string]int{}
	losing := 0
	for _, ch := range changes {
		count[ch.Op]++
		var why []string
		if ch.Host != "" {
			h := "host " + ch.Host
			if ch.Role != "" {
				h += " (" + ch.Role + ")"
			}
			why = append(why, h)
		}
		if len(ch.Keys) > 0 {
			verb := "changes"
			if ch.Op == targets.EC2Replace {
				verb = "replaced for"
			}
			why = append(why, verb+" "+strings.Join(ch.Keys, ", "))
		}
		if ch.LosesData() {
			losing++
			why = append(why, "the data on its volumes is LOST")
			if ch.Op == targets.EC2Replace && ch.Role == schema.RoleMaster {
				why = append(why, "replace host: the new instance takes the journal from its peers and bootstrapStandby from a formatted NameNode, never a format")
			}
		}
		line := fmt.Sprintf("  %s %-7s %-*s  %s", ec2OpMark[ch.Op], ch.Op, width, ch.Type+" "+ch.Name, strings.Join(why, "; "))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "\nEC2: %d to create, %d to change, %d to replace, %d to delete.\n",
		count[targets.EC2Create], count[targets.EC2Update], count[targets.EC2Replace], count[targets.EC2Delete])
	if losing > 0 && !purgeData {
		fmt.Fprintf(w, "%d of them lose a host's data: hactl apply makes them only with --purge-data.\n", losing)
	}
	fmt.Fprintln(w)
}

// writeEC2PlanJSON is plan --format json on target ec2: the host plan's
// object (none while hosts have no instance) with an "ec2" member holding
// the EC2 changes and the hosts not provisioned yet.
func writeEC2PlanJSON(w io.Writer, changes []targets.EC2Change, unprovisioned []string, plan *planner.ClusterPlan) error {
	obj := map[string]json.RawMessage{}
	if plan != nil {
		var buf bytes.Buffer
		if err := plan.WriteJSON(&buf); err != nil {
			return err
		}
		if err := json.Unmarshal(buf.Bytes(), &obj); err != nil {
			return err
		}
	} else {
		obj["steps"] = json.RawMessage("[]")
		obj["changes"] = json.RawMessage("true") // the instances themselves
	}
	if changes == nil {
		changes = []targets.EC2Change{}
	}
	if unprovisioned == nil {
		unprovisioned = []string{}
	}
	ec2, err := json.Marshal(struct {
		Changes       []targets.EC2Change `json:"changes"`
		Unprovisioned []string            `json:"unprovisioned"`
	}{changes, unprovisioned})
	if err != nil {
		return err
	}
	obj["ec2"] = ec2
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(obj)
}

// ec2Losing counts the changes that lose a host's data.
func ec2Losing(changes []targets.EC2Change) int {
	n := 0
	for _, ch := range changes {
		if ch.LosesData() {
			n++
		}
	}
	return n
}

// ec2Unprovisioned is the refusal to plan or apply host steps for hosts
// whose instances do not exist yet.
func ec2Unprovisioned(hosts []string) string {
	return fmt.Sprintf("Host steps: planned once the instances exist (%s have none yet); hactl apply provisions them first, then plans and applies the hosts.\n",
		strings.Join(hosts, ", "))
}

// ec2Up provisions before apply plans the hosts: it shows what Pulumi will
// change, refuses changes that lose a host's data without --purge-data and
// a saved plan that EC2 changes would outdate, asks, then runs up. It says
// whether it provisioned (the host list changed).
func (s *session) ec2Up(ctx context.Context, cmd *ucli.Command, savedPlan, dry bool) (bool, error) {
	out, errw := cmd.Root().Writer, cmd.Root().ErrWriter
	changes, err := s.ec2Preview(ctx, errw)
	if err != nil {
		return false, exitCode(1, err)
	}
	purge := cmd.Bool("purge-data")
	writeEC2Changes(out, s.cluster, changes, purge)
	if len(changes) == 0 {
		return false, nil
	}
	if savedPlan {
		return false, exitCode(1, errors.New("the EC2 resources changed since the plan was saved (a saved plan covers the hosts only): run hactl plan again"))
	}
	if n := ec2Losing(changes); n > 0 && !purge {
		return false, exitCode(1, fmt.Errorf("%d EC2 changes replace or remove instances, deleting the data on their volumes: nothing was changed; rerun with --purge-data to allow it", n))
	}
	if dry {
		fmt.Fprintln(out, "Dry run: no EC2 resource is created or changed; the host steps follow once they are.")
		return false, nil
	}
	if !cmd.Bool("auto-approve") && !approve(cmd, "Do you want Pulumi to make these EC2 changes?", "hactl-ec2 will create, change or remove the resources above, then hactl plans the hosts.") {
		return false, exitCode(1, errors.New("Apply cancelled."))
	}
	if _, err := s.runEC2(ctx, "up", errw); err != nil {
		return false, exitCode(1, err)
	}
	return true, nil
}

// ec2DestroyDetail adds to destroy's question what happens to the instances.
func ec2DestroyDetail(purge bool) string {
	if purge {
		return " Then Pulumi REMOVES the instances, their volumes, the security groups and the network hactl created."
	}
	return " The instances stay (removing them deletes their volumes: --purge-data)."
}

// ec2Destroy removes the instances after destroy stopped the daemons, only
// with --purge-data: the instances' volumes hold the namespace. It asks
// unless destroy's question (which named the instances) was asked.
func (s *session) ec2Destroy(ctx context.Context, cmd *ucli.Command, dry, asked bool) error {
	out := cmd.Root().Writer
	if !cmd.Bool("purge-data") {
		fmt.Fprintln(out, "\nThe EC2 instances stay: removing them deletes the data on their volumes. hactl destroy --purge-data removes them.")
		return nil
	}
	if dry {
		fmt.Fprintln(out, "\nDry run: the EC2 instances, their volumes, security groups and network would be removed; nothing was.")
		return nil
	}
	if !asked && !cmd.Bool("auto-approve") &&
		!approve(cmd, "Do you really want to remove the EC2 resources?", "Pulumi will remove every resource of the stack.") {
		return exitCode(1, errors.New("Destroy cancelled."))
	}
	if _, err := s.runEC2(ctx, "destroy", cmd.Root().ErrWriter); err != nil {
		return exitCode(1, err)
	}
	fmt.Fprintln(out, "\nThe EC2 resources are removed.")
	return nil
}
