package datanode

import (
	"context"
	"sync"

	"github.com/hactl/hactl/runtime/hdfs"
)

// fakeNN is an in-process NameNode's DatanodeProtocol: it records what a
// DataNode tells it and answers heartbeats with its HA state and queued
// commands.
type fakeNN struct {
	mu        sync.Mutex
	info      hdfs.NamespaceInfo
	state     hdfs.HAState
	txid      int64
	cmds      []hdfs.Command
	cmdsFor   map[string][]hdfs.Command // by DataNode UUID
	regs      map[string]hdfs.Registration
	forget    bool // answer the next call with ErrNotRegistered
	heartbeat int
	reports   map[string][]hdfs.ReplicaReport
	events    []hdfs.ReplicaEvent
	bad       []hdfs.LocatedBlock
	commits   []hdfs.CommitSync
	changed   chan struct{}
}

func newFakeNN(state hdfs.HAState, txid int64) *fakeNN {
	return &fakeNN{
		info:  hdfs.NamespaceInfo{NamespaceID: 42, ClusterID: "CID-test", BlockPoolID: testPool},
		state: state, txid: txid, regs: map[string]hdfs.Registration{},
		reports: map[string][]hdfs.ReplicaReport{}, changed: make(chan struct{}, 1000),
	}
}

func (f *fakeNN) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeNN) set(state hdfs.HAState, txid int64, cmds ...hdfs.Command) {
	f.mu.Lock()
	f.state, f.txid, f.cmds = state, txid, append(f.cmds, cmds...)
	f.mu.Unlock()
}

// sendTo queues commands for one DataNode's next heartbeat.
func (f *fakeNN) sendTo(uuid string, cmds ...hdfs.Command) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmdsFor == nil {
		f.cmdsFor = map[string][]hdfs.Command{}
	}
	f.cmdsFor[uuid] = append(f.cmdsFor[uuid], cmds...)
}

func (f *fakeNN) check(uuid string) error {
	if f.forget {
		f.forget = false
		delete(f.regs, uuid)
	}
	if _, ok := f.regs[uuid]; !ok {
		return hdfs.ErrNotRegistered
	}
	return nil
}

func (f *fakeNN) VersionRequest(ctx context.Context) (hdfs.NamespaceInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info, nil
}

func (f *fakeNN) RegisterDatanode(ctx context.Context, reg hdfs.Registration) (hdfs.Registration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.regs[reg.UUID] = reg
	defer f.signal()
	return reg, nil
}

func (f *fakeNN) SendHeartbeat(ctx context.Context, hb hdfs.Heartbeat) (hdfs.HeartbeatResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.signal()
	if err := f.check(hb.Reg.UUID); err != nil {
		return hdfs.HeartbeatResponse{}, err
	}
	f.heartbeat++
	resp := hdfs.HeartbeatResponse{Commands: append(f.cmds, f.cmdsFor[hb.Reg.UUID]...), HAStatus: hdfs.NNHAStatus{State: f.state, Txid: f.txid}}
	f.cmds = nil
	delete(f.cmdsFor, hb.Reg.UUID)
	return resp, nil
}

func (f *fakeNN) BlockReport(ctx context.Context, reg hdfs.Registration, replicas []hdfs.ReplicaReport) ([]hdfs.Command, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.signal()
	if err := f.check(reg.UUID); err != nil {
		return nil, err
	}
	f.reports[reg.UUID] = replicas
	return nil, nil
}

func (f *fakeNN) BlockReceivedAndDeleted(ctx context.Context, reg hdfs.Registration, events []hdfs.ReplicaEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.signal()
	if err := f.check(reg.UUID); err != nil {
		return err
	}
	f.events = append(f.events, events...)
	return nil
}

func (f *fakeNN) ReportBadBlocks(ctx context.Context, reg hdfs.Registration, blocks []hdfs.LocatedBlock) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.signal()
	f.bad = append(f.bad, blocks...)
	return nil
}

func (f *fakeNN) CommitBlockSynchronization(ctx context.Context, c hdfs.CommitSync) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.signal()
	f.commits = append(f.commits, c)
	return nil
}
