package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/schema"
)

// HAStatus is a NameNode's GET /ha/status (CONTRACTS.md "NameNode HTTP").
type HAStatus struct {
	State               string `json:"state"`
	ReadyToBecomeActive bool   `json:"readyToBecomeActive"`
	NotReadyReason      string `json:"notReadyReason"`
	Nameservice         string `json:"nameservice"`
	NamenodeID          string `json:"namenodeId"`
	LastAppliedTxid     int64  `json:"lastAppliedTxid"`
	Epoch               int64  `json:"epoch"`
	// Journal is the active's journal writer's view of each JournalNode
	// (absent on a standby, and from NameNodes older than the field).
	Journal []JournalSync `json:"journal,omitempty"`
}

// JournalSync is whether the active's writer sends a JournalNode the current
// segment's edits (runtime/qjm's LoggerSync).
type JournalSync struct {
	Addr      string `json:"addr"`
	InSync    bool   `json:"inSync"`
	AckedTxid int64  `json:"ackedTxid"`
}

// ZKFCStatus is a ZKFC's GET /zkfc/status.
type ZKFCStatus struct {
	Nameservice  string `json:"nameservice"`
	NamenodeID   string `json:"namenodeId"`
	ElectorState string `json:"electorState"`
	Health       string `json:"health"`
	ZKConnected  bool   `json:"zkConnected"`
	InElection   bool   `json:"inElection"`
}

// SignedClient is an HTTP client whose requests carry the cluster secret's
// signature (runtime/auth), as the HA admin and ZKFC APIs require.
func SignedClient(secret []byte, timeout time.Duration) *http.Client {
	return &http.Client{Transport: &auth.Transport{Secret: secret}, Timeout: timeout}
}

// NameNodeHTTPAddr is host:port of a NameNode's HTTP server.
func NameNodeHTTPAddr(c *schema.Cluster, ns, id string) (string, error) {
	nn, err := lookupNameNode(c, ns, id)
	if err != nil {
		return "", err
	}
	return c.NameNodeHTTPAddr(nn), nil
}

// ZKFCAddr is host:port of the ZKFC of a NameNode.
func ZKFCAddr(c *schema.Cluster, ns, id string) (string, error) {
	nn, err := lookupNameNode(c, ns, id)
	if err != nil {
		return "", err
	}
	return c.ZKFCAddr(ns, nn), nil
}

func lookupNameNode(c *schema.Cluster, ns, id string) (*schema.NameNode, error) {
	n := c.Nameservice(ns)
	if n == nil {
		return nil, fmt.Errorf("no nameservice %q", ns)
	}
	nn := n.NameNode(id)
	if nn == nil {
		return nil, fmt.Errorf("nameservice %s has no NameNode %q", ns, id)
	}
	return nn, nil
}

func getJSON(ctx context.Context, client *http.Client, method, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(remoteMessage(body)))
	}
	if into == nil {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	return nil
}

// remoteMessage extracts Hadoop's RemoteException message when there is one.
func remoteMessage(body []byte) string {
	var re struct {
		RemoteException struct {
			Message string `json:"message"`
		} `json:"RemoteException"`
	}
	if json.Unmarshal(body, &re) == nil && re.RemoteException.Message != "" {
		return re.RemoteException.Message
	}
	if len(body) > 300 {
		body = body[:300]
	}
	return string(body)
}

// GetHAStatus asks a NameNode for its HA state.
func GetHAStatus(ctx context.Context, client *http.Client, hostport string) (*HAStatus, error) {
	var st HAStatus
	if err := getJSON(ctx, client, http.MethodGet, "http://"+hostport+"/ha/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// GetZKFCStatus asks a ZKFC for its elector state.
func GetZKFCStatus(ctx context.Context, client *http.Client, hostport string) (*ZKFCStatus, error) {
	var st ZKFCStatus
	if err := getJSON(ctx, client, http.MethodGet, "http://"+hostport+"/zkfc/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// GracefulFailover asks the ZKFC of the NameNode that should become active
// to take over (it makes the current active cede first).
func GracefulFailover(ctx context.Context, client *http.Client, zkfcHostport string) error {
	return getJSON(ctx, client, http.MethodPost, "http://"+zkfcHostport+"/zkfc/gracefulFailover", nil)
}

// client returns the signed client of env (built from the cluster secret).
func (e *Env) client(ctx context.Context) (*http.Client, error) {
	if e.HTTP != nil {
		return e.HTTP, nil
	}
	s, err := e.Secret(ctx)
	if err != nil {
		return nil, err
	}
	e.HTTP = SignedClient(s, 15*time.Second)
	if e.Dial != nil {
		// Signed requests dialed through the target (every daemon address
		// may be private).
		e.HTTP.Transport = &auth.Transport{Secret: s, Base: e.PublicClient().Transport}
	}
	return e.HTTP, nil
}

// PublicClient is the unsigned client for the daemons' public HTTP (a
// JournalNode's /status), through the target's dialer when there is one.
func (e *Env) PublicClient() *http.Client {
	if e.Dial == nil {
		return http.DefaultClient
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	base.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) { return e.Dial(ctx, addr) }
	return &http.Client{Transport: base, Timeout: 15 * time.Second}
}

// dial is the connection to a daemon at addr: through the target's dialer
// when there is one.
func (e *Env) dial(ctx context.Context, addr string) (net.Conn, error) {
	if e.Dial != nil {
		return e.Dial(ctx, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
