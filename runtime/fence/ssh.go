package fence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// SSH is Hadoop's SshFenceByTcpPort: `sshfence([[user][:port]])` logs in to the
// target's host and kills whatever listens on the NameNode's RPC port, then
// confirms the port is closed. Unlike Hadoop it does not need fuser on the
// host: the listener is found with ss, else /proc/net/tcp{,6} and the
// processes' socket inodes, else fuser or lsof.
type SSH struct {
	User           string
	Port           int
	KeyFiles       []string
	ConnectTimeout time.Duration
	// KnownHosts is the known_hosts file the host key must be in. Unlike
	// Hadoop's sshfence (StrictHostKeyChecking=no) the key is checked: the
	// fencing key may kill any process on the host, so it must not be
	// offered to, nor the kill believed from, whoever answers on the
	// address.
	KnownHosts string
	// HostKeyCallback, when set, replaces the known_hosts check (tests).
	HostKeyCallback ssh.HostKeyCallback
}

var sshArgRE = regexp.MustCompile(`^([^:]*)(?::(\d+))?$`)

func newSSHFromConf(conf *hadoopconf.Config, arg string) (*SSH, error) {
	m := sshArgRE.FindStringSubmatch(strings.TrimSpace(arg))
	if m == nil {
		return nil, fmt.Errorf("sshfence argument %q: expected [user][:port]", arg)
	}
	s := &SSH{User: m[1], Port: 22}
	if m[2] != "" {
		p, err := strconv.Atoi(m[2])
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("sshfence port %q is not a port number", m[2])
		}
		s.Port = p
	}
	if s.User == "" {
		if u, err := user.Current(); err == nil {
			s.User = u.Username
		}
	}
	s.KeyFiles = conf.Strings(KeySSHKeyFiles)
	if len(s.KeyFiles) == 0 {
		return nil, fmt.Errorf("sshfence needs %s (comma-separated private key files)", KeySSHKeyFiles)
	}
	t, err := conf.Int(KeySSHTimeout, defaultSSHTimeout.Milliseconds())
	if err != nil {
		return nil, err
	}
	s.ConnectTimeout = time.Duration(t) * time.Millisecond
	s.KnownHosts = conf.Get(KeySSHKnownHosts, "")
	if s.KnownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("sshfence: %s is not set and there is no home directory for ~/.ssh/known_hosts: %w", KeySSHKnownHosts, err)
		}
		s.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	return s, nil
}

func (s *SSH) String() string { return fmt.Sprintf("sshfence(%s:%d)", s.User, s.Port) }

func (s *SSH) signers() ([]ssh.Signer, error) {
	var out []ssh.Signer
	var errs []error
	for _, f := range s.KeyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		k, err := ssh.ParsePrivateKey(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(f), err))
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no usable private key in %s: %w", strings.Join(s.KeyFiles, ","), errors.Join(errs...))
	}
	return out, nil
}

// Fence connects, runs KillListenerScript(port) and requires exit status 0.
func (s *SSH) Fence(ctx context.Context, t Target) error {
	signers, err := s.signers()
	if err != nil {
		return err
	}
	hk := s.HostKeyCallback
	if hk == nil {
		// Read at each fencing: the file may have been fixed since start.
		if hk, err = knownhosts.New(s.KnownHosts); err != nil {
			return fmt.Errorf("sshfence: host keys: %w (set known_hosts_file in the fencing block, %s)", err, KeySSHKnownHosts)
		}
	}
	timeout := s.ConnectTimeout
	if timeout <= 0 {
		timeout = defaultSSHTimeout
	}
	cfg := &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback: hk, Timeout: timeout}
	addr := joinHostPort(t.Host, s.Port)
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("ssh %s: %w", addr, err)
	}
	// The handshake and the command are bounded by the caller's context.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return fmt.Errorf("ssh %s@%s: %w", s.User, addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("ssh %s: session: %w", addr, err)
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &out
	if err := sess.Run(KillListenerScript(t.Port)); err != nil {
		return fmt.Errorf("ssh %s: kill the listener on port %d: %w; output: %s", addr, t.Port, err, tail(out.String()))
	}
	return nil
}

// KillListenerScript is a POSIX sh script that SIGKILLs every process listening
// on TCP port and exits 0 only once nothing listens there any more (or nothing
// did). It runs on the NameNode's host; it needs root or the NameNode's user.
func KillListenerScript(port int) string {
	return fmt.Sprintf(`PATH=$PATH:/sbin:/usr/sbin:/bin:/usr/bin
port=%d
hex=$(printf '%%04X' "$port")
inodes() {
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' | sort -u
}
is_open() {
  if [ -r /proc/net/tcp ]; then [ -n "$(inodes)" ]; return; fi
  ss -Hltn "sport = :$port" 2>/dev/null | grep -q .
}
pids() {
  if command -v ss >/dev/null 2>&1; then
    p=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
    if [ -n "$p" ]; then echo $p; return; fi
  fi
  in=$(inodes)
  if [ -n "$in" ]; then
    for fd in /proc/[0-9]*/fd/*; do
      l=$(readlink "$fd" 2>/dev/null) || continue
      for i in $in; do
        if [ "$l" = "socket:[$i]" ]; then p=${fd#/proc/}; echo "${p%%%%/*}"; fi
      done
    done | sort -u
    return
  fi
  if command -v fuser >/dev/null 2>&1; then fuser -n tcp "$port" 2>/dev/null; return; fi
  if command -v lsof >/dev/null 2>&1; then lsof -t -iTCP:"$port" -sTCP:LISTEN 2>/dev/null; fi
}
if ! is_open; then echo "nothing listens on port $port: the target is down"; exit 0; fi
p=$(pids)
if [ -z "$p" ]; then echo "port $port is open but its process was not found (run sshfence as root or the NameNode's user)" >&2; exit 1; fi
echo "killing $p (listening on port $port)"
kill -9 $p
i=0
while [ $i -lt 100 ]; do
  if ! is_open; then echo "port $port is closed"; exit 0; fi
  sleep 0.1; i=$((i + 1))
done
echo "port $port is still open after kill -9 $p" >&2
exit 1
`, port)
}
