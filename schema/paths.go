package schema

import (
	"path/filepath"
	"strings"
)

// HostPaths are where hactl puts its files on one host.
type HostPaths struct {
	Root       string // "" on real hosts; <state_dir>/hosts/<host> on target local
	InstallDir string
	Binary     string // <install_dir>/bin/hactl
	ConfDir    string
	LogDir     string
	RunDir     string
	SecretFile string
}

// LocalRoot returns the directory that stands for "/" of host on target
// local, or "" for real hosts. A relative state_dir is taken relative to the
// directory the configuration was loaded from.
func (c *Cluster) LocalRoot(host string) string {
	if c.Target == nil || c.Target.Kind != TargetLocal {
		return ""
	}
	sd := c.Target.StateDir
	if sd == "" {
		sd = ".hactl"
	}
	if !filepath.IsAbs(sd) && c.ConfigDir != "" {
		sd = filepath.Join(c.ConfigDir, sd)
	}
	if abs, err := filepath.Abs(sd); err == nil {
		sd = abs
	}
	return filepath.Join(sd, "hosts", host)
}

// HostDir maps an absolute directory of the configuration to where it lives
// for host (unchanged on real hosts, rooted under the host's tree on local).
func (c *Cluster) HostDir(host, dir string) string {
	root := c.LocalRoot(host)
	if root == "" || dir == "" {
		return dir
	}
	return filepath.Join(root, strings.TrimPrefix(filepath.Clean(dir), "/"))
}

// PathsFor returns hactl's own directories on host.
func (c *Cluster) PathsFor(host string) HostPaths {
	rt := c.Runtime
	if rt == nil {
		rt = &Runtime{}
	}
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	install := def(rt.InstallDir, "/opt/hactl")
	conf := def(rt.ConfDir, "/etc/hactl")
	p := HostPaths{
		Root:       c.LocalRoot(host),
		InstallDir: c.HostDir(host, install),
		ConfDir:    c.HostDir(host, conf),
		LogDir:     c.HostDir(host, def(rt.LogDir, "/var/log/hactl")),
		RunDir:     c.HostDir(host, def(rt.RunDir, "/var/run/hactl")),
		SecretFile: c.HostDir(host, def(rt.SecretFile, filepath.Join(conf, "cluster.secret"))),
	}
	p.Binary = filepath.Join(p.InstallDir, "bin", "hactl")
	return p
}
