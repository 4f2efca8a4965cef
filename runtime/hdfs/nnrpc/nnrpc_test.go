package nnrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/webhdfs"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// serve starts a NameNode HTTP server with the handler mounted at
// PathPrefix, as the NameNode mounts it, verified for its own address.
func serve(t *testing.T, f *fakeNN) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle(PathPrefix, Handler(f, fakeDNP{f}, HandlerOptions{Verifier: auth.NewVerifier(testSecret, addr)}))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return addr
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newClient(t *testing.T, addrs []string, s *sleeps) *Client {
	t.Helper()
	c, err := NewClient("ns1", addrs, testSecret, ClientOptions{Sleep: s.sleep, MaxFailovers: 4})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	dn1 = hdfs.DatanodeInfo{DatanodeID: hdfs.DatanodeID{UUID: "u1", IP: "127.0.1.1", Hostname: "h1", XferPort: 9866, InfoPort: 9864, IPCPort: 9867},
		Capacity: 100, Remaining: 50, AdminState: hdfs.AdminNormal, Location: "/default-rack"}
	dn2 = hdfs.DatanodeInfo{DatanodeID: hdfs.DatanodeID{UUID: "u2", IP: "127.0.1.2", XferPort: 9866}, AdminState: hdfs.AdminDecommissionInProgress}
	blk = hdfs.ExtendedBlock{PoolID: "BP-1", Block: hdfs.Block{ID: 1073741825, GenStamp: 1001, NumBytes: 42}}
	lb  = hdfs.LocatedBlock{Block: blk, Offset: 128, Locations: []hdfs.DatanodeInfo{dn1, dn2}, StorageIDs: []string{"DS-1", "DS-2"},
		Token: &hdfs.Token{Identifier: []byte{1, 2}, Password: []byte{3}, Kind: "HDFS_BLOCK_TOKEN", Service: "s"}}
	reg = hdfs.Registration{DatanodeID: dn1.DatanodeID, ClusterID: "CID-1", BlockPoolID: "BP-1", StorageUUIDs: []string{"DS-1"}, SoftwareVersion: "v"}
)

// TestClientProtocolRoundTrip: every ClientProtocol call reaches the
// implementation with its arguments intact and returns its results.
func TestClientProtocolRoundTrip(t *testing.T) {
	f := &fakeNN{
		status:   webhdfs.FileStatus{PathSuffix: "", Type: webhdfs.TypeFile, Length: 7, FileID: 16390, Owner: "alice"},
		lb:       lb,
		lbs:      hdfs.LocatedBlocks{FileLength: 170, Blocks: []hdfs.LocatedBlock{lb}, UnderConstruction: true, LastBlock: &lb},
		ok:       true,
		infos:    []hdfs.DatanodeInfo{dn1, dn2},
		defaults: hdfs.ServerDefaults{BlockSize: 128 << 20, BytesPerChecksum: 512, WritePacketSize: 65536, Replication: 3, ChecksumType: "CRC32C"},
	}
	c := newClient(t, []string{serve(t, f)}, &sleeps{})
	ctx := context.Background()
	prev := blk
	excl := []hdfs.DatanodeID{dn2.DatanodeID}
	opts := hdfs.CreateOptions{Perm: 0o640, Overwrite: true, CreateParent: true, Replication: 2, BlockSize: 1 << 20}

	check := func(name string, want ...any) {
		t.Helper()
		got := f.last()
		if got.name != name || !reflect.DeepEqual(got.args, want) {
			t.Errorf("%s reached the NameNode as %s%#v, want %#v", name, got.name, got.args, want)
		}
	}
	eq := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}

	st, err := c.Create(ctx, "/a/f", "DFSClient_1", opts, "alice")
	must(t, err)
	check("Create", "/a/f", "DFSClient_1", opts, "alice")
	eq("Create status", st, f.status)

	alb, ast, err := c.Append(ctx, "/a/f", "DFSClient_1", "alice")
	must(t, err)
	check("Append", "/a/f", "DFSClient_1", "alice")
	eq("Append block", *alb, lb)
	eq("Append status", ast, f.status)

	got, err := c.AddBlock(ctx, "/a/f", "DFSClient_1", &prev, excl, 16390, "alice")
	must(t, err)
	check("AddBlock", "/a/f", "DFSClient_1", &prev, excl, int64(16390), "alice")
	eq("AddBlock", got, lb)

	got, err = c.AddBlock(ctx, "/a/f", "DFSClient_1", nil, nil, 16390, "alice")
	must(t, err)
	check("AddBlock", "/a/f", "DFSClient_1", (*hdfs.ExtendedBlock)(nil), []hdfs.DatanodeID(nil), int64(16390), "alice")

	must(t, c.AbandonBlock(ctx, blk, 16390, "/a/f", "DFSClient_1", "alice"))
	check("AbandonBlock", blk, int64(16390), "/a/f", "DFSClient_1", "alice")

	ok, err := c.Complete(ctx, "/a/f", "DFSClient_1", &prev, 16390, "alice")
	must(t, err)
	check("Complete", "/a/f", "DFSClient_1", &prev, int64(16390), "alice")
	eq("Complete", ok, true)

	lbs, err := c.GetBlockLocations(ctx, "/a/f", 5, 100, "bob")
	must(t, err)
	check("GetBlockLocations", "/a/f", int64(5), int64(100), "bob")
	eq("GetBlockLocations", lbs, f.lbs)

	existing := []hdfs.DatanodeInfo{dn1}
	got, err = c.GetAdditionalDatanode(ctx, "/a/f", 16390, blk, existing, excl, 1, "DFSClient_1", "alice")
	must(t, err)
	check("GetAdditionalDatanode", "/a/f", int64(16390), blk, existing, excl, 1, "DFSClient_1", "alice")
	eq("GetAdditionalDatanode", got, lb)

	got, err = c.UpdateBlockForPipeline(ctx, blk, "DFSClient_1", "alice")
	must(t, err)
	check("UpdateBlockForPipeline", blk, "DFSClient_1", "alice")
	eq("UpdateBlockForPipeline", got, lb)

	nb := blk
	nb.GenStamp++
	nodes := []hdfs.DatanodeID{dn1.DatanodeID}
	must(t, c.UpdatePipeline(ctx, "DFSClient_1", blk, nb, nodes, "alice"))
	check("UpdatePipeline", "DFSClient_1", blk, nb, nodes, "alice")

	must(t, c.Fsync(ctx, "/a/f", 16390, "DFSClient_1", 4096, "alice"))
	check("Fsync", "/a/f", int64(16390), "DFSClient_1", int64(4096), "alice")

	must(t, c.RenewLease(ctx, "DFSClient_1", "alice"))
	check("RenewLease", "DFSClient_1", "alice")

	ok, err = c.RecoverLease(ctx, "/a/f", "DFSClient_2", "alice")
	must(t, err)
	check("RecoverLease", "/a/f", "DFSClient_2", "alice")
	eq("RecoverLease", ok, true)

	infos, err := c.GetDatanodeReport(ctx, hdfs.ReportLive, "hdfs")
	must(t, err)
	check("GetDatanodeReport", hdfs.ReportLive, "hdfs")
	eq("GetDatanodeReport", infos, f.infos)

	must(t, c.ReportBadBlocks(ctx, []hdfs.LocatedBlock{lb}, "alice"))
	check("ReportBadBlocks", []hdfs.LocatedBlock{lb}, "alice")

	d, err := c.GetServerDefaults(ctx)
	must(t, err)
	check("GetServerDefaults")
	eq("GetServerDefaults", d, f.defaults)
}

// TestDatanodeProtocolRoundTrip: every DatanodeProtocol call likewise.
func TestDatanodeProtocolRoundTrip(t *testing.T) {
	truncate := int64(10)
	f := &fakeNN{
		nsInfo: hdfs.NamespaceInfo{NamespaceID: 7, ClusterID: "CID-1", BlockPoolID: "BP-1", SoftwareVersion: "v"},
		reg:    reg,
		hbResp: hdfs.HeartbeatResponse{
			Commands: []hdfs.Command{{Action: hdfs.ActionTransfer, PoolID: "BP-1", Blocks: []hdfs.Block{blk.Block}, Targets: [][]hdfs.DatanodeInfo{{dn2}}},
				{Action: hdfs.ActionRecover, PoolID: "BP-1", Recovering: []hdfs.RecoveringBlock{{Block: blk, Locations: []hdfs.DatanodeInfo{dn1}, NewGenStamp: 1002, TruncateTo: &truncate}}}},
			HAStatus: hdfs.NNHAStatus{State: hdfs.HAActive, Txid: 99},
		},
		cmds: []hdfs.Command{{Action: hdfs.ActionInvalidate, PoolID: "BP-1", Blocks: []hdfs.Block{blk.Block}}},
	}
	c := NewDatanodeClient(serve(t, f), testSecret, nil)
	ctx := context.Background()
	check := func(name string, want ...any) {
		t.Helper()
		got := f.last()
		if got.name != name || !reflect.DeepEqual(got.args, want) {
			t.Errorf("%s reached the NameNode as %s%#v, want %#v", name, got.name, got.args, want)
		}
	}
	ns, err := c.VersionRequest(ctx)
	must(t, err)
	check("VersionRequest")
	if ns != f.nsInfo {
		t.Errorf("VersionRequest = %+v", ns)
	}
	r, err := c.RegisterDatanode(ctx, reg)
	must(t, err)
	check("RegisterDatanode", reg)
	if !reflect.DeepEqual(r, reg) {
		t.Errorf("RegisterDatanode = %+v", r)
	}
	hb := hdfs.Heartbeat{Reg: reg, Reports: []hdfs.StorageReport{{StorageUUID: "DS-1", Capacity: 10, Remaining: 5}}, XceiverCount: 3, FailedVolumes: 1}
	resp, err := c.SendHeartbeat(ctx, hb)
	must(t, err)
	check("SendHeartbeat", hb)
	if !reflect.DeepEqual(resp, f.hbResp) {
		t.Errorf("SendHeartbeat = %+v, want %+v", resp, f.hbResp)
	}
	reps := []hdfs.ReplicaReport{{Block: blk.Block, State: hdfs.ReplicaFinalized, StorageUUID: "DS-1"}}
	cmds, err := c.BlockReport(ctx, reg, reps)
	must(t, err)
	check("BlockReport", reg, reps)
	if !reflect.DeepEqual(cmds, f.cmds) {
		t.Errorf("BlockReport = %+v", cmds)
	}
	evs := []hdfs.ReplicaEvent{{Block: blk.Block, Status: hdfs.StatusReceived, DelHint: "u3", StorageUUID: "DS-1"}}
	must(t, c.BlockReceivedAndDeleted(ctx, reg, evs))
	check("BlockReceivedAndDeleted", reg, evs)
	must(t, c.ReportBadBlocks(ctx, reg, []hdfs.LocatedBlock{lb}))
	check("DNReportBadBlocks", reg, []hdfs.LocatedBlock{lb})
	cs := hdfs.CommitSync{Block: blk, NewGenStamp: 1002, NewLength: 40, CloseFile: true, NewTargets: []hdfs.DatanodeID{dn1.DatanodeID}, NewStorages: []string{"DS-1"}}
	must(t, c.CommitBlockSynchronization(ctx, cs))
	check("CommitBlockSynchronization", cs)
}

// TestErrorsMapBack: a NameNode's sentinel errors come back as Hadoop's
// exceptions for which errors.Is holds, with the NameNode's message.
func TestErrorsMapBack(t *testing.T) {
	cases := []struct {
		err       error
		sentinel  error
		exception string
		msg       string
	}{
		{fmt.Errorf("%w: No lease on /f (inode 16390): File does not exist. Holder DFSClient_1 does not have any open files.", hdfs.ErrLeaseExpired),
			hdfs.ErrLeaseExpired, "LeaseExpiredException", "No lease on /f (inode 16390): File does not exist. Holder DFSClient_1 does not have any open files."},
		{fmt.Errorf("%w: Not replicated yet: /f", hdfs.ErrNotReplicatedYet), hdfs.ErrNotReplicatedYet, "NotReplicatedYetException", "Not replicated yet: /f"},
		{fmt.Errorf("%w: Cannot create file/f. Name node is in safe mode.", hdfs.ErrSafeMode), hdfs.ErrSafeMode, "SafeModeException", "Cannot create file/f. Name node is in safe mode."},
		{fmt.Errorf("%w: failed to create file /f for DFSClient_2: lease held by DFSClient_1", hdfs.ErrAlreadyBeingCreated), hdfs.ErrAlreadyBeingCreated, "AlreadyBeingCreatedException", "failed to create file /f for DFSClient_2: lease held by DFSClient_1"},
		{fmt.Errorf("%w: recovery in progress", hdfs.ErrRecoveryInProgress), hdfs.ErrRecoveryInProgress, "RecoveryInProgressException", "recovery in progress"},
		{fmt.Errorf("%w: /nope", webhdfs.ErrNotFound), webhdfs.ErrNotFound, "FileNotFoundException", "File does not exist: /nope"},
		{fmt.Errorf("%w: user=bob, access=WRITE", webhdfs.ErrPermission), webhdfs.ErrPermission, "AccessControlException", "Permission denied: user=bob, access=WRITE"},
	}
	for _, tc := range cases {
		f := &fakeNN{errFor: map[string][]error{"Create": {tc.err}}}
		c := newClient(t, []string{serve(t, f)}, &sleeps{})
		_, err := c.Create(context.Background(), "/f", "c", hdfs.CreateOptions{}, "u")
		if !errors.Is(err, tc.sentinel) {
			t.Errorf("%v: got %v, not errors.Is %v", tc.err, err, tc.sentinel)
			continue
		}
		var re *webhdfs.RemoteException
		if !errors.As(err, &re) || re.Exception != tc.exception || re.Message != tc.msg {
			t.Errorf("%v: RemoteException %+v, want %s %q", tc.err, re, tc.exception, tc.msg)
		}
		if errors.Is(err, hdfs.ErrLeaseExpired) != (tc.sentinel == hdfs.ErrLeaseExpired) {
			t.Errorf("%v: errors.Is(ErrLeaseExpired) = %v", tc.err, !(tc.sentinel == hdfs.ErrLeaseExpired))
		}
	}
	// A DataNode unknown to the NameNode: the DataNode registers again.
	f := &fakeNN{errFor: map[string][]error{"SendHeartbeat": {fmt.Errorf("%w: Data node u1 is not registered", hdfs.ErrNotRegistered)}}}
	_, err := NewDatanodeClient(serve(t, f), testSecret, nil).SendHeartbeat(context.Background(), hdfs.Heartbeat{Reg: reg})
	if !errors.Is(err, hdfs.ErrNotRegistered) {
		t.Errorf("heartbeat of an unregistered DataNode: %v, not ErrNotRegistered", err)
	}
}

// TestUnsignedRefused: a call without the cluster secret's signature, or
// signed with another secret, never reaches the NameNode.
func TestUnsignedRefused(t *testing.T) {
	f := &fakeNN{}
	addr := serve(t, f)
	resp, err := http.Post("http://"+addr+PathPrefix+opRenewLease, "application/json", strings.NewReader(`{"clientName":"c","user":"u"}`))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned call: status %d, want 401", resp.StatusCode)
	}
	c, err := NewClient("ns1", []string{addr}, []byte("another-secret-of-32-bytes......"), ClientOptions{})
	must(t, err)
	err = c.RenewLease(context.Background(), "c", "u")
	var re *webhdfs.RemoteException
	if !errors.As(err, &re) || re.Exception != "AuthenticationException" || re.StatusCode != http.StatusUnauthorized {
		t.Errorf("call with the wrong secret: %v", err)
	}
	if n := len(f.calls); n != 0 {
		t.Errorf("%d calls reached the NameNode", n)
	}
	// No verifier (no secret configured): refused too.
	srv := httptest.NewServer(Handler(f, nil, HandlerOptions{}))
	defer srv.Close()
	c2, _ := NewClient("ns1", []string{strings.TrimPrefix(srv.URL, "http://")}, testSecret, ClientOptions{})
	if err := c2.RenewLease(context.Background(), "c", "u"); err == nil || !strings.Contains(err.Error(), auth.ConfKey) {
		t.Errorf("call to a NameNode without a secret: %v", err)
	}
}

// TestFailoverToActive: the client finds the active NameNode among
// standbys, remembers it, and fails over again when it becomes standby.
func TestFailoverToActive(t *testing.T) {
	nn1, nn2 := &fakeNN{standby: true}, &fakeNN{}
	s := &sleeps{}
	c := newClient(t, []string{serve(t, nn1), serve(t, nn2)}, s)
	ctx := context.Background()
	for range 3 {
		must(t, c.RenewLease(ctx, "c", "u"))
	}
	if nn2.count("RenewLease") != 3 || nn1.count("RenewLease") != 0 {
		t.Errorf("renewLease on nn1 %d, nn2 %d times: want every call on the active nn2", nn1.count("RenewLease"), nn2.count("RenewLease"))
	}
	// Failover: nn2 becomes standby, nn1 active.
	nn2.setStandby(true)
	nn1.setStandby(false)
	must(t, c.RenewLease(ctx, "c", "u"))
	if nn1.count("RenewLease") != 1 {
		t.Errorf("after the failover renewLease did not reach the new active")
	}
	if c.Active() != c.addrs[0] {
		t.Errorf("active = %s, want nn1", c.Active())
	}
	if len(s.d) != 0 {
		t.Errorf("failing over to a NameNode not yet tried slept %v", s.d)
	}
	// Both standby: the client backs off between rounds and gives up.
	nn1.setStandby(true)
	err := c.RenewLease(ctx, "c", "u")
	if !errors.Is(err, webhdfs.ErrStandby) || !strings.Contains(err.Error(), "giving up after 4 failovers") {
		t.Errorf("all standby: %v", err)
	}
	if len(s.d) == 0 {
		t.Errorf("all standby: no backoff between rounds")
	}
}

// TestAmbiguousFailureRepeatsOnlyIdempotent: a call whose connection broke
// after it was sent is repeated on another NameNode only when Hadoop marks
// it @Idempotent (getBlockLocations), never create (@AtMostOnce).
func TestAmbiguousFailureRepeatsOnlyIdempotent(t *testing.T) {
	// A NameNode that reads the call and drops the connection unanswered.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var mu sync.Mutex
	seen := 0
	drop := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen++
		mu.Unlock()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})}
	go drop.Serve(ln)
	defer drop.Close()
	good := &fakeNN{lbs: hdfs.LocatedBlocks{FileLength: 3}}
	c := newClient(t, []string{ln.Addr().String(), serve(t, good)}, &sleeps{})
	c.known.Store(true) // the dropping NameNode is believed active
	ctx := context.Background()
	if _, err := c.Create(ctx, "/f", "c", hdfs.CreateOptions{}, "u"); err == nil {
		t.Errorf("create was repeated after an ambiguous failure")
	}
	mu.Lock()
	if seen == 0 {
		t.Errorf("create never reached the NameNode that drops calls")
	}
	mu.Unlock()
	if good.count("Create") != 0 {
		t.Errorf("create reached the other NameNode after it may have run")
	}
	lbs, err := c.GetBlockLocations(ctx, "/f", 0, 3, "u")
	if err != nil || lbs.FileLength != 3 {
		t.Errorf("getBlockLocations after an ambiguous failure: %v, %+v", err, lbs)
	}
}

// TestAddBlockRetriesNotReplicatedYet: addBlock is repeated with Hadoop's
// doubling delays while the previous block lacks replicas, and gives up
// after the configured retries.
func TestAddBlockRetriesNotReplicatedYet(t *testing.T) {
	nry := fmt.Errorf("%w: Not replicated yet: /f", hdfs.ErrNotReplicatedYet)
	f := &fakeNN{lb: lb, errFor: map[string][]error{"AddBlock": {nry, nry, nry}}}
	s := &sleeps{}
	c, err := NewClient("ns1", []string{serve(t, f)}, testSecret, ClientOptions{Sleep: s.sleep, BlockWriteRetries: 3, BlockWriteInitialDelay: 400 * time.Millisecond, BlockWriteMaxDelay: time.Second})
	must(t, err)
	got, err := c.AddBlock(context.Background(), "/f", "c", &blk, nil, 1, "u")
	must(t, err)
	if !reflect.DeepEqual(got, lb) || f.count("AddBlock") != 4 {
		t.Errorf("addBlock after 3 refusals: %+v, %d calls", got, f.count("AddBlock"))
	}
	if want := []time.Duration{400 * time.Millisecond, 800 * time.Millisecond, time.Second}; !reflect.DeepEqual(s.d, want) {
		t.Errorf("sleeps %v, want %v", s.d, want)
	}
	f.errFor["AddBlock"] = []error{nry, nry, nry, nry}
	if _, err := c.AddBlock(context.Background(), "/f", "c", &blk, nil, 1, "u"); !errors.Is(err, hdfs.ErrNotReplicatedYet) {
		t.Errorf("addBlock refused more often than the retries: %v", err)
	}
	// Another refusal is not retried.
	f.errFor["AddBlock"] = []error{fmt.Errorf("%w: no lease", hdfs.ErrLeaseExpired)}
	n := f.count("AddBlock")
	if _, err := c.AddBlock(context.Background(), "/f", "c", &blk, nil, 1, "u"); !errors.Is(err, hdfs.ErrLeaseExpired) || f.count("AddBlock") != n+1 {
		t.Errorf("addBlock with an expired lease: %v after %d calls", err, f.count("AddBlock")-n)
	}
}

// TestClientFromConfig reads the NameNodes and the secret from Hadoop XML.
func TestClientFromConfig(t *testing.T) {
	f := &fakeNN{}
	a1, a2 := serve(t, &fakeNN{standby: true}), serve(t, f)
	dir := t.TempDir()
	sec := filepath.Join(dir, "cluster.secret")
	must(t, os.WriteFile(sec, testSecret, 0o600))
	conf := hadoopconf.New()
	conf.Set("dfs.nameservices", "ns1,ns2")
	conf.Set("dfs.ha.namenodes.ns1", "nn1,nn2")
	conf.Set("dfs.namenode.http-address.ns1.nn1", a1)
	conf.Set("dfs.namenode.http-address.ns1.nn2", a2)
	conf.Set("dfs.namenode.http-address.ns2", "127.0.0.1:1")
	conf.Set("dfs.namenode.rpc-address.ns1.nn2", "127.0.0.1:8020")
	conf.Set("dfs.namenode.rpc-address.ns2", "127.0.0.1:2")
	conf.Set(auth.ConfKey, sec)
	c, err := NewClientFromConfig(conf, "ns1", ClientOptions{})
	must(t, err)
	must(t, c.RenewLease(context.Background(), "c", "u"))
	if f.count("RenewLease") != 1 {
		t.Errorf("the call did not reach nn2, the active")
	}
	nns, err := NameNodes(conf)
	must(t, err)
	want := []NameNode{{"ns1", "nn1", a1, ""}, {"ns1", "nn2", a2, "127.0.0.1:8020"}, {"ns2", "", "127.0.0.1:1", "127.0.0.1:2"}}
	if !reflect.DeepEqual(nns, want) {
		t.Errorf("NameNodes = %+v, want %+v", nns, want)
	}
	conf.Unset(auth.ConfKey)
	if _, err := NewClientFromConfig(conf, "ns1", ClientOptions{}); err == nil || !strings.Contains(err.Error(), auth.ConfKey) {
		t.Errorf("no secret configured: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCallTimeout: a NameNode that takes the call and never answers is
// failed over from after ipc.client.rpc-timeout.ms for a call that may be
// repeated, and an at-most-once call returns the timeout.
func TestCallTimeout(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	good := &fakeNN{lbs: hdfs.LocatedBlocks{FileLength: 9}}
	c, err := NewClient("ns1", []string{strings.TrimPrefix(hung.URL, "http://"), serve(t, good)}, testSecret,
		ClientOptions{CallTimeout: 200 * time.Millisecond, Sleep: (&sleeps{}).sleep})
	must(t, err)
	c.known.Store(true) // the hung NameNode is believed active
	lbs, err := c.GetBlockLocations(context.Background(), "/f", 0, 9, "u")
	if err != nil || lbs.FileLength != 9 {
		t.Fatalf("getBlockLocations past a hung NameNode: %v", err)
	}
	c.active.Store(0)
	start := time.Now()
	if _, err := c.Create(context.Background(), "/f", "c", hdfs.CreateOptions{}, "u"); err == nil || good.count("Create") != 0 {
		t.Errorf("create to a hung NameNode: %v, repeated %d times elsewhere", err, good.count("Create"))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("create to a hung NameNode took %v", d)
	}
}
