package zkfc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// ErrNotResponding means the NameNode could not be reached or did not answer in time.
var ErrNotResponding = errors.New("NameNode not responding")

// NameNodeClient calls a NameNode's signed HA admin HTTP endpoints (docs/CONTRACTS.md).
type NameNodeClient struct {
	Addr string // host:port of dfs.namenode.http-address
	HTTP *http.Client
}

// NewNameNodeClient signs every call with secret. Keep-alives are off: a health
// check must notice a restarted NameNode, not reuse a socket to a dead one.
func NewNameNodeClient(addr string, secret []byte) *NameNodeClient {
	tr := &http.Transport{DisableKeepAlives: true}
	return &NameNodeClient{Addr: addr, HTTP: &http.Client{Transport: &auth.Transport{Secret: secret, Base: tr}}}
}

// HAStatus is the body of GET /ha/status.
type HAStatus struct {
	State               string `json:"state"`
	ReadyToBecomeActive bool   `json:"readyToBecomeActive"`
	NotReadyReason      string `json:"notReadyReason"`
	Nameservice         string `json:"nameservice"`
	NamenodeID          string `json:"namenodeId"`
	LastAppliedTxid     int64  `json:"lastAppliedTxid"`
	Epoch               int64  `json:"epoch"`
}

type remoteException struct {
	RemoteException struct {
		Exception string `json:"exception"`
		Message   string `json:"message"`
	} `json:"RemoteException"`
}

func (c *NameNodeClient) call(ctx context.Context, method, path string, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.Addr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: %w", ErrNotResponding, method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: %w", ErrNotResponding, method, path, err)
	}
	return resp.StatusCode, body, nil
}

func remoteError(code int, body []byte) error {
	var re remoteException
	if json.Unmarshal(body, &re) == nil && re.RemoteException.Message != "" {
		return fmt.Errorf("HTTP %d %s: %s", code, re.RemoteException.Exception, re.RemoteException.Message)
	}
	return fmt.Errorf("HTTP %d: %s", code, strings.TrimSpace(string(body)))
}

// Health performs one monitorHealth call and classifies it for the HealthMonitor.
func (c *NameNodeClient) Health(ctx context.Context, timeout time.Duration) (CheckResult, string) {
	code, body, err := c.call(ctx, http.MethodGet, "/ha/health", timeout)
	switch {
	case err != nil:
		return CheckNotResponding, err.Error()
	case code == http.StatusOK:
		return CheckHealthy, ""
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return CheckFailed, "the NameNode refuses this ZKFC's signature: check " + auth.ConfKey + " on both"
	default:
		var h struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(body, &h)
		return CheckUnhealthy, fmt.Sprintf("HTTP %d %s", code, h.Reason)
	}
}

// Status is getServiceStatus.
func (c *NameNodeClient) Status(ctx context.Context, timeout time.Duration) (HAStatus, error) {
	var s HAStatus
	code, body, err := c.call(ctx, http.MethodGet, "/ha/status", timeout)
	if err != nil {
		return s, err
	}
	if code != http.StatusOK {
		return s, remoteError(code, body)
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("/ha/status: %w", err)
	}
	return s, nil
}

// TransitionToActive asks the NameNode to become active.
func (c *NameNodeClient) TransitionToActive(ctx context.Context, timeout time.Duration) error {
	return c.transition(ctx, "/ha/transitionToActive", timeout)
}

// TransitionToStandby asks the NameNode to become standby.
func (c *NameNodeClient) TransitionToStandby(ctx context.Context, timeout time.Duration) error {
	return c.transition(ctx, "/ha/transitionToStandby", timeout)
}

func (c *NameNodeClient) transition(ctx context.Context, path string, timeout time.Duration) error {
	code, body, err := c.call(ctx, http.MethodPost, path, timeout)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s on %s: %w", path, c.Addr, remoteError(code, body))
	}
	return nil
}
