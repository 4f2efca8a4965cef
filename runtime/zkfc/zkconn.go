package zkfc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// zkLogger routes go-zookeeper's chatter to debug logs.
type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) { l.log.Debug(fmt.Sprintf(format, args...)) }

// Dial connects to the quorum, waits for a session (at most the session
// timeout, as Hadoop's elector does) and adds the ha.zookeeper.auth
// credentials. The returned channel carries the session events.
func Dial(ctx context.Context, z ZKConfig, log *slog.Logger) (*zk.Conn, <-chan zk.Event, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, events, err := zk.Connect(z.Quorum, z.SessionTimeout, zk.WithLogger(zkLogger{log}), zk.WithLogInfo(false))
	if err != nil {
		return nil, nil, fmt.Errorf("%w at %s: %w", ErrNoZooKeeper, strings.Join(z.Quorum, ","), err)
	}
	wait := max(z.SessionTimeout, 2*time.Second)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil, nil, fmt.Errorf("%w at %s: connection closed", ErrNoZooKeeper, strings.Join(z.Quorum, ","))
			}
			if ev.Type == zk.EventSession && ev.State == zk.StateHasSession {
				for _, a := range z.Auths {
					if err := conn.AddAuth(a.Scheme, a.Auth); err != nil {
						conn.Close()
						return nil, nil, fmt.Errorf("ZooKeeper addAuth (scheme %s from %s): %w", a.Scheme, KeyAuth, err)
					}
				}
				return conn, events, nil
			}
			if ev.State == zk.StateAuthFailed {
				conn.Close()
				return nil, nil, fmt.Errorf("%w at %s: authentication failed", ErrNoZooKeeper, strings.Join(z.Quorum, ","))
			}
		case <-timer.C:
			conn.Close()
			return nil, nil, fmt.Errorf("%w at %s: no session within %s; check %s and that ZooKeeper is running with a quorum",
				ErrNoZooKeeper, strings.Join(z.Quorum, ","), wait, KeyQuorum)
		case <-ctx.Done():
			conn.Close()
			return nil, nil, ctx.Err()
		}
	}
}

// ensurePath creates p with acls and its missing ancestors with
// AncestorACLs(acls).
func ensurePath(conn *zk.Conn, p string, acls []zk.ACL) error {
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + part
		a := acls
		if cur != p {
			a = AncestorACLs(acls)
		}
		_, err := conn.Create(cur, nil, 0, a)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", cur, err)
		}
	}
	return nil
}

// deleteRecursive removes p and everything below it (Hadoop's ZKUtil.deleteRecursive).
func deleteRecursive(conn *zk.Conn, p string) error {
	children, _, err := conn.Children(p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", p, err)
	}
	for _, c := range children {
		if err := deleteRecursive(conn, path.Join(p, c)); err != nil {
			return err
		}
	}
	if err := conn.Delete(p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return nil
}
