package zkfc

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/zkfc/zktest"
)

// testProcessHAAdminFailover: `hactl runtime haadmin -failover` with
// automatic failover on, through real ZKFC processes and ZooKeeper, as
// Hadoop's DFSHAAdmin does it: the target's ZKFC is asked for a graceful
// failover (the active's ZKFC cedes, the target's wins the election). Both
// directions succeed with Hadoop's message, every acknowledged write
// survives, the elector states follow, and --forcefence is refused as
// Hadoop refuses it with automatic failover.
func testProcessHAAdminFailover(t *testing.T, ens *zktest.Ensemble) {
	c := newProcCluster(t, ens, "nshaadmin", [5]string{"127.0.6.141", "127.0.6.142", "127.0.6.143", "127.0.6.144", "127.0.6.145"})
	if out, code := c.run("runtime", "format-zk", "--conf", c.conf["nn1"], "--non-interactive"); code != 0 {
		t.Fatalf("format-zk: %d\n%s", code, out)
	}
	c.startZKFC("nn1")
	c.startZKFC("nn2")
	act, _ := c.waitActive(30 * time.Second)
	st := peerOf(act)
	c.waitStandbyReady(st, 30*time.Second)

	haadmin := func(args ...string) (string, int) {
		return c.run(append([]string{"runtime", "haadmin", "--conf", c.conf[st], "-ns", c.ns}, args...)...)
	}
	if out, code := haadmin("-failover", "--forcefence", act, st); code != 255 || !strings.Contains(out, "forcefence and forceactive flags not supported with auto-failover enabled.") {
		t.Fatalf("--forcefence with automatic failover: exit %d\n%s", code, out)
	}
	if c.state(act) != "active" {
		t.Fatalf("the refused failover changed the active: %s is %s", act, c.state(act))
	}

	written := 0
	write := func(on string) {
		t.Helper()
		for range 5 {
			if ok, why := c.mkdir(on, fmt.Sprintf("/haadmin/%d", written)); !ok {
				t.Fatalf("mkdir on the active %s: %s", on, why)
			}
			written++
		}
	}
	for i, pair := range [][2]string{{act, st}, {st, act}} {
		from, to := pair[0], pair[1]
		write(from)
		began := time.Now()
		out, code := haadmin("-failover", from, to)
		if code != 0 || !strings.Contains(out, "Failover to NameNode at "+c.nnHost[to]+":8020 successful") {
			t.Fatalf("failover %d, %s -> %s: exit %d\n%s", i+1, from, to, code, out)
		}
		t.Logf("haadmin -failover %s %s: %s", from, to, time.Since(began).Round(time.Millisecond))
		if s := c.state(to); s != "active" {
			t.Fatalf("after haadmin -failover %s %s, %s is %s", from, to, to, s)
		}
		waitFor(t, 10*time.Second, from+" standby", func() bool { return c.state(from) == "standby" })
		// The elector agrees: the target's ZKFC holds the lock, the old
		// active's is back in the election as standby.
		for id, want := range map[string]string{to: "active", from: "standby"} {
			waitFor(t, 10*time.Second, "ZKFC of "+id+" "+want, func() bool {
				code, body, err := c.zkfcCall(id, "GET", "/zkfc/status", 2*time.Second)
				return err == nil && code == 200 && strings.Contains(body, `"electorState":"`+want+`"`)
			})
		}
		write(to)
		c.waitStandbyReady(from, 30*time.Second)
	}
	final, _ := c.active()
	for i := range written {
		if !c.exists(final, fmt.Sprintf("/haadmin/%d", i)) {
			t.Fatalf("acknowledged /haadmin/%d missing after two failovers", i)
		}
	}
	if f := c.fenced(); len(f) != 0 {
		t.Errorf("graceful failovers fenced %v", f)
	}
}
