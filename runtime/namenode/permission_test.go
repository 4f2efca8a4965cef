package namenode

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	osuser "os/user"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// testGroups is the group mapping of the permission tests: hdfs is the
// NameNode's user (the superuser), admin is in the supergroup.
var testGroups = map[string][]string{
	"hdfs":  {"hdfs"},
	"admin": {"admin", "supergroup"},
	"alice": {"alice", "staff"},
	"bob":   {"bob"},
	"carol": {"carol", "staff"},
}

// permNameNode is an active NameNode with permissions on, the superuser
// "hdfs" and a tree:
//
//	/             hdfs:supergroup  drwxr-xr-x
//	/tmp          hdfs:supergroup  drwxrwxrwt
//	/user/alice   alice:supergroup drwxr-xr-x
//	/user/alice/secret  alice:supergroup -rw-------  "s3cret"
//	/user/alice/shared  alice:staff      -rw-r-----  "team"
func permNameNode(t *testing.T, mutate func(*Config)) *NameNode {
	t.Helper()
	j := NewMemJournal()
	clk := newClock()
	cfg := testConfig(t, "nn1")
	if mutate != nil {
		mutate(&cfg)
	}
	if err := Format(context.Background(), cfg, j, testInfo, false, clk.Now()); err != nil {
		t.Fatal(err)
	}
	n := New(cfg, j, Options{Now: clk.Now, Logf: t.Logf, Groups: func(u string) ([]string, error) { return testGroups[u], nil }})
	if err := n.Load(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.Mkdirs(ctx, "/tmp", 0o777, "hdfs"))
	must(n.SetPermission(ctx, "/tmp", 0o777|fs.ModeSticky, "hdfs"))
	must(n.Mkdirs(ctx, "/user/alice", 0o755, "hdfs"))
	must(n.SetOwner(ctx, "/user/alice", "alice", "", "hdfs"))
	must(n.Create(ctx, "/user/alice/secret", []byte("s3cret"), false, 0o600, 1, 1024, "alice"))
	must(n.Create(ctx, "/user/alice/shared", []byte("team"), false, 0o640, 1, 1024, "alice"))
	must(n.SetOwner(ctx, "/user/alice/shared", "", "staff", "alice"))
	return n
}

// wantDenied checks err is an AccessControlException with exactly msg.
func wantDenied(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !errors.Is(err, webhdfs.ErrPermission) || err.Error() != msg {
		t.Errorf("%s: got %v\n want AccessControlException %q", what, err, msg)
	}
}

func TestPermissionsReadAndTraverse(t *testing.T) {
	n := permNameNode(t, nil)
	ctx := context.Background()
	if b, err := n.Open(ctx, "/user/alice/secret", 0, -1, "alice"); err != nil || string(b) != "s3cret" {
		t.Fatalf("owner reads her 0600 file: %q %v", b, err)
	}
	_, err := n.Open(ctx, "/user/alice/secret", 0, -1, "bob")
	wantDenied(t, "bob reads alice's 0600 file", err,
		`Permission denied: user=bob, access=READ, inode="/user/alice/secret":alice:supergroup:-rw-------`)
	// Group bits: carol is in staff, bob is not.
	if b, err := n.Open(ctx, "/user/alice/shared", 0, -1, "carol"); err != nil || string(b) != "team" {
		t.Errorf("carol (staff) reads a staff 0640 file: %q %v", b, err)
	}
	_, err = n.Open(ctx, "/user/alice/shared", 0, -1, "bob")
	wantDenied(t, "bob reads a staff 0640 file", err,
		`Permission denied: user=bob, access=READ, inode="/user/alice/shared":alice:staff:-rw-r-----`)
	// The superuser, by name or by the supergroup, reads anything.
	for _, u := range []string{"hdfs", "admin"} {
		if _, err := n.Open(ctx, "/user/alice/secret", 0, -1, u); err != nil {
			t.Errorf("superuser %s: %v", u, err)
		}
	}
	// No EXECUTE on a directory: nothing below it can be reached, not even stat.
	if err := n.SetPermission(ctx, "/user/alice", 0o700, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = n.GetFileStatus(ctx, "/user/alice/shared", "carol")
	wantDenied(t, "stat below a 0700 directory", err,
		`Permission denied: user=carol, access=EXECUTE, inode="/user/alice":alice:supergroup:drwx------`)
	_, err = n.ListStatus(ctx, "/user/alice", "bob")
	wantDenied(t, "list a 0700 directory", err,
		`Permission denied: user=bob, access=READ_EXECUTE, inode="/user/alice":alice:supergroup:drwx------`)
	_, err = n.GetContentSummary(ctx, "/user", "bob")
	wantDenied(t, "content summary over a 0700 directory", err,
		`Permission denied: user=bob, access=READ_EXECUTE, inode="/user/alice":alice:supergroup:drwx------`)
	// Stat of the directory itself only needs traversal of its parents.
	if _, err := n.GetFileStatus(ctx, "/user/alice", "bob"); err != nil {
		t.Errorf("stat of a 0700 directory: %v", err)
	}
	// Listing a file needs no READ on it.
	if err := n.SetPermission(ctx, "/user/alice", 0o755, "alice"); err != nil {
		t.Fatal(err)
	}
	if l, err := n.ListStatus(ctx, "/user/alice/secret", "bob"); err != nil || len(l) != 1 {
		t.Errorf("list of a 0600 file: %v %v", l, err)
	}
	// A missing path is still a FileNotFoundException once traversal is allowed.
	if _, err := n.GetFileStatus(ctx, "/user/alice/none", "bob"); !errors.Is(err, webhdfs.ErrNotFound) {
		t.Errorf("stat of a missing path: %v", err)
	}
}

func TestPermissionsWrite(t *testing.T) {
	n := permNameNode(t, nil)
	ctx := context.Background()
	wantDenied(t, "bob mkdirs at the root", n.Mkdirs(ctx, "/bob/x", 0o755, "bob"),
		`Permission denied: user=bob, access=WRITE, inode="/":hdfs:supergroup:drwxr-xr-x`)
	wantDenied(t, "bob mkdirs in alice's home", n.Mkdirs(ctx, "/user/alice/x/y", 0o755, "bob"),
		`Permission denied: user=bob, access=WRITE, inode="/user/alice":alice:supergroup:drwxr-xr-x`)
	if err := n.Mkdirs(ctx, "/user/alice", 0o755, "bob"); err != nil {
		t.Errorf("mkdirs of an existing directory needs traversal only: %v", err)
	}
	wantDenied(t, "bob creates in alice's home", n.Create(ctx, "/user/alice/f", nil, false, 0o644, 1, 1024, "bob"),
		`Permission denied: user=bob, access=WRITE, inode="/user/alice":alice:supergroup:drwxr-xr-x`)
	wantDenied(t, "bob appends to alice's file", n.Append(ctx, "/user/alice/shared", []byte("x"), "bob"),
		`Permission denied: user=bob, access=WRITE, inode="/user/alice/shared":alice:staff:-rw-r-----`)
	_, err := n.Delete(ctx, "/user/alice/secret", false, "bob")
	wantDenied(t, "bob deletes alice's file", err,
		`Permission denied: user=bob, access=WRITE, inode="/user/alice":alice:supergroup:drwxr-xr-x`)
	_, err = n.Rename(ctx, "/user/alice/secret", "/tmp/stolen", "bob")
	wantDenied(t, "bob moves alice's file out", err,
		`Permission denied: user=bob, access=WRITE, inode="/user/alice":alice:supergroup:drwxr-xr-x`)

	// In the sticky /tmp anyone creates, only owners delete or move.
	if err := n.Create(ctx, "/tmp/a", []byte("a"), false, 0o666, 1, 1024, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := n.Create(ctx, "/tmp/b", []byte("b"), false, 0o644, 1, 1024, "bob"); err != nil {
		t.Fatal(err)
	}
	sticky := `Permission denied by sticky bit: user=bob, path="/tmp/a":alice:supergroup:-rw-rw-rw-, parent="/tmp":hdfs:supergroup:drwxrwxrwt`
	_, err = n.Delete(ctx, "/tmp/a", false, "bob")
	wantDenied(t, "bob deletes alice's file in /tmp", err, sticky)
	_, err = n.Rename(ctx, "/tmp/a", "/tmp/c", "bob")
	wantDenied(t, "bob renames alice's file in /tmp", err, sticky)
	// Overwriting needs WRITE on the file itself (it is 0666 here, so bob may).
	if err := n.Create(ctx, "/tmp/a", []byte("bob was here"), true, 0o644, 1, 1024, "bob"); err != nil {
		t.Errorf("overwrite of a 0666 file in a 1777 directory: %v", err)
	}
	wantDenied(t, "alice overwrites bob's 0644 file", n.Create(ctx, "/tmp/b", nil, true, 0o644, 1, 1024, "alice"),
		`Permission denied: user=alice, access=WRITE, inode="/tmp/b":bob:supergroup:-rw-r--r--`)
	// The rename target needs WRITE on its parent: into alice's home, no.
	_, err = n.Rename(ctx, "/tmp/b", "/user/alice", "bob")
	wantDenied(t, "bob moves his file into alice's home", err,
		`Permission denied: user=bob, access=WRITE, inode="/user/alice":alice:supergroup:drwxr-xr-x`)
	if ok, err := n.Rename(ctx, "/tmp/b", "/tmp/b2", "bob"); err != nil || !ok {
		t.Errorf("bob renames his own file in /tmp: %v %v", ok, err)
	}
	if ok, err := n.Delete(ctx, "/tmp/b2", false, "bob"); err != nil || !ok {
		t.Errorf("bob deletes his own file in /tmp: %v %v", ok, err)
	}

	// A recursive delete needs ALL on every non-empty directory it empties.
	if err := n.Mkdirs(ctx, "/user/alice/d/locked/deep", 0o755, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := n.SetPermission(ctx, "/user/alice/d/locked", 0o555, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = n.Delete(ctx, "/user/alice/d", true, "alice")
	wantDenied(t, "recursive delete over a 0555 directory", err,
		`Permission denied: user=alice, access=ALL, inode="/user/alice/d/locked":alice:supergroup:dr-xr-xr-x`)
	if _, err := n.GetFileStatus(ctx, "/user/alice/d/locked/deep", "alice"); err != nil {
		t.Errorf("the refused delete removed something: %v", err)
	}
	if ok, err := n.Delete(ctx, "/user/alice/d/locked/deep", false, "alice"); err == nil || ok {
		t.Errorf("delete from a 0555 directory: %v %v", ok, err)
	}
}

func TestPermissionsOwnerAndMode(t *testing.T) {
	n := permNameNode(t, nil)
	ctx := context.Background()
	wantDenied(t, "bob chmods alice's file", n.SetPermission(ctx, "/user/alice/secret", 0o644, "bob"),
		`Permission denied. user=bob is not the owner of inode=/user/alice/secret`)
	wantDenied(t, "bob chowns alice's file", n.SetOwner(ctx, "/user/alice/secret", "bob", "", "bob"),
		`Permission denied. user=bob is not the owner of inode=/user/alice/secret`)
	wantDenied(t, "alice gives her file away", n.SetOwner(ctx, "/user/alice/secret", "bob", "", "alice"),
		`User alice is not a super user (non-super user cannot change owner).`)
	wantDenied(t, "alice chgrps to a group she is not in", n.SetOwner(ctx, "/user/alice/secret", "", "wheel", "alice"),
		`User alice does not belong to wheel`)
	if err := n.SetOwner(ctx, "/user/alice/secret", "alice", "staff", "alice"); err != nil {
		t.Errorf("alice chgrps to her own group: %v", err)
	}
	if err := n.SetPermission(ctx, "/user/alice/secret", 0o640, "alice"); err != nil {
		t.Errorf("owner chmods: %v", err)
	}
	if err := n.SetOwner(ctx, "/user/alice/secret", "bob", "bob", "admin"); err != nil {
		t.Errorf("a supergroup member chowns: %v", err)
	}
	st, err := n.GetFileStatus(ctx, "/user/alice/secret", "hdfs")
	if err != nil || st.Owner != "bob" || st.Group != "bob" || st.Permission != "640" {
		t.Errorf("after chown/chmod: %+v %v", st, err)
	}
	// Unknown users (not in the mapping) are "other" with no groups; no
	// user.name is dr.who, as in Hadoop.
	_, err = n.Open(ctx, "/user/alice/secret", 0, -1, "")
	wantDenied(t, "anonymous read", err,
		`Permission denied: user=dr.who, access=READ, inode="/user/alice/secret":bob:bob:-rw-r-----`)
}

// dfs.permissions.enabled=false turns every check off.
func TestPermissionsDisabled(t *testing.T) {
	n := permNameNode(t, func(c *Config) { c.PermissionsDisabled = true })
	ctx := context.Background()
	if _, err := n.Open(ctx, "/user/alice/secret", 0, -1, "bob"); err != nil {
		t.Errorf("read with permissions off: %v", err)
	}
	if err := n.SetOwner(ctx, "/user/alice/secret", "bob", "wheel", "bob"); err != nil {
		t.Errorf("chown with permissions off: %v", err)
	}
	if ok, err := n.Delete(ctx, "/user", true, "bob"); err != nil || !ok {
		t.Errorf("delete with permissions off: %v %v", ok, err)
	}
}

// Over WebHDFS a refusal is a 403 AccessControlException RemoteException,
// with the user from user.name.
func TestPermissionsOverWebHDFS(t *testing.T) {
	n := permNameNode(t, nil)
	srv := httptest.NewServer(n.Handler(webhdfs.Handler(n, webhdfs.HandlerOptions{})))
	defer srv.Close()
	for _, c := range []struct {
		method, path, query string
		code                int
		msg                 string
	}{
		{"GET", "/user/alice/secret", "op=OPEN&user.name=bob", 403,
			`Permission denied: user=bob, access=READ, inode="/user/alice/secret":alice:supergroup:-rw-------`},
		{"PUT", "/user/alice/secret", "op=SETOWNER&owner=bob&user.name=bob", 403,
			`Permission denied. user=bob is not the owner of inode=/user/alice/secret`},
		{"DELETE", "/user/alice", "op=DELETE&recursive=true&user.name=mallory", 403,
			`Permission denied: user=mallory, access=WRITE, inode="/user":hdfs:supergroup:drwxr-xr-x`},
		{"GET", "/user/alice/secret", "op=OPEN&user.name=alice", 307, ""},
		{"PUT", "/user/alice/secret", "op=SETPERMISSION&permission=644&user.name=alice", 200, ""},
		{"PUT", "/user/alice/shared", "op=SETTIMES&modificationtime=1&user.name=bob", 403,
			`Permission denied: user=bob, access=WRITE, inode="/user/alice/shared":alice:staff:-rw-r-----`},
		{"POST", "/user/alice/shared", "op=TRUNCATE&newlength=0&user.name=bob", 403,
			`Permission denied: user=bob, access=WRITE, inode="/user/alice/shared":alice:staff:-rw-r-----`},
		{"PUT", "/user/alice/shared", "op=SETREPLICATION&replication=2&user.name=alice", 200, ""},
		{"POST", "/user/alice/shared", "op=TRUNCATE&newlength=1&user.name=alice", 200, ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+"/webhdfs/v1"+c.path+"?"+c.query, nil)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s?%s: %d %s, want %d", c.method, c.path, c.query, resp.StatusCode, body, c.code)
			continue
		}
		if c.code != 403 {
			continue
		}
		var re struct{ RemoteException webhdfs.RemoteException }
		if err := json.Unmarshal(body, &re); err != nil || re.RemoteException.Exception != "AccessControlException" ||
			re.RemoteException.JavaClassName != "org.apache.hadoop.security.AccessControlException" || re.RemoteException.Message != c.msg {
			t.Errorf("%s %s?%s: %s (%v)\n want message %q", c.method, c.path, c.query, body, err, c.msg)
		}
	}
}

func TestModeString(t *testing.T) {
	for perm, want := range map[uint16]string{0o755: "drwxr-xr-x", 0o1777: "drwxrwxrwt", 0o1770: "drwxrwx--T", 0o000: "d---------", 0o640: "drw-r-----"} {
		if got := modeString(&inode{dir: true, perm: perm}); got != want {
			t.Errorf("%o: %s, want %s", perm, got, want)
		}
	}
	if got := modeString(&inode{perm: 0o600}); got != "-rw-------" {
		t.Errorf("file 600: %s", got)
	}
}

// Groups are cached for hadoop.security.groups.cache.secs, users without
// groups for the negative-cache time, failures not at all.
func TestGroupCache(t *testing.T) {
	now := time.Unix(1000, 0)
	calls := map[string]int{}
	g := &groupCache{
		resolve: func(u string) ([]string, error) {
			calls[u]++
			if u == "broken" {
				return nil, errors.New("ldap down")
			}
			return testGroups[u], nil
		},
		ttl: 300 * time.Second, negTTL: 30 * time.Second, now: func() time.Time { return now }, logf: t.Logf,
	}
	for range 3 {
		if got := g.groups("alice"); !slices.Equal(got, []string{"alice", "staff"}) {
			t.Fatalf("alice: %v", got)
		}
		g.groups("nobody")
		g.groups("broken")
	}
	if calls["alice"] != 1 || calls["nobody"] != 1 || calls["broken"] != 3 {
		t.Errorf("lookups %v: want alice and nobody once, the failing one every time", calls)
	}
	now = now.Add(31 * time.Second)
	g.groups("alice")
	g.groups("nobody")
	if calls["alice"] != 1 || calls["nobody"] != 2 {
		t.Errorf("after 31 s, lookups %v: the negative entry expires, the positive one not", calls)
	}
	now = now.Add(300 * time.Second)
	g.groups("alice")
	if calls["alice"] != 2 {
		t.Errorf("after the TTL alice was not looked up again: %v", calls)
	}
}

// OSGroups resolves as `id -Gn`: the primary group first; an unknown user
// has no groups and no error.
func TestOSGroups(t *testing.T) {
	u, err := osuser.Current()
	if err != nil {
		t.Skipf("no passwd entry for this process: %v", err)
	}
	primary, err := osuser.LookupGroupId(u.Gid)
	if err != nil {
		t.Skipf("primary group %s has no name: %v", u.Gid, err)
	}
	got, err := OSGroups(u.Username)
	if err != nil || len(got) == 0 || got[0] != primary.Name {
		t.Errorf("OSGroups(%s) = %v, %v; want %s first", u.Username, got, err, primary.Name)
	}
	if got, err := OSGroups("no-such-user-hactl-test"); err != nil || len(got) != 0 {
		t.Errorf("unknown user: %v %v", got, err)
	}
}

// LoadConfig: the superuser is the user the NameNode runs as (as Hadoop's
// fsOwner), dfs.permissions.enabled and the group cache times are read.
func TestLoadConfigPermissions(t *testing.T) {
	c := hadoopconf.New()
	c.Set("dfs.nameservices", "ns1")
	c.Set("dfs.ha.namenodes.ns1", "nn1")
	c.Set("dfs.namenode.http-address.ns1.nn1", "127.0.4.1:9870")
	c.Set("dfs.namenode.name.dir", "/data/nn")
	cfg, err := LoadConfig(c, "", "nn1")
	if err != nil {
		t.Fatal(err)
	}
	want := os.Getenv("USER")
	if u, err := osuser.Current(); err == nil {
		want = u.Username
	}
	if cfg.Superuser != want || cfg.Supergroup != "supergroup" || cfg.PermissionsDisabled ||
		cfg.GroupsCacheTTL != 300*time.Second || cfg.GroupsNegativeTTL != 30*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	c.Set("dfs.permissions.enabled", "false")
	c.Set("dfs.permissions.superusergroup", "hadoop")
	c.Set("hadoop.security.groups.cache.secs", "60")
	if cfg, err = LoadConfig(c, "", "nn1"); err != nil || !cfg.PermissionsDisabled || cfg.Supergroup != "hadoop" || cfg.GroupsCacheTTL != time.Minute {
		t.Errorf("set: %+v %v", cfg, err)
	}
	c.Set("dfs.permissions.enabled", "perhaps")
	if _, err := LoadConfig(c, "", "nn1"); err == nil || !strings.Contains(err.Error(), "dfs.permissions.enabled") {
		t.Errorf("a malformed dfs.permissions.enabled: %v", err)
	}
}
