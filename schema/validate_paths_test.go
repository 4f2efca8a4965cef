package schema

import (
	"strings"
	"testing"
)

// TestPathCharactersDetail checks that each path diagnostic names the
// attribute, the character and where it is, so the operator can find it.
func TestPathCharactersDetail(t *testing.T) {
	_, diags := Load("../testdata/invalid/90-path-control-character", LoadOptions{})
	want := []string{
		`edits_dir "/hdfs/journal\nnode" contains the control character \n (newline) at byte 13`,
		`name_dir "/data/name\tdir" contains the control character \t (tab) at byte 10`,
		`secret_file "/etc/hactl/s$(id>/tmp/p)\r" contains the control character \r (carriage return) at byte 24`,
	}
	var got []string
	for _, d := range diags {
		if RuleID(d) == RulePathControlChar {
			got = append(got, d.Detail)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d HA090 diagnostics, want %d: %q", len(got), len(want), got)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("diagnostic %d:\n got %s\nwant prefix %s", i, got[i], w)
		}
	}
}
