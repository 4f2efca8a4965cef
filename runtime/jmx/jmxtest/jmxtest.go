// Package jmxtest holds checks shared by the tests of the daemons that serve
// /jmx and /prom.
package jmxtest

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// promSample is the text exposition format's sample line (0.0.4).
var promSample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})? (\S+)( -?[0-9]+)?$`)
var promType = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$`)

// ParseProm checks body against the Prometheus text exposition rules (one
// TYPE line per family, before its samples and not repeated; samples of a
// family together; values that parse as floats) and returns the samples,
// "name{labels}" → value, and the type of each family.
func ParseProm(t testing.TB, body io.Reader) (map[string]float64, map[string]string) {
	t.Helper()
	samples, types := map[string]float64{}, map[string]string{}
	seen := map[string]bool{}
	last := ""
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "# HELP ") {
			continue
		}
		if m := promType.FindStringSubmatch(line); m != nil {
			if _, dup := types[m[1]]; dup || seen[m[1]] {
				t.Fatalf("TYPE of %s repeated or after its samples: %q", m[1], line)
			}
			types[m[1]] = m[2]
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := promSample.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		if seen[m[1]] && last != m[1] {
			t.Fatalf("samples of %s not together: %q", m[1], line)
		}
		seen[m[1]], last = true, m[1]
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("value of %q: %v", line, err)
		}
		key := m[1] + m[2]
		if _, dup := samples[key]; dup {
			t.Fatalf("sample %s repeated", key)
		}
		samples[key] = v
	}
	return samples, types
}

// ParsePromString is ParseProm over a string.
func ParsePromString(t testing.TB, body string) (map[string]float64, map[string]string) {
	t.Helper()
	return ParseProm(t, strings.NewReader(body))
}
