package planner

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrOtherNamespace is returned when the hosts hold formatted storage that
// the configuration does not name (another nameservice, NameNode ID or
// journal ID, typically the one before a rename) and the plan would start a
// new namespace, or switch to a new journal, next to it.
var ErrOtherNamespace = errors.New("the hosts hold storage of a namespace this configuration does not name")

// foreignStorage refuses a plan that would leave a namespace behind: NameNode
// storage or a journal found on a host under any nameservice, NameNode or
// journal ID counts as holding data. Two changes are refused:
//   - a nameservice that would be formatted (none of its NameNodes is
//     formatted) while storage of another ID is on the hosts (a renamed
//     nameservice, moved name_dir/edits_dir): the new namespace would orphan
//     the old one's data;
//   - a nameservice whose NameNodes are formatted but whose journal holds
//     nothing on any of its JournalNodes while another journal ID does (a
//     changed journal_id): the NameNodes would restart onto an empty journal
//     and lose the edits since their last checkpoint.
//
// It runs before any step is planned, so the refusal is the same whether the
// old NameNodes run or not.
func (p *planner) foreignStorage() error {
	// What the configuration names, per host.
	wantNN := map[string]map[string]bool{}
	wantJID := map[string]map[string]bool{}
	mark := func(m map[string]map[string]bool, host, key string) {
		if m[host] == nil {
			m[host] = map[string]bool{}
		}
		m[host][key] = true
	}
	for _, ns := range p.c.Nameservices {
		for _, nn := range ns.NameNodes {
			mark(wantNN, nn.Host, NameNodeKey(ns.Name, nn.ID))
		}
		if ns.Journal != nil {
			for _, h := range ns.Journal.Hosts {
				mark(wantJID, h, JournalID(ns))
			}
		}
	}
	var foreignNN, foreignJN []string
	for _, h := range p.c.Hosts {
		oh := p.host(h.Name)
		if oh == nil || !oh.Reachable {
			continue
		}
		for _, key := range sortedKeys(oh.NameNodes) {
			o := oh.NameNodes[key]
			if wantNN[h.Name][key] || !(o.Formatted || o.HasData) {
				continue
			}
			foreignNN = append(foreignNN, fmt.Sprintf("%s: NameNode storage of nameservice %s, NameNode %s%s%s",
				h.Name, o.Nameservice, o.ID, dirsNote(o.Dirs), storageIDs(o.Formatted, o.ClusterID, o.NamespaceID)))
		}
		for _, jid := range sortedKeys(oh.JournalNodes) {
			j := oh.JournalNodes[jid]
			if wantJID[h.Name][jid] || !(j.Formatted || j.HasData) {
				continue
			}
			dir := ""
			if j.Dir != "" {
				dir = " in " + j.Dir
			}
			foreignJN = append(foreignJN, fmt.Sprintf("%s: journal %s%s%s", h.Name, jid, dir, storageIDs(j.Formatted, j.ClusterID, j.NamespaceID)))
		}
	}
	if len(foreignNN)+len(foreignJN) == 0 {
		return nil
	}
	found := strings.Join(append(append([]string{}, foreignNN...), foreignJN...), "\n  ")
	for _, ns := range p.c.Nameservices {
		formatted, unknown := false, false
		for _, nn := range ns.NameNodes {
			if !p.reachable(nn.Host) {
				unknown = true
				continue
			}
			if o := p.observedNN(nn.Host, ns.Name, nn.ID); o != nil && o.Formatted {
				formatted = true
			}
		}
		if !formatted {
			if unknown {
				continue // no format is planned while a NameNode cannot be probed
			}
			return fmt.Errorf("%w: nameservice %s has no formatted NameNode, so this plan would format a new namespace, but the hosts hold:\n  %s\n"+
				"A renamed nameservice or journal_id, or a moved name_dir/edits_dir, leaves that data behind. To keep it, restore the "+
				"nameservice name, NameNode IDs, journal_id and dirs it was formatted under. If it is no longer wanted, remove it first "+
				"(hactl destroy --purge-data with the configuration that made it, or move the dirs away by hand); hactl never formats next to a namespace",
				ErrOtherNamespace, ns.Name, found)
		}
		if ns.Journal == nil || len(foreignJN) == 0 {
			continue
		}
		jid := JournalID(ns)
		held, probed := false, false
		for _, h := range ns.Journal.Hosts {
			if !p.reachable(h) {
				continue
			}
			probed = true
			if j := p.observedJournal(h, jid); j != nil && (j.Formatted || j.HasData) {
				held = true
			}
		}
		if probed && !held {
			return fmt.Errorf("%w: the NameNodes of nameservice %s are formatted but journal %s holds nothing on any of its JournalNodes, "+
				"while the hosts hold:\n  %s\n"+
				"Restarting the NameNodes onto an empty journal would lose every edit since their last checkpoint. Restore the journal_id "+
				"(and edits_dir) the journal was formatted under; to change a journal ID, stop the cluster and run "+
				"initializeSharedEdits yourself", ErrOtherNamespace, ns.Name, jid, found)
		}
	}
	return nil
}

func dirsNote(dirs []string) string {
	if len(dirs) == 0 {
		return ""
	}
	return " in " + strings.Join(slices.Clone(dirs), ", ")
}

func storageIDs(formatted bool, clusterID string, namespaceID int64) string {
	switch {
	case !formatted:
		return " (not empty, no current/VERSION)"
	case clusterID != "" || namespaceID != 0:
		return fmt.Sprintf(" (formatted: clusterID %s, namespaceID %d)", clusterID, namespaceID)
	}
	return " (formatted)"
}
