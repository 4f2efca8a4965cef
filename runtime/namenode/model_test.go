package namenode

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/webhdfs"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the random operation test (0: time-based)")

// model is the plain-map specification of the namespace: path → entry.
type model map[string]*mentry

type mentry struct {
	dir  bool
	perm string
	data string
}

func parent(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// prefixes returns the ancestors of p, outermost first, excluding / and p.
func prefixes(p string) []string {
	var out []string
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}

func (m model) mkdirs(p string, perm string) error {
	for _, a := range append(prefixes(p), p) {
		if e, ok := m[a]; ok && !e.dir {
			if a == p {
				return webhdfs.ErrExists
			}
			return webhdfs.ErrParentNotDir
		}
	}
	for _, a := range prefixes(p) {
		if _, ok := m[a]; !ok {
			m[a] = &mentry{dir: true, perm: perm}
		}
	}
	if _, ok := m[p]; !ok {
		m[p] = &mentry{dir: true, perm: perm}
	}
	return nil
}

func (m model) create(p, data string, overwrite bool, max int) error {
	if len(data) > max {
		return webhdfs.ErrTooLarge
	}
	for _, a := range prefixes(p) {
		if e, ok := m[a]; ok && !e.dir {
			return webhdfs.ErrParentNotDir
		}
	}
	if e, ok := m[p]; ok && (e.dir || !overwrite) {
		return webhdfs.ErrExists
	}
	for _, a := range prefixes(p) {
		if _, ok := m[a]; !ok {
			m[a] = &mentry{dir: true, perm: "755"}
		}
	}
	m[p] = &mentry{perm: "644", data: data}
	return nil
}

func (m model) lookup(p string) (*mentry, error) {
	for _, a := range prefixes(p) {
		e, ok := m[a]
		if !ok {
			return nil, webhdfs.ErrNotFound
		}
		if !e.dir {
			return nil, webhdfs.ErrParentNotDir
		}
	}
	e, ok := m[p]
	if !ok {
		return nil, webhdfs.ErrNotFound
	}
	return e, nil
}

func (m model) appendTo(p, data string, max int) error {
	e, err := m.lookup(p)
	if err != nil {
		return err
	}
	if e.dir {
		return webhdfs.ErrNotFound
	}
	if len(e.data)+len(data) > max {
		return webhdfs.ErrTooLarge
	}
	e.data += data
	return nil
}

func (m model) children(p string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, p+"/") {
			out = append(out, k)
		}
	}
	return out
}

func (m model) delete(p string, recursive bool) (bool, error) {
	e, err := m.lookup(p)
	if err != nil {
		return false, nil
	}
	kids := m.children(p)
	if e.dir && len(kids) > 0 && !recursive {
		return false, webhdfs.ErrNotEmpty
	}
	for _, k := range kids {
		delete(m, k)
	}
	delete(m, p)
	return true, nil
}

func (m model) rename(src, dst string) bool {
	if _, err := m.lookup(src); err != nil {
		return false
	}
	if d, err := m.lookup(dst); err == nil && d.dir {
		dst = dst + "/" + src[strings.LastIndex(src, "/")+1:]
	}
	if dst == src {
		return true
	}
	if strings.HasPrefix(dst, src+"/") {
		return false
	}
	if _, err := m.lookup(dst); err == nil {
		return false
	}
	if pp := parent(dst); pp != "/" {
		if e, err := m.lookup(pp); err != nil || !e.dir {
			return false
		}
	}
	moved := map[string]*mentry{dst: m[src]}
	for _, k := range m.children(src) {
		moved[dst+strings.TrimPrefix(k, src)] = m[k]
		delete(m, k)
	}
	delete(m, src)
	for k, v := range moved {
		m[k] = v
	}
	return true
}

func sameErr(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}

// TestRandomOpsMatchModel runs random operation sequences against the
// NameNode and the map model, then checks the live tree, a replay of the
// journal and an image round trip all agree. Rerun a failure with -seed.
func TestRandomOpsMatchModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun: go test ./runtime/namenode -run TestRandomOpsMatchModel -seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx := context.Background()
	const maxInline = 64
	for round := range 20 {
		j := NewMemJournal()
		clk := newClock()
		nns := newFormatted(t, j, clk, "nn1", "nn2")
		nn := nns[0]
		nn.ns.MaxInline = maxInline
		if err := nn.TransitionToActive(ctx); err != nil {
			t.Fatal(err)
		}
		base := nns[1].ns
		m := model{}
		names := []string{"a", "b", "c"}
		randPath := func() string {
			var b strings.Builder
			for range 1 + rng.IntN(3) {
				b.WriteString("/" + names[rng.IntN(len(names))])
			}
			return b.String()
		}
		randData := func() string { return strings.Repeat("x", rng.IntN(40)) }
		for step := range 150 {
			p := randPath()
			var desc string
			var gotErr, wantErr error
			var gotOK, wantOK bool
			switch k := rng.IntN(7); k {
			case 0:
				desc = "mkdirs " + p
				gotErr, wantErr = nn.Mkdirs(ctx, p, 0o755, "u"), m.mkdirs(p, "755")
			case 1, 2:
				d, ow := randData(), rng.IntN(2) == 0
				desc = fmt.Sprintf("create %s %d overwrite=%v", p, len(d), ow)
				gotErr, wantErr = nn.Create(ctx, p, []byte(d), ow, 0o644, 1, 1, "u"), m.create(p, d, ow, maxInline)
			case 3:
				d := randData()
				desc = fmt.Sprintf("append %s %d", p, len(d))
				gotErr, wantErr = nn.Append(ctx, p, []byte(d), "u"), m.appendTo(p, d, maxInline)
			case 4:
				rec := rng.IntN(2) == 0
				desc = fmt.Sprintf("delete %s recursive=%v", p, rec)
				gotOK, gotErr = nn.Delete(ctx, p, rec, "hdfs")
				wantOK, wantErr = m.delete(p, rec)
			case 5:
				dst := randPath()
				desc = "rename " + p + " " + dst
				gotOK, gotErr = nn.Rename(ctx, p, dst, "hdfs")
				wantOK = m.rename(p, dst)
			case 6:
				desc = "setpermission " + p
				gotErr = nn.SetPermission(ctx, p, fs.FileMode(0o711), "hdfs")
				e, err := m.lookup(p)
				if wantErr = err; err == nil {
					e.perm = "711"
				}
			}
			if !sameErr(gotErr, wantErr) || gotOK != wantOK {
				t.Fatalf("seed %d round %d step %d: %s: got (%v, %v), model (%v, %v)", seed, round, step, desc, gotOK, gotErr, wantOK, wantErr)
			}
		}
		if j.LastTxid() < 20 {
			t.Fatalf("seed %d round %d: only %d edits written: the random ops hardly mutate", seed, round, j.LastTxid())
		}
		live := listAll(t, nn)
		want := map[string]string{}
		for k, e := range m {
			if e.dir {
				want[k] = "dir " + e.perm
			} else {
				want[k] = "file " + e.perm + " " + e.data
			}
		}
		if fmt.Sprint(sortedKeys(live)) != fmt.Sprint(sortedKeys(want)) {
			t.Fatalf("seed %d round %d: tree paths differ:\nlive  %v\nmodel %v", seed, round, sortedKeys(live), sortedKeys(want))
		}
		for k, v := range want {
			if live[k] != v {
				t.Fatalf("seed %d round %d: %s is %q, model %q", seed, round, k, live[k], v)
			}
		}
		if a, b := dump(nn.ns), dump(replay(t, j, base)); a != b {
			t.Fatalf("seed %d round %d: replay differs from live:\n%s\n---\n%s", seed, round, a, b)
		}
		rt, err := DecodeImage(nn.ns.EncodeImage(), maxInline)
		if err != nil || dump(rt) != dump(nn.ns) {
			t.Fatalf("seed %d round %d: image round trip differs: %v", seed, round, err)
		}
	}
}
