package gate

// SetDecisionPage sets how many decision records a listing reads at a
// time, for tests of the paging, and returns a function restoring it.
func SetDecisionPage(n int) (restore func()) {
	old := decisionPage
	decisionPage = n
	return func() { decisionPage = old }
}
