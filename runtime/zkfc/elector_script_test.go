package zkfc

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/elector/*.txt")

// The elector's scenarios are scripts in testdata/elector, one per file
// (as the planner's testdata/plans): lines starting with # are prose; each
// directive is one line, then "----", then the expected output up to a
// blank line. go test -rewrite writes the output the elector gives.
//
// Directives (MS is the event's time in milliseconds from the start):
//
//	new-elector [session-timeout=DUR] [retry=DUR]   a fresh elector (3s, 1s)
//	tick MS | disconnected MS | expired MS | lock-changed MS
//	connected MS [new-session]
//	health MS HEALTHY|INITIALIZING|SERVICE_NOT_RESPONDING|SERVICE_UNHEALTHY
//	cede MS [until=MS]
//	lock-created MS [mine] [exists] [err]
//	lock-watched MS exists|gone|err
//	breadcrumb-read MS none|self|moved-self|other|garbage|err
//	fenced MS [err] | breadcrumb-written MS [err] | lock-deleted MS [err] | breadcrumb-deleted MS [err]
//	transitioned MS active|standby [err]
//	state                                           role, failures, connected, in election
//	status                                          the elector's last status line
//
// An event's output is the actions it asks for, Log left out, comma-joined
// (FenceOldActive as Fence(<NameNode ID>)).

const electorScripts = "testdata/elector"

// scriptCase is one directive and its expected output.
type scriptCase struct {
	line int
	cmd  string
	want string
}

func parseScript(t *testing.T, data string) (prose []string, cases []scriptCase) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(data, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			prose = append(prose, l)
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("line %d: %q is not followed by ----", i+1, l)
		}
		c := scriptCase{line: i + 1, cmd: l}
		i += 2
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.want = strings.Join(out, "\n")
		cases = append(cases, c)
		prose = append(prose, "\x00") // where the case goes when rewriting
	}
	return prose, cases
}

func TestElectorScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(electorScripts, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in %s (%v)", electorScripts, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			prose, cases := parseScript(t, string(data))
			var e *Elector
			var b strings.Builder
			n := 0
			for _, p := range prose {
				if p != "\x00" {
					b.WriteString(p + "\n")
					continue
				}
				c := &cases[n]
				n++
				got, err := runDirective(&e, c.cmd)
				if err != nil {
					t.Fatalf("%s:%d: %s: %v", f, c.line, c.cmd, err)
				}
				fmt.Fprintf(&b, "%s\n----\n", c.cmd)
				if got != "" {
					b.WriteString(got + "\n")
				}
				if !*rewrite && got != c.want {
					t.Errorf("%s:%d: %s:\n got: %q\nwant: %q", f, c.line, c.cmd, got, c.want)
				}
				// Each case ends with a blank line (or the end of the file).
				if n < len(cases) {
					b.WriteString("\n")
				}
			}
			if *rewrite {
				if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

var healthStates = map[string]HealthState{}

func init() {
	for _, s := range []HealthState{Initializing, ServiceNotResponding, ServiceHealthy, ServiceUnhealthy} {
		healthStates[s.String()] = s
	}
}

// runDirective applies one directive to *e (new-elector replaces it) and
// returns its output.
func runDirective(e **Elector, cmd string) (string, error) {
	f := strings.Fields(cmd)
	name, args := f[0], f[1:]
	flags := map[string]string{}
	for _, a := range args[min(1, len(args)):] {
		k, v, _ := strings.Cut(a, "=")
		flags[k] = v
	}
	switch name {
	case "new-elector":
		cfg := testElectorConfig()
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			d, err := time.ParseDuration(v)
			if err != nil {
				return "", err
			}
			switch k {
			case "session-timeout":
				cfg.SessionTimeout = d
			case "retry":
				cfg.RetryAfterFailure = d
			default:
				return "", fmt.Errorf("unknown option %q", k)
			}
		}
		*e = NewElector(cfg)
		return "", nil
	case "state":
		return fmt.Sprintf("role=%s failures=%d connected=%t in-election=%t",
			(*e).Role(), (*e).Failures(), (*e).Connected(), (*e).InElection()), nil
	case "status":
		return (*e).Status(), nil
	}
	if *e == nil {
		return "", fmt.Errorf("no elector: start with new-elector")
	}
	if len(args) == 0 {
		return "", fmt.Errorf("%s needs a time in ms", name)
	}
	ms, err := strconv.Atoi(args[0])
	if err != nil {
		return "", fmt.Errorf("time %q: %w", args[0], err)
	}
	now := at(ms)
	_, failed := flags["err"]
	var errOr error
	if failed {
		errOr = boom
	}
	has := func(k string) bool { _, ok := flags[k]; return ok }
	// A misspelt option must fail the script, not be read as absent.
	allowed := map[string]string{
		"connected": "new-session", "cede": "until", "lock-created": "mine exists err", "lock-watched": "exists gone err",
		"fenced": "err", "breadcrumb-written": "err", "lock-deleted": "err", "breadcrumb-deleted": "err",
		"transitioned": "active standby err",
	}
	if name != "health" && name != "breadcrumb-read" {
		for k := range flags {
			if !slices.Contains(strings.Fields(allowed[name]), k) {
				return "", fmt.Errorf("%s: unknown option %q", name, k)
			}
		}
	}
	var ev any
	switch name {
	case "tick":
		ev = Tick{Now: now}
	case "connected":
		ev = Connected{Now: now, NewSession: has("new-session")}
	case "disconnected":
		ev = Disconnected{Now: now}
	case "expired":
		ev = Expired{Now: now}
	case "lock-changed":
		ev = LockChanged{Now: now}
	case "health":
		s, ok := healthStates[strings.Join(args[1:], "")]
		if !ok {
			return "", fmt.Errorf("unknown health %q", strings.Join(args[1:], " "))
		}
		ev = HealthChanged{Now: now, State: s}
	case "cede":
		c := Cede{Now: now}
		if v, ok := flags["until"]; ok {
			u, err := strconv.Atoi(v)
			if err != nil {
				return "", err
			}
			c.Until = at(u)
		}
		ev = c
	case "lock-created":
		ev = LockCreated{Now: now, Mine: has("mine"), Exists: has("exists"), Err: errOr}
	case "lock-watched":
		ev = LockWatched{Now: now, Exists: has("exists"), Err: errOr}
	case "breadcrumb-read":
		br := BreadcrumbRead{Now: now}
		switch strings.Join(args[1:], " ") {
		case "none":
		case "self":
			br.Data = self.Encode()
		case "moved-self": // the same NameNode at a new address: still itself
			moved := self
			moved.Host = "10.0.0.9"
			br.Data = moved.Encode()
		case "other":
			br.Data = other.Encode()
		case "garbage":
			br.Data = []byte{0xff, 0xff}
		case "err":
			br.Err = boom
		default:
			return "", fmt.Errorf("breadcrumb-read: unknown content %q", strings.Join(args[1:], " "))
		}
		ev = br
	case "fenced":
		ev = Fenced{Now: now, Err: errOr}
	case "breadcrumb-written":
		ev = BreadcrumbWritten{Now: now, Err: errOr}
	case "lock-deleted":
		ev = LockDeleted{Now: now, Err: errOr}
	case "breadcrumb-deleted":
		ev = BreadcrumbDeleted{Now: now, Err: errOr}
	case "transitioned":
		tr := Transitioned{Now: now, Err: errOr}
		switch {
		case has("active"):
			tr.To = Active
		case has("standby"):
			tr.To = Standby
		default:
			return "", fmt.Errorf("transitioned: to active or standby?")
		}
		ev = tr
	default:
		return "", fmt.Errorf("unknown directive %q", name)
	}
	return names((*e).Step(ev)), nil
}
