package daemon

import (
	"slices"
	"strings"
	"testing"
)

func TestNameParsesBack(t *testing.T) {
	for _, id := range []ID{
		Host(JournalNode), Host(ZooKeeper),
		NameNodeID("ns1", "nn1"), ZKFCID("ns1", "nn1"),
		// The same NameNode ID in another nameservice is another daemon.
		NameNodeID("ns2", "nn1"), ZKFCID("ns2", "nn1"),
		NameNodeID("my-cluster", "nn_1-a"),
	} {
		name := id.Name()
		got, ok := Parse(name)
		if !ok || got != id {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", name, got, ok, id)
		}
	}
	if NameNodeID("ns1", "nn1").Name() == NameNodeID("ns2", "nn1").Name() {
		t.Error("a NameNode ID repeated across nameservices gives one name")
	}
	if got := NameNodeID("ns1", "nn1").Name(); got != "namenode.ns1.nn1" {
		t.Errorf("name = %q", got)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, name := range []string{
		"", "tasktracker", "namenode", "datanode.ns1.nn1", "namenode.ns1", "namenode.ns1.nn1.x", "namenode..nn1", "namenode.ns1.",
		"journalnode.ns1.nn1", // a per-host kind carries no NameNode
		"namenode-nn1",        // an earlier hactl's name: ParseLegacy
		"namenode.n s.nn1", "namenode.ns/1.nn1",
	} {
		if id, ok := Parse(name); ok {
			t.Errorf("Parse(%q) = %+v, want refused", name, id)
		}
	}
}

func TestLegacyNames(t *testing.T) {
	l, ok := ParseLegacy("namenode-nn1")
	if !ok || l != (Legacy{Kind: NameNode, NameNode: "nn1"}) || l.Name() != "namenode-nn1" {
		t.Fatalf("ParseLegacy(namenode-nn1) = %+v, %v", l, ok)
	}
	// The ID itself may hold a '-': only the first one separates the kind.
	if l, ok := ParseLegacy("zkfc-nn-1"); !ok || l != (Legacy{Kind: ZKFC, NameNode: "nn-1"}) {
		t.Errorf("ParseLegacy(zkfc-nn-1) = %+v, %v", l, ok)
	}
	for _, name := range []string{"journalnode", "zookeeper", "journalnode-x", "namenode.ns1.nn1", "namenode-", "datanode-dn1", "zkfc-a.b"} {
		if l, ok := ParseLegacy(name); ok {
			t.Errorf("ParseLegacy(%q) = %+v, want refused", name, l)
		}
	}
	// Resolve: unambiguous with exactly one nameservice.
	if id, ok := l.Resolve([]string{"ns2"}); !ok || id != NameNodeID("ns2", "nn1") {
		t.Errorf("Resolve(ns2) = %+v, %v", id, ok)
	}
	for _, nss := range [][]string{nil, {"ns1", "ns2"}} {
		if id, ok := l.Resolve(nss); ok {
			t.Errorf("Resolve(%v) = %+v, want ambiguous", nss, id)
		}
	}
}

func TestOfCoversCurrentAndLegacyNames(t *testing.T) {
	for name, want := range map[string]Kind{
		"zkfc.ns.a": ZKFC, "zkfc-a": ZKFC, "namenode.ns.a": NameNode, "namenode-a": NameNode,
		"journalnode": JournalNode, "zookeeper": ZooKeeper,
	} {
		if k, ok := Of(name); !ok || k != want {
			t.Errorf("Of(%q) = %q, %v; want %q", name, k, ok, want)
		}
	}
	if k, ok := Of("sshd"); ok {
		t.Errorf("Of(sshd) = %q", k)
	}
}

// The registry is the shutdown order, and every kind has what apply and
// plan need.
func TestRegistry(t *testing.T) {
	if got := Kinds(); !slices.Equal(got, []Kind{DataNode, ZKFC, NameNode, JournalNode, ZooKeeper}) {
		t.Errorf("stop order = %v", got)
	}
	if !(StopRank(DataNode) < StopRank(ZKFC) && StopRank(ZKFC) < StopRank(NameNode) && StopRank(NameNode) < StopRank(JournalNode) && StopRank(JournalNode) < StopRank(ZooKeeper)) ||
		StopRank("tasktracker") != len(Registry) {
		t.Error("StopRank disagrees with the registry order")
	}
	for _, s := range Registry {
		if s.Argv == nil || s.Ready == 0 || len(s.ConfigFiles) == 0 || s.Title == "" {
			t.Errorf("%s: incomplete entry %+v", s.Kind, s)
		}
	}
	a := Args{Binary: "/opt/hactl/bin/hactl", ConfDir: "/etc/hactl", LogDir: "/var/log/hactl", ZooCfg: "/etc/hactl/zookeeper/zoo.cfg"}
	a.ID = ZKFCID("ns2", "nn1")
	if got := Lookup(ZKFC).Argv(a); !slices.Equal(got, []string{"/opt/hactl/bin/hactl", "runtime", "zkfc", "--conf", "/etc/hactl", "--id", "nn1", "--nameservice", "ns2"}) {
		t.Errorf("zkfc argv = %q", got)
	}
	a.ID, a.LogDir = Host(ZooKeeper), "/var/log/it's"
	got := Lookup(ZooKeeper).Argv(a)
	if len(got) != 3 || got[0] != "/bin/sh" || !strings.Contains(got[2], `-Dzookeeper.log.dir='/var/log/it'"'"'s'`) || !strings.HasSuffix(got[2], " /etc/hactl/zookeeper/zoo.cfg") {
		t.Errorf("zookeeper argv = %q", got)
	}
}
