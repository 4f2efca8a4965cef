// Package auth authenticates calls between hactl's daemons with the
// per-cluster secret that apply generates and installs (mode 0600).
//
// HTTP calls carry two headers: X-Hactl-Date (Unix seconds) and
// Authorization: "Hactl " + hex(HMAC-SHA256(secret, METHOD "\n" REQUEST-URI "\n" DATE)).
// A request older or newer than MaxSkew is refused, so a captured signature
// is only replayable briefly and only for the same method and URI.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// ConfKey is the Hadoop-style configuration key naming the secret file.
const ConfKey = "hactl.cluster.secret.file"

// MaxSkew bounds the clock difference accepted between caller and callee.
const MaxSkew = 5 * time.Minute

// ErrUnauthenticated is returned when a call carries no valid proof of the secret.
var ErrUnauthenticated = errors.New("unauthenticated: the call does not prove knowledge of the cluster secret")

// LoadSecret reads the secret file, refusing one that group or others can read
// (a leaked secret lets anyone write to the journal).
func LoadSecret(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("cluster secret %s has mode %04o: it must be readable by its owner only (chmod 0600 %s)", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	s := []byte(strings.TrimSpace(string(data)))
	if len(s) < 16 {
		return nil, fmt.Errorf("cluster secret %s is too short (%d bytes): it needs at least 16", path, len(s))
	}
	return s, nil
}

// MAC returns HMAC-SHA256(secret, parts joined by newlines).
func MAC(secret []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, secret)
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{'\n'})
		}
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// SignRequest adds the authentication headers to an outgoing HTTP request.
func SignRequest(r *http.Request, secret []byte, now time.Time) {
	date := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set("X-Hactl-Date", date)
	r.Header.Set("Authorization", "Hactl "+hex.EncodeToString(MAC(secret, r.Method, r.URL.RequestURI(), date)))
}

// VerifyRequest checks an incoming HTTP request's authentication headers.
func VerifyRequest(r *http.Request, secret []byte, now time.Time) error {
	date := r.Header.Get("X-Hactl-Date")
	sig, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Hactl ")
	if date == "" || !ok {
		return ErrUnauthenticated
	}
	ts, err := strconv.ParseInt(date, 10, 64)
	if err != nil {
		return ErrUnauthenticated
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w (request time is %s off)", ErrUnauthenticated, d.Round(time.Second))
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, MAC(secret, r.Method, r.URL.RequestURI(), date)) {
		return ErrUnauthenticated
	}
	return nil
}

// Transport signs every request it sends with the secret.
type Transport struct {
	Secret []byte
	Base   http.RoundTripper // http.DefaultTransport when nil
	Now    func() time.Time  // time.Now when nil
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	SignRequest(r, t.Secret, now())
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}
