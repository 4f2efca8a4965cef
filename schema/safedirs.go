package schema

import (
	"path"
	"strings"
)

// systemDirs are directories of a Linux host that belong to the system or to
// every user: hactl must never own one (destroy would remove what is in it,
// and the distribution's own files would be mixed with hactl's).
var systemDirs = map[string]bool{
	"/": true, "/bin": true, "/boot": true, "/dev": true, "/etc": true, "/home": true,
	"/lib": true, "/lib32": true, "/lib64": true, "/libx32": true, "/lost+found": true,
	"/media": true, "/mnt": true, "/opt": true, "/proc": true, "/root": true, "/run": true,
	"/sbin": true, "/srv": true, "/sys": true, "/tmp": true, "/usr": true, "/var": true,
	"/usr/bin": true, "/usr/sbin": true, "/usr/lib": true, "/usr/lib32": true, "/usr/lib64": true,
	"/usr/libexec": true, "/usr/include": true, "/usr/share": true, "/usr/src": true,
	"/usr/local": true, "/usr/local/bin": true, "/usr/local/sbin": true, "/usr/local/lib": true,
	"/usr/local/share": true, "/usr/local/etc": true, "/usr/local/src": true,
	"/var/lib": true, "/var/log": true, "/var/run": true, "/var/tmp": true, "/var/cache": true,
	"/var/spool": true, "/var/opt": true, "/var/mail": true, "/var/backups": true, "/var/local": true,
	"/etc/default": true, "/etc/systemd": true, "/etc/systemd/system": true, "/etc/ssh": true,
	"/etc/ssl": true, "/etc/init.d": true, "/etc/cron.d": true, "/etc/apt": true,
	"/run/user": true, "/var/run/user": true,
}

// virtualFS are mount points of kernel file systems: nothing may live below
// them. /var/run is a symlink to /run on current distributions.
var virtualFS = []string{"/proc", "/sys", "/dev", "/run/user", "/var/run/user"}

// SystemDir reports whether dir (an absolute path) is a system directory
// that hactl must neither own nor remove: one of the distribution's
// directories, a user's home directory (/home/NAME), or anything under the
// kernel's virtual file systems. The reason says which, for messages.
func SystemDir(dir string) (bool, string) {
	if !strings.HasPrefix(dir, "/") {
		return false, ""
	}
	d := path.Clean(dir)
	if systemDirs[d] {
		return true, "a system directory"
	}
	if parent := path.Dir(d); parent == "/home" {
		return true, "a user's home directory"
	}
	for _, v := range virtualFS {
		if strings.HasPrefix(d, v+"/") {
			return true, "inside the kernel's " + v + " file system"
		}
	}
	return false, ""
}
