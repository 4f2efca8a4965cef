package zookeeper

import (
	"io"
	"net"
	"strings"
	"time"
)

// FourLetter sends a four-letter word (ruok, srvr, stat) and returns the answer.
func FourLetter(addr, word string, timeout time.Duration) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(word)); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(conn, 64<<10))
}

// Mode returns the server's mode from srvr: "leader", "follower",
// "standalone", or "" when it does not serve (yet).
func Mode(addr string, timeout time.Duration) string {
	b, err := FourLetter(addr, "srvr", timeout)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// Serving reports whether a server is part of a working ensemble (or a
// standalone server) and can take client sessions.
func Serving(addr string, timeout time.Duration) bool {
	switch Mode(addr, timeout) {
	case "leader", "follower", "standalone":
		return true
	}
	return false
}
