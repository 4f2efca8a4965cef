package zkfc

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hactl/hactl/runtime/jmx/jmxtest"
)

// TestPromPublic: /prom and /jmx answer without a signature (the other
// endpoints still refuse one) and /prom parses as the exposition format.
func TestPromPublic(t *testing.T) {
	c := &Controller{cfg: &Config{Secret: []byte("s"), Self: NameNodeAddrs{ID: "nn1", ZKFCAddr: "127.0.0.1:8019"}},
		status: Status{Nameservice: "ns1", NamenodeID: "nn1", ElectorState: "active", Health: "healthy", ZKConnected: true, InElection: true, Failures: 2}}
	h := c.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/prom", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/prom: %d %s", rec.Code, rec.Body)
	}
	samples, types := jmxtest.ParseProm(t, rec.Body)
	labels := `{context="ha",electorstate="active",health="healthy",hostname="127.0.0.1",namenodeid="nn1",nameservice="ns1"}`
	for k, v := range map[string]float64{"zkfc_zk_connected" + labels: 1, "zkfc_in_election" + labels: 1, "zkfc_failures" + labels: 2} {
		if got, ok := samples[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if types["jvm_metrics_mem_heap_used_m"] != "gauge" {
		t.Errorf("types %v", types)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/jmx?get=Hadoop:service=DFSZKFailoverController,name=ZKFC::Failures", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/jmx get: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/zkfc/status", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("unsigned /zkfc/status: %d", rec.Code)
	}
}
