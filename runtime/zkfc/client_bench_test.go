package zkfc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestClientFailoverBenchmark measures what a user sees after kill -9 of the
// active NameNode: the time from the kill to the first `hactl fs mkdir`
// acknowledged, each attempt a new hactl process (so the active-NameNode
// cache file under $XDG_CACHE_HOME/hactl, naming the dead NameNode, is part
// of the path), next to the server-side failover time of the same run (kill
// → a surviving NameNode answers /ha/status as active). Three NameNodes run
// as processes with three JournalNodes and three ZKFCs on the shipped
// (Hadoop's) defaults; run i first makes nn(i mod 3 + 1) active, so the dead
// active is in every position of the client's list in turn.
//
// Run: HACTL_INTEGRATION=1 HACTL_BENCH=1 [HACTL_BENCH_RUNS=20] go test ./runtime/zkfc -run TestClientFailoverBenchmark -v
func TestClientFailoverBenchmark(t *testing.T) {
	runs := benchRuns(t)
	const seed = 20261206
	rnd := newRand(seed)
	ens := startEnsemble(t)
	c := newProcClusterN(t, ens, "nsclientbench", [3]string{"127.0.6.131", "127.0.6.132", "127.0.6.133"},
		[]string{"127.0.6.134", "127.0.6.135", "127.0.6.136"}, nil)
	if out, code := c.run("runtime", "format-zk", "--conf", c.conf["nn1"], "--non-interactive"); code != 0 {
		t.Fatalf("format-zk: %d\n%s", code, out)
	}
	for _, id := range c.ids {
		c.startZKFC(id)
	}
	cache := t.TempDir()
	// fsMkdir is one `hactl fs mkdir` process, as a user would run it.
	fsMkdir := func(p string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, c.bin, "fs", "mkdir", "-p", "--config", c.conf["nn1"], "--user", nnUser, "hdfs://"+c.ns+p)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	var client, server []time.Duration
	byPos := map[string][]time.Duration{}
	for i := 0; i < runs; i++ {
		want := c.ids[i%len(c.ids)]
		act, _ := c.waitActive(60 * time.Second)
		if act != want {
			c.waitStandbyReady(want, 60*time.Second)
			c.failoverTo(want)
			waitFor(t, 60*time.Second, want+" active", func() bool { return c.state(want) == "active" })
			act = want
		}
		// The user has used the cluster before: the cache names the active.
		if out, err := fsMkdir("/bench/warm"); err != nil {
			t.Fatalf("warm-up mkdir: %v\n%s", err, out)
		}
		for _, id := range c.ids {
			if id != act {
				c.waitStandbyReady(id, 60*time.Second)
			}
		}
		// A crash hits the ZKFC's 1 s health check at a random phase.
		time.Sleep(time.Duration(rnd.Int63n(int64(time.Second))))
		serverDone := make(chan time.Duration, 1)
		killed := time.Now()
		go func() {
			for time.Since(killed) < 60*time.Second {
				for _, id := range c.ids {
					if id == act {
						continue
					}
					if st, ok := c.statusWith(c.quick, id); ok && st.State == "active" {
						serverDone <- time.Since(killed)
						return
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
			serverDone <- -1
		}()
		c.kill(act)
		var last string
		for {
			out, err := fsMkdir(fmt.Sprintf("/bench/%d", i))
			if err == nil {
				break
			}
			last = out
			if time.Since(killed) > 60*time.Second {
				t.Fatalf("run %d: no write acknowledged 60 s after kill -9 of %s: %s", i, act, last)
			}
		}
		d := time.Since(killed)
		sd := <-serverDone
		if sd < 0 {
			t.Fatalf("run %d: no surviving NameNode became active", i)
		}
		client, server = append(client, d), append(server, sd)
		byPos[act] = append(byPos[act], d)
		t.Logf("run %d: killed %s; server failover %s, first hactl fs write acknowledged %s", i, act,
			sd.Round(time.Millisecond), d.Round(time.Millisecond))
		c.startNN(act)
		c.waitPort(c.httpAddr(act))
		c.waitStandbyReady(act, 60*time.Second)
	}
	report(t, "server: kill -9 of the active NameNode → a survivor is active", server)
	report(t, "client: kill -9 of the active NameNode → first hactl fs mkdir acknowledged (new process each)", client)
	for _, id := range c.ids {
		if len(byPos[id]) > 0 {
			report(t, "client, killed active "+id, byPos[id])
		}
	}
}
