package qjm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/journal"
	"github.com/hactl/hactl/runtime/rpc"
)

var testSecret = []byte("qjm-test-secret-0123456789")

var testNS = NamespaceInfo{NamespaceID: 12345, ClusterID: "CID-test", CTime: 0, BlockPoolID: "BP-1"}

var errInjected = errors.New("injected fault")
var errDown = errors.New("connection refused (journalnode down)")

// cluster is n in-process JournalNodes reached through fake channels that can
// fail calls before or after the JN applies them, and JNs that can be killed
// and restarted from their storage.
type cluster struct {
	t     testing.TB
	dirs  []string
	mu    sync.Mutex
	nodes []*journal.Node
	// fault decides, per call, whether it fails before ("before") or after
	// ("after") reaching the JN, or not at all ("").
	fault    func(jn int, method string) string
	managers []*Manager
	fetches  []fetchRecord // every segment download, in order
}

// fetchRecord is one segment download served by the cluster.
type fetchRecord struct {
	httpAddr      string
	start, offset int64
	code, bytes   int
}

// takeFetches returns the downloads since the last call.
func (c *cluster) takeFetches() []fetchRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fetches
	c.fetches = nil
	return f
}

func newCluster(t testing.TB, root string, n int) *cluster {
	c := &cluster{t: t}
	for i := 0; i < n; i++ {
		c.dirs = append(c.dirs, fmt.Sprintf("%s/jn%d", root, i))
		c.nodes = append(c.nodes, nil)
		c.start(i)
	}
	return c
}

func (c *cluster) httpAddr(i int) string { return fmt.Sprintf("jn%d:8480", i) }

// fetch serves a segment download from the in-process JN named by httpAddr,
// through its real (signed) HTTP handler.
func (c *cluster) fetch(ctx context.Context, httpAddr, jid string, start, offset int64) (io.ReadCloser, error) {
	i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(httpAddr, "jn"), ":8480"))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	n := c.nodes[i]
	c.mu.Unlock()
	if n == nil {
		return nil, errDown
	}
	u := fmt.Sprintf("/getJournal?jid=%s&segmentTxId=%d", jid, start)
	if offset > 0 {
		u += fmt.Sprintf("&offset=%d", offset)
	}
	req := httptest.NewRequest("GET", "http://"+httpAddr+u, nil)
	auth.SignRequest(req, testSecret, time.Now())
	rec := httptest.NewRecorder()
	n.HTTPHandler().ServeHTTP(rec, req)
	c.mu.Lock()
	c.fetches = append(c.fetches, fetchRecord{httpAddr, start, offset, rec.Code, rec.Body.Len()})
	c.mu.Unlock()
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET segment %d from %s: %d %s", start, httpAddr, rec.Code, rec.Body.String())
	}
	return io.NopCloser(rec.Body), nil
}

func (c *cluster) start(i int) {
	n, err := journal.NewNode(journal.Options{Dir: c.dirs[i], HTTPAddr: c.httpAddr(i), Secret: testSecret, NoSync: true, Fetch: c.fetch})
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
}

func (c *cluster) kill(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// setFault installs a fault function after every call in flight has finished
// (writers' slow third JN included), so a fault hits exactly the calls after it.
func (c *cluster) setFault(f func(int, string) string) {
	c.mu.Lock()
	ms := c.managers
	c.mu.Unlock()
	for _, m := range ms {
		drain(m.loggers)
	}
	c.mu.Lock()
	c.fault = f
	c.mu.Unlock()
}

func (c *cluster) restart(i int) { c.kill(i); c.start(i) }

func (c *cluster) node(i int) *journal.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

type fakeChan struct {
	c *cluster
	i int
	// local, when set, faults this manager's calls only (a partition
	// between one client and some JNs); it is consulted before the
	// cluster's fault.
	local func(jn int, method string) string
}

func (f *fakeChan) Close() error { return nil }

func (f *fakeChan) Call(ctx context.Context, method string, req, resp any) error {
	n := f.c.node(f.i)
	if n == nil {
		return errDown
	}
	mode := ""
	if f.local != nil {
		mode = f.local(f.i, method)
	}
	f.c.mu.Lock()
	fault := f.c.fault
	f.c.mu.Unlock()
	if fault != nil && mode == "" {
		mode = fault(f.i, method)
	}
	if mode == "before" {
		return fmt.Errorf("%s before persisting: %w", method, errInjected)
	}
	body, err := rpc.Encode(req)
	if err != nil {
		return err
	}
	res, herr := n.Handle(ctx, method, body)
	if mode == "after" {
		return fmt.Errorf("%s after persisting: %w", method, errInjected)
	}
	if herr != nil {
		return rpc.FromWire(rpc.ToWire(herr)) // as it would cross the wire
	}
	if resp == nil {
		return nil
	}
	b, err := rpc.Encode(res)
	if err != nil {
		return err
	}
	return rpc.Decode(b, resp)
}

func (c *cluster) manager() *Manager { return c.managerWithFault(nil) }

// managerWithFault returns a manager whose calls also go through local (nil:
// none), e.g. a writer partitioned from one JN that readers still reach.
func (c *cluster) managerWithFault(local func(jn int, method string) string) *Manager {
	var addrs []string
	var chans []channel
	for i := range c.dirs {
		addrs = append(addrs, fmt.Sprintf("jn%d:8485", i))
		chans = append(chans, &fakeChan{c, i, local})
	}
	t := DefaultTimeouts()
	m := newManager(Config{JournalID: "testjournal", Addrs: addrs, Secret: testSecret, Timeouts: t}, chans, c.fetch)
	c.mu.Lock()
	c.managers = append(c.managers, m)
	c.mu.Unlock()
	return m
}

// cutFrom returns a fault function failing every call to the listed JNs.
func cutFrom(jns ...int) func(int, string) string {
	return func(jn int, _ string) string {
		for _, j := range jns {
			if j == jn {
				return "before"
			}
		}
		return ""
	}
}

// failOn returns a fault function failing method on the listed JNs.
func failOn(mode, method string, jns ...int) func(int, string) string {
	return func(jn int, m string) string {
		if m != method {
			return ""
		}
		for _, j := range jns {
			if j == jn {
				return mode
			}
		}
		return ""
	}
}

func editData(writer int, txid int64) []byte { return []byte(fmt.Sprintf("w%d-tx%d", writer, txid)) }

// writeN appends and syncs n edits one at a time, returning the acked txids.
func writeN(t testing.TB, w *Writer, writer, n int) []int64 {
	t.Helper()
	var acked []int64
	for k := 0; k < n; k++ {
		tx := w.Append(editData(writer, w.LastTxid()+1))
		if err := w.Sync(context.Background(), tx); err != nil {
			return acked
		}
		acked = append(acked, tx)
	}
	return acked
}

var _ = rand.New
