package namenode

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// readHostsFile reads a dfs.hosts or dfs.hosts.exclude file as Hadoop's
// HostsFileReader: host names or IPs, each optionally with :port,
// separated by white space, "#" starting a comment to the end of the
// line. An unset key is an empty list.
func readHostsFile(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(strings.TrimPrefix(path, "file://"))
	if err != nil {
		return nil, fmt.Errorf("read hosts file: %w", err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		out = append(out, strings.Fields(line)...)
	}
	return out, sc.Err()
}

// RefreshNodes re-reads dfs.hosts and dfs.hosts.exclude (Hadoop's
// `hdfs dfsadmin -refreshNodes`): a DataNode newly excluded starts
// decommissioning, one no longer excluded is back in service, and one
// missing from a non-empty dfs.hosts may not register.
func (n *NameNode) RefreshNodes() error {
	include, err := readHostsFile(n.cfg.HostsFile)
	if err != nil {
		return fmt.Errorf("dfs.hosts: %w", err)
	}
	exclude, err := readHostsFile(n.cfg.HostsExcludeFile)
	if err != nil {
		return fmt.Errorf("dfs.hosts.exclude: %w", err)
	}
	n.mu.Lock()
	n.bm.RefreshNodes(include, exclude)
	n.mu.Unlock()
	n.logf("namenode %s: refreshNodes: %d included, %d excluded", n.cfg.ID, len(include), len(exclude))
	return nil
}

func (n *NameNode) serveRefreshNodes(w http.ResponseWriter, r *http.Request) {
	if err := n.RefreshNodes(); err != nil {
		writeRemote(w, http.StatusInternalServerError, "IOException", "java.io.IOException", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"refreshed": true})
}
