package apply

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hactl/hactl/targets"
)

// CreatedMarker is the empty file apply leaves in each runtime directory it
// created itself. destroy removes a directory only when it carries the marker
// (and nothing else is left): a directory the operator had before apply, even
// an empty one (conf_dir = "/srv/conf"), is never removed, only hactl's files
// in it. Directories an older hactl created carry no marker and stay: the safe
// side of not knowing who made them.
const CreatedMarker = ".hactl-created"

// mkdirOwnedScript creates each missing dir and marks it as hactl's; an
// existing dir is left as it is. Parents go first, so a runtime dir nested in
// another (conf_dir/zookeeper) is made, and marked, by its own turn rather
// than as an unmarked side effect of mkdir -p.
func mkdirOwnedScript(dirs ...string) string {
	dirs = slices.Clone(dirs)
	slices.SortStableFunc(dirs, func(a, b string) int { return len(a) - len(b) })
	dirs = slices.Compact(dirs)
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, d := range dirs {
		q := shq(filepath.Clean(d))
		fmt.Fprintf(&b, "[ -d %s ] || { mkdir -p -- %s && : > %s/%s; }\n", q, q, q, CreatedMarker)
	}
	return b.String()
}

// mkdirOwned creates hactl's runtime dirs on host (mkdirOwnedScript). Every
// step that first creates a runtime dir goes through it; Host.Upload's own
// mkdir -p is only a fallback, and a dir it made stays after destroy.
func (e *Env) mkdirOwned(ctx context.Context, host string, dirs ...string) error {
	script := mkdirOwnedScript(dirs...)
	return e.wetRun(ctx, host, "mkdir -p (marking new dirs "+CreatedMarker+") "+shellLine(dirs),
		targets.Command{Shell: script, Sudo: true})
}

// rmdirOwnedLine removes dir only when hactl created it (CreatedMarker) and
// the marker is all that is left; the marker goes last, just before the dir.
func rmdirOwnedLine(dir string) string {
	q := shq(filepath.Clean(dir))
	return fmt.Sprintf("if [ -f %s/%s ] && [ \"$(ls -A -- %s)\" = %s ]; then rm -f -- %s/%s && rmdir -- %s 2>/dev/null || true; fi",
		q, CreatedMarker, q, CreatedMarker, q, CreatedMarker, q)
}
