package hadoopconf

import (
	"strings"
	"testing"
	"time"
)

func TestRoundTripKeepsOrderValuesAndNewlines(t *testing.T) {
	c := New()
	c.Set("dfs.nameservices", "hacluster")
	c.Set("dfs.ha.fencing.methods", "sshfence\nshell(/bin/true)")
	c.Set("weird", "a<b&c")
	got, err := Parse("x.xml", c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if k := got.Keys(); len(k) != 3 || k[0] != "dfs.nameservices" || k[2] != "weird" {
		t.Fatalf("keys = %v", k)
	}
	if m := got.Lines("dfs.ha.fencing.methods"); len(m) != 2 || m[1] != "shell(/bin/true)" {
		t.Fatalf("fencing lines = %q", m)
	}
	if v := got.Get("weird", ""); v != "a<b&c" {
		t.Fatalf("escaped value = %q", v)
	}
}

func TestTypedGettersAndFinal(t *testing.T) {
	c, err := Parse("t", []byte(`<configuration>
<property><name>a.ms</name><value> 1500 </value></property>
<property><name>b</name><value>x, y ,,z</value><final>true</final></property>
<property><name>b</name><value>overridden</value></property>
<property><name>bad</name><value>12x</value></property>
</configuration>`))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Millis("a.ms", 0); d != 1500*time.Millisecond {
		t.Fatalf("millis = %v", d)
	}
	if s := c.Strings("b"); len(s) != 3 || s[2] != "z" {
		t.Fatalf("final property was overridden or split wrong: %q", s)
	}
	if _, err := c.Int("bad", 0); err == nil {
		t.Fatal("malformed integer accepted")
	}
	if n, _ := c.Int("missing", 7); n != 7 {
		t.Fatal("default not used")
	}
}

func TestSizeReadsHadoopSuffixes(t *testing.T) {
	c := New()
	for k, v := range map[string]string{"plain": "134217728", "m": "128m", "g": "1G", "bad": "12x"} {
		c.Set(k, v)
	}
	for key, want := range map[string]int64{"plain": 134217728, "m": 128 << 20, "g": 1 << 30, "bad": 5, "missing": 5} {
		if got := c.Size(key, 5); got != want {
			t.Errorf("Size(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestParseDuplicateLastWins(t *testing.T) {
	c, err := Parse("hdfs-site.xml", []byte(`<configuration>
<property><name>a</name><value>1</value></property>
<property><name>b</name><value>x</value></property>
<property><name>a</name><value>2</value></property>
<property><name>a</name><value>3</value></property>
</configuration>`))
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Get("a", ""); v != "3" {
		t.Errorf("a = %q, want the last value 3", v)
	}
	if d := c.Duplicates(); len(d) != 1 || d[0] != "a" {
		t.Errorf("Duplicates() = %v, want [a]", d)
	}
}

// The automatic-failover key as Hadoop resolves it: the per-nameservice key
// wins whenever it is set, values are trimmed and case-insensitive, unset or
// blank is false, anything else is an error naming the key it came from.
func TestAutomaticFailoverResolvesAsHadoop(t *testing.T) {
	unset := "<unset>"
	for _, tc := range []struct {
		global, perNS string
		want          bool
		errKey        string // "" when no error
	}{
		{unset, unset, false, ""},
		{"true", unset, true, ""},
		{" TRUE ", unset, true, ""},
		{"True", "false", false, ""},
		{"false", "tRuE", true, ""},
		{"true", "", false, ""}, // set but blank: Hadoop's getBoolean default
		{"", "true", true, ""},
		{"ture", unset, false, KeyAutomaticFailover},
		{"ture", "true", true, ""}, // the global key is not read at all
		{"true", "yes", false, KeyAutomaticFailover + ".ns1"},
	} {
		c := New()
		if tc.global != unset {
			c.Set(KeyAutomaticFailover, tc.global)
		}
		if tc.perNS != unset {
			c.Set(KeyAutomaticFailover+".ns1", tc.perNS)
		}
		c.Set(KeyAutomaticFailover+".other", "false")
		got, err := c.AutomaticFailover("ns1")
		switch {
		case tc.errKey == "" && err != nil:
			t.Errorf("global %q, ns1 %q: %v", tc.global, tc.perNS, err)
		case tc.errKey != "" && (err == nil || !strings.Contains(err.Error(), "key "+tc.errKey+":")):
			t.Errorf("global %q, ns1 %q: error %v, want one naming %s", tc.global, tc.perNS, err, tc.errKey)
		case err == nil && got != tc.want:
			t.Errorf("global %q, ns1 %q: %v, want %v", tc.global, tc.perNS, got, tc.want)
		}
	}
}
