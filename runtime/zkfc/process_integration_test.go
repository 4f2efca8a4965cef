package zkfc

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/zkfc/zktest"
)

var (
	hactlOnce sync.Once
	hactlBin  string
	hactlErr  error
)

func buildHactl(t *testing.T) string {
	t.Helper()
	hactlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-zkfc-it-")
		if err != nil {
			hactlErr = err
			return
		}
		hactlBin = filepath.Join(dir, "hactl")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", hactlBin, "./cmd/hactl")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			hactlErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hactlErr != nil {
		t.Fatal(hactlErr)
	}
	return hactlBin
}

// testProcesses runs everything as hactl processes: three JournalNodes, two
// NameNodes (format, bootstrap-standby), format-zk and two `hactl runtime
// zkfc`; kill -9 of the active NameNode process makes the other active, which
// holds every acknowledged write and accepts new ones.
func testProcesses(t *testing.T, ens *zktest.Ensemble) {
	c := newProcCluster(t, ens, "nsproc", [5]string{"127.0.6.21", "127.0.6.22", "127.0.6.23", "127.0.6.24", "127.0.6.25"})
	// The ZKFC refuses to start before format-zk (exit 3), format-zk works
	// once and then refuses non-interactively (exit 2).
	if out, code := c.run("runtime", "zkfc", "--conf", c.conf["nn1"], "--id", "nn1"); code != 3 || !strings.Contains(out, "format-zk") {
		t.Fatalf("zkfc before format-zk: exit %d\n%s", code, out)
	}
	if out, code := c.run("runtime", "format-zk", "--conf", c.conf["nn1"], "--non-interactive"); code != 0 {
		t.Fatalf("format-zk: %d\n%s", code, out)
	}
	if out, code := c.run("runtime", "format-zk", "--conf", c.conf["nn1"], "--non-interactive"); code != 2 {
		t.Fatalf("second format-zk: exit %d\n%s", code, out)
	}
	c.startZKFC("nn1")
	c.startZKFC("nn2")
	act, _ := c.waitActive(30 * time.Second)
	st := peerOf(act)
	waitFor(t, 10*time.Second, st+" standby", func() bool { return c.state(st) == "standby" })
	for i := range 10 {
		if ok, why := c.mkdir(act, fmt.Sprintf("/acked/%d", i)); !ok {
			t.Fatalf("mkdir %d on the active %s failed: %s", i, act, why)
		}
	}
	killed := time.Now()
	c.kill(act) // kill -9 of the NameNode process
	waitFor(t, 30*time.Second, st+" accepting writes", func() bool { ok, _ := c.mkdir(st, "/after"); return ok })
	t.Logf("process failover: the new active %s acknowledged a write %s after kill -9 of %s", st, time.Since(killed).Round(time.Millisecond), act)
	for i := range 10 {
		if !c.exists(st, fmt.Sprintf("/acked/%d", i)) {
			t.Fatalf("acknowledged /acked/%d missing on the new active", i)
		}
	}
}

// testProcessHungNameNode: SIGSTOP of the active NameNode process (hung, not
// dead). Its ZKFC's health checks time out, so it quits the election; the
// other ZKFC wins, fences it (graceful transitionToStandby times out, the
// shell method succeeds: the JournalNodes' epochs are the fence) and makes
// its NameNode active, which acknowledges writes. After SIGCONT the old
// NameNode must not acknowledge a write: neither one that was queued on its
// socket while it was stopped (the first thing it serves, while it still
// believes it is active) nor any later one; it ends as a standby holding
// every acknowledged write, and nothing it refused reaches the namespace.
func testProcessHungNameNode(t *testing.T, ens *zktest.Ensemble) {
	c := newProcCluster(t, ens, "nshungproc", [5]string{"127.0.6.101", "127.0.6.102", "127.0.6.103", "127.0.6.104", "127.0.6.105"})
	if out, code := c.run("runtime", "format-zk", "--conf", c.conf["nn1"], "--non-interactive", "--force"); code != 0 {
		t.Fatalf("format-zk: %d\n%s", code, out)
	}
	c.startZKFC("nn1")
	c.startZKFC("nn2")
	c.waitActive(30 * time.Second)
	var acked []string
	for i := range 10 {
		p := fmt.Sprintf("/acked/%d", i)
		waitFor(t, 30*time.Second, "the active acknowledging "+p, func() bool {
			id, _ := c.active()
			if id == "" {
				return false
			}
			ok, _ := c.mkdir(id, p)
			return ok
		})
		acked = append(acked, p)
	}
	act, oldEpoch := c.waitActive(30 * time.Second)
	st := peerOf(act)
	c.waitStandbyReady(st, 30*time.Second)

	stopped := time.Now()
	c.stop(act)
	// A write queued while it is stopped: the kernel accepts the connection,
	// the request waits in the socket until SIGCONT.
	type result struct {
		ok  bool
		why string
	}
	queued := make(chan result, 1)
	go func() {
		ok, why := c.mkdirWith(&http.Client{Timeout: 5 * time.Minute}, act, "/queued-on-the-hung-active")
		queued <- result{ok, why}
	}()
	var newEpoch int64
	waitFor(t, 60*time.Second, st+" active", func() bool {
		s, ok := c.status(st)
		newEpoch = s.Epoch
		return ok && s.State == "active"
	})
	waitFor(t, 30*time.Second, st+" acknowledging a write", func() bool { ok, _ := c.mkdir(st, "/after-stop"); return ok })
	acked = append(acked, "/after-stop")
	t.Logf("SIGSTOP of %s: %s active (epoch %d → %d) and acknowledging writes %s later", act, st, oldEpoch, newEpoch, time.Since(stopped).Round(time.Millisecond))
	if newEpoch <= oldEpoch {
		t.Fatalf("the new active's writer epoch %d is not above the hung one's %d", newEpoch, oldEpoch)
	}
	if f := c.fenced(); len(f) == 0 || f[len(f)-1] != act {
		t.Fatalf("fencing ran against %v: the hung %s was not fenced last", f, act)
	}
	_, zs, err := c.zkfcCall(act, http.MethodGet, "/zkfc/status", 10*time.Second)
	if err != nil || strings.Contains(zs, `"electorState":"active"`) {
		t.Fatalf("the hung NameNode's ZKFC should have quit the election: %v %s", err, zs)
	}

	c.cont(act)
	// Any write sent to it now must be refused, until and after it learns it
	// is no longer active.
	probe := 0
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := fmt.Sprintf("/from-the-old-active/%d", probe)
		probe++
		if ok, _ := c.mkdir(act, p); ok {
			t.Fatalf("the continued old active %s acknowledged %s after the failover", act, p)
		}
		if c.state(act) == "standby" && probe >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the continued old active %s never went standby (state %s)", act, c.state(act))
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case r := <-queued:
		if r.ok {
			t.Fatalf("the write queued on the stopped active %s was acknowledged after SIGCONT", act)
		}
		t.Logf("the write queued while %s was stopped was refused after SIGCONT: %s", act, tailString(r.why, 300))
	case <-time.After(60 * time.Second):
		t.Fatal("the write queued on the stopped NameNode got no answer after SIGCONT")
	}
	t.Logf("%d writes sent to the continued old active, all refused; it is standby", probe)

	if s := c.state(st); s != "active" {
		t.Fatalf("%s is %s after the old active came back", st, s)
	}
	for _, p := range acked {
		if !c.exists(st, p) {
			t.Errorf("acknowledged %s missing on the active %s", p, st)
		}
	}
	if c.exists(st, "/queued-on-the-hung-active") {
		t.Error("the refused queued write reached the namespace")
	}
	if c.exists(st, "/from-the-old-active") {
		t.Error("a refused write of the old active reached the namespace")
	}
	// The old one rejoins as a healthy standby, and the active role can go
	// back to it with every acknowledged write.
	c.waitStandbyReady(act, 60*time.Second)
	c.failoverTo(act)
	waitFor(t, 30*time.Second, act+" acknowledging a write after the failback", func() bool { ok, _ := c.mkdir(act, "/after-failback"); return ok })
	for _, p := range acked {
		if !c.exists(act, p) {
			t.Errorf("acknowledged %s missing on %s after the failback", p, act)
		}
	}
}

// procAck is one acknowledged write: the NameNode that acknowledged it and
// that NameNode's writer epoch (-1 if it changed around the write, so the
// write cannot be attributed to one epoch).
type procAck struct {
	writer int // which of the concurrent writers
	path   string
	nn     string
	epoch  int64
}

// procWriters is the number of concurrent writers of the randomized test,
// each pausing writerPause after each acknowledged write (at most ~300
// writes/s in all).
const (
	procWriters = 3
	writerPause = 10 * time.Millisecond
)

// procFailoverKinds are the faults of testProcessRandomizedFailovers.
var procFailoverKinds = []string{"kill-namenode", "kill-zkfc", "stop-namenode", "graceful", "kill-journalnode"}

// testProcessRandomizedFailovers runs n failovers of random kinds (seeded)
// on hactl processes during continuous WebHDFS writes (procWriters clients),
// then checks the history (checkHistory) on the final active and, after a
// last graceful failover, on the other NameNode. Kinds:
//   - kill-namenode: kill -9 of the active NameNode process, restarted once the other is active;
//   - kill-zkfc: kill -9 of the active's ZKFC (session expiry), restarted;
//   - stop-namenode: SIGSTOP of the active NameNode, SIGCONT once the other
//     is active; a write sent to it then must be refused;
//   - graceful: POST /zkfc/gracefulFailover to the standby's ZKFC;
//   - kill-journalnode: kill -9 of a random JournalNode together with the
//     active NameNode (the new active recovers and writes on the remaining
//     two), both restarted, then a roll brings the JournalNode back in sync.
func testProcessRandomizedFailovers(t *testing.T, ens *zktest.Ensemble, n int, seed int64) {
	t.Logf("randomized process failovers: %d, seed %d (HACTL_FAILOVERS, HACTL_FAILOVER_SEED)", n, seed)
	rnd := newRand(seed)
	c := newProcCluster(t, ens, "nsrandproc", [5]string{"127.0.6.111", "127.0.6.112", "127.0.6.113", "127.0.6.114", "127.0.6.115"})
	if out, code := c.run("runtime", "format-zk", "--conf", c.conf["nn1"], "--non-interactive", "--force"); code != 0 {
		t.Fatalf("format-zk: %d\n%s", code, out)
	}
	c.startZKFC("nn1")
	c.startZKFC("nn2")
	c.waitActive(30 * time.Second)

	var (
		mu   sync.Mutex
		acks []procAck
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	nacks := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	// The writers: procWriters goroutines, each one write at a time, each
	// write retried (on either NameNode) until one acknowledges it; several
	// so that edits are group-committed while the faults strike. The epoch
	// is read before and after the write: a NameNode's epoch changes only
	// when it becomes active again, so equal readings bracket the epoch the
	// write was acknowledged in.
	for w := range procWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := "nn1"
			for i := 0; ; i++ {
				p := fmt.Sprintf("/h/w%d-%06d", w, i)
				for {
					select {
					case <-stop:
						return
					default:
					}
					before, ok := c.status(target)
					if !ok || before.State != "active" {
						target = peerOf(target)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					if ok, _ := c.mkdir(target, p); !ok {
						target = peerOf(target)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					epoch := int64(-1)
					if after, ok := c.status(target); ok && after.State == "active" && after.Epoch == before.Epoch {
						epoch = before.Epoch
					}
					mu.Lock()
					acks = append(acks, procAck{w, p, target, epoch})
					mu.Unlock()
					// A steady stream, not a flood: on an idle machine a
					// flood makes ~100k edits, and every restarted NameNode
					// replays all of them, so the test would get slower as
					// the machine gets faster.
					time.Sleep(writerPause)
					break
				}
			}
		}()
	}
	stopWriter := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWriter)

	kinds := map[string]int{}
	started := time.Now()
	// Per kind: fault → a new active, and fault → recovered (the restarted
	// or continued process back, the next standby ready).
	takeover, cycle := map[string][]time.Duration{}, map[string][]time.Duration{}
	act, epoch := c.waitActive(60 * time.Second)
	st := peerOf(act)
	c.waitStandbyReady(st, 60*time.Second)
	for i := 0; i < n; i++ {
		// Some writes in every epoch.
		from := nacks()
		waitFor(t, 60*time.Second, fmt.Sprintf("writes before failover %d", i), func() bool { return nacks() >= from+3 })
		kind := procFailoverKinds[rnd.Intn(len(procFailoverKinds))]
		kinds[kind]++
		fencedBefore := len(c.fenced())
		fault := time.Now()
		jn := fmt.Sprintf("jn%d", 1+rnd.Intn(3))
		switch kind {
		case "kill-namenode":
			c.kill(act)
		case "kill-zkfc":
			c.kill("zkfc-" + act)
		case "stop-namenode":
			c.stop(act)
		case "graceful":
			c.failoverTo(st)
		case "kill-journalnode":
			c.kill(jn)
			c.kill(act)
		}
		// The other NameNode takes over (or, after a spurious failover under
		// CPU contention, whichever is active in a newer epoch).
		c.waitNewActive(60*time.Second, epoch, fmt.Sprintf("failover %d (%s from %s, epoch %d): a new active", i, kind, act, epoch))
		takeover[kind] = append(takeover[kind], time.Since(fault))
		switch kind {
		case "kill-namenode":
			c.startNN(act)
		case "kill-zkfc":
			c.startZKFC(act)
		case "stop-namenode":
			// Graceful fencing cannot reach a stopped NameNode: the fencing method ran.
			if f := c.fenced()[fencedBefore:]; !slices.Contains(f, act) {
				t.Fatalf("failover %d: the stopped %s was not fenced (fencing ran against %v)", i, act, f)
			}
			c.cont(act)
			p := fmt.Sprintf("/stale/%d", i)
			if ok, _ := c.mkdir(act, p); ok {
				t.Fatalf("failover %d: %s acknowledged %s after SIGCONT although %s was made active", i, act, p, st)
			}
		case "kill-journalnode":
			c.startJN(int(jn[2] - '0'))
			c.startNN(act)
			c.waitPort(c.jns[jn[2]-'1'])
			// A restarted JournalNode takes part from the next segment on.
			waitFor(t, 60*time.Second, fmt.Sprintf("failover %d: a roll on the active", i), func() bool {
				id, _ := c.active()
				return id != "" && c.rollEdits(id) == nil
			})
		}
		act, epoch = c.waitActive(60 * time.Second)
		st = peerOf(act)
		c.waitStandbyReady(st, 60*time.Second)
		cycle[kind] = append(cycle[kind], time.Since(fault))
	}
	// A few writes on the last active, then stop and check the history.
	from := nacks()
	waitFor(t, 60*time.Second, "writes after the last failover", func() bool { return nacks() >= from+3 })
	stopWriter()
	t.Logf("%d failovers (%v) in %s; %d acknowledged writes", n, kinds, time.Since(started).Round(100*time.Millisecond), len(acks))
	for _, k := range procFailoverKinds {
		if len(cycle[k]) > 0 {
			t.Logf("  %-16s ×%-2d takeover median %s max %s; until recovered median %s max %s", k, len(cycle[k]),
				median(takeover[k]), slices.Max(takeover[k]).Round(time.Millisecond), median(cycle[k]), slices.Max(cycle[k]).Round(time.Millisecond))
		}
	}

	final, _ := c.waitActive(60 * time.Second)
	names, err := c.list(final, "/h")
	if err != nil {
		t.Fatal(err)
	}
	if c.exists(final, "/stale") {
		t.Error("a write refused by a continued old active reached the namespace")
	}
	epochs, unattributed, problems := checkHistory(acks, "/h", names)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("history: %d acknowledged writes by %d writers on %d writer epochs (%d not attributable to one epoch); %d problems on the final active %s",
		len(acks), procWriters, epochs, unattributed, len(problems), final)
	if epochs < n/2 {
		t.Errorf("only %d writer epochs with acknowledged writes for %d failovers", epochs, n)
	}
	// The other NameNode (restarted, continued or demoted along the way)
	// holds the same history: fail over to it and list again.
	other := peerOf(final)
	c.waitStandbyReady(other, 60*time.Second)
	c.failoverTo(other)
	waitFor(t, 60*time.Second, other+" active", func() bool { return c.state(other) == "active" })
	if names, err = c.list(other, "/h"); err != nil {
		t.Fatal(err)
	}
	_, _, problems = checkHistory(acks, "/h", names)
	for _, p := range problems {
		t.Errorf("on %s after a last failover: %s", other, p)
	}
}

// checkHistory checks a history of acknowledged writes (in the order they
// were acknowledged; each client writer sends one write at a time) against
// the names listed in dir at the end: every acknowledged path is there
// exactly once; no writer epoch acknowledged writes on two NameNodes; for
// each client writer, epochs never go back (once a quorum promised a newer
// epoch, no older writer's edit can be acknowledged).
// It returns the number of epochs seen, of writes without an epoch, and the
// problems found.
func checkHistory(acks []procAck, dir string, names []string) (epochs, unattributed int, problems []string) {
	count := map[string]int{}
	for _, name := range names {
		count[dir+"/"+name]++
	}
	byEpoch := map[int64]string{}
	last := map[int]procAck{} // per client writer
	for _, a := range acks {
		if got := count[a.path]; got != 1 {
			problems = append(problems, fmt.Sprintf("acknowledged write %s (by %s, epoch %d) is present %d times", a.path, a.nn, a.epoch, got))
		}
		if a.epoch < 0 {
			unattributed++
			continue
		}
		if other, ok := byEpoch[a.epoch]; ok && other != a.nn {
			problems = append(problems, fmt.Sprintf("epoch %d: writes acknowledged by both %s and %s", a.epoch, other, a.nn))
		}
		byEpoch[a.epoch] = a.nn
		if l, ok := last[a.writer]; ok && a.epoch < l.epoch {
			problems = append(problems, fmt.Sprintf("%s was acknowledged by %s in epoch %d after %s was acknowledged by %s in epoch %d",
				a.path, a.nn, a.epoch, l.path, l.nn, l.epoch))
		}
		last[a.writer] = a
	}
	return len(byEpoch), unattributed, problems
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

// failoverRunParams is the number of randomized failovers (HACTL_FAILOVERS,
// default defaultFailovers) and the seed (HACTL_FAILOVER_SEED, else random).
func failoverRunParams() (int, int64) {
	n := defaultFailovers
	if v, err := strconv.Atoi(os.Getenv("HACTL_FAILOVERS")); err == nil && v > 0 {
		n = v
	}
	seed := time.Now().UnixNano() % 100000
	if v, err := strconv.ParseInt(os.Getenv("HACTL_FAILOVER_SEED"), 10, 64); err == nil {
		seed = v
	}
	return n, seed
}

// defaultFailovers: 50 (the count) take ~50 s on the shared 2-core
// machine, each failover being ~1 s of detection and takeover.
const defaultFailovers = 50
