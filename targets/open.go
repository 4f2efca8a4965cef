package targets

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hactl/hactl/schema"
)

// Options tune how Open reaches the hosts.
type Options struct {
	// AcceptNewHostKeys trusts an unknown SSH host key on first use and
	// records it in known_hosts. A changed key is refused regardless.
	AcceptNewHostKeys bool
	// MaxParallel bounds how many hosts are worked on at once (ForEach).
	MaxParallel int
	// ConnectTimeout overrides the ssh block's connect_timeout (10 s default).
	ConnectTimeout time.Duration
	// KeepaliveInterval between keepalive@openssh.com checks (default 15 s);
	// a connection that does not answer within one interval is dropped.
	KeepaliveInterval time.Duration
	// Log receives connection notices (retries, trusted new keys); may be nil.
	Log io.Writer
}

// Open returns one Host per configured host, by name, for the cluster's
// target. SSH hosts connect lazily on first use (and reconnect after a lost
// connection), so one unreachable host does not keep the others from being
// probed. Close every host when done (CloseAll).
func Open(c *schema.Cluster, opts Options) (map[string]Host, error) {
	kind := schema.TargetSSH
	if c.Target != nil {
		kind = c.Target.Kind
	}
	out := map[string]Host{}
	switch kind {
	case schema.TargetLocal:
		for _, h := range c.Hosts {
			out[h.Name] = NewLocal(h.Name, h.Address, c.LocalRoot(h.Name))
		}
	case schema.TargetSSH, schema.TargetEC2:
		// EC2 instances are reached over SSH once provisioned, at the
		// addresses of the host list (ec2hosts.go).
		var list *EC2HostList
		if kind == schema.TargetEC2 {
			var err error
			if list, err = ReadEC2HostList(c); err != nil {
				return nil, err
			}
		}
		pool := NewPool(opts)
		for _, h := range c.Hosts {
			cfg, err := SSHConfigFor(c, h, opts)
			if err != nil {
				pool.Close()
				return nil, err
			}
			out[h.Name] = pool.Host(h.Name, h.Address, ec2SSH(cfg, list, h.Name))
		}
	default:
		return nil, fmt.Errorf("targets: unknown target kind %q", kind)
	}
	return out, nil
}

// CloseAll closes every host.
func CloseAll(hosts map[string]Host) {
	for _, h := range hosts {
		h.Close()
	}
}

// Sorted returns the hosts ordered by name (deterministic output and tests).
func Sorted(hosts map[string]Host) []Host {
	out := make([]Host, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, h)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name() < out[j-1].Name(); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func logf(w io.Writer, format string, args ...any) {
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}
