package schema

import "testing"

func TestSystemDir(t *testing.T) {
	for dir, want := range map[string]bool{
		"/": true, "/etc": true, "/etc/": true, "/usr": true, "/var": true, "/home": true, "/tmp": true,
		"/opt": true, "/var/log": true, "/usr/local": true, "/home/hadoop": true, "/proc/1": true,
		"/sys/fs": true, "/etc/../usr": true,
		"/run/user": true, "/run/user/1000/hactl": true, "/var/run/user": true, "/var/run/user/1000": true,
		"/var/run/hactl": false,
		"/etc/hactl":     false, "/opt/hactl": false, "/var/log/hactl": false, "/tmp/x": false,
		"/home/hadoop/hactl": false, "/hdfs": false, "relative": false,
	} {
		if got, why := SystemDir(dir); got != want {
			t.Errorf("SystemDir(%q) = %v (%s), want %v", dir, got, why, want)
		}
	}
}
