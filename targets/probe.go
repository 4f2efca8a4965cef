package targets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
)

// ProbeOptions configure ProbeAll.
type ProbeOptions struct {
	// Binary is this machine's hactl executable, uploaded to hosts whose
	// installed runtime is missing or differs from it; BinarySHA256 its hash.
	Binary       string
	BinarySHA256 string
	// TempDir is where a host gets the uploaded probe binary (default /tmp).
	TempDir string
	// MaxParallel bounds concurrent hosts (DefaultMaxParallel).
	MaxParallel int
	// HostTimeout bounds one host's probe including an upload (default 60 s).
	HostTimeout time.Duration
	// SkipZooKeeper leaves Observed.ZooKeeper nil.
	SkipZooKeeper bool
	// ZooKeeperTimeout bounds the ZooKeeper checks (default 5 s).
	ZooKeeperTimeout time.Duration
}

// probeNeedsBinary is the exit code of the probe script when neither the
// installed runtime nor an earlier uploaded probe binary is current.
const probeNeedsBinary = 97

// ProbeAll observes every host of c (one round trip per host when the
// installed runtime is current; otherwise the binary is uploaded to a temp
// path first) in parallel, and ZooKeeper. A host that cannot be reached is
// reported with Reachable=false and the reason, never guessed.
func ProbeAll(ctx context.Context, c *schema.Cluster, hosts map[string]Host, opts ProbeOptions) (*planner.Observed, error) {
	if opts.BinarySHA256 == "" {
		return nil, errors.New("probe: the hactl binary's sha256 is required")
	}
	if opts.HostTimeout <= 0 {
		opts.HostTimeout = 60 * time.Second
	}
	obs := &planner.Observed{Hosts: map[string]*planner.ObservedHost{}}
	var mu sync.Mutex
	var list []Host
	for _, h := range c.Hosts {
		th := hosts[h.Name]
		if th == nil {
			obs.Hosts[h.Name] = &planner.ObservedHost{Name: h.Name, Error: "no target for this host"}
			continue
		}
		list = append(list, th)
	}
	ForEach(ctx, list, opts.MaxParallel, func(ctx context.Context, h Host) error {
		ctx, cancel := context.WithTimeout(ctx, opts.HostTimeout)
		defer cancel()
		oh := probeHost(ctx, c, h, opts)
		mu.Lock()
		obs.Hosts[h.Name()] = oh
		mu.Unlock()
		return nil
	})
	if !opts.SkipZooKeeper && c.ZooKeeper != nil {
		obs.ZooKeeper = ProbeZooKeeper(ctx, c, hosts, opts.ZooKeeperTimeout)
	}
	return obs, nil
}

// ProbeCommand renders the script that runs `hactl runtime probe` on host
// with the installed binary when it is current, else with the uploaded
// tmpBinary when present, else exits probeNeedsBinary. On a host with nothing
// of hactl installed the uploaded copy is removed after use, so probing
// (plan, destroy) never leaves a binary behind on a bare host.
func ProbeCommand(c *schema.Cluster, host, address, sum, tmpBinary string) string {
	return probeScript(c, host, address, sum, tmpBinary, false)
}

// probeScript is ProbeCommand; uploaded says tmpBinary is a copy hactl
// uploaded (removed after use on a bare host), not the binary hactl itself
// runs from (target local).
func probeScript(c *schema.Cluster, host, address, sum, tmpBinary string, uploaded bool) string {
	p := c.PathsFor(host)
	args := " runtime probe --conf " + ShellQuote(p.ConfDir) + " --run-dir " + ShellQuote(p.RunDir) +
		" --install-dir " + ShellQuote(p.InstallDir) + " --address " + ShellQuote(address)
	return fmt.Sprintf(`b=%[1]s
if [ -x "$b" ] && [ "$(head -c 64 "$b.sha256" 2>/dev/null)" = %[2]s ]; then exec "$b"%[3]s; fi
t=%[4]s
if [ -x "$t" ]; then
  if [ %[7]s = 0 ] || [ -d %[6]s ]; then exec "$t"%[3]s; fi
  "$t"%[3]s; rc=$?; rm -f "$t"; exit $rc
fi
exit %[5]d
`, ShellQuote(p.Binary), ShellQuote(sum), args, ShellQuote(tmpBinary), probeNeedsBinary, ShellQuote(p.InstallDir), map[bool]string{false: "0", true: "1"}[uploaded])
}

func probeHost(ctx context.Context, c *schema.Cluster, h Host, opts ProbeOptions) *planner.ObservedHost {
	fail := func(reachable bool, err error) *planner.ObservedHost {
		return &planner.ObservedHost{Name: h.Name(), Reachable: reachable, Error: err.Error()}
	}
	tmp := opts.Binary
	_, local := h.(*Local)
	if !local {
		dir := opts.TempDir
		if dir == "" {
			dir = "/tmp"
		}
		// Named by content: a later plan reuses it, and two versions never clash.
		tmp = path.Join(dir, "hactl-probe-"+opts.BinarySHA256[:16])
	}
	cmd := Command{Shell: probeScript(c, h.Name(), h.Address(), opts.BinarySHA256, tmp, !local), Sudo: true}
	res, err := h.Run(ctx, cmd)
	if err == nil && res.ExitCode == probeNeedsBinary {
		if opts.Binary == "" {
			return fail(true, errors.New("probe: hactl is not installed on the host and no binary was given to upload"))
		}
		f, ferr := os.Open(opts.Binary)
		if ferr != nil {
			return fail(true, fmt.Errorf("probe: %w", ferr))
		}
		err = h.Upload(ctx, tmp, f, 0o755, opts.BinarySHA256)
		f.Close()
		if err != nil {
			return fail(!errors.Is(err, ErrUnreachable), fmt.Errorf("probe: upload runtime: %w", err))
		}
		res, err = h.Run(ctx, cmd)
	}
	if err != nil {
		return fail(false, err)
	}
	if res.ExitCode != 0 {
		return fail(true, fmt.Errorf("probe: exit %d: %s", res.ExitCode, strings.TrimSpace(string(tail(res.Stderr, 2000)))))
	}
	var oh planner.ObservedHost
	if err := json.Unmarshal(bytes.TrimSpace(res.Stdout), &oh); err != nil {
		return fail(true, fmt.Errorf("probe: bad output: %w: %q", err, tail(res.Stdout, 200)))
	}
	oh.Name, oh.Reachable = h.Name(), true
	return &oh
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
