package jmx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hactl/hactl/runtime/jmx/jmxtest"
)

func testBeans(*http.Request) []Bean {
	return []Bean{
		{Name: "Hadoop:service=NameNode,name=FSNamesystem", ModelerType: "FSNamesystem", Record: "FSNamesystem",
			Attrs:    map[string]any{"tag.Context": "dfs", "tag.HAState": "active", "CapacityTotal": int64(0), "FilesTotal": int64(3), "LastCheckpointTime": int64(1700000000000)},
			Counters: map[string]bool{}},
		{Name: "Hadoop:service=NameNode,name=NameNodeInfo", ModelerType: "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
			Attrs: map[string]any{"LiveNodes": "{}", "Safemode": "", "Total": int64(0)}},
		{Name: "Hadoop:service=NameNode,name=NameNodeActivity", ModelerType: "NameNodeActivity", Record: "NameNodeActivity",
			Attrs:    map[string]any{"tag.Context": "dfs", "tag.Hostname": `h"1`, "CreateFileOps": int64(7), "SyncsAvgTime": 0.25},
			Counters: map[string]bool{"CreateFileOps": true}},
		{Name: "java.lang:type=Runtime", ModelerType: "sun.management.RuntimeImpl", Attrs: map[string]any{"Uptime": int64(5)}},
	}
}

func TestObjectNamePatterns(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"*:*", "java.lang:type=Runtime", true},
		{"Hadoop:*", "Hadoop:service=NameNode,name=FSNamesystem", true},
		{"Hadoop:*", "java.lang:type=Runtime", false},
		{"Hadoop:service=NameNode,name=FSNamesystem", "Hadoop:service=NameNode,name=FSNamesystem", true},
		{"Hadoop:name=FSNamesystem,service=NameNode", "Hadoop:service=NameNode,name=FSNamesystem", true}, // key order is free
		{"Hadoop:service=NameNode", "Hadoop:service=NameNode,name=FSNamesystem", false},                  // not a list pattern
		{"Hadoop:service=NameNode,*", "Hadoop:service=NameNode,name=FSNamesystem", true},
		{"Hadoop:service=NameNode,name=FS*", "Hadoop:service=NameNode,name=FSNamesystemState", true},
		{"Hadoop:service=NameNode,name=FS*", "Hadoop:service=NameNode,name=NameNodeInfo", false},
		{"Hadoop:service=JournalNode,name=Journal-?s1", "Hadoop:service=JournalNode,name=Journal-ns1", true},
		{"H*p:service=*", "Hadoop:service=ZKFC", true},
	} {
		p, err := ParseObjectName(c.pat)
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		n, err := ParseObjectName(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := p.Matches(n); got != c.want {
			t.Errorf("%s matches %s = %v, want %v", c.pat, c.name, got, c.want)
		}
	}
	for _, bad := range []string{"Hadoop", "Hadoop:", "Hadoop:service", "Hadoop:=x", "Hadoop:a=1,a=2", "Hadoop:a=", "Hadoop:*,*"} {
		if _, err := ParseObjectName(bad); err == nil {
			t.Errorf("%q parsed; ObjectName calls it malformed", bad)
		}
	}
}

func get(t *testing.T, h http.Handler, query string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/jmx"+query, nil))
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestHandlerQueries(t *testing.T) {
	h := Handler(testBeans)
	var out struct{ Beans []map[string]any }
	code, body, hdr := get(t, h, "")
	if err := json.Unmarshal([]byte(body), &out); err != nil || code != 200 || len(out.Beans) != 4 {
		t.Fatalf("all beans: %d %v %s", code, err, body)
	}
	if hdr.Get("Content-Type") != "application/json; charset=utf8" {
		t.Errorf("content type %q", hdr.Get("Content-Type"))
	}
	// Hadoop lists name and modelerType before the attributes.
	if !strings.HasPrefix(strings.TrimSpace(body), "{\n  \"beans\": [\n    {\n      \"name\": \"Hadoop:service=NameNode,name=FSNamesystem\",\n      \"modelerType\": \"FSNamesystem\",") {
		t.Errorf("bean layout:\n%s", body)
	}

	_, body, _ = get(t, h, "?qry=Hadoop:service=NameNode,name=Name*")
	json.Unmarshal([]byte(body), &out)
	if len(out.Beans) != 2 || out.Beans[0]["name"] != "Hadoop:service=NameNode,name=NameNodeInfo" || out.Beans[0]["LiveNodes"] != "{}" {
		t.Fatalf("qry pattern: %s", body)
	}

	code, body, _ = get(t, h, "?qry=Hadoop:service=NameNode,name=Nope")
	if code != 200 || strings.Join(strings.Fields(body), "") != `{"beans":[]}` {
		t.Fatalf("no match: %d %s", code, body)
	}

	code, body, _ = get(t, h, "?qry=nocolon")
	if code != http.StatusBadRequest || strings.TrimSpace(body) != "{ }" {
		t.Fatalf("malformed qry: %d %s", code, body)
	}

	code, body, _ = get(t, h, "?get=Hadoop:service=NameNode,name=FSNamesystem::FilesTotal")
	var one struct{ Beans []map[string]any }
	json.Unmarshal([]byte(body), &one)
	if code != 200 || len(one.Beans) != 1 || len(one.Beans[0]) != 3 || one.Beans[0]["FilesTotal"] != float64(3) {
		t.Fatalf("get: %d %s", code, body)
	}

	code, body, _ = get(t, h, "?get=Hadoop:service=NameNode,name=FSNamesystem::Nope")
	json.Unmarshal([]byte(body), &one)
	if code != http.StatusNotFound || one.Beans[0]["result"] != "ERROR" || one.Beans[0]["message"] != "No attribute with name Nope was found." {
		t.Fatalf("get missing attribute: %d %s", code, body)
	}

	code, body, _ = get(t, h, "?get=Hadoop:service=NameNode,name=FSNamesystem")
	var e map[string]string
	json.Unmarshal([]byte(body), &e)
	if code != http.StatusBadRequest || e["result"] != "ERROR" || e["message"] != "query format is not as expected." {
		t.Fatalf("get without ::: %d %s", code, body)
	}

	code, body, _ = get(t, h, "?get=Hadoop:service=NameNode,name=FSNamesystem::")
	e = nil
	json.Unmarshal([]byte(body), &e)
	if code != http.StatusBadRequest || e["message"] != "query format is not as expected." {
		t.Fatalf("get with an empty attribute (one part to Java's split): %d %s", code, body)
	}

	// An empty ObjectName is the pattern *:*: every bean is asked, and (as
	// in Hadoop) the first one without the attribute ends the answer.
	code, body, _ = get(t, h, "?get=::FilesTotal")
	json.Unmarshal([]byte(body), &one)
	if code != http.StatusNotFound || len(one.Beans) != 2 || one.Beans[0]["FilesTotal"] != float64(3) || one.Beans[1]["result"] != "ERROR" {
		t.Fatalf("get with an empty bean name: %d %s", code, body)
	}

	code, body, hdr = get(t, h, "?qry=java.lang:type=Runtime&callback=cb")
	if code != 200 || !strings.HasPrefix(body, "cb({") || !strings.HasSuffix(body, "}\n);") || hdr.Get("Content-Type") != "application/javascript; charset=utf8" {
		t.Fatalf("callback: %d %q %v", code, body, hdr)
	}
}

func TestPromName(t *testing.T) {
	for _, c := range [][3]string{
		{"FSNamesystem", "CapacityTotal", "fs_namesystem_capacity_total"},
		{"JvmMetrics", "MemHeapUsedM", "jvm_metrics_mem_heap_used_m"},
		{"NameNodeActivity", "CreateFileOps", "name_node_activity_create_file_ops"},
		{"FSNamesystem", "NumLiveDataNodes", "fs_namesystem_num_live_data_nodes"},
		{"JournalNode", "LastWrittenTxId", "journal_node_last_written_tx_id"},
		{"Journal-ns1", "Syncs60sNumOps", "journal_ns1_syncs60s_num_ops"},
	} {
		if got := PromName(c[0], c[1]); got != c[2] {
			t.Errorf("PromName(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}

func TestProm(t *testing.T) {
	rec := httptest.NewRecorder()
	beans := func(r *http.Request) []Bean {
		b := testBeans(r)
		// A second record with the same metric names (two journals): one family.
		j2 := b[2]
		j2.Attrs = map[string]any{"tag.Context": "dfs", "tag.Hostname": "h2", "CreateFileOps": int64(1)}
		return append(b, j2)
	}
	PromHandler(beans).ServeHTTP(rec, httptest.NewRequest("GET", "/prom", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	samples, types := jmxtest.ParseProm(t, strings.NewReader(rec.Body.String()))
	want := map[string]float64{
		`fs_namesystem_capacity_total{context="dfs",hastate="active"}`:      0,
		`fs_namesystem_files_total{context="dfs",hastate="active"}`:         3,
		`name_node_activity_create_file_ops{context="dfs",hostname="h\"1"}`: 7,
		`name_node_activity_create_file_ops{context="dfs",hostname="h2"}`:   1,
		`name_node_activity_syncs_avg_time{context="dfs",hostname="h\"1"}`:  0.25,
	}
	for k, v := range want {
		if got, ok := samples[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v\n%s", k, got, ok, v, rec.Body)
		}
	}
	if types["name_node_activity_create_file_ops"] != "counter" || types["fs_namesystem_files_total"] != "gauge" {
		t.Errorf("types %v", types)
	}
	for k := range samples {
		if strings.HasPrefix(k, "name_node_info") || strings.HasPrefix(k, "runtime") {
			t.Errorf("%s: an MXBean is not a metrics2 record", k)
		}
	}
}

// fatalTB records the Fatalf of a check expected to fail.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalStop struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalStop{})
}

// TestParsePromRefuses: the exposition check the daemons' tests rely on
// refuses what Prometheus would.
func TestParsePromRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"repeated TYPE":    "# TYPE a gauge\na 1\n# TYPE a gauge\na{x=\"1\"} 2\n",
		"split family":     "a 1\nb 2\na{x=\"1\"} 3\n",
		"bad value":        "a one\n",
		"unquoted label":   "a{x=1} 1\n",
		"dash in name":     "journal-ns1_lag 1\n",
		"repeated sample":  "a{x=\"1\"} 1\na{x=\"1\"} 2\n",
		"TYPE after value": "a 1\n# TYPE a gauge\n",
	} {
		f := &fatalTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != (fatalStop{}) {
					panic(r)
				}
			}()
			jmxtest.ParsePromString(f, body)
		}()
		if f.msg == "" {
			t.Errorf("%s: accepted %q", name, body)
		}
	}
}
