package misconfig

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Errors wrapped by *FileError.
var (
	// ErrParse means a file was recognised but could not be parsed.
	ErrParse = errors.New("cannot parse file")
	// ErrTooLarge means a candidate file exceeded Config.MaxFileSize; it is
	// limits.ErrTooLarge.
	ErrTooLarge = limits.ErrTooLarge
	// ErrTooManyFiles means the tree had more candidate files than
	// Config.MaxFiles; errors.Is also matches limits.ErrTooLarge.
	ErrTooManyFiles = limits.NewTooLarge("too many files")
)

// FileError is a problem with one file. Scan keeps going after it and
// returns every FileError joined into its error.
type FileError struct {
	Path string   // relative to the scanned root, '/'-separated
	Kind FileKind // what the file was recognised as
	Err  error
}

// Error names the file, its kind and the problem.
func (e *FileError) Error() string {
	return fmt.Sprintf("misconfig: %s (%s): %v", e.Path, e.Kind, e.Err)
}

// Unwrap returns the underlying error (ErrParse, ErrTooLarge, an fs error).
func (e *FileError) Unwrap() error { return e.Err }

// Scan walks the tree at root (or checks the single file root names) and checks every Dockerfile, Kubernetes
// manifest and GitHub Actions workflow or composite action in it. The tree
// is untrusted: it is opened with os.Root (symlinks may not leave it and are
// not followed), .git is skipped, and each file is size-bounded.
//
// Findings are sorted by path, line and rule ID. The error joins a
// *FileError for every file that could not be read or parsed; findings from
// the other files are still returned. If ctx is cancelled, Scan stops and
// returns what it found with ctx's error.
func Scan(ctx context.Context, root string, cfg Config) ([]finding.Finding, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(root); err == nil && st.Mode().IsRegular() {
		return scanSingleFile(root, cfg)
	} else if err == nil && !st.IsDir() {
		return nil, &limits.NotRegularError{Path: root, Mode: st.Mode()}
	}
	r, err := limits.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("misconfig: open %s: %w", root, err)
	}
	defer r.Close()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rules := ruleIndex()
	var out []finding.Finding
	var errs []error
	files := 0
	fsys := r.FS()
	walkErr := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			errs = append(errs, &FileError{Path: p, Err: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		kind := classify(p)
		if kind == "" {
			return nil
		}
		files++
		if files > cfg.maxFiles() {
			errs = append(errs, &FileError{Path: p, Kind: kind, Err: fmt.Errorf("%w: more than %d candidate files", ErrTooManyFiles, cfg.maxFiles())})
			return fs.SkipAll
		}
		data, err := limits.ReadFileFS(fsys, p, cfg.maxFileSize())
		if err != nil {
			errs = append(errs, &FileError{Path: p, Kind: kind, Err: err})
			return nil
		}
		var buildCtx fs.FS
		if kind == KindDockerfile {
			// The build context is taken to be the Dockerfile's directory,
			// as `docker build DIR` uses it.
			buildCtx, _ = fs.Sub(fsys, path.Dir(p))
		}
		fs, ferr := checkFile(p, kind, data, &cfg, rules, buildCtx)
		if kind == KindKubernetes && errors.Is(ferr, errNotKubernetes) {
			log.Debug("misconfig: YAML file is not a Kubernetes manifest", "path", p)
			return nil
		}
		out = append(out, fs...)
		if ferr != nil {
			errs = append(errs, ferr)
		}
		return nil
	})
	sortFindings(out)
	if walkErr != nil && !errors.Is(walkErr, fs.SkipAll) {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("misconfig: walk %s: %w", root, walkErr))
	}
	return out, errors.Join(errs...)
}

// ScanFile checks one file's contents, choosing the checker from its path
// the way Scan does (Dockerfile, .github/workflows/*.yml, action.yml, other
// YAML as Kubernetes). A YAML file that is not a Kubernetes manifest yields
// no findings and no error. Errors are *FileError.
func ScanFile(name string, data []byte, cfg Config) ([]finding.Finding, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	kind := classify(name)
	if kind == "" {
		return nil, nil
	}
	if int64(len(data)) > cfg.maxFileSize() {
		return nil, &FileError{Path: name, Kind: kind, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, cfg.maxFileSize())}
	}
	fs, err := checkFile(name, kind, data, &cfg, ruleIndex(), nil)
	if errors.Is(err, errNotKubernetes) {
		return nil, nil
	}
	sortFindings(fs)
	return fs, err
}

// scanSingleFile handles Scan on a path that is a file, not a tree: the
// file is checked under its base name.
func scanSingleFile(p string, cfg Config) ([]finding.Finding, error) {
	dir, name := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("misconfig: open %s: %w", dir, err)
	}
	defer r.Close()
	kind := classify(name)
	if kind == "" {
		return nil, nil
	}
	data, err := limits.ReadFileFS(r.FS(), name, cfg.maxFileSize())
	if err != nil {
		return nil, &FileError{Path: name, Kind: kind, Err: err}
	}
	var buildCtx fs.FS
	if kind == KindDockerfile {
		buildCtx = r.FS() // the Dockerfile's directory, as for a tree
	}
	out, err := checkFile(name, kind, data, &cfg, ruleIndex(), buildCtx)
	if errors.Is(err, errNotKubernetes) {
		return nil, nil
	}
	sortFindings(out)
	return out, err
}

// classify says which checker handles a file, from its path alone; "" means
// none.
func classify(p string) FileKind {
	base := path.Base(p)
	lower := strings.ToLower(base)
	ext := path.Ext(lower)
	switch {
	case lower == "dockerfile" || lower == "containerfile" ||
		strings.HasSuffix(lower, ".dockerfile") || strings.HasSuffix(lower, ".containerfile") ||
		strings.HasPrefix(lower, "dockerfile.") || strings.HasPrefix(lower, "containerfile."):
		return KindDockerfile
	case ext != ".yml" && ext != ".yaml":
		return ""
	case path.Dir(p) == ".github/workflows" || strings.HasSuffix(path.Dir(p), "/.github/workflows"):
		return KindActions
	case lower == "action.yml" || lower == "action.yaml":
		return KindActions
	default:
		return KindKubernetes
	}
}

// checkFile runs the checker for kind, applies suppressions and disabled
// rules, and converts a parser panic into an error: bad input never takes
// the scan down.
func checkFile(p string, kind FileKind, data []byte, cfg *Config, rules map[string]*Rule, buildCtx fs.FS) (out []finding.Finding, err error) {
	defer func() {
		if v := recover(); v != nil {
			out = nil
			err = &FileError{Path: p, Kind: kind, Err: fmt.Errorf("%w: parser failure: %v", ErrParse, v)}
		}
	}()
	c := &checker{path: p, cfg: cfg, rules: rules, buildCtx: buildCtx}
	switch kind {
	case KindDockerfile:
		err = c.dockerfile(data)
	case KindKubernetes:
		err = c.kubernetes(data)
	case KindActions:
		err = c.actions(data)
	}
	if errors.Is(err, errNotKubernetes) {
		return nil, err
	}
	if err != nil {
		err = &FileError{Path: p, Kind: kind, Err: err}
	}
	sups, bad := parseSuppressions(p, data, rules)
	applySuppressions(c.out, sups)
	c.out = append(c.out, bad...)
	out = slices.DeleteFunc(c.out, func(f finding.Finding) bool { return cfg.disabled(f.RuleID) })
	return out, err
}

func sortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(a.Location.Path, b.Location.Path),
			cmp.Compare(a.Location.Line, b.Location.Line),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

func ruleIndex() map[string]*Rule {
	rs := Rules()
	m := make(map[string]*Rule, len(rs))
	for i := range rs {
		m[rs[i].ID] = &rs[i]
	}
	return m
}

// checker accumulates the findings for one file.
type checker struct {
	path  string
	cfg   *Config
	rules map[string]*Rule
	out   []finding.Finding
	// buildCtx is the Dockerfile's build context when the file was found
	// in a scanned tree; nil when only its text is known.
	buildCtx fs.FS
}

// report adds a finding for rule id at line.
func (c *checker) report(id string, line int, evidence, format string, args ...any) {
	r := c.rules[id]
	evidence = redact(evidence)
	if len(evidence) > 160 {
		evidence = evidence[:160] + "..."
	}
	c.out = append(c.out, r.finding(c.path, line, fmt.Sprintf(format, args...), evidence))
}

var (
	urlPasswordRE  = regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`)
	flagPasswordRE = regexp.MustCompile(`(?i)(--?(password|passwd|token|secret)[= ])\S+`)
)

// redact masks credentials in evidence text: URL passwords and the values
// of password-like flags.
func redact(s string) string {
	s = urlPasswordRE.ReplaceAllString(s, "${1}****@")
	return flagPasswordRE.ReplaceAllString(s, "${1}****")
}

// SplitErrors flattens the joined error Scan returns into per-file errors
// (files it could not parse) and anything else (the scan itself failed).
func SplitErrors(err error) (files []*FileError, other []error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			f, o := SplitErrors(e)
			files, other = append(files, f...), append(other, o...)
		}
		return files, other
	}
	if fe, ok := errors.AsType[*FileError](err); ok {
		return []*FileError{fe}, nil
	}
	return nil, []error{err}
}
