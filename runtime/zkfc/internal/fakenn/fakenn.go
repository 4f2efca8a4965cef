// Package fakenn is a stand-in NameNode for the ZKFC's tests: it serves the signed HA admin HTTP calls of docs/CONTRACTS.md, records transitions, and can be made unhealthy, hung or dead.
package fakenn

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// Cluster groups the NameNodes of one nameservice to check that two are never
// active at once.
type Cluster struct {
	mu         sync.Mutex
	nodes      []*NameNode
	violations []string
}

// Transition is one recorded state change.
type Transition struct {
	At    time.Time
	State string
}

// NameNode is one fake NameNode. Its RPC port only accepts connections and the
// line "FENCE", which kills it (what a fencing method does to a real one).
type NameNode struct {
	ID       string
	HTTPAddr string
	RPCAddr  string
	secret   []byte
	verifier *auth.Verifier
	cluster  *Cluster

	mu          sync.Mutex
	state       string
	healthy     bool
	hung        chan struct{} // non-nil while hung: handlers wait on it
	dead        bool
	transitions []Transition
	httpL       net.Listener
	rpcL        net.Listener
	srv         *http.Server
	conns       map[net.Conn]struct{}
}

// Start serves a standby, healthy NameNode on httpAddr and rpcAddr.
func (c *Cluster) Start(id, httpAddr, rpcAddr string, secret []byte) (*NameNode, error) {
	n := &NameNode{ID: id, HTTPAddr: httpAddr, RPCAddr: rpcAddr, secret: secret, verifier: auth.NewVerifier(secret, httpAddr), cluster: c,
		state: "standby", healthy: true, conns: map[net.Conn]struct{}{}}
	if err := n.listen(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n, nil
}

func (n *NameNode) listen() error {
	hl, err := net.Listen("tcp", n.HTTPAddr)
	if err != nil {
		return err
	}
	rl, err := net.Listen("tcp", n.RPCAddr)
	if err != nil {
		hl.Close()
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(n.serveHTTP), ConnState: func(c net.Conn, s http.ConnState) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if s == http.StateNew {
			n.conns[c] = struct{}{}
		} else if s == http.StateClosed || s == http.StateHijacked {
			delete(n.conns, c)
		}
	}}
	n.mu.Lock()
	n.httpL, n.rpcL, n.srv, n.dead = hl, rl, srv, false
	n.mu.Unlock()
	go srv.Serve(hl)
	go n.serveRPC(rl)
	return nil
}

func (n *NameNode) serveRPC(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			if strings.TrimSpace(line) == "FENCE" {
				n.Kill()
			}
		}()
	}
}

// Kill is kill -9: both ports refuse connections, open ones are cut.
func (n *NameNode) Kill() {
	n.mu.Lock()
	if n.dead {
		n.mu.Unlock()
		return
	}
	n.dead = true
	hl, rl, srv := n.httpL, n.rpcL, n.srv
	conns := n.conns
	n.conns = map[net.Conn]struct{}{}
	if n.hung != nil {
		close(n.hung)
		n.hung = nil
	}
	n.record("dead")
	n.mu.Unlock()
	hl.Close()
	rl.Close()
	for c := range conns {
		c.Close()
	}
	go srv.Close()
}

// Restart brings a killed NameNode back as a fresh standby.
func (n *NameNode) Restart() error {
	n.mu.Lock()
	n.state, n.healthy = "standby", true
	n.record("standby")
	n.mu.Unlock()
	return n.listen()
}

// Hang makes the HA calls block (a SIGSTOPped process: connections are
// accepted by the kernel, nothing answers); Hang(false) resumes.
func (n *NameNode) Hang(on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if on && n.hung == nil {
		n.hung = make(chan struct{})
	} else if !on && n.hung != nil {
		close(n.hung)
		n.hung = nil
	}
}

// SetHealthy makes /ha/health answer 200 or 503.
func (n *NameNode) SetHealthy(h bool) {
	n.mu.Lock()
	n.healthy = h
	n.mu.Unlock()
}

// State is the NameNode's role ("active", "standby"), and whether it is dead.
func (n *NameNode) State() (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state, n.dead
}

// ActiveAlive reports whether it is active and not dead.
func (n *NameNode) ActiveAlive() bool {
	s, dead := n.State()
	return s == "active" && !dead
}

// Transitions returns the recorded history.
func (n *NameNode) Transitions() []Transition {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Transition(nil), n.transitions...)
}

// BecameActiveAfter returns when it last became active after t (zero if not).
func (n *NameNode) BecameActiveAfter(t time.Time) time.Time {
	var at time.Time
	for _, tr := range n.Transitions() {
		if tr.State == "active" && tr.At.After(t) {
			at = tr.At
		}
	}
	return at
}

func (n *NameNode) record(s string) { n.transitions = append(n.transitions, Transition{time.Now(), s}) }

func (n *NameNode) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := n.verifier.Verify(r); err != nil {
		http.Error(w, `{"RemoteException":{"exception":"AccessControlException","message":"unsigned"}}`, http.StatusUnauthorized)
		return
	}
	n.mu.Lock()
	hung := n.hung
	n.mu.Unlock()
	if hung != nil {
		select {
		case <-hung:
		case <-r.Context().Done():
			return
		}
	}
	n.mu.Lock()
	if n.dead {
		n.mu.Unlock()
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	defer n.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "GET /ha/health":
		if n.healthy {
			writeJSON(w, 200, map[string]any{"healthy": true})
		} else {
			writeJSON(w, 503, map[string]any{"healthy": false, "reason": "made unhealthy by the test"})
		}
	case "GET /ha/status":
		writeJSON(w, 200, map[string]any{"state": n.state, "readyToBecomeActive": n.healthy, "namenodeId": n.ID})
	case "POST /ha/transitionToActive":
		if n.cluster != nil {
			n.cluster.checkNoOtherActive(n)
		}
		if n.state != "active" {
			n.state = "active"
			n.record("active")
		}
		writeJSON(w, 200, map[string]any{"state": "active"})
	case "POST /ha/transitionToStandby":
		if n.state != "standby" {
			n.state = "standby"
			n.record("standby")
		}
		writeJSON(w, 200, map[string]any{"state": "standby"})
	default:
		http.NotFound(w, r)
	}
}

// checkNoOtherActive is called with n.mu held.
func (c *Cluster) checkNoOtherActive(n *NameNode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.nodes {
		if o == n {
			continue
		}
		// o.mu may be held by a hung handler of o: TryLock, and treat a busy
		// lock as "cannot tell" rather than deadlock.
		if o.mu.TryLock() {
			if o.state == "active" && !o.dead {
				c.violations = append(c.violations, fmt.Sprintf("%s became active while %s was active and alive", n.ID, o.ID))
			}
			o.mu.Unlock()
		}
	}
}

// Violations returns the recorded two-actives events.
func (c *Cluster) Violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.violations...)
}

// Close kills every NameNode.
func (c *Cluster) Close() {
	c.mu.Lock()
	nodes := append([]*NameNode(nil), c.nodes...)
	c.mu.Unlock()
	for _, n := range nodes {
		n.Kill()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
