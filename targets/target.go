// Package targets is hactl's one narrow seam to the machines it manages: a Host
// runs commands and receives files, whether it is a loopback address on this
// machine (local), a server over SSH (ssh), or a recording fake in tests.
package targets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Command is one command to run on a host.
type Command struct {
	// Args is the program and its arguments, quoted for the remote shell by the
	// implementation. Exactly one of Args and Shell is set.
	Args []string
	// Shell is a script run with `sh -c` (use for pipelines; quote carefully).
	Shell string
	Stdin io.Reader
	Env   map[string]string
	// Sudo asks for root on hosts where the user is not root (ssh target).
	Sudo bool
}

// Result is a finished command. A non-zero ExitCode is not an error: Run's
// error is reserved for failing to run the command at all (lost connection…).
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// Host is a machine hactl manages.
type Host interface {
	// Name is the host's name in the cluster config.
	Name() string
	// Address is the address daemons bind and peers dial (an IP or DNS name).
	Address() string
	// Run runs cmd and waits for it.
	Run(ctx context.Context, cmd Command) (Result, error)
	// Upload writes data to path atomically (temp file + fsync + rename) with
	// mode, creating parent directories, and fails unless the written file's
	// sha256 (hex) equals sha256 (when sha256 is non-empty).
	Upload(ctx context.Context, path string, data io.Reader, mode fs.FileMode, sha256 string) error
	// Close releases the connection.
	Close() error
}

// ErrUnreachable wraps failures to reach a host at all.
var ErrUnreachable = errors.New("host unreachable")

// ExitError describes a command that ran but failed.
type ExitError struct {
	Host   string
	Cmd    string
	Result Result
}

func (e *ExitError) Error() string {
	msg := string(e.Result.Stderr)
	if len(msg) > 2000 {
		msg = msg[len(msg)-2000:]
	}
	return fmt.Sprintf("%s: %s exited %d: %s", e.Host, e.Cmd, e.Result.ExitCode, msg)
}

// Check turns a non-zero exit into an *ExitError.
func Check(host string, cmd Command, r Result, err error) (Result, error) {
	if err != nil {
		return r, err
	}
	if r.ExitCode != 0 {
		name := cmd.Shell
		if len(cmd.Args) > 0 {
			name = cmd.Args[0]
		}
		return r, &ExitError{Host: host, Cmd: name, Result: r}
	}
	return r, nil
}
