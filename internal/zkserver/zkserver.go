// Package zkserver is what hactl knows of an Apache ZooKeeper server from
// outside it: where Debian's package installs it, and the one client of its
// four-letter words (ruok, srvr) that apply, the probe and the tests share.
package zkserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Jar is the server jar of Debian's zookeeper package: its presence means
// the package is installed.
const Jar = "/usr/share/java/zookeeper.jar"

// Dial opens a TCP connection to addr (the probe dials through SSH tunnels).
type Dial func(ctx context.Context, addr string) (net.Conn, error)

// Direct dials addr from this machine.
func Direct(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

var (
	// ErrNotServing: the server answered ruok with something other than
	// imok (it runs but does not serve).
	ErrNotServing = errors.New("zookeeper not serving")
	// ErrNotWhitelisted: the server refused the word, which its
	// 4lw.commands.whitelist leaves out. It runs and answers.
	ErrNotWhitelisted = errors.New("four-letter word not in the server's 4lw.commands.whitelist")
)

// maxAnswer bounds what a word's answer may hold (srvr's is a few hundred
// bytes).
const maxAnswer = 64 << 10

// FourLetter sends word to the server at addr and returns its answer; ctx
// bounds the whole exchange. A nil dial dials directly. An answer cut short
// by the deadline is returned as far as it came; only no answer at all is
// an error.
func FourLetter(ctx context.Context, dial Dial, addr, word string) (string, error) {
	if dial == nil {
		dial = Direct
	}
	conn, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte(word)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(conn, maxAnswer))
	if err != nil && len(b) == 0 {
		return "", err
	}
	answer := string(b)
	if strings.Contains(answer, "is not in the whitelist") {
		return answer, fmt.Errorf("zookeeper %s: %s: %w", addr, word, ErrNotWhitelisted)
	}
	return answer, nil
}

// Ruok asks the server at addr whether it serves: nil when it answers imok.
func Ruok(ctx context.Context, dial Dial, addr string) error {
	answer, err := FourLetter(ctx, dial, addr, "ruok")
	if err != nil {
		return err
	}
	if answer != "imok" {
		return fmt.Errorf("zookeeper %s answered %q to ruok: %w", addr, answer, ErrNotServing)
	}
	return nil
}

// Mode is the server's mode from srvr: "leader", "follower" or
// "standalone". A server up without a quorum answers without one ("This
// ZooKeeper instance is not currently serving requests"): ErrNotServing,
// with its answer.
func Mode(ctx context.Context, dial Dial, addr string) (string, error) {
	answer, err := FourLetter(ctx, dial, addr, "srvr")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(answer, "\n") {
		if m, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(m), nil
		}
	}
	return "", fmt.Errorf("zookeeper %s: %s: %w", addr, strings.TrimSpace(answer), ErrNotServing)
}
