// Command bench measures WebHDFS metadata throughput (MKDIRS, CREATE of empty
// files, GETFILESTATUS per second) with many concurrent keep-alive clients,
// against hactl's NameNode or, by default, an in-process in-memory namespace.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	osuser "os/user"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/runtime/webhdfs/webhdfstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	addrs       string
	config      string
	nameservice string
	serve       string
	clients     int
	duration    time.Duration
	ops         string
	prefix      string
	user        string
	cpuProfile  string
	load        string
	lag         bool
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.StringVar(&o.addrs, "addrs", "", "comma list of NameNode HTTP addresses (host:port), tried in order with failover; empty: an in-process in-memory namespace")
	fl.StringVar(&o.config, "config", "", "Hadoop conf dir to read the nameservice's NameNodes from (instead of -addrs)")
	fl.StringVar(&o.nameservice, "nameservice", "", "nameservice in -config (default: the first of dfs.nameservices)")
	fl.StringVar(&o.serve, "serve", "", "only serve the in-memory namespace over WebHDFS on this address until interrupted")
	fl.IntVar(&o.clients, "clients", 64, "concurrent clients")
	fl.DurationVar(&o.duration, "duration", 5*time.Second, "length of each phase")
	fl.StringVar(&o.ops, "ops", "mkdirs,create,getfilestatus", "phases to run, in order")
	fl.StringVar(&o.prefix, "prefix", "", "directory the benchmark works under (default /bench-<unix time>)")
	// The default is the OS user, as Hadoop's client: run on the NameNode's
	// host as its user, that is the superuser, whom a NameNode checking
	// permissions lets create the default /bench-<time> at the root.
	defUser := "bench"
	if u, err := osuser.Current(); err == nil {
		defUser = u.Username
	}
	fl.StringVar(&o.user, "user", defUser, "user.name (default: the OS user; the NameNode checks permissions, so a -prefix this user may write under, or the NameNode's user)")
	fl.StringVar(&o.load, "load", "raw", "load generator: raw (minimal keep-alive HTTP/1.1, one connection per client, to the active NameNode) or client (webhdfs.Client with failover, net/http)")
	fl.BoolVar(&o.lag, "lag", true, "after each write phase, print each standby's tail lag (from its JMX apply-lag histogram; needs every NameNode in -addrs/-config)")
	fl.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (client and in-process server) to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.serve != "" {
		return serveFake(ctx, o.serve, out)
	}
	if o.prefix == "" {
		o.prefix = fmt.Sprintf("/bench-%d", time.Now().UnixNano())
	}
	if o.clients <= 0 {
		return errors.New("-clients must be positive")
	}

	var addrs []string
	target := ""
	switch {
	case o.config != "":
		conf, err := hadoopconf.LoadDir(o.config)
		if err != nil {
			return err
		}
		ns := o.nameservice
		if ns == "" {
			if all := conf.Strings("dfs.nameservices"); len(all) > 0 {
				ns = all[0]
			}
		}
		if _, addrs, err = webhdfs.NameNodeHTTPAddrs(conf, ns); err != nil {
			return err
		}
		target = "nameservice " + ns + " (" + strings.Join(addrs, ", ") + ")"
	case o.addrs != "":
		addrs = hadoopconf.SplitTrimmed(o.addrs, ",")
		target = strings.Join(addrs, ", ")
	default:
		addr, closeFn, err := startFake("127.0.5.20:0")
		if err != nil {
			return err
		}
		defer closeFn()
		addrs = []string{addr}
		target = "in-process in-memory namespace at " + addr
	}
	ld, err := newLoader(ctx, o, addrs)
	if err != nil {
		return err
	}
	defer ld.close()
	fmt.Fprintf(out, "WebHDFS benchmark: %d clients (%s load), %s per phase, against %s, under %s\n", o.clients, o.load, o.duration, target, o.prefix)
	fmt.Fprintf(out, "%-14s %10s %12s %10s %10s %10s %7s\n", "op", "ops", "ops/s", "p50", "p99", "max", "errors")
	var lw *lagWatch
	if o.lag && o.addrs+o.config != "" {
		if lw = newLagWatch(ctx, addrs); lw == nil {
			fmt.Fprintln(out, "(no standby with an apply-lag histogram in its JMX among the addresses: no tail lag figures)")
		}
	}
	created := make([][]string, o.clients) // per worker, the dirs MKDIRS made, for GETFILESTATUS
	for _, op := range hadoopconf.SplitTrimmed(o.ops, ",") {
		var res result
		write := strings.ToLower(op) != "getfilestatus"
		if lw != nil && write {
			lw.start(ctx, min(time.Second, o.duration/5), time.Now().Add(o.duration))
		}
		switch strings.ToLower(op) {
		case "mkdirs":
			res = phase(ctx, o, func(ctx context.Context, w, n int) error {
				p := fmt.Sprintf("%s/mkdirs/w%d/d%d", o.prefix, w, n)
				err := ld.mkdirs(ctx, w, p)
				if err == nil {
					created[w] = append(created[w], p)
				}
				return err
			})
		case "create":
			res = phase(ctx, o, func(ctx context.Context, w, n int) error {
				return ld.create(ctx, w, fmt.Sprintf("%s/create/w%d/f%d", o.prefix, w, n))
			})
		case "getfilestatus":
			for w := range created {
				if len(created[w]) == 0 {
					created[w] = []string{o.prefix}
					if err := ld.mkdirs(ctx, 0, o.prefix); err != nil {
						return err
					}
				}
			}
			res = phase(ctx, o, func(ctx context.Context, w, n int) error {
				paths := created[w]
				return ld.getFileStatus(ctx, w, paths[n%len(paths)])
			})
		default:
			return fmt.Errorf("unknown op %q (want mkdirs, create, getfilestatus)", op)
		}
		fmt.Fprintf(out, "%-14s %10d %12.0f %10s %10s %10s %7d\n", strings.ToUpper(op), res.ops, res.rate,
			res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.max.Round(time.Microsecond), res.errors)
		if res.firstErr != nil {
			fmt.Fprintf(out, "  first error: %v\n", res.firstErr)
		}
		if lw != nil && write {
			lw.report(ctx, out, strings.ToUpper(op))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// transport keeps one idle keep-alive connection per client, so no call redials.
func transport(clients int) *http.Transport {
	t := webhdfs.NewTransport()
	t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, clients)
	t.MaxIdleConns = max(t.MaxIdleConns, 2*clients)
	return t
}

type result struct {
	ops, errors   int64
	rate          float64
	p50, p99, max time.Duration
	firstErr      error
}

// phase runs fn on o.clients workers for o.duration and summarizes throughput
// and latency; each worker keeps its own latency samples to avoid contention.
func phase(ctx context.Context, o options, fn func(ctx context.Context, worker, n int) error) result {
	deadline := time.Now().Add(o.duration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errs     atomic.Int64
		errOnce  sync.Once
		firstErr error
		lat      = make([][]time.Duration, o.clients)
	)
	start := time.Now()
	for w := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				err := fn(ctx, w, n)
				if ctx.Err() != nil || !time.Now().Before(deadline) {
					return // the phase ended mid-call: neither a success nor an error
				}
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := result{ops: int64(len(all)), errors: errs.Load(), firstErr: firstErr}
	r.rate = float64(r.ops) / elapsed.Seconds()
	if len(all) > 0 {
		r.p50, r.p99, r.max = all[len(all)/2], all[len(all)*99/100], all[len(all)-1]
	}
	return r
}

func startFake(addr string) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(webhdfs.PathPrefix+"/", webhdfs.Handler(webhdfstest.NewMem(), webhdfs.HandlerOptions{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns when closed
	return ln.Addr().String(), func() { srv.Close() }, nil
}

func serveFake(ctx context.Context, addr string, out io.Writer) error {
	a, closeFn, err := startFake(addr)
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Fprintf(out, "serving an in-memory namespace over WebHDFS at http://%s%s/ (Ctrl-C stops)\n", a, webhdfs.PathPrefix)
	<-ctx.Done()
	return nil
}

// loader issues the benchmark's calls for worker w.
type loader struct {
	client *webhdfs.Client
	raw    []*rawConn
	user   string
}

func newLoader(ctx context.Context, o options, addrs []string) (*loader, error) {
	ld := &loader{user: o.user}
	switch o.load {
	case "client":
		c, err := webhdfs.NewClient("bench", addrs, webhdfs.ClientOptions{
			User:       o.user,
			HTTPClient: &http.Client{Transport: transport(o.clients)},
		})
		if err != nil {
			return nil, err
		}
		ld.client = c
		return ld, nil
	case "raw":
	default:
		return nil, fmt.Errorf("-load %q: want raw or client", o.load)
	}
	// The raw generator does not fail over: find the active NameNode once.
	var active string
	var errs []error
	for _, a := range addrs {
		c, err := dialRaw(a)
		if err == nil {
			err = c.getFileStatus(ctx, "/", o.user)
			c.Close()
		}
		if err == nil {
			active = a
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", a, err))
	}
	if active == "" {
		return nil, fmt.Errorf("no active NameNode among %v: %w", addrs, errors.Join(errs...))
	}
	for range o.clients {
		c, err := dialRaw(active)
		if err != nil {
			ld.close()
			return nil, err
		}
		ld.raw = append(ld.raw, c)
	}
	return ld, nil
}

func (ld *loader) close() {
	for _, c := range ld.raw {
		c.Close()
	}
}

func (ld *loader) mkdirs(ctx context.Context, w int, p string) error {
	if ld.client != nil {
		_, err := ld.client.Mkdirs(ctx, p, 0)
		return err
	}
	return ld.raw[w].mkdirs(ctx, p, ld.user)
}

func (ld *loader) create(ctx context.Context, w int, p string) error {
	if ld.client != nil {
		return ld.client.Create(ctx, p, nil, webhdfs.CreateOptions{})
	}
	return ld.raw[w].create(ctx, p, ld.user)
}

func (ld *loader) getFileStatus(ctx context.Context, w int, p string) error {
	if ld.client != nil {
		_, err := ld.client.GetFileStatus(ctx, p)
		return err
	}
	return ld.raw[w].getFileStatus(ctx, p, ld.user)
}
