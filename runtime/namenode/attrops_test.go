package namenode

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hactl/hactl/runtime/webhdfs"
)

// TestAttrOpsEditAndReplay runs SETREPLICATION, SETTIMES and TRUNCATE on
// the active: each change is one edit, which the standby's tailing and a
// restart from image plus journal both replay to the same tree.
func TestAttrOpsEditAndReplay(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nns := newFormatted(t, j, clk, "nn1", "nn2")
	nn1, nn2 := nns[0], nns[1]
	if err := nn1.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Mkdirs(ctx, "/d", 0o755, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := nn1.Create(ctx, "/d/f", []byte("0123456789"), false, 0o644, 3, 1<<20, "alice"); err != nil {
		t.Fatal(err)
	}
	base := nn1.ns.lastTxid

	if ok, err := nn1.SetReplication(ctx, "/d/f", 2, "alice"); !ok || err != nil {
		t.Fatalf("setReplication of a file = %v, %v", ok, err)
	}
	// A directory or a missing path: false, no edit (Hadoop's answer).
	for _, p := range []string{"/d", "/d/nope"} {
		if ok, err := nn1.SetReplication(ctx, p, 2, "alice"); ok || err != nil {
			t.Errorf("setReplication %s = %v, %v; want false, nil", p, ok, err)
		}
	}
	for _, r := range []int16{0, 513} {
		if _, err := nn1.SetReplication(ctx, "/d/f", r, "alice"); !errors.Is(err, webhdfs.ErrIOException) {
			t.Errorf("replication %d: %v, want Hadoop's verifyReplication IOException", r, err)
		}
	}
	if err := nn1.SetTimes(ctx, "/d/f", 1000, -1, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := nn1.SetTimes(ctx, "/d", -1, 2000, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := nn1.SetTimes(ctx, "/d/f", -1, -1, "alice"); err != nil { // nothing to change: no edit
		t.Fatal(err)
	}
	if err := nn1.SetTimes(ctx, "/nope", 1, 1, "alice"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Errorf("setTimes of a missing path: %v", err)
	}
	st, _ := nn1.GetFileStatus(ctx, "/d/f", "alice")
	if st.Replication != 2 || st.ModificationTime != 1000 {
		t.Errorf("after setReplication/setTimes: %+v", st)
	}
	if st, _ := nn1.GetFileStatus(ctx, "/d", "alice"); st.AccessTime != 2000 {
		t.Errorf("directory access time %d, want 2000", st.AccessTime)
	}

	if ok, err := nn1.Truncate(ctx, "/d/f", 4, "alice"); !ok || err != nil {
		t.Fatalf("truncate = %v, %v", ok, err)
	}
	if _, err := nn1.Truncate(ctx, "/d/f", 5, "alice"); err == nil || !strings.HasSuffix(err.Error(), ": Cannot truncate to a larger file size. Current size: 4, truncate size: 5.") {
		t.Errorf("growing truncate: %v", err)
	}
	if _, err := nn1.Truncate(ctx, "/d", 0, "alice"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Errorf("truncate of a directory: %v", err)
	}
	if b, err := nn1.Open(ctx, "/d/f", 0, -1, "alice"); err != nil || string(b) != "0123" {
		t.Fatalf("after truncate: %q, %v", b, err)
	}
	// Appending after a truncate continues from the new end.
	if err := nn1.Append(ctx, "/d/f", []byte("xy"), "alice"); err != nil {
		t.Fatal(err)
	}
	if got, want := nn1.ns.lastTxid-base, int64(5); got != want { // repl, times x2, truncate, append
		t.Errorf("%d edits written, want %d", got, want)
	}

	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nn1.ns), dump(nn2.ns); a != b {
		t.Fatalf("standby differs from active:\n%s\n---\n%s", a, b)
	}
	img, err := DecodeImage(nn1.ns.EncodeImage(), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nn1.ns), dump(img); a != b {
		t.Fatalf("image differs:\n%s\n---\n%s", a, b)
	}
	if err := nn2.SetTimes(ctx, "/d/f", 1, 1, "alice"); !errors.Is(err, webhdfs.ErrStandby) {
		t.Errorf("standby accepted setTimes: %v", err)
	}
}

func TestAttrOpsNeedWriteAccess(t *testing.T) {
	n := permNameNode(t, nil)
	ctx := context.Background()
	const denied = `Permission denied: user=bob, access=WRITE, inode="/user/alice/shared":alice:staff:-rw-r-----`
	_, err := n.SetReplication(ctx, "/user/alice/shared", 2, "bob")
	wantDenied(t, "bob sets replication of alice's file", err, denied)
	wantDenied(t, "bob sets times of alice's file", n.SetTimes(ctx, "/user/alice/shared", 1, 1, "bob"), denied)
	_, err = n.Truncate(ctx, "/user/alice/shared", 0, "bob")
	wantDenied(t, "bob truncates alice's file", err, denied)
	if ok, err := n.Truncate(ctx, "/user/alice/shared", 1, "alice"); !ok || err != nil {
		t.Errorf("the owner truncates: %v, %v", ok, err)
	}
	if ok, err := n.SetReplication(ctx, "/user/alice/shared", 2, "hdfs"); !ok || err != nil {
		t.Errorf("the superuser sets replication: %v, %v", ok, err)
	}
}

// TestConcatEditAndReplay: CONCAT appends the sources in order and removes
// them, as one edit the standby replays and the image keeps; Hadoop's
// refusals change nothing.
func TestConcatEditAndReplay(t *testing.T) {
	ctx := context.Background()
	j := NewMemJournal()
	clk := newClock()
	nns := newFormatted(t, j, clk, "nn1", "nn2")
	nn1, nn2 := nns[0], nns[1]
	if err := nn1.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	for p, data := range map[string]string{"/d/t": "T", "/d/a": "aa", "/e/b": "bbb", "/d/empty": ""} {
		if err := nn1.Create(ctx, p, []byte(data), false, 0o644, 1, 1<<20, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := nn1.ns.Counts()
	base := nn1.ns.lastTxid
	for _, c := range []struct {
		srcs []string
		want string
	}{
		{nil, "No sources given"},
		{[]string{"/d/t"}, "concat: the src file /d/t is the same with the target file /d/t"},
		{[]string{"/d/empty"}, "concat: source file /d/empty is invalid or empty or underConstruction"},
		{[]string{"/d"}, "concat: source file /d is invalid or empty or underConstruction"},
		{[]string{"/d/a", "/d/a"}, "concat: source file /d/a is given more than once"},
		{[]string{"/d/nope"}, "File does not exist: /d/nope"},
	} {
		if err := nn1.Concat(ctx, "/d/t", c.srcs, "alice"); err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("concat %v: %v, want %q", c.srcs, err, c.want)
		}
	}
	if nn1.ns.lastTxid != base {
		t.Fatalf("refused concats wrote %d edits", nn1.ns.lastTxid-base)
	}
	if err := nn1.Concat(ctx, "/d/t", []string{"/e/b", "/d/a"}, "alice"); err != nil {
		t.Fatal(err)
	}
	if b, err := nn1.Open(ctx, "/d/t", 0, -1, "alice"); err != nil || string(b) != "Tbbbaa" {
		t.Fatalf("target = %q, %v", b, err)
	}
	for _, p := range []string{"/d/a", "/e/b"} {
		if _, err := nn1.GetFileStatus(ctx, p, "alice"); !errors.Is(err, webhdfs.ErrNotFound) {
			t.Errorf("source %s still there: %v", p, err)
		}
	}
	if f, _ := nn1.ns.Counts(); f != files-2 {
		t.Errorf("files = %d, want %d", f, files-2)
	}
	if nn1.ns.lastTxid != base+1 {
		t.Errorf("%d edits, want 1", nn1.ns.lastTxid-base)
	}
	if _, err := nn2.TailOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nn1.ns), dump(nn2.ns); a != b {
		t.Fatalf("standby differs from active:\n%s\n---\n%s", a, b)
	}
	img, err := DecodeImage(nn1.ns.EncodeImage(), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := dump(nn1.ns), dump(img); a != b {
		t.Fatalf("image differs:\n%s\n---\n%s", a, b)
	}
}

func TestConcatPermissions(t *testing.T) {
	n := permNameNode(t, nil)
	ctx := context.Background()
	if err := n.Create(ctx, "/tmp/bob", []byte("b"), false, 0o644, 1, 1024, "bob"); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, "bob concats into alice's file", n.Concat(ctx, "/user/alice/shared", []string{"/tmp/bob"}, "bob"),
		`Permission denied: user=bob, access=WRITE, inode="/user/alice/shared":alice:staff:-rw-r-----`)
	wantDenied(t, "bob concats alice's secret into his file", n.Concat(ctx, "/tmp/bob", []string{"/user/alice/secret"}, "bob"),
		`Permission denied: user=bob, access=READ, inode="/user/alice/secret":alice:supergroup:-rw-------`)
	// READ on the source is not enough: it is deleted, so WRITE on its parent.
	if err := n.SetPermission(ctx, "/user/alice/shared", 0o644, "alice"); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, "bob concats alice's readable file into his", n.Concat(ctx, "/tmp/bob", []string{"/user/alice/shared"}, "bob"),
		`Permission denied: user=bob, access=WRITE, inode="/user/alice":alice:supergroup:drwxr-xr-x`)
	if err := n.Concat(ctx, "/user/alice/shared", []string{"/user/alice/secret"}, "alice"); err != nil {
		t.Errorf("alice concats her own files: %v", err)
	}
}
