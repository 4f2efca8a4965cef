package zkfc

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hactl/hactl/runtime/fence"
)

// ErrUnknownFenceTarget refuses to fence what a breadcrumb names when it is
// not a configured NameNode of this nameservice at its configured address.
// The znodes are writable by whoever holds the ZooKeeper credentials (all
// the world, on a cluster an earlier hactl deployed), so a breadcrumb is a
// claim, not a fact: fencing whatever it names would let its writer have the
// ZKFC kill any process it can reach.
var ErrUnknownFenceTarget = errors.New("refusing to fence: the breadcrumb does not name a configured NameNode of this nameservice")

// FenceTarget returns what to fence for the old active a breadcrumb names:
// always the configured address of one of this nameservice's NameNodes,
// never an address taken from ZooKeeper.
func (c *Config) FenceTarget(old NodeInfo) (fence.Target, error) {
	if old.Nameservice != c.Nameservice {
		return fence.Target{}, fmt.Errorf("%w: it names nameservice %q, this ZKFC serves %q (%s)", ErrUnknownFenceTarget, old.Nameservice, c.Nameservice, old)
	}
	peer, ok := c.Peer(old.NamenodeID)
	if !ok {
		return fence.Target{}, fmt.Errorf("%w: NameNode ID %q is not in dfs.ha.namenodes.%s (%s)", ErrUnknownFenceTarget, old.NamenodeID, c.Nameservice, old)
	}
	if old.Host != "" && (!strings.EqualFold(old.Host, peer.RPCHost) || old.Port != peer.RPCPort) {
		return fence.Target{}, fmt.Errorf("%w: it names %s at %s, but dfs.namenode.rpc-address.%s.%s is %s (%s)", ErrUnknownFenceTarget,
			old.NamenodeID, net.JoinHostPort(old.Host, strconv.Itoa(old.Port)), c.Nameservice, old.NamenodeID,
			net.JoinHostPort(peer.RPCHost, strconv.Itoa(peer.RPCPort)), old)
	}
	return fence.Target{Nameservice: c.Nameservice, NamenodeID: peer.ID, Host: peer.RPCHost, Port: peer.RPCPort}, nil
}
