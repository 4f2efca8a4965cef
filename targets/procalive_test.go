package targets

import (
	"strconv"
	"testing"
)

// A daemon's process is alive only when its /proc/PID/stat exists, is not a
// zombie (or dead), and shows the start time its record holds: a recycled
// PID is another process.
func TestProcAlive(t *testing.T) {
	stat := func(state string, start uint64) []byte {
		// pid (comm with ") " inside) state ppid pgrp session tty tpgid flags
		// minflt cminflt majflt cmajflt utime stime cutime cstime priority nice
		// num_threads itrealvalue starttime vsize rss
		return []byte("42 (odd) name) " + state + " 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 " + strconv.FormatUint(start, 10) + " 1 1\n")
	}
	for _, c := range []struct {
		name  string
		stat  []byte
		start uint64
		want  bool
	}{
		{"running, same start", stat("S", 1000), 1000, true},
		{"running, any start (systemd MainPID)", stat("R", 1000), 0, true},
		{"recycled pid", stat("S", 1001), 1000, false},
		{"zombie", stat("Z", 1000), 1000, false},
		{"dead", stat("X", 1000), 1000, false},
		{"no such process", nil, 1000, false},
		{"cut short", []byte("42 (x) S 1 42"), 0, false},
	} {
		if got := procAlive(c.stat, c.start); got != c.want {
			t.Errorf("%s: procAlive = %v, want %v", c.name, got, c.want)
		}
	}
}
