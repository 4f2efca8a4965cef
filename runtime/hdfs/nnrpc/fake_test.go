package nnrpc

import (
	"context"
	"sync"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

// fakeNN implements both protocols: it records each call's arguments and
// answers with what the test set, or with err (errFor, per method).
type fakeNN struct {
	mu      sync.Mutex
	calls   []recorded
	errFor  map[string][]error // per method: errors to answer with, in turn, before succeeding
	standby bool

	status   webhdfs.FileStatus
	lb       hdfs.LocatedBlock
	lbs      hdfs.LocatedBlocks
	ok       bool
	infos    []hdfs.DatanodeInfo
	defaults hdfs.ServerDefaults
	nsInfo   hdfs.NamespaceInfo
	reg      hdfs.Registration
	hbResp   hdfs.HeartbeatResponse
	cmds     []hdfs.Command
}

type recorded struct {
	name string
	args []any
}

func (f *fakeNN) rec(name string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, recorded{name, args})
	if f.standby {
		cat := "WRITE"
		if name == "GetBlockLocations" || name == "GetServerDefaults" {
			cat = "READ"
		}
		return webhdfs.StandbyError(cat)
	}
	if errs := f.errFor[name]; len(errs) > 0 {
		f.errFor[name] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeNN) setStandby(v bool) { f.mu.Lock(); f.standby = v; f.mu.Unlock() }

func (f *fakeNN) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.name == name {
			n++
		}
	}
	return n
}

func (f *fakeNN) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

func (f *fakeNN) Create(ctx context.Context, path, clientName string, opts hdfs.CreateOptions, user string) (webhdfs.FileStatus, error) {
	return f.status, f.rec("Create", path, clientName, opts, user)
}
func (f *fakeNN) Append(ctx context.Context, path, clientName, user string) (*hdfs.LocatedBlock, webhdfs.FileStatus, error) {
	lb := f.lb
	return &lb, f.status, f.rec("Append", path, clientName, user)
}
func (f *fakeNN) AddBlock(ctx context.Context, path, clientName string, previous *hdfs.ExtendedBlock, excluded []hdfs.DatanodeID, fileID int64, user string) (hdfs.LocatedBlock, error) {
	return f.lb, f.rec("AddBlock", path, clientName, previous, excluded, fileID, user)
}
func (f *fakeNN) AbandonBlock(ctx context.Context, b hdfs.ExtendedBlock, fileID int64, path, clientName, user string) error {
	return f.rec("AbandonBlock", b, fileID, path, clientName, user)
}
func (f *fakeNN) Complete(ctx context.Context, path, clientName string, last *hdfs.ExtendedBlock, fileID int64, user string) (bool, error) {
	return f.ok, f.rec("Complete", path, clientName, last, fileID, user)
}
func (f *fakeNN) GetBlockLocations(ctx context.Context, path string, offset, length int64, user string) (hdfs.LocatedBlocks, error) {
	return f.lbs, f.rec("GetBlockLocations", path, offset, length, user)
}
func (f *fakeNN) GetAdditionalDatanode(ctx context.Context, path string, fileID int64, b hdfs.ExtendedBlock, existing []hdfs.DatanodeInfo, excluded []hdfs.DatanodeID, numAdditional int, clientName, user string) (hdfs.LocatedBlock, error) {
	return f.lb, f.rec("GetAdditionalDatanode", path, fileID, b, existing, excluded, numAdditional, clientName, user)
}
func (f *fakeNN) UpdateBlockForPipeline(ctx context.Context, b hdfs.ExtendedBlock, clientName, user string) (hdfs.LocatedBlock, error) {
	return f.lb, f.rec("UpdateBlockForPipeline", b, clientName, user)
}
func (f *fakeNN) UpdatePipeline(ctx context.Context, clientName string, oldBlock, newBlock hdfs.ExtendedBlock, newNodes []hdfs.DatanodeID, user string) error {
	return f.rec("UpdatePipeline", clientName, oldBlock, newBlock, newNodes, user)
}
func (f *fakeNN) Fsync(ctx context.Context, path string, fileID int64, clientName string, lastBlockLength int64, user string) error {
	return f.rec("Fsync", path, fileID, clientName, lastBlockLength, user)
}
func (f *fakeNN) RenewLease(ctx context.Context, clientName, user string) error {
	return f.rec("RenewLease", clientName, user)
}
func (f *fakeNN) RecoverLease(ctx context.Context, path, clientName, user string) (bool, error) {
	return f.ok, f.rec("RecoverLease", path, clientName, user)
}
func (f *fakeNN) GetDatanodeReport(ctx context.Context, kind hdfs.DatanodeReportType, user string) ([]hdfs.DatanodeInfo, error) {
	return f.infos, f.rec("GetDatanodeReport", kind, user)
}
func (f *fakeNN) ReportBadBlocks(ctx context.Context, blocks []hdfs.LocatedBlock, user string) error {
	return f.rec("ReportBadBlocks", blocks, user)
}
func (f *fakeNN) GetServerDefaults(ctx context.Context) (hdfs.ServerDefaults, error) {
	return f.defaults, f.rec("GetServerDefaults")
}

type fakeDNP struct{ *fakeNN }

func (f fakeDNP) VersionRequest(ctx context.Context) (hdfs.NamespaceInfo, error) {
	return f.nsInfo, f.rec("VersionRequest")
}
func (f fakeDNP) RegisterDatanode(ctx context.Context, reg hdfs.Registration) (hdfs.Registration, error) {
	return f.reg, f.rec("RegisterDatanode", reg)
}
func (f fakeDNP) SendHeartbeat(ctx context.Context, hb hdfs.Heartbeat) (hdfs.HeartbeatResponse, error) {
	return f.hbResp, f.rec("SendHeartbeat", hb)
}
func (f fakeDNP) BlockReport(ctx context.Context, reg hdfs.Registration, replicas []hdfs.ReplicaReport) ([]hdfs.Command, error) {
	return f.cmds, f.rec("BlockReport", reg, replicas)
}
func (f fakeDNP) BlockReceivedAndDeleted(ctx context.Context, reg hdfs.Registration, events []hdfs.ReplicaEvent) error {
	return f.rec("BlockReceivedAndDeleted", reg, events)
}
func (f fakeDNP) ReportBadBlocks(ctx context.Context, reg hdfs.Registration, blocks []hdfs.LocatedBlock) error {
	return f.rec("DNReportBadBlocks", reg, blocks)
}
func (f fakeDNP) CommitBlockSynchronization(ctx context.Context, c hdfs.CommitSync) error {
	return f.rec("CommitBlockSynchronization", c)
}
