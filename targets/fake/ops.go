package fake

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/hactl/hactl/targets"
)

// Op is one operation the fake recorded: what hactl asked the host to do,
// decoded here once from the command it sent, so tests answer and assert on
// operations instead of matching shell text.
type Op interface{ isOp() }

// Runtime is a run of the hactl binary's `runtime` commands:
// `<binary> runtime supervise start --name X … -- argv`.
type Runtime struct {
	Binary  string
	Command []string            // the subcommand words: ["supervise", "start"], ["format"]
	Flags   map[string][]string // each flag's values, in order ("" for a flag without one)
	Argv    []string            // what follows "--" (the daemon supervise start runs)
}

// Is says whether the subcommand is words: r.Is("supervise", "start").
func (r Runtime) Is(words ...string) bool { return slices.Equal(r.Command, words) }

// Flag is the last value of flag name ("--id", "-ns"), "" when absent.
func (r Runtime) Flag(name string) string {
	if v := r.Flags[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// Has says whether flag name was given.
func (r Runtime) Has(name string) bool { _, ok := r.Flags[name]; return ok }

// Env is the value supervise start passes for key with --env KEY=VALUE.
func (r Runtime) Env(key string) string {
	for _, kv := range r.Flags["--env"] {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// Exec is any other command given as argv (tail, …).
type Exec struct{ Args []string }

// FileTest asks whether a file exists and is not empty (`[ -s PATH ]`).
type FileTest struct{ Path string }

// FileRead reads a file when it exists and is not empty.
type FileRead struct{ Path string }

// LockAcquire creates the apply lock file atomically (noclobber).
type LockAcquire struct{ Path string }

// AptGet is one apt-get of an install: its -o options and its command line
// after them ("update -qq", "install -y … zookeeper").
type AptGet struct {
	Options []string
	Command string
}

// InstallPackages installs Debian packages where they are missing.
type InstallPackages struct {
	Packages []string
	AptGets  []AptGet
}

// Probe is the preflight probe script (targets.ProbeAll): the storage dirs
// it reads and whether it also runs the installed runtime's probe.
type Probe struct {
	RuntimeProbe bool
	Address      string   // --address passed to the runtime's probe
	NameDirs     []string // NameNode storage dirs read
	EditsRoots   []string // JournalNode edits dirs whose journals are read
}

// RemoveFiles removes files (globs allowed), then each of Dirs that is left
// empty.
type RemoveFiles struct {
	Files []string
	Dirs  []string
}

// RemoveTree deletes directories with everything in them (`rm -rf`).
type RemoveTree struct{ Dirs []string }

// Shell is any other script.
type Shell struct{ Script string }

// Upload is a file written with Host.Upload.
type Upload struct {
	Path string
	Data []byte
}

func (Runtime) isOp()         {}
func (Exec) isOp()            {}
func (FileTest) isOp()        {}
func (FileRead) isOp()        {}
func (LockAcquire) isOp()     {}
func (InstallPackages) isOp() {}
func (Probe) isOp()           {}
func (RemoveFiles) isOp()     {}
func (RemoveTree) isOp()      {}
func (Shell) isOp()           {}
func (Upload) isOp()          {}

// The shell forms hactl sends, each decoded into its operation. A quoted
// path is one targets.ShellQuote wrote.
var (
	word        = `('(?:[^']|'"'"')*'|[^\s;]+)`
	fileTestRe  = regexp.MustCompile(`^if \[ -s ` + word + ` \]; then echo yes; else echo no; fi$`)
	fileReadRe  = regexp.MustCompile(`^if \[ -s ` + word + ` \]; then cat .+; fi$`)
	lockRe      = regexp.MustCompile(`\( set -C; printf '%s\\n' ` + word + ` > ` + word + ` \)`)
	aptGetRe    = regexp.MustCompile(`apt-get((?: -o \S+)*) ([^;|&}]*)`)
	probeNameRe = regexp.MustCompile(`(?m)(?:^|; )d nn\d+ ` + word + `;`)
	probeRootRe = regexp.MustCompile(`(?m)^for j in ` + word + `/\*; do`)
	probeAddrRe = regexp.MustCompile(` runtime probe .*--address ` + word)
	rmdirRe     = regexp.MustCompile(`^if \[ -f ` + word + `/\.hactl-created \] && .*; then rm -f -- .* && rmdir -- .*; fi$`)
)

// unquote undoes targets.ShellQuote.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], `'"'"'`, "'")
	}
	return s
}

// Decode is the operation cmd asks for.
func Decode(cmd targets.Command) Op {
	if len(cmd.Args) > 0 {
		return decodeArgs(cmd.Args)
	}
	s := cmd.Shell
	switch {
	case fileTestRe.MatchString(s):
		return FileTest{Path: unquote(fileTestRe.FindStringSubmatch(s)[1])}
	case fileReadRe.MatchString(s):
		return FileRead{Path: unquote(fileReadRe.FindStringSubmatch(s)[1])}
	case lockRe.MatchString(s):
		return LockAcquire{Path: unquote(lockRe.FindStringSubmatch(s)[2])}
	case strings.Contains(s, "hactl-preflight"):
		p := Probe{RuntimeProbe: strings.Contains(s, " runtime probe ")}
		if m := probeAddrRe.FindStringSubmatch(s); m != nil {
			p.Address = unquote(m[1])
		}
		for _, m := range probeNameRe.FindAllStringSubmatch(s, -1) {
			p.NameDirs = append(p.NameDirs, unquote(m[1]))
		}
		for _, m := range probeRootRe.FindAllStringSubmatch(s, -1) {
			p.EditsRoots = append(p.EditsRoots, unquote(m[1]))
		}
		return p
	case strings.HasPrefix(s, "rm -f -- "):
		return decodeRemove(s)
	case strings.Contains(s, "apt-get"):
		var in InstallPackages
		for _, m := range aptGetRe.FindAllStringSubmatch(s, -1) {
			a := AptGet{Options: strings.Fields(strings.ReplaceAll(m[1], "-o ", "")), Command: strings.TrimSpace(m[2])}
			in.AptGets = append(in.AptGets, a)
			if f := strings.Fields(a.Command); len(f) > 0 && f[0] == "install" {
				for _, w := range f[1:] {
					if !strings.HasPrefix(w, "-") {
						in.Packages = append(in.Packages, w)
					}
				}
			}
		}
		return in
	}
	return Shell{Script: s}
}

// decodeRemove reads the removal script apply writes: one "rm -f -- FILES"
// line, then per dir a line that removes it if hactl created it (its
// .hactl-created marker) and it is left empty; anything else in it leaves it
// a plain script.
func decodeRemove(s string) Op {
	var r RemoveFiles
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		switch {
		case i == 0:
			for _, w := range shellWords(strings.TrimPrefix(l, "rm -f -- ")) {
				r.Files = append(r.Files, w)
			}
		case rmdirRe.MatchString(l):
			r.Dirs = append(r.Dirs, unquote(rmdirRe.FindStringSubmatch(l)[1]))
		default:
			return Shell{Script: s}
		}
	}
	return r
}

// shellWords splits a line of words as targets.ShellQuote and globs write
// them ('a b'/'.c'*), removing the quotes.
func shellWords(line string) []string {
	var out []string
	var w strings.Builder
	inWord, single, double := false, false, false
	for _, c := range line {
		switch {
		case c == '\'' && !double:
			single, inWord = !single, true
		case c == '"' && !single:
			double, inWord = !double, true
		case c == ' ' && !single && !double:
			if inWord {
				out = append(out, w.String())
				w.Reset()
			}
			inWord = false
		default:
			w.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, w.String())
	}
	return out
}

func decodeArgs(args []string) Op {
	if len(args) > 2 && args[0] == "rm" && args[1] == "-rf" {
		return RemoveTree{Dirs: slices.Clone(args[2:])}
	}
	i := slices.Index(args, "runtime")
	if i < 0 || path.Base(args[0]) != "hactl" {
		return Exec{Args: slices.Clone(args)}
	}
	r := Runtime{Binary: args[0], Flags: map[string][]string{}}
	rest := args[i+1:]
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		r.Command = append(r.Command, rest[0])
		rest = rest[1:]
	}
	for len(rest) > 0 {
		a := rest[0]
		rest = rest[1:]
		if a == "--" {
			r.Argv = slices.Clone(rest)
			break
		}
		v := ""
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			v, rest = rest[0], rest[1:]
		}
		r.Flags[a] = append(r.Flags[a], v)
	}
	return r
}

// Match selects the operations a rule answers.
type Match func(Op) bool

// Any matches every operation.
func Any(Op) bool { return true }

// IsRuntime matches the runtime command of words ("supervise", "status").
func IsRuntime(words ...string) Match {
	return func(op Op) bool { r, ok := op.(Runtime); return ok && r.Is(words...) }
}

// IsExec matches an argv command whose program is name.
func IsExec(name string) Match {
	return func(op Op) bool { e, ok := op.(Exec); return ok && path.Base(e.Args[0]) == name }
}

// IsProbe matches the preflight probe script.
func IsProbe(op Op) bool { _, ok := op.(Probe); return ok }

// IsInstall matches a package install.
func IsInstall(op Op) bool { _, ok := op.(InstallPackages); return ok }
