package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/namenode"
)

func init() { registerRuntime(runtimeHAAdminCommand) }

// haadminUsage is hdfs haadmin's usage text, for the commands hactl serves.
var haadminUsage = []struct{ cmd, args string }{
	{"-transitionToActive", "[--forceactive] <serviceId>"},
	{"-transitionToStandby", "<serviceId>"},
	{"-transitionToObserver", "<serviceId>"},
	{"-failover", "[--forcefence] [--forceactive] <serviceId> <serviceId>"},
	{"-getServiceState", "<serviceId>"},
	{"-getAllServiceState", ""},
	{"-checkHealth", "<serviceId>"},
	{"-help", "<command>"},
}

const haadminUsageHead = "Usage: haadmin [-ns <nameserviceId>]"

func printHAAdminUsage(w io.Writer, only string) {
	if only != "" {
		for _, u := range haadminUsage {
			if u.cmd == only {
				fmt.Fprintf(w, "%s [%s %s]\n", haadminUsageHead, u.cmd, u.args)
			}
		}
		return
	}
	fmt.Fprintln(w, haadminUsageHead)
	for _, u := range haadminUsage {
		if u.args == "" {
			fmt.Fprintf(w, "    [%s]\n", u.cmd)
		} else {
			fmt.Fprintf(w, "    [%s %s]\n", u.cmd, u.args)
		}
	}
	fmt.Fprintln(w)
}

func runtimeHAAdminCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "haadmin",
		Usage:     "HA admin commands with hdfs haadmin's flags, output and exit codes",
		UsageText: "hactl runtime haadmin --conf DIR [-ns NS] -getServiceState NN | -getAllServiceState | -transitionToActive [--forceactive] [--forcemanual] NN | -transitionToStandby [--forcemanual] NN | -failover [--forcefence] [--forceactive] FROM TO | -checkHealth NN",
		Description: "Exit codes as hdfs haadmin: 0 success, 255 (-1) failure or refusal. With automatic failover\n" +
			"enabled, manual transitions are refused unless --forcemanual, which asks for confirmation\n" +
			"first as Hadoop's does. -failover goes through the target's ZKFC when automatic failover is\n" +
			"enabled, else fences the old active (gracefully, then dfs.ha.fencing.methods) as Hadoop's\n" +
			"FailoverController. -transitionToObserver is refused: hactl's NameNodes have no observer state.",
		// hdfs haadmin's single-dash long options are not urfave/cli flags: parse them here.
		SkipFlagParsing: true,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			in := cmd.Root().Reader
			if in == nil {
				in = os.Stdin
			}
			code := runHAAdmin(ctx, cmd.Args().Slice(), in, cmd.Root().Writer, cmd.Root().ErrWriter)
			if code != 0 {
				return exitCode(code, nil)
			}
			return nil
		},
	}
}

// haadminFailed is Hadoop's -1 exit code.
const haadminFailed = 255

// haadminArgs is an haadmin command line, parsed.
type haadminArgs struct {
	confDir, ns, command     string
	forceActive, forceManual bool
	forceFence               bool
	rest                     []string // the command's arguments
}

// runHAAdmin runs one haadmin command and returns the process exit code
// (Hadoop's -1 is 255).
func runHAAdmin(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	a, ok := parseHAAdminArgs(args, errw)
	if !ok {
		return haadminFailed
	}
	if a.command == "-help" {
		printHAAdminUsage(out, "")
		return 0
	}
	// Hadoop's HAAdmin asks before anything else when --forcemanual is given,
	// automatic failover or not.
	if a.forceManual && !confirm(in, errw, forceManualPrompt) {
		fmt.Fprintln(errw, "Aborted")
		return haadminFailed
	}
	h, ok := newHAAdmin(a, out, errw)
	if !ok {
		return haadminFailed
	}
	switch a.command {
	case "-getServiceState":
		return h.getServiceState(ctx)
	case "-getAllServiceState":
		return h.getAllServiceState(ctx)
	case "-checkHealth":
		return h.checkHealth(ctx)
	case "-transitionToStandby", "-transitionToActive":
		return h.transition(ctx)
	case "-transitionToObserver":
		t, ok := h.target()
		if !ok {
			return haadminFailed
		}
		fmt.Fprintf(h.errw, "The target %s doesn't support Observer state.\n", t)
		return haadminFailed
	case "-failover":
		return h.failover(ctx)
	}
	return haadminFailed
}

// parseHAAdminArgs reads hdfs haadmin's single-dash options and the command;
// on a bad command line it says why on errw and returns false.
func parseHAAdminArgs(args []string, errw io.Writer) (haadminArgs, bool) {
	var a haadminArgs
	for i := 0; i < len(args); i++ {
		arg := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(k, "-") {
				return v, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		name, _, _ := strings.Cut(arg, "=")
		switch name {
		case "--conf", "-conf", "--config":
			v, ok := val()
			if !ok {
				fmt.Fprintln(errw, "--conf needs a directory")
				return a, false
			}
			a.confDir = v
		case "-ns", "--ns":
			v, ok := val()
			if !ok {
				fmt.Fprintln(errw, "-ns needs a nameservice id")
				return a, false
			}
			a.ns = v
		case "--forceactive", "-forceactive":
			a.forceActive = true
		case "--forcemanual", "-forcemanual":
			a.forceManual = true
		case "--forcefence", "-forcefence":
			a.forceFence = true
		default:
			if a.command == "" && strings.HasPrefix(arg, "-") {
				a.command = arg
			} else if a.command == "" {
				fmt.Fprintf(errw, "Bad command '%s': expected command starting with '-'\n", arg)
				printHAAdminUsage(errw, "")
				return a, false
			} else {
				a.rest = append(a.rest, arg)
			}
		}
	}
	if a.command == "" {
		printHAAdminUsage(errw, "")
		return a, false
	}
	if !slices.ContainsFunc(haadminUsage, func(u struct{ cmd, args string }) bool { return u.cmd == a.command }) {
		fmt.Fprintf(errw, "%s: Unknown command\n", strings.TrimPrefix(a.command, "-"))
		printHAAdminUsage(errw, "")
		return a, false
	}
	return a, true
}

// newHAAdmin loads the configuration and the cluster secret the command
// needs; on failure it says why on errw and returns false.
func newHAAdmin(a haadminArgs, out, errw io.Writer) (*haAdmin, bool) {
	if a.confDir == "" {
		fmt.Fprintln(errw, "--conf DIR is required (the directory holding core-site.xml and hdfs-site.xml)")
		return nil, false
	}
	conf, err := hadoopconf.LoadDir(a.confDir)
	if err != nil {
		fmt.Fprintf(errw, "Illegal argument: %v\n", err)
		return nil, false
	}
	secret, err := auth.LoadSecret(conf.Get(auth.ConfKey, ""))
	if err != nil {
		fmt.Fprintf(errw, "Operation failed: %v\n", err)
		return nil, false
	}
	checkTimeout, _ := conf.Millis("ha.failover-controller.cli-check.rpc-timeout.ms", 20*time.Second)
	return &haAdmin{
		conf: conf, ns: a.ns, args: a, out: out, errw: errw, secret: secret,
		checks:      namenode.NewClient(secret, checkTimeout),
		transitions: namenode.NewClient(secret, 5*time.Minute),
	}, true
}

// target resolves the command's one argument, a NameNode ID; else it says
// why on errw and returns false.
func (h *haAdmin) target() (haTarget, bool) {
	name := strings.TrimPrefix(h.args.command, "-")
	if len(h.args.rest) != 1 {
		fmt.Fprintf(h.errw, "%s: incorrect number of arguments\n", name)
		printHAAdminUsage(h.errw, h.args.command)
		return haTarget{}, false
	}
	t, err := h.resolve(h.args.rest[0])
	if err != nil {
		fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
		return haTarget{}, false
	}
	return t, true
}

func (h *haAdmin) getServiceState(ctx context.Context) int {
	t, ok := h.target()
	if !ok {
		return haadminFailed
	}
	st, err := h.checks.GetServiceStatus(ctx, t.HTTPAddr)
	if err != nil {
		fmt.Fprintf(h.errw, "Operation failed: %v\n", err)
		return haadminFailed
	}
	fmt.Fprintln(h.out, st.State)
	return 0
}

func (h *haAdmin) getAllServiceState(ctx context.Context) int {
	ids, nsID, err := h.allTargets()
	if err != nil || len(ids) == 0 {
		fmt.Fprintln(h.errw, "Failed to get service IDs")
		return haadminFailed
	}
	for _, id := range ids {
		httpAddr, rpcAddr, err := namenode.NamenodeAddrs(h.conf, nsID, id)
		if err != nil {
			fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
			return haadminFailed
		}
		addr := rpcAddr
		if addr == "" {
			addr = httpAddr
		}
		st, err := h.checks.GetServiceStatus(ctx, httpAddr)
		state := st.State
		if err != nil {
			state = "Failed to connect: " + err.Error()
		}
		fmt.Fprintf(h.out, "%-50s %-10s\n", addr, state)
	}
	return 0
}

func (h *haAdmin) checkHealth(ctx context.Context) int {
	t, ok := h.target()
	if !ok {
		return haadminFailed
	}
	if err := h.checks.MonitorHealth(ctx, t.HTTPAddr); err != nil {
		var re *namenode.RemoteError
		if errors.As(err, &re) && re.Status == 503 {
			fmt.Fprintf(h.errw, "Health check failed: %s\n", re.Message)
		} else {
			fmt.Fprintf(h.errw, "Operation failed: %v\n", err)
		}
		return haadminFailed
	}
	return 0
}

// transition runs -transitionToActive or -transitionToStandby.
func (h *haAdmin) transition(ctx context.Context) int {
	t, ok := h.target()
	if !ok {
		return haadminFailed
	}
	if !h.manualOK(t, h.args.forceManual) {
		return haadminFailed
	}
	toActive := h.args.command == "-transitionToActive"
	if toActive && !h.args.forceActive && !h.noOtherActive(ctx, t) {
		return haadminFailed
	}
	var err error
	if toActive {
		err = h.transitions.TransitionToActive(ctx, t.HTTPAddr)
	} else {
		err = h.transitions.TransitionToStandby(ctx, t.HTTPAddr)
	}
	if err != nil {
		fmt.Fprintf(h.errw, "Operation failed: %v\n", err)
		return haadminFailed
	}
	return 0
}

// noOtherActive checks, as Hadoop's haadmin does before transitionToActive
// without --forceactive, that no other NameNode of the nameservice is
// active or unreachable; else it says which on errw and returns false.
func (h *haAdmin) noOtherActive(ctx context.Context, t haTarget) bool {
	ids, nsID, _ := h.allTargets()
	for _, other := range ids {
		if other == t.ID {
			continue
		}
		ot, err := h.resolveIn(nsID, other)
		if err != nil {
			fmt.Fprintf(h.errw, "Unexpected error occurred  %v\n", err)
			printHAAdminUsage(h.errw, h.args.command)
			return false
		}
		st, err := h.checks.GetServiceStatus(ctx, ot.HTTPAddr)
		if err != nil {
			fmt.Fprintf(h.errw, "Unexpected error occurred  %v\n", err)
			printHAAdminUsage(h.errw, h.args.command)
			return false
		}
		if st.State == "active" {
			fmt.Fprintf(h.errw, "transitionToActive: Node %s is already active\n", other)
			printHAAdminUsage(h.errw, h.args.command)
			return false
		}
	}
	return true
}

type haTarget struct {
	NS, ID, HTTPAddr, RPCAddr string
}

// String names the target as Hadoop's NNHAServiceTarget does.
func (t haTarget) String() string {
	if t.RPCAddr != "" {
		return "NameNode at " + t.RPCAddr
	}
	return "NameNode at " + t.HTTPAddr
}

// forceManualPrompt is Hadoop's HAAdmin confirmation for --forcemanual.
const forceManualPrompt = "You have specified the --forcemanual flag. This flag is dangerous, as it can induce a " +
	"split-brain scenario that WILL CORRUPT your HDFS namespace, possibly irrecoverably.\n\n" +
	"It is recommended not to use this flag, but instead to shut down the cluster and disable " +
	"automatic failover if you prefer to manually manage your HA state.\n\n" +
	"You may abort safely by answering 'n' or hitting ^C now.\n\n" +
	"Are you sure you want to continue?"

type haAdmin struct {
	conf                *hadoopconf.Config
	ns                  string
	args                haadminArgs
	out, errw           io.Writer
	checks, transitions *namenode.Client
	secret              []byte
}

func (h *haAdmin) nameservice(id string) (string, error) {
	if h.ns != "" {
		return h.ns, nil
	}
	if id != "" {
		return namenode.FindNameservice(h.conf, id)
	}
	nss := h.conf.Strings("dfs.nameservices")
	if len(nss) != 1 {
		return "", fmt.Errorf("unable to determine the nameservice id: give -ns (dfs.nameservices is %q)", strings.Join(nss, ","))
	}
	return nss[0], nil
}

func (h *haAdmin) resolve(id string) (haTarget, error) {
	ns, err := h.nameservice(id)
	if err != nil {
		return haTarget{}, err
	}
	return h.resolveIn(ns, id)
}

func (h *haAdmin) resolveIn(ns, id string) (haTarget, error) {
	httpAddr, rpcAddr, err := namenode.NamenodeAddrs(h.conf, ns, id)
	if err != nil {
		return haTarget{}, err
	}
	return haTarget{NS: ns, ID: id, HTTPAddr: httpAddr, RPCAddr: rpcAddr}, nil
}

func (h *haAdmin) allTargets() ([]string, string, error) {
	ns, err := h.nameservice("")
	if err != nil {
		return nil, "", err
	}
	return h.conf.Strings("dfs.ha.namenodes." + ns), ns, nil
}

// manualOK refuses manual transitions when automatic failover is on, with
// Hadoop's message, unless --forcemanual.
func (h *haAdmin) manualOK(t haTarget, force bool) bool {
	auto, err := h.conf.AutomaticFailover(t.NS)
	if err != nil {
		fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
		return false
	}
	if !auto {
		return true
	}
	addr := t.RPCAddr
	if addr == "" {
		addr = t.HTTPAddr
	}
	if !force {
		fmt.Fprintf(h.errw, "Automatic failover is enabled for NameNode at %s\n"+
			"Refusing to manually manage HA state, since it may cause\n"+
			"a split-brain scenario or other incorrect state.\n"+
			"If you are very sure you know what you are doing, please \n"+
			"specify the --forcemanual flag.\n", addr)
		return false
	}
	fmt.Fprintf(h.errw, "WARN: Proceeding with manual HA state management even though\nautomatic failover is enabled for NameNode at %s\n", addr)
	return true
}
