package namenode

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/qjm"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// fakeClock ticks one millisecond per reading, so edits carry distinct,
// deterministic times.
type fakeClock struct{ ms atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ms.Store(1_700_000_000_000)
	return c
}
func (c *fakeClock) Now() time.Time { return time.UnixMilli(c.ms.Add(1)) }

func testConfig(t testing.TB, id string) Config {
	dir := t.TempDir()
	return Config{Nameservice: "ns1", ID: id, NameDirs: []string{filepath.Join(dir, "n1"), filepath.Join(dir, "n2")},
		MaxInline: 4096, CheckpointTxns: 1 << 40, CheckpointPeriod: 0, Retained: 2, Superuser: "hdfs", Supergroup: "supergroup"}
}

var testInfo = qjm.NamespaceInfo{NamespaceID: 42, ClusterID: "CID-test", BlockPoolID: "BP-1-127.0.0.1-1"}

// newPair formats a journal and one NameNode, bootstraps a second from the
// first's image, and returns both in standby.
func newFormatted(t testing.TB, j *MemJournal, clk *fakeClock, ids ...string) []*NameNode {
	t.Helper()
	var out []*NameNode
	for i, id := range ids {
		cfg := testConfig(t, id)
		if i == 0 {
			if err := Format(context.Background(), cfg, j, testInfo, false, clk.Now()); err != nil {
				t.Fatal(err)
			}
		} else {
			ns := NewNamespace(cfg.MaxInline, "hdfs", "supergroup", 0)
			img, _ := out[0].storage.ReadImage(0)
			if img == nil {
				img = ns.EncodeImage()
			}
			if err := (&Storage{Dirs: cfg.NameDirs}).Format(testInfo, img, 0); err != nil {
				t.Fatal(err)
			}
		}
		n := New(cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
		if err := n.Load(); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// dump renders the whole tree, ids and times included, for comparisons.
func dump(ns *Namespace) string {
	var b strings.Builder
	var walk func(p string, n *inode)
	walk = func(p string, n *inode) {
		sum := sha256.Sum256(n.data)
		fmt.Fprintf(&b, "%s dir=%v id=%d perm=%o %s:%s m=%d a=%d r=%d bs=%d len=%d %x\n", p, n.dir, n.id, n.perm,
			ns.names[n.owner], ns.names[n.group], n.mtime, n.atime, n.repl, n.blockSize, len(n.data), sum[:4])
		for _, c := range n.children {
			walk(strings.TrimSuffix(p, "/")+"/"+c.name, c)
		}
	}
	walk("/", ns.root)
	fmt.Fprintf(&b, "files=%d dirs=%d lastInode=%d txid=%d\n", ns.files, ns.dirs, ns.lastInodeID, ns.lastTxid)
	return b.String()
}

func replay(t *testing.T, j *MemJournal, base *Namespace) *Namespace {
	t.Helper()
	ns, err := DecodeImage(base.EncodeImage(), base.MaxInline)
	if err != nil {
		t.Fatal(err)
	}
	edits, err := j.ReadEdits(context.Background(), ns.lastTxid+1, true, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		op, err := DecodeOp(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns.Apply(e.Txid, op); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

func TestEditRoundTrip(t *testing.T) {
	ops := []*Op{
		{Code: OpNoop},
		{Code: OpMkdirs, Path: "/a/b", Perm: 0o1755, Owner: "u", Group: "g", Time: -5},
		{Code: OpCreate, Path: "/f", Perm: 0o644, Owner: "u", Group: "g", Time: 7, Replication: 3, BlockSize: 128 << 20, Overwrite: true, Data: []byte("hello")},
		{Code: OpAppend, Path: "/f", Time: 9, Data: []byte{0, 1, 2}},
		{Code: OpDelete, Path: "/a", Recursive: true, Time: 10},
		{Code: OpRename, Path: "/x", Dst: "/y/x", Time: 11},
		{Code: OpSetPermission, Path: "/f", Perm: 0o600},
		{Code: OpSetOwner, Path: "/f", Owner: "o", Group: ""},
		{Code: OpSetReplication, Path: "/f", Replication: 5},
		{Code: OpTimes, Path: "/f", MTime: 12, ATime: -1},
		{Code: OpTruncate, Path: "/f", Length: 2, Time: 13},
		{Code: OpConcat, Path: "/f", Srcs: []string{"/a", "/b/c"}, Time: 14},
	}
	for _, op := range ops {
		b := EncodeOp(op)
		got, err := DecodeOp(b)
		if err != nil {
			t.Fatalf("%s: %v", op.Code, err)
		}
		if len(got.Data) == 0 {
			got.Data = nil
		}
		if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", *op) {
			t.Errorf("%s: got %+v want %+v", op.Code, *got, *op)
		}
		if _, err := DecodeOp(b[:len(b)-1]); len(b) > 2 && !errors.Is(err, ErrBadEdit) {
			t.Errorf("%s: truncated edit decoded: %v", op.Code, err)
		}
	}
	if _, err := DecodeOp([]byte{9, 1}); !errors.Is(err, ErrBadEdit) {
		t.Errorf("unknown version accepted: %v", err)
	}
}

func TestStandbyRefusesAndActiveWrites(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nns := newFormatted(t, j, clk, "nn1", "nn2")
	nn1, nn2 := nns[0], nns[1]
	if err := nn1.Mkdirs(ctx, "/x", 0o755, "alice"); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("standby accepted a write: %v", err)
	}
	if _, err := nn1.GetFileStatus(ctx, "/", "hdfs"); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("standby served a read: %v", err)
	}
	if err := nn1.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Mkdirs(ctx, "/x/y", 0o750, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Create(ctx, "/x/y/f", []byte("data"), false, 0o640, 3, 1<<20, "bob"); err != nil {
		t.Fatal(err)
	}
	st, err := nn1.GetFileStatus(ctx, "/x/y/f", "hdfs")
	if err != nil || st.Length != 4 || st.Owner != "bob" || st.Group != "supergroup" || st.Permission != "640" {
		t.Fatalf("stat = %+v, %v", st, err)
	}
	if err := nn1.Create(ctx, "/big", make([]byte, 5000), false, 0o644, 1, 1, "u"); !errors.Is(err, webhdfs.ErrTooLarge) {
		t.Fatalf("oversized file: %v", err)
	}
	// The standby catches up by tailing and matches the active exactly.
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nn1.ns), dump(nn2.ns); a != b {
		t.Fatalf("standby differs from active:\n%s\n---\n%s", a, b)
	}
	// Manual failover: nn1 to standby, nn2 to active; nn2 sees every write.
	if err := nn1.TransitionToStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := nn2.Open(ctx, "/x/y/f", 1, 2, "hdfs"); err != nil || string(b) != "at" {
		t.Fatalf("open = %q, %v", b, err)
	}
	if err := nn2.Append(ctx, "/x/y/f", []byte("!"), "bob"); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Append(ctx, "/x/y/f", []byte("?"), "bob"); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("old active accepted a write after standby: %v", err)
	}
}

func TestFencedWriterNeverAcks(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nns := newFormatted(t, j, clk, "nn1", "nn2")
	nn1, nn2 := nns[0], nns[1]
	if err := nn1.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Mkdirs(ctx, "/acked", 0o755, "u"); err != nil {
		t.Fatal(err)
	}
	// nn2 becomes active without nn1 knowing (a partition): a new epoch.
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	err := nn1.Mkdirs(ctx, "/lost", 0o755, "u")
	if !errors.Is(err, qjm.ErrFenced) {
		t.Fatalf("fenced active acknowledged or failed oddly: %v", err)
	}
	if nn1.State() != StateStandby {
		t.Fatalf("fenced active is %s, want standby", nn1.State())
	}
	if err := nn1.Mkdirs(ctx, "/later", 0o755, "u"); !errors.Is(err, webhdfs.ErrStandby) {
		t.Fatalf("fenced active accepted a later write: %v", err)
	}
	if err := nn2.Mkdirs(ctx, "/new", 0o755, "u"); err != nil {
		t.Fatal(err)
	}
	// The old active reloads and tails: it loses its unacknowledged /lost.
	if _, err := nn1.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nn1.ns), dump(nn2.ns); a != b {
		t.Fatalf("fenced NameNode did not converge:\n%s\n---\n%s", a, b)
	}
	if _, err := nn2.GetFileStatus(ctx, "/lost", "hdfs"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Fatalf("unacknowledged edit is visible: %v", err)
	}
}

func TestLostQuorumDropsToStandby(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	nn := newFormatted(t, j, newClock(), "nn1")[0]
	if err := nn.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	j.FailSync = qjm.ErrNoQuorum
	if err := nn.Mkdirs(ctx, "/x", 0o755, "u"); !errors.Is(err, qjm.ErrNoQuorum) {
		t.Fatalf("write without quorum: %v", err)
	}
	if nn.State() != StateStandby {
		t.Fatalf("state %s after lost quorum", nn.State())
	}
	rec := httptest.NewRecorder()
	nn.serveStatusPage(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "Last error") || !strings.Contains(rec.Body.String(), "quorum") {
		t.Fatalf("status page does not show the journal failure:\n%s", rec.Body)
	}
	j.FailSync = nil
	if err := nn.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nn.GetFileStatus(ctx, "/x", "hdfs"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Fatalf("unacknowledged /x survived: %v", err)
	}
}

func TestCheckpointRestartAndRetention(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nns := newFormatted(t, j, clk, "nn1", "nn2")
	active, standby := nns[0], nns[1]
	if err := active.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for k := range 5 {
			if err := active.Create(ctx, fmt.Sprintf("/d%d/f%d", i, k), []byte{byte(k)}, false, 0o644, 1, 1024, "u"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := standby.TailOnce(ctx); err != nil {
			t.Fatal(err)
		}
		txid, img, err := standby.Checkpoint(true)
		if err != nil || img == nil {
			t.Fatalf("checkpoint: %v", err)
		}
		if err := active.AcceptImage(ctx, txid, img); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*NameNode{active, standby} {
		if got := n.storage.Images(); len(got) != 2 {
			t.Fatalf("%s keeps images %v, want the newest 2", n.cfg.ID, got)
		}
	}
	// The active purged the edits every retained image already holds.
	oldest := active.storage.Images()[1]
	if _, err := j.ReadEdits(ctx, oldest, true, 1); err == nil {
		t.Fatalf("edits before the oldest retained image (%d) were not purged", oldest)
	}
	if e, err := j.ReadEdits(ctx, oldest+1, true, 1); err != nil || len(e) != 1 {
		t.Fatalf("edits after the oldest retained image were purged: %v", err)
	}
	if err := active.Mkdirs(ctx, "/after-checkpoint", 0o700, "u"); err != nil {
		t.Fatal(err)
	}
	// A restarted standby loads the newest image and replays only the rest.
	restarted := New(standby.cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := restarted.Load(); err != nil {
		t.Fatal(err)
	}
	if restarted.ns.lastTxid != standby.storage.Images()[0] {
		t.Fatalf("restart loaded txid %d", restarted.ns.lastTxid)
	}
	if n, err := restarted.TailOnce(ctx); err != nil || n != 1 {
		t.Fatalf("tail after restart applied %d edits: %v", n, err)
	}
	if a, b := dump(active.ns), dump(restarted.ns); a != b {
		t.Fatalf("restarted standby differs:\n%s\n---\n%s", a, b)
	}
	// A corrupt newest image is skipped for the previous one.
	newest := standby.storage.Images()[0]
	for _, d := range standby.cfg.NameDirs {
		p := filepath.Join(d, "current", ImageName(newest))
		b, _ := os.ReadFile(p)
		b[len(b)-1] ^= 0xff
		os.WriteFile(p, b, 0o644)
	}
	ns, err := standby.storage.LoadLatest(4096)
	if err != nil || ns.lastTxid >= newest {
		t.Fatalf("corrupt image not skipped: txid %v, %v", ns, err)
	}
}

func TestImageRoundTrip(t *testing.T) {
	ns := NewNamespace(1<<20, "hdfs", "supergroup", 1)
	txid := int64(0)
	apply := func(op *Op) {
		if ch, err := ns.Prepare(op); err != nil || !ch {
			t.Fatalf("%s %s: %v %v", op.Code, op.Path, ch, err)
		}
		txid++
		if err := ns.Apply(txid, op); err != nil {
			t.Fatal(err)
		}
	}
	apply(&Op{Code: OpMkdirs, Path: "/a/b/c", Perm: 0o755, Owner: "x", Time: 5})
	apply(&Op{Code: OpCreate, Path: "/a/f", Data: []byte("abc"), Perm: 0o600, Owner: "y", Group: "g", Replication: 2, BlockSize: 99, Time: 6})
	apply(&Op{Code: OpCreate, Path: "/a/empty", Perm: 0o644, Owner: "y", Time: 7})
	apply(&Op{Code: OpSetPermission, Path: "/a", Perm: 0o1777})
	img := ns.EncodeImage()
	got, err := DecodeImage(img, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if dump(got) != dump(ns) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", dump(got), dump(ns))
	}
	if _, err := DecodeImage(img[:len(img)-2], 1<<20); !errors.Is(err, ErrBadImage) {
		t.Fatalf("truncated image decoded: %v", err)
	}
}

func TestStorageVersionAndFormatRefusal(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, "nn1")
	j := NewMemJournal()
	where, err := DataLocations(ctx, &Storage{Dirs: cfg.NameDirs}, j)
	if err != nil || len(where) != 0 {
		t.Fatalf("fresh storage has data: %v %v", where, err)
	}
	if err := Format(ctx, cfg, j, testInfo, false, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	where, _ = DataLocations(ctx, &Storage{Dirs: cfg.NameDirs}, j)
	if len(where) != 3 {
		t.Fatalf("after format, data in %v", where)
	}
	st := &Storage{Dirs: cfg.NameDirs}
	info, err := st.ReadVersion()
	if err != nil || info != testInfo {
		t.Fatalf("VERSION = %+v, %v", info, err)
	}
	b, _ := os.ReadFile(filepath.Join(cfg.NameDirs[1], "current", "VERSION"))
	for _, want := range []string{"storageType=NAME_NODE", "clusterID=CID-test", "namespaceID=42", "layoutVersion=-66", "blockpoolID=BP-1-127.0.0.1-1", "cTime=0"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("VERSION lacks %s:\n%s", want, b)
		}
	}
	for _, f := range []string{"fsimage_0000000000000000000", "fsimage_0000000000000000000.sha256", "seen_txid"} {
		if _, err := os.Stat(filepath.Join(cfg.NameDirs[0], "current", f)); err != nil {
			t.Error(err)
		}
	}
	// Bootstrap refuses a NameNode whose storage holds data.
	if _, err := BootstrapStandby(ctx, cfg, j, nil, false); !errors.Is(err, ErrAlreadyFormatted) {
		t.Fatalf("bootstrap over data: %v", err)
	}
}

type memSource struct{ from *NameNode }

func (m memSource) FetchImage(ctx context.Context, p Peer) (int64, []byte, error) {
	txid := m.from.storage.Images()[0]
	b, err := m.from.storage.ReadImage(txid)
	return txid, b, err
}
func (m memSource) LastTxid(ctx context.Context, p Peer) (int64, error) {
	return m.from.Totals().LastTxid, nil
}

func TestBootstrapStandby(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nn1 := newFormatted(t, j, clk, "nn1")[0]
	if err := nn1.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := nn1.Mkdirs(ctx, fmt.Sprintf("/d%d", i), 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(t, "nn2")
	cfg.Peers = []Peer{{ID: "nn1"}}
	txid, err := BootstrapStandby(ctx, cfg, j, memSource{nn1}, false)
	if err != nil || txid != 0 {
		t.Fatalf("bootstrap: txid %d, %v", txid, err)
	}
	nn2 := New(cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := nn2.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if dump(nn1.ns) != dump(nn2.ns) {
		t.Fatal("bootstrapped standby differs after tailing")
	}
	// Edits purged from the journal: a new bootstrap must refuse (exit 6).
	j.PurgeLogs(ctx, 3)
	cfg3 := testConfig(t, "nn3")
	cfg3.Peers = cfg.Peers
	if _, err := BootstrapStandby(ctx, cfg3, j, memSource{nn1}, false); !errors.Is(err, ErrLogsUnavailable) {
		t.Fatalf("bootstrap with missing edits: %v", err)
	}
	if d, _ := (&Storage{Dirs: cfg3.NameDirs}).HasData(); d != "" {
		t.Fatalf("refused bootstrap left data in %s", d)
	}
}

func TestInitializeSharedEditsContinuesAfterImage(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nn := newFormatted(t, j, clk, "nn1")[0]
	nn.TransitionToActive(ctx)
	for i := range 3 {
		nn.Mkdirs(ctx, fmt.Sprintf("/k%d", i), 0o755, "u")
	}
	nn.TransitionToStandby(ctx)
	_, img, _ := nn.Checkpoint(true)
	if img == nil {
		t.Fatal("no checkpoint")
	}
	// A fresh, empty journal (as for a NameNode that was not HA).
	j2 := NewMemJournal()
	if err := InitializeSharedEdits(ctx, nn.cfg, j2, false); err != nil {
		t.Fatal(err)
	}
	nn2 := New(nn.cfg, j2, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := nn2.Load(); err != nil {
		t.Fatal(err)
	}
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn2.Mkdirs(ctx, "/k9", 0o755, "u"); err != nil {
		t.Fatal(err)
	}
	if got := j2.LastTxid(); got != 4 {
		t.Fatalf("journal at %d, want 4", got)
	}
}

// Re-initializing a journal that holds edits past the local image folds
// them into a new local image first: nothing is lost.
func TestInitializeSharedEditsKeepsJournalEdits(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nn := newFormatted(t, j, clk, "nn1")[0]
	nn.TransitionToActive(ctx)
	for i := range 3 {
		if err := nn.Mkdirs(ctx, fmt.Sprintf("/k%d", i), 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	nn.TransitionToStandby(ctx) // the local image is still fsimage_0
	want := dump(nn.ns)
	if err := InitializeSharedEdits(ctx, nn.cfg, j, true); err != nil {
		t.Fatal(err)
	}
	if imgs := nn.storage.Images(); imgs[0] != 3 {
		t.Fatalf("images %v, want a new fsimage at txid 3", imgs)
	}
	nn2 := New(nn.cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := nn2.Load(); err != nil {
		t.Fatal(err)
	}
	if err := nn2.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if got := dump(nn2.ns); got != want {
		t.Fatalf("namespace after initialize-shared-edits:\n%s\nwant\n%s", got, want)
	}
}

func TestRenameAndDeleteSemantics(t *testing.T) {
	ctx := context.Background()
	nn := newFormatted(t, NewMemJournal(), newClock(), "nn1")[0]
	nn.TransitionToActive(ctx)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(nn.Mkdirs(ctx, "/a/b", 0o755, "u"))
	must(nn.Create(ctx, "/a/f", []byte("1"), false, 0o644, 1, 1, "u"))
	must(nn.Mkdirs(ctx, "/t", 0o755, "u"))
	must(nn.Create(ctx, "/t/x", nil, false, 0o644, 1, 1, "u"))
	for _, c := range []struct {
		src, dst string
		want     bool
	}{
		{"/missing", "/x", false},
		{"/a", "/a/b/c", false},    // into itself
		{"/a/f", "/a/f", true},     // to itself: true, nothing changes
		{"/a/f", "/nope/f", false}, // missing parent
		{"/a/f", "/t", true},       // into a directory
		{"/t/f", "/a/b/g", true},
		{"/a/b/g", "/a/b", true},  // into its own parent: itself, a no-op
		{"/a/b/g", "/t/x", false}, // the target file exists
		{"/", "/x", false},
	} {
		got, err := nn.Rename(ctx, c.src, c.dst, "hdfs")
		if err != nil || got != c.want {
			t.Errorf("rename %s %s = %v, %v; want %v", c.src, c.dst, got, err, c.want)
		}
	}
	if _, err := nn.GetFileStatus(ctx, "/a/b/g", "hdfs"); err != nil {
		t.Fatal(err)
	}
	if _, err := nn.Delete(ctx, "/a", false, "hdfs"); !errors.Is(err, webhdfs.ErrNotEmpty) {
		t.Fatalf("non-recursive delete of a non-empty dir: %v", err)
	}
	if ok, err := nn.Delete(ctx, "/a", true, "hdfs"); !ok || err != nil {
		t.Fatalf("recursive delete: %v %v", ok, err)
	}
	if ok, _ := nn.Delete(ctx, "/a", true, "hdfs"); ok {
		t.Fatal("deleting a missing path returned true")
	}
	if ok, _ := nn.Delete(ctx, "/", true, "hdfs"); ok {
		t.Fatal("deleted /")
	}
	cs, err := nn.GetContentSummary(ctx, "/", "hdfs")
	if err != nil || cs.DirectoryCount != 2 || cs.FileCount != 1 {
		t.Fatalf("summary %+v %v", cs, err)
	}
	for _, bad := range []string{"rel", "/a/../b", "/a/./b", "/x:y"} {
		if err := nn.Mkdirs(ctx, bad, 0o755, "u"); !errors.Is(err, webhdfs.ErrInvalidPath) {
			t.Errorf("mkdirs %q: %v", bad, err)
		}
	}
	must(nn.SetOwner(ctx, "/t", "o", "", "hdfs"))
	must(nn.SetPermission(ctx, "/t", fs.FileMode(0o700)|fs.ModeSticky, "hdfs"))
	st, _ := nn.GetFileStatus(ctx, "/t", "hdfs")
	if st.Owner != "o" || st.Group != "supergroup" || st.Permission != "1700" {
		t.Fatalf("after setowner/setpermission: %+v", st)
	}
}

// listAll returns path → status line for a NameNode's whole tree via the Namesystem API.
func listAll(t *testing.T, nn *NameNode) map[string]string {
	out := map[string]string{}
	var walk func(p string)
	walk = func(p string) {
		sts, err := nn.ListStatus(context.Background(), p, "hdfs")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			cp := strings.TrimSuffix(p, "/") + "/" + s.PathSuffix
			if s.Type == webhdfs.TypeDirectory {
				out[cp] = "dir " + s.Permission
				walk(cp)
			} else {
				b, _ := nn.Open(context.Background(), cp, 0, -1, "hdfs")
				out[cp] = "file " + s.Permission + " " + string(b)
			}
		}
	}
	walk("/")
	return out
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// An offset plus a length past int64 reads to the end of the file; it
// overflowed into a slice-bounds panic.
func TestReadLengthOverflow(t *testing.T) {
	ns := NewNamespace(1<<20, "hdfs", "supergroup", 1)
	op := &Op{Code: OpCreate, Path: "/f", Data: []byte("0123456789"), Perm: 0o644, Owner: "hdfs"}
	if _, err := ns.Prepare(op); err != nil {
		t.Fatal(err)
	}
	if err := ns.Apply(1, op); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		offset, length int64
		want           string
	}{{1, math.MaxInt64, "123456789"}, {10, math.MaxInt64, ""}, {2, 3, "234"}, {2, -1, "23456789"}} {
		got, err := ns.Read("/f", c.offset, c.length)
		if err != nil || string(got) != c.want {
			t.Errorf("Read(%d, %d) = %q, %v; want %q", c.offset, c.length, got, err, c.want)
		}
	}
	// Past the end: Hadoop's IOException (a 403 over WebHDFS), not a 400.
	if _, err := ns.Read("/f", 11, -1); err == nil || !strings.HasSuffix(err.Error(), "Offset=11 out of the range [0, 10); OPEN, path=/f") {
		t.Errorf("Read past the end: %v", err)
	}
}

// TestAcceptImageRefusesTxidBeyondApplied uploads images whose txid would
// make the active purge edits that no image holds: one labelled beyond its
// contents and one genuinely beyond what the active wrote.
func TestAcceptImageRefusesTxidBeyondApplied(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nns := newFormatted(t, j, clk, "nn1", "nn2")
	active, standby := nns[0], nns[1]
	if err := active.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		if err := active.Mkdirs(ctx, fmt.Sprintf("/d%d", k), 0o755, "u"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := standby.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	txid, img, err := standby.Checkpoint(true)
	if err != nil || img == nil {
		t.Fatalf("checkpoint: %v", err)
	}
	before := active.storage.Images()
	if err := active.AcceptImage(ctx, txid+1000, img); !errors.Is(err, ErrImageTxid) {
		t.Fatalf("image relabelled to txid %d: %v, want ErrImageTxid", txid+1000, err)
	}
	ahead, err := DecodeImage(img, active.cfg.MaxInline)
	if err != nil {
		t.Fatal(err)
	}
	ahead.lastTxid = txid + 1000
	if err := active.AcceptImage(ctx, txid+1000, ahead.EncodeImage()); !errors.Is(err, ErrImageTxid) {
		t.Fatalf("image beyond the active's last txid: %v, want ErrImageTxid", err)
	}
	if got := active.storage.Images(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("a refused image was kept: images %v, before %v", got, before)
	}
	if err := active.AcceptImage(ctx, txid, img); err != nil {
		t.Fatalf("the genuine image: %v", err)
	}
}

// superGroups puts every user in the supergroup: the HA, journal and
// checkpoint tests act as superusers; permission_test.go tests the checker.
func superGroups(string) ([]string, error) { return []string{"supergroup"}, nil }
