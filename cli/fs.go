package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	osuser "os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/webhdfs"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/targets"
)

func init() { register(fsCommand) }

func fsFlags(extra ...ucli.Flag) []ucli.Flag {
	return append([]ucli.Flag{
		&ucli.StringFlag{Name: "config", Usage: "Hadoop conf dir (core-site.xml, hdfs-site.xml) or an HCL cluster dir/file; default $HADOOP_CONF_DIR, else /etc/hactl"},
		&ucli.StringFlag{Name: "user", Usage: "user.name sent to the NameNode (default $HADOOP_USER_NAME, else the OS user)"},
		&ucli.StringSliceFlag{Name: "var", Usage: "set an HCL input variable (name=value) when --config is HCL"},
	}, extra...)
}

func fsCommand() *ucli.Command {
	sub := func(name, usage, args string, n int, flags []ucli.Flag, run func(ctx context.Context, c *ucli.Command, fc *fsCtx) error) *ucli.Command {
		return &ucli.Command{
			Name: name, Usage: usage, UsageText: "hactl fs " + name + " " + args + " [--config PATH]",
			Flags: fsFlags(flags...),
			Action: func(ctx context.Context, c *ucli.Command) error {
				if c.NArg() != n {
					return usageError("fs %s: want %s", name, args)
				}
				fc, err := newFsCtx(c)
				if err != nil {
					return exitCode(1, fmt.Errorf("fs %s: %w", name, err))
				}
				defer fc.close()
				if err := run(ctx, c, fc); err != nil {
					return exitCode(1, fmt.Errorf("%s: %w", name, accessWording(err)))
				}
				return nil
			},
		}
	}
	return &ucli.Command{
		Name:  "fs",
		Usage: "browse and change an HA nameservice's namespace over WebHDFS, failing over like Hadoop's client",
		Description: "Paths are hdfs://<nameservice>/path (NameNodes from dfs.ha.namenodes.<ns> and\n" +
			"dfs.namenode.http-address.<ns>.<nn>), /path (the nameservice of fs.defaultFS), or\n" +
			"webhdfs://host:port/path (one NameNode's HTTP address, no failover).",
		Commands: []*ucli.Command{
			sub("ls", "list a directory like hdfs dfs -ls", "PATH", 1, nil, fsLs),
			sub("mkdir", "create a directory", "[-p] PATH", 1,
				[]ucli.Flag{&ucli.BoolFlag{Name: "p", Usage: "create missing parents; no error if it exists"}}, fsMkdir),
			sub("put", "copy a local file (- for stdin) into the namespace", "LOCAL REMOTE", 2,
				[]ucli.Flag{&ucli.BoolFlag{Name: "f", Usage: "overwrite the destination"}}, fsPut),
			sub("cat", "print a file", "PATH", 1, nil, fsCat),
			sub("get", "copy a file to the local disk", "REMOTE LOCAL", 2,
				[]ucli.Flag{&ucli.BoolFlag{Name: "f", Usage: "overwrite the local file"}}, fsGet),
			sub("rm", "delete a file, or a directory with -r", "[-r] PATH", 1,
				[]ucli.Flag{&ucli.BoolFlag{Name: "r", Usage: "delete directories and their contents"}}, fsRm),
			sub("mv", "rename a file or directory", "SRC DST", 2, nil, fsMv),
			sub("stat", "print a path's WebHDFS FileStatus as JSON", "PATH", 1, nil, fsStat),
		},
	}
}

// fsCtx resolves paths of one command to clients of the right nameservice.
type fsCtx struct {
	conf    *hadoopconf.Config
	confErr error // reported only when a path needs the configuration
	opts    webhdfs.ClientOptions
	out     io.Writer
	errw    io.Writer // progress of put/get, when it is a terminal
	// hosts are the SSH hosts of an HCL cluster whose connections the
	// WebHDFS calls go through when its daemons are not reachable
	// directly (a bastion, a private VPC): the target's dialer.
	hosts map[string]targets.Host
}

func (fc *fsCtx) close() { targets.CloseAll(fc.hosts) }

func newFsCtx(c *ucli.Command) (*fsCtx, error) {
	user := fsUser(c.String("user"), os.Getenv)
	errw := c.Root().ErrWriter
	fc := &fsCtx{out: c.Root().Writer, errw: errw, opts: webhdfs.ClientOptions{User: user, Logf: func(format string, args ...any) {
		fmt.Fprintf(errw, "INFO "+format+"\n", args...)
	}}}
	fc.opts.CacheDir = fsCacheDir()
	var cluster *schema.Cluster
	fc.conf, cluster, fc.confErr = loadClientConfig(c.String("config"), c.StringSlice("var"))
	if cluster != nil && (cluster.Target == nil || cluster.Target.Kind != schema.TargetLocal) {
		// As plan and apply reach the daemons: directly when that works,
		// else through SSH to the hosts (lazily: nothing connects unless
		// a direct dial fails). Without the SSH set-up here, directly.
		hosts, err := targets.Open(cluster, targets.Options{Log: errw})
		if err != nil {
			fmt.Fprintf(errw, "INFO the cluster's hosts cannot be reached over SSH from here (%v): the NameNodes and DataNodes are called directly\n", err)
			return fc, nil
		}
		fc.hosts = hosts
		dial := targets.Dialer(hosts, 10*time.Second)
		t := webhdfs.NewTransport()
		t.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) { return dial(ctx, addr) }
		fc.opts.HTTPClient = &http.Client{Transport: t}
	}
	return fc, nil
}

// fsCacheDir is where hactl fs remembers each nameservice's active NameNode
// between invocations ($XDG_CACHE_HOME/hactl, else ~/.cache/hactl); "" (no
// cache, discovery on every invocation) when the OS names no cache dir.
func fsCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "hactl")
}

// fsUser is the user.name hactl fs sends, chosen as Hadoop's client picks
// its user: --user, else $HADOOP_USER_NAME, else the OS user the process
// runs as ($USER only when the OS has no name for the uid, since $USER
// survives su and sudo and would name someone else).
func fsUser(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if u := getenv("HADOOP_USER_NAME"); u != "" {
		return u
	}
	if u, err := osuser.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return getenv("USER")
}

// loadClientConfig reads Hadoop XML from a conf dir, or renders an HCL
// cluster: the client keys are the same on every host, so any host will do.
func loadClientConfig(p string, vars []string) (*hadoopconf.Config, *schema.Cluster, error) {
	if p == "" {
		p = os.Getenv("HADOOP_CONF_DIR")
	}
	if p == "" {
		p = "/etc/hactl"
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("--config: %w", err)
	}
	isXMLDir := false
	if st.IsDir() {
		for _, f := range []string{"hdfs-site.xml", "core-site.xml"} {
			if _, err := os.Stat(filepath.Join(p, f)); err == nil {
				isXMLDir = true
			}
		}
	}
	if isXMLDir {
		conf, err := hadoopconf.LoadDir(p)
		if err != nil {
			return nil, nil, fmt.Errorf("--config %s: %w", p, err)
		}
		return conf, nil, nil
	}
	cluster, diags := schema.Load(p, schema.LoadOptions{Vars: vars, Env: schema.EnvFromOS()})
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("--config %s is neither a Hadoop conf dir nor a valid HCL cluster: %s", p, diags.Error())
	}
	if missing, err := provisionedAddresses(cluster); err != nil {
		return nil, nil, fmt.Errorf("--config %s: %w", p, err)
	} else if len(missing) > 0 {
		return nil, nil, fmt.Errorf("--config %s: hosts %s are not provisioned yet (hactl apply creates them)", p, strings.Join(missing, ", "))
	}
	if len(cluster.Hosts) == 0 {
		return nil, nil, fmt.Errorf("--config %s: the cluster has no hosts", p)
	}
	r, err := schema.Render(cluster, cluster.Hosts[0].Name)
	if err != nil {
		return nil, nil, fmt.Errorf("--config %s: %w", p, err)
	}
	conf := hadoopconf.New()
	conf.Merge(r.Core)
	conf.Merge(r.HDFS)
	return conf, cluster, nil
}

// target splits a path argument into its scheme ("hdfs" or "webhdfs"), its
// authority (nameservice, or host:port for webhdfs) and the absolute path.
func (fc *fsCtx) target(arg string) (scheme, authority, p string, err error) {
	u, err := url.Parse(arg)
	if err != nil {
		return "", "", "", fmt.Errorf("path %q: %w", arg, err)
	}
	p = u.Path
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") {
		return "", "", "", fmt.Errorf("path %q: relative paths are not supported; give /path or hdfs://<nameservice>/path", arg)
	}
	switch u.Scheme {
	case "webhdfs", "hdfs":
		if u.Host == "" {
			return "", "", "", fmt.Errorf("path %q: no nameservice or host after %s://", arg, u.Scheme)
		}
		return u.Scheme, u.Host, path.Clean(p), nil
	case "":
	default:
		return "", "", "", fmt.Errorf("path %q: scheme %q is not hdfs:// or webhdfs://", arg, u.Scheme)
	}
	if fc.confErr != nil {
		return "", "", "", fc.confErr
	}
	def, ok := fc.conf.Lookup("fs.defaultFS")
	du, err := url.Parse(def)
	if !ok || err != nil || du.Scheme != "hdfs" || du.Host == "" {
		return "", "", "", fmt.Errorf("path %q: no hdfs:// fs.defaultFS in the configuration; give hdfs://<nameservice>%s", arg, p)
	}
	return "hdfs", du.Host, path.Clean(p), nil
}

// resolve turns a path argument into a client and the path inside the nameservice.
func (fc *fsCtx) resolve(arg string) (*webhdfs.Client, string, error) {
	scheme, authority, p, err := fc.target(arg)
	if err != nil {
		return nil, "", err
	}
	if scheme == "webhdfs" {
		c, err := webhdfs.NewClient(authority, []string{authority}, fc.opts)
		return c, p, err
	}
	if fc.confErr != nil {
		return nil, "", fc.confErr
	}
	c, err := webhdfs.NewClientFromConfig(fc.conf, authority, fc.opts)
	if err != nil {
		return nil, "", fmt.Errorf("path %q: %w (known nameservices: %s)", arg, err, fc.conf.Get("dfs.nameservices", "none"))
	}
	return c, p, nil
}

func fsLs(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	cl, p, err := fc.resolve(c.Args().First())
	if err != nil {
		return err
	}
	st, err := cl.GetFileStatus(ctx, p)
	if err != nil {
		return noSuchFile(p, err)
	}
	if st.Type != webhdfs.TypeDirectory {
		st.PathSuffix = ""
		writeLs(fc.out, p, []webhdfs.FileStatus{st}, false)
		return nil
	}
	list, err := cl.ListStatus(ctx, p)
	if err != nil {
		return noSuchFile(p, err)
	}
	writeLs(fc.out, p, list, true)
	return nil
}

// writeLs prints entries as `hdfs dfs -ls` does: mode, replication ("-" for
// directories), owner, group, size, modification time, path, in aligned columns.
func writeLs(w io.Writer, dir string, list []webhdfs.FileStatus, isDir bool) {
	if isDir {
		fmt.Fprintf(w, "Found %d items\n", len(list))
	}
	var wRepl, wOwner, wGroup, wLen int
	rows := make([][4]string, len(list))
	for i, st := range list {
		repl := "-"
		if st.Type == webhdfs.TypeFile {
			repl = strconv.Itoa(int(st.Replication))
		}
		rows[i] = [4]string{repl, st.Owner, st.Group, strconv.FormatInt(st.Length, 10)}
		wRepl, wOwner = max(wRepl, len(repl)), max(wOwner, len(st.Owner))
		wGroup, wLen = max(wGroup, len(st.Group)), max(wLen, len(rows[i][3]))
	}
	for i, st := range list {
		full := dir
		if st.PathSuffix != "" {
			full = path.Join(dir, st.PathSuffix)
		}
		mtime := time.UnixMilli(st.ModificationTime).Format("2006-01-02 15:04")
		fmt.Fprintf(w, "%s  %*s %-*s %-*s %*s %s %s\n", modeString(st), wRepl, rows[i][0], wOwner, rows[i][1],
			wGroup, rows[i][2], wLen, rows[i][3], mtime, full)
	}
}

// modeString renders "drwxr-xr-x" from the octal WebHDFS permission.
func modeString(st webhdfs.FileStatus) string {
	n, _ := strconv.ParseUint(st.Permission, 8, 32) // a malformed mode shows as ---------
	b := []byte("----------")
	if st.Type == webhdfs.TypeDirectory {
		b[0] = 'd'
	}
	for i, c := range "rwxrwxrwx" {
		if n&(1<<(8-i)) != 0 {
			b[i+1] = byte(c)
		}
	}
	if n&0o1000 != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	return string(b)
}

// accessDenied is a refused permission worded as hdfs dfs prints it: the
// AccessControlException's message alone ("mkdir: Permission denied: user=…").
type accessDenied struct{ re *webhdfs.RemoteException }

func (e accessDenied) Error() string { return e.re.Message }
func (e accessDenied) Unwrap() error { return e.re }

func accessWording(err error) error {
	var re *webhdfs.RemoteException
	if errors.As(err, &re) && errors.Is(re, webhdfs.ErrPermission) {
		return accessDenied{re}
	}
	return err
}

// noSuchFile words a missing path as `hdfs dfs` does.
func noSuchFile(p string, err error) error {
	if errors.Is(err, webhdfs.ErrNotFound) {
		return fmt.Errorf("`%s': No such file or directory", p)
	}
	return err
}

func fsMkdir(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	cl, p, err := fc.resolve(c.Args().First())
	if err != nil {
		return err
	}
	if !c.Bool("p") {
		if st, err := cl.GetFileStatus(ctx, p); err == nil {
			if st.Type == webhdfs.TypeDirectory {
				return fmt.Errorf("`%s': File exists", p)
			}
			return fmt.Errorf("`%s': Is not a directory", p)
		} else if !errors.Is(err, webhdfs.ErrNotFound) {
			return err
		}
		if parent := path.Dir(p); parent != "/" {
			if _, err := cl.GetFileStatus(ctx, parent); errors.Is(err, webhdfs.ErrNotFound) {
				return fmt.Errorf("`%s': No such file or directory", parent)
			} else if err != nil {
				return err
			}
		}
	}
	if _, err := cl.Mkdirs(ctx, p, 0); err != nil {
		return err
	}
	return nil
}

func fsPut(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	local := c.Args().Get(0)
	cl, p, err := fc.resolve(c.Args().Get(1))
	if err != nil {
		return err
	}
	// Streamed, never read whole: a multi-GiB file costs a buffer.
	var in io.Reader = os.Stdin
	size := int64(-1)
	if local != "-" {
		f, err := os.Open(local)
		if err != nil {
			return fmt.Errorf("read %s: %w", local, err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		} else if err == nil && st.IsDir() {
			return fmt.Errorf("`%s': Is a directory (put copies files)", local)
		}
		in = f
	}
	// As hdfs dfs -put: into an existing directory, keep the local name.
	if st, err := cl.GetFileStatus(ctx, p); err == nil && st.Type == webhdfs.TypeDirectory {
		if local == "-" {
			return fmt.Errorf("`%s': Is a directory", p)
		}
		p = path.Join(p, filepath.Base(local))
	}
	prog := newProgress(fc.errw, "put "+p, size)
	err = cl.CreateFrom(ctx, p, prog.reader(in), size, webhdfs.CreateOptions{Overwrite: c.Bool("f")})
	prog.done(err == nil)
	if err != nil {
		if errors.Is(err, webhdfs.ErrExists) {
			return fmt.Errorf("`%s': File exists (use -f to overwrite)", p)
		}
		return err
	}
	return nil
}

func fsCat(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	cl, p, err := fc.resolve(c.Args().First())
	if err != nil {
		return err
	}
	fr, err := cl.OpenStream(ctx, p, 0, -1)
	if err != nil {
		return noSuchFile(p, err)
	}
	defer fr.Close()
	if _, err := io.CopyBuffer(fc.out, fr, make([]byte, 256<<10)); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	return nil
}

// fsGet copies a file to the local disk as hdfs dfs -get: into
// LOCAL._COPYING_, renamed to LOCAL once every byte arrived, so that an
// interrupted copy never leaves a short file under the final name.
func fsGet(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	cl, p, err := fc.resolve(c.Args().Get(0))
	if err != nil {
		return err
	}
	local := c.Args().Get(1)
	if st, err := os.Stat(local); err == nil && st.IsDir() {
		local = filepath.Join(local, path.Base(p))
	}
	if _, err := os.Stat(local); err == nil && !c.Bool("f") {
		return fmt.Errorf("`%s': File exists (use -f to overwrite)", local)
	}
	fr, err := cl.OpenStream(ctx, p, 0, -1)
	if err != nil {
		return noSuchFile(p, err)
	}
	defer fr.Close()
	tmp := local + "._COPYING_"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	prog := newProgress(fc.errw, "get "+p, fr.Size)
	_, err = io.CopyBuffer(f, prog.reader(fr), make([]byte, 256<<10))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	prog.done(err == nil)
	if err == nil {
		err = os.Rename(tmp, local)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("get %s: %w", p, err)
	}
	return nil
}

func fsRm(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	cl, p, err := fc.resolve(c.Args().First())
	if err != nil {
		return err
	}
	st, err := cl.GetFileStatus(ctx, p)
	if err != nil {
		return noSuchFile(p, err)
	}
	if st.Type == webhdfs.TypeDirectory && !c.Bool("r") {
		return fmt.Errorf("`%s': Is a directory", p)
	}
	ok, err := cl.Delete(ctx, p, c.Bool("r"))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("`%s': No such file or directory", p)
	}
	fmt.Fprintf(fc.out, "Deleted %s\n", p)
	return nil
}

func fsMv(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	src, dstArg := c.Args().Get(0), c.Args().Get(1)
	cl, sp, err := fc.resolve(src)
	if err != nil {
		return err
	}
	sScheme, sAuth, _, _ := fc.target(src) // resolve already checked src
	dScheme, dAuth, dp, err := fc.target(dstArg)
	if err != nil {
		return err
	}
	if sScheme != dScheme || sAuth != dAuth {
		return fmt.Errorf("`%s' and `%s' are in different nameservices: rename cannot cross them", src, dstArg)
	}
	if _, err := cl.GetFileStatus(ctx, sp); err != nil {
		return noSuchFile(sp, err)
	}
	ok, err := cl.Rename(ctx, sp, dp)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("`%s' to `%s': rename refused (destination exists or its parent is missing)", sp, dp)
	}
	return nil
}

func fsStat(ctx context.Context, c *ucli.Command, fc *fsCtx) error {
	cl, p, err := fc.resolve(c.Args().First())
	if err != nil {
		return err
	}
	st, err := cl.GetFileStatus(ctx, p)
	if err != nil {
		return noSuchFile(p, err)
	}
	b, err := json.MarshalIndent(map[string]any{"FileStatus": st}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(fc.out, "%s\n", b)
	return err
}
