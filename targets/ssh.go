package targets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hactl/hactl/schema"
)

// SSHConfig is how one host is reached over SSH.
type SSHConfig struct {
	User       string // default: the local user
	Port       int    // default 22
	PrivateKey string // key file; "" = ~/.ssh/id_{ed25519,ecdsa,rsa}; ssh-agent is always tried too
	KnownHosts string // default ~/.ssh/known_hosts
	Bastion    string // "[user@]host[:port]", reached with the same keys and known_hosts
	// ConnectAddress is where SSH connects when it is not the host's address
	// (an EC2 instance's public address; the cluster uses the private one).
	ConnectAddress string
	Sudo           *bool // nil: `sudo -n` for Command.Sudo when User is not root
	ConnectTimeout time.Duration
	// Attempts is how many times a connection is tried (network errors only;
	// authentication and host-key errors fail at once). Default 3.
	Attempts int
}

// SSHConfigFor derives the SSH settings of host h from the cluster config.
func SSHConfigFor(c *schema.Cluster, h *schema.Host, opts Options) (SSHConfig, error) {
	s := c.EffectiveSSH(h)
	cfg := SSHConfig{
		User: s.User, Port: s.Port, PrivateKey: s.PrivateKey, KnownHosts: s.KnownHosts,
		Bastion: s.Bastion, Sudo: s.Sudo, ConnectTimeout: s.ConnectTimeout,
	}
	if opts.ConnectTimeout > 0 {
		cfg.ConnectTimeout = opts.ConnectTimeout
	}
	return cfg.withDefaults(), nil
}

func (c SSHConfig) withDefaults() SSHConfig {
	if c.User == "" {
		c.User = currentUser()
	}
	if c.Port == 0 {
		c.Port = schema.DefaultSSHPort
	}
	if c.KnownHosts == "" {
		c.KnownHosts = "~/.ssh/known_hosts"
	}
	c.KnownHosts = expandHome(c.KnownHosts)
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	return c
}

// DefaultKeepaliveInterval is how often a connection is checked with
// keepalive@openssh.com (a dead one is dropped and redialled on next use).
const DefaultKeepaliveInterval = 15 * time.Second

// maxSessionsPerHost stays under OpenSSH's default MaxSessions (10).
const maxSessionsPerHost = 8

// Pool caches one SSH connection per (user, address, bastion) and shares
// keys, the agent connection and known_hosts locking between hosts.
type Pool struct {
	opts    Options
	knownMu sync.Mutex
	known   map[string]*knownCache // by known_hosts path, guarded by knownMu
	authMu  sync.Mutex
	auths   map[string]*poolAuth // by private key file, guarded by authMu
	mu      sync.Mutex
	conns   map[string]*poolConn
	closers []func()
	closed  bool
}

// poolAuth is a key file's auth methods, loaded once per pool (one key
// parse and one ssh-agent connection for all hosts, not one per dial).
type poolAuth struct {
	methods []ssh.AuthMethod
	err     error
}

type poolConn struct {
	mu     sync.Mutex // held while dialling, so a host is dialled once
	client *ssh.Client
}

// NewPool returns an empty connection pool.
func NewPool(opts Options) *Pool {
	return &Pool{opts: opts, conns: map[string]*poolConn{}, known: map[string]*knownCache{}, auths: map[string]*poolAuth{}}
}

// Close closes every cached connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for k, pc := range p.conns {
		pc.mu.Lock()
		if pc.client != nil {
			pc.client.Close()
			pc.client = nil
		}
		pc.mu.Unlock()
		delete(p.conns, k)
	}
	for _, c := range p.closers {
		c()
	}
	p.closers = nil
	return nil
}

// Host returns a host reached through this pool; it connects on first use.
func (p *Pool) Host(name, address string, cfg SSHConfig) *SSHHost {
	return &SSHHost{pool: p, name: name, address: address, cfg: cfg.withDefaults(),
		sessions: make(chan struct{}, maxSessionsPerHost)}
}

func (p *Pool) logf(format string, args ...any) { logf(p.opts.Log, format, args...) }

func (p *Pool) entry(key string) (*poolConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("ssh pool closed")
	}
	pc := p.conns[key]
	if pc == nil {
		pc = &poolConn{}
		p.conns[key] = pc
	}
	return pc, nil
}

// client returns the cached connection to hostport, dialling it (through the
// bastion when configured) if there is none or it died.
func (p *Pool) client(ctx context.Context, cfg SSHConfig, user, hostport string) (*ssh.Client, error) {
	key := user + "@" + hostport + " via " + cfg.Bastion
	pc, err := p.entry(key)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.client != nil {
		return pc.client, nil
	}
	c, err := p.dialRetry(ctx, cfg, user, hostport)
	if err != nil {
		return nil, err
	}
	pc.client = c
	go p.watch(pc, c)
	return c, nil
}

// watch sends keepalives and forgets the connection once it is dead.
func (p *Pool) watch(pc *poolConn, c *ssh.Client) {
	interval := p.opts.KeepaliveInterval
	if interval <= 0 {
		interval = DefaultKeepaliveInterval
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			p.forget(pc, c)
			return
		case <-t.C:
			ok := make(chan error, 1)
			go func() { _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); ok <- err }()
			select {
			case err := <-ok:
				if err != nil {
					c.Close()
				}
			case <-time.After(interval):
				c.Close() // no answer in a whole interval: the peer is gone
			case <-done:
			}
		}
	}
}

func (p *Pool) forget(pc *poolConn, c *ssh.Client) {
	pc.mu.Lock()
	if pc.client == c {
		pc.client = nil
	}
	pc.mu.Unlock()
}

// drop closes a connection found broken by a caller.
func (p *Pool) drop(cfg SSHConfig, user, hostport string, c *ssh.Client) {
	pc, err := p.entry(user + "@" + hostport + " via " + cfg.Bastion)
	if err != nil {
		return
	}
	c.Close()
	p.forget(pc, c)
}

// permanent reports errors retrying cannot fix.
func permanent(err error) bool {
	return errors.Is(err, ErrUnknownHostKey) || errors.Is(err, ErrHostKeyChanged) ||
		errors.Is(err, ErrEncryptedKey) || strings.Contains(err.Error(), "unable to authenticate")
}

func (p *Pool) dialRetry(ctx context.Context, cfg SSHConfig, user, hostport string) (*ssh.Client, error) {
	backoff := 250 * time.Millisecond
	var err error
	for attempt := 1; attempt <= cfg.Attempts; attempt++ {
		var c *ssh.Client
		c, err = p.dial(ctx, cfg, user, hostport)
		if err == nil {
			return c, nil
		}
		if permanent(err) || ctx.Err() != nil || attempt == cfg.Attempts {
			break
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff *= 2
	}
	if permanent(err) {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
}

// auth returns the auth methods of keyFile, loading them on first use.
func (p *Pool) auth(keyFile string) ([]ssh.AuthMethod, error) {
	p.authMu.Lock()
	defer p.authMu.Unlock()
	if a := p.auths[keyFile]; a != nil {
		return a.methods, a.err
	}
	methods, closer, err := authMethods(keyFile)
	if err == nil {
		p.mu.Lock()
		p.closers = append(p.closers, closer)
		p.mu.Unlock()
	}
	p.auths[keyFile] = &poolAuth{methods: methods, err: err}
	return methods, err
}

// knownHostsFor returns the checker of path, whose parsed contents are
// shared by every host of the pool (re-read only when the file changes).
func (p *Pool) knownHostsFor(path string) *knownHosts {
	p.knownMu.Lock()
	c := p.known[path]
	if c == nil {
		c = &knownCache{}
		p.known[path] = c
	}
	p.knownMu.Unlock()
	return &knownHosts{path: path, accept: p.opts.AcceptNewHostKeys, mu: &p.knownMu, cache: c, log: p.logf}
}

func (p *Pool) clientConfig(cfg SSHConfig, user, hostport string) (*ssh.ClientConfig, error) {
	auth, err := p.auth(cfg.PrivateKey)
	if err != nil {
		return nil, err
	}
	kh := p.knownHostsFor(cfg.KnownHosts)
	return &ssh.ClientConfig{
		User:              user,
		Auth:              auth,
		HostKeyCallback:   kh.callback,
		HostKeyAlgorithms: kh.algorithms(hostport),
		Timeout:           cfg.ConnectTimeout,
	}, nil
}

func (p *Pool) dial(ctx context.Context, cfg SSHConfig, user, hostport string) (*ssh.Client, error) {
	ccfg, err := p.clientConfig(cfg, user, hostport)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	var conn net.Conn
	if cfg.Bastion != "" {
		bUser, bHostport := splitBastion(cfg.Bastion, user)
		bcfg := cfg
		bcfg.Bastion = ""
		bc, err := p.client(ctx, bcfg, bUser, bHostport)
		if err != nil {
			return nil, fmt.Errorf("bastion %s: %w", bHostport, err)
		}
		conn, err = bc.DialContext(ctx, "tcp", hostport)
		if err != nil {
			return nil, fmt.Errorf("via bastion %s: %w", bHostport, err)
		}
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", hostport)
		if err != nil {
			return nil, err
		}
	}
	// The handshake is bounded by the same deadline as the dial.
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	sc, chans, reqs, err := ssh.NewClientConn(conn, hostport, ccfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh %s@%s: %w", user, hostport, err)
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

func splitBastion(b, defUser string) (string, string) {
	user := defUser
	if i := strings.LastIndex(b, "@"); i >= 0 {
		user, b = b[:i], b[i+1:]
	}
	if _, _, err := net.SplitHostPort(b); err != nil {
		b = net.JoinHostPort(b, "22")
	}
	return user, b
}

// SSHHost is a host reached over SSH.
type SSHHost struct {
	pool          *Pool
	name, address string
	cfg           SSHConfig
	sessions      chan struct{}
}

// Name implements Host.
func (h *SSHHost) Name() string { return h.name }

// Address implements Host.
func (h *SSHHost) Address() string { return h.address }

// Close implements Host. The connection belongs to the pool; Close drops it.
func (h *SSHHost) Close() error {
	pc, err := h.pool.entry(h.key())
	if err != nil {
		return nil
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.client != nil {
		pc.client.Close()
		pc.client = nil
	}
	return nil
}

func (h *SSHHost) hostport() string {
	return net.JoinHostPort(orAddress(h.cfg.ConnectAddress, h.address), strconv.Itoa(h.cfg.Port))
}

func orAddress(a, def string) string {
	if a != "" {
		return a
	}
	return def
}
func (h *SSHHost) key() string { return h.cfg.User + "@" + h.hostport() + " via " + h.cfg.Bastion }

// Connect establishes (or reuses) the connection; Run and Upload call it.
func (h *SSHHost) Connect(ctx context.Context) error {
	_, err := h.pool.client(ctx, h.cfg, h.cfg.User, h.hostport())
	if err != nil {
		return fmt.Errorf("%s: %w", h.name, err)
	}
	return nil
}

func (h *SSHHost) useSudo(cmd Command) bool {
	if !cmd.Sudo || h.cfg.User == "root" {
		return false
	}
	return h.cfg.Sudo == nil || *h.cfg.Sudo
}

// commandLine renders cmd for the remote login shell.
func (h *SSHHost) commandLine(cmd Command) (string, error) {
	var argv []string
	switch {
	case len(cmd.Args) > 0 && cmd.Shell == "":
		argv = cmd.Args
	case len(cmd.Args) == 0 && cmd.Shell != "":
		argv = []string{"sh", "-c", cmd.Shell}
	default:
		return "", fmt.Errorf("%s: command needs exactly one of Args and Shell", h.name)
	}
	var parts []string
	if h.useSudo(cmd) {
		parts = append(parts, "sudo", "-n")
	}
	if len(cmd.Env) > 0 {
		// sshd drops most client environment (AcceptEnv), so pass it in-line.
		keys := make([]string, 0, len(cmd.Env))
		for k := range cmd.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, "env")
		for _, k := range keys {
			parts = append(parts, k+"="+cmd.Env[k])
		}
	}
	parts = append(parts, argv...)
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = ShellQuote(p)
	}
	return strings.Join(q, " "), nil
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Run implements Host.
func (h *SSHHost) Run(ctx context.Context, cmd Command) (Result, error) {
	line, err := h.commandLine(cmd)
	if err != nil {
		return Result{}, err
	}
	return h.run(ctx, line, cmd.Stdin)
}

func (h *SSHHost) run(ctx context.Context, line string, stdin io.Reader) (Result, error) {
	select {
	case h.sessions <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%s: %w", h.name, ctx.Err())
	}
	defer func() { <-h.sessions }()
	var sess *ssh.Session
	var client *ssh.Client
	// A cached connection may have died since last use: redial once.
	for attempt := 0; attempt < 2; attempt++ {
		c, err := h.pool.client(ctx, h.cfg, h.cfg.User, h.hostport())
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", h.name, err)
		}
		client = c
		sess, err = newSession(ctx, c)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			h.pool.drop(h.cfg, h.cfg.User, h.hostport(), c)
			return Result{}, fmt.Errorf("%s: %w: %w", h.name, ErrUnreachable, ctx.Err())
		}
		h.pool.drop(h.cfg, h.cfg.User, h.hostport(), c)
		if attempt == 1 {
			return Result{}, fmt.Errorf("%s: %w: new session: %w", h.name, ErrUnreachable, err)
		}
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if stdin != nil {
		sess.Stdin = stdin
	}
	done := make(chan error, 1)
	if err := sess.Start(line); err != nil {
		return Result{}, fmt.Errorf("%s: %w: %w", h.name, ErrUnreachable, err)
	}
	go func() { done <- sess.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, fmt.Errorf("%s: %w", h.name, ctx.Err())
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var ee *ssh.ExitError
	switch {
	case werr == nil:
		return res, nil
	case errors.As(werr, &ee):
		res.ExitCode = ee.ExitStatus()
		if ee.Signal() != "" && res.ExitCode == 0 {
			res.ExitCode = 128 + 9
		}
		return res, nil
	default:
		// The connection went away mid-command: whether it ran is unknown.
		h.pool.drop(h.cfg, h.cfg.User, h.hostport(), client)
		return res, fmt.Errorf("%s: %w: %w", h.name, ErrUnreachable, werr)
	}
}

// Upload implements Host: the data is streamed into `cat` beside the
// destination, its sha256 is computed on the host and compared with the
// expected one (and with what was sent), then the file is synced and renamed.
func (h *SSHHost) Upload(ctx context.Context, dst string, data io.Reader, mode fs.FileMode, sum string) error {
	hash := sha256.New()
	tee := io.TeeReader(data, hash)
	// Every path reaches the script as a positional parameter, never inside
	// its text: a path is data, so no character in it (quote, $(...), `;`)
	// can change what the shell runs.
	const script = `set -e
umask 077
dir=$1 base=$2 sum=$3 mode=$4 dst=$5
mkdir -p -- "$dir"
t="$dir/.$base.tmp-$$"
trap 'rm -f -- "$t"' EXIT
cat > "$t"
sync "$t" 2>/dev/null || true
s=$(sha256sum < "$t" | cut -d' ' -f1)
echo "$s"
if [ -n "$sum" ] && [ "$s" != "$sum" ]; then echo "sha256 mismatch: got $s, want $sum" >&2; exit 65; fi
chmod "$mode" "$t"
mv -f -- "$t" "$dst"
trap - EXIT
sync "$dir" 2>/dev/null || true
`
	cmd := Command{Args: []string{"sh", "-c", script, "hactl-upload", path.Dir(dst), path.Base(dst), sum, fmt.Sprintf("%o", mode.Perm()), dst}, Sudo: true}
	line, err := h.commandLine(cmd)
	if err != nil {
		return err
	}
	res, err := h.run(ctx, line, tee)
	if err != nil {
		return fmt.Errorf("upload %s: %w", dst, err)
	}
	if res.ExitCode == 65 {
		return fmt.Errorf("%s: upload %s: %w: %s", h.name, dst, ErrChecksumMismatch, strings.TrimSpace(string(res.Stderr)))
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("upload %s: %w", dst, &ExitError{Host: h.name, Cmd: "upload", Result: res})
	}
	sent := hex.EncodeToString(hash.Sum(nil))
	if got := strings.TrimSpace(string(res.Stdout)); got != sent {
		// Only possible if the stream was cut short; the file was already
		// renamed when sum was empty, so say so loudly.
		return fmt.Errorf("%s: upload %s: %w: host has %s, sent %s", h.name, dst, ErrChecksumMismatch, got, sent)
	}
	return nil
}

// newSession opens a session, giving up when ctx ends: on a connection whose
// peer vanished (cable cut) the channel-open reply never comes, and
// x/crypto/ssh's NewSession has no deadline of its own.
func newSession(ctx context.Context, c *ssh.Client) (*ssh.Session, error) {
	type res struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := c.NewSession()
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		c.Close() // unblocks NewSession; the caller redials
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
