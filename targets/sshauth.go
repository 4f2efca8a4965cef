package targets

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrUnknownHostKey is returned when a host's key is not in known_hosts and
// trust on first use was not asked for.
var ErrUnknownHostKey = errors.New("unknown SSH host key")

// ErrHostKeyChanged is returned when a host presents a key different from the
// one known_hosts records for it. It is never overridden.
var ErrHostKeyChanged = errors.New("SSH host key changed")

// ErrEncryptedKey is returned for a private key file that needs a passphrase.
var ErrEncryptedKey = errors.New("private key is protected by a passphrase")

// expandHome replaces a leading ~/ with the user's home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// LoadPrivateKey reads a passphrase-less private key (ed25519, rsa, ecdsa).
func LoadPrivateKey(path string) (ssh.Signer, error) {
	path = expandHome(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ssh private key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		return nil, fmt.Errorf("%w: %s (hactl does not prompt for passphrases: load it into ssh-agent with `ssh-add %s` and make SSH_AUTH_SOCK visible to hactl, or use a key without one)", ErrEncryptedKey, path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh private key %s: %w", path, err)
	}
	return s, nil
}

// authMethods returns the key-file signers followed by ssh-agent's. The agent
// connection stays open for the pool's lifetime (closer).
func authMethods(keyFile string) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	var encErr error
	if keyFile != "" {
		s, err := LoadPrivateKey(keyFile)
		switch {
		case errors.Is(err, ErrEncryptedKey):
			encErr = err // fine if the agent holds it
		case err != nil:
			return nil, nil, err
		default:
			signers = append(signers, s)
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			if s, err := LoadPrivateKey(filepath.Join(home, ".ssh", n)); err == nil {
				signers = append(signers, s)
			}
		}
	}
	var agentSigners func() ([]ssh.Signer, error)
	closer := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			ag := agent.NewClient(conn)
			agentSigners = ag.Signers
			closer = func() { conn.Close() }
		}
	}
	if encErr != nil && agentSigners == nil {
		return nil, nil, encErr
	}
	if len(signers) == 0 && agentSigners == nil {
		return nil, nil, errors.New("ssh: no private key configured (ssh { private_key = … }) and no ssh-agent (SSH_AUTH_SOCK)")
	}
	cb := func() ([]ssh.Signer, error) {
		out := append([]ssh.Signer(nil), signers...)
		if agentSigners != nil {
			if more, err := agentSigners(); err == nil {
				out = append(out, more...)
			}
		}
		return out, nil
	}
	return []ssh.AuthMethod{ssh.PublicKeysCallback(cb)}, closer, nil
}

// knownHosts checks host keys against one known_hosts file.
type knownHosts struct {
	path   string
	accept bool
	mu     *sync.Mutex // serialises appends and the cache (shared by the pool)
	cache  *knownCache // nil: parse the file on every use
	log    func(string, ...any)
}

// knownCache is a parsed known_hosts file and the size and modification
// time it had, so that dialling many hosts parses it once, while a file
// that changed (an append by accept-new, an edit) is read again.
type knownCache struct {
	cb    ssh.HostKeyCallback
	size  int64
	mtime time.Time
	loads int // parses, for tests
}

// load returns the file's callback; k.mu is held.
func (k *knownHosts) load() (ssh.HostKeyCallback, error) {
	fi, err := os.Stat(k.path)
	if errors.Is(err, os.ErrNotExist) {
		return func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", k.path, err)
	}
	if c := k.cache; c != nil && c.cb != nil && c.size == fi.Size() && c.mtime.Equal(fi.ModTime()) {
		return c.cb, nil
	}
	cb, err := knownhosts.New(k.path)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", k.path, err)
	}
	if c := k.cache; c != nil {
		c.cb, c.size, c.mtime = cb, fi.Size(), fi.ModTime()
		c.loads++
	}
	return cb, nil
}

var anyAddr = &net.TCPAddr{IP: net.IPv4zero}

// algorithms returns the host key algorithms known_hosts records for
// hostport, so that a host with several keys negotiates the one we know
// (nil: none recorded, let the server choose).
func (k *knownHosts) algorithms(hostport string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load()
	if err != nil {
		return nil
	}
	// Asking about a key nobody has makes knownhosts list the ones it knows.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	probe, _ := ssh.NewSignerFromKey(priv)
	var ke *knownhosts.KeyError
	if err := cb(hostport, anyAddr, probe.PublicKey()); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, w := range ke.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

// callback verifies a presented key; unknown keys are appended when
// accepting new keys, changed keys always fail.
func (k *knownHosts) callback(hostport string, remote net.Addr, key ssh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load()
	if err != nil {
		return err
	}
	err = cb(hostport, remote, key)
	var ke *knownhosts.KeyError
	if err == nil || !errors.As(err, &ke) {
		return err
	}
	fp := ssh.FingerprintSHA256(key)
	if len(ke.Want) > 0 {
		var known []string
		for _, w := range ke.Want {
			known = append(known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
		}
		return fmt.Errorf("%w for %s: it now presents %s %s but known_hosts has %s. Someone may be intercepting the connection, or the host was reinstalled: verify, then remove the old line (ssh-keygen -R %s -f %s)",
			ErrHostKeyChanged, hostport, key.Type(), fp, strings.Join(known, ", "), knownhosts.Normalize(hostport), k.path)
	}
	if !k.accept {
		return fmt.Errorf("%w for %s: %s %s is not in %s. Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then trust it with --accept-new-host-keys or `ssh-keyscan -p PORT HOST >> %s`",
			ErrUnknownHostKey, hostport, key.Type(), fp, k.path, shortType(key.Type()), k.path)
	}
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	f, err := os.OpenFile(k.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key)); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	if k.log != nil {
		k.log("ssh: trusting new host key of %s: %s %s (added to %s)", hostport, key.Type(), fp, k.path)
	}
	return nil
}

func shortType(t string) string {
	switch {
	case strings.Contains(t, "ed25519"):
		return "ed25519"
	case strings.Contains(t, "ecdsa"):
		return "ecdsa"
	default:
		return "rsa"
	}
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}
