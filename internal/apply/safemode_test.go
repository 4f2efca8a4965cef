package apply

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hactl/hactl/planner"
)

// safeModeNN is a NameNode restarted over blocks behind its ZKFC: in safe
// mode for its first safePolls answers of /jmx FSNamesystemState, then
// Operational; it records whether gracefulFailover came while it was still
// in safe mode.
type safeModeNN struct {
	safePolls, polls int
	posts            int
	postedInSafeMode bool
	active           bool
}

func (f *safeModeNN) inSafeMode() bool { return f.polls <= f.safePolls }

func (f *safeModeNN) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.URL.Path == "/jmx" && strings.Contains(r.URL.RawQuery, "name=FSNamesystemState"):
		f.polls++
		if f.inSafeMode() {
			return jsonResp(`{"beans":[{"name":"Hadoop:service=NameNode,name=FSNamesystemState","FSState":"safeMode"}]}`), nil
		}
		return jsonResp(`{"beans":[{"name":"Hadoop:service=NameNode,name=FSNamesystemState","FSState":"Operational"}]}`), nil
	case r.URL.Path == "/jmx" && strings.Contains(r.URL.RawQuery, "name=NameNodeInfo"):
		return jsonResp(`{"beans":[{"Safemode":"Safe mode is ON. The reported blocks 3 needs additional 4 blocks to reach the threshold 0.9990 of total blocks 7.\n"}]}`), nil
	case r.URL.Path == "/zkfc/gracefulFailover":
		f.posts++
		f.postedInSafeMode = f.postedInSafeMode || f.inSafeMode()
		f.active = true
		return jsonResp(`{}`), nil
	case r.URL.Path == "/ha/status":
		if f.active {
			return jsonResp(`{"state":"active"}`), nil
		}
		return jsonResp(`{"state":"standby"}`), nil
	}
	return nil, errors.New("unexpected " + r.URL.String())
}

// With DataNodes, a failover (the rolling restart's, or a manual one) to a
// NameNode still in safe mode waits until its FSState is Operational,
// saying what it waits for; one that never leaves it fails the step
// without touching the active.
func TestFailoverWaitsForSafeModeToEnd(t *testing.T) {
	c := loadFixture(t, "dn3", nil)
	s := newSim(t, c)
	var out strings.Builder
	env := s.env(c, testBinary(t), false, &out)
	nn := &safeModeNN{safePolls: 5}
	env.HTTP = &http.Client{Transport: nn}
	r, _ := New(&planner.Step{Host: "oim", Action: planner.ActFailover, Nameservice: "hacluster", NameNode: "onn"})
	if err := r.Run(context.Background(), env); err != nil {
		t.Fatalf("failover: %v", err)
	}
	if nn.posts != 1 || nn.postedInSafeMode || !nn.active {
		t.Fatalf("gracefulFailover posted %d time(s), in safe mode: %v", nn.posts, nn.postedInSafeMode)
	}
	if o := out.String(); !strings.Contains(o, "waiting for hacluster/onn to leave safe mode") ||
		!strings.Contains(o, "The reported blocks 3 needs additional 4 blocks") || !strings.Contains(o, "hacluster/onn left safe mode after") {
		t.Errorf("progress:\n%s", o)
	}

	// Never out of safe mode: bounded, and the active is left alone.
	nn = &safeModeNN{safePolls: 1 << 30}
	env.HTTP = &http.Client{Transport: nn}
	err := r.Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "did not leave safe mode") || nn.posts != 0 {
		t.Fatalf("failover to a NameNode stuck in safe mode: %v, %d gracefulFailover post(s)", err, nn.posts)
	}

	// Without DataNodes there is no safe mode to wait for: no /jmx asked.
	c3 := loadFixture(t, "three", nil)
	env3 := newSim(t, c3).env(c3, testBinary(t), false, &strings.Builder{})
	tr := &flakyZKFC{}
	env3.HTTP = &http.Client{Transport: tr}
	r3, _ := New(&planner.Step{Host: "oim", Action: planner.ActFailover, Nameservice: "hacluster", NameNode: "onn"})
	if err := r3.Run(context.Background(), env3); err != nil || tr.posts != 1 {
		t.Fatalf("failover without DataNodes: %v after %d posts", err, tr.posts)
	}
}
