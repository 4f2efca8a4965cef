package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hactl/hactl/planner"
)

// RepoRoot returns the module root (the directory holding go.mod), found by
// walking up from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("e2e: go.mod not found above the working directory")
}

// BuildHactl builds cmd/hactl into dir and returns the binary's path.
func BuildHactl(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hactl")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hactl")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: go build ./cmd/hactl: %w\n%s", err, out)
	}
	return bin, nil
}

// Result is one finished hactl invocation.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	Code     int // -1 when it could not run or was killed by a signal
	Duration time.Duration
	Err      error // set when the process could not run, or timed out
}

func (r Result) String() string {
	return fmt.Sprintf("hactl %s → exit %d in %s\n--- stdout ---\n%s--- stderr ---\n%s",
		strings.Join(r.Args, " "), r.Code, r.Duration.Round(time.Millisecond), tail(r.Stdout, 8000), tail(r.Stderr, 8000))
}

func tail(s string, n int) string {
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// Hactl runs one built binary.
type Hactl struct {
	Bin string
	Env []string // extra environment (K=V)
}

// Run runs hactl with args, killing it after timeout.
func (h *Hactl) Run(ctx context.Context, timeout time.Duration, args ...string) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Bin, args...)
	cmd.Env = append(os.Environ(), h.Env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start), Code: -1}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.Err = fmt.Errorf("hactl %s: timed out after %s", strings.Join(args, " "), timeout)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		r.Err = fmt.Errorf("hactl %s: %w", strings.Join(args, " "), err)
	default:
		r.Code = 0
	}
	return r
}

// Interrupted is an apply that was sent SIGINT once it had printed enough
// step lines.
type Interrupted struct {
	Result
	StepsSeen   int  // step lines printed before the signal
	Interrupted bool // false when the command finished before reaching the threshold
}

// RunInterrupt runs hactl and sends it SIGINT once its output holds
// afterSteps lines naming a plan action (the executor prints each step as it
// runs), then waits for it to exit (bounded by timeout).
func (h *Hactl) RunInterrupt(ctx context.Context, timeout time.Duration, afterSteps int, args ...string) Interrupted {
	return h.RunSignal(ctx, timeout, afterSteps, syscall.SIGINT, args...)
}

// RunSignal is RunInterrupt with signal sig (SIGKILL: hactl dies between
// two steps, as on a crash or an OOM kill).
func (h *Hactl) RunSignal(ctx context.Context, timeout time.Duration, afterSteps int, sig syscall.Signal, args ...string) Interrupted {
	return h.RunHook(ctx, timeout, afterSteps, func(p *os.Process) { _ = p.Signal(sig) }, args...)
}

// RunHook runs hactl and calls hook (with hactl's process) once its output
// holds afterSteps step lines (0: at its first line of output): a fault
// injected while it works.
func (h *Hactl) RunHook(ctx context.Context, timeout time.Duration, afterSteps int, hook func(*os.Process), args ...string) Interrupted {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Bin, args...)
	cmd.Env = append(os.Environ(), h.Env...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Interrupted{Result: Result{Args: args, Code: -1, Err: err}}
	}
	var out bytes.Buffer
	var mu sync.Mutex
	out2 := Interrupted{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		var line []byte
		for {
			n, err := pr.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			for _, b := range buf[:n] {
				if b != '\n' {
					line = append(line, b)
					continue
				}
				if StepLine(string(line)) {
					out2.StepsSeen++
				}
				// afterSteps 0: at its first line, before any step ran (while
				// it plans, or prints the plan).
				if out2.StepsSeen == afterSteps && !out2.Interrupted {
					out2.Interrupted = true
					hook(cmd.Process)
				}
				line = line[:0]
			}
			if err != nil {
				return
			}
		}
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	mu.Lock()
	out2.Result = Result{Args: args, Stdout: out.String(), Stderr: stderr.String(), Duration: time.Since(start), Code: -1}
	mu.Unlock()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		out2.Err = fmt.Errorf("hactl %s: timed out after %s", strings.Join(args, " "), timeout)
	case errors.As(err, &ee):
		out2.Code = ee.ExitCode()
	case err != nil:
		out2.Err = err
	default:
		out2.Code = 0
	}
	return out2
}

// actionRE matches the planner's step names (planner.StepKinds); an output
// line naming one of them is a step line.
var actionRE = func() *regexp.Regexp {
	var names []string
	for _, k := range planner.StepKinds() {
		names = append(names, regexp.QuoteMeta(string(k.Action)))
	}
	// Longest first, so no name matches as the prefix of a longer one.
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
}()

// progressRE is the executor's line for a step it ran ("[3/12] n2
// start-journalnode ... ok (0.4s)"); apply may print the plan first, whose
// lines name the same actions but did not run.
var progressRE = regexp.MustCompile(`^\s*\[\s*\d+/\d+\]`)

// StepLine reports whether an output line is a finished step of an apply.
func StepLine(line string) bool { return progressRE.MatchString(line) && actionRE.MatchString(line) }

// ProgressLines returns the executor's step lines of out (what ran, with
// elapsed times), for logs.
func ProgressLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if StepLine(l) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// StepActions returns, in order, the action of each step apply ran.
func StepActions(out string) []string {
	var acts []string
	for _, l := range strings.Split(out, "\n") {
		if StepLine(l) {
			acts = append(acts, actionRE.FindString(l))
		}
	}
	return acts
}

// NameNodeStatus is one NameNode as `hactl status --format json` lists it.
type NameNodeStatus struct {
	Nameservice string
	ID          string
	Host        string
	State       string
	PID         int
}

// ParseStatusNameNodes finds the NameNode list in status JSON. The shape is
// read tolerantly (a "namenodes" array or map anywhere in the document, each
// entry with nameservice, id, host, ha_state/state and pid) so that the test
// pins the facts the issue asks for, not one encoding of them.
func ParseStatusNameNodes(data []byte) ([]NameNodeStatus, error) {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("status JSON: %w", err)
	}
	var found []NameNodeStatus
	var ok bool
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				if strings.EqualFold(k, "namenodes") {
					if list, good := nameNodeList(vv); good {
						found = append(found, list...)
						ok = true
						continue
					}
				}
				walk(vv)
			}
		case []any:
			for _, vv := range x {
				walk(vv)
			}
		}
	}
	walk(doc)
	if !ok {
		return nil, fmt.Errorf("status JSON has no \"namenodes\" list: %s", tail(string(data), 2000))
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found, nil
}

func nameNodeList(v any) ([]NameNodeStatus, bool) {
	var items []map[string]any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			items = append(items, m)
		}
	case map[string]any:
		for k, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			if _, has := m["id"]; !has {
				m["id"] = k[strings.LastIndex(k, "/")+1:]
			}
			items = append(items, m)
		}
	default:
		return nil, false
	}
	var out []NameNodeStatus
	for _, m := range items {
		nn := NameNodeStatus{
			Nameservice: str(m, "nameservice", "ns"),
			ID:          str(m, "id", "namenode", "namenode_id", "nnid"),
			Host:        str(m, "host"),
			State:       strings.ToLower(str(m, "ha_state", "state", "ha")),
			PID:         num(m, "pid"),
		}
		out = append(out, nn)
	}
	return out, true
}

func str(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}

func num(m map[string]any, keys ...string) int {
	for _, k := range keys {
		switch v := m[k].(type) {
		case float64:
			return int(v)
		case string:
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return 0
}

// Actives returns the NameNodes in state active.
func Actives(nns []NameNodeStatus) []NameNodeStatus {
	var out []NameNodeStatus
	for _, nn := range nns {
		if nn.State == "active" {
			out = append(out, nn)
		}
	}
	return out
}

// CheckOneActive returns an error unless exactly one NameNode is active and
// every other one is standby.
func CheckOneActive(nns []NameNodeStatus) error {
	if len(nns) == 0 {
		return errors.New("no NameNodes in status")
	}
	var active, other []string
	for _, nn := range nns {
		switch nn.State {
		case "active":
			active = append(active, nn.ID)
		case "standby":
		default:
			other = append(other, fmt.Sprintf("%s=%q", nn.ID, nn.State))
		}
	}
	if len(active) != 1 || len(other) > 0 {
		return fmt.Errorf("want exactly one active and the rest standby; active %v, neither %v", active, other)
	}
	return nil
}

// ProcsMatching returns the pids of processes whose command line contains
// substr (each e2e cluster lives under its own temporary directory, so its
// daemons' command lines name it).
func ProcsMatching(substr string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		if bytes.Contains(b, []byte(substr)) {
			out = append(out, pid)
		}
	}
	return out
}

// Eventually polls f every interval until it returns nil or timeout passes,
// returning the last error.
func Eventually(timeout, interval time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}

// ReadVersionKey reads key from a Hadoop storage VERSION file (key=value lines).
func ReadVersionKey(path, key string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return VersionKey(string(b), key)
}

// VersionKey extracts key from VERSION file content.
func VersionKey(content, key string) (string, error) {
	for _, l := range strings.Split(content, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && k == key {
			return v, nil
		}
	}
	return "", fmt.Errorf("no %s in VERSION", key)
}
