package journal

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/jmx"
	"github.com/hactl/hactl/runtime/jmx/jmxtest"
	"github.com/hactl/hactl/runtime/rpc"
)

// TestJMXJournalBeans scrapes what an HTTP-based exporter reads from a
// JournalNode: the Journal-<jid> record's epochs, txids and lag as numbers,
// JournalNodeInfo, JvmMetrics, and the same on /prom.
func TestJMXJournalBeans(t *testing.T) {
	n, j := newJournalWith(t, Options{Dir: t.TempDir(), NoSync: true, HTTPAddr: "127.0.0.1:8480"})
	w := becomeWriter(t, j, 3, 1)
	// The sync-latency quantiles on a clock the test moves.
	now := time.Unix(5000, 0)
	clock := func() time.Time { return now }
	j.syncs = nil
	for _, iv := range syncIntervals {
		j.syncs = append(j.syncs, jmx.NewQuantiles("Syncs", "LatencyMicros", iv, clock))
	}
	if err := w.journal(1, 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := w.journal(1, 4, 2); err != nil {
		t.Fatal(err)
	}
	// The writer has committed up to 9: this JN lags by 4.
	w.serial++
	if err := j.Heartbeat(rpc.RequestInfo{JournalID: "ns1", Epoch: 3, IPCSerial: w.serial, CommittedTxid: 9}); err != nil {
		t.Fatal(err)
	}

	now = now.Add(61 * time.Second) // the first minute's figures are published

	rec := httptest.NewRecorder()
	n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/jmx?qry=Hadoop:service=JournalNode,*", nil))
	var out struct{ Beans []map[string]any }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("/jmx: %d %v %s", rec.Code, err, rec.Body)
	}
	beans := map[string]map[string]any{}
	for _, b := range out.Beans {
		beans[b["name"].(string)] = b
	}
	jb := beans["Hadoop:service=JournalNode,name=Journal-ns1"]
	want := map[string]float64{"LastPromisedEpoch": 3, "LastWriterEpoch": 3, "LastWrittenTxId": 5, "CurrentLagTxns": 4,
		"BatchesWritten": 2, "TxnsWritten": 5, "BytesWritten": float64(len(batch(1, 5))), "BatchesWrittenWhileLagging": 0}
	for k, v := range want {
		if jb[k] != v {
			t.Errorf("Journal-ns1 %s = %#v, want %v", k, jb[k], v)
		}
	}
	// Hadoop's JournalMetrics quantiles: two batches in the last minute,
	// none yet in the 5- and 60-minute windows (not ended).
	for _, iv := range []string{"60", "300", "3600"} {
		ops := 0.0
		if iv == "60" {
			ops = 2
		}
		if jb["Syncs"+iv+"sNumOps"] != ops {
			t.Errorf("Syncs%ssNumOps = %#v, want %v", iv, jb["Syncs"+iv+"sNumOps"], ops)
		}
		for _, p := range []string{"50", "75", "90", "95", "99"} {
			if _, ok := jb["Syncs"+iv+"s"+p+"thPercentileLatencyMicros"].(float64); !ok {
				t.Errorf("Syncs%ss%sthPercentileLatencyMicros not a number: %#v", iv, p, jb["Syncs"+iv+"s"+p+"thPercentileLatencyMicros"])
			}
		}
	}
	if ts, ok := jb["LastJournalTimestamp"].(float64); !ok || ts <= 0 {
		t.Errorf("LastJournalTimestamp %#v", jb["LastJournalTimestamp"])
	}
	info := beans["Hadoop:service=JournalNode,name=JournalNodeInfo"]
	var st map[string]map[string]string
	if s, _ := info["JournalsStatus"].(string); json.Unmarshal([]byte(s), &st) != nil || st["ns1"]["Formatted"] != "true" {
		t.Errorf("JournalsStatus %#v", info["JournalsStatus"])
	}
	if ids, _ := info["ClusterIds"].([]any); len(ids) != 1 || ids[0] != "CID-1" {
		t.Errorf("ClusterIds %#v", info["ClusterIds"])
	}
	for _, k := range []string{"MemHeapUsedM", "GcCount", "ThreadsRunnable"} {
		if _, ok := beans["Hadoop:service=JournalNode,name=JvmMetrics"][k].(float64); !ok {
			t.Errorf("JvmMetrics %s not a number", k)
		}
	}

	rec = httptest.NewRecorder()
	n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/prom", nil))
	samples, types := jmxtest.ParseProm(t, rec.Body)
	if v, ok := samples[`journal_ns1_current_lag_txns{context="dfs",hostname="127.0.0.1"}`]; !ok || v != 4 {
		t.Errorf("/prom current lag %v %v\n%s", v, ok, rec.Body)
	}
	if types["journal_ns1_txns_written"] != "counter" {
		t.Errorf("/prom types %v", types)
	}
}
