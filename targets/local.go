package targets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// Local is a host that is a loopback address on this machine. Its directories
// are rooted under Root by the caller (schema.(*Cluster).HostDir); Local itself
// runs commands and writes files exactly where it is told.
type Local struct {
	name, address string
	// Root is the directory standing for "/" of this host ("" = real root).
	Root string
}

// NewLocal returns the local host name reachable at address (a 127.x address).
func NewLocal(name, address, root string) *Local {
	return &Local{name: name, address: address, Root: root}
}

// Name implements Host.
func (l *Local) Name() string { return l.name }

// Address implements Host.
func (l *Local) Address() string { return l.address }

// Close implements Host.
func (l *Local) Close() error { return nil }

// Run implements Host. The command runs in its own process group so that a
// cancelled context kills what it started too.
func (l *Local) Run(ctx context.Context, cmd Command) (Result, error) {
	var c *exec.Cmd
	switch {
	case len(cmd.Args) > 0 && cmd.Shell == "":
		c = exec.CommandContext(ctx, cmd.Args[0], cmd.Args[1:]...)
	case len(cmd.Args) == 0 && cmd.Shell != "":
		c = exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Shell)
	default:
		return Result{}, fmt.Errorf("%s: command needs exactly one of Args and Shell", l.name)
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error {
		if c.Process == nil {
			return nil
		}
		return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	// A command that leaves a background process holding our pipes must
	// not hang the caller forever.
	c.WaitDelay = 5 * time.Second
	c.Env = mergeEnv(os.Environ(), cmd.Env)
	c.Stdin = cmd.Stdin
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: %s: %w", l.name, describe(cmd), ctx.Err())
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
		if res.ExitCode < 0 { // killed by a signal
			res.ExitCode = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
		return res, nil
	case errors.Is(err, exec.ErrWaitDelay):
		return res, nil
	default:
		// Program not found and the like: the shell would say 127.
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			res.ExitCode = 127
			res.Stderr = append(res.Stderr, []byte(err.Error()+"\n")...)
			return res, nil
		}
		return res, fmt.Errorf("%s: %s: %w", l.name, describe(cmd), err)
	}
}

// Upload implements Host: temp file in the target directory, fsync, rename,
// fsync of the directory, so a crash leaves either the old or the new file.
func (l *Local) Upload(ctx context.Context, path string, data io.Reader, mode fs.FileMode, sum string) error {
	if err := WriteFileAtomic(path, data, mode, sum); err != nil {
		return fmt.Errorf("%s: upload %s: %w", l.name, path, err)
	}
	return nil
}

// ErrChecksumMismatch is returned when an uploaded file's sha256 differs from
// the expected one (the file is then left untouched).
var ErrChecksumMismatch = errors.New("sha256 mismatch")

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, fsynced and renamed, after checking its sha256 (if sum != "").
func WriteFileAtomic(path string, data io.Reader, mode fs.FileMode, sum string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), data); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); sum != "" && got != sum {
		return fmt.Errorf("%w: got %s, want %s", ErrChecksumMismatch, got, sum)
	}
	if err := f.Chmod(mode.Perm()); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func mergeEnv(base []string, extra map[string]string) []string {
	if len(extra) == 0 {
		return base
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := append([]string(nil), base...)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

func describe(cmd Command) string {
	if len(cmd.Args) > 0 {
		return cmd.Args[0]
	}
	s := cmd.Shell
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return "sh -c " + s
}
