package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FSNamesystemStateQuery is the JMX query of the bean whose FSState says
// whether a NameNode is in safe mode ("safeMode") or not ("Operational").
const FSNamesystemStateQuery = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"

// SafeModeOf asks the NameNode at hostport whether it is in safe mode and,
// when it is, for Hadoop's safe mode tip (NameNodeInfo Safemode) saying
// what it waits for.
func SafeModeOf(ctx context.Context, client *http.Client, hostport string) (on bool, tip string, err error) {
	var st struct {
		Beans []struct{ FSState string } `json:"beans"`
	}
	if err := getJSON(ctx, client, http.MethodGet, "http://"+hostport+FSNamesystemStateQuery, &st); err != nil {
		return false, "", err
	}
	if len(st.Beans) == 0 || st.Beans[0].FSState == "" {
		return false, "", errors.New("FSNamesystemState: no FSState")
	}
	if st.Beans[0].FSState == "Operational" {
		return false, "", nil
	}
	var info struct {
		Beans []struct{ Safemode string } `json:"beans"`
	}
	if err := getJSON(ctx, client, http.MethodGet, "http://"+hostport+NameNodeInfoQuery, &info); err == nil && len(info.Beans) > 0 {
		tip = strings.Join(strings.Fields(info.Beans[0].Safemode), " ") // Hadoop's tip has line breaks
	}
	return true, tip, nil
}

// safeModeProgressEvery is how often the wait for a NameNode to leave
// safe mode says what it waits for.
const safeModeProgressEvery = 10 * time.Second

// waitSafeModeOff waits until NameNode id of nameservice ns has left safe
// mode, when the cluster has DataNodes (without them a NameNode holds no
// block and leaves it at once). A NameNode restarted over blocks stays in
// safe mode until the DataNodes reported them and 30 s
// (dfs.namenode.safemode.extension) after: made active meanwhile, it would
// refuse every write. Bounded by twice the readiness timeout; progress,
// with the NameNode's safe mode tip, goes to env.Out.
func waitSafeModeOff(ctx context.Context, env *Env, ns, id string) error {
	if env.Guard.DryRun || !env.Cluster.HasDataNodes() {
		return nil
	}
	hp, err := NameNodeHTTPAddr(env.Cluster, ns, id)
	if err != nil {
		return err
	}
	client, err := env.client(ctx)
	if err != nil {
		return err
	}
	start := env.now()
	deadline := start.Add(2 * env.readyTimeout())
	var told time.Time
	for {
		on, tip, err := SafeModeOf(ctx, client, hp)
		if err == nil && !on {
			if !told.IsZero() {
				fmt.Fprintf(env.Out, "\n      %s/%s left safe mode after %s ... ", ns, id, env.now().Sub(start).Round(time.Second))
			}
			return nil
		}
		if err == nil {
			err = fmt.Errorf("in safe mode: %s", orDash(tip))
		}
		now := env.now()
		if now.After(deadline) {
			return fmt.Errorf("NameNode %s/%s did not leave safe mode within %s, so it is not made active (the active NameNode stays): %w",
				ns, id, deadline.Sub(start).Round(time.Second), err)
		}
		if env.Out != nil && (told.IsZero() || now.Sub(told) >= safeModeProgressEvery) {
			told = now
			fmt.Fprintf(env.Out, "\n      waiting for %s/%s to leave safe mode (%s): %v", ns, id, now.Sub(start).Round(time.Second), err)
		}
		if err := env.sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}
