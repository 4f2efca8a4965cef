package apply

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/planner"
	"github.com/hactl/hactl/schema"
)

// DefaultLogRollPeriod is Hadoop's dfs.ha.log-roll.period.
const DefaultLogRollPeriod = 120 * time.Second

// jnStatus is the part of a JournalNode's public GET /status that matters here.
type jnStatus struct {
	Journals map[string]struct {
		HighestTxid int64 `json:"highestWrittenTxid"`
	} `json:"journals"`
}

func getJNStatus(ctx context.Context, client *http.Client, hostport string) (*jnStatus, error) {
	var st jnStatus
	if err := getJSON(ctx, client, http.MethodGet, "http://"+hostport+"/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// DefaultJournalInSync waits, after a JournalNode restart, until the
// restarted JournalNode has every edit its peers had when it came back. The
// writer stops sending edits to a JournalNode that missed some until its next
// segment (as Hadoop's QJM does), so restarting the next JournalNode before
// then could leave fewer than a majority in sync and stop every write. The
// wait is bounded by the log-roll period (dfs.ha.log-roll.period) plus a
// margin; an idle cluster passes at once.
func DefaultJournalInSync(ctx context.Context, env *Env, host string) error {
	c := env.Cluster
	var peers []string
	for _, ns := range c.Nameservices {
		if ns.Journal == nil || !slices.Contains(ns.Journal.Hosts, host) {
			continue
		}
		for _, h := range ns.Journal.Hosts {
			if h != host && !slices.Contains(peers, h) {
				peers = append(peers, h)
			}
		}
	}
	addr := c.JournalHTTPAddr
	// What the peers had when this JournalNode came back: it must reach that.
	target := map[string]int64{}
	for _, p := range peers {
		st, err := getJNStatus(ctx, env.PublicClient(), addr(p))
		if err != nil {
			continue // a peer down is the planner's business, not a reason to wait
		}
		for jid, j := range st.Journals {
			if cur, ok := target[jid]; !ok || j.HighestTxid < cur {
				target[jid] = j.HighestTxid
			}
		}
	}
	// Ask the active NameNode to start a new segment now (Hadoop's
	// rollEditLog, what `hdfs dfsadmin -rollEdits` does), so the writer
	// includes this JournalNode again without waiting for the roll period.
	// A NameNode without the call answers 404: then the wait below is all.
	rollEdits(ctx, env, host)
	lastRoll := env.now()
	wait := logRollPeriod(c) + 30*time.Second
	deadline := env.now().Add(max(wait, env.readyTimeout()))
	for {
		st, err := getJNStatus(ctx, env.PublicClient(), addr(host))
		var behind []string
		if err == nil {
			for jid, want := range target {
				if got := st.Journals[jid].HighestTxid; got < want {
					behind = append(behind, fmt.Sprintf("%s at txid %d of %d", jid, got, want))
				}
			}
			// Holding the edits is not enough: the active's writer must
			// send it the current segment again, or the next JournalNode's
			// restart leaves one fewer to finalize it. A roll that reached
			// it before it served RPC left it out: roll again.
			if len(behind) == 0 {
				if behind = leftOutBy(ctx, env, host); len(behind) == 0 {
					return nil
				}
				if env.now().Sub(lastRoll) >= 5*time.Second {
					rollEdits(ctx, env, host)
					lastRoll = env.now()
				}
			}
		}
		if env.now().After(deadline) {
			why := strings.Join(behind, ", ")
			if err != nil {
				why = err.Error()
			}
			return fmt.Errorf("JournalNode on %s is not back in sync after %s (%s): the writer sends it edits again from its next log roll (dfs.ha.log-roll.period); restarting another JournalNode before then could stop every write", host, max(wait, env.readyTimeout()), why)
		}
		if err := env.sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// logRollPeriod reads dfs.ha.log-roll.period from the passthrough (Hadoop's
// time-duration syntax: "120", "120s", "2m").
func logRollPeriod(c *schema.Cluster) time.Duration {
	if c.Hadoop == nil {
		return DefaultLogRollPeriod
	}
	v := strings.TrimSpace(c.Hadoop.HDFSSite["dfs.ha.log-roll.period"])
	if v == "" {
		return DefaultLogRollPeriod
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	return DefaultLogRollPeriod
}

// rollEdits posts a signed /ha/rollEdits to the active NameNode of every
// nameservice whose journal lives on host; failures are ignored.
func rollEdits(ctx context.Context, env *Env, host string) {
	client, err := env.client(ctx)
	if err != nil {
		return
	}
	for _, ns := range env.Cluster.Nameservices {
		if ns.Journal == nil || !slices.Contains(ns.Journal.Hosts, host) {
			continue
		}
		for _, nn := range ns.NameNodes {
			hp, err := NameNodeHTTPAddr(env.Cluster, ns.Name, nn.ID)
			if err != nil {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			st, err := GetHAStatus(cctx, client, hp)
			cancel()
			if err == nil && st.State == "active" {
				// A roll finalizes and starts a segment on every JournalNode
				// (fsyncs): on a loaded machine it outlasts a status call.
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				getJSON(rctx, client, http.MethodPost, "http://"+hp+"/ha/rollEdits", nil)
				cancel()
			}
		}
	}
}

// journalResyncChecks × journalResyncInterval is how long
// journalRestartSafe waits for a log roll to take the running JournalNodes
// back before it refuses.
const (
	journalResyncChecks   = 20
	journalResyncInterval = 500 * time.Millisecond
)

// journalRestartSafe refuses to take down the JournalNode on host while the
// JournalNodes left would be fewer than a majority of those the active's
// writer sends the current segment to: the writer could then neither
// acknowledge an edit nor finalize the segment (its next log roll fails and
// the NameNode stops writing). A JournalNode that missed edits (it was down,
// or joined with a shorter journal) gets the writer's edits again only from
// the next segment, so a log roll comes first when the others fall short: it
// brings back every one that runs. A NameNode that does not report its
// writer's view (older than the report) is not asked.
func journalRestartSafe(ctx context.Context, env *Env, host string) error {
	c := env.Cluster
	client, err := env.client(ctx)
	if err != nil {
		return err
	}
	for _, ns := range c.Nameservices {
		if ns.Journal == nil || !slices.Contains(ns.Journal.Hosts, host) {
			continue
		}
		self := net.JoinHostPort(c.HostAddr(host), strconv.Itoa(ns.Journal.EffectiveRPCPort()))
		check := func() (active string, st *HAStatus, short bool) {
			for _, nn := range ns.NameNodes {
				hp, err := NameNodeHTTPAddr(c, ns.Name, nn.ID)
				if err != nil {
					continue
				}
				s, err := GetHAStatus(ctx, client, hp)
				if err != nil || s.State != "active" {
					continue
				}
				others := 0
				for _, j := range s.Journal {
					if j.InSync && j.Addr != self {
						others++
					}
				}
				return nn.ID, s, len(s.Journal) > 0 && others < len(s.Journal)/2+1
			}
			return "", nil, false
		}
		active, st, short := check()
		if !short {
			continue
		}
		// The roll takes back every JournalNode that runs, but the writer
		// marks one in sync only once it took the new segment: on a loaded
		// machine that can lag the roll's answer (seen in CI: the restart
		// refused with j3 still out right after a roll). Look again for a
		// while, rolling again now and then, before refusing.
		for i := 0; i < journalResyncChecks && short; i++ {
			if i%5 == 0 {
				rollEdits(ctx, env, host)
			}
			if active, st, short = check(); !short {
				break
			}
			if err := env.sleep(ctx, journalResyncInterval); err != nil {
				return err
			}
		}
		if !short {
			continue
		}
		var in, out []string
		left := 0
		for _, j := range st.Journal {
			if j.InSync {
				in = append(in, j.Addr)
				if j.Addr != self {
					left++
				}
			} else {
				out = append(out, j.Addr)
			}
		}
		return fmt.Errorf("journal %s: taking down the JournalNode on %s (%s) would leave %d of the %d JournalNodes the active NameNode %s writes to "+
			"receiving its current segment, fewer than a majority (%d), even after a log roll: it could neither write nor finalize the segment. "+
			"In sync: %s; left out until they run and a log roll takes them back: %s. Start those JournalNodes and apply again",
			planner.JournalID(ns), host, self, left, len(st.Journal), active, len(st.Journal)/2+1, strings.Join(in, ", "), strings.Join(out, ", "))
	}
	return nil
}

// leftOutBy names the journals on host whose active NameNode reports it left
// out of its current segment (nothing for a NameNode that does not report).
func leftOutBy(ctx context.Context, env *Env, host string) []string {
	c := env.Cluster
	client, err := env.client(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, ns := range c.Nameservices {
		if ns.Journal == nil || !slices.Contains(ns.Journal.Hosts, host) {
			continue
		}
		self := net.JoinHostPort(c.HostAddr(host), strconv.Itoa(ns.Journal.EffectiveRPCPort()))
		for _, nn := range ns.NameNodes {
			hp, err := NameNodeHTTPAddr(c, ns.Name, nn.ID)
			if err != nil {
				continue
			}
			st, err := GetHAStatus(ctx, client, hp)
			if err != nil || st.State != "active" {
				continue
			}
			for _, j := range st.Journal {
				if j.Addr == self && !j.InSync {
					out = append(out, fmt.Sprintf("%s left out of the current segment by the active NameNode %s", planner.JournalID(ns), nn.ID))
				}
			}
		}
	}
	return out
}
