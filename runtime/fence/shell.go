package fence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// ErrTimeout means a fencing command did not finish in time (it is killed).
var ErrTimeout = errors.New("fencing command timed out")

// Shell is Hadoop's ShellCommandFencer: `shell(command)` runs command with bash,
// with the configuration and the target in its environment; exit 0 means fenced.
type Shell struct {
	Command string
	Conf    *hadoopconf.Config
	Timeout time.Duration
}

func (s *Shell) String() string { return "shell(" + s.Command + ")" }

// Env is the environment the command sees: the configuration keys with dots
// replaced by underscores, then the target_* variables (which win).
func (s *Shell) Env(t Target) []string {
	env := os.Environ()
	if s.Conf != nil {
		for _, p := range s.Conf.Properties() {
			env = append(env, strings.ReplaceAll(p.Name, ".", "_")+"="+p.Value)
		}
	}
	return append(env,
		"target_host="+t.Host,
		"target_port="+strconv.Itoa(t.Port),
		"target_address="+t.Address(),
		"target_nameserviceid="+t.Nameservice,
		"target_namenodeid="+t.NamenodeID,
	)
}

// Fence runs the command; a non-zero exit or the timeout is a failure.
func (s *Shell) Fence(ctx context.Context, t Target) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = defaultShellLimit
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command("bash", "-e", "-c", s.Command)
	cmd.Env = s.Env(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so a timeout kills the script's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start bash: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%w; output: %s", err, tail(out.String()))
		}
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("%w after %s; output: %s", ErrTimeout, timeout, tail(out.String()))
	}
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	if s == "" {
		return "(none)"
	}
	return s
}
