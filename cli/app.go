// Package cli holds hactl's command-line surface: thin urfave/cli commands that
// parse flags, call the schema, planner, targets and runtime packages, and print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	ucli "github.com/urfave/cli/v3"
)

// Version is set at build time with -ldflags "-X github.com/hactl/hactl/cli.Version=…".
var Version = "0.1.0-dev"

var (
	registryMu      sync.Mutex
	topCommands     []func() *ucli.Command
	runtimeCommands []func() *ucli.Command
)

// register adds a top-level command. Each command lives in its own file and
// registers itself from init, so commands can be added without touching this file.
func register(f func() *ucli.Command) {
	registryMu.Lock()
	defer registryMu.Unlock()
	topCommands = append(topCommands, f)
}

// registerRuntime adds a subcommand of `hactl runtime` (the bundled daemons and
// their one-shot commands).
func registerRuntime(f func() *ucli.Command) {
	registryMu.Lock()
	defer registryMu.Unlock()
	runtimeCommands = append(runtimeCommands, f)
}

// ExitError carries a specific process exit code (validate 1, fmt --check 3, …).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exitCode returns an error that makes Run exit with code, printing err (if any).
func exitCode(code int, err error) error { return &ExitError{Code: code, Err: err} }

// usageError is a command-line usage mistake (exit 2).
func usageError(format string, args ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

// NewApp builds the root command.
func NewApp(stdout, stderr io.Writer) *ucli.Command {
	registryMu.Lock()
	defer registryMu.Unlock()
	var cmds []*ucli.Command
	for _, f := range topCommands {
		cmds = append(cmds, f())
	}
	if len(runtimeCommands) > 0 {
		var subs []*ucli.Command
		for _, f := range runtimeCommands {
			subs = append(subs, f())
		}
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
		cmds = append(cmds, &ucli.Command{
			Name:     "runtime",
			Usage:    "run one of hactl's bundled HDFS HA daemons or one-shot commands (used on the hosts)",
			Commands: subs,
		})
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	// A --var value may itself hold commas (a list literal): never split
	// repeatable flags on ",", on any command.
	var noSplit func(cs []*ucli.Command)
	noSplit = func(cs []*ucli.Command) {
		for _, c := range cs {
			c.DisableSliceFlagSeparator = true
			noSplit(c.Commands)
		}
	}
	noSplit(cmds)
	return &ucli.Command{
		DisableSliceFlagSeparator: true,
		Name:                      "hactl",
		Usage:                     "cluster-as-code for HDFS NameNode high availability",
		Version:                   Version,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		EnableShellCompletion:     true,
		Commands:                  cmds,
		ExitErrHandler:            func(context.Context, *ucli.Command, error) {},
		Description: "hactl describes HDFS HA clusters (nameservices, NameNodes, the JournalNode quorum,\n" +
			"fencing, ZooKeeper) in HCL, lints them, renders Hadoop's XML from them, and converges hosts.",
	}
}

// Run runs hactl with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := NewApp(stdout, stderr)
	err := app.Run(ctx, args)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", ee.Err)
		}
		return ee.Code
	}
	var ec ucli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(stderr, "Error: %v\n", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	// urfave/cli reports flag parsing problems as plain errors: treat as usage.
	return 1
}
