// Package stack runs target ec2's Pulumi program inline through the
// Automation API: preview (what plan shows), up (then the host list),
// destroy. The state lives in the configured backend, by default a file
// backend under hactl's state dir.
package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/hactl/hactl/ec2/program"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Project is the Pulumi project every hactl stack belongs to.
const Project = "hactl"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Name is the stack of cluster c: its nameservices, joined (the same
// cluster gets the same stack from every checkout of its configuration).
func Name(c *schema.Cluster) string {
	var parts []string
	for _, ns := range c.Nameservices {
		parts = append(parts, ns.Name)
	}
	n := unsafeName.ReplaceAllString(strings.Join(parts, "-"), "-")
	if n == "" {
		n = "cluster"
	}
	return n
}

// Open selects (or creates) the stack of c in its backend, with the
// program inline and the region set.
func Open(ctx context.Context, c *schema.Cluster) (auto.Stack, error) {
	return open(ctx, c, program.Program(c, Name(c)))
}

// open is Open with the program given (tests run the engine with one that
// declares no AWS resource).
func open(ctx context.Context, c *schema.Cluster, prog pulumi.RunFunc) (auto.Stack, error) {
	backend := c.EC2BackendURL()
	if dir, ok := strings.CutPrefix(backend, "file://"); ok {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return auto.Stack{}, fmt.Errorf("create the state dir: %w", err)
		}
	}
	name := Name(c)
	proj := workspace.Project{
		Name:    Project,
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Backend: &workspace.ProjectBackend{URL: backend},
	}
	s, err := auto.UpsertStackInlineSource(ctx, name, Project, prog,
		auto.Project(proj), auto.SecretsProvider("passphrase"),
		// hactl reaches AWS and the backend only: no update check.
		auto.EnvVars(map[string]string{"PULUMI_SKIP_UPDATE_CHECK": "true"}))
	if err != nil {
		return auto.Stack{}, fmt.Errorf("open stack %s in %s: %w", name, backend, err)
	}
	if err := s.SetConfig(ctx, "aws:region", auto.ConfigValue{Value: c.Target.EC2.Region}); err != nil {
		return auto.Stack{}, fmt.Errorf("set the region: %w", err)
	}
	return s, nil
}

// Preview returns what an up would change.
func Preview(ctx context.Context, c *schema.Cluster, progress io.Writer) ([]targets.EC2Change, error) {
	s, err := Open(ctx, c)
	if err != nil {
		return nil, err
	}
	return preview(ctx, c, s, progress)
}

func preview(ctx context.Context, c *schema.Cluster, s auto.Stack, progress io.Writer) ([]targets.EC2Change, error) {
	ch := make(chan events.EngineEvent)
	var evs []apitype.EngineEvent
	done := make(chan struct{})
	go func() {
		for e := range ch {
			evs = append(evs, e.EngineEvent)
		}
		close(done)
	}()
	_, err := s.Preview(ctx, optpreview.EventStreams(ch), optpreview.ProgressStreams(progress))
	<-done
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return Changes(c, Name(c), evs), nil
}

// Up provisions, writes the host list and returns it.
func Up(ctx context.Context, c *schema.Cluster, progress io.Writer) (*targets.EC2HostList, error) {
	s, err := Open(ctx, c)
	if err != nil {
		return nil, err
	}
	return up(ctx, c, s, progress)
}

func up(ctx context.Context, c *schema.Cluster, s auto.Stack, progress io.Writer) (*targets.EC2HostList, error) {
	res, err := s.Up(ctx, optup.ProgressStreams(progress))
	if err != nil {
		return nil, fmt.Errorf("up: %w", err)
	}
	l, err := HostList(c, res.Outputs)
	if err != nil {
		return nil, err
	}
	if err := targets.WriteEC2HostList(c, l); err != nil {
		return nil, err
	}
	return l, nil
}

// Destroy removes every resource of the stack, then the host list.
func Destroy(ctx context.Context, c *schema.Cluster, progress io.Writer) error {
	s, err := Open(ctx, c)
	if err != nil {
		return err
	}
	return destroy(ctx, c, s, progress)
}

func destroy(ctx context.Context, c *schema.Cluster, s auto.Stack, progress io.Writer) error {
	if _, err := s.Destroy(ctx, optdestroy.ProgressStreams(progress)); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	if err := os.Remove(targets.EC2HostsPath(c)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove the host list: %w", err)
	}
	return nil
}

// HostList turns the stack's outputs into the host list.
func HostList(c *schema.Cluster, out auto.OutputMap) (*targets.EC2HostList, error) {
	l := &targets.EC2HostList{Hosts: map[string]targets.EC2Instance{}}
	if b, ok := out[program.OutputBastion].Value.(string); ok && b != "" {
		l.Bastion = b // reached as the hosts' SSH user
	}
	hosts, ok := out[program.OutputHosts].Value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the stack has no %q output: was it created by this hactl?", program.OutputHosts)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	for name, v := range hosts {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("output %s.%s is %T, not an object", program.OutputHosts, name, v)
		}
		in := targets.EC2Instance{Address: str(m, "address"), PublicAddress: str(m, "public_address"),
			InstanceID: str(m, "instance_id"), Group: str(m, "group"), Zone: str(m, "zone")}
		if in.Address == "" {
			return nil, fmt.Errorf("instance of host %s has no private address", name)
		}
		l.Hosts[name] = in
	}
	return l, nil
}

// Changes turns the engine events of a preview into the changes plan
// shows: one per resource that is created, updated, replaced or deleted.
// An instance is named by the host it stands for, with its role (from the
// configuration, or from its hactl:role tag when the configuration no
// longer names it).
func Changes(c *schema.Cluster, stack string, evs []apitype.EngineEvent) []targets.EC2Change {
	role := map[string]string{}
	for _, g := range c.Target.EC2.InstanceGroups {
		for _, h := range g.InstanceNames() {
			role[h] = g.Role
		}
	}
	var out []targets.EC2Change
	for _, e := range evs {
		if e.ResourcePreEvent == nil {
			continue
		}
		m := e.ResourcePreEvent.Metadata
		var op string
		switch m.Op {
		case apitype.OpCreate:
			op = targets.EC2Create
		case apitype.OpUpdate:
			op = targets.EC2Update
		case apitype.OpReplace:
			op = targets.EC2Replace
		case apitype.OpDelete:
			op = targets.EC2Delete
		default:
			continue // same, read, and the replacement's create/delete halves
		}
		if strings.HasPrefix(m.Type, "pulumi:") {
			continue // the stack and the provider
		}
		ch := targets.EC2Change{Op: op, Type: m.Type, Name: urnName(m.URN)}
		if op == targets.EC2Replace {
			ch.Keys = append(ch.Keys, m.Keys...)
		} else if op == targets.EC2Update {
			ch.Keys = append(ch.Keys, m.Diffs...)
		}
		sort.Strings(ch.Keys)
		if m.Type == instanceType && ch.Name != stack+"-bastion" {
			if h, ok := strings.CutPrefix(ch.Name, stack+"-"); ok {
				ch.Host, ch.Role = h, role[h]
				if ch.Role == "" {
					ch.Role = oldTag(m.Old, program.TagRole)
				}
			}
		}
		out = append(out, ch)
	}
	return out
}

const instanceType = "aws:ec2/instance:Instance"

// oldTag is tag key of the resource's state before the change.
func oldTag(old *apitype.StepEventStateMetadata, key string) string {
	if old == nil {
		return ""
	}
	tags, _ := old.Inputs["tags"].(map[string]any)
	v, _ := tags[key].(string)
	return v
}

// urnName is the last part of a URN: its resource's name.
func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}
