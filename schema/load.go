package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// LoadOptions carries variable values from outside the configuration, in
// increasing precedence: Env, then VarFiles in order, then Vars in order.
type LoadOptions struct {
	Vars     []string          // "name=value" from --var
	VarFiles []string          // HCL (.hcl, .tfvars) or JSON (.json) files of name = value
	Env      map[string]string // HACTL_VAR_<name>=value, as Terraform's TF_VAR_
}

// EnvVarPrefix marks environment variables that set input variables.
const EnvVarPrefix = "HACTL_VAR_"

// EnvFromOS returns the HACTL_VAR_ variables of the process environment.
func EnvFromOS() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, EnvVarPrefix) {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	}
	return out
}

// Load reads PATH (a directory whose *.hcl files load together, in name
// order, or a single file), evaluates variables, locals and functions,
// decodes the typed model and validates it. The returned Cluster is never
// nil (it may be partial when there are errors) and its Files hold every
// parsed source for diagnostic snippets.
func Load(path string, opts LoadOptions) (*Cluster, hcl.Diagnostics) {
	files, diags := readSources(path)
	if diags.HasErrors() {
		c := emptyCluster()
		return c, diags
	}
	c, more := LoadSources(files, opts)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		c.ConfigDir = path
	} else {
		c.ConfigDir = filepath.Dir(path)
	}
	return c, append(diags, more...)
}

func readSources(path string) (map[string][]byte, hcl.Diagnostics) {
	fail := func(summary, detail string) hcl.Diagnostics {
		return tagRule(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}, RuleSyntax)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fail("Cannot read configuration", err.Error())
	}
	var names []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fail("Cannot read configuration directory", err.Error())
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(path, e.Name()))
			}
		}
		if len(names) == 0 {
			return nil, fail("No configuration files", fmt.Sprintf("The directory %s contains no *.hcl files.", path))
		}
	} else {
		names = []string{path}
	}
	files := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fail("Cannot read configuration file", err.Error())
		}
		files[n] = b
	}
	return files, nil
}

func emptyCluster() *Cluster {
	c := &Cluster{Files: map[string]*hcl.File{}}
	fillRuntimeDefaults(c)
	return c
}

// LoadSources is Load over in-memory files (filename → content), for tests
// and fuzzing. Files load in filename order. Var files in opts are read from disk.
func LoadSources(files map[string][]byte, opts LoadOptions) (c *Cluster, diags hcl.Diagnostics) {
	c = emptyCluster()
	defer func() {
		// Load promises never to panic; a panic here is a bug the fuzzer should
		// find, so it is only converted to an error outside of tests' reach.
		if r := recover(); r != nil && !panicsPropagate {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Internal error while loading the configuration",
				Detail:   fmt.Sprintf("hactl hit a bug: %v. Please report it with the configuration.", r),
				Extra:    ruleExtra{id: RuleType},
			})
		}
		sortDiags(diags)
	}()

	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)

	parser := hclparse.NewParser()
	var bodies []*hcl.File
	for _, n := range names {
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(n, ".json") {
			f, d = parser.ParseJSON(files[n], n)
		} else {
			f, d = parser.ParseHCL(files[n], n)
		}
		diags = append(diags, tagRule(d, RuleSyntax)...)
		if f != nil {
			c.Files[n] = f
			bodies = append(bodies, f)
		}
	}
	if diags.HasErrors() {
		return c, diags
	}

	l := &loader{cluster: c, parser: parser}
	diags = append(diags, l.load(bodies, opts)...)
	if onlyUnknownErrors(diags) {
		diags = append(diags, validate(c)...)
	}
	return c, diags
}

// panicsPropagate is set by the fuzz test so a panic is reported as a crash.
var panicsPropagate = false

// onlyUnknownErrors reports whether the model is complete enough to validate:
// an unknown attribute, a second block of a kind or a missing target leave the
// rest intact (a misspelt attribute is reported with its suggestion, and what
// it meant to set is then rightly reported as missing); any other error may have left zero values that would only
// cause follow-on noise.
func onlyUnknownErrors(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		switch id := RuleID(d); {
		case id == RuleUnknown && d.Summary == "Unsupported block type":
			return false // a misspelt block leaves its whole content out of the model
		case id == RuleUnknown, id == RuleDuplicate, id == RuleTargetMissing, id == RuleTargetKind:
		default:
			return false
		}
	}
	return true
}

func sortDiags(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil && b == nil:
			return false
		case a == nil:
			return true
		case b == nil:
			return false
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Byte != b.Start.Byte:
			return a.Start.Byte < b.Start.Byte
		}
		return false
	})
}

type loader struct {
	cluster *Cluster
	parser  *hclparse.Parser
	ctx     *hcl.EvalContext
	diags   hcl.Diagnostics
}

type variableDecl struct {
	name        string
	typ         cty.Type
	defaults    *typeexpr.Defaults
	def         cty.Value // cty.NilVal when no default
	description string
	validations []*hcl.Block
	declRange   hcl.Range
	typeRange   *hcl.Range
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "host", LabelNames: []string{"name"}},
		{Type: "ssh"},
		{Type: "zookeeper"},
		{Type: "nameservice", LabelNames: []string{"name"}},
		{Type: "target", LabelNames: []string{"kind"}},
		{Type: "runtime"},
		{Type: "hadoop"},
		{Type: "datanode"},
		{Type: "hdfs"},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "default"}, {Name: "type"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true}, {Name: "error_message", Required: true},
	},
}

func (l *loader) load(files []*hcl.File, opts LoadOptions) hcl.Diagnostics {
	var blocks hcl.Blocks
	for _, f := range files {
		content, d := f.Body.Content(fileSchema)
		l.diags = append(l.diags, tagContentDiags(d)...)
		if content != nil {
			blocks = append(blocks, content.Blocks...)
		}
	}

	vars := l.declareVariables(blocks)
	values := l.variableValues(vars, opts)
	varObj := cty.EmptyObjectVal
	if len(values) > 0 {
		varObj = cty.ObjectVal(values)
	}
	l.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": varObj, "local": cty.EmptyObjectVal},
		Functions: functions(),
	}
	l.checkVariableValidations(vars, values)
	l.evalLocals(blocks)

	d := &decoder{ctx: l.ctx}
	d.decodeCluster(l.cluster, blocks, files)
	l.diags = append(l.diags, d.diags...)
	return l.diags
}

func (l *loader) declareVariables(blocks hcl.Blocks) map[string]*variableDecl {
	vars := map[string]*variableDecl{}
	for _, b := range blocks {
		if b.Type != "variable" {
			continue
		}
		name := b.Labels[0]
		if !hclIdentifier(name) {
			l.diags = append(l.diags, newDiag(RuleIdentifier, hcl.DiagError, "Invalid variable name",
				fmt.Sprintf("%q is not a valid variable name: use letters, digits, '_' and '-', starting with a letter.", name), &b.LabelRanges[0]))
			continue
		}
		if prev, dup := vars[name]; dup {
			l.diags = append(l.diags, newDiag(RuleDuplicate, hcl.DiagError, "Duplicate variable declaration",
				fmt.Sprintf("A variable named %q was already declared at %s.", name, prev.declRange), &b.DefRange))
			continue
		}
		v := &variableDecl{name: name, typ: cty.DynamicPseudoType, declRange: b.DefRange}
		content, d := b.Body.Content(variableSchema)
		l.diags = append(l.diags, tagContentDiags(d)...)
		if a, ok := content.Attributes["type"]; ok {
			ty, defs, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
			l.diags = append(l.diags, tagRule(d, RuleType)...)
			if !d.HasErrors() {
				v.typ, v.defaults = ty, defs
				r := a.Expr.Range()
				v.typeRange = &r
			}
		}
		if a, ok := content.Attributes["description"]; ok {
			dv, d := a.Expr.Value(nil)
			l.diags = append(l.diags, tagRule(d, RuleType)...)
			if dv.Type() == cty.String && dv.IsKnown() && !dv.IsNull() {
				v.description = dv.AsString()
			}
		}
		if a, ok := content.Attributes["default"]; ok {
			dv, d := a.Expr.Value(nil)
			l.diags = append(l.diags, tagRule(d, RuleType)...)
			if !d.HasErrors() {
				if cv, err := v.convert(dv); err != nil {
					l.diags = append(l.diags, newDiag(RuleType, hcl.DiagError, "Invalid default value for variable",
						fmt.Sprintf("This default value is not compatible with the variable's type constraint: %s.", err), rp(a.Expr.Range())))
				} else {
					v.def = cv
				}
			}
		}
		for _, vb := range content.Blocks {
			v.validations = append(v.validations, vb)
		}
		vars[name] = v
	}
	return vars
}

func (v *variableDecl) convert(val cty.Value) (cty.Value, error) {
	if v.defaults != nil && !val.IsNull() {
		val = v.defaults.Apply(val)
	}
	return convert.Convert(val, v.typ)
}

// variableValues resolves every declared variable: -var over -var-file over
// the environment over the default.
func (l *loader) variableValues(vars map[string]*variableDecl, opts LoadOptions) map[string]cty.Value {
	type setVal struct {
		val cty.Value
		rng *hcl.Range
		src string
	}
	set := map[string]setVal{}

	envNames := make([]string, 0, len(opts.Env))
	for k := range opts.Env {
		envNames = append(envNames, k)
	}
	sort.Strings(envNames)
	for _, k := range envNames {
		name, ok := strings.CutPrefix(k, EnvVarPrefix)
		if !ok {
			continue
		}
		v, declared := vars[name]
		if !declared {
			continue // as Terraform: the environment may hold variables for other configurations
		}
		val, err := v.parseRaw(opts.Env[k], k)
		if err != nil {
			l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Invalid value for variable",
				fmt.Sprintf("The environment variable %s does not hold a valid value for variable %q: %s.", k, name, err), nil))
			continue
		}
		set[name] = setVal{val: val, src: "environment variable " + k}
	}

	for _, vf := range opts.VarFiles {
		src, err := os.ReadFile(vf)
		if err != nil {
			l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Cannot read variables file", err.Error(), nil))
			continue
		}
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(vf, ".json") {
			f, d = l.parser.ParseJSON(src, vf)
		} else {
			f, d = l.parser.ParseHCL(src, vf)
		}
		l.diags = append(l.diags, tagRule(d, RuleSyntax)...)
		if f == nil || d.HasErrors() {
			continue
		}
		l.cluster.Files[vf] = f
		attrs, d := f.Body.JustAttributes()
		l.diags = append(l.diags, tagContentDiags(d)...)
		names := make([]string, 0, len(attrs))
		for n := range attrs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a := attrs[n]
			v, declared := vars[n]
			if !declared {
				l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Value for undeclared variable",
					fmt.Sprintf("The variables file sets %q, but no variable of that name is declared.%s", n, suggestFrom(n, keysOf(vars))), &a.NameRange))
				continue
			}
			val, d := a.Expr.Value(nil)
			l.diags = append(l.diags, tagRule(d, RuleType)...)
			if d.HasErrors() {
				continue
			}
			cv, err := v.convert(val)
			if err != nil {
				l.diags = append(l.diags, newDiag(RuleType, hcl.DiagError, "Invalid value for variable",
					fmt.Sprintf("The value for variable %q is not compatible with its type constraint: %s.", n, err), rp(a.Expr.Range())))
				continue
			}
			r := a.Expr.Range()
			set[n] = setVal{val: cv, rng: &r}
		}
	}

	for _, kv := range opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Invalid --var option",
				fmt.Sprintf("The option --var %q is not of the form NAME=VALUE.", kv), nil))
			continue
		}
		v, declared := vars[name]
		if !declared {
			l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Value for undeclared variable",
				fmt.Sprintf("--var sets %q, but no variable of that name is declared.%s", name, suggestFrom(name, keysOf(vars))), nil))
			continue
		}
		val, err := v.parseRaw(raw, "--var "+name)
		if err != nil {
			l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Invalid value for variable",
				fmt.Sprintf("--var %s: %s.", name, err), nil))
			continue
		}
		set[name] = setVal{val: val, src: "--var"}
	}

	out := map[string]cty.Value{}
	for name, v := range vars {
		if s, ok := set[name]; ok {
			out[name] = s.val
			continue
		}
		if v.def != cty.NilVal {
			out[name] = v.def
			continue
		}
		l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "No value for required variable",
			fmt.Sprintf("The variable %q has no default; set it with --var %s=…, a --var-file, or %s%s.", name, name, EnvVarPrefix, name), &v.declRange))
		out[name] = cty.UnknownVal(v.typ)
	}
	return out
}

// parseRaw interprets a value given on the command line or in the
// environment: a plain string for primitive types, HCL syntax otherwise.
func (v *variableDecl) parseRaw(raw, source string) (cty.Value, error) {
	if v.typ.IsPrimitiveType() {
		return v.convert(cty.StringVal(raw))
	}
	expr, d := hclExpression(raw, source)
	if d.HasErrors() {
		if v.typ == cty.DynamicPseudoType {
			return cty.StringVal(raw), nil
		}
		return cty.NilVal, fmt.Errorf("not a valid HCL value: %s", d[0].Summary)
	}
	val, d := expr.Value(nil)
	if d.HasErrors() {
		if v.typ == cty.DynamicPseudoType {
			return cty.StringVal(raw), nil
		}
		return cty.NilVal, fmt.Errorf("cannot evaluate: %s", d[0].Summary)
	}
	return v.convert(val)
}

func (l *loader) checkVariableValidations(vars map[string]*variableDecl, values map[string]cty.Value) {
	names := keysOf(vars)
	for _, name := range names {
		v := vars[name]
		if len(v.validations) == 0 || !values[name].IsWhollyKnown() {
			continue
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: values[name]})},
			Functions: l.ctx.Functions,
		}
		for _, vb := range v.validations {
			content, d := vb.Body.Content(validationSchema)
			l.diags = append(l.diags, tagContentDiags(d)...)
			cond, ok := content.Attributes["condition"]
			if !ok {
				continue
			}
			cv, d := cond.Expr.Value(ctx)
			l.diags = append(l.diags, tagRule(d, RuleType)...)
			if d.HasErrors() {
				continue
			}
			cv, _ = cv.Unmark()
			if b, err := convert.Convert(cv, cty.Bool); err != nil || b.IsNull() || !b.IsKnown() {
				l.diags = append(l.diags, newDiag(RuleType, hcl.DiagError, "Invalid validation condition",
					"The condition must be a boolean.", rp(cond.Expr.Range())))
				continue
			} else if b.True() {
				continue
			}
			msg := "The value of variable " + name + " is invalid."
			if em, ok := content.Attributes["error_message"]; ok {
				mv, d := em.Expr.Value(ctx)
				if !d.HasErrors() && mv.Type() == cty.String && mv.IsKnown() && !mv.IsNull() {
					mv, _ = mv.Unmark()
					msg = mv.AsString()
				}
			}
			l.diags = append(l.diags, newDiag(RuleVariable, hcl.DiagError, "Invalid value for variable",
				msg, rp(cond.Expr.Range())))
		}
	}
}

// evalLocals evaluates every local value (from all locals blocks of all
// files) in dependency order; a cycle is reported once per member and its
// values become unknown, so nothing downstream reports the same mistake again.
func (l *loader) evalLocals(blocks hcl.Blocks) {
	attrs := map[string]*hcl.Attribute{}
	var order []string
	for _, b := range blocks {
		if b.Type != "locals" {
			continue
		}
		as, d := b.Body.JustAttributes()
		l.diags = append(l.diags, tagContentDiags(d)...)
		// JustAttributes returns a map: restore source order for stable output.
		list := make([]*hcl.Attribute, 0, len(as))
		for _, a := range as {
			list = append(list, a)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
		for _, a := range list {
			if prev, dup := attrs[a.Name]; dup {
				l.diags = append(l.diags, newDiag(RuleDuplicate, hcl.DiagError, "Duplicate local value",
					fmt.Sprintf("A local value named %q was already defined at %s.", a.Name, prev.NameRange), &a.NameRange))
				continue
			}
			attrs[a.Name] = a
			order = append(order, a.Name)
		}
	}
	if len(attrs) == 0 {
		return
	}
	deps := map[string][]string{}
	bad := map[string]bool{}
	// Locals may refer to every local, evaluated or not: check against all names.
	all := map[string]cty.Value{}
	for _, n := range order {
		all[n] = cty.DynamicVal
	}
	checkCtx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": l.ctx.Variables["var"], "local": cty.ObjectVal(all)}}
	for _, name := range order {
		a := attrs[name]
		if refs := checkRefs(a.Expr, checkCtx); refs.HasErrors() {
			l.diags = append(l.diags, refs...)
			bad[name] = true
			continue
		}
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			if ga, ok := tr[1].(hcl.TraverseAttr); ok {
				deps[name] = append(deps[name], ga.Name)
			}
		}
	}

	values := map[string]cty.Value{}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		switch state[name] {
		case done:
			return
		case visiting:
			// stack from the first occurrence of name is the cycle.
			i := len(stack) - 1
			for i >= 0 && stack[i] != name {
				i--
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			for _, m := range stack[i:] {
				if _, reported := values[m]; reported {
					continue
				}
				values[m] = cty.DynamicVal
				l.diags = append(l.diags, newDiag(RuleLocalsCycle, hcl.DiagError, "Cycle in local values",
					fmt.Sprintf("local.%s is part of the cycle %s.", m, "local."+strings.Join(cycle, " → local.")), &attrs[m].NameRange))
			}
			return
		}
		state[name] = visiting
		stack = append(stack, name)
		for _, dep := range deps[name] {
			visit(dep)
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		if _, inCycle := values[name]; inCycle {
			return
		}
		if bad[name] {
			values[name] = cty.DynamicVal
			return
		}
		l.ctx.Variables["local"] = cty.ObjectVal(copyVals(values))
		v, d := attrs[name].Expr.Value(l.ctx)
		l.diags = append(l.diags, tagRule(d, RuleType)...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
		values[name] = v
	}
	for _, name := range order {
		visit(name)
	}
	l.ctx.Variables["local"] = cty.ObjectVal(values)
}

func copyVals(m map[string]cty.Value) map[string]cty.Value {
	out := make(map[string]cty.Value, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func newDiag(rule string, sev hcl.DiagnosticSeverity, summary, detail string, subject *hcl.Range) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Extra: ruleExtra{id: rule}}
	if subject != nil {
		r := *subject
		d.Subject = &r
	}
	return d
}

func rp(r hcl.Range) *hcl.Range { return &r }
