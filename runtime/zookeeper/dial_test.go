package zookeeper

import (
	"context"
	"net"
	"time"
)

type netConn = net.Conn

func dialTCP(ctx context.Context, addr string, to time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: to}
	return d.DialContext(ctx, "tcp", addr)
}
