package apply

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

// nameNodeInfo is a NameNodeInfo answer in Hadoop's shape: LiveNodes,
// DeadNodes and DecomNodes are JSON documents inside JSON strings.
func nameNodeInfo(live, dead, decom string) string {
	q := func(s string) string { b := fmt.Sprintf("%q", s); return b }
	return `{"beans":[{"name":"Hadoop:service=NameNode,name=NameNodeInfo","LiveNodes":` + q(live) +
		`,"DeadNodes":` + q(dead) + `,"DecomNodes":` + q(decom) + `}]}`
}

func TestParseNameNodeInfo(t *testing.T) {
	body := nameNodeInfo(
		`{"192.168.1.6:9866":{"infoAddr":"192.168.1.6:9864","xferaddr":"192.168.1.6:9866","lastContact":1,"usedSpace":4096,"adminState":"In Service","capacity":1000000,"remaining":900000,"numBlocks":3},`+
			`"192.168.1.12:9866":{"xferaddr":"192.168.1.12:9866","adminState":"Decommission In Progress","numBlocks":2}}`,
		`{"192.168.1.11:9866":{"lastContact":700,"decommissioned":true,"adminState":"Decommissioned","xferaddr":"192.168.1.11:9866"}}`,
		`{"192.168.1.12:9866":{"underReplicatedBlocks":2,"decommissionOnlyReplicas":0,"xferaddr":"192.168.1.12:9866"}}`)
	dns, err := ParseNameNodeInfo([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(dns) != 3 {
		t.Fatalf("datanodes = %+v", dns)
	}
	by := map[string]DataNodeInfo{}
	for _, d := range dns {
		by[d.Name] = d
	}
	if d := by["192.168.1.6:9866"]; !d.Live || d.AdminState != AdminInService || d.Capacity != 1000000 || d.Used != 4096 || d.NumBlocks != 3 || d.IsDecommissioned() {
		t.Errorf("in service: %+v", d)
	}
	if d := by["192.168.1.12:9866"]; !d.Live || d.AdminState != AdminDecommissionIP || d.IsDecommissioned() || !d.Is("192.168.1.12") || !d.Is("192.168.1.12:9866") || d.Is("192.168.1.1") {
		t.Errorf("decommissioning: %+v", d)
	}
	if d := by["192.168.1.11:9866"]; d.Live || !d.IsDecommissioned() {
		t.Errorf("dead, decommissioned: %+v", d)
	}
	if _, err := ParseNameNodeInfo([]byte(`{"beans":[]}`)); err == nil {
		t.Error("a NameNode without the bean was read as one without DataNodes")
	}
	if _, err := ParseNameNodeInfo([]byte(`{"beans":[{"LiveNodes":"{not json"}]}`)); err == nil {
		t.Error("a broken LiveNodes was accepted")
	}
}

// fakeNameNodes answers the NameNodes' refreshNodes and NameNodeInfo: after
// the refresh, kim's DataNode is "Decommission In Progress" for inProgress
// polls of each NameNode, then Decommissioned.
type fakeNameNodes struct {
	mu         sync.Mutex
	inProgress int
	refreshed  map[string]int // NameNode HTTP address -> refreshes
	polls      map[string]int
	down       map[string]bool // not running: connection refused
}

func (f *fakeNameNodes) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[r.URL.Host] {
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused", r.URL.Host)
	}
	resp := func(code int, body string) *http.Response {
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/dfsadmin/refreshNodes":
		f.refreshed[r.URL.Host]++
		return resp(200, `{}`), nil
	case r.URL.Path == "/jmx":
		state := "In Service"
		if f.refreshed[r.URL.Host] > 0 {
			f.polls[r.URL.Host]++
			state = "Decommission In Progress"
			if f.polls[r.URL.Host] > f.inProgress {
				state = "Decommissioned"
			}
		}
		return resp(200, nameNodeInfo(`{"192.168.1.12:9866":{"xferaddr":"192.168.1.12:9866","adminState":"`+state+`"},`+
			`"192.168.1.6:9866":{"xferaddr":"192.168.1.6:9866","adminState":"In Service"}}`, `{}`, `{}`)), nil
	}
	return resp(404, "no such path"), nil
}

func dataNodeEnv(t *testing.T, nns *fakeNameNodes) (*Env, map[string]*fake.Host) {
	c := loadFixture(t, "dn3", nil)
	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]targets.Host{}
	fakes := map[string]*fake.Host{}
	for _, h := range c.Hosts {
		f := fake.New(h.Name, h.Address)
		f.AddRule(&fake.Rule{Match: fake.Any, Respond: func(fh *fake.Host, call fake.Call) (targets.Result, error) {
			if op, ok := call.Op.(fake.FileRead); ok {
				if file, ok := fh.File(op.Path); ok {
					return targets.Result{Stdout: file.Data}, nil
				}
			}
			return targets.Result{}, nil
		}})
		hosts[h.Name], fakes[h.Name] = f, f
	}
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return &Env{Cluster: c, Desired: d, Hosts: hosts, Guard: &Guard{}, HTTP: &http.Client{Transport: nns},
		Now: clk.Now, Sleep: clk.Sleep, ReadyTimeout: time.Minute, DecommissionTimeout: time.Hour}, fakes
}

func newFakeNameNodes(inProgress int) *fakeNameNodes {
	return &fakeNameNodes{inProgress: inProgress, refreshed: map[string]int{}, polls: map[string]int{}, down: map[string]bool{}}
}

func decommissionStep() *planner.Step {
	return &planner.Step{Host: "kim", Action: planner.ActDecommissionDataNode, Daemon: daemon.Host(daemon.DataNode).Name()}
}

// Decommission writes the DataNode's address into the exclude file of every
// NameNode host (keeping what is there), has every NameNode re-read it, and
// returns only once every NameNode reports it Decommissioned.
func TestDecommissionWaitsForEveryNameNode(t *testing.T) {
	nns := newFakeNameNodes(3)
	env, fakes := dataNodeEnv(t, nns)
	nns.down["192.168.1.11:9870"] = true // jnn is not running: it reads the file when it starts
	exclude := env.Cluster.HostsExcludeFile("dim")
	fakes["dim"].SetFile(exclude, []byte("# retired\n10.0.0.9\n"), 0o644)
	r, err := New(decommissionStep())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"dim", "oim", "jim"} {
		f, ok := fakes[h].File(env.Cluster.HostsExcludeFile(h))
		if !ok || !bytes.HasSuffix(f.Data, []byte("192.168.1.12\n")) {
			t.Errorf("%s: exclude file = %q", h, f.Data)
		}
	}
	if f, _ := fakes["dim"].File(exclude); string(f.Data) != "10.0.0.9\n192.168.1.12\n" {
		t.Errorf("dim: exclude file = %q, want the earlier entry kept", f.Data)
	}
	if _, ok := fakes["kim"].File(env.Cluster.HostsExcludeFile("kim")); ok {
		t.Error("the exclude file was written on kim, which runs no NameNode")
	}
	for _, nn := range []string{"192.168.1.6:9870", "192.168.1.132:9870"} {
		if nns.refreshed[nn] != 1 || nns.polls[nn] <= 3 {
			t.Errorf("NameNode %s: %d refreshes, %d polls", nn, nns.refreshed[nn], nns.polls[nn])
		}
	}

	// Run again (an apply re-run): nothing to write, no second refresh.
	if err := r.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if nns.refreshed["192.168.1.6:9870"] != 1 {
		t.Errorf("refreshes after a re-run: %d", nns.refreshed["192.168.1.6:9870"])
	}
}

func TestDecommissionTimesOut(t *testing.T) {
	nns := newFakeNameNodes(1 << 30)
	env, _ := dataNodeEnv(t, nns)
	env.DecommissionTimeout = time.Minute
	r, _ := New(decommissionStep())
	err := r.Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "Decommission In Progress") || !strings.Contains(err.Error(), "still not done") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecommissionDryRunTouchesNothing(t *testing.T) {
	nns := newFakeNameNodes(0)
	env, fakes := dataNodeEnv(t, nns)
	env.Guard.DryRun = true
	r, _ := New(decommissionStep())
	if err := r.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if _, ok := fakes["dim"].File(env.Cluster.HostsExcludeFile("dim")); ok || len(nns.refreshed) > 0 {
		t.Errorf("dry run wrote the exclude file or refreshed: %v", nns.refreshed)
	}
	got := strings.Join(env.Guard.Drain(), "\n")
	if !strings.Contains(got, "dfs.hosts.exclude") || !strings.Contains(got, "/dfsadmin/refreshNodes") {
		t.Errorf("dry run announced:\n%s", got)
	}
}

// A DataNode that comes back into the configuration leaves the exclude
// file before it starts, or the NameNodes would decommission it again.
func TestRecommissionOnStart(t *testing.T) {
	nns := newFakeNameNodes(0)
	env, fakes := dataNodeEnv(t, nns)
	for _, h := range []string{"dim", "oim", "jim"} {
		fakes[h].SetFile(env.Cluster.HostsExcludeFile(h), []byte("192.168.1.11\n192.168.1.12\n"), 0o644)
	}
	if err := recommission(context.Background(), env, "jim", daemon.Host(daemon.DataNode)); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"dim", "oim", "jim"} {
		if f, _ := fakes[h].File(env.Cluster.HostsExcludeFile(h)); string(f.Data) != "192.168.1.12\n" {
			t.Errorf("%s: exclude file = %q", h, f.Data)
		}
	}
	if nns.refreshed["192.168.1.6:9870"] != 1 {
		t.Errorf("refreshes = %v", nns.refreshed)
	}
	// Not excluded: nothing written, nothing refreshed.
	if err := recommission(context.Background(), env, "dim", daemon.Host(daemon.DataNode)); err != nil {
		t.Fatal(err)
	}
	if nns.refreshed["192.168.1.6:9870"] != 1 {
		t.Errorf("refreshes after a no-op = %v", nns.refreshed)
	}
}

// The whole life of a DataNode in the simulated cluster: a fresh apply
// starts four, taking one out of the configuration decommissions it before
// its stop (the sim checks every NameNode host excludes it by then), and
// putting it back starts it with the exclude files cleared.
func TestApplyDataNodesDecommissionAndReturn(t *testing.T) {
	c4 := loadFixture(t, "dn4", nil)
	c3 := loadFixture(t, "dn3", nil)
	s := newSim(t, c4)
	bin := testBinary(t)
	dn := daemon.Host(daemon.DataNode).Name()
	apply := func(c *schema.Cluster, what string) *planner.ClusterPlan {
		t.Helper()
		s.c = c
		plan, out, err := s.apply(c, bin, false)
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		if len(s.violations) > 0 {
			t.Fatalf("%s: safety violations: %v", what, s.violations)
		}
		again, err := planner.Plan(c, s.observe(), planner.Options{RuntimeSHA256: bin.SHA256})
		if err != nil || !again.Empty() {
			var b strings.Builder
			again.WriteText(&b)
			t.Fatalf("%s: second plan not empty (err %v):\n%s", what, err, b.String())
		}
		return plan
	}
	apply(c4, "fresh apply")
	for _, h := range c4.Hosts {
		if !s.running(h.Name, dn) {
			t.Errorf("fresh apply: no DataNode on %s", h.Name)
		}
	}
	plan := apply(c3, "decommission kim")
	var actions []string
	for _, st := range plan.Steps {
		if st.Host == "kim" {
			actions = append(actions, string(st.Action))
		}
	}
	if strings.Join(actions, ",") != "write-config,decommission-datanode,stop-datanode" {
		t.Errorf("kim's steps: %v", actions)
	}
	if s.running("kim", dn) || !s.excludedEverywhere("192.168.1.12") {
		t.Errorf("after the decommission: running %v, excluded %v", s.running("kim", dn), s.excludedEverywhere("192.168.1.12"))
	}
	apply(c4, "kim back")
	if !s.running("kim", dn) {
		t.Error("kim's DataNode did not come back")
	}
	for _, h := range []string{"dim", "oim", "jim"} {
		if f, _ := s.fakes[h].File(c4.HostsExcludeFile(h)); len(f.Data) != 0 {
			t.Errorf("%s: exclude file after kim came back: %q", h, f.Data)
		}
	}
}

func TestParseFSNamesystem(t *testing.T) {
	f, err := ParseFSNamesystem([]byte(`{"beans":[{"name":"Hadoop:service=NameNode,name=FSNamesystem","CapacityTotal":300,"CapacityUsed":120,"CapacityRemaining":170,
		"BlocksTotal":40,"MissingBlocks":1,"UnderReplicatedBlocks":5,"CorruptBlocks":2,"NumLiveDataNodes":3,"NumDeadDataNodes":1,"NumDecommissioningDataNodes":1,"tag.HAState":"active"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := BlockFigures{CapacityTotal: 300, CapacityUsed: 120, CapacityRemaining: 170, BlocksTotal: 40, MissingBlocks: 1,
		UnderReplicatedBlocks: 5, CorruptBlocks: 2, NumLiveDataNodes: 3, NumDeadDataNodes: 1, NumDecommissioning: 1}
	if *f != want {
		t.Errorf("figures = %+v, want %+v", *f, want)
	}
	if _, err := ParseFSNamesystem([]byte(`{"beans":[]}`)); err == nil {
		t.Error("no bean accepted")
	}
}

type dnStatusStub struct{ body string }

func (s dnStatusStub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "192.168.1.12:9864" || r.URL.Path != "/dn/status" {
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused", r.URL.Host)
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader(s.body)), Header: http.Header{}}, nil
}

// A DataNode is ready once its /dn/status says so; until then the error
// names the NameNodes it is not registered with.
func TestDataNodeReadiness(t *testing.T) {
	env, _ := dataNodeEnv(t, newFakeNameNodes(0))
	env.Cluster = loadFixture(t, "dn4", nil) // kim runs a DataNode
	waiting := `{"ready":false,"nameservices":[{"nameservice":"hacluster","namenodes":{"dnn":"registered","onn":"connecting"}}]}`
	err := dataNodeReady(context.Background(), env, &http.Client{Transport: dnStatusStub{waiting}}, "kim")
	if err == nil || !strings.Contains(err.Error(), "hacluster/onn connecting") || strings.Contains(err.Error(), "dnn") {
		t.Errorf("not ready: %v", err)
	}
	ready := `{"ready":true,"nameservices":[{"nameservice":"hacluster","namenodes":{"dnn":"registered","onn":"connecting"}}]}`
	if err := dataNodeReady(context.Background(), env, &http.Client{Transport: dnStatusStub{ready}}, "kim"); err != nil {
		t.Errorf("ready: %v", err)
	}
	if err := dataNodeReady(context.Background(), env, &http.Client{Transport: dnStatusStub{ready}}, "dim"); err == nil {
		t.Error("a DataNode that is not up is ready")
	}
}

// A DataNode still starts while a NameNode host is unreachable: its exclude
// file is left as it is; a decommission, which must reach every NameNode
// host, fails instead.
func TestExcludeFilesWithAnUnreachableNameNodeHost(t *testing.T) {
	nns := newFakeNameNodes(0)
	env, fakes := dataNodeEnv(t, nns)
	fakes["oim"].Unreachable = true
	fakes["dim"].SetFile(env.Cluster.HostsExcludeFile("dim"), []byte("192.168.1.11\n"), 0o644)
	if err := recommission(context.Background(), env, "jim", daemon.Host(daemon.DataNode)); err != nil {
		t.Fatalf("recommission with oim away: %v", err)
	}
	if f, _ := fakes["dim"].File(env.Cluster.HostsExcludeFile("dim")); len(f.Data) != 0 {
		t.Errorf("dim still excludes %q", f.Data)
	}
	r, _ := New(decommissionStep())
	if err := r.Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), "oim") {
		t.Errorf("decommission with oim away: %v", err)
	}
}
