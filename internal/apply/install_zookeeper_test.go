package apply

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

// installRecorder answers the install command of fake hosts, tracking how
// many run at once; the first install "installs" the jar for the machine.
type installRecorder struct {
	mu        sync.Mutex
	inFlight  int
	maxFlight int
	installed bool
	installs  []fake.InstallPackages
}

func (r *installRecorder) respond(h *fake.Host, c fake.Call) (targets.Result, error) {
	r.mu.Lock()
	r.inFlight++
	r.maxFlight = max(r.maxFlight, r.inFlight)
	r.installs = append(r.installs, c.Op.(fake.InstallPackages))
	r.mu.Unlock()
	// Hold the "dpkg lock" long enough that a concurrent install overlaps.
	time.Sleep(30 * time.Millisecond)
	r.mu.Lock()
	r.installed = true
	r.inFlight--
	r.mu.Unlock()
	if !c.Sudo {
		return targets.Result{ExitCode: 100, Stderr: []byte("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n")}, nil
	}
	return targets.Result{}, nil
}

// TestInstallZooKeeperSerializedOnOneMachine: target local with three hosts
// missing ZooKeeper installs one at a time (one dpkg on the machine), and
// every apt-get waits for the dpkg lock with a bounded timeout.
func TestInstallZooKeeperSerializedOnOneMachine(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "valid", "local", "cluster.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	c, diags := schema.LoadSources(map[string][]byte{"main.hcl": src}, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rec := &installRecorder{}
	hosts := map[string]targets.Host{}
	plan := &planner.ClusterPlan{}
	for _, h := range c.Hosts {
		fh := fake.New(h.Name, h.Address)
		fh.AddRule(&fake.Rule{Match: fake.IsInstall, Respond: rec.respond})
		hosts[h.Name] = fh
		plan.Steps = append(plan.Steps, &planner.Step{Host: h.Name, Action: planner.ActInstallZooKeeper})
	}
	env := &Env{Cluster: c, Hosts: hosts, Guard: &Guard{}, Out: &strings.Builder{}}
	if _, err := Execute(context.Background(), env, plan); err != nil {
		t.Fatal(err)
	}
	if rec.maxFlight != 1 {
		t.Errorf("%d installs ran at once on one machine", rec.maxFlight)
	}
	if len(rec.installs) != 3 {
		t.Fatalf("%d install commands, want 3", len(rec.installs))
	}
	for _, in := range rec.installs {
		if !slices.Equal(in.Packages, []string{"zookeeper"}) || len(in.AptGets) < 2 {
			t.Fatalf("install runs %d apt-get for %q: %+v", len(in.AptGets), in.Packages, in)
		}
		for _, a := range in.AptGets {
			timeout := ""
			for _, o := range a.Options {
				if v, ok := strings.CutPrefix(o, "DPkg::Lock::Timeout="); ok {
					timeout = v
				}
			}
			if n, err := strconv.Atoi(timeout); err != nil || n <= 0 {
				t.Errorf("apt-get %s without a bounded, positive dpkg lock timeout: options %q", a.Command, a.Options)
			}
		}
	}
}

// TestInstallZooKeeperParallelOnDistinctMachines: hosts that are machines of
// their own still install at once (serialisation is per machine only).
func TestInstallZooKeeperParallelOnDistinctMachines(t *testing.T) {
	c := loadFixture(t, "three", nil)
	var mu sync.Mutex
	inFlight, maxFlight := 0, 0
	all := make(chan struct{})
	hosts := map[string]targets.Host{}
	plan := &planner.ClusterPlan{}
	for _, h := range c.Hosts {
		fh := fake.New(h.Name, h.Address)
		fh.AddRule(&fake.Rule{Match: fake.IsInstall, Respond: func(*fake.Host, fake.Call) (targets.Result, error) {
			mu.Lock()
			inFlight++
			maxFlight = max(maxFlight, inFlight)
			if inFlight == len(c.Hosts) {
				close(all)
			}
			mu.Unlock()
			select { // every host's install is under way at once
			case <-all:
			case <-time.After(10 * time.Second):
			}
			return targets.Result{}, nil
		}})
		hosts[h.Name] = fh
		plan.Steps = append(plan.Steps, &planner.Step{Host: h.Name, Action: planner.ActInstallZooKeeper})
	}
	env := &Env{Cluster: c, Hosts: hosts, Guard: &Guard{}, Out: &strings.Builder{}}
	if _, err := Execute(context.Background(), env, plan); err != nil {
		t.Fatal(err)
	}
	if maxFlight != len(c.Hosts) {
		t.Errorf("installs on distinct machines ran %d at once, want %d", maxFlight, len(c.Hosts))
	}
}
