package archive

// Kind says what an Error is about, so that a caller can map it (the CLI
// to its exit codes).
type Kind int

const (
	// Rejected: a check ran and said no: a member changed, a bundle's log
	// entries do not verify, the report is not reproduced.
	Rejected Kind = iota + 1
	// BadInput: an input could not be read or is malformed.
	BadInput
	// Environment: the store or the file system failed.
	Environment
)

// Error is an error of Write or Verify with its Kind; its message is the
// wrapped error's.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func rejected(err error) error    { return &Error{Kind: Rejected, Err: err} }
func badInput(err error) error    { return &Error{Kind: BadInput, Err: err} }
func environment(err error) error { return &Error{Kind: Environment, Err: err} }
