package apply

import (
	"context"
	"sync"
)

// machineLocks serialise work that must not run twice at once on one
// machine (package installs: one dpkg per machine), keyed by machineKey.
type machineLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

// machineKey names the machine host is: on target local every host is this
// machine; elsewhere a host is its address (validation refuses two hosts
// with one address).
func (e *Env) machineKey(host string) string {
	if e.Cluster == nil {
		return "host:" + host
	}
	if e.Cluster.LocalRoot(host) != "" {
		return "local"
	}
	if h := e.Cluster.Host(host); h != nil && h.Address != "" {
		return "addr:" + h.Address
	}
	return "host:" + host
}

// lockMachine waits (or until ctx ends) for the machine of host and returns
// its release.
func (e *Env) lockMachine(ctx context.Context, host string) (func(), error) {
	key := e.machineKey(host)
	e.machines.mu.Lock()
	if e.machines.locks == nil {
		e.machines.locks = map[string]chan struct{}{}
	}
	ch := e.machines.locks[key]
	if ch == nil {
		ch = make(chan struct{}, 1)
		e.machines.locks[key] = ch
	}
	e.machines.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
