package namenode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// Client calls a NameNode's HA admin and image transfer endpoints, signing
// every request with the cluster secret (haadmin, bootstrapStandby, the
// standby's checkpoint upload; the ZKFC may use it too).
type Client struct {
	HTTP *http.Client
}

// NewClient returns a client signing with secret; timeout bounds each call.
func NewClient(secret []byte, timeout time.Duration) *Client {
	return &Client{HTTP: &http.Client{Timeout: timeout, Transport: &auth.Transport{Secret: secret}}}
}

// RemoteError is an error a NameNode answered with.
type RemoteError struct {
	Status int
	RemoteException
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return e.Exception + ": " + e.Message
}

func (c *Client) do(ctx context.Context, method, url string, body []byte, hdr http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var re struct{ RemoteException RemoteException }
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		json.Unmarshal(b, &re)
		if re.RemoteException.Message == "" {
			re.RemoteException.Message = string(bytes.TrimSpace(b))
		}
		return nil, &RemoteError{Status: resp.StatusCode, RemoteException: re.RemoteException}
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, method, url string, v any) error {
	resp, err := c.do(ctx, method, url, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// GetServiceStatus calls GET /ha/status on httpAddr.
func (c *Client) GetServiceStatus(ctx context.Context, httpAddr string) (HAStatus, error) {
	var st HAStatus
	err := c.getJSON(ctx, http.MethodGet, "http://"+httpAddr+"/ha/status", &st)
	return st, err
}

// MonitorHealth calls GET /ha/health; an unhealthy NameNode is an error.
func (c *Client) MonitorHealth(ctx context.Context, httpAddr string) error {
	resp, err := c.do(ctx, http.MethodGet, "http://"+httpAddr+"/ha/health", nil, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// TransitionToActive calls POST /ha/transitionToActive.
func (c *Client) TransitionToActive(ctx context.Context, httpAddr string) error {
	return c.getJSON(ctx, http.MethodPost, "http://"+httpAddr+"/ha/transitionToActive", nil)
}

// TransitionToStandby calls POST /ha/transitionToStandby.
func (c *Client) TransitionToStandby(ctx context.Context, httpAddr string) error {
	return c.getJSON(ctx, http.MethodPost, "http://"+httpAddr+"/ha/transitionToStandby", nil)
}

// FetchImage downloads a peer's newest image and checks its checksum.
func (c *Client) FetchImage(ctx context.Context, p Peer) (int64, []byte, error) {
	resp, err := c.do(ctx, http.MethodGet, "http://"+p.HTTPAddr+"/imagetransfer?getimage=1", nil, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	txid, err := strconv.ParseInt(resp.Header.Get("X-Image-Txid"), 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("image from %s has no X-Image-Txid", p.HTTPAddr)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxImageBytes))
	if err != nil {
		return 0, nil, err
	}
	sum := sha256.Sum256(data)
	if got, want := hex.EncodeToString(sum[:]), resp.Header.Get("X-Image-Checksum"); got != want {
		return 0, nil, fmt.Errorf("%w: image from %s has sha256 %s, header says %q", ErrChecksum, p.HTTPAddr, got, want)
	}
	return txid, data, nil
}

// LastTxid returns the last txid a peer has applied.
func (c *Client) LastTxid(ctx context.Context, p Peer) (int64, error) {
	st, err := c.GetServiceStatus(ctx, p.HTTPAddr)
	return st.LastAppliedTxid, err
}

// UploadImage sends a checkpoint to a peer; a standby peer stores it too,
// which is harmless (it keeps only the newest Retained images).
func (c *Client) UploadImage(ctx context.Context, p Peer, txid int64, image []byte) error {
	sum := sha256.Sum256(image)
	hdr := http.Header{"X-Image-Checksum": {hex.EncodeToString(sum[:])}, "Content-Type": {"application/octet-stream"}}
	resp, err := c.do(ctx, http.MethodPut, "http://"+p.HTTPAddr+"/imagetransfer?putimage=1&txid="+strconv.FormatInt(txid, 10), image, hdr)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
