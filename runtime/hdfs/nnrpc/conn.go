package nnrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// errConnect marks a call that never reached the NameNode (the dial
// failed): repeating it elsewhere is always safe.
var errConnect = errors.New("cannot connect")

// maxAnswerBytes bounds an answer (a getBlockLocations of a huge file or a
// DataNode report is the largest).
const maxAnswerBytes = 256 << 20

// signedHTTPClient is an HTTP client whose every request carries the
// cluster secret's signature; base is webhdfs.NewTransport() when nil.
func signedHTTPClient(secret []byte, base *http.Client) *http.Client {
	var rt http.RoundTripper
	if base != nil && base.Transport != nil {
		rt = base.Transport
	} else {
		rt = webhdfs.NewTransport()
	}
	hc := &http.Client{Transport: &auth.Transport{Secret: secret, Base: rt}}
	if base != nil {
		hc.Timeout = base.Timeout
	}
	// A redirect would be re-signed for another Host: never follow one.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// invoke runs one call against the NameNode at addr (host:port of its HTTP
// server) and decodes its result into out (nil: ignored). A NameNode's
// refusal is returned as *webhdfs.RemoteException.
func invoke(ctx context.Context, hc *http.Client, addr, op string, args, out any) error {
	body, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("encode arguments: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+PathPrefix+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return fmt.Errorf("%w: %w", errConnect, err)
		}
		return err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return webhdfs.DecodeError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes)).Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
