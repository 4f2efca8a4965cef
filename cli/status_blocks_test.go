package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

type jmxStub map[string]string // host:port + path?query -> body

func (s jmxStub) RoundTrip(r *http.Request) (*http.Response, error) {
	body, ok := s[r.URL.Host+r.URL.RequestURI()]
	if !ok {
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused", r.URL.Host)
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
}

// Status shows, per nameservice, what its active NameNode reports of the
// DataNodes and blocks: live/dead counts, capacity, under-replicated and
// missing blocks, and each DataNode.
func TestStatusShowsDataNodesAndBlocks(t *testing.T) {
	c, diags := schema.Load("../testdata/plans/fixtures/dn4.hcl", schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st := &ClusterStatus{NameNodes: []NameNodeStatus{
		{Nameservice: "hacluster", ID: "dnn", HAState: "standby"},
		{Nameservice: "hacluster", ID: "onn", HAState: "active"},
	}}
	live := `{"192.168.1.6:9866":{"xferaddr":"192.168.1.6:9866","adminState":"In Service","capacity":2147483648,"usedSpace":1073741824,"numBlocks":8},` +
		`"192.168.1.12:9866":{"xferaddr":"192.168.1.12:9866","adminState":"Decommission In Progress","capacity":1024,"usedSpace":0,"numBlocks":2}}`
	dead := `{"192.168.1.11:9866":{"xferaddr":"192.168.1.11:9866","adminState":"In Service"}}`
	stub := jmxStub{
		// onn, the active one, is asked; dnn's answers would be wrong.
		"192.168.1.132:9870/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem": `{"beans":[{"CapacityTotal":3221225472,"CapacityUsed":1073741824,` +
			`"CapacityRemaining":2147483648,"BlocksTotal":12,"MissingBlocks":1,"UnderReplicatedBlocks":4,"NumLiveDataNodes":2,"NumDeadDataNodes":1,"NumDecommissioningDataNodes":1}]}`,
		"192.168.1.132:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo": fmt.Sprintf(`{"beans":[{"LiveNodes":%q,"DeadNodes":%q,"DecomNodes":"{}"}]}`, live, dead),
		"192.168.1.6:9870/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem":   `{"beans":[{"BlocksTotal":999}]}`,
	}
	fillBlocks(context.Background(), &http.Client{Transport: stub}, c, st)
	if len(st.Blocks) != 1 || st.Blocks[0].Error != "" || st.Blocks[0].NameNode != "onn" {
		t.Fatalf("blocks = %+v", st.Blocks)
	}
	var text bytes.Buffer
	if err := st.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`hacluster\s+onn\s+2/1/1\s+3\.0 GiB\s+1\.0 GiB\s+2\.0 GiB\s+12\s+4\s+1`,
		`192\.168\.1\.6:9866\s+hacluster\s+live\s+In Service\s+2\.0 GiB\s+1\.0 GiB\s+8`,
		`192\.168\.1\.12:9866\s+hacluster\s+live\s+Decommission In Progress`,
		`192\.168\.1\.11:9866\s+hacluster\s+dead\s+In Service`,
	} {
		if !regexp.MustCompile(re).MatchString(text.String()) {
			t.Errorf("status text lacks %s:\n%s", re, text.String())
		}
	}
	data, _ := json.Marshal(st)
	var doc struct {
		Blocks []struct {
			Nameservice     string `json:"nameservice"`
			Live            int    `json:"live_datanodes"`
			Dead            int    `json:"dead_datanodes"`
			Missing         int    `json:"missing_blocks"`
			UnderReplicated int    `json:"under_replicated_blocks"`
			CapacityTotal   int64  `json:"capacity_total"`
			DataNodes       []struct {
				Name       string `json:"name"`
				Live       bool   `json:"live"`
				AdminState string `json:"adminState"`
			} `json:"datanodes"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if b := doc.Blocks[0]; b.Live != 2 || b.Dead != 1 || b.Missing != 1 || b.UnderReplicated != 4 || b.CapacityTotal != 3<<30 || len(b.DataNodes) != 3 {
		t.Errorf("json blocks = %+v\n%s", b, data)
	}

	// No active NameNode: said so, not guessed from a standby.
	st = &ClusterStatus{NameNodes: []NameNodeStatus{{Nameservice: "hacluster", ID: "dnn", HAState: "standby"}}}
	fillBlocks(context.Background(), &http.Client{Transport: stub}, c, st)
	if len(st.Blocks) != 1 || !strings.Contains(st.Blocks[0].Error, "no active NameNode") {
		t.Errorf("without an active NameNode: %+v", st.Blocks)
	}
	// A cluster without DataNodes has no block section.
	c3, _ := schema.Load("../testdata/plans/fixtures/three.hcl", schema.LoadOptions{})
	st = &ClusterStatus{}
	fillBlocks(context.Background(), &http.Client{Transport: stub}, c3, st)
	if st.Blocks != nil {
		t.Errorf("blocks without DataNodes: %+v", st.Blocks)
	}
}
