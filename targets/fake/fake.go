// Package fake is a recording targets.Host for unit tests: scripted responses
// matched by command pattern, every call recorded, uploads kept in memory.
package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	"github.com/hactl/hactl/targets"
)

// Rule answers the commands whose rendered line matches Pattern.
type Rule struct {
	Pattern *regexp.Regexp
	// Respond, when set, computes the answer (it may inspect the host's files).
	Respond func(h *Host, cmd targets.Command, stdin []byte) (targets.Result, error)
	Result  targets.Result
	Err     error
	// Times limits how often the rule applies (0 = always); later rules then match.
	Times int
	used  int
}

// Call is one recorded Run or Upload.
type Call struct {
	Line  string // the rendered command, or "upload PATH"
	Cmd   targets.Command
	Stdin []byte
}

// File is an uploaded file.
type File struct {
	Data []byte
	Mode fs.FileMode
}

// Host is a recording fake. The zero value answers every command with exit 0.
type Host struct {
	HostName, Addr string
	// Unreachable makes every call fail with targets.ErrUnreachable.
	Unreachable bool

	mu     sync.Mutex
	rules  []*Rule
	calls  []Call
	files  map[string]File
	closed bool
}

// New returns a fake host.
func New(name, address string) *Host {
	return &Host{HostName: name, Addr: address, files: map[string]File{}}
}

// On adds a rule answering commands matching pattern (a regexp over the
// command line, Args joined by spaces or the Shell script) with stdout and exit.
func (h *Host) On(pattern, stdout string, exit int) *Rule {
	r := &Rule{Pattern: regexp.MustCompile(pattern), Result: targets.Result{Stdout: []byte(stdout), ExitCode: exit}}
	h.AddRule(r)
	return r
}

// AddRule adds r; rules are tried in the order added.
func (h *Host) AddRule(r *Rule) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rules = append(h.rules, r)
}

// Name implements targets.Host.
func (h *Host) Name() string { return h.HostName }

// Address implements targets.Host.
func (h *Host) Address() string { return h.Addr }

// Close implements targets.Host.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	return nil
}

// Closed reports whether Close was called.
func (h *Host) Closed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Line renders cmd the way rules see it.
func Line(cmd targets.Command) string {
	if len(cmd.Args) > 0 {
		return strings.Join(cmd.Args, " ")
	}
	return cmd.Shell
}

// Run implements targets.Host.
func (h *Host) Run(ctx context.Context, cmd targets.Command) (targets.Result, error) {
	var stdin []byte
	if cmd.Stdin != nil {
		stdin, _ = io.ReadAll(cmd.Stdin)
	}
	line := Line(cmd)
	h.mu.Lock()
	h.calls = append(h.calls, Call{Line: line, Cmd: cmd, Stdin: stdin})
	if h.Unreachable {
		h.mu.Unlock()
		return targets.Result{}, fmt.Errorf("%s: %w", h.HostName, targets.ErrUnreachable)
	}
	if err := ctx.Err(); err != nil {
		h.mu.Unlock()
		return targets.Result{}, err
	}
	var match *Rule
	for _, r := range h.rules {
		if (r.Times == 0 || r.used < r.Times) && r.Pattern.MatchString(line) {
			r.used++
			match = r
			break
		}
	}
	h.mu.Unlock()
	if match == nil {
		return targets.Result{}, nil
	}
	if match.Respond != nil {
		return match.Respond(h, cmd, stdin)
	}
	return match.Result, match.Err
}

// Upload implements targets.Host, checking sha256 like the real targets.
func (h *Host) Upload(ctx context.Context, path string, data io.Reader, mode fs.FileMode, sum string) error {
	b, err := io.ReadAll(data)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, Call{Line: "upload " + path, Stdin: b})
	if h.Unreachable {
		return fmt.Errorf("%s: %w", h.HostName, targets.ErrUnreachable)
	}
	got := sha256.Sum256(b)
	if sum != "" && hex.EncodeToString(got[:]) != sum {
		return fmt.Errorf("%s: upload %s: %w", h.HostName, path, targets.ErrChecksumMismatch)
	}
	if h.files == nil {
		h.files = map[string]File{}
	}
	h.files[path] = File{Data: b, Mode: mode}
	return nil
}

// Calls returns the recorded calls in order.
func (h *Host) Calls() []Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Call(nil), h.calls...)
}

// Lines returns the recorded command lines in order.
func (h *Host) Lines() []string {
	var out []string
	for _, c := range h.Calls() {
		out = append(out, c.Line)
	}
	return out
}

// File returns an uploaded file.
func (h *Host) File(path string) (File, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.files[path]
	return f, ok
}

// SetFile puts a file on the fake host (as if uploaded earlier).
func (h *Host) SetFile(path string, data []byte, mode fs.FileMode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.files == nil {
		h.files = map[string]File{}
	}
	h.files[path] = File{Data: data, Mode: mode}
}

var _ targets.Host = (*Host)(nil)
