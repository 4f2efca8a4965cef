package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
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
		UsageText: "hactl runtime haadmin --conf DIR [-ns NS] -getServiceState NN | -getAllServiceState | -transitionToActive [--forceactive] [--forcemanual] NN | -transitionToStandby [--forcemanual] NN | -checkHealth NN",
		Description: "Exit codes as hdfs haadmin: 0 success, 255 (-1) failure or refusal. With automatic failover\n" +
			"enabled, manual transitions are refused unless --forcemanual.",
		// hdfs haadmin's single-dash long options are not urfave/cli flags: parse them here.
		SkipFlagParsing: true,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			code := runHAAdmin(ctx, cmd.Args().Slice(), cmd.Root().Writer, cmd.Root().ErrWriter)
			if code != 0 {
				return exitCode(code, nil)
			}
			return nil
		},
	}
}

// runHAAdmin runs one haadmin command and returns the process exit code
// (Hadoop's -1 is 255).
func runHAAdmin(ctx context.Context, args []string, out, errw io.Writer) int {
	const failed = 255
	var confDir, ns, command string
	var forceActive, forceManual bool
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "-") {
				return v, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "--conf", "-conf", "--config":
			v, ok := val()
			if !ok {
				fmt.Fprintln(errw, "--conf needs a directory")
				return failed
			}
			confDir = v
		case "-ns", "--ns":
			v, ok := val()
			if !ok {
				fmt.Fprintln(errw, "-ns needs a nameservice id")
				return failed
			}
			ns = v
		case "--forceactive", "-forceactive":
			forceActive = true
		case "--forcemanual", "-forcemanual":
			forceManual = true
		default:
			if command == "" && strings.HasPrefix(a, "-") {
				command = a
			} else if command == "" {
				fmt.Fprintf(errw, "Bad command '%s': expected command starting with '-'\n", a)
				printHAAdminUsage(errw, "")
				return failed
			} else {
				rest = append(rest, a)
			}
		}
	}
	if command == "" {
		printHAAdminUsage(errw, "")
		return failed
	}
	known := false
	for _, u := range haadminUsage {
		known = known || u.cmd == command
	}
	if !known {
		fmt.Fprintf(errw, "%s: Unknown command\n", strings.TrimPrefix(command, "-"))
		printHAAdminUsage(errw, "")
		return failed
	}
	if command == "-help" {
		printHAAdminUsage(out, "")
		return 0
	}
	if confDir == "" {
		fmt.Fprintln(errw, "--conf DIR is required (the directory holding core-site.xml and hdfs-site.xml)")
		return failed
	}
	conf, err := hadoopconf.LoadDir(confDir)
	if err != nil {
		fmt.Fprintf(errw, "Illegal argument: %v\n", err)
		return failed
	}
	secret, err := auth.LoadSecret(conf.Get(auth.ConfKey, ""))
	if err != nil {
		fmt.Fprintf(errw, "Operation failed: %v\n", err)
		return failed
	}
	checkTimeout, _ := conf.Millis("ha.failover-controller.cli-check.rpc-timeout.ms", 20*time.Second)
	checks := namenode.NewClient(secret, checkTimeout)
	transitions := namenode.NewClient(secret, 5*time.Minute)
	h := &haAdmin{conf: conf, ns: ns, out: out, errw: errw}

	needOne := func(name string) (string, bool) {
		if len(rest) != 1 {
			fmt.Fprintf(errw, "%s: incorrect number of arguments\n", name)
			printHAAdminUsage(errw, command)
			return "", false
		}
		return rest[0], true
	}
	switch command {
	case "-getServiceState":
		id, ok := needOne("getServiceState")
		if !ok {
			return failed
		}
		t, err := h.resolve(id)
		if err != nil {
			fmt.Fprintf(errw, "Illegal argument: %v\n", err)
			return failed
		}
		st, err := checks.GetServiceStatus(ctx, t.HTTPAddr)
		if err != nil {
			fmt.Fprintf(errw, "Operation failed: %v\n", err)
			return failed
		}
		fmt.Fprintln(out, st.State)
		return 0
	case "-getAllServiceState":
		ids, nsID, err := h.allTargets()
		if err != nil || len(ids) == 0 {
			fmt.Fprintln(errw, "Failed to get service IDs")
			return failed
		}
		for _, id := range ids {
			httpAddr, rpcAddr, err := namenode.NamenodeAddrs(conf, nsID, id)
			if err != nil {
				fmt.Fprintf(errw, "Illegal argument: %v\n", err)
				return failed
			}
			addr := rpcAddr
			if addr == "" {
				addr = httpAddr
			}
			st, err := checks.GetServiceStatus(ctx, httpAddr)
			state := st.State
			if err != nil {
				state = "Failed to connect: " + err.Error()
			}
			fmt.Fprintf(out, "%-50s %-10s\n", addr, state)
		}
		return 0
	case "-checkHealth":
		id, ok := needOne("checkHealth")
		if !ok {
			return failed
		}
		t, err := h.resolve(id)
		if err != nil {
			fmt.Fprintf(errw, "Illegal argument: %v\n", err)
			return failed
		}
		if err := checks.MonitorHealth(ctx, t.HTTPAddr); err != nil {
			var re *namenode.RemoteError
			if errors.As(err, &re) && re.Status == 503 {
				fmt.Fprintf(errw, "Health check failed: %s\n", re.Message)
			} else {
				fmt.Fprintf(errw, "Operation failed: %v\n", err)
			}
			return failed
		}
		return 0
	case "-transitionToStandby", "-transitionToActive":
		name := strings.TrimPrefix(command, "-")
		id, ok := needOne(name)
		if !ok {
			return failed
		}
		t, err := h.resolve(id)
		if err != nil {
			fmt.Fprintf(errw, "Illegal argument: %v\n", err)
			return failed
		}
		if !h.manualOK(t, forceManual) {
			return failed
		}
		if command == "-transitionToActive" && !forceActive {
			ids, nsID, _ := h.allTargets()
			for _, other := range ids {
				if other == t.ID {
					continue
				}
				ot, err := h.resolveIn(nsID, other)
				if err != nil {
					fmt.Fprintf(errw, "Unexpected error occurred  %v\n", err)
					printHAAdminUsage(errw, command)
					return failed
				}
				st, err := checks.GetServiceStatus(ctx, ot.HTTPAddr)
				if err != nil {
					fmt.Fprintf(errw, "Unexpected error occurred  %v\n", err)
					printHAAdminUsage(errw, command)
					return failed
				}
				if st.State == "active" {
					fmt.Fprintf(errw, "transitionToActive: Node %s is already active\n", other)
					printHAAdminUsage(errw, command)
					return failed
				}
			}
		}
		if command == "-transitionToActive" {
			err = transitions.TransitionToActive(ctx, t.HTTPAddr)
		} else {
			err = transitions.TransitionToStandby(ctx, t.HTTPAddr)
		}
		if err != nil {
			fmt.Fprintf(errw, "Operation failed: %v\n", err)
			return failed
		}
		return 0
	}
	return failed
}

type haTarget struct {
	NS, ID, HTTPAddr, RPCAddr string
}

type haAdmin struct {
	conf      *hadoopconf.Config
	ns        string
	out, errw io.Writer
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
	auto := h.conf.Get("dfs.ha.automatic-failover.enabled."+t.NS, "")
	if auto == "" {
		auto = h.conf.Get("dfs.ha.automatic-failover.enabled", "false")
	}
	if !strings.EqualFold(auto, "true") {
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
