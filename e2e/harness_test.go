package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseStatusNameNodes(t *testing.T) {
	for name, doc := range map[string]string{
		"list": `{"hosts":[{"name":"n1"}],"namenodes":[
			{"nameservice":"hacluster","id":"nn2","host":"n2","ha_state":"standby","pid":12},
			{"nameservice":"hacluster","id":"nn1","host":"n1","ha_state":"active","pid":11}]}`,
		"nested map": `{"nameservices":{"hacluster":{"namenodes":{
			"hacluster/nn1":{"nameservice":"hacluster","host":"n1","state":"ACTIVE","pid":11},
			"hacluster/nn2":{"nameservice":"hacluster","host":"n2","state":"standby","pid":"12"}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseStatusNameNodes([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			want := []NameNodeStatus{
				{Nameservice: "hacluster", ID: "nn1", Host: "n1", State: "active", PID: 11},
				{Nameservice: "hacluster", ID: "nn2", Host: "n2", State: "standby", PID: 12},
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
			if err := CheckOneActive(got); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := ParseStatusNameNodes([]byte(`{"hosts":[]}`)); err == nil {
		t.Fatal("a document without namenodes must be an error")
	}
}

func TestCheckOneActive(t *testing.T) {
	nn := func(id, st string) NameNodeStatus { return NameNodeStatus{ID: id, State: st} }
	for _, bad := range [][]NameNodeStatus{
		nil,
		{nn("a", "standby"), nn("b", "standby")},
		{nn("a", "active"), nn("b", "active")},
		{nn("a", "active"), nn("b", "")},
		{nn("a", "active"), nn("b", "initializing")},
	} {
		if err := CheckOneActive(bad); err == nil {
			t.Errorf("CheckOneActive(%+v) = nil, want an error", bad)
		}
	}
}

func TestStepActions(t *testing.T) {
	out := strings.Join([]string{
		"hactl will perform the following actions, in order:",
		"    +  1. n1  format-namenode hacluster/nn1   every storage dir is empty",
		"    +  2. n2  bootstrap-standby hacluster/nn2 storage is empty",
		"[1/3] n1 format-namenode hacluster/nn1 ... ok (0.5s)",
		"[2/3] n2 bootstrap-standby hacluster/nn2 ... ok (0.2s)",
		"[ 3/10] n1 verify-ha hacluster ... failed (1.0s)",
		"Apply complete.",
	}, "\n")
	want := []string{"format-namenode", "bootstrap-standby", "verify-ha"}
	if got := StepActions(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("StepActions = %v, want %v (plan lines must not count)", got, want)
	}
}

func TestWalkFiles(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"var/lib/hdfs/namenode/current/VERSION", "opt/hactl/bin/hactl", "var/lib/hdfs2/x"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := walkFiles(root, "/", []string{"/var/lib/hdfs"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/opt/hactl/bin/hactl", "/var/lib/hdfs2/x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("walkFiles = %v, want %v", got, want)
	}
}

func TestVersionKey(t *testing.T) {
	v, err := VersionKey("#Fri\nnamespaceID=1\nclusterID=CID-x\n", "clusterID")
	if err != nil || v != "CID-x" {
		t.Fatalf("VersionKey = %q, %v", v, err)
	}
	if _, err := VersionKey("a=b\n", "clusterID"); err == nil {
		t.Fatal("missing key must be an error")
	}
}
