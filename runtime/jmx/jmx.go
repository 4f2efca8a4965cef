// Package jmx serves a daemon's metrics the way Hadoop's HTTP server does:
// /jmx as JMXJsonServlet renders MBeans (qry= ObjectName patterns, get=
// Bean::Attr, callback=) and /prom as Hadoop 3.3's PrometheusMetricsSink
// (hadoop.prometheus.endpoint.enabled) renders metrics2 records.
package jmx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Bean is one MBean. Attrs hold JSON-encodable values; names in Counters
// are monotonic counters (Prometheus TYPE counter), every other number a gauge.
type Bean struct {
	Name        string // ObjectName, e.g. Hadoop:service=NameNode,name=FSNamesystem
	ModelerType string
	// Record is the metrics2 record name the bean publishes to /prom
	// (e.g. FSNamesystem); empty for MXBeans like NameNodeInfo, which
	// Hadoop's Prometheus sink never sees.
	Record   string
	Attrs    map[string]any
	Counters map[string]bool
}

// Source returns the beans of a daemon at the time of the call.
type Source func(r *http.Request) []Bean

// ObjectName is a parsed javax.management.ObjectName (or pattern).
type ObjectName struct {
	Domain string
	Props  map[string]string
	// PropListPattern: the pattern ended in ",*" (or was "domain:*"), so a
	// name may carry properties the pattern does not list.
	PropListPattern bool
}

// ParseObjectName parses name as ObjectName's constructor does, refusing
// what it calls malformed (no domain separator, empty key list, a key
// without a value, a repeated key).
func ParseObjectName(name string) (ObjectName, error) {
	if name == "" {
		// ObjectName's constructor takes "" as the pattern *:*.
		name = "*:*"
	}
	i := strings.IndexByte(name, ':')
	if i < 0 {
		return ObjectName{}, fmt.Errorf("domain part must be specified")
	}
	on := ObjectName{Domain: name[:i], Props: map[string]string{}}
	rest := name[i+1:]
	if rest == "" {
		return ObjectName{}, fmt.Errorf("key properties cannot be empty")
	}
	for _, kv := range strings.Split(rest, ",") {
		if kv == "*" {
			if on.PropListPattern {
				return ObjectName{}, fmt.Errorf("cannot have several '*' characters in pattern property list")
			}
			on.PropListPattern = true
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return ObjectName{}, fmt.Errorf("unterminated key property part %q", kv)
		}
		if v == "" {
			return ObjectName{}, fmt.Errorf("invalid value for key %q: empty", k)
		}
		if strings.ContainsAny(k, "*?") {
			return ObjectName{}, fmt.Errorf("invalid character in key %q", k)
		}
		if _, dup := on.Props[k]; dup {
			return ObjectName{}, fmt.Errorf("key properties cannot contain duplicate keys: %q", k)
		}
		on.Props[k] = v
	}
	return on, nil
}

// Matches reports whether the name (not a pattern) name matches pattern p:
// the domain and property values may use * and ?, the property list must
// be the same unless p is a property list pattern.
func (p ObjectName) Matches(name ObjectName) bool {
	if !wildMatch(p.Domain, name.Domain) {
		return false
	}
	if !p.PropListPattern && len(p.Props) != len(name.Props) {
		return false
	}
	for k, pv := range p.Props {
		v, ok := name.Props[k]
		if !ok || !wildMatch(pv, v) {
			return false
		}
	}
	return true
}

// wildMatch matches s against pat where * is any run and ? one character.
func wildMatch(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildMatch(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			s, pat = s[1:], pat[1:]
		default:
			if s == "" || s[0] != pat[0] {
				return false
			}
			s, pat = s[1:], pat[1:]
		}
	}
	return s == ""
}

// Handler serves /jmx from src as JMXJsonServlet does: qry= (default *:*)
// selects beans by ObjectName pattern; get=Bean::Attr returns one attribute
// ({"result":"ERROR",...} with 400 when get is not two parts, 404 when a
// matched bean lacks the attribute); a malformed ObjectName is a 400 with
// an empty object; callback=f wraps the answer as JSONP.
func Handler(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var buf bytes.Buffer
		code := writeJMX(&buf, src, r, q.Get("get"), q.Has("get"), q.Get("qry"))
		cb := q.Get("callback")
		if cb != "" {
			w.Header().Set("Content-Type", "application/javascript; charset=utf8")
		} else {
			w.Header().Set("Content-Type", "application/json; charset=utf8")
		}
		w.WriteHeader(code)
		if cb != "" {
			fmt.Fprintf(w, "%s(", cb)
		}
		w.Write(buf.Bytes())
		if cb != "" {
			w.Write([]byte(");"))
		}
	})
}

func writeJMX(buf *bytes.Buffer, src Source, r *http.Request, get string, hasGet bool, qry string) int {
	attr := ""
	if hasGet {
		parts := strings.Split(get, "::")
		// Java's String.split drops trailing empty strings: "Bean::" is one part.
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) != 2 {
			writeObject(buf, []kv{{"result", "ERROR"}, {"message", "query format is not as expected."}})
			return http.StatusBadRequest
		}
		qry, attr = parts[0], parts[1]
	}
	pat, err := ParseObjectName(qry)
	if err != nil {
		buf.WriteString("{ }\n")
		return http.StatusBadRequest
	}
	var out []json.RawMessage
	for _, b := range src(r) {
		on, err := ParseObjectName(b.Name)
		if err != nil || !pat.Matches(on) {
			continue
		}
		fields := []kv{{"name", b.Name}, {"modelerType", b.ModelerType}}
		if hasGet {
			v, ok := b.Attrs[attr]
			if !ok || v == nil {
				fields = append(fields, kv{"result", "ERROR"}, kv{"message", "No attribute with name " + attr + " was found."})
				out = append(out, objectJSON(fields))
				writeObject(buf, []kv{{"beans", out}})
				return http.StatusNotFound
			}
			fields = append(fields, kv{attr, v})
		} else {
			keys := make([]string, 0, len(b.Attrs))
			for k := range b.Attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fields = append(fields, kv{k, b.Attrs[k]})
			}
		}
		out = append(out, objectJSON(fields))
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	writeObject(buf, []kv{{"beans", out}})
	return http.StatusOK
}

type kv struct {
	k string
	v any
}

// objectJSON encodes fields as a JSON object in their order (Hadoop lists
// name and modelerType first; a map would sort them away).
func objectJSON(fields []kv) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		v, err := json.Marshal(f.v)
		if err != nil {
			v, _ = json.Marshal(fmt.Sprint(f.v))
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeObject(buf *bytes.Buffer, fields []kv) {
	json.Indent(buf, objectJSON(fields), "", "  ")
	buf.WriteByte('\n')
}
