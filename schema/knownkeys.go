package schema

import (
	_ "embed"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
)

// knownHadoopKeys are keys a misspelling is checked against: every key
// hactl renders, a few it reads, and the core-default.xml and hdfs-default.xml
// keys HA operators set (hadoop_default_keys.txt). Hadoop ignores an unknown
// key silently, so a typo in one of these keeps its default without a word.
var knownHadoopKeys = append(defaultKeyList(hadoopDefaultKeys), renderedAndReadKeys...)

//go:embed hadoop_default_keys.txt
var hadoopDefaultKeys string

// defaultKeyList reads the embedded key list: one key a line, # comments.
func defaultKeyList(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

var renderedAndReadKeys = []string{
	KeyDefaultFS, KeyZKQuorum, KeyZKSessionTimeout, KeyZKParentZnode, KeyNameservices,
	KeyInternalNameservices, KeyHANameNodes, KeyNameNodeRPCAddress, KeyNameNodeHTTPAddress,
	KeySharedEditsDir, KeyJournalEditsDir, KeyJournalRPCAddress, KeyJournalHTTPAddress, KeyNameDir,
	KeyFailoverProxyProvider, KeyFencingMethods, KeyFencingSSHKeyFiles, KeyFencingSSHTimeout,
	KeyAutomaticFailover, KeyNotActiveInSafemode, KeyTailEditsPeriod, KeyTailEditsInProgress,
	KeyTailEditsBackoffMax, KeyQJWriteTimeout, KeyQJStartTimeout, KeyQJPrepareTimeout,
	KeyQJAcceptTimeout, KeyQJFinalizeTimeout, KeyQJSelectTimeout, KeyQJNewEpochTimeout,
	KeyZKFCPort, KeyHadoopTmpDir,
	"fs.trash.interval", "fs.trash.checkpoint.interval", "io.file.buffer.size",
	"ha.zookeeper.acl", "ha.zookeeper.auth", "ha.health-monitor.rpc-timeout.ms",
	"ha.failover-controller.cli-check.rpc-timeout.ms", "ha.failover-controller.new-active.rpc-timeout.ms",
	"hadoop.security.authentication", "hadoop.security.authorization", "hadoop.proxyuser",
	"hadoop.http.staticuser.user", "ipc.client.connect.max.retries", "ipc.client.connect.timeout",
	"dfs.replication", "dfs.replication.max", "dfs.namenode.replication.min", "dfs.blocksize",
	"dfs.permissions.enabled", "dfs.permissions.superusergroup", "dfs.webhdfs.enabled",
	"dfs.namenode.edits.dir", "dfs.namenode.checkpoint.dir", "dfs.namenode.checkpoint.edits.dir",
	"dfs.namenode.checkpoint.period", "dfs.namenode.checkpoint.txns", "dfs.namenode.handler.count",
	"dfs.namenode.service.handler.count", "dfs.namenode.servicerpc-address", "dfs.namenode.lifeline.rpc-address",
	"dfs.namenode.https-address", "dfs.namenode.rpc-bind-host", "dfs.namenode.servicerpc-bind-host",
	"dfs.namenode.http-bind-host", "dfs.namenode.https-bind-host", "dfs.namenode.safemode.threshold-pct",
	"dfs.namenode.datanode.registration.ip-hostname-check", "dfs.namenode.acls.enabled",
	"dfs.hosts", "dfs.hosts.exclude", "dfs.datanode.data.dir", "dfs.datanode.address",
	"dfs.datanode.http.address", "dfs.datanode.ipc.address", "dfs.datanode.du.reserved",
	"dfs.datanode.failed.volumes.tolerated", "dfs.datanode.max.transfer.threads", "dfs.datanode.sync.behind.writes", "dfs.datanode.readahead.bytes",
	"dfs.client.use.datanode.hostname", "dfs.datanode.use.datanode.hostname",
	"dfs.client.read.shortcircuit", "dfs.domain.socket.path", "dfs.journalnode.https-address",
	"dfs.ha.log-roll.period", "dfs.ha.standby.checkpoints", "dfs.ha.nn.not-become-active-in-safemode",
	"dfs.http.policy", "dfs.heartbeat.interval", "dfs.namenode.heartbeat.recheck-interval",
	"dfs.ha.zkfc.nn.http.timeout.ms", "dfs.namenode.name.dir.restore", "dfs.image.compress",
}

// nearKnownKey returns the known key key is probably a misspelling of,
// or "". A .<ns> or .<ns>.<nn> suffix naming a declared nameservice is set
// aside first, since Hadoop resolves those forms of the same key.
func nearKnownKey(key string, c *Cluster) string {
	base, suffix := key, ""
	for _, ns := range c.Nameservices {
		if b, ok := strings.CutSuffix(key, "."+ns.Name); ok {
			base, suffix = b, "."+ns.Name
		}
		for _, nn := range ns.NameNodes {
			if b, ok := strings.CutSuffix(key, "."+ns.Name+"."+nn.ID); ok {
				base, suffix = b, "."+ns.Name+"."+nn.ID
			}
		}
	}
	if len(base) < 10 || slices.Contains(knownHadoopKeys, base) || slices.Contains(knownHadoopKeys, key) {
		return ""
	}
	for _, k := range knownHadoopKeys {
		if strings.HasPrefix(base, k+".") {
			return "" // a per-nameservice or per-NameNode form of a known key
		}
	}
	best, bestDist := "", 3
	for _, k := range knownHadoopKeys {
		if d := levenshtein.Distance(base, k, nil); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return best + suffix
}
