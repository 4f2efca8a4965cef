package targets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLocalRun(t *testing.T) {
	h := NewLocal("h1", "127.0.2.1", "")
	ctx := context.Background()
	r, err := h.Run(ctx, Command{Args: []string{"sh", "-c", `echo "$1 $X"; echo err >&2; exit 7`, "sh", "it's"}, Env: map[string]string{"X": "y z"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Stdout) != "it's y z\n" || string(r.Stderr) != "err\n" || r.ExitCode != 7 {
		t.Errorf("Run = %q %q %d", r.Stdout, r.Stderr, r.ExitCode)
	}
	r, err = h.Run(ctx, Command{Shell: "tr a-z A-Z | wc -c", Stdin: strings.NewReader("abc")})
	if err != nil || strings.TrimSpace(string(r.Stdout)) != "3" {
		t.Errorf("Shell with stdin = %q, %v", r.Stdout, err)
	}
	if _, err := Check("h1", Command{Args: []string{"false"}}, Result{ExitCode: 1}, nil); err == nil {
		t.Error("Check let a failure through")
	}
	r, err = h.Run(ctx, Command{Args: []string{"/nonexistent/prog"}})
	if err != nil || r.ExitCode != 127 {
		t.Errorf("missing program = %d, %v; want exit 127", r.ExitCode, err)
	}
	if _, err := h.Run(ctx, Command{}); err == nil {
		t.Error("empty command accepted")
	}
}

func TestLocalRunCancelKillsTheProcessGroup(t *testing.T) {
	h := NewLocal("h1", "127.0.2.1", "")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	// The grandchild would keep writing after the shell died if only the
	// shell were killed.
	_, err := h.Run(ctx, Command{Shell: "(while :; do date +%s%N > " + dir + "/tick; sleep 0.05; done) & wait"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("Run returned after %s", d)
	}
	time.Sleep(200 * time.Millisecond)
	a, _ := os.ReadFile(dir + "/tick")
	time.Sleep(200 * time.Millisecond)
	b, _ := os.ReadFile(dir + "/tick")
	if string(a) != string(b) {
		t.Error("a background process of the cancelled command still runs")
	}
}

func TestLocalUploadAtomicWithChecksum(t *testing.T) {
	h := NewLocal("h1", "127.0.2.1", "")
	dst := filepath.Join(t.TempDir(), "a", "b", "hactl")
	ctx := context.Background()
	if err := h.Upload(ctx, dst, strings.NewReader("v1"), 0o755, sha("v1")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("uploaded file: %v %v", fi, err)
	}
	err = h.Upload(ctx, dst, strings.NewReader("v2-corrupt"), 0o600, sha("v2"))
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("mismatch err = %v", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "v1" {
		t.Errorf("a failed upload changed the file to %q", b)
	}
	ents, _ := os.ReadDir(filepath.Dir(dst))
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if err := h.Upload(ctx, dst, strings.NewReader("v3"), 0o600, ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "v3" {
		t.Errorf("content = %q", b)
	}
}

func TestForEachBoundsConcurrency(t *testing.T) {
	var hosts []Host
	for i := range 20 {
		hosts = append(hosts, NewLocal(string(rune('a'+i)), "", ""))
	}
	var cur, peak atomic.Int32
	errs := ForEach(context.Background(), hosts, 3, func(ctx context.Context, h Host) error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
		if h.Name() == "c" {
			return errors.New("boom")
		}
		return nil
	})
	if peak.Load() > 3 || peak.Load() < 2 {
		t.Errorf("peak concurrency %d, want 2..3", peak.Load())
	}
	if len(errs) != 1 || errs["c"] == nil {
		t.Errorf("errs = %v", errs)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "/opt/x-1.2": "/opt/x-1.2", "": "''", "a b": "'a b'", "it's": `'it'"'"'s'`, "$HOME": "'$HOME'"} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	// And the shell agrees.
	h := NewLocal("h", "", "")
	weird := `a'b"c $x \n`
	r, _ := h.Run(context.Background(), Command{Shell: "printf %s " + ShellQuote(weird)})
	if string(r.Stdout) != weird {
		t.Errorf("round trip through sh: %q", r.Stdout)
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
