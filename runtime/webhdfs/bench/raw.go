package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawConn is a minimal HTTP/1.1 keep-alive client on one connection. It is
// the load generator's default (like wrk): the benchmark measures the
// server, so the client side should spend as little of the shared CPU as it
// can. Every request is still a complete WebHDFS HTTP request.
type rawConn struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
	body []byte
}

func dialRaw(addr string) (*rawConn, error) {
	c := &rawConn{addr: addr}
	return c, c.redial()
}

func (c *rawConn) redial() error {
	if c.conn != nil {
		c.conn.Close()
	}
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn, c.r = conn, bufio.NewReaderSize(conn, 16<<10)
	return nil
}

func (c *rawConn) Close() error { return c.conn.Close() }

var errStatus = errors.New("unexpected status")

// do sends method target (path?query) with an empty body and returns the
// status, the Location header and the body (valid until the next call).
func (c *rawConn) do(ctx context.Context, method, target string) (int, string, []byte, error) {
	dl, _ := ctx.Deadline()    // zero (no deadline) clears the previous phase's
	_ = c.conn.SetDeadline(dl) // best effort: a broken conn fails the write below anyway
	c.buf = append(c.buf[:0], method...)
	c.buf = append(c.buf, ' ')
	c.buf = append(c.buf, target...)
	c.buf = append(c.buf, " HTTP/1.1\r\nHost: "...)
	c.buf = append(c.buf, c.addr...)
	c.buf = append(c.buf, "\r\nContent-Length: 0\r\n\r\n"...)
	if _, err := c.conn.Write(c.buf); err != nil {
		return 0, "", nil, c.fail(err)
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil || len(line) < 12 {
		return 0, "", nil, c.fail(fmt.Errorf("status line %q: %w", line, err))
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, "", nil, c.fail(fmt.Errorf("status line %q", line))
	}
	length, loc, closeConn := 0, "", false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, "", nil, c.fail(err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(": "))
		switch {
		case asciiEqualFold(k, "Content-Length"):
			length, _ = strconv.Atoi(string(v))
		case asciiEqualFold(k, "Location"):
			loc = string(v)
		case asciiEqualFold(k, "Connection") && asciiEqualFold(v, "close"):
			closeConn = true
		}
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return 0, "", nil, c.fail(err)
	}
	if closeConn {
		if err := c.redial(); err != nil {
			return 0, "", nil, err
		}
	}
	return code, loc, c.body, nil
}

// fail drops a broken connection so the next call starts on a fresh one.
func (c *rawConn) fail(err error) error {
	if rerr := c.redial(); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

func (c *rawConn) expect(ctx context.Context, method, target string, want int) (string, []byte, error) {
	code, loc, body, err := c.do(ctx, method, target)
	if err != nil {
		return "", nil, err
	}
	if code != want {
		return "", nil, fmt.Errorf("%w %d (want %d) for %s %s: %s", errStatus, code, want, method, target, body)
	}
	return loc, body, nil
}

func target(p, query string) string {
	return (&url.URL{Path: "/webhdfs/v1" + p}).EscapedPath() + "?" + query
}

func (c *rawConn) mkdirs(ctx context.Context, p, user string) error {
	_, body, err := c.expect(ctx, "PUT", target(p, "op=MKDIRS&user.name="+user), 200)
	if err == nil && !bytes.Contains(body, []byte(`"boolean":true`)) {
		err = fmt.Errorf("MKDIRS %s answered %s", p, body)
	}
	return err
}

// create follows Hadoop's two steps: PUT without data, then PUT to the
// Location (here, the same NameNode, so the same connection).
func (c *rawConn) create(ctx context.Context, p, user string) error {
	loc, _, err := c.expect(ctx, "PUT", target(p, "op=CREATE&overwrite=false&user.name="+user), 307)
	if err != nil {
		return err
	}
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("CREATE %s: Location %q: %w", p, loc, err)
	}
	_, _, err = c.expect(ctx, "PUT", u.RequestURI(), 201)
	return err
}

func (c *rawConn) getFileStatus(ctx context.Context, p, user string) error {
	_, body, err := c.expect(ctx, "GET", target(p, "op=GETFILESTATUS&user.name="+user), 200)
	if err == nil && !bytes.Contains(body, []byte(`{"FileStatus":{`)) {
		err = fmt.Errorf("GETFILESTATUS %s answered %s", p, body)
	}
	return err
}
