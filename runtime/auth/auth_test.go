package auth

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSignedRequestVerifiesAndTamperingFails(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	now := time.Unix(1_800_000_000, 0)
	r := httptest.NewRequest("POST", "/ha/transitionToActive", nil)
	SignRequest(r, secret, now)
	if err := VerifyRequest(r, secret, now.Add(time.Minute)); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	if err := VerifyRequest(r, []byte("another-secret-of-16"), now); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("wrong secret accepted: %v", err)
	}
	r2 := httptest.NewRequest("POST", "/ha/transitionToStandby", nil)
	r2.Header = r.Header.Clone()
	if err := VerifyRequest(r2, secret, now); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("signature replayed on another URI accepted: %v", err)
	}
	if err := VerifyRequest(r, secret, now.Add(MaxSkew+time.Second)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("stale request accepted: %v", err)
	}
	if err := VerifyRequest(httptest.NewRequest("GET", "/", nil), secret, now); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unsigned request accepted: %v", err)
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
