package apply

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hactl/hactl/internal/daemon"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

// hactl's own files on a host, by exact name or by a pattern only hactl's
// daemons produce. destroy removes these and nothing else: a runtime dir
// that the operator pointed at a directory holding other things (an old plan
// file from before validation refused it, conf_dir = "/etc") loses only what
// hactl wrote there. A directory is removed only when hactl created it
// (CreatedMarker) and it is left empty.

// daemonPatterns match every daemon name hactl supervises or an earlier
// hactl supervised (shell globs).
var daemonPatterns = daemon.Globs()

// uploadLeftovers are the temp files an interrupted atomic upload of name
// leaves next to it (targets.Local and the SSH target both use ".NAME.tmp-*").
func uploadLeftovers(dir, name string) string {
	return shq(dir) + "/" + shq("."+name+".tmp-") + "*"
}

// ownedFilesScript returns the shell script that removes hactl's
// configuration, logs and supervisor records of host, then the directories
// that are left empty, bottom up. The cluster secret goes only withSecret
// (destroy --purge-data): it is the key to the data a plain destroy keeps
// (ZooKeeper's znodes carry a digest ACL derived from it), so the next apply
// must find it again.
func ownedFilesScript(c *schema.Cluster, host string, withSecret bool) (string, error) {
	p := c.PathsFor(host)
	if err := refuseSystemDirs(c, host, p.ConfDir, p.LogDir, p.RunDir, filepath.Dir(p.SecretFile)); err != nil {
		return "", err
	}
	zkConf := filepath.Join(p.ConfDir, "zookeeper")
	var rm []string
	// dfs.hosts.exclude: the decommissioned DataNodes apply listed.
	for _, f := range []string{planner.FileCoreSite, planner.FileHDFSSite, schema.HostsExcludeFileName} {
		rm = append(rm, shq(filepath.Join(p.ConfDir, f)), uploadLeftovers(p.ConfDir, f))
	}
	for _, f := range []string{planner.FileZooCfg, "log4j.properties"} {
		rm = append(rm, shq(filepath.Join(zkConf, f)), uploadLeftovers(zkConf, f))
	}
	if withSecret {
		// The storage record goes with the secret, by its name. Nothing it
		// lists is removed because it lists it: purge-data removes the
		// configuration's data dirs only.
		rec := targets.StorageRecordPath(c, host)
		rm = append(rm, shq(p.SecretFile), uploadLeftovers(filepath.Dir(p.SecretFile), filepath.Base(p.SecretFile)),
			shq(rec), uploadLeftovers(filepath.Dir(rec), filepath.Base(rec)))
	}
	for _, d := range daemonPatterns {
		rm = append(rm,
			shq(p.LogDir)+"/"+d+".log",
			shq(p.RunDir)+"/"+d+".json", shq(p.RunDir)+"/"+d+".json.tmp-*",
			shq(p.RunDir)+"/"+d+".pid", shq(p.RunDir)+"/"+d+".pid.tmp",
			shq(p.RunDir)+"/."+d+".lock")
	}
	dirs := []string{zkConf, p.ConfDir, p.LogDir, p.RunDir}
	if sd := filepath.Dir(p.SecretFile); sd != p.ConfDir && !strings.HasPrefix(sd, p.ConfDir+"/") {
		dirs = append(dirs, sd)
	}
	return removeScript(rm, dirs), nil
}

// runtimeFilesScript returns the shell script that removes the hactl binary
// and its checksum file, then bin/ and the install dir when left empty.
func runtimeFilesScript(c *schema.Cluster, host string) (string, error) {
	p := c.PathsFor(host)
	if err := refuseSystemDirs(c, host, p.InstallDir); err != nil {
		return "", err
	}
	bin := filepath.Dir(p.Binary)
	name := filepath.Base(p.Binary)
	rm := []string{shq(p.Binary), uploadLeftovers(bin, name), shq(p.Binary + ".sha256"), uploadLeftovers(bin, name+".sha256")}
	return removeScript(rm, []string{bin, p.InstallDir}), nil
}

// removeScript removes files (already quoted words, globs allowed) and then
// each dir that hactl created and that is left empty (rmdirOwnedLine),
// children before parents.
func removeScript(files, dirs []string) string {
	dirs = slices.Clone(dirs)
	slices.SortStableFunc(dirs, func(a, b string) int { return len(b) - len(a) })
	var b strings.Builder
	b.WriteString("rm -f -- " + strings.Join(files, " ") + "\n")
	for _, d := range dirs {
		b.WriteString(rmdirOwnedLine(d) + "\n")
	}
	return b.String()
}

// refuseSystemDirs fails when any dir of host is "/", relative, or a system
// directory: validation refuses such a configuration, but an old plan file
// or a model built in code does not pass through it.
func refuseSystemDirs(c *schema.Cluster, host string, dirs ...string) error {
	root := c.LocalRoot(host)
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("refusing to remove files of %q: not an absolute path", d)
		}
		rel := filepath.Clean(d)
		if root != "" {
			r, ok := strings.CutPrefix(rel, root)
			if !ok || (r != "" && !strings.HasPrefix(r, "/")) {
				return fmt.Errorf("refusing to remove files of %q: outside the host's tree %s", d, root)
			}
			rel = "/" + strings.TrimPrefix(r, "/")
		}
		if sys, why := schema.SystemDir(rel); sys {
			return fmt.Errorf("refusing to remove hactl's files from %s: it is %s, which hactl does not own (fix the runtime block)", rel, why)
		}
	}
	return nil
}

// oneLine is a script as the guard's one-line description of the mutation.
func oneLine(script string) string {
	return strings.ReplaceAll(strings.TrimSpace(script), "\n", "; ")
}
