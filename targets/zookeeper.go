package targets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/hactl/hactl/internal/zkserver"
	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/schema"
)

// DialFunc opens a TCP connection to addr.
type DialFunc func(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error)

// zkDialer dials directly and, when the address cannot be reached from here
// (no route, timeout: it may be on the cluster's private network), through
// an SSH connection: the ZooKeeper server's own host's first, then one other
// host's. A refused connection is an answer (the address is reachable and
// nothing listens) and is not retried through tunnels, so an absent
// ensemble costs one round trip, not one per host. An address of a host SSH
// reaches through a bastion or at another address is not dialed directly at
// all: it is private.
func zkDialer(hosts map[string]Host) DialFunc {
	return tunnelDialer(func(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		return d.DialContext(ctx, "tcp", addr)
	}, hosts)
}

// Dialer is the target's dialer: every connection hactl makes to a daemon
// during plan and apply (readiness checks, HA admin, JournalNode sync,
// ZooKeeper) goes through it, so a cluster reachable only through SSH (a
// bastion, a private VPC) plans and applies. It dials as zkDialer does,
// each attempt bounded by timeout.
func Dialer(hosts map[string]Host, timeout time.Duration) func(ctx context.Context, addr string) (net.Conn, error) {
	d := zkDialer(hosts)
	return func(ctx context.Context, addr string) (net.Conn, error) { return d(ctx, addr, timeout) }
}

// errBehindBastion stands for the direct dial not tried.
var errBehindBastion = errors.New("the host is reached through a bastion only")

// tunnelDialer is zkDialer with the direct dial given.
func tunnelDialer(direct DialFunc, hosts map[string]Host) DialFunc {
	var via []*SSHHost
	for _, h := range Sorted(hosts) {
		if s, ok := h.(*SSHHost); ok {
			via = append(via, s)
		}
	}
	return func(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
		tunnels := tunnelHosts(via, addr)
		var conn net.Conn
		err := errBehindBastion
		if !privateAddress(tunnels, addr) {
			conn, err = direct(ctx, addr, timeout)
			if err == nil || len(via) == 0 || errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
				return conn, err
			}
		}
		for _, h := range tunnels {
			tctx, cancel := context.WithTimeout(ctx, timeout)
			c, derr := h.pool.client(tctx, h.cfg, h.cfg.User, h.hostport())
			if derr == nil {
				var tc net.Conn
				if tc, derr = c.DialContext(tctx, "tcp", addr); derr == nil {
					cancel()
					return tc, nil
				}
			}
			cancel()
			if errors.Is(err, errBehindBastion) {
				err = fmt.Errorf("%s through %s: %w", addr, h.name, derr)
			}
		}
		return nil, err
	}
}

// privateAddress says whether addr is the address of a host SSH reaches
// another way: through a bastion, or at another address (an EC2 instance's
// public one). Such an address is private: a direct dial would only wait
// out its timeout. (tunnels puts the address's own host first.)
func privateAddress(tunnels []*SSHHost, addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	if len(tunnels) == 0 || tunnels[0].address != host {
		return false
	}
	cfg := tunnels[0].cfg
	return cfg.Bastion != "" || (cfg.ConnectAddress != "" && cfg.ConnectAddress != host)
}

// tunnelHosts picks at most two SSH hosts to reach addr through: the one
// whose address it is, then the first other one.
func tunnelHosts(hosts []*SSHHost, addr string) []*SSHHost {
	host, _, _ := net.SplitHostPort(addr)
	var own, other *SSHHost
	for _, h := range hosts {
		switch {
		case own == nil && h.address == host:
			own = h
		case other == nil && h.address != host:
			other = h
		}
	}
	var out []*SSHHost
	for _, h := range []*SSHHost{own, other} {
		if h != nil {
			out = append(out, h)
		}
	}
	return out
}

// ProbeZooKeeper checks the quorum's servers and, through a session, whether
// /hadoop-ha/<ns> exists for each nameservice and which NameNode the
// ActiveBreadCrumb names.
//
// The breadcrumbs are readable only with the cluster's ZooKeeper
// credentials (ha.zookeeper.auth, or the digest derived from the cluster
// secret): when a read is refused, the secret is read from a host and the
// session authenticates, once.
func ProbeZooKeeper(ctx context.Context, c *schema.Cluster, hosts map[string]Host, timeout time.Duration) *planner.ObservedZooKeeper {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return probeZooKeeper(ctx, c, zkDialer(hosts), timeout, func(ctx context.Context) []zkAuth { return zooKeeperAuths(ctx, c, hosts) })
}

// zkAuth is one addAuth of a ZooKeeper session.
type zkAuth struct {
	scheme string
	auth   []byte
}

// zooKeeperAuths are the credentials hactl's ZooKeeper clients use for c:
// ha.zookeeper.auth from the hadoop passthrough when given (file references
// name files on the hosts and are read there), else the digest derived
// from the cluster secret, read from the first host that has it.
func zooKeeperAuths(ctx context.Context, c *schema.Cluster, hosts map[string]Host) []zkAuth {
	if c.Hadoop != nil {
		if v, ok := c.Hadoop.CoreSite["ha.zookeeper.auth"]; ok {
			var out []zkAuth
			for _, a := range strings.Split(v, ",") {
				if scheme, cred, ok := strings.Cut(strings.TrimSpace(a), ":"); ok && !strings.HasPrefix(scheme, "@") {
					out = append(out, zkAuth{scheme, []byte(cred)})
				}
			}
			return out
		}
	}
	for _, h := range c.Hosts {
		th := hosts[h.Name]
		if th == nil {
			continue
		}
		res, err := th.Run(ctx, Command{Args: []string{"cat", c.PathsFor(h.Name).SecretFile}, Sudo: true})
		if err != nil || res.ExitCode != 0 {
			continue
		}
		if s := strings.TrimSpace(string(res.Stdout)); len(s) >= 16 {
			pw := auth.ZooKeeperPassword([]byte(s))
			return []zkAuth{{"digest", []byte(auth.ZooKeeperUser + ":" + pw)}}
		}
	}
	return nil
}

func probeZooKeeper(ctx context.Context, c *schema.Cluster, dial DialFunc, timeout time.Duration, auths func(context.Context) []zkAuth) *planner.ObservedZooKeeper {
	out := &planner.ObservedZooKeeper{}
	servers := c.ZooKeeperQuorum()
	if len(servers) == 0 {
		out.Error = "no ZooKeeper servers configured"
		return out
	}
	up := make([]bool, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A server that refuses the word (not in its
			// 4lw.commands.whitelist) but answers still counts as up.
			rctx, cancel := context.WithTimeout(ctx, min(timeout, 2*time.Second))
			defer cancel()
			err := zkserver.Ruok(rctx, func(ctx context.Context, addr string) (net.Conn, error) {
				return dial(ctx, addr, min(timeout, 2*time.Second))
			}, s.Addr)
			up[i] = err == nil || errors.Is(err, zkserver.ErrNotWhitelisted)
		}()
	}
	wg.Wait()
	var addrs []string
	for i, s := range servers {
		if up[i] {
			out.ServersUp = append(out.ServersUp, s.Name)
			addrs = append(addrs, s.Addr)
		}
	}
	if len(addrs) == 0 {
		out.Error = "no ZooKeeper server answers"
		return out
	}
	conn, events, err := zk.Connect(addrs, max(timeout, 4*time.Second),
		zk.WithLogger(log.New(io.Discard, "", 0)),
		zk.WithDialer(func(network, addr string, to time.Duration) (net.Conn, error) { return dial(ctx, addr, to) }))
	if err != nil {
		out.Error = "zookeeper: " + err.Error()
		return out
	}
	defer conn.Close()
	deadline := time.After(timeout)
wait:
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				break wait
			}
		case <-deadline:
			out.Error = "zookeeper: no session within " + timeout.String() + " (no quorum?)"
			return out
		case <-ctx.Done():
			out.Error = "zookeeper: " + ctx.Err().Error()
			return out
		}
	}
	out.Reachable = true
	out.ParentZnodes = map[string]bool{}
	authed := false
	for _, ns := range c.Nameservices {
		p := c.HAZnode(ns.Name)
		ok, _, err := conn.Exists(p)
		if err != nil {
			out.Error = "zookeeper: exists " + p + ": " + err.Error()
			out.Reachable = false
			return out
		}
		out.ParentZnodes[ns.Name] = ok
		if !ok {
			continue
		}
		data, _, err := conn.Get(path.Join(p, "ActiveBreadCrumb"))
		if errors.Is(err, zk.ErrNoAuth) && !authed && auths != nil {
			authed = true
			for _, a := range auths(ctx) {
				conn.AddAuth(a.scheme, a.auth) // a refused credential leaves the reads refused
			}
			data, _, err = conn.Get(path.Join(p, "ActiveBreadCrumb"))
		}
		// Only the parent znodes (Exists needs no credentials) decide plans;
		// an unreadable breadcrumb leaves the active NameNode unknown.
		if err == nil {
			if id := BreadcrumbNameNode(data); id != "" {
				if out.ActiveNameNodes == nil {
					out.ActiveNameNodes = map[string]string{}
				}
				out.ActiveNameNodes[ns.Name] = id
			}
		}
	}
	return out
}

// BreadcrumbNameNode returns the NameNode ID in an ActiveBreadCrumb. Hadoop
// writes ActiveNodeInfo as protobuf (1: nameserviceId, 2: namenodeId,
// 3: hostname, 4: port, 5: zkfcPort); JSON {"namenodeId": …} is accepted too.
func BreadcrumbNameNode(data []byte) string {
	if fields, ok := protoStrings(data); ok && fields[2] != "" {
		return fields[2]
	}
	var j struct {
		NamenodeID string `json:"namenodeId"`
	}
	if json.Unmarshal(data, &j) == nil {
		return j.NamenodeID
	}
	return ""
}

// protoStrings decodes a flat protobuf message's length-delimited fields.
func protoStrings(b []byte) (map[int]string, bool) {
	out := map[int]string{}
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 10 && len(b) > 0; i++ {
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				return v, true
			}
		}
		return 0, false
	}
	for len(b) > 0 {
		tag, ok := varint()
		if !ok || tag>>3 == 0 {
			return nil, false
		}
		switch tag & 7 {
		case 0:
			if _, ok := varint(); !ok {
				return nil, false
			}
		case 2:
			n, ok := varint()
			if !ok || n > uint64(len(b)) {
				return nil, false
			}
			out[int(tag>>3)] = string(b[:n])
			b = b[n:]
		default:
			return nil, false
		}
	}
	return out, true
}
