package zkfc

import (
	"strings"
	"testing"
)

// TestCheckHistory: the history check of the randomized failover test finds
// each kind of violation it is there for.
func TestCheckHistory(t *testing.T) {
	good := []procAck{{0, "/h/0", "nn1", 1}, {1, "/h/1", "nn1", 1}, {0, "/h/2", "nn2", -1}, {0, "/h/3", "nn2", 2}, {1, "/h/4", "nn1", 3}}
	for _, tc := range []struct {
		name  string
		acks  []procAck
		names []string
		want  string // "" = no problem
	}{
		{"valid", good, []string{"h0", "0", "1", "2", "3", "4"}, ""},
		{"lost", good, []string{"0", "1", "3", "4"}, "/h/2 (by nn2, epoch -1) is present 0 times"},
		{"duplicated", good, []string{"0", "1", "2", "3", "3", "4"}, "/h/3 (by nn2, epoch 2) is present 2 times"},
		{"epoch on two NameNodes", []procAck{{0, "/h/0", "nn1", 1}, {1, "/h/1", "nn2", 1}}, []string{"0", "1"}, "epoch 1: writes acknowledged by both nn1 and nn2"},
		{"stale writer after a newer one", []procAck{{0, "/h/0", "nn2", 2}, {1, "/h/1", "nn1", 1}, {0, "/h/2", "nn1", 1}}, []string{"0", "1", "2"}, "/h/2 was acknowledged by nn1 in epoch 1 after /h/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			epochs, unattributed, problems := checkHistory(tc.acks, "/h", tc.names)
			got := strings.Join(problems, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			if tc.name == "stale writer after a newer one" && strings.Contains(got, "/h/1 was") {
				t.Fatalf("writers 0 and 1 are independent: %q", got)
			}
			if tc.name == "valid" && (epochs != 3 || unattributed != 1) {
				t.Fatalf("epochs %d unattributed %d", epochs, unattributed)
			}
		})
	}
}
