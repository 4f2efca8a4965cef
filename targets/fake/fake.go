// Package fake is a recording targets.Host for unit tests: every command is
// decoded into a typed operation (ops.go) that rules answer and tests assert
// on, every call recorded, uploads kept in memory.
package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"

	"github.com/hactl/hactl/targets"
)

// Rule answers the operations Match selects.
type Rule struct {
	Match Match
	// Respond, when set, computes the answer (it may inspect the host's files).
	Respond func(h *Host, c Call) (targets.Result, error)
	Result  targets.Result
	Err     error
	// Times limits how often the rule applies (0 = always); later rules then match.
	Times int
	used  int
}

// Call is one recorded Run or Upload.
type Call struct {
	Op    Op
	Sudo  bool
	Stdin []byte // what Run was given on stdin
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

// On adds a rule answering the operations match selects with stdout and exit.
func (h *Host) On(match Match, stdout string, exit int) *Rule {
	r := &Rule{Match: match, Result: targets.Result{Stdout: []byte(stdout), ExitCode: exit}}
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

// Run implements targets.Host.
func (h *Host) Run(ctx context.Context, cmd targets.Command) (targets.Result, error) {
	var stdin []byte
	if cmd.Stdin != nil {
		stdin, _ = io.ReadAll(cmd.Stdin)
	}
	op := Decode(cmd)
	if slices.Equal(cmd.Args, []string{"sh", "-s"}) {
		op = Decode(targets.Command{Shell: string(stdin)}) // a script sent on stdin
	}
	c := Call{Op: op, Sudo: cmd.Sudo, Stdin: stdin}
	h.mu.Lock()
	h.calls = append(h.calls, c)
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
		if (r.Times == 0 || r.used < r.Times) && r.Match(c.Op) {
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
		return match.Respond(h, c)
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
	h.calls = append(h.calls, Call{Op: Upload{Path: path, Data: b}})
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

// Ops returns the recorded operations in order.
func (h *Host) Ops() []Op {
	var out []Op
	for _, c := range h.Calls() {
		out = append(out, c.Op)
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
