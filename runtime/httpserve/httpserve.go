// Package httpserve runs the HTTP servers of hactl's daemons (NameNode,
// JournalNode, ZKFC) with the limits each needs against slow and greedy
// clients: every phase of a request has a deadline and the connections
// served at once are bounded, so a client that trickles its headers or
// body, never reads its answer or opens thousands of connections ties up at
// most a bounded share of the daemon for a bounded time.
package httpserve

import (
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits are a server's deadlines and connection bound.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's header.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request header to
	// the end of the response.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection (Hadoop's hadoop.http.idle_timeout.ms, 60 s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header.
	MaxHeaderBytes int
	// MaxConns bounds the connections served at once; further ones wait in
	// the listen backlog until one closes.
	MaxConns int
}

// Defaults suit the daemons' own traffic: small JSON calls and WebHDFS
// bodies up to the inline file limit (1 MiB by default; a minute is enough
// at 20 KiB/s). Authenticated bulk transfers (images, edit segments) lift
// the request deadlines with Unbounded.
var Defaults = Limits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       time.Minute,
	WriteTimeout:      time.Minute,
	IdleTimeout:       time.Minute,
	MaxHeaderBytes:    64 << 10,
	MaxConns:          1024,
}

// OrDefaults is l with every zero field taken from Defaults.
func (l Limits) OrDefaults() Limits {
	d := Defaults
	if l.ReadHeaderTimeout > 0 {
		d.ReadHeaderTimeout = l.ReadHeaderTimeout
	}
	if l.ReadTimeout > 0 {
		d.ReadTimeout = l.ReadTimeout
	}
	if l.WriteTimeout > 0 {
		d.WriteTimeout = l.WriteTimeout
	}
	if l.IdleTimeout > 0 {
		d.IdleTimeout = l.IdleTimeout
	}
	if l.MaxHeaderBytes > 0 {
		d.MaxHeaderBytes = l.MaxHeaderBytes
	}
	if l.MaxConns > 0 {
		d.MaxConns = l.MaxConns
	}
	return d
}

// Server returns an http.Server for h with l's deadlines; serve it on
// Listener(ln, l.MaxConns), or use Start.
func Server(h http.Handler, l Limits, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// Start serves h on ln with l in the background; stop it with the returned
// server's Shutdown or Close.
func Start(ln net.Listener, h http.Handler, l Limits, errorLog *log.Logger) *http.Server {
	srv := Server(h, l, errorLog)
	go srv.Serve(Listener(ln, l.MaxConns)) //nolint:errcheck // returns http.ErrServerClosed on Shutdown/Close
	return srv
}

// Unbounded lifts the read and write deadlines of the request w answers,
// for an authenticated caller's bulk transfer (a checkpoint image of
// gigabytes, an edit segment) that may rightly take longer than Defaults
// allow. Call it only after the caller is authenticated.
func Unbounded(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // not supported only by recorders in tests
	_ = rc.SetWriteDeadline(time.Time{})
}

// Listener returns ln accepting at most max connections open at once
// (max <= 0: no bound). Accept waits while max are open.
func Listener(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// ReadFrom keeps net/http's sendfile path (a file copied into a response
// goes to *net.TCPConn's ReadFrom) through the wrapper.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
