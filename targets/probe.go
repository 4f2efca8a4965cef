package targets

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
)

// ProbeOptions configure ProbeAll.
type ProbeOptions struct {
	// MaxParallel bounds concurrent hosts (DefaultMaxParallel).
	MaxParallel int
	// HostTimeout bounds one host's probe (default 30 s).
	HostTimeout time.Duration
	// SkipZooKeeper leaves Observed.ZooKeeper nil.
	SkipZooKeeper bool
	// ZooKeeperTimeout bounds the ZooKeeper checks (default 5 s).
	ZooKeeperTimeout time.Duration
}

// ProbeAll observes every host of c in parallel, one round trip each (a shell
// script that reads everything a shell can read on every host and runs the
// installed `hactl runtime probe` where there is one, for what needs the
// binary: nothing is uploaded), and ZooKeeper, at the same time as the hosts. A host that cannot be reached,
// or whose state could not be read, is reported with Reachable=false and the
// reason, never guessed.
func ProbeAll(ctx context.Context, c *schema.Cluster, hosts map[string]Host, opts ProbeOptions) (*planner.Observed, error) {
	if opts.HostTimeout <= 0 {
		opts.HostTimeout = 30 * time.Second
	}
	obs := &planner.Observed{Hosts: map[string]*planner.ObservedHost{}}
	var zkDone chan struct{}
	if !opts.SkipZooKeeper && c.ZooKeeper != nil {
		zkDone = make(chan struct{})
		go func() {
			defer close(zkDone)
			obs.ZooKeeper = ProbeZooKeeper(ctx, c, hosts, opts.ZooKeeperTimeout)
		}()
	}
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
		oh := probeHost(ctx, c, h)
		mu.Lock()
		obs.Hosts[h.Name()] = oh
		mu.Unlock()
		return nil
	})
	if zkDone != nil {
		<-zkDone
	}
	return obs, nil
}

// probeHost runs the probe script on h. Its state is only reported when it
// could be read: a host that answered but could not be described is
// Reachable=false too (plan treats it as unknown, never as empty).
//
// One round trip, except where the installed runtime reports storage dirs
// (from the configuration installed on the host) that the cluster
// configuration does not name: a second script then reads all of them, so
// data in dirs the host still uses is never missed. The same goes for the
// dirs in the storage record apply keeps on the host (storage_record.go),
// which outlives the installed configuration on destroy.
func probeHost(ctx context.Context, c *schema.Cluster, h Host) *planner.ObservedHost {
	fail := func(err error) *planner.ObservedHost {
		return &planner.ObservedHost{Name: h.Name(), Error: err.Error()}
	}
	run := func(script string) (Result, error) {
		res, err := h.Run(ctx, Command{Shell: script, Sudo: true})
		if err != nil {
			return res, err
		}
		if res.ExitCode != 0 {
			return res, fmt.Errorf("exit %d: %s", res.ExitCode, strings.TrimSpace(string(tail(res.Stderr, 2000))))
		}
		return res, nil
	}
	dirs := hostStorage(c, h.Name())
	res, err := run(preflightScript(c, h.Name(), h.Address(), dirs))
	if err != nil {
		return fail(fmt.Errorf("probe: %w", err))
	}
	msg := strings.TrimSpace(string(tail(res.Stderr, 500)))
	pf, err := parsePreflight(dirs, c, h.Name(), res.Stdout)
	if err == nil {
		all, more := dirs, false
		if pf.runtime != nil {
			all, more, err = all.with(pf.runtime.Storage, "the installed configuration")
		}
		if err == nil {
			var rec bool
			all, rec, err = all.withRecord(pf.record, "hactl's storage record "+StorageRecordPath(c, h.Name()))
			more = more || rec
		}
		if err == nil && more {
			// On stdin, not as sh -c's argument: a record naming many
			// dirs makes a script past the kernel's 128 KiB bound on one
			// argument. The script runs nothing that reads stdin.
			res, err = h.Run(ctx, Command{Args: []string{"sh", "-s"}, Stdin: strings.NewReader(storageScript(all)), Sudo: true})
			if err == nil && res.ExitCode != 0 {
				err = fmt.Errorf("exit %d: %s", res.ExitCode, strings.TrimSpace(string(tail(res.Stderr, 2000))))
			}
			if err != nil {
				return fail(fmt.Errorf("probe of the storage dirs the installed configuration or the storage record names: %w", err))
			}
			msg = strings.TrimSpace(string(tail(res.Stderr, 500)))
			err = pf.parseStorage(all, res.Stdout)
		}
	}
	if err == nil {
		pf.stderr = msg
		var oh *planner.ObservedHost
		if oh, err = pf.observed(); err == nil {
			oh.Name, oh.Reachable = h.Name(), true
			oh.StorageUnrecorded = unrecordedStorage(dirs, pf.record)
			planner.AdoptLegacyDaemons(c, h.Name(), oh)
			return oh
		}
	}
	if msg != "" {
		msg = " (stderr: " + msg + ")"
	}
	return fail(fmt.Errorf("probe: the host's state could not be read: %w%s", err, msg))
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
