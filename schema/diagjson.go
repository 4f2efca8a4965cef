package schema

import (
	"encoding/json"
	"io"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
)

// JSONPos is a position in a source file (terraform validate -json).
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONRange is a source range (terraform validate -json).
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONDiagnostic is one diagnostic, shaped like Terraform's, plus the rule ID.
type JSONDiagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Code     string     `json:"code,omitempty"`
	Range    *JSONRange `json:"range,omitempty"`
}

// JSONReport is the whole `hactl validate --format json` document.
type JSONReport struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []JSONDiagnostic `json:"diagnostics"`
}

// NewJSONReport converts diagnostics into the terraform-validate-shaped report.
func NewJSONReport(diags hcl.Diagnostics) JSONReport {
	rep := JSONReport{FormatVersion: "1.0", Diagnostics: []JSONDiagnostic{}}
	for _, d := range diags {
		jd := JSONDiagnostic{Severity: SeverityName(d.Severity), Summary: d.Summary, Detail: d.Detail, Code: RuleID(d)}
		if d.Severity == hcl.DiagWarning {
			rep.WarningCount++
		} else {
			rep.ErrorCount++
		}
		if s := d.Subject; s != nil {
			jd.Range = &JSONRange{
				Filename: s.Filename,
				Start:    JSONPos{s.Start.Line, s.Start.Column, s.Start.Byte},
				End:      JSONPos{s.End.Line, s.End.Column, s.End.Byte},
			}
		}
		rep.Diagnostics = append(rep.Diagnostics, jd)
	}
	rep.Valid = rep.ErrorCount == 0
	return rep
}

// WriteJSON writes diagnostics as `terraform validate -json` does.
func WriteJSON(w io.Writer, diags hcl.Diagnostics) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewJSONReport(diags))
}

// SARIF 2.1.0, the subset code-scanning services read.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string          `json:"id"`
		ShortDescription     sarifText       `json:"shortDescription"`
		DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
		Properties           map[string]any  `json:"properties,omitempty"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId,omitempty"`
		RuleIndex *int            `json:"ruleIndex,omitempty"`
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
	}
)

// WriteSARIF writes diagnostics as a SARIF 2.1.0 log with every rule in
// tool.driver.rules, for code-scanning pages in CI.
func WriteSARIF(w io.Writer, diags hcl.Diagnostics, toolVersion string) error {
	rules := Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: "hactl", Version: toolVersion, InformationURI: "https://github.com/hactl/hactl"}
	for i, r := range rules {
		index[r.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID:                   r.ID,
			ShortDescription:     sarifText{r.Description},
			DefaultConfiguration: sarifRuleConfig{Level: SeverityName(r.Severity)},
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, d := range diags {
		res := sarifResult{RuleID: RuleID(d), Level: SeverityName(d.Severity), Message: sarifText{d.Summary}}
		if d.Detail != "" {
			res.Message.Text += ": " + d.Detail
		}
		if i, ok := index[res.RuleID]; ok {
			res.RuleIndex = &i
		}
		if s := d.Subject; s != nil {
			res.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: sarifURI(s.Filename)},
				Region: sarifRegion{
					StartLine: max(s.Start.Line, 1), StartColumn: max(s.Start.Column, 1),
					EndLine: max(s.End.Line, 1), EndColumn: max(s.End.Column, 1),
				},
			}}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// sarifURI keeps relative paths relative (code scanning resolves them against
// the repository root) and turns absolute ones into file:// URIs.
func sarifURI(name string) string {
	name = filepath.ToSlash(name)
	if filepath.IsAbs(name) {
		return "file://" + name
	}
	return name
}
