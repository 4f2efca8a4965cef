package schema

import "testing"

// The misspelled-key check knows Hadoop's own default keys: a real key one
// letter from another (https/http) is not called a misspelling, and typos of
// keys HA operators set (safe mode, JournalNode sync, ZKFC fencing timeouts)
// are caught with the key meant.
func TestNearKnownKeyKnowsHadoopDefaults(t *testing.T) {
	c := &Cluster{Nameservices: []*Nameservice{{Name: "ns1", NameNodes: []*NameNode{{ID: "nn1"}}}}}
	for key, want := range map[string]string{
		"dfs.datanode.https.address":              "",
		"dfs.journalnode.https-bind-host":         "",
		"dfs.namenode.safemode.extension":         "",
		"dfs.qjournal.http.read.timeout.ms":       "",
		"dfs.ha.tail-edits.namenode-retries":      "",
		"ha.health-monitor.check-interval.ms":     "",
		"dfs.client.failover.sleep.max.millis":    "",
		"dfs.namenode.lifeline.rpc-address.ns1":   "",
		"dfs.namenode.safemode.extention":         "dfs.namenode.safemode.extension",
		"dfs.journalnode.enable.snyc":             "dfs.journalnode.enable.sync",
		"dfs.ha.tail-edits.namenode-retires":      "dfs.ha.tail-edits.namenode-retries",
		"dfs.client.failover.max.attemps.ns1":     "dfs.client.failover.max.attempts.ns1",
		"ha.health-monitor.rpc-timout.ms":         "ha.health-monitor.rpc-timeout.ms",
		"dfs.namenode.servicerpc-adress.ns1.nn1":  "dfs.namenode.servicerpc-address.ns1.nn1",
		"hadoop.security.groups.cache.sec":        "hadoop.security.groups.cache.secs",
		"dfs.datanode.balance.bandwidthPerSecond": "",
	} {
		if got := nearKnownKey(key, c); got != want {
			t.Errorf("nearKnownKey(%q) = %q, want %q", key, got, want)
		}
	}
	if n := len(knownHadoopKeys); n < 350 {
		t.Errorf("%d known keys: the default key list did not load", n)
	}
}
