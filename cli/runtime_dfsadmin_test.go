package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// fakeDFSNameNode answers /ha/status, refreshNodes (counting signed calls)
// and the two JMX beans.
type fakeDFSNameNode struct {
	mu        sync.Mutex
	state     string
	refreshes int
	unsigned  int
	safemode  bool
	onFor     int // gets answered ON before safe mode ends by itself
}

func (f *fakeDFSNameNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/ha/status":
		fmt.Fprintf(w, `{"state":%q}`, f.state)
	case r.Method == http.MethodPost && r.URL.Path == "/dfsadmin/refreshNodes":
		if r.Header.Get("Authorization") == "" {
			f.unsigned++
		}
		f.refreshes++
		fmt.Fprint(w, `{}`)
	case r.Method == http.MethodPost && r.URL.Path == "/dfsadmin/safemode":
		if r.Header.Get("Authorization") == "" {
			f.unsigned++
		}
		switch r.URL.Query().Get("action") {
		case "enter":
			f.safemode = true
		case "leave", "forceExit":
			f.safemode = false
		case "get":
			if f.onFor > 0 {
				if f.onFor--; f.onFor == 0 {
					f.safemode = false
				}
			}
		default:
			http.Error(w, "bad action", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"safemode":%v}`, f.safemode)
	case r.URL.Path == "/jmx" && strings.Contains(r.URL.RawQuery, "FSNamesystem"):
		fmt.Fprint(w, `{"beans":[{"CapacityTotal":3072,"CapacityUsed":1024,"CapacityRemaining":2048,"BlocksTotal":7,"MissingBlocks":0,"UnderReplicatedBlocks":2}]}`)
	case r.URL.Path == "/jmx":
		live := `{"127.0.0.1:9866":{"xferaddr":"127.0.0.1:9866","adminState":"In Service","capacity":1024,"usedSpace":512,"remaining":512,"numBlocks":7},"127.0.0.2:9866":{"xferaddr":"127.0.0.2:9866","adminState":"Decommission In Progress","numBlocks":3}}`
		dead := `{"127.0.0.3:9866":{"xferaddr":"127.0.0.3:9866","decommissioned":true,"adminState":"Decommissioned"}}`
		fmt.Fprintf(w, `{"beans":[{"LiveNodes":%q,"DeadNodes":%q,"DecomNodes":"{}"}]}`, live, dead)
	default:
		http.NotFound(w, r)
	}
}

func dfsadminConf(t *testing.T, nns ...*httptest.Server) string {
	dir := t.TempDir()
	secret := filepath.Join(dir, "cluster.secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := hadoopconf.New()
	c.Set("dfs.nameservices", "ns")
	var ids []string
	for i, s := range nns {
		id := fmt.Sprintf("nn%d", i+1)
		ids = append(ids, id)
		addr := strings.TrimPrefix(s.URL, "http://")
		c.Set("dfs.namenode.http-address.ns."+id, addr)
		c.Set("dfs.namenode.rpc-address.ns."+id, addr)
	}
	c.Set("dfs.ha.namenodes.ns", strings.Join(ids, ","))
	c.Set("hactl.cluster.secret.file", secret)
	if err := os.WriteFile(filepath.Join(dir, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "core-site.xml"), []byte("<configuration/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDFSAdmin(t *testing.T) {
	standby, active := &fakeDFSNameNode{state: "standby"}, &fakeDFSNameNode{state: "active"}
	s1, s2 := httptest.NewServer(standby), httptest.NewServer(active)
	defer s1.Close()
	defer s2.Close()
	conf := dfsadminConf(t, s1, s2)

	var out, errw bytes.Buffer
	if code := runDFSAdmin(context.Background(), []string{"--conf", conf, "-refreshNodes"}, &out, &errw); code != 0 {
		t.Fatalf("-refreshNodes: exit %d, %s", code, errw.String())
	}
	for _, s := range []*httptest.Server{s1, s2} {
		if !strings.Contains(out.String(), "Refresh nodes successful for "+strings.TrimPrefix(s.URL, "http://")) {
			t.Errorf("-refreshNodes output lacks %s:\n%s", s.URL, out.String())
		}
	}
	if standby.refreshes != 1 || active.refreshes != 1 || standby.unsigned+active.unsigned != 0 {
		t.Errorf("refreshes %d/%d, unsigned %d/%d", standby.refreshes, active.refreshes, standby.unsigned, active.unsigned)
	}

	out.Reset()
	if code := runDFSAdmin(context.Background(), []string{"--conf", conf, "-report"}, &out, &errw); code != 0 {
		t.Fatalf("-report: exit %d, %s", code, errw.String())
	}
	for _, re := range []string{
		`Configured Capacity: 3072 \(3\.0 KiB\)`, `Under replicated blocks: 2`, `Missing blocks: 0`, `Total blocks: 7`,
		`Live datanodes \(2\):`, `Name: 127\.0\.0\.1:9866\nDecommission Status : Normal\n`,
		`Name: 127\.0\.0\.2:9866\nDecommission Status : Decommission in progress`,
		`Dead datanodes \(1\):\n\nName: 127\.0\.0\.3:9866\nDecommission Status : Decommissioned`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("-report lacks %s:\n%s", re, out.String())
		}
	}

	// -safemode acts on every NameNode and prints each one's state by
	// its RPC address, as Hadoop's dfsadmin with HA.
	safemode := func(action string) string {
		t.Helper()
		out.Reset()
		if code := runDFSAdmin(context.Background(), []string{"--conf", conf, "-safemode", action}, &out, &errw); code != 0 {
			t.Fatalf("-safemode %s: exit %d, %s", action, code, errw.String())
		}
		return out.String()
	}
	a1, a2 := strings.TrimPrefix(s1.URL, "http://"), strings.TrimPrefix(s2.URL, "http://")
	if got, want := safemode("enter"), "Safe mode is ON in "+a1+"\nSafe mode is ON in "+a2+"\n"; got != want {
		t.Errorf("-safemode enter printed %q, want %q", got, want)
	}
	if got := safemode("get"); !strings.Contains(got, "Safe mode is ON in "+a2) {
		t.Errorf("-safemode get: %q", got)
	}
	defer func(d time.Duration) { safeModePoll = d }(safeModePoll)
	safeModePoll = time.Millisecond
	standby.onFor, active.onFor = 2, 3 // wait polls until each is OFF
	if got, want := safemode("wait"), "Safe mode is OFF in "+a1+"\nSafe mode is OFF in "+a2+"\n"; got != want || active.onFor != 0 {
		t.Errorf("-safemode wait printed %q (polls left %d)", got, active.onFor)
	}
	safemode("enter")
	if got := safemode("leave"); !strings.Contains(got, "Safe mode is OFF in "+a1) || standby.unsigned+active.unsigned != 0 {
		t.Errorf("-safemode leave: %q, unsigned calls %d", got, standby.unsigned+active.unsigned)
	}
	if code := runDFSAdmin(context.Background(), []string{"--conf", conf, "-safemode", "sideways"}, &out, &errw); code != 255 {
		t.Errorf("-safemode sideways: exit %d", code)
	}

	// No active NameNode: a failure, as Hadoop's -1.
	active.state = "standby"
	out.Reset()
	errw.Reset()
	if code := runDFSAdmin(context.Background(), []string{"--conf", conf, "-report"}, &out, &errw); code != 255 || !strings.Contains(errw.String(), "no NameNode of ns is active") {
		t.Errorf("-report without an active: exit %d, %q", code, errw.String())
	}
	if code := runDFSAdmin(context.Background(), []string{"--conf", conf, "-bogus"}, &out, &errw); code != 255 {
		t.Errorf("unknown command: exit %d", code)
	}
}
