package nnrpc

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hactl/hactl/runtime/hdfs"
)

// DatanodeClient is hdfs.DatanodeProtocol for one NameNode, as a DataNode's
// BPServiceActor talks to each NameNode of each nameservice on its own: no
// failover, every NameNode is told everything.
type DatanodeClient struct {
	addr string
	hc   *http.Client
}

var _ hdfs.DatanodeProtocol = (*DatanodeClient)(nil)

// NewDatanodeClient returns a client for the NameNode whose HTTP server is
// at addr (dfs.namenode.http-address.<ns>.<nn>). hc supplies the transport
// and timeout (nil: webhdfs.NewTransport(), no timeout; bound calls with
// their context).
func NewDatanodeClient(addr string, secret []byte, hc *http.Client) *DatanodeClient {
	return &DatanodeClient{addr: addr, hc: signedHTTPClient(secret, hc)}
}

// Addr is the NameNode's HTTP address.
func (c *DatanodeClient) Addr() string { return c.addr }

func (c *DatanodeClient) call(ctx context.Context, op string, args, out any) error {
	if err := invoke(ctx, c.hc, c.addr, op, args, out); err != nil {
		return fmt.Errorf("%s on %s: %w", op, c.addr, err)
	}
	return nil
}

func (c *DatanodeClient) VersionRequest(ctx context.Context) (hdfs.NamespaceInfo, error) {
	var out hdfs.NamespaceInfo
	err := c.call(ctx, opVersionRequest, noArgs{}, &out)
	return out, err
}

func (c *DatanodeClient) RegisterDatanode(ctx context.Context, reg hdfs.Registration) (hdfs.Registration, error) {
	var out hdfs.Registration
	err := c.call(ctx, opRegisterDatanode, registrationArgs{Reg: reg}, &out)
	return out, err
}

func (c *DatanodeClient) SendHeartbeat(ctx context.Context, hb hdfs.Heartbeat) (hdfs.HeartbeatResponse, error) {
	var out hdfs.HeartbeatResponse
	err := c.call(ctx, opSendHeartbeat, hb, &out)
	return out, err
}

func (c *DatanodeClient) BlockReport(ctx context.Context, reg hdfs.Registration, replicas []hdfs.ReplicaReport) ([]hdfs.Command, error) {
	var out commandsResult
	err := c.call(ctx, opBlockReport, blockReportArgs{Reg: reg, Replicas: replicas}, &out)
	return out.Commands, err
}

func (c *DatanodeClient) BlockReceivedAndDeleted(ctx context.Context, reg hdfs.Registration, events []hdfs.ReplicaEvent) error {
	return c.call(ctx, opBlockReceivedAndDeleted, blockReceivedAndDeletedArgs{Reg: reg, Events: events}, nil)
}

func (c *DatanodeClient) ReportBadBlocks(ctx context.Context, reg hdfs.Registration, blocks []hdfs.LocatedBlock) error {
	return c.call(ctx, opDatanodeReportBadBlocks, datanodeReportBadBlocksArgs{Reg: reg, Blocks: blocks}, nil)
}

func (c *DatanodeClient) CommitBlockSynchronization(ctx context.Context, cs hdfs.CommitSync) error {
	return c.call(ctx, opCommitBlockSynchronization, cs, nil)
}
