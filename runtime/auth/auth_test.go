package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func signed(t *testing.T, secret []byte, method, url, body string, now time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, url, strings.NewReader(body))
	if err := SignRequest(r, secret, now); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSignedRequestVerifiesAndTamperingFails(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now.Add(time.Minute) }
	r := signed(t, secret, "POST", "http://nn1:9870/ha/transitionToActive", "", now)
	if err := NewVerifier(secret).WithClock(clock).Verify(r); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	if err := NewVerifier([]byte("another-secret-of-16")).WithClock(clock).Verify(r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("wrong secret accepted: %v", err)
	}
	r2 := httptest.NewRequest("POST", "http://nn1:9870/ha/transitionToStandby", nil)
	r2.Header = r.Header.Clone()
	if err := NewVerifier(secret).WithClock(clock).Verify(r2); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("signature replayed on another URI accepted: %v", err)
	}
	if err := NewVerifier(secret).WithClock(func() time.Time { return now.Add(MaxSkew + time.Second) }).Verify(r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("stale request accepted: %v", err)
	}
	if err := NewVerifier(secret).WithClock(clock).Verify(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unsigned request accepted: %v", err)
	}
}

// TestBodyIsSigned replays a captured image upload with another body: the
// signature covers the body digest, so reading the body fails.
func TestBodyIsSigned(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	r := signed(t, secret, "PUT", "http://nn1:9870/imagetransfer?txid=9", "the real image", now)
	forged := httptest.NewRequest("PUT", "http://nn1:9870/imagetransfer?txid=9", strings.NewReader("a forged image"))
	forged.Header = r.Header.Clone()
	v := NewVerifier(secret, "nn1:9870").WithClock(func() time.Time { return now })
	if err := v.Verify(forged); err != nil {
		t.Fatalf("headers are genuine, Verify = %v", err)
	}
	if b, err := io.ReadAll(forged.Body); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("forged body read as %q, %v; want ErrUnauthenticated", b, err)
	}
	// (a fresh Verifier: the forged call spent the nonce on v)
	if err := NewVerifier(secret, "nn1:9870").WithClock(func() time.Time { return now }).Verify(r); err != nil {
		t.Fatalf("genuine request: %v", err)
	}
	if b, err := io.ReadAll(r.Body); err != nil || string(b) != "the real image" {
		t.Fatalf("genuine body read as %q, %v", b, err)
	}
	// The digest header itself is signed.
	forged = httptest.NewRequest("PUT", "http://nn1:9870/imagetransfer?txid=9", strings.NewReader("a forged image"))
	forged.Header = r.Header.Clone()
	sum := sha256.Sum256([]byte("a forged image"))
	forged.Header.Set(hdrContent, hex.EncodeToString(sum[:]))
	forged.Header.Set(hdrNonce, "00")
	if err := NewVerifier(secret).WithClock(func() time.Time { return now }).Verify(forged); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("rewritten digest header accepted: %v", err)
	}
}

// TestHostIsSigned replays a call signed for one NameNode to another.
func TestHostIsSigned(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	r := signed(t, secret, "GET", "http://nn1:9870/imagetransfer?txid=9", "", now)
	if err := NewVerifier(secret, "nn2:9870").WithClock(clock).Verify(r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("call signed for nn1 accepted by nn2: %v", err)
	}
	r.Host = "nn2:9870" // the attacker rewrites the Host header: the MAC breaks
	if err := NewVerifier(secret, "nn2:9870").WithClock(clock).Verify(r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("rewritten Host accepted: %v", err)
	}
	r = signed(t, secret, "GET", "http://NN1:9870/ha/status", "", now)
	if err := NewVerifier(secret, "nn1:9870", "0.0.0.0:1").WithClock(clock).Verify(r); err != nil {
		t.Fatalf("own address refused: %v", err)
	}
}

// TestMutatingCallsAreNotReplayable sends the same signed POST twice.
func TestMutatingCallsAreNotReplayable(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier(secret).WithClock(func() time.Time { return now })
	r := signed(t, secret, "POST", "http://nn1:9870/ha/transitionToStandby", "", now)
	if err := v.Verify(r); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(r); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replayed POST: %v, want ErrReplayed", err)
	}
	g := signed(t, secret, "GET", "http://nn1:9870/ha/status", "", now)
	for range 2 {
		if err := v.Verify(g); err != nil {
			t.Fatalf("a GET is idempotent and may repeat: %v", err)
		}
	}
}

// TestReplayCacheIsBounded fills a small cache: it never grows beyond its
// bound, expired nonces are dropped, and an evicted call is still refused.
func TestReplayCacheIsBounded(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier(secret).WithClock(func() time.Time { return now }).WithMaxNonces(4)
	first := signed(t, secret, "POST", "http://nn1:9870/ha/rollEdits", "", now.Add(-time.Minute))
	if err := v.Verify(first); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := v.Verify(signed(t, secret, "POST", "http://nn1:9870/ha/rollEdits", "", now.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if len(v.seen) > 4 {
		t.Fatalf("cache holds %d nonces, bound 4", len(v.seen))
	}
	if err := v.Verify(first); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("evicted call replayed: %v", err)
	}
	// After MaxSkew every nonce has expired.
	now = now.Add(MaxSkew + 2*time.Second)
	if err := v.Verify(signed(t, secret, "POST", "http://nn1:9870/ha/rollEdits", "", now)); err != nil {
		t.Fatal(err)
	}
	if len(v.seen) != 1 {
		t.Fatalf("after expiry the cache holds %d nonces, want 1", len(v.seen))
	}
}

func TestLoadSecretRefusesReadableFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s")
	if err := os.WriteFile(p, []byte("0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecret(p); err == nil {
		t.Fatal("world-readable secret accepted")
	}
	os.Chmod(p, 0o600)
	s, err := LoadSecret(p)
	if err != nil || string(s) != "0123456789abcdef" {
		t.Fatalf("LoadSecret = %q, %v", s, err)
	}
}
