// Package datanode is hactl's DataNode (Hadoop's): block storage in
// dfs.datanode.data.dir with Hadoop's layout and meta files, a
// BPOfferService per nameservice reporting to every NameNode, the
// DataTransferProtocol server on dfs.datanode.address (read, write
// pipeline, transfer, block checksum), the NameNode's commands (replicate,
// invalidate, recover), a block scanner, and HTTP on
// dfs.datanode.http.address (/jmx, /prom, signed /dn/ calls between
// DataNodes for block recovery, and a mount point for WebHDFS's data path).
package datanode

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
)

// Options configure a DataNode; ConfigFromHadoop builds them from the XML.
type Options struct {
	DataDirs               []string
	Reserved               int64 // dfs.datanode.du.reserved
	FailedVolumesTolerated int   // dfs.datanode.failed.volumes.tolerated

	XferAddr string // dfs.datanode.address (listen)
	HTTPAddr string // dfs.datanode.http.address (listen)
	// IPCAddr is dfs.datanode.ipc.address: ClientDatanodeProtocol over
	// Hadoop IPC (ipc.go). Empty: no IPC server, and port 0 is advertised.
	IPCAddr     string
	IPCHandlers int // dfs.datanode.handler.count: calls run at once
	// Hostname and IP are advertised to the NameNodes; an empty IP is the
	// listen address's, or (for a wildcard) the address this host reaches
	// the first NameNode from.
	Hostname string
	IP       string

	NameNodes   []NameNode
	Heartbeat   time.Duration // dfs.heartbeat.interval
	BlockReport time.Duration // dfs.blockreport.intervalMsec

	BytesPerChecksum int // dfs.bytes-per-checksum, for replicas this DataNode creates itself
	MaxXceivers      int // dfs.datanode.max.transfer.threads
	SocketTimeout    time.Duration
	ReuseKeepalive   time.Duration // dfs.datanode.socket.reuse.keepalive: idle wait for a connection's next op
	// SyncBehindWrites starts the writeback of a replica being written
	// every 8 MiB (dfs.datanode.sync.behind.writes).
	SyncBehindWrites bool
	// DropCacheBehindWrites drops what sync behind writes wrote back
	// (dfs.datanode.drop.cache.behind.writes).
	DropCacheBehindWrites bool
	// ReadaheadBytes: a reader of a replica has the kernel read this far
	// ahead of it (dfs.datanode.readahead.bytes, 4 MiB; 0 turns it off).
	ReadaheadBytes int64

	ScanPeriod      time.Duration // dfs.datanode.scan.period.hours; <0 disables
	ScanBytesPerSec int64         // dfs.block.scanner.volume.bytes.per.second

	Secret      []byte // the cluster secret: signs /dn/ calls and block tokens
	BlockTokens bool   // dfs.block.access.token.enable

	// The answers of the IPC admin calls (dfsadmin -getDatanodeInfo,
	// -getBalancerBandwidth), and who may make those that act
	// (-triggerBlockReport): with dfs.permissions.enabled, the user the
	// DataNode runs as or a member of dfs.permissions.superusergroup.
	ConfigVersion      string
	BalancerBandwidth  int64 // dfs.datanode.balance.bandwidthPerSec
	PermissionsEnabled bool
	Supergroup         string

	// WebHDFS, when set, serves /webhdfs/v1/ on the HTTP server (the data
	// path the NameNode redirects to).
	WebHDFS http.Handler
	// PeerTransport carries the signed recovery calls to other DataNodes
	// (nil: http.DefaultTransport).
	PeerTransport http.RoundTripper

	Logger *log.Logger
}

// DataNode is a running DataNode.
type DataNode struct {
	opts    Options
	st      *Storage
	id      hdfs.DatanodeID
	bps     map[string]*bpService // nameservice → service
	bpOrder []string
	xferLn  net.Listener
	httpLn  net.Listener
	ipcLn   net.Listener // nil without Options.IPCAddr
	httpSrv *http.Server
	ipcSrv  *ipc.Server
	// procUser is the user the DataNode runs as (the IPC superuser).
	procUser string
	peers    *http.Client

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	xceiver atomic.Int32
	slots   chan struct{}
	connsMu sync.Mutex
	conns   map[net.Conn]bool
	metrics metrics
	scanner *scanner
	started time.Time
	webhdfs atomic.Value // http.Handler
	gaveUp  atomic.Int32 // actors stopped for good
	fatal   chan error   // closed-over error once no actor is left
}

// Start opens the storage, binds both listeners and starts reporting.
func Start(opts Options) (*DataNode, error) {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 3 * time.Second
	}
	if opts.BytesPerChecksum <= 0 {
		opts.BytesPerChecksum = 512
	}
	if opts.MaxXceivers <= 0 {
		opts.MaxXceivers = 4096
	}
	if opts.SocketTimeout <= 0 {
		opts.SocketTimeout = time.Minute
	}
	if opts.ReuseKeepalive <= 0 {
		opts.ReuseKeepalive = 4 * time.Second
	}
	st, err := OpenStorage(opts.DataDirs, opts.Reserved, opts.FailedVolumesTolerated)
	if err != nil {
		return nil, err
	}
	st.SetSyncBehindWrites(opts.SyncBehindWrites)
	st.SetDropCacheBehindWrites(opts.DropCacheBehindWrites)
	dn := &DataNode{opts: opts, st: st, bps: map[string]*bpService{}, conns: map[net.Conn]bool{},
		slots: make(chan struct{}, opts.MaxXceivers), started: time.Now(), fatal: make(chan error, 1)}
	dn.peers = &http.Client{Timeout: opts.SocketTimeout, Transport: &signingTransport{secret: opts.Secret, base: opts.PeerTransport}}
	if dn.xferLn, err = net.Listen("tcp", opts.XferAddr); err != nil {
		return nil, fmt.Errorf("listen on dfs.datanode.address %s: %w", opts.XferAddr, err)
	}
	if dn.httpLn, err = net.Listen("tcp", opts.HTTPAddr); err != nil {
		dn.xferLn.Close()
		return nil, fmt.Errorf("listen on dfs.datanode.http.address %s: %w", opts.HTTPAddr, err)
	}
	if opts.IPCAddr != "" {
		if dn.ipcLn, err = net.Listen("tcp", opts.IPCAddr); err != nil {
			dn.xferLn.Close()
			dn.httpLn.Close()
			return nil, fmt.Errorf("listen on dfs.datanode.ipc.address %s: %w", opts.IPCAddr, err)
		}
	}
	dn.id = dn.advertisedID()
	var nss []string
	byNS := map[string][]NameNode{}
	for _, nn := range opts.NameNodes {
		if _, ok := byNS[nn.Nameservice]; !ok {
			nss = append(nss, nn.Nameservice)
		}
		byNS[nn.Nameservice] = append(byNS[nn.Nameservice], nn)
	}
	for _, ns := range nss {
		dn.bps[ns] = newBPService(dn, ns, byNS[ns], opts.Heartbeat, opts.BlockReport)
		dn.bpOrder = append(dn.bpOrder, ns)
	}
	st.onVolumeFailure = func(root string, err error) {
		dn.logf("volume %s failed: %v", root, err)
		for _, bp := range dn.bps {
			bp.triggerFullReport()
		}
	}
	dn.ctx, dn.cancel = context.WithCancel(context.Background())
	dn.httpSrv = dn.startHTTP()
	dn.startIPC()
	dn.wg.Add(1)
	go func() {
		defer dn.wg.Done()
		dn.serveXfer()
	}()
	for _, ns := range dn.bpOrder {
		dn.bps[ns].run(dn.ctx, &dn.wg)
	}
	dn.scanner = newScanner(dn, opts.ScanPeriod, opts.ScanBytesPerSec)
	if opts.ScanPeriod >= 0 {
		dn.wg.Add(1)
		go func() {
			defer dn.wg.Done()
			dn.scanner.run(dn.ctx)
		}()
	}
	return dn, nil
}

func (dn *DataNode) advertisedID() hdfs.DatanodeID {
	xport := dn.xferLn.Addr().(*net.TCPAddr).Port
	hport := dn.httpLn.Addr().(*net.TCPAddr).Port
	iport := 0
	if dn.ipcLn != nil {
		iport = dn.ipcLn.Addr().(*net.TCPAddr).Port
	}
	ip := dn.opts.IP
	if ip == "" {
		ip = dn.xferLn.Addr().(*net.TCPAddr).IP.String()
		if a := dn.xferLn.Addr().(*net.TCPAddr); a.IP.IsUnspecified() {
			ip = outboundIP(dn.opts.NameNodes)
		}
	}
	host := dn.opts.Hostname
	if host == "" {
		host = ip
	}
	return hdfs.DatanodeID{IP: ip, Hostname: host, XferPort: xport, InfoPort: hport, IPCPort: iport}
}

// outboundIP is the local address this host reaches the first NameNode
// from (no packet is sent): what a wildcard listener is reachable at.
func outboundIP(nns []NameNode) string {
	for _, nn := range nns {
		c, err := net.Dial("udp", nn.Addr)
		if err != nil {
			continue
		}
		ip := c.LocalAddr().(*net.UDPAddr).IP.String()
		c.Close()
		return ip
	}
	return "127.0.0.1"
}

// Close stops the DataNode: listeners, open transfers, actors.
func (dn *DataNode) Close() error {
	dn.cancel()
	dn.xferLn.Close()
	if dn.ipcSrv != nil {
		dn.ipcSrv.Close()
	}
	dn.connsMu.Lock()
	for c := range dn.conns {
		c.Close()
	}
	dn.connsMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := dn.httpSrv.Shutdown(ctx)
	dn.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (dn *DataNode) actorGaveUp(err error) {
	if int(dn.gaveUp.Add(1)) == len(dn.opts.NameNodes) {
		select {
		case dn.fatal <- fmt.Errorf("no NameNode left to serve: %w", err):
		default:
		}
	}
}

// Fatal delivers the error that stops the DataNode for good: every NameNode
// was refused (another cluster's, or a block pool of another namespace).
func (dn *DataNode) Fatal() <-chan error { return dn.fatal }

// ID is the DataNode's identity as registered (UUID known after the first handshake).
func (dn *DataNode) ID() hdfs.DatanodeID {
	id := dn.id
	id.UUID = dn.st.DatanodeUUID()
	return id
}

// XferAddr is the DataTransferProtocol listener's address.
func (dn *DataNode) XferAddr() string { return dn.xferLn.Addr().String() }

// HTTPAddr is the HTTP listener's address.
func (dn *DataNode) HTTPAddr() string { return dn.httpLn.Addr().String() }

// Storage is the dataset (tests, WebHDFS).
func (dn *DataNode) Storage() *Storage { return dn.st }

// Ready reports whether the DataNode is registered with at least one
// NameNode of every nameservice.
func (dn *DataNode) Ready() bool {
	for _, bp := range dn.bps {
		if !bp.registeredAny() {
			return false
		}
	}
	return len(dn.bps) > 0
}

func (dn *DataNode) storage() *Storage           { return dn.st }
func (dn *DataNode) datanodeID() hdfs.DatanodeID { return dn.ID() }
func (dn *DataNode) xceiverCount() int           { return int(dn.xceiver.Load()) }
func (dn *DataNode) logf(format string, args ...any) {
	if dn.opts.Logger != nil {
		dn.opts.Logger.Printf(format, args...)
	}
}

// poolService is the block pool's service, nil when unknown.
func (dn *DataNode) poolService(pool string) *bpService {
	for _, bp := range dn.bps {
		if bp.PoolID() == pool {
			return bp
		}
	}
	return nil
}

// notify queues an incremental report of b's event to every NameNode of its pool.
func (dn *DataNode) notify(b hdfs.ExtendedBlock, status hdfs.ReceivedStatus, storageUUID, delHint string) {
	if bp := dn.poolService(b.PoolID); bp != nil {
		bp.notify(hdfs.ReplicaEvent{Block: b.Block, Status: status, StorageUUID: storageUUID, DelHint: delHint})
	}
}

// reportBad tells the NameNodes of b's pool that this replica is corrupt.
func (dn *DataNode) reportBad(b hdfs.ExtendedBlock, storageUUID string) {
	bp := dn.poolService(b.PoolID)
	if bp == nil {
		return
	}
	dn.logf("replica %s on %s is corrupt: reporting it", b, storageUUID)
	dn.metrics.badBlocks.Add(1)
	ctx, cancel := context.WithTimeout(dn.ctx, dn.opts.SocketTimeout)
	defer cancel()
	bp.reportBadBlocks(ctx, []hdfs.LocatedBlock{{Block: b, Locations: []hdfs.DatanodeInfo{{DatanodeID: dn.ID()}}, StorageIDs: []string{storageUUID}}})
}

// handleCommand carries out a command of the active NameNode.
func (dn *DataNode) handleCommand(ctx context.Context, bp *bpService, cmd hdfs.Command) {
	switch cmd.Action {
	case hdfs.ActionInvalidate:
		for _, b := range cmd.Blocks {
			eb := hdfs.ExtendedBlock{PoolID: cmd.PoolID, Block: b}
			sid, err := dn.st.Invalidate(eb)
			if err != nil && !errors.Is(err, ErrReplicaNotFound) {
				dn.logf("invalidate %s: %v", eb, err)
				continue
			}
			dn.metrics.blocksRemoved.Add(1)
			bp.notify(hdfs.ReplicaEvent{Block: b, Status: hdfs.StatusDeleted, StorageUUID: sid})
		}
	case hdfs.ActionTransfer:
		for i, b := range cmd.Blocks {
			if i >= len(cmd.Targets) || len(cmd.Targets[i]) == 0 {
				continue
			}
			eb, targets := hdfs.ExtendedBlock{PoolID: cmd.PoolID, Block: b}, cmd.Targets[i]
			dn.wg.Add(1)
			go func() {
				defer dn.wg.Done()
				if err := dn.transfer(dn.ctx, eb, targets, "", false); err != nil {
					dn.logf("replicate %s to %v: %v", eb, addrs(targets), err)
					return
				}
				dn.metrics.blocksReplicated.Add(1)
			}()
		}
	case hdfs.ActionRecover:
		for _, rb := range cmd.Recovering {
			dn.wg.Add(1)
			go func() {
				defer dn.wg.Done()
				if err := dn.recoverBlock(dn.ctx, bp, rb); err != nil {
					dn.logf("recover %s: %v", rb.Block, err)
				}
			}()
		}
	default:
		dn.logf("unknown command %s from the NameNode", cmd.Action)
	}
}

func addrs(ds []hdfs.DatanodeInfo) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.XferAddr()
	}
	return out
}

// Status is the /dn/status answer: what readiness checks read.
type Status struct {
	DatanodeUUID string            `json:"datanodeUuid"`
	ClusterID    string            `json:"clusterId"`
	Ready        bool              `json:"ready"`
	XferAddr     string            `json:"xferAddr"`
	Nameservices []NameserviceInfo `json:"nameservices"`
	FailedVols   []string          `json:"failedVolumes"`
}

// NameserviceInfo is one block pool's connection state.
type NameserviceInfo struct {
	Nameservice string            `json:"nameservice"`
	BlockPoolID string            `json:"blockPoolId"`
	Active      string            `json:"activeNamenode"`
	NameNodes   map[string]string `json:"namenodes"` // NameNode ID → "registered" | "connecting"
}

// Status describes the DataNode now.
func (dn *DataNode) Status() Status {
	s := Status{DatanodeUUID: dn.st.DatanodeUUID(), ClusterID: dn.st.ClusterID(), Ready: dn.Ready(),
		XferAddr: dn.ID().XferAddr(), FailedVols: dn.st.FailedVolumes()}
	for _, ns := range dn.bpOrder {
		bp := dn.bps[ns]
		info := NameserviceInfo{Nameservice: ns, BlockPoolID: bp.PoolID(), Active: bp.activeNN(), NameNodes: map[string]string{}}
		for _, a := range bp.actors {
			state := "connecting"
			if a.isRegistered() {
				state = "registered"
			}
			info.NameNodes[a.nn.ID] = state
		}
		s.Nameservices = append(s.Nameservices, info)
	}
	return s
}
