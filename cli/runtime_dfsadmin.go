package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/namenode"
)

func init() { registerRuntime(runtimeDFSAdminCommand) }

const dfsadminUsage = "Usage: hdfs dfsadmin --conf DIR [-ns <nameserviceId>] [-report] [-safemode <enter | leave | get | wait | forceExit>] [-refreshNodes]"

func runtimeDFSAdminCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "dfsadmin",
		Usage:     "DataNode administration with hdfs dfsadmin's spelling: -report, -safemode, -refreshNodes",
		UsageText: "hactl runtime dfsadmin --conf DIR [-ns NS] -report | -safemode enter|leave|get|wait|forceExit | -refreshNodes",
		Description: "-refreshNodes has every NameNode of the nameservice(s) re-read dfs.hosts and\n" +
			"dfs.hosts.exclude (signed POST /dfsadmin/refreshNodes) and prints one line per NameNode, as\n" +
			"Hadoop's does with HA. -report prints the active NameNode's figures (capacity, blocks,\n" +
			"under-replicated and missing) and every DataNode it knows, live, dead and decommissioning.\n" +
			"-safemode acts on every NameNode of the nameservice and prints \"Safe mode is ON|OFF in\n" +
			"<rpc-address>\" for each, as Hadoop's with HA: get; enter and leave (nothing is replicated or\n" +
			"deleted in safe mode); wait (until every NameNode is out of it); forceExit (leave even though\n" +
			"DataNodes hold blocks the namespace does not know beyond its last one, which deletes them:\n" +
			"only when the NameNode's metadata is known to be right).\n" +
			"Exit 0, or 255 (-1) on a failure, as hdfs dfsadmin.",
		SkipFlagParsing: true,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if code := runDFSAdmin(ctx, cmd.Args().Slice(), cmd.Root().Writer, cmd.Root().ErrWriter); code != 0 {
				return exitCode(code, nil)
			}
			return nil
		},
	}
}

// runDFSAdmin runs the command and returns its exit code.
func runDFSAdmin(ctx context.Context, args []string, out, errw io.Writer) int {
	var confDir, ns, command, safeAction string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--conf", "-conf", "--config":
			if i+1 >= len(args) {
				fmt.Fprintln(errw, "--conf needs a directory")
				return 255
			}
			i++
			confDir = args[i]
		case "-ns":
			if i+1 >= len(args) {
				fmt.Fprintln(errw, "-ns needs a nameservice")
				return 255
			}
			i++
			ns = args[i]
		case "-report", "-refreshNodes", "-safemode":
			if command != "" {
				fmt.Fprintf(errw, "%s: one command at a time\n%s\n", a, dfsadminUsage)
				return 255
			}
			command = a
			if a == "-safemode" {
				if i+1 >= len(args) {
					fmt.Fprintf(errw, "-safemode: an action is needed\n%s\n", dfsadminUsage)
					return 255
				}
				i++
				safeAction = args[i]
				if _, ok := hdfs.ParseSafeModeAction(safeAction); !ok && safeAction != "wait" {
					fmt.Fprintf(errw, "-safemode: Unknown action %s\n%s\n", safeAction, dfsadminUsage)
					return 255
				}
			}
		default:
			fmt.Fprintf(errw, "%s: Unknown command\n%s\n", a, dfsadminUsage)
			return 255
		}
	}
	if confDir == "" || command == "" {
		fmt.Fprintln(errw, dfsadminUsage)
		return 255
	}
	conf, err := hadoopconf.LoadDir(confDir)
	if err != nil {
		fmt.Fprintf(errw, "Illegal argument: %v\n", err)
		return 255
	}
	secret, err := auth.LoadSecret(conf.Get(auth.ConfKey, ""))
	if err != nil {
		fmt.Fprintf(errw, "Operation failed: %v\n", err)
		return 255
	}
	nss := conf.Strings("dfs.internal.nameservices")
	if len(nss) == 0 {
		nss = conf.Strings("dfs.nameservices")
	}
	if ns != "" {
		nss = []string{ns}
	}
	if len(nss) == 0 {
		fmt.Fprintln(errw, "Illegal argument: dfs.nameservices is not set")
		return 255
	}
	client := apply.SignedClient(secret, 30*time.Second)
	code := 0
	for _, n := range nss {
		var c int
		switch command {
		case "-refreshNodes":
			c = dfsadminRefresh(ctx, client, conf, n, out, errw)
		case "-safemode":
			c = dfsadminSafeMode(ctx, client, conf, n, safeAction, out, errw)
		default:
			if len(nss) > 1 {
				fmt.Fprintf(out, "Nameservice %s:\n", n)
			}
			c = dfsadminReport(ctx, client, conf, n, out, errw)
		}
		code = max(code, c)
	}
	return code
}

// dfsadminRefresh asks every NameNode of ns to re-read the host files.
func dfsadminRefresh(ctx context.Context, client *http.Client, conf *hadoopconf.Config, ns string, out, errw io.Writer) int {
	code := 0
	for _, id := range conf.Strings("dfs.ha.namenodes." + ns) {
		addr, _, err := namenode.NamenodeAddrs(conf, ns, id)
		if err != nil {
			fmt.Fprintf(errw, "Illegal argument: %v\n", err)
			return 255
		}
		if err := apply.RefreshNodes(ctx, client, addr); err != nil {
			fmt.Fprintf(errw, "Refresh nodes failed for %s: %v\n", addr, err)
			code = 255
			continue
		}
		fmt.Fprintf(out, "Refresh nodes successful for %s\n", addr)
	}
	return code
}

// safeModePoll is how often -safemode wait asks (Hadoop's: every 5 s).
var safeModePoll = time.Second

// dfsadminSafeMode runs a -safemode action on every NameNode of ns; wait
// polls get until each is out of safe mode.
func dfsadminSafeMode(ctx context.Context, client *http.Client, conf *hadoopconf.Config, ns, action string, out, errw io.Writer) int {
	code := 0
	for _, id := range conf.Strings("dfs.ha.namenodes." + ns) {
		addr, rpc, err := namenode.NamenodeAddrs(conf, ns, id)
		if err != nil {
			fmt.Fprintf(errw, "Illegal argument: %v\n", err)
			return 255
		}
		if rpc == "" {
			rpc = addr
		}
		ask := action
		if ask == "wait" {
			ask = "get"
		}
		on, err := apply.SafeMode(ctx, client, addr, ask)
		for err == nil && on && action == "wait" {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(safeModePoll):
				on, err = apply.SafeMode(ctx, client, addr, ask)
			}
		}
		if err != nil {
			fmt.Fprintf(errw, "safemode: %s: %v\n", rpc, err)
			code = 255
			continue
		}
		state := "OFF"
		if on {
			state = "ON"
		}
		fmt.Fprintf(out, "Safe mode is %s in %s\n", state, rpc)
	}
	return code
}

// dfsadminReport prints what the active NameNode of ns reports.
func dfsadminReport(ctx context.Context, client *http.Client, conf *hadoopconf.Config, ns string, out, errw io.Writer) int {
	c := client
	active := ""
	for _, id := range conf.Strings("dfs.ha.namenodes." + ns) {
		addr, _, err := namenode.NamenodeAddrs(conf, ns, id)
		if err != nil {
			fmt.Fprintf(errw, "Illegal argument: %v\n", err)
			return 255
		}
		if st, err := apply.GetHAStatus(ctx, c, addr); err == nil && st.State == "active" {
			active = addr
			break
		}
	}
	if active == "" {
		fmt.Fprintf(errw, "report: no NameNode of %s is active\n", ns)
		return 255
	}
	f, err := apply.BlockFiguresOf(ctx, c, active)
	if err != nil {
		fmt.Fprintf(errw, "report: %v\n", err)
		return 255
	}
	dns, err := apply.DataNodesOf(ctx, c, active)
	if err != nil {
		fmt.Fprintf(errw, "report: %v\n", err)
		return 255
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Configured Capacity: %d (%s)\n", f.CapacityTotal, bytesText(f.CapacityTotal))
	fmt.Fprintf(&b, "DFS Remaining: %d (%s)\n", f.CapacityRemaining, bytesText(f.CapacityRemaining))
	fmt.Fprintf(&b, "DFS Used: %d (%s)\n", f.CapacityUsed, bytesText(f.CapacityUsed))
	if f.CapacityTotal > 0 {
		fmt.Fprintf(&b, "DFS Used%%: %.2f%%\n", 100*float64(f.CapacityUsed)/float64(f.CapacityTotal))
	}
	fmt.Fprintf(&b, "Replicated Blocks:\n\tUnder replicated blocks: %d\n\tBlocks with corrupt replicas: %d\n\tMissing blocks: %d\n\tTotal blocks: %d\n",
		f.UnderReplicatedBlocks, f.CorruptBlocks, f.MissingBlocks, f.BlocksTotal)
	fmt.Fprintf(&b, "\n-------------------------------------------------\n")
	for _, sec := range []struct {
		title string
		keep  func(apply.DataNodeInfo) bool
	}{
		{"Live datanodes", func(d apply.DataNodeInfo) bool { return d.Live }},
		{"Dead datanodes", func(d apply.DataNodeInfo) bool { return !d.Live }},
	} {
		var sel []apply.DataNodeInfo
		for _, d := range dns {
			if sec.keep(d) {
				sel = append(sel, d)
			}
		}
		fmt.Fprintf(&b, "%s (%d):\n\n", sec.title, len(sel))
		for _, d := range sel {
			status := "Normal"
			switch {
			case d.IsDecommissioned():
				status = "Decommissioned"
			case d.AdminState == apply.AdminDecommissionIP:
				status = "Decommission in progress"
			}
			fmt.Fprintf(&b, "Name: %s\nDecommission Status : %s\nConfigured Capacity: %d (%s)\nDFS Used: %d (%s)\nDFS Remaining: %d (%s)\nNum of Blocks: %d\n\n",
				d.Name, status, d.Capacity, bytesText(d.Capacity), d.Used, bytesText(d.Used), d.Remaining, bytesText(d.Remaining), d.NumBlocks)
		}
	}
	_, err = io.WriteString(out, b.String())
	if err != nil {
		return 255
	}
	return 0
}
