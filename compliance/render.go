package compliance

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"
)

//go:embed report.schema.json
var reportSchema []byte

// ReportSchema returns the JSON Schema (draft 2020-12) of a report.
func ReportSchema() []byte { return slices.Clone(reportSchema) }

//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"short":    func(s string) string { return shortID(s) },
	"statuses": Statuses,
	"deref":    func(f *float64) float64 { return *f },
	"label": func(s Status) string {
		switch s {
		case Satisfied:
			return "satisfied"
		case NotSatisfied:
			return "not satisfied"
		case NotApplicable:
			return "not applicable"
		}
		return "not covered by Hallmark"
	},
}).Parse(reportHTML))

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteHTML writes the report as one standalone HTML page: styles inline,
// no scripts, no external resources, readable offline.
func (r *Report) WriteHTML(w io.Writer) error {
	if err := htmlTemplate.Execute(w, r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func shortID(s string) string {
	if len(s) > 19 {
		return s[:19] + "…"
	}
	return s
}
