package schema

import (
	"strings"
	"testing"
)

func TestFunctions(t *testing.T) {
	cases := map[string]string{
		`cidrhost("10.0.0.0/24", 5)`:                     "10.0.0.5",
		`cidrhost("10.0.0.0/24", -2)`:                    "10.0.0.254",
		`cidrhost("fd00::/64", 17)`:                      "fd00::11",
		`upper(join("-", split(",", "a,b")))`:            "A-B",
		`format("%s:%d", "h", 8485)`:                     "h:8485",
		`tostring(length(setproduct(["a","b"], [1,2])))`: "4",
		`indent(2, "a\nb")`:                              "a\n  b",
		`tostring(max(1, 5, 3))`:                         "5",
		`coalesce(null, "x")`:                            "x",
		`trimspace("  x ")`:                              "x",
		`lookup({a = "1"}, "b", "d")`:                    "d",
		`element(tolist(toset(["z"])), 0)`:               "z",
		`replace("a.b", ".", "_")`:                       "a_b",
	}
	for expr, want := range cases {
		// A passthrough value carries the result: it may hold a newline
		// (indent's), which an SSH user may not (HA093).
		c, diags := LoadSources(map[string][]byte{"f.hcl": []byte("hadoop {\n  core_site = { \"hadoop.tmp.dir\" = " + expr + " }\n}\ntarget \"ssh\" {}\n")}, LoadOptions{})
		if diags.HasErrors() {
			t.Errorf("%s: %v", expr, diags)
			continue
		}
		if got := c.Hadoop.CoreSite["hadoop.tmp.dir"]; got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	for _, expr := range []string{`indent(999999999, "a")`, `setproduct(range(100), range(100), range(100))`, `cidrhost("10.0.0.0/30", 9)`} {
		_, diags := LoadSources(map[string][]byte{"f.hcl": []byte("ssh {\n  user = " + expr + "\n}\ntarget \"ssh\" {}\n")}, LoadOptions{})
		if len(diags) != 1 || RuleID(diags[0]) != RuleType || !strings.Contains(diags[0].Error(), "Error in function call") {
			t.Errorf("%s: want one function error, got %v", expr, diags)
		}
	}
}
