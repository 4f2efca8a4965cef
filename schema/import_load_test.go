package schema

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// importBindKeys are per-host bind addresses: hactl derives them from each
// host's address (a source file usually says 0.0.0.0:port), so they are the
// only HA keys whose value an import → render round trip changes on purpose.
// The DataNodes' are the same, and so is dfs.hosts.exclude: hactl keeps its
// own (the import warns).
var importBindKeys = map[string]bool{KeyJournalRPCAddress: true, KeyJournalHTTPAddress: true,
	KeyDataNodeAddress: true, KeyDataNodeHTTPAddress: true, KeyDataNodeIPCAddress: true, KeyHostsExclude: true}

// TestImportLoadRenderRoundTrip: import a Hadoop sample, load the HCL with the
// real loader (no errors allowed), render every host, and find every source key
// back with its value on each host that renders it.
func TestImportLoadRenderRoundTrip(t *testing.T) {
	for _, dir := range importSamples(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			core, hdfs := readSample(t, dir)
			out, _, err := ImportReportWith(core, hdfs, readWorkers(t, dir))
			if err != nil {
				t.Skipf("import refuses the sample (diagnostics.golden says why): %v", err)
			}
			c, diags := LoadSources(map[string][]byte{"import.hcl": out}, LoadOptions{})
			if diags.HasErrors() {
				t.Skipf("the sample does not validate (diagnostics.golden says why): %s", diags.Error())
			}
			hosts, err := RenderAll(c)
			if err != nil {
				t.Fatal(err)
			}
			source := hadoopconf.New()
			source.Merge(core)
			source.Merge(hdfs)
			checkRoundTrip(t.Errorf, c, source, hosts)
		})
	}
}

var storageTypes = regexp.MustCompile(`\[[A-Za-z_]+\]`)

func checkRoundTrip(errorf func(string, ...any), c *Cluster, source *hadoopconf.Config, hosts []*RenderedHost) {
	for _, key := range source.Keys() {
		if importBindKeys[key] {
			continue
		}
		if checkPerNameNode(errorf, c, source, hosts, key) {
			continue
		}
		rendered := 0
		for _, h := range hosts {
			view := hadoopconf.New()
			view.Merge(h.Core)
			view.Merge(h.HDFS)
			got, ok := view.Lookup(key)
			if !ok {
				continue
			}
			rendered++
			want := expectedOnHost(c, source, h.Host, key)
			if key == KeyDataNodeDataDir {
				// file:// and the storage types go (the import warns of the latter).
				got, want = strings.Join(importDirs(storageTypes.ReplaceAllString(got, "")), ","), strings.Join(importDirs(storageTypes.ReplaceAllString(want, "")), ",")
			}
			if got != want {
				errorf("host %s: %s = %q, source had %q", h.Host, key, got, want)
			}
		}
		if rendered == 0 {
			errorf("%s = %q was dropped: no host renders it", key, source.Get(key, ""))
		}
	}
}

// checkPerNameNode handles a per-NameNode key (key.<ns>.<nn>, Hadoop's
// NAMENODE_SPECIFIC_KEYS) that the import folds into the model: the value
// Hadoop resolves on that NameNode's host (key.<ns>.<nn>, else key.<ns>, else
// key) must be the source's, file:// URIs and plain paths being the same.
func checkPerNameNode(errorf func(string, ...any), c *Cluster, source *hadoopconf.Config, hosts []*RenderedHost, key string) bool {
	for _, base := range []string{KeySharedEditsDir, KeyFencingMethods, KeyNameDir} {
		for _, ns := range c.Nameservices {
			for _, nn := range ns.NameNodes {
				if key != base+"."+ns.Name+"."+nn.ID {
					continue
				}
				for _, h := range hosts {
					if h.Host != nn.Host {
						continue
					}
					got, ok := h.HDFS.Lookup(key)
					for _, k := range []string{base + "." + ns.Name, base} {
						if !ok {
							got, ok = h.HDFS.Lookup(k)
						}
					}
					want, _ := source.Lookup(key)
					if strings.Join(importDirs(got), ",") != strings.Join(importDirs(want), ",") {
						errorf("host %s resolves %s to %q, source had %q", h.Host, key, got, want)
					}
				}
				return true
			}
		}
	}
	return false
}

// expectedOnHost is the value Hadoop would resolve on host: a NameNode's own
// dfs.namenode.name.dir.<ns>.<nn> overrides the generic name dir there.
func expectedOnHost(c *Cluster, source *hadoopconf.Config, host, key string) string {
	v, _ := source.Lookup(key)
	// A wildcard web address is served on the RPC host, as Hadoop's
	// DFSUtil.getInfoServer substitutes it for clients.
	if suffix, ok := strings.CutPrefix(key, KeyNameNodeHTTPAddress); ok {
		if h, p, err := importSplitHostPort(v, DefaultNameNodeHTTPPort); err == nil && wildcardHost(h) {
			rpcHost, _, _ := importSplitHostPort(source.Get(KeyNameNodeRPCAddress+suffix, ""), DefaultNameNodeRPCPort)
			return net.JoinHostPort(rpcHost, strconv.Itoa(p))
		}
	}
	if key != KeyNameDir {
		return v
	}
	for _, ns := range c.Nameservices {
		for _, nn := range ns.NameNodes {
			if nn.Host != host {
				continue
			}
			if o, ok := source.Lookup(KeyNameDir + "." + ns.Name + "." + nn.ID); ok {
				return o
			}
			return v
		}
	}
	return v
}

func TestImportRoundTripCatchesADroppedKey(t *testing.T) {
	// The comparator itself must fail when a key goes missing or changes.
	core, hdfs := readSample(t, filepath.Join("..", "testdata", "import", "classic"))
	out, err := Import(core, hdfs)
	if err != nil {
		t.Fatal(err)
	}
	c, diags := LoadSources(map[string][]byte{"import.hcl": out}, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	c.Hadoop.HDFSSite["dfs.replication"] = "1"
	delete(c.Hadoop.CoreSite, "hadoop.tmp.dir")
	hosts, err := RenderAll(c)
	if err != nil {
		t.Fatal(err)
	}
	source := hadoopconf.New()
	source.Merge(core)
	source.Merge(hdfs)
	var found []string
	checkRoundTrip(func(f string, a ...any) { found = append(found, fmt.Sprintf(f, a...)) }, c, source, hosts)
	all := strings.Join(found, "\n")
	if !strings.Contains(all, "dfs.replication") || !strings.Contains(all, "hadoop.tmp.dir") {
		t.Errorf("comparator missed the changes: %s", all)
	}
}
