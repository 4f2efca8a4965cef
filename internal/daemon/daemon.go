// Package daemon is the identity of the daemons hactl supervises and the one
// registry of their kinds. An identity is typed (kind, nameservice, NameNode
// ID); its supervisor name is derived here and parsed back here, so no other
// package builds or splits daemon names.
//
// It imports nothing of hactl: planner, internal/apply, targets, cli and the
// runtime packages may all use it.
package daemon

import (
	"fmt"
	"regexp"
	"strings"
)

// Kind is one kind of daemon hactl runs.
type Kind string

// The daemon kinds (Registry holds what hactl knows of each).
const (
	JournalNode Kind = "journalnode"
	NameNode    Kind = "namenode"
	ZKFC        Kind = "zkfc"
	ZooKeeper   Kind = "zookeeper"
	DataNode    Kind = "datanode"
)

// ID identifies one supervised daemon on a host. Daemons of a per-NameNode
// kind carry the nameservice and the NameNode ID: a NameNode ID may repeat
// across nameservices (Hadoop allows it), so the ID alone names nothing.
type ID struct {
	Kind        Kind
	Nameservice string // per-NameNode kinds only
	NameNode    string // NameNode ID, per-NameNode kinds only
}

// Host is the identity of a per-host daemon kind (one per host).
func Host(k Kind) ID { return ID{Kind: k} }

// OfNameNode is the identity of a per-NameNode kind's daemon for NameNode
// nn of nameservice ns.
func OfNameNode(k Kind, ns, nn string) ID { return ID{Kind: k, Nameservice: ns, NameNode: nn} }

// sep joins the parts of a per-NameNode daemon's name. Hadoop IDs are
// [A-Za-z0-9_-] (schema validates it), so the name splits back without
// ambiguity; and the legacy "<kind>-<id>" names, which have no '.', never
// parse as a current one.
const sep = "."

// idPattern is what schema allows for nameservice and NameNode IDs.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Name is the daemon's supervisor name: the record, log file and systemd
// unit are named after it. "journalnode", "zookeeper",
// "namenode.<ns>.<nnid>", "zkfc.<ns>.<nnid>".
func (id ID) Name() string {
	if id.Nameservice == "" && id.NameNode == "" {
		return string(id.Kind)
	}
	return string(id.Kind) + sep + id.Nameservice + sep + id.NameNode
}

func (id ID) String() string { return id.Name() }

// Subject is how plans and status name the daemon's NameNode ("ns1/nn1"),
// "" for a per-host daemon.
func (id ID) Subject() string {
	if id.NameNode == "" {
		return ""
	}
	return id.Nameservice + "/" + id.NameNode
}

// Spec is the registry entry of the identity's kind (nil for a kind this
// build does not know).
func (id ID) Spec() *Spec { return Lookup(id.Kind) }

// Validate says whether the identity is well formed for its kind.
func (id ID) Validate() error {
	s := Lookup(id.Kind)
	if s == nil {
		return fmt.Errorf("unknown daemon kind %q", id.Kind)
	}
	if !s.PerNameNode {
		if id.Nameservice != "" || id.NameNode != "" {
			return fmt.Errorf("%s runs once per host: no nameservice or NameNode", id.Kind)
		}
		return nil
	}
	if !idPattern.MatchString(id.Nameservice) || !idPattern.MatchString(id.NameNode) {
		return fmt.Errorf("%s needs a nameservice and a NameNode ID of [A-Za-z0-9_-] (got %q, %q)", id.Kind, id.Nameservice, id.NameNode)
	}
	return nil
}

// Parse reads a supervisor name written by Name. A name from an earlier
// hactl ("namenode-<id>", "zkfc-<id>") does not parse: see ParseLegacy.
func Parse(name string) (ID, bool) {
	parts := strings.Split(name, sep)
	var id ID
	switch len(parts) {
	case 1:
		id = ID{Kind: Kind(parts[0])}
	case 3:
		id = ID{Kind: Kind(parts[0]), Nameservice: parts[1], NameNode: parts[2]}
	default:
		return ID{}, false
	}
	if id.Validate() != nil {
		return ID{}, false
	}
	return id, true
}

// Legacy is a supervisor name an earlier hactl gave a per-NameNode daemon:
// "<kind>-<NameNode ID>", without its nameservice.
type Legacy struct {
	Kind     Kind
	NameNode string
}

// ParseLegacy reads a name of an earlier hactl ("namenode-nn1", "zkfc-nn1").
// Which nameservice it belongs to is not in the name: Resolve decides.
func ParseLegacy(name string) (Legacy, bool) {
	k, nn, ok := strings.Cut(name, "-")
	if !ok || !idPattern.MatchString(nn) {
		return Legacy{}, false
	}
	if s := Lookup(Kind(k)); s == nil || !s.PerNameNode {
		return Legacy{}, false
	}
	return Legacy{Kind: Kind(k), NameNode: nn}, true
}

// Name is the legacy supervisor name (the record an earlier hactl wrote).
func (l Legacy) Name() string { return string(l.Kind) + "-" + l.NameNode }

// Resolve maps a legacy name to the identity it had, given the nameservices
// that hold a NameNode of that ID on the host: it is unambiguous only with
// exactly one candidate.
func (l Legacy) Resolve(nameservices []string) (ID, bool) {
	if len(nameservices) != 1 {
		return ID{}, false
	}
	return OfNameNode(l.Kind, nameservices[0], l.NameNode), true
}

// Kinds are the registered kinds in stop order (the first stops first).
func Kinds() []Kind {
	out := make([]Kind, len(Registry))
	for i, s := range Registry {
		out[i] = s.Kind
	}
	return out
}

// Lookup is the registry entry of kind k, nil when none.
func Lookup(k Kind) *Spec {
	for i := range Registry {
		if Registry[i].Kind == k {
			return &Registry[i]
		}
	}
	return nil
}

// Of returns the kind a supervisor name belongs to, for a current or a
// legacy name: what a shutdown must order by even when the identity is not
// fully known.
func Of(name string) (Kind, bool) {
	if id, ok := Parse(name); ok {
		return id.Kind, true
	}
	if l, ok := ParseLegacy(name); ok {
		return l.Kind, true
	}
	return "", false
}

// NameNodeID is the identity of NameNode nn of nameservice ns.
func NameNodeID(ns, nn string) ID { return OfNameNode(NameNode, ns, nn) }

// ZKFCID is the identity of the ZKFC of NameNode nn of nameservice ns.
func ZKFCID(ns, nn string) ID { return OfNameNode(ZKFC, ns, nn) }

// Globs are shell patterns matching every supervisor name hactl gives or
// gave a daemon (an earlier hactl's legacy names included): what destroy
// may remove records and logs of.
func Globs() []string {
	var out []string
	for _, s := range Registry {
		if !s.PerNameNode {
			out = append(out, string(s.Kind))
			continue
		}
		out = append(out, string(s.Kind)+sep+"*"+sep+"*", string(s.Kind)+"-*")
	}
	return out
}
