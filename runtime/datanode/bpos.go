package datanode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
)

// NameNode is one NameNode a DataNode reports to.
type NameNode struct {
	Nameservice string
	ID          string
	Addr        string // for logs and the status page
	RPCAddr     string // dfs.namenode.rpc-address: what dfsadmin -triggerBlockReport -namenode names
	Proto       hdfs.DatanodeProtocol
}

// bpHost is what a block pool service needs from the DataNode.
type bpHost interface {
	storage() *Storage
	datanodeID() hdfs.DatanodeID
	xceiverCount() int
	handleCommand(ctx context.Context, bp *bpService, cmd hdfs.Command)
	logf(format string, args ...any)
	// actorGaveUp is told of an actor that stopped for good.
	actorGaveUp(err error)
}

// bpService is Hadoop's BPOfferService: one nameservice (block pool) and
// an actor per NameNode of it. Commands are obeyed only from the actor
// whose NameNode claimed active with the highest txid seen.
type bpService struct {
	host bpHost
	ns   string
	hb   time.Duration
	br   time.Duration

	mu             sync.Mutex
	actors         []*bpActor
	active         *bpActor
	lastActiveTxid int64
	nsInfo         *hdfs.NamespaceInfo
}

func newBPService(host bpHost, ns string, nns []NameNode, heartbeat, blockReport time.Duration) *bpService {
	bp := &bpService{host: host, ns: ns, hb: heartbeat, br: blockReport, lastActiveTxid: -1}
	for _, nn := range nns {
		bp.actors = append(bp.actors, &bpActor{bp: bp, nn: nn, kick: make(chan struct{}, 1)})
	}
	return bp
}

// PoolID is the block pool, "" before the first handshake.
func (bp *bpService) PoolID() string {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.nsInfo == nil {
		return ""
	}
	return bp.nsInfo.BlockPoolID
}

// verifyAndSetNamespace is the handshake's check: every NameNode of a
// nameservice must name the same block pool and cluster; the first one
// formats the storage and adds the pool.
func (bp *bpService) verifyAndSetNamespace(info hdfs.NamespaceInfo) error {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.nsInfo != nil {
		if info.BlockPoolID != bp.nsInfo.BlockPoolID || info.ClusterID != bp.nsInfo.ClusterID || info.NamespaceID != bp.nsInfo.NamespaceID {
			return fmt.Errorf("NameNode of nameservice %s names block pool %s of cluster %s, another NameNode of it %s of %s",
				bp.ns, info.BlockPoolID, info.ClusterID, bp.nsInfo.BlockPoolID, bp.nsInfo.ClusterID)
		}
		return nil
	}
	st := bp.host.storage()
	if err := st.Format(info.ClusterID); err != nil {
		return err
	}
	if err := st.AddPool(info.BlockPoolID, info.NamespaceID); err != nil {
		return err
	}
	bp.nsInfo = &info
	return nil
}

func (bp *bpService) registration() hdfs.Registration {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	st := bp.host.storage()
	return hdfs.Registration{
		DatanodeID:      bp.host.datanodeID(),
		ClusterID:       bp.nsInfo.ClusterID,
		BlockPoolID:     bp.nsInfo.BlockPoolID,
		StorageUUIDs:    st.StorageUUIDs(),
		SoftwareVersion: softwareVersion,
	}
}

// updateHAState applies a heartbeat's NNHAStatus as Hadoop's
// BPOfferService.updateActorStatesFromHeartbeat: a NameNode claiming active
// becomes the one obeyed only with a txid above every earlier claim (an old
// active that has not noticed its demotion claims with an older txid); a
// NameNode that says standby stops being obeyed.
func (bp *bpService) updateHAState(a *bpActor, st hdfs.NNHAStatus) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	claims := st.State == hdfs.HAActive
	switch {
	case claims && bp.active != a:
		if st.Txid > bp.lastActiveTxid {
			if bp.active != nil {
				bp.host.logf("nameservice %s: NameNode %s claims active with txid %d (was %s): following it", bp.ns, a.nn.ID, st.Txid, bp.active.nn.ID)
			}
			bp.active = a
		} else {
			bp.host.logf("nameservice %s: NameNode %s claims active with txid %d, not above %d: ignored", bp.ns, a.nn.ID, st.Txid, bp.lastActiveTxid)
		}
	case !claims && bp.active == a:
		bp.active = nil
	}
	if bp.active == a {
		bp.lastActiveTxid = st.Txid
	}
}

// accepts says whether commands from a are obeyed now.
func (bp *bpService) accepts(a *bpActor, cmd hdfs.Command) bool {
	if cmd.Action == hdfs.ActionRegister {
		return true // Hadoop's processCommandFromStandby obeys only this
	}
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.active == a
}

func (bp *bpService) processCommands(ctx context.Context, a *bpActor, cmds []hdfs.Command) {
	for _, cmd := range cmds {
		if !bp.accepts(a, cmd) {
			bp.host.logf("nameservice %s: ignoring %s from NameNode %s, which is not the active one", bp.ns, cmd.Action, a.nn.ID)
			continue
		}
		if cmd.Action == hdfs.ActionRegister {
			a.setUnregistered()
			continue
		}
		bp.host.handleCommand(ctx, bp, cmd)
	}
}

// notify queues an incremental report event for every NameNode of the
// pool and wakes the actors, so a received block reaches them promptly.
func (bp *bpService) notify(ev hdfs.ReplicaEvent) {
	for _, a := range bp.actors {
		a.mu.Lock()
		a.pending = append(a.pending, ev)
		a.mu.Unlock()
		a.wake()
	}
}

// reportBadBlocks tells every NameNode of the pool.
func (bp *bpService) reportBadBlocks(ctx context.Context, blocks []hdfs.LocatedBlock) {
	for _, a := range bp.actors {
		if !a.isRegistered() {
			continue
		}
		if err := a.nn.Proto.ReportBadBlocks(ctx, a.reg(), blocks); err != nil {
			bp.host.logf("report bad blocks to %s: %v", a.nn.ID, err)
		}
	}
}

// registeredAny says whether some NameNode of the pool knows this DataNode.
func (bp *bpService) registeredAny() bool {
	for _, a := range bp.actors {
		if a.isRegistered() {
			return true
		}
	}
	return false
}

// activeNN names the NameNode obeyed, "" when none.
func (bp *bpService) activeNN() string {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.active == nil {
		return ""
	}
	return bp.active.nn.ID
}

func (bp *bpService) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, a := range bp.actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run(ctx)
		}()
	}
}

// bpActor is Hadoop's BPServiceActor: one NameNode's conversation.
type bpActor struct {
	bp   *bpService
	nn   NameNode
	kick chan struct{}

	mu         sync.Mutex
	registered bool
	regn       hdfs.Registration
	pending    []hdfs.ReplicaEvent
	lastHB     time.Time
	fullDue    bool
}

func (a *bpActor) wake() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *bpActor) isRegistered() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.registered }
func (a *bpActor) reg() hdfs.Registration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.regn
}
func (a *bpActor) setUnregistered() {
	a.mu.Lock()
	a.registered = false
	a.mu.Unlock()
	a.wake()
}

func (a *bpActor) run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := a.connect(ctx)
		if err == nil {
			err = a.serve(ctx)
		}
		if time.Since(start) > 2*backoff {
			backoff = time.Second // it worked for a while: a new outage starts over
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, hdfs.ErrNotRegistered) {
			a.setUnregistered()
			continue
		}
		if errors.Is(err, ErrIncompatibleCluster) {
			// As Hadoop's BPServiceActor: this NameNode is never served;
			// when no NameNode is left the DataNode stops.
			a.bp.host.logf("nameservice %s NameNode %s (%s): %v; not serving it", a.bp.ns, a.nn.ID, a.nn.Addr, err)
			a.bp.host.actorGaveUp(err)
			return
		}
		a.bp.host.logf("nameservice %s NameNode %s (%s): %v", a.bp.ns, a.nn.ID, a.nn.Addr, err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second) // Hadoop retries every few seconds too
	}
}

// connect is the handshake and registration (Hadoop's
// connectToNNAndHandshake and register): a NameNode of another cluster is
// refused and retried, never obeyed.
func (a *bpActor) connect(ctx context.Context) error {
	if a.isRegistered() {
		return nil
	}
	info, err := a.nn.Proto.VersionRequest(ctx)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if err := a.bp.verifyAndSetNamespace(info); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	reg, err := a.nn.Proto.RegisterDatanode(ctx, a.bp.registration())
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	a.mu.Lock()
	a.regn, a.registered, a.fullDue = reg, true, true
	a.lastHB = time.Time{}
	a.mu.Unlock()
	a.bp.host.logf("registered with NameNode %s of %s (block pool %s)", a.nn.ID, a.bp.ns, reg.BlockPoolID)
	return nil
}

// serve heartbeats, reports and obeys until an error or re-registration.
func (a *bpActor) serve(ctx context.Context) error {
	lastFull := time.Time{}
	for ctx.Err() == nil && a.isRegistered() {
		reg := a.reg()
		a.mu.Lock()
		full := a.fullDue || (a.bp.br > 0 && time.Since(lastFull) >= a.bp.br)
		hbDue := time.Since(a.lastHB) >= a.bp.hb
		events := a.pending
		a.pending = nil
		a.mu.Unlock()
		if len(events) > 0 {
			if err := a.nn.Proto.BlockReceivedAndDeleted(ctx, reg, events); err != nil {
				a.requeue(events)
				return fmt.Errorf("incremental block report: %w", err)
			}
		}
		if hbDue {
			st := a.bp.host.storage()
			resp, err := a.nn.Proto.SendHeartbeat(ctx, hdfs.Heartbeat{
				Reg: reg, Reports: st.Reports(reg.BlockPoolID),
				XceiverCount: a.bp.host.xceiverCount(), FailedVolumes: len(st.FailedVolumes()),
			})
			if err != nil {
				return fmt.Errorf("heartbeat: %w", err)
			}
			a.mu.Lock()
			a.lastHB = time.Now()
			a.mu.Unlock()
			a.bp.updateHAState(a, resp.HAStatus)
			a.bp.processCommands(ctx, a, resp.Commands)
		}
		if full {
			cmds, err := a.nn.Proto.BlockReport(ctx, reg, a.bp.host.storage().Replicas(reg.BlockPoolID))
			if err != nil {
				return fmt.Errorf("block report: %w", err)
			}
			lastFull = time.Now()
			a.mu.Lock()
			a.fullDue = false
			a.mu.Unlock()
			a.bp.processCommands(ctx, a, cmds)
		}
		a.mu.Lock()
		wait := a.bp.hb - time.Since(a.lastHB)
		a.mu.Unlock()
		if a.bp.br > 0 {
			wait = min(wait, a.bp.br-time.Since(lastFull))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-a.kick:
			case <-t.C:
			}
			t.Stop()
		}
	}
	return ctx.Err()
}

func (a *bpActor) requeue(events []hdfs.ReplicaEvent) {
	a.mu.Lock()
	a.pending = append(events, a.pending...)
	a.mu.Unlock()
}

// triggerFullReport makes every actor send a full block report now (after a
// volume failed, its replicas are gone).
func (bp *bpService) triggerFullReport() {
	for _, a := range bp.actors {
		a.triggerReport(false)
	}
}

// triggerReport sends the actor's block report now: the incremental one
// (whatever events are queued; they are never held back) or a full one.
func (a *bpActor) triggerReport(incremental bool) {
	if !incremental {
		a.mu.Lock()
		a.fullDue = true
		a.mu.Unlock()
	}
	a.wake()
}

const softwareVersion = "3.3.6-hactl"
