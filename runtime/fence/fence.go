// Package fence stops a NameNode that may still act as active, with the methods of Hadoop's dfs.ha.fencing.methods (sshfence, shell).
package fence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// Configuration keys read by the fencers (Hadoop's names, plus one of hactl's).
const (
	KeyMethods     = "dfs.ha.fencing.methods"
	KeySSHKeyFiles = "dfs.ha.fencing.ssh.private-key-files"
	KeySSHTimeout  = "dfs.ha.fencing.ssh.connect-timeout"
	// KeySSHKnownHosts names the known_hosts file sshfence checks host keys
	// against (default ~/.ssh/known_hosts of the ZKFC's user).
	KeySSHKnownHosts  = "hactl.ha.fencing.ssh.known-hosts-file"
	KeyShellTimeout   = "hactl.ha.fencing.shell.timeout.ms"
	defaultSSHTimeout = 30 * time.Second
	defaultShellLimit = 30 * time.Second
)

// ErrNoMethods means dfs.ha.fencing.methods is empty: automatic failover must not run
// without a way to stop the old active (Hadoop's BadFencingConfigurationException).
var ErrNoMethods = errors.New("no fencing method configured (" + KeyMethods + ")")

// ErrAllFailed means every configured method failed: the caller must not become active.
var ErrAllFailed = errors.New("every fencing method failed")

// Target is the NameNode to fence.
type Target struct {
	Nameservice string
	NamenodeID  string
	Host        string // address of the NameNode's host (from its RPC address)
	Port        int    // the NameNode's RPC port
}

func (t Target) String() string {
	return fmt.Sprintf("%s.%s at %s", t.Nameservice, t.NamenodeID, t.Address())
}

// Address is host:port of the target's RPC endpoint.
func (t Target) Address() string { return joinHostPort(t.Host, t.Port) }

func joinHostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(p)
	}
	return h + ":" + strconv.Itoa(p)
}

// Method is one fencing method.
type Method interface {
	// Fence returns nil only when the target can no longer act as active.
	Fence(ctx context.Context, t Target) error
	String() string
}

// lineRE is Hadoop NodeFencer's syntax: name or name(argument).
var lineRE = regexp.MustCompile(`^([\w.]+)(?:\((.*)\))?$`)

// Parse reads dfs.ha.fencing.methods (one method per line) and the fencers' settings.
func Parse(conf *hadoopconf.Config) ([]Method, error) {
	lines := conf.Lines(KeyMethods)
	if len(lines) == 0 {
		return nil, ErrNoMethods
	}
	var out []Method
	for _, line := range lines {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			return nil, fmt.Errorf("%s: unable to parse line %q: expected name or name(argument)", KeyMethods, line)
		}
		name, arg := m[1], m[2]
		switch name {
		case "sshfence", "org.apache.hadoop.ha.SshFenceByTcpPort":
			f, err := newSSHFromConf(conf, arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", KeyMethods, line, err)
			}
			out = append(out, f)
		case "shell", "org.apache.hadoop.ha.ShellCommandFencer":
			if strings.TrimSpace(arg) == "" {
				return nil, fmt.Errorf("%s: %q: shell fencing needs a command: shell(/path/to/script.sh args)", KeyMethods, line)
			}
			timeout, err := conf.Millis(KeyShellTimeout, defaultShellLimit)
			if err != nil {
				return nil, err
			}
			out = append(out, &Shell{Command: arg, Conf: conf, Timeout: timeout})
		default:
			return nil, fmt.Errorf("%s: unknown fencing method %q (hactl knows sshfence and shell)", KeyMethods, name)
		}
	}
	return out, nil
}

// FenceWithMethods tries each method in order until one succeeds, as Hadoop's
// NodeFencer: the first success is enough, and a failure moves on to the next.
func FenceWithMethods(ctx context.Context, log *slog.Logger, methods []Method, t Target) error {
	if len(methods) == 0 {
		return ErrNoMethods
	}
	var errs []error
	for _, m := range methods {
		log.Info("fencing: trying method", "method", m.String(), "target", t.String())
		err := m.Fence(ctx, t)
		if err == nil {
			log.Info("fencing: succeeded", "method", m.String(), "target", t.String())
			return nil
		}
		log.Warn("fencing: method failed", "method", m.String(), "target", t.String(), "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", m, err))
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("fence %s: %w: %w", t, ErrAllFailed, errors.Join(errs...))
}
