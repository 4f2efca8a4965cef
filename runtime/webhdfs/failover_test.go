package webhdfs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
)

func seedCache(t *testing.T, dir, ns string, addrs []string, active string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, webhdfs.ActiveCacheNameForTest(ns, addrs)), []byte(active+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readCache(t *testing.T, dir, ns string, addrs []string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, webhdfs.ActiveCacheNameForTest(ns, addrs)))
	if err != nil {
		t.Fatalf("cache file: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// haCluster is three NameNodes in the given roles: 'A' active, 'S' standby,
// 'D' dead (connection refused).
type haCluster struct {
	nns   []*nameNode // nil where dead
	addrs []string
}

func startHA(t *testing.T, roles string) *haCluster {
	t.Helper()
	h := &haCluster{}
	for _, r := range roles {
		if r == 'D' {
			h.nns = append(h.nns, nil)
			h.addrs = append(h.addrs, deadAddr(t))
			continue
		}
		nn := startNameNode(t)
		nn.mem.SetStandby(r == 'S')
		h.nns = append(h.nns, nn)
		h.addrs = append(h.addrs, nn.addr)
	}
	return h
}

func (h *haCluster) hits() []int64 {
	out := make([]int64, len(h.nns))
	for i, nn := range h.nns {
		if nn != nil {
			out[i] = nn.hits.Load()
		}
	}
	return out
}

// Without a remembered active, every NameNode is asked at once and the call
// goes to the one that answered as active, wherever it is in the list,
// without sleeping and without walking the others.
func TestClientHedgedDiscoveryEveryPosition(t *testing.T) {
	for _, roles := range []string{"ASS", "SAS", "SSA", "ADS", "DAS", "SDA", "DDA", "DSA", "ASD"} {
		t.Run(roles, func(t *testing.T) {
			h := startHA(t, roles)
			act := strings.IndexByte(roles, 'A')
			rec := &sleepRecorder{}
			dir := t.TempDir()
			c, err := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{Sleep: rec.sleep, CacheDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			// A non-idempotent write: discovery happens before it is sent.
			if err := c.Create(context.Background(), "/f", []byte("x"), webhdfs.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if len(rec.got) != 0 {
				t.Fatalf("slept %v", rec.got)
			}
			if c.Active() != h.addrs[act] {
				t.Fatalf("Active %s, want %s", c.Active(), h.addrs[act])
			}
			for i, n := range h.hits() {
				// The active: probe + CREATE's two requests; a standby: at most
				// the probe (it may be cancelled before it arrives).
				if i == act && n != 3 {
					t.Errorf("active got %d requests, want 3", n)
				}
				if i != act && n > 1 {
					t.Errorf("NameNode %d (%c) got %d requests, want at most the probe", i, roles[i], n)
				}
			}
			if got := readCache(t, dir, "ns", h.addrs); got != h.addrs[act] {
				t.Fatalf("cache names %q, want %q", got, h.addrs[act])
			}
		})
	}
}

// A new client (a new hactl process) with the cache goes straight to the
// active: the standbys are not asked at all.
func TestClientCacheHit(t *testing.T) {
	h := startHA(t, "SSA")
	dir := t.TempDir()
	c1, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{CacheDir: dir, Sleep: (&sleepRecorder{}).sleep})
	if _, err := c1.Mkdirs(context.Background(), "/a", 0); err != nil {
		t.Fatal(err)
	}
	before := h.hits()
	c2, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{CacheDir: dir, Sleep: (&sleepRecorder{}).sleep})
	if c2.Active() != h.addrs[2] {
		t.Fatalf("new client starts at %s, want the cached %s", c2.Active(), h.addrs[2])
	}
	if _, err := c2.Mkdirs(context.Background(), "/b", 0); err != nil {
		t.Fatal(err)
	}
	after := h.hits()
	if after[0] != before[0] || after[1] != before[1] || after[2] != before[2]+1 {
		t.Fatalf("requests before %v after %v: want exactly one, on the cached active", before, after)
	}
	// Another NameNode list (another cluster with the same nameservice
	// name) has its own entry.
	if webhdfs.ActiveCacheNameForTest("ns", h.addrs) == webhdfs.ActiveCacheNameForTest("ns", h.addrs[:2]) {
		t.Fatal("the cache key ignores the NameNode list")
	}
}

// A cache naming a NameNode that has become standby or died is verified by
// the call: it falls through to hedged discovery, with no sleep, and the
// cache is rewritten.
func TestClientStaleCache(t *testing.T) {
	for _, roles := range []string{"SSA", "DSA", "SAD", "ADS"} {
		t.Run(roles, func(t *testing.T) {
			h := startHA(t, roles)
			act := strings.IndexByte(roles, 'A')
			stale := (act + 1) % 3 // cached: a standby or a dead one
			dir := t.TempDir()
			seedCache(t, dir, "ns", h.addrs, h.addrs[stale])
			rec := &sleepRecorder{}
			c, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{CacheDir: dir, Sleep: rec.sleep})
			if c.Active() != h.addrs[stale] {
				t.Fatalf("starts at %s, want the cached %s", c.Active(), h.addrs[stale])
			}
			// RENAME is not idempotent, but a standby's refusal or a refused
			// connection means it never ran.
			if err := h.nns[act].mem.Mkdirs(context.Background(), "/src", 0o755, "hdfs"); err != nil {
				t.Fatal(err)
			}
			if ok, err := c.Rename(context.Background(), "/src", "/dst"); err != nil || !ok {
				t.Fatalf("Rename: %v %v", ok, err)
			}
			if len(rec.got) != 0 {
				t.Fatalf("slept %v with NameNodes not yet tried", rec.got)
			}
			if got := readCache(t, dir, "ns", h.addrs); got != h.addrs[act] {
				t.Fatalf("cache names %q, want %q", got, h.addrs[act])
			}
		})
	}
}

// All standby: a whole round over the three NameNodes without sleeping,
// then Hadoop's backoff between rounds, until dfs.client.failover.max.attempts.
func TestClientAllStandbySleepsOnlyBetweenRounds(t *testing.T) {
	h := startHA(t, "SSS")
	rec := &sleepRecorder{}
	c, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{Sleep: rec.sleep, MaxFailovers: 7,
		SleepBase: 100 * time.Millisecond, SleepMax: time.Second})
	_, err := c.GetFileStatus(context.Background(), "/")
	if !errors.Is(err, webhdfs.ErrStandby) || !strings.Contains(err.Error(), "giving up after 7 failovers") {
		t.Fatalf("err %v", err)
	}
	// 8 attempts: sleeps after the 3rd and the 6th.
	if len(rec.got) != 2 {
		t.Fatalf("slept %v, want twice (after each full round)", rec.got)
	}
	var total int64
	for _, n := range h.hits() {
		total += n
	}
	if total != 3+8 {
		t.Fatalf("%d requests, want 11 (3 probes, 8 attempts)", total)
	}
}

// A corrupt or foreign cache file is ignored: discovery as without one.
func TestClientIgnoresUnknownCacheEntry(t *testing.T) {
	h := startHA(t, "SAS")
	dir := t.TempDir()
	seedCache(t, dir, "ns", h.addrs, "10.9.9.9:9870")
	c, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{CacheDir: dir, Sleep: (&sleepRecorder{}).sleep})
	if _, err := c.Mkdirs(context.Background(), "/a", 0); err != nil {
		t.Fatal(err)
	}
	if c.Active() != h.addrs[1] || readCache(t, dir, "ns", h.addrs) != h.addrs[1] {
		t.Fatalf("Active %s, cache %s", c.Active(), readCache(t, dir, "ns", h.addrs))
	}
}

// During the backoff after a round of standbys (a failover in progress), the
// client keeps asking: the backoff ends as soon as one NameNode is active,
// not after the whole jittered sleep.
func TestClientBackoffEndsWhenANameNodeBecomesActive(t *testing.T) {
	h := startHA(t, "SSS")
	var slept []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		h.nns[1].mem.SetStandby(false) // the failover completes during the backoff
		select {
		case <-ctx.Done(): // woken by the probe that found nn2 active
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("the backoff was not cut short by the new active")
		}
	}
	c, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{Sleep: sleep, SleepBase: time.Minute, SleepMax: time.Minute})
	if _, err := c.Mkdirs(context.Background(), "/x", 0); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || c.Active() != h.addrs[1] {
		t.Fatalf("slept %v, active %s: want one backoff ended by nn2 becoming active", slept, c.Active())
	}
	if _, err := h.nns[1].mem.GetFileStatus(context.Background(), "/x", "hdfs"); err != nil {
		t.Fatalf("the write is not on the new active: %v", err)
	}
}

// With a single NameNode there is nobody to fail over to: the backoff is
// the plain sleep, not cut short by asking that same standby.
func TestClientSingleNameNodeBacksOffFully(t *testing.T) {
	h := startHA(t, "S")
	rec := &sleepRecorder{}
	c, _ := webhdfs.NewClient("ns", h.addrs, webhdfs.ClientOptions{Sleep: rec.sleep, MaxFailovers: 2, SleepBase: time.Millisecond})
	if _, err := c.Mkdirs(context.Background(), "/x", 0); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("err %v", err)
	}
	if len(rec.got) != 2 || h.nns[0].hits.Load() != 3 {
		t.Fatalf("slept %v, %d requests: want 2 sleeps between 3 attempts", rec.got, h.nns[0].hits.Load())
	}
}

// A RetriableException (an HA active NameNode in start-up safe mode) is
// asked again on the same NameNode after Hadoop's backoff, up to
// dfs.client.retry.max.attempts, never failed over from.
func TestClientRetriesRetriableException(t *testing.T) {
	var calls, refuse atomic.Int32
	refuse.Store(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= refuse.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"RemoteException":{"exception":"RetriableException","javaClassName":"org.apache.hadoop.ipc.RetriableException","message":"org.apache.hadoop.hdfs.server.namenode.SafeModeException: Cannot create directory /a. Name node is in safe mode."}}`)
			return
		}
		io.WriteString(w, `{"boolean": true}`)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	rec := &sleepRecorder{}
	c, _ := webhdfs.NewClient("ns", []string{addr}, webhdfs.ClientOptions{Sleep: rec.sleep, SleepBase: 100 * time.Millisecond, SleepMax: time.Second})
	if _, err := c.Mkdirs(context.Background(), "/a", 0); err != nil {
		t.Fatalf("after %d calls: %v", calls.Load(), err)
	}
	if calls.Load() != 4 || len(rec.got) != 3 {
		t.Fatalf("%d calls, slept %v: want 4 calls and 3 sleeps", calls.Load(), rec.got)
	}
	// Growing, jittered: 100 ms × 2^(n-1) × [0.5, 1.5).
	for i, d := range rec.got {
		base := 100 * time.Millisecond << i
		if d < base/2 || d >= base*3/2 {
			t.Errorf("sleep %d: %v, want within [%v, %v)", i+1, d, base/2, base*3/2)
		}
	}
	// Never ending: the error after dfs.client.retry.max.attempts.
	calls.Store(0)
	refuse.Store(1 << 30)
	c, _ = webhdfs.NewClient("ns", []string{addr}, webhdfs.ClientOptions{Sleep: (&sleepRecorder{}).sleep, MaxRetries: 4})
	if _, err := c.Mkdirs(context.Background(), "/a", 0); !errors.Is(err, webhdfs.ErrRetriable) || calls.Load() != 5 {
		t.Fatalf("%d calls: %v; want 5 calls, then the RetriableException", calls.Load(), err)
	}
}
