package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/hadoopconf"
	"github.com/hactl/hactl/runtime/namenode"
)

// haadminIn runs haadmin with stdin answering its prompts.
func haadminIn(t *testing.T, conf, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runHAAdmin(context.Background(), append([]string{"--conf", conf}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// setConf rewrites one key of the test cluster's hdfs-site.xml.
func setConf(t *testing.T, dir, key, value string) {
	t.Helper()
	c, err := hadoopconf.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(key, value)
	if err := os.WriteFile(filepath.Join(dir, "hdfs-site.xml"), c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHAAdminForceManualAsksFirst(t *testing.T) {
	conf, nns := haTestCluster(t, true)
	_, errs, code := haadminIn(t, conf, "n\n", "-transitionToActive", "--forcemanual", "nn1")
	if code != 255 || !strings.Contains(errs, "You have specified the --forcemanual flag. This flag is dangerous") ||
		!strings.Contains(errs, "Are you sure you want to continue? (Y or N) ") || !strings.Contains(errs, "Aborted") {
		t.Fatalf("answered n: exit %d, %q", code, errs)
	}
	if nns[0].State() != namenode.StateStandby {
		t.Fatal("an aborted --forcemanual transitioned")
	}
	// No answer at all (stdin closed) is no consent either.
	if _, _, code := haadminIn(t, conf, "", "-transitionToActive", "--forcemanual", "nn1"); code != 255 || nns[0].State() != namenode.StateStandby {
		t.Fatalf("no answer: exit %d, state %v", code, nns[0].State())
	}
	if _, errs, code := haadminIn(t, conf, "yes\n", "-transitionToActive", "--forcemanual", "nn1"); code != 0 || nns[0].State() != namenode.StateActive {
		t.Fatalf("answered yes: exit %d, %q, state %v", code, errs, nns[0].State())
	}
}

func TestHAAdminTransitionToObserverRefused(t *testing.T) {
	conf, nns := haTestCluster(t, false)
	_, errs, code := haadminIn(t, conf, "", "-transitionToObserver", "nn2")
	if code != 255 || errs != "The target NameNode at 127.0.4.201:8020 doesn't support Observer state.\n" {
		t.Fatalf("exit %d, %q", code, errs)
	}
	if nns[1].State() != namenode.StateStandby {
		t.Fatal("state changed")
	}
	if _, errs, code := haadminIn(t, conf, "", "-transitionToObserver"); code != 255 || !strings.Contains(errs, "transitionToObserver: incorrect number of arguments") {
		t.Fatalf("no argument: exit %d, %q", code, errs)
	}
}

func TestHAAdminFailover(t *testing.T) {
	ctx := context.Background()
	conf, nns := haTestCluster(t, false)
	if err := nns[0].TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := haadminIn(t, conf, "", "-failover", "nn1", "nn2"); code != 255 || !strings.Contains(errs, "Illegal argument: failover requires a fencer") {
		t.Fatalf("no fencer: exit %d, %q", code, errs)
	}
	if _, errs, code := haadminIn(t, conf, "", "-failover", "nn1"); code != 255 || !strings.Contains(errs, "failover: incorrect arguments") {
		t.Fatalf("one argument: exit %d, %q", code, errs)
	}
	fenced := filepath.Join(t.TempDir(), "fenced")
	setConf(t, conf, "dfs.ha.fencing.methods", "shell(touch "+fenced+")")

	if _, errs, code := haadminIn(t, conf, "", "-failover", "nn1", "nn1"); code != 255 || !strings.Contains(errs, "Failover failed: Can't failover a service to itself") {
		t.Fatalf("to itself: exit %d, %q", code, errs)
	}
	// A graceful transition of the old active is enough: no fencing.
	out, errs, code := haadminIn(t, conf, "", "-failover", "nn1", "nn2")
	if code != 0 || out != "Failover from nn1 to nn2 successful\n" {
		t.Fatalf("failover: exit %d, %q %q", code, out, errs)
	}
	if nns[0].State() != namenode.StateStandby || nns[1].State() != namenode.StateActive {
		t.Fatalf("after failover: nn1 %v, nn2 %v", nns[0].State(), nns[1].State())
	}
	if _, err := os.Stat(fenced); err == nil {
		t.Fatal("fenced although the graceful transition worked")
	}
	if _, errs, code := haadminIn(t, conf, "", "-failover", "nn1", "nn2"); code != 255 || !strings.Contains(errs, "Failover failed: Can't failover to an active service") {
		t.Fatalf("to the active: exit %d, %q", code, errs)
	}
	// --forcefence fences the old active even after it stood down.
	if _, errs, code := haadminIn(t, conf, "", "-failover", "--forcefence", "nn2", "nn1"); code != 0 {
		t.Fatalf("--forcefence: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(fenced); err != nil {
		t.Fatalf("--forcefence did not run the fencing method: %v", err)
	}
	if nns[0].State() != namenode.StateActive || nns[1].State() != namenode.StateStandby {
		t.Fatalf("after the second failover: nn1 %v, nn2 %v", nns[0].State(), nns[1].State())
	}
}

func TestHAAdminFailoverWithAutomaticFailover(t *testing.T) {
	conf, _ := haTestCluster(t, true)
	for _, flag := range []string{"--forcefence", "--forceactive"} {
		if _, errs, code := haadminIn(t, conf, "", "-failover", flag, "nn1", "nn2"); code != 255 ||
			!strings.Contains(errs, "forcefence and forceactive flags not supported with auto-failover enabled.") {
			t.Fatalf("%s: exit %d, %q", flag, code, errs)
		}
	}
	// Without the flags it asks the target's ZKFC (dfs.ha.zkfc.port on its
	// RPC host); none runs here, so the request fails and nothing changes.
	setConf(t, conf, "ha.zookeeper.quorum", "127.0.4.250:2181")
	if _, errs, code := haadminIn(t, conf, "", "-failover", "nn1", "nn2"); code != 255 ||
		!strings.Contains(errs, "Operation failed:") || !strings.Contains(errs, "127.0.4.201:8019") {
		t.Fatalf("through the ZKFC: exit %d, %q", code, errs)
	}
	setConf(t, conf, "dfs.ha.automatic-failover.enabled.ns1", "false")
	setConf(t, conf, "dfs.ha.automatic-failover.enabled", "true")
	// Per-nameservice keys make both NameNodes manual here: consistent.
	if _, errs, code := haadminIn(t, conf, "", "-failover", "nn1", "nn2"); code != 255 || !strings.Contains(errs, "failover requires a fencer") {
		t.Fatalf("manual per nameservice: exit %d, %q", code, errs)
	}
}

// haadmin reads the automatic-failover key as the ZKFC does: a per-nameservice
// "false" over a global "true" allows manual transitions, and a value that is
// neither true nor false (a typo, "ture") refuses them instead of taking
// failover as manual while the ZKFCs may run.
func TestHAAdminResolvesAutomaticFailoverAsZKFC(t *testing.T) {
	conf, nns := haTestCluster(t, true)
	setConf(t, conf, "dfs.ha.automatic-failover.enabled", "ture")
	_, errs, code := haadminIn(t, conf, "", "-transitionToActive", "nn1")
	if code != 255 || !strings.Contains(errs, `dfs.ha.automatic-failover.enabled: "ture" is not true or false`) || nns[0].State() != namenode.StateStandby {
		t.Fatalf("typo in the key: exit %d, %q, state %v", code, errs, nns[0].State())
	}
	setConf(t, conf, "dfs.ha.automatic-failover.enabled", "true")
	setConf(t, conf, "dfs.ha.automatic-failover.enabled.ns1", " FALSE ")
	if _, errs, code := haadminIn(t, conf, "", "-transitionToActive", "nn1"); code != 0 || nns[0].State() != namenode.StateActive {
		t.Fatalf("per-nameservice false over global true: exit %d, %q, state %v", code, errs, nns[0].State())
	}
}
