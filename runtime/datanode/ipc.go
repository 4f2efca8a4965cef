package datanode

import (
	"errors"
	"fmt"
	osuser "os/user"
	"time"

	"github.com/hactl/hactl/runtime/hdfs"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
)

// startIPC serves ClientDatanodeProtocol on dfs.datanode.ipc.address: the
// DataNode calls of stock clients (a reader of a file being written asks
// every DataNode of its last block how much of it is visible) and of
// dfsadmin. Without the listener (Options.IPCAddr empty) it does nothing.
func (dn *DataNode) startIPC() {
	if dn.ipcLn == nil {
		return
	}
	if me, err := osuser.Current(); err == nil {
		dn.procUser = me.Username
	}
	o := ipc.Options{MaxQueuedCalls: max(dn.opts.IPCHandlers, 1) * 100, Logf: dn.logf}
	dn.ipcSrv = ipc.NewServer(o, ipc.DatanodeProtocols(ipc.DatanodeOptions{Service: dnService{dn}, IsSuperuser: dn.isSuperuser})...)
	dn.wg.Add(1)
	go func() {
		defer dn.wg.Done()
		dn.ipcSrv.Serve(dn.ipcLn)
	}()
}

// IPCAddr is the IPC listener's address ("" without one).
func (dn *DataNode) IPCAddr() string {
	if dn.ipcLn == nil {
		return ""
	}
	return dn.ipcLn.Addr().String()
}

// dnService is the DataNode as ClientDatanodeProtocol serves it.
type dnService struct{ dn *DataNode }

func (s dnService) ReplicaVisibleLength(b hdfs.ExtendedBlock) (int64, error) {
	n, err := s.dn.st.VisibleLength(b)
	if errors.Is(err, ErrReplicaNotFound) {
		return 0, &ipc.RemoteException{Class: ipc.ClassReplicaNotFound, Message: "Replica not found for " + b.String()}
	}
	return n, err
}

func (s dnService) LocalInfo() (string, string, time.Duration) {
	return softwareVersion, s.dn.opts.ConfigVersion, time.Since(s.dn.started)
}

func (s dnService) TriggerBlockReport(incremental bool, nnAddress string) error {
	found := false
	for _, ns := range s.dn.bpOrder {
		for _, a := range s.dn.bps[ns].actors {
			if nnAddress == "" || a.nn.RPCAddr == nnAddress {
				a.triggerReport(incremental)
				found = true
			}
		}
	}
	if !found && nnAddress != "" {
		return fmt.Errorf("%s is not the RPC address of a NameNode this DataNode reports to", nnAddress)
	}
	return nil
}

func (s dnService) BalancerBandwidth() int64 { return s.dn.opts.BalancerBandwidth }

// isSuperuser is Hadoop's DataNode superuser check: anyone when
// dfs.permissions.enabled is false, else the user the DataNode runs as or
// a member of dfs.permissions.superusergroup (the host's groups).
func (dn *DataNode) isSuperuser(user string) bool {
	if !dn.opts.PermissionsEnabled {
		return true
	}
	if user != "" && user == dn.procUser {
		return true
	}
	u, err := osuser.Lookup(user)
	if err != nil {
		return false
	}
	g, err := osuser.LookupGroup(dn.opts.Supergroup)
	if err != nil {
		return false
	}
	gids, err := u.GroupIds()
	if err != nil {
		return u.Gid == g.Gid
	}
	for _, id := range append(gids, u.Gid) {
		if id == g.Gid {
			return true
		}
	}
	return false
}
