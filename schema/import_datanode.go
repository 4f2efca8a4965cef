package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// ImportOptions carry what Hadoop's XML does not say.
type ImportOptions struct {
	// Workers are the DataNode hosts: Hadoop's etc/hadoop/workers file
	// ("slaves" before Hadoop 3), one host name or address per entry. The
	// DataNodes' own keys (dfs.datanode.*) name no host: without the list
	// they stay in the passthrough.
	Workers []string
}

// ParseWorkers reads a workers file as Hadoop's scripts do: one host per
// line, blank lines and # comments skipped.
func ParseWorkers(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l, _, _ = strings.Cut(l, "#")
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// storageTypePrefix is dfs.datanode.data.dir's per-dir storage type
// ("[SSD]file:///data/1"); hactl's DataNodes treat every dir as DISK.
var storageTypePrefix = regexp.MustCompile(`^\[[A-Za-z_]+\]`)

type importedDataNodes struct {
	hosts                   []string
	dirs                    []string
	port, httpPort, ipcPort int
	replication             int
	heartbeat, blockReport  time.Duration
	hasHDFS                 bool
}

// dataNodes imports the DataNodes of workers with the dfs.datanode.* keys
// and the cluster's block settings; nil without workers.
func (im *importer) dataNodes(workers []string) (*importedDataNodes, error) {
	if len(workers) == 0 {
		if im.get(KeyDataNodeDataDir) != "" {
			im.warnf("%s is set but no workers list was given: which hosts run DataNodes is not in Hadoop's XML, so the dfs.datanode.* keys stay in the passthrough; import with --workers (Hadoop's etc/hadoop/workers) to get datanode blocks", KeyDataNodeDataDir)
		}
		return nil, nil
	}
	dn := &importedDataNodes{port: DefaultDataNodePort, httpPort: DefaultDataNodeHTTPPort, ipcPort: DefaultDataNodeIPCPort}
	for _, w := range workers {
		h := im.host(strings.Trim(w, "[]"))
		if !slices.Contains(dn.hosts, h) {
			dn.hosts = append(dn.hosts, h)
		}
	}
	v := im.take(KeyDataNodeDataDir)
	if v == "" {
		// hdfs-default.xml: dfs.datanode.data.dir = file://${hadoop.tmp.dir}/dfs/data.
		v = "file://" + im.path(KeyHadoopTmpDir, im.getOr(KeyHadoopTmpDir, hadoopVarDefaults[KeyHadoopTmpDir])) + "/dfs/data"
		im.warnf("%s is not set, so Hadoop uses its default file://${hadoop.tmp.dir}/dfs/data, here %s; imported as data_dirs (give the blocks directories of their own)", KeyDataNodeDataDir, v)
	}
	for _, d := range hadoopSplit(im.path(KeyDataNodeDataDir, v)) {
		if t := storageTypePrefix.FindString(d); t != "" {
			im.warnf("%s: the storage type %s of %s is dropped: hactl's DataNodes treat every data dir as DISK", KeyDataNodeDataDir, t, d)
			d = strings.TrimPrefix(d, t)
		}
		dn.dirs = append(dn.dirs, importDirs(d)...)
	}
	for _, p := range []struct {
		key string
		dst *int
		def int
	}{{KeyDataNodeAddress, &dn.port, DefaultDataNodePort}, {KeyDataNodeHTTPAddress, &dn.httpPort, DefaultDataNodeHTTPPort},
		{KeyDataNodeIPCAddress, &dn.ipcPort, DefaultDataNodeIPCPort}} {
		// The host part is a bind address (0.0.0.0 as a rule): render binds
		// each DataNode to its host's address.
		if a := im.take(p.key); a != "" {
			_, port, err := importSplitHostPort(a, p.def)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.key, err)
			}
			*p.dst = port
		}
	}
	im.take(KeyDataNodeHostname) // each DataNode registers as its host's address
	if x := im.take(KeyHostsExclude); x != "" {
		im.warnf("%s = %s is not imported: hactl keeps its own exclude file (<conf_dir>/dfs.hosts.exclude) and decommissions a DataNode when it leaves its datanode block; leave the hosts that file excludes out of the workers list", KeyHostsExclude, x)
	}
	if r := im.take(KeyReplication); r != "" {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a replication factor", KeyReplication, r)
		}
		dn.replication, dn.hasHDFS = n, true
	}
	if h := im.take(KeyHeartbeatInterval); h != "" {
		d, err := importParseDuration(h, time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyHeartbeatInterval, err)
		}
		dn.heartbeat, dn.hasHDFS = d, true
	}
	if b := im.take(KeyBlockReportInterval); b != "" {
		d, err := importParseDuration(b, time.Millisecond)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyBlockReportInterval, err)
		}
		dn.blockReport, dn.hasHDFS = d, true
	}
	return dn, nil
}

func (im *importer) getOr(key, def string) string {
	if v := im.get(key); v != "" {
		return v
	}
	return def
}

func hadoopSplit(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// importDurationText writes d as the shortest Go duration of whole units.
func importDurationText(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return HadoopDuration(d)
}

func importWriteDataNodes(b *hclwrite.Body, dn *importedDataNodes) {
	if dn == nil {
		return
	}
	b.AppendNewline()
	db := b.AppendNewBlock("datanode", nil).Body()
	db.SetAttributeValue("hosts", importStringList(dn.hosts))
	db.SetAttributeValue("data_dirs", importStringList(dn.dirs))
	for _, p := range []struct {
		attr   string
		v, def int
	}{{"port", dn.port, DefaultDataNodePort}, {"http_port", dn.httpPort, DefaultDataNodeHTTPPort}, {"ipc_port", dn.ipcPort, DefaultDataNodeIPCPort}} {
		if p.v != p.def {
			db.SetAttributeValue(p.attr, cty.NumberIntVal(int64(p.v)))
		}
	}
	if !dn.hasHDFS {
		return
	}
	b.AppendNewline()
	hb := b.AppendNewBlock("hdfs", nil).Body()
	if dn.replication > 0 {
		hb.SetAttributeValue("replication", cty.NumberIntVal(int64(dn.replication)))
	}
	if dn.heartbeat > 0 {
		hb.SetAttributeValue("heartbeat_interval", cty.StringVal(importDurationText(dn.heartbeat)))
	}
	if dn.blockReport > 0 {
		hb.SetAttributeValue("block_report_interval", cty.StringVal(importDurationText(dn.blockReport)))
	}
}
