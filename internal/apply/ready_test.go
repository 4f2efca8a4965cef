package apply

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/targets"
	"github.com/hactl/hactl/targets/fake"
)

func loopbackCluster(t *testing.T, jnPort int) *Env {
	c := loadFixture(t, "three", func(src string) string {
		src = strings.NewReplacer("192.168.1.6", "127.0.7.1", "192.168.1.132", "127.0.7.2", "192.168.1.11", "127.0.7.3").Replace(src)
		return strings.Replace(src, `edits_dir = "/hdfs/journalnode"`, `edits_dir = "/hdfs/journalnode"`+"\n    rpc_port = "+strconv.Itoa(jnPort), 1)
	})
	d, err := planner.RenderDesired(c)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return &Env{Cluster: c, Desired: d, Guard: &Guard{}, Now: clk.Now, Sleep: clk.Sleep, ReadyTimeout: time.Minute}
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.7.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestReadyReportsACrashingDaemonWithItsLog(t *testing.T) {
	env := loopbackCluster(t, freePort(t))
	h := fake.New("dim", "127.0.7.1")
	h.On(`supervise status`, `[{"name":"journalnode","state":"failed","last_exit":"exit status 1"}]`, 0)
	h.On(`^tail -n 15 .*journalnode.log$`, "Error: flag provided but not defined: -conf\n", 0)
	env.Hosts = map[string]targets.Host{"dim": h}
	err := DefaultReady(context.Background(), env, "dim", planner.DaemonJournalNode)
	if err == nil || !strings.Contains(err.Error(), "gave up") || !strings.Contains(err.Error(), "flag provided but not defined") {
		t.Fatalf("err = %v, want the supervisor's verdict and the log", err)
	}
}

func TestReadyWaitsForAJournalNodeToListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.7.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := loopbackCluster(t, l.Addr().(*net.TCPAddr).Port)
	env.Hosts = map[string]targets.Host{"dim": fake.New("dim", "127.0.7.1")}
	if err := DefaultReady(context.Background(), env, "dim", planner.DaemonJournalNode); err != nil {
		t.Fatalf("ready: %v", err)
	}
	// Nothing listening and a supervisor that keeps trying: the timeout,
	// on the injected clock.
	env2 := loopbackCluster(t, freePort(t))
	env2.Hosts = map[string]targets.Host{"dim": fake.New("dim", "127.0.7.1")}
	err = DefaultReady(context.Background(), env2, "dim", planner.DaemonJournalNode)
	if err == nil || !strings.Contains(err.Error(), "still not serving after 1m0s") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}
