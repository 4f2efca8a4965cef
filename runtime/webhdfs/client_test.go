package webhdfs_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

// nameNode is a test NameNode: an in-memory namespace behind the handler,
// counting the requests it receives.
type nameNode struct {
	mem  *webhdfstest.Mem
	addr string
	hits atomic.Int64
}

func startNameNode(t *testing.T) *nameNode {
	t.Helper()
	nn := &nameNode{mem: webhdfstest.NewMem()}
	h := webhdfs.Handler(nn.mem, webhdfs.HandlerOptions{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nn.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	nn.addr = strings.TrimPrefix(srv.URL, "http://")
	return nn
}

// deadAddr is an address on which nothing listens (connection refused).
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.5.2:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type sleepRecorder struct{ got []time.Duration }

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	return ctx.Err()
}

func TestClientFailsOverFromStandbyAndRemembersActive(t *testing.T) {
	nn1, nn2 := startNameNode(t), startNameNode(t)
	nn1.mem.SetStandby(true)
	rec := &sleepRecorder{}
	var logged []string
	c, err := webhdfs.NewClient("ns", []string{nn1.addr, nn2.addr}, webhdfs.ClientOptions{User: "alice", Sleep: rec.sleep,
		Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ok, err := c.Mkdirs(ctx, "/user/alice", 0o750); err != nil || !ok {
		t.Fatalf("Mkdirs: %v %v", ok, err)
	}
	if st, err := nn2.mem.GetFileStatus(ctx, "/user/alice", "hdfs"); err != nil || st.Owner != "alice" || st.Permission != "750" {
		t.Fatalf("on the active: %+v %v", st, err)
	}
	// Hedged discovery found nn2 before the call: no failover, no sleep.
	if len(rec.got) != 0 || len(logged) != 0 {
		t.Fatalf("sleeps %v, log %q: want the call sent straight to the active", rec.got, logged)
	}
	if got := nn1.hits.Load(); got > 1 {
		t.Fatalf("standby got %d requests, want at most the discovery probe (cancelled once nn2 answered)", got)
	}
	if c.Active() != nn2.addr {
		t.Fatalf("Active %s, want %s", c.Active(), nn2.addr)
	}
	// The next call goes straight to the remembered active.
	before := nn1.hits.Load()
	if _, err := c.GetFileStatus(ctx, "/user/alice"); err != nil {
		t.Fatal(err)
	}
	if nn1.hits.Load() != before {
		t.Fatalf("standby was asked again after the client learned the active")
	}

	// Failover of the cluster: nn2 becomes standby, nn1 active.
	nn2.mem.SetStandby(true)
	nn1.mem.SetStandby(false)
	if err := nn1.mem.Mkdirs(ctx, "/after", 0o755, "hdfs"); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListStatus(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].PathSuffix != "after" {
		t.Fatalf("listed %+v, want nn1's namespace", list)
	}
	if c.Active() != nn1.addr {
		t.Fatalf("Active %s after the switch, want %s", c.Active(), nn1.addr)
	}
	if len(rec.got) != 0 {
		t.Fatalf("slept %v failing over to a NameNode not yet tried", rec.got)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "StandbyException") || !strings.Contains(logged[0], "failover 1 of 15 to "+nn1.addr+" after sleeping 0s") {
		t.Fatalf("failover log %q", logged)
	}
}

func TestClientFailsOverOnConnectionRefused(t *testing.T) {
	nn := startNameNode(t)
	rec := &sleepRecorder{}
	c, _ := webhdfs.NewClient("ns", []string{deadAddr(t), nn.addr}, webhdfs.ClientOptions{Sleep: rec.sleep})
	// CREATE is not idempotent, but a refused connection never reached a NameNode.
	if err := c.Create(context.Background(), "/f", []byte("data"), webhdfs.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, err := nn.mem.Open(context.Background(), "/f", 0, -1, "hdfs"); err != nil || string(b) != "data" {
		t.Fatalf("file %q %v", b, err)
	}
}

func TestClientBacksOffAndGivesUp(t *testing.T) {
	nn1, nn2 := startNameNode(t), startNameNode(t)
	nn1.mem.SetStandby(true)
	nn2.mem.SetStandby(true)
	rec := &sleepRecorder{}
	c, _ := webhdfs.NewClient("ns", []string{nn1.addr, nn2.addr}, webhdfs.ClientOptions{
		Sleep: rec.sleep, MaxFailovers: 6, SleepBase: 100 * time.Millisecond, SleepMax: 500 * time.Millisecond})
	_, err := c.Mkdirs(context.Background(), "/x", 0)
	if !errors.Is(err, webhdfs.ErrStandby) || !strings.Contains(err.Error(), "giving up after 6 failovers") {
		t.Fatalf("err %v, want a StandbyException after 6 failovers", err)
	}
	// Sleeps come only after each full round over both NameNodes:
	// failovers 2, 4 and 6 (the 7th attempt gives up), base·2^(round-1)
	// capped at max, with Hadoop's jitter factor in [0.5, 1.5).
	caps := []time.Duration{100, 200, 400}
	if len(rec.got) != len(caps) {
		t.Fatalf("slept %d times (%v), want %d", len(rec.got), rec.got, len(caps))
	}
	for i, d := range rec.got {
		c := caps[i] * time.Millisecond
		if d < c/2 || d >= c*3/2 {
			t.Errorf("sleep %d = %v, want in [%v, %v)", i, d, c/2, c*3/2)
		}
	}
	if got := nn1.hits.Load() + nn2.hits.Load(); got != 9 {
		t.Errorf("%d requests, want 9 (2 discovery probes, first try + 6 failovers)", got)
	}
}

func TestClientStopsWhenContextEnds(t *testing.T) {
	nn := startNameNode(t)
	nn.mem.SetStandby(true)
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := webhdfs.NewClient("ns", []string{nn.addr}, webhdfs.ClientOptions{
		Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }})
	if _, err := c.GetFileStatus(ctx, "/"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// A NameNode that drops the connection mid-request leaves it unknown whether
// the call ran: only idempotent calls move on to the next NameNode.
func TestClientRetriesOnlyIdempotentCallsAfterAmbiguousFailure(t *testing.T) {
	dropper := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	nn := startNameNode(t)
	rec := &sleepRecorder{}
	addrs := []string{strings.TrimPrefix(dropper.URL, "http://"), nn.addr}
	// The cache names the dropper as active, so the DELETE goes there first
	// (without it, discovery would find nn before sending anything).
	dir := t.TempDir()
	seedCache(t, dir, "ns", addrs, addrs[0])
	c, _ := webhdfs.NewClient("ns", addrs, webhdfs.ClientOptions{Sleep: rec.sleep, CacheDir: dir})
	ctx := context.Background()
	if _, err := c.Delete(ctx, "/x", true); err == nil {
		t.Fatal("DELETE was retried on another NameNode after an ambiguous failure")
	}
	if nn.hits.Load() != 0 {
		t.Fatalf("the second NameNode got %d requests for a non-idempotent call", nn.hits.Load())
	}
	if _, err := c.GetFileStatus(ctx, "/"); err != nil {
		t.Fatalf("GETFILESTATUS should fail over: %v", err)
	}
}

func TestClientFromHadoopConfig(t *testing.T) {
	nn1, nn2 := startNameNode(t), startNameNode(t)
	nn1.mem.SetStandby(true)
	conf := hadoopconf.New()
	conf.Set("dfs.nameservices", "hacluster")
	conf.Set("dfs.ha.namenodes.hacluster", "nn1, nn2")
	conf.Set("dfs.namenode.http-address.hacluster.nn1", nn1.addr)
	conf.Set("dfs.namenode.http-address.hacluster.nn2", nn2.addr)
	conf.Set(webhdfs.KeyFailoverMaxAttempts, "1")
	ids, addrs, err := webhdfs.NameNodeHTTPAddrs(conf, "hacluster")
	if err != nil || strings.Join(ids, ",") != "nn1,nn2" || addrs[0] != nn1.addr {
		t.Fatalf("NameNodeHTTPAddrs: %v %v %v", ids, addrs, err)
	}
	rec := &sleepRecorder{}
	c, err := webhdfs.NewClientFromConfig(conf, "hacluster", webhdfs.ClientOptions{Sleep: rec.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mkdirs(context.Background(), "/d", 0); err != nil {
		t.Fatal(err)
	}
	nn2.mem.SetStandby(true)
	// max.attempts=1: one failover (nn2 → nn1, still standby), then give up.
	if _, err := c.Mkdirs(context.Background(), "/e", 0); err == nil || !strings.Contains(err.Error(), "after 1 failovers") {
		t.Fatalf("err %v, want giving up after dfs.client.failover.max.attempts=1", err)
	}
	if _, err := webhdfs.NewClientFromConfig(conf, "other", webhdfs.ClientOptions{}); err == nil {
		t.Fatal("unknown nameservice accepted")
	}
}

func TestClientOperations(t *testing.T) {
	nn := startNameNode(t)
	c, _ := webhdfs.NewClient("ns", []string{nn.addr}, webhdfs.ClientOptions{User: "bob"})
	ctx := context.Background()
	if err := c.Create(ctx, "/dir/file name", []byte("hello"), webhdfs.CreateOptions{Permission: 0o600, Replication: 2, BlockSize: 4096}); err != nil {
		t.Fatal(err)
	}
	err := c.Create(ctx, "/dir/file name", []byte("x"), webhdfs.CreateOptions{})
	var re *webhdfs.RemoteException
	if !errors.Is(err, webhdfs.ErrExists) || !errors.As(err, &re) || re.StatusCode != 403 {
		t.Fatalf("create over existing: %v", err)
	}
	if err := c.Create(ctx, "/dir/empty", nil, webhdfs.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Append(ctx, "/dir/file name", []byte(", world")); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Open(ctx, "/dir/file name", 0, -1); err != nil || string(b) != "hello, world" {
		t.Fatalf("Open %q %v", b, err)
	}
	if b, err := c.Open(ctx, "/dir/file name", 7, 3); err != nil || string(b) != "wor" {
		t.Fatalf("Open range %q %v", b, err)
	}
	st, err := c.GetFileStatus(ctx, "/dir/file name")
	if err != nil || st.Type != webhdfs.TypeFile || st.Length != 12 || st.Owner != "bob" || st.Permission != "600" || st.Replication != 2 || st.BlockSize != 4096 {
		t.Fatalf("status %+v %v", st, err)
	}
	if _, err := c.GetFileStatus(ctx, "/nope"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	if ok, err := c.Rename(ctx, "/dir/file name", "/moved"); err != nil || !ok {
		t.Fatalf("Rename %v %v", ok, err)
	}
	if err := c.SetPermission(ctx, "/moved", 0o640); err != nil {
		t.Fatal(err)
	}
	if err := c.SetOwner(ctx, "/moved", "", "staff"); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListStatus(ctx, "/")
	if err != nil || len(list) != 2 || list[0].PathSuffix != "dir" || list[1].PathSuffix != "moved" || list[1].Group != "staff" || list[1].Permission != "640" {
		t.Fatalf("ListStatus %+v %v", list, err)
	}
	cs, err := c.GetContentSummary(ctx, "/")
	if err != nil || cs.FileCount != 2 || cs.DirectoryCount != 2 || cs.Length != 12 {
		t.Fatalf("ContentSummary %+v %v", cs, err)
	}
	if _, err := c.Delete(ctx, "/dir", false); !errors.Is(err, webhdfs.ErrNotEmpty) {
		t.Fatalf("non-recursive delete of a non-empty dir: %v", err)
	}
	if ok, err := c.Delete(ctx, "/dir", true); err != nil || !ok {
		t.Fatalf("recursive delete: %v %v", ok, err)
	}
	if ok, err := c.Delete(ctx, "/dir", false); err != nil || ok {
		t.Fatalf("second delete: %v %v, want false", ok, err)
	}
}
