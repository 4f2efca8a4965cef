package zktest

import (
	"os"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func TestEnsembleStartsServesAndLosesQuorum(t *testing.T) {
	if os.Getenv("HACTL_INTEGRATION") != "1" {
		t.Skip("integration test: set HACTL_INTEGRATION=1 (needs Debian's zookeeper package)")
	}
	e := Start(t, Options{Hosts: []string{"127.0.6.4", "127.0.6.5", "127.0.6.6"}})
	conn, _, err := zk.Connect(e.Addrs(), 2*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/zktest", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	e.Kill(0)
	e.Kill(1)
	// The survivor notices within syncLimit × tickTime that it has no quorum.
	deadline := time.Now().Add(5 * time.Second)
	for m := Mode(e.Servers[2].Client); m == "leader" || m == "follower"; m = Mode(e.Servers[2].Client) {
		if time.Now().After(deadline) {
			t.Fatalf("a lone server of three still serves as %s", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.Restart(1)
	data, _, err := conn.Get("/zktest")
	if err != nil || string(data) != "x" {
		t.Fatalf("after quorum came back: %q %v", data, err)
	}
}
