package zkserver

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// server answers each connection's four-letter word from answers (no entry:
// it reads the word and never answers).
func server(t *testing.T, answers map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				word := make([]byte, 4)
				if _, err := c.Read(word); err != nil {
					return
				}
				a, ok := answers[string(word)]
				if !ok {
					time.Sleep(2 * time.Second)
					return
				}
				c.Write([]byte(a))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRuok(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := Ruok(ctx, nil, server(t, map[string]string{"ruok": "imok"})); err != nil {
		t.Errorf("imok: %v", err)
	}
	if err := Ruok(ctx, nil, server(t, map[string]string{"ruok": "ruok is not executed because it is not in the whitelist.\n"})); !errors.Is(err, ErrNotWhitelisted) {
		t.Errorf("refused word: %v, want ErrNotWhitelisted", err)
	}
	if err := Ruok(ctx, nil, server(t, map[string]string{"ruok": "nope"})); !errors.Is(err, ErrNotServing) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("other answer: %v, want ErrNotServing naming it", err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	if err := Ruok(short, nil, server(t, nil)); err == nil {
		t.Error("a server that never answers passed ruok")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	if err := Ruok(ctx, nil, closed); err == nil {
		t.Error("a refused connection passed ruok")
	}
}

func TestModeAndTheDialGiven(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	addr := server(t, map[string]string{"srvr": "Zookeeper version: 3.8.4\nLatency min/avg/max: 0/0.0/0\nMode: follower\nNode count: 5\n"})
	dialed := ""
	dial := func(ctx context.Context, a string) (net.Conn, error) { dialed = a; return Direct(ctx, a) }
	if m, err := Mode(ctx, dial, addr); m != "follower" || err != nil || dialed != addr {
		t.Errorf("Mode = %q, %v (dialed %q)", m, err, dialed)
	}
	noQuorum := server(t, map[string]string{"srvr": "This ZooKeeper instance is not currently serving requests\n"})
	if m, err := Mode(ctx, nil, noQuorum); m != "" || !errors.Is(err, ErrNotServing) || !strings.Contains(err.Error(), "not currently serving") {
		t.Errorf("no quorum: %q, %v", m, err)
	}
}
