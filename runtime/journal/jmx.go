package journal

import (
	"encoding/json"
	"net"
	"net/http"

	"github.com/hactl/hactl/runtime/jmx"
)

// Beans returns the JournalNode's JMX beans in Hadoop's names: one
// Journal-<jid> record per journal (Hadoop's JournalMetrics, with its
// sync-latency quantiles over 1, 5 and 60 minutes: Syncs60sNumOps,
// Syncs60s50thPercentileLatencyMicros … 99th), JournalNodeInfo and JvmMetrics.
func (n *Node) Beans() []jmx.Bean {
	host := n.opts.HTTPAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	var beans []jmx.Bean
	status := map[string]map[string]string{}
	clusters := []string{}
	seen := map[string]bool{}
	for _, id := range n.JournalIDs() {
		j, err := n.Journal(id)
		if err != nil {
			continue
		}
		st, w := j.Metrics()
		formatted := "false"
		if st.Formatted {
			formatted = "true"
			if c := st.Namespace.ClusterID; c != "" && !seen[c] {
				seen[c] = true
				clusters = append(clusters, c)
			}
		}
		status[id] = map[string]string{"Formatted": formatted}
		attrs := map[string]any{
			"tag.Context": "dfs", "tag.Hostname": host,
			"LastPromisedEpoch": st.PromisedEpoch, "LastWriterEpoch": st.WriterEpoch,
			"LastWrittenTxId": st.HighestTxid,
			// Hadoop's getCurrentLagTxns: how far the committed txid is
			// ahead of what this JN holds.
			"CurrentLagTxns":             max(st.CommittedTxid-st.HighestTxid, 0),
			"BatchesWritten":             w.Batches,
			"TxnsWritten":                w.Txns,
			"BytesWritten":               w.Bytes,
			"BatchesWrittenWhileLagging": w.BatchesWhileLagging,
			"LastJournalTimestamp":       w.LastJournalMs,
		}
		for _, q := range j.syncs {
			q.AddAttrs(attrs)
		}
		beans = append(beans, jmx.Bean{
			Name: "Hadoop:service=JournalNode,name=Journal-" + id, ModelerType: "Journal-" + id, Record: "Journal-" + id,
			Attrs:    attrs,
			Counters: map[string]bool{"BatchesWritten": true, "TxnsWritten": true, "BytesWritten": true, "BatchesWrittenWhileLagging": true},
		})
	}
	js, _ := json.Marshal(status)
	beans = append(beans, jmx.Bean{
		Name: "Hadoop:service=JournalNode,name=JournalNodeInfo", ModelerType: "org.apache.hadoop.hdfs.qjournal.server.JournalNode",
		Attrs: map[string]any{
			"JournalsStatus": string(js), "ClusterIds": clusters, "HostAndPort": n.opts.HTTPAddr, "Version": jmx.Version(),
		},
	}, jmx.JvmMetrics("JournalNode", host))
	return beans
}

func (n *Node) jmxBeans(*http.Request) []jmx.Bean { return n.Beans() }
