// Package auth authenticates calls between hactl's daemons with the
// per-cluster secret that apply generates and installs (mode 0600).
//
// HTTP calls carry four headers:
//
//	X-Hactl-Date:           Unix seconds
//	X-Hactl-Nonce:          128 random bits, hex
//	X-Hactl-Content-SHA256: hex SHA-256 of the body (of the empty string when none)
//	Authorization:          "Hactl2 " + hex(HMAC-SHA256(secret, "hactl-http-v2" \n METHOD \n HOST \n REQUEST-URI \n DATE \n NONCE \n BODY-SHA256))
//
// The signature covers the body, so a captured call cannot be replayed
// with another body, and the Host, so it cannot be replayed to another
// daemon (a Verifier told its own addresses refuses any other Host). A
// request older or newer than MaxSkew is refused, and a Verifier remembers
// the nonces of mutating calls (anything but GET and HEAD) for that window,
// so each of them is accepted once. The body digest is checked as the body
// is read: a handler reading a tampered body gets ErrUnauthenticated
// instead of its end.
package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ConfKey is the Hadoop-style configuration key naming the secret file.
const ConfKey = "hactl.cluster.secret.file"

// MaxSkew bounds the clock difference accepted between caller and callee.
const MaxSkew = 5 * time.Minute

// DefaultMaxNonces bounds a Verifier's replay cache.
const DefaultMaxNonces = 1 << 16

const (
	hdrDate    = "X-Hactl-Date"
	hdrNonce   = "X-Hactl-Nonce"
	hdrContent = "X-Hactl-Content-SHA256"
	scheme     = "Hactl2 "
	httpLabel  = "hactl-http-v2"
)

// ErrUnauthenticated is returned when a call carries no valid proof of the secret.
var ErrUnauthenticated = errors.New("unauthenticated: the call does not prove knowledge of the cluster secret")

// ErrReplayed is returned for a mutating call whose nonce was already seen.
var ErrReplayed = fmt.Errorf("%w: replayed (this signed call was already accepted once)", ErrUnauthenticated)

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

var emptySHA256 = hex.EncodeToString(sha256.New().Sum(nil))

func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// SignRequest adds the authentication headers to an outgoing HTTP request.
// The body is read to digest it and replaced by a copy; a body that
// http.NewRequest made rewindable (bytes, strings) is read through GetBody
// instead.
func SignRequest(r *http.Request, secret []byte, now time.Time) error {
	sum := emptySHA256
	if r.Body != nil && r.Body != http.NoBody {
		h := sha256.New()
		if r.GetBody != nil {
			b, err := r.GetBody()
			if err != nil {
				return fmt.Errorf("sign request: %w", err)
			}
			_, err = io.Copy(h, b)
			b.Close()
			if err != nil {
				return fmt.Errorf("sign request: %w", err)
			}
		} else {
			data, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return fmt.Errorf("sign request: %w", err)
			}
			h.Write(data)
			r.Body = io.NopCloser(bytes.NewReader(data))
			r.ContentLength = int64(len(data))
		}
		sum = hex.EncodeToString(h.Sum(nil))
	}
	var nb [16]byte
	rand.Read(nb[:])
	nonce := hex.EncodeToString(nb[:])
	date := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set(hdrDate, date)
	r.Header.Set(hdrNonce, nonce)
	r.Header.Set(hdrContent, sum)
	r.Header.Set("Authorization", scheme+hex.EncodeToString(MAC(secret, httpLabel, r.Method, requestHost(r), r.URL.RequestURI(), date, nonce, sum)))
	return nil
}

// Verifier checks signed requests for one daemon and refuses replays of its
// mutating calls. Create it with NewVerifier; it is safe for concurrent use.
type Verifier struct {
	secret []byte
	hosts  map[string]bool
	now    func() time.Time
	max    int

	mu     sync.Mutex
	seen   map[string]int64 // nonce → the request's date
	order  []string         // nonces in arrival order, for eviction
	head   int              // order[head:] are live
	floor  int64            // calls dated at or before this may have been evicted: refused
	pruned int64
}

// NewVerifier returns a Verifier for secret. hosts are the host:port
// strings callers use to reach this daemon (its configured addresses); a
// request signed for any other Host is refused. Addresses whose host is a
// wildcard or whose port is 0 say nothing about how callers name the
// daemon and are skipped; with none left the Host is signed but not
// checked against a list.
func NewVerifier(secret []byte, hosts ...string) *Verifier {
	v := &Verifier{secret: secret, now: time.Now, max: DefaultMaxNonces, seen: map[string]int64{}}
	for _, h := range hosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil || port == "0" || port == "" {
			continue
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			continue
		}
		if v.hosts == nil {
			v.hosts = map[string]bool{}
		}
		v.hosts[strings.ToLower(h)] = true
	}
	return v
}

// WithClock replaces the clock (tests) and returns v.
func (v *Verifier) WithClock(now func() time.Time) *Verifier { v.now = now; return v }

// WithMaxNonces bounds the replay cache at n entries and returns v.
func (v *Verifier) WithMaxNonces(n int) *Verifier { v.max = n; return v }

// Verify checks r's signature, its Host and, for a mutating call, that its
// nonce is new. On success r.Body is replaced by a reader that fails with
// ErrUnauthenticated at its end when the body does not match the signed
// digest.
func (v *Verifier) Verify(r *http.Request) error {
	date, nonce, sum := r.Header.Get(hdrDate), r.Header.Get(hdrNonce), r.Header.Get(hdrContent)
	sig, ok := strings.CutPrefix(r.Header.Get("Authorization"), scheme)
	if date == "" || nonce == "" || len(sum) != 64 || !ok {
		return ErrUnauthenticated
	}
	ts, err := strconv.ParseInt(date, 10, 64)
	if err != nil {
		return ErrUnauthenticated
	}
	now := v.now()
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w (request time is %s off)", ErrUnauthenticated, d.Round(time.Second))
	}
	host := requestHost(r)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, MAC(v.secret, httpLabel, r.Method, host, r.URL.RequestURI(), date, nonce, sum)) {
		return ErrUnauthenticated
	}
	if v.hosts != nil && !v.hosts[strings.ToLower(host)] {
		return fmt.Errorf("%w: the call was signed for %s, not for this daemon", ErrUnauthenticated, host)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := v.remember(nonce, ts, now.Unix()); err != nil {
			return err
		}
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.Body = &digestReader{r: r.Body, h: sha256.New(), want: sum}
	return nil
}

// remember records a mutating call's nonce. The cache holds every nonce of
// the last MaxSkew (older calls are refused by their date anyway); when it
// is full the oldest entry is evicted and calls dated at or before it are
// refused from then on, so eviction never reopens a replay.
func (v *Verifier) remember(nonce string, ts, now int64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now != v.pruned {
		v.pruned = now
		limit := now - int64(MaxSkew/time.Second)
		for v.head < len(v.order) && v.seen[v.order[v.head]] < limit {
			delete(v.seen, v.order[v.head])
			v.head++
		}
	}
	if _, dup := v.seen[nonce]; dup {
		return ErrReplayed
	}
	if ts <= v.floor {
		return fmt.Errorf("%w: too many signed calls in the last %s to tell whether this one is a replay; send it again", ErrUnauthenticated, MaxSkew)
	}
	for len(v.seen) >= v.max && v.head < len(v.order) {
		old := v.order[v.head]
		if t := v.seen[old]; t > v.floor {
			v.floor = t
		}
		delete(v.seen, old)
		v.head++
	}
	v.seen[nonce] = ts
	v.order = append(v.order, nonce)
	if v.head > len(v.order)/2 && v.head > 1024 {
		v.order = append([]string(nil), v.order[v.head:]...)
		v.head = 0
	}
	return nil
}

type digestReader struct {
	r    io.ReadCloser
	h    hash.Hash
	want string
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(d.h.Sum(nil)) != d.want {
		return n, fmt.Errorf("%w: the body does not match the signed digest", ErrUnauthenticated)
	}
	return n, err
}

func (d *digestReader) Close() error { return d.r.Close() }

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
	if err := SignRequest(r, t.Secret, now()); err != nil {
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}
