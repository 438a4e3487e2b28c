package server

import "testing"

// TestLabels: label values are escaped as the text exposition format
// wants, sorted by name, and rendering them (on every request) allocates
// little: once a strings.Replacer was built per value, 28 KB a request.
func TestLabels(t *testing.T) {
	if got, want := labels("source", "admission", "result", "a\\b\"c\nd"), `result="a\\b\"c\nd",source="admission"`; got != want {
		t.Errorf("labels = %s, want %s", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { labels("result", "allow", "source", "admission") }); n > 4 {
		t.Errorf("labels allocates %.0f times per call, want at most 4", n)
	}
}
