package fence

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hactl/hactl/e2e/proccluster"
	"github.com/hactl/hactl/internal/netns"
	pb "github.com/hactl/hactl/runtime/hdfs/hadooppb"
	"github.com/hactl/hactl/runtime/hdfs/ipc"
)

// TestIntegrationSSHFenceKillsHungNameNode: a real hactl NameNode, active
// and serving native RPC on a network-namespace host, hangs (SIGSTOP); sshfence
// over OpenSSH's sshd kills what listens on its rpc port — the NameNode —
// and the port is closed afterwards. Before native RPC nothing listened
// there and sshfence reported the target down without killing anything.
func TestIntegrationSSHFenceKillsHungNameNode(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (needs root, ip and OpenSSH's sshd)")
	}
	nc := netns.New(t, netns.Options{Hosts: 1})
	h := nc.Hosts[0]
	_, file, _, _ := runtime.Caller(0)
	bin, err := proccluster.Build(filepath.Join(filepath.Dir(file), "..", ".."), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The JournalNodes on this machine's bridge address, the NameNode on
	// the namespace host (its process in the host's network namespace).
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: bin, Dir: t.TempDir(), NameNodes: 1, Logf: t.Logf,
		Host: func(d string) string {
			if d == "nn1" {
				return h.Addr
			}
			return nc.Gateway
		},
		Wrap: func(d string) []string {
			if d == "nn1" {
				return []string{"ip", "netns", "exec", h.NS}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
	}()
	rpcAddr := c.RPC["nn1"]
	_, portStr, _ := net.SplitHostPort(rpcAddr)
	var port int
	fmt.Sscan(portStr, &port)

	status := func(timeout time.Duration) (pb.HAServiceStateProto, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cl, err := ipc.Dial(ctx, rpcAddr, ipc.ClientOptions{User: "root", Protocol: ipc.ProtocolHAService, DialTimeout: timeout})
		if err != nil {
			return 0, err
		}
		defer cl.Close()
		var st pb.GetServiceStatusResponseProto
		err = cl.Call(ctx, "getServiceStatus", &pb.GetServiceStatusRequestProto{}, &st)
		return st.GetState(), err
	}
	if st, err := status(5 * time.Second); err != nil || st != pb.HAServiceStateProto_ACTIVE {
		t.Fatalf("nn1 over native RPC: %v %v", st, err)
	}
	pid := c.Pid("nn1")
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "hactl" {
		t.Fatalf("pid %d is %q, not the NameNode", pid, comm)
	}
	// Hung: stopped, its socket still listening; a call gets no answer.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, pid)
	if _, err := status(time.Second); !errors.Is(err, context.DeadlineExceeded) {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		ps, _ := exec.Command("ps", "-ef", "--forest").Output()
		t.Fatalf("a stopped NameNode answered: %v\n%s\n%s", err, st, ps)
	}
	f := &SSH{User: "root", Port: 22, KeyFiles: []string{nc.ClientKey}, ConnectTimeout: 5 * time.Second,
		HostKeyCallback: ssh.FixedHostKey(h.HostKey)}
	if err := f.Fence(ctx, Target{Nameservice: c.Nameservice, NamenodeID: "nn1", Host: h.Addr, Port: port}); err != nil {
		t.Fatalf("sshfence: %v", err)
	}
	// The NameNode process is gone (killed while stopped) and the port closed.
	err = c.Stop("nn1", syscall.SIGCONT)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("nn1 after sshfence: %v, want killed by SIGKILL", err)
	}
	if conn, err := net.DialTimeout("tcp", rpcAddr, time.Second); err == nil {
		conn.Close()
		t.Fatal("the rpc port is still open after sshfence")
	}
}

// waitStopped waits until every thread of pid is in group stop: kill
// returns once the signal is queued, and a thread of a busy process may
// still run (and answer a call) until it reaches the stop.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, task := range tasks {
			b, _ := os.ReadFile(task)
			// stat is "pid (comm) S …": the state follows the last ')'.
			if i := strings.LastIndexByte(string(b), ')'); i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				stopped = false
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not stop within 5s of SIGSTOP", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
