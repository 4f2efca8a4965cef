package datanode

import "net"

// newMemConn is a connected pair of in-memory connections (net.Pipe:
// synchronous, one copy per write). Measured against a loopback socket and
// against a buffered pipe with 1 MiB packets, it was the fastest.
func newMemConn() (client, server net.Conn) {
	c, s := net.Pipe()
	return skipEmpty{c}, skipEmpty{s}
}

// skipEmpty drops empty writes: on a net.Pipe a zero-length write waits
// for a read, and a sender of net.Buffers (a packet with no data, such as
// the empty last packet of a block) would block until the peer closes.
type skipEmpty struct{ net.Conn }

func (s skipEmpty) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return s.Conn.Write(b)
}
