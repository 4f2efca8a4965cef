package namenode

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hactl/hactl/runtime/jmx/jmxtest"
)

// exporterReads are the NameNode beans and attributes an HTTP-based Hadoop
// exporter (one scraping /jmx, as the common namenode exporters do) turns
// into gauges: each must be present and a JSON number.
var exporterReads = map[string][]string{
	"Hadoop:service=NameNode,name=FSNamesystem": {"MissingBlocks", "CapacityTotal", "CapacityUsed", "CapacityRemaining",
		"CapacityUsedNonDFS", "BlocksTotal", "UnderReplicatedBlocks", "CorruptBlocks", "ExcessBlocks", "PendingReplicationBlocks",
		"PendingDeletionBlocks", "FilesTotal", "TotalLoad", "NumLiveDataNodes", "NumDeadDataNodes", "LastCheckpointTime",
		"TransactionsSinceLastCheckpoint", "LastWrittenTransactionId", "ExpiredHeartbeats", "TotalSyncCount"},
	"Hadoop:service=NameNode,name=FSNamesystemState": {"CapacityTotal", "CapacityUsed", "CapacityRemaining", "TotalLoad",
		"BlocksTotal", "FilesTotal", "UnderReplicatedBlocks", "NumLiveDataNodes", "NumDeadDataNodes", "NumDecomLiveDataNodes",
		"NumDecomDeadDataNodes", "NumStaleDataNodes", "VolumeFailuresTotal"},
	"Hadoop:service=NameNode,name=NameNodeInfo": {"Total", "Used", "Free", "NonDfsUsedSpace", "PercentUsed", "PercentRemaining",
		"TotalBlocks", "TotalFiles", "NumberOfMissingBlocks", "Threads", "NNStartedTimeInMillis"},
	"Hadoop:service=NameNode,name=NameNodeActivity": {"CreateFileOps", "FilesCreated", "FilesAppended", "GetBlockLocations",
		"FilesRenamed", "GetListingOps", "DeleteFileOps", "FilesDeleted", "FileInfoOps", "TransactionsNumOps", "SyncsNumOps"},
	"Hadoop:service=NameNode,name=JvmMetrics": {"MemHeapUsedM", "MemHeapCommittedM", "MemHeapMaxM", "MemNonHeapUsedM",
		"MemNonHeapCommittedM", "MemMaxM", "GcCount", "GcTimeMillis", "ThreadsRunnable"},
	"Hadoop:service=NameNode,name=NameNodeStatus": {"LastHATransitionTime"},
}

func scrapeJMX(t *testing.T, addr, query string) []map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/jmx" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Beans []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/jmx%s: %s, %v", query, resp.Status, err)
	}
	return out.Beans
}

// checkExporterBeans scrapes every bean of the NameNode at addr and checks
// that each attribute exporterReads lists is a number; it returns the beans
// by name.
func checkExporterBeans(t *testing.T, addr string) map[string]map[string]any {
	t.Helper()
	beans := map[string]map[string]any{}
	for _, b := range scrapeJMX(t, addr, "") {
		beans[b["name"].(string)] = b
	}
	for name, attrs := range exporterReads {
		b, ok := beans[name]
		if !ok {
			t.Errorf("no bean %s", name)
			continue
		}
		for _, a := range attrs {
			if _, ok := b[a].(float64); !ok {
				t.Errorf("%s %s = %#v, want a number", name, a, b[a])
			}
		}
	}
	return beans
}

// scrapeProm reads and checks the /prom of the daemon at addr.
func scrapeProm(t *testing.T, addr string) (map[string]float64, map[string]string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/prom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/prom of %s: %s", addr, resp.Status)
	}
	return jmxtest.ParseProm(t, resp.Body)
}

func TestJMXExporterBeans(t *testing.T) {
	ctx := context.Background()
	nns := newFormatted(t, NewMemJournal(), newClock(), "nn1")
	nn := nns[0]
	if err := nn.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(nn.Mkdirs(ctx, "/d", 0o755, "u"))
	must(nn.Mkdirs(ctx, "/d", 0o755, "u")) // exists: no edit, nothing created
	must(nn.Create(ctx, "/d/f", []byte("x"), false, 0o644, 3, 128<<20, "u"))
	must(nn.Append(ctx, "/d/f", []byte("y"), "u"))
	if ok, err := nn.Rename(ctx, "/d/f", "/d/g", "u"); !ok || err != nil {
		t.Fatalf("rename %v %v", ok, err)
	}
	if _, err := nn.ListStatus(ctx, "/d", "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := nn.GetFileStatus(ctx, "/d/g", "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := nn.Open(ctx, "/d/g", 0, -1, "u"); err != nil {
		t.Fatal(err)
	}
	must(nn.Create(ctx, "/d/h", nil, false, 0o644, 3, 128<<20, "u"))
	if ok, err := nn.Delete(ctx, "/d/h", false, "u"); !ok || err != nil {
		t.Fatalf("delete %v %v", ok, err)
	}
	addr := serve(t, nn)

	beans := checkExporterBeans(t, addr)
	fs := beans["Hadoop:service=NameNode,name=FSNamesystem"]
	info := beans["Hadoop:service=NameNode,name=NameNodeInfo"]
	// Inodes: /, /d, /d/g. No DataNode exists: no capacity and no blocks,
	// and Hadoop calls an empty cluster 100% used.
	if fs["FilesTotal"] != float64(3) || info["TotalFiles"] != float64(3) || fs["CapacityTotal"] != float64(0) ||
		fs["NumLiveDataNodes"] != float64(0) || info["PercentUsed"] != float64(100) || fs["tag.HAState"] != "active" {
		t.Errorf("FSNamesystem %v\nNameNodeInfo %v", fs, info)
	}
	for _, k := range []string{"LiveNodes", "DeadNodes", "NameDirStatuses", "JournalTransactionInfo"} {
		var m map[string]any
		if s, ok := info[k].(string); !ok || json.Unmarshal([]byte(s), &m) != nil {
			t.Errorf("NameNodeInfo %s = %#v, want a JSON object in a string", k, info[k])
		}
	}
	if info["ClusterId"] == "" || info["Safemode"] != "" {
		t.Errorf("NameNodeInfo ClusterId %v Safemode %q", info["ClusterId"], info["Safemode"])
	}
	want := map[string]float64{"CreateFileOps": 2, "FilesCreated": 3, "FilesAppended": 1, "FilesRenamed": 1,
		"GetListingOps": 1, "FileInfoOps": 1, "GetBlockLocations": 1, "DeleteFileOps": 1, "FilesDeleted": 1, "TransactionsNumOps": 6}
	act := beans["Hadoop:service=NameNode,name=NameNodeActivity"]
	for k, v := range want {
		if act[k] != v {
			t.Errorf("NameNodeActivity %s = %v, want %v", k, act[k], v)
		}
	}
	// Hadoop's MutableRates: the mem journal reports no flushes, so each
	// of the 6 edits' waits is a sync; times are milliseconds.
	for _, k := range []string{"TransactionsAvgTime", "SyncsAvgTime"} {
		if v, ok := act[k].(float64); !ok || v < 0 || v > 1000 {
			t.Errorf("NameNodeActivity %s = %#v, want a duration in ms", k, act[k])
		}
	}
	if act["SyncsNumOps"] != float64(6) || act["TransactionsBatchedInSync"] != float64(0) || fs["TotalSyncCount"] != float64(6) {
		t.Errorf("SyncsNumOps %v TransactionsBatchedInSync %v TotalSyncCount %v", act["SyncsNumOps"], act["TransactionsBatchedInSync"], fs["TotalSyncCount"])
	}

	// get= and the same numbers on /prom.
	one := scrapeJMX(t, addr, "?get=Hadoop:service=NameNode,name=FSNamesystem::FilesTotal")
	if len(one) != 1 || one[0]["FilesTotal"] != float64(3) {
		t.Errorf("get FilesTotal: %v", one)
	}
	samples, types := scrapeProm(t, addr)
	for k, v := range map[string]float64{
		`fs_namesystem_files_total{context="dfs",hastate="active",hostname="127.0.0.1"}`:                3,
		`name_node_activity_create_file_ops{context="dfs",hostname="127.0.0.1",processname="NameNode"}`: 2,
	} {
		if got, ok := samples[k]; !ok || got != v {
			t.Errorf("/prom %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if types["jvm_metrics_gc_count"] != "counter" || types["jvm_metrics_mem_heap_used_m"] != "gauge" {
		t.Errorf("/prom types %v", types)
	}
}
