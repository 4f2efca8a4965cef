package jmx

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// PromHandler serves /prom from src as Hadoop 3.3's PrometheusMetricsSink:
// every number of a metrics2 record (a Bean with Record set) becomes
// <record>_<attribute> in snake case, labelled with the record's tags
// (tag.X attributes, names lower-cased). Unlike Hadoop's sink, which repeats
// "# TYPE" per record, each family's TYPE line is written once before all
// its samples, as the exposition format requires.
func PromHandler(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		WriteProm(&buf, src(r))
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(buf.Bytes())
	})
}

// WriteProm writes beans' metrics2 records in the Prometheus text format.
func WriteProm(buf *bytes.Buffer, beans []Bean) {
	type family struct {
		typ     string
		samples []string
	}
	fams := map[string]*family{}
	var order []string
	for _, b := range beans {
		if b.Record == "" {
			continue
		}
		var tags []string
		var names []string
		for k := range b.Attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			t, ok := strings.CutPrefix(k, "tag.")
			if !ok || b.Attrs[k] == nil {
				continue
			}
			tags = append(tags, fmt.Sprintf("%s=\"%s\"", strings.ToLower(t), escapeLabel(fmt.Sprint(b.Attrs[k]))))
		}
		labels := "{" + strings.Join(tags, ",") + "}"
		for _, k := range names {
			if strings.HasPrefix(k, "tag.") {
				continue
			}
			v, ok := number(b.Attrs[k])
			if !ok {
				continue
			}
			name := PromName(b.Record, k)
			typ := "gauge"
			if b.Counters[k] {
				typ = "counter"
			}
			f := fams[name]
			if f == nil {
				f = &family{typ: typ}
				fams[name] = f
				order = append(order, name)
			}
			f.samples = append(f.samples, name+labels+" "+v)
		}
	}
	for _, name := range order {
		f := fams[name]
		fmt.Fprintf(buf, "# TYPE %s %s\n", name, f.typ)
		for _, s := range f.samples {
			buf.WriteString(s)
			buf.WriteByte('\n')
		}
	}
}

// PromName is Hadoop's PrometheusMetricsSink.prometheusName: record and
// metric capitalized and joined, split before each upper-case letter that
// starts a word (FSNamesystem → FS_Namesystem), lower-cased, and every run
// of other characters made one underscore.
func PromName(record, metric string) string {
	s := []rune(capitalize(record) + capitalize(metric))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && unicode.IsUpper(c) {
			prev := s[i-1]
			afterLower := !unicode.IsUpper(prev) && prev != '_'
			startsWord := i+1 < len(s) && unicode.IsLower(s[i+1])
			if afterLower || startsWord {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	var out strings.Builder
	inRun := false
	for _, c := range b.String() {
		if c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
			out.WriteRune(c)
			inRun = false
			continue
		}
		if !inRun {
			out.WriteByte('_')
		}
		inRun = true
	}
	return out.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// number formats v as a Prometheus sample value, or reports it is none.
func number(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float32:
		return formatFloat(float64(x)), true
	case float64:
		return formatFloat(x), true
	}
	return "", false
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
