package sbom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gomod"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradlelockfile"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/pomxml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/pnpmlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/yarnlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pipfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/poetrylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/requirements"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/uvlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/ruby/gemfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargolock"
	"github.com/google/osv-scalibr/extractor/filesystem/os/apk"
	apkmeta "github.com/google/osv-scalibr/extractor/filesystem/os/apk/metadata"
	"github.com/google/osv-scalibr/extractor/filesystem/os/dpkg"
	dpkgmeta "github.com/google/osv-scalibr/extractor/filesystem/os/dpkg/metadata"
	"github.com/google/osv-scalibr/extractor/filesystem/os/rpm"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/purl"
	"github.com/google/osv-scalibr/stats"
	"github.com/package-url/packageurl-go"
	"golang.org/x/mod/modfile"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

// Default bounds on what a scan reads.
const (
	// DefaultMaxFileSize bounds every file handed to an extractor (Go
	// binaries included).
	DefaultMaxFileSize = 512 << 20
	// DefaultMaxLockfileSize bounds the lockfiles this package decodes itself.
	DefaultMaxLockfileSize = 32 << 20
)

type config struct {
	logger      *slog.Logger
	maxFileSize int64
	maxLockSize int64
	skipDirs    []string
	licenses    *LicenseDetector
	goToolchain string
}

// WithGoToolchain names the go command that builds scanned source trees,
// as `go env GOVERSION` prints it ("go1.26.1"). The standard library of a
// go.mod without a toolchain directive is then that version, as
// govulncheck reports it, instead of the go directive's minimum. Ignored
// when empty or not a release version.
func WithGoToolchain(goversion string) Option {
	return func(c *config) error {
		c.goToolchain = goversion
		return nil
	}
}

// Option configures [Scan].
type Option func(*config) error

// WithLogger sets the logger for scan progress and skipped files.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("sbom: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithMaxFileSize bounds the size of any file an extractor reads; larger
// files are skipped.
func WithMaxFileSize(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("sbom: WithMaxFileSize: %d is not positive", n)
		}
		c.maxFileSize = n
		return nil
	}
}

// WithSkipDirs skips directories, given relative to the scanned root
// ('/'-separated), e.g. "node_modules/.cache".
func WithSkipDirs(dirs ...string) Option {
	return func(c *config) error {
		for _, d := range dirs {
			if !filepath.IsLocal(filepath.FromSlash(d)) {
				return fmt.Errorf("sbom: WithSkipDirs: %q is not a local relative path", d)
			}
		}
		c.skipDirs = append(c.skipDirs, dirs...)
		return nil
	}
}

// WithLicenseDetector fills in licences the metadata lacks by classifying
// licence files found next to installed packages (see [LicenseDetector]).
func WithLicenseDetector(d *LicenseDetector) Option {
	return func(c *config) error {
		if d == nil {
			return errors.New("sbom: WithLicenseDetector: nil detector")
		}
		c.licenses = d
		return nil
	}
}

// Extractors returns the names of the scalibr extractors a scan runs, in
// the order they are configured.
func Extractors() []string {
	es, err := newExtractors(DefaultMaxFileSize)
	if err != nil {
		return nil
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name()
	}
	return out
}

func newExtractors(maxFileSize int64, extra ...func(*cpb.PluginConfig) (filesystem.Extractor, error)) ([]filesystem.Extractor, error) {
	cfg := &cpb.PluginConfig{MaxFileSizeBytes: maxFileSize}
	ctors := []func(*cpb.PluginConfig) (filesystem.Extractor, error){
		gomod.New, gobinary.New,
		packagelockjson.New, yarnlock.New, pnpmlock.New,
		requirements.New, poetrylock.New, pipfilelock.New, uvlock.New,
		cargolock.New,
		pomxml.New, gradlelockfile.New,
		gemfilelock.New,
		dpkg.New, apk.New, rpm.New,
	}
	ctors = append(ctors, extra...)
	out := make([]filesystem.Extractor, 0, len(ctors))
	for _, ctor := range ctors {
		e, err := ctor(cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: configure extractor: %w", ErrExtract, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Scan inventories the directory tree, root filesystem or single file
// (typically a Go binary) at target.
func Scan(ctx context.Context, target string, opts ...Option) (*Inventory, error) {
	cfg := config{logger: slog.New(slog.DiscardHandler), maxFileSize: DefaultMaxFileSize, maxLockSize: DefaultMaxLockfileSize}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoInput, target, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoInput, err)
	}
	extractors, err := newExtractors(cfg.maxFileSize)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Subject: Subject{Name: filepath.Base(abs)}}
	rootDir := abs
	fsCfg := &filesystem.Config{
		Extractors:  extractors,
		MaxFileSize: int(cfg.maxFileSize),
		Stats:       stats.NoopCollector{},
	}
	switch {
	case fi.IsDir():
		inv.Subject.Kind = "directory"
		fsCfg.DirsToSkip = append(fsCfg.DirsToSkip, filepath.Join(abs, ".git"))
		for _, d := range cfg.skipDirs {
			fsCfg.DirsToSkip = append(fsCfg.DirsToSkip, filepath.Join(abs, filepath.FromSlash(d)))
		}
	case fi.Mode().IsRegular():
		inv.Subject.Kind = "file"
		if fi.Size() > cfg.maxFileSize {
			return nil, fmt.Errorf("sbom: %s: %w (%d bytes, limit %d)", target, ErrTooLarge, fi.Size(), cfg.maxFileSize)
		}
		h, err := hashFile(abs)
		if err != nil {
			return nil, err
		}
		inv.Subject.Hashes = []Hash{h}
		rootDir = filepath.Dir(abs)
		fsCfg.PathsToExtract = []string{abs}
		// A file named explicitly is read as a Go binary even without the
		// executable bit, unless a lockfile extractor claims it by name.
		fsCfg.ExtractorOverride = func(api filesystem.FileAPI) []filesystem.Extractor {
			for _, e := range extractors {
				if e.Name() != gobinary.Name && e.FileRequired(api) {
					return nil
				}
			}
			for _, e := range extractors {
				if e.Name() == gobinary.Name {
					return []filesystem.Extractor{e}
				}
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("%w: %s is neither a regular file nor a directory", ErrNoInput, target)
	}
	fsCfg.ScanRoots = []*scalibrfs.ScanRoot{scalibrfs.RealFSScanRoot(rootDir)}

	cfg.logger.DebugContext(ctx, "sbom scan", "root", rootDir, "extractors", len(extractors))
	res, status, err := filesystem.Run(ctx, fsCfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrExtract, target, err)
	}
	for _, st := range status {
		if st.Status == nil {
			continue
		}
		for _, fe := range st.Status.FileErrors {
			rel := fe.FilePath
			if r, err := filepath.Rel(rootDir, fe.FilePath); err == nil && filepath.IsLocal(r) {
				rel = r
			}
			inv.Problems = append(inv.Problems, Problem{Path: filepath.ToSlash(rel), Extractor: st.Name, Message: fe.ErrorMessage})
			cfg.logger.WarnContext(ctx, "extractor could not read a file", "extractor", st.Name, "path", fe.FilePath, "error", fe.ErrorMessage)
		}
	}

	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoInput, err)
	}
	defer root.Close()
	sup := newSupplements(root, cfg.maxLockSize, cfg.logger)

	byPURL := map[string]*Component{}
	var order []string
	for _, p := range res.Packages {
		c, ok := fromScalibr(p)
		if !ok {
			continue
		}
		goStdlib(root, &c, cfg.goToolchain)
		sup.apply(ctx, &c)
		if prev, dup := byPURL[c.PURL]; dup {
			bom.Merge(prev, c)
			continue
		}
		byPURL[c.PURL] = &c
		order = append(order, c.PURL)
	}
	// Resolve lockfile dependency keys (location, name@version) to PURLs.
	byLockKey := map[string]string{}
	for _, k := range order {
		c := byPURL[k]
		for _, loc := range c.Locations {
			byLockKey[loc+"\x00"+c.Name+"@"+c.Version] = c.PURL
		}
	}
	for _, k := range order {
		c := byPURL[k]
		var deps []string
		for _, key := range c.DependsOn {
			if p, ok := byLockKey[key]; ok && p != c.PURL {
				deps = append(deps, p)
			}
		}
		c.DependsOn = deps
		if cfg.licenses != nil && len(c.Licenses) == 0 {
			c.Licenses = cfg.licenses.detect(root, c)
		}
		bom.Normalize(c)
		inv.Components = append(inv.Components, *c)
	}
	bom.SortComponents(inv.Components)
	inv.Problems = append(inv.Problems, sup.problems...)
	slices.SortFunc(inv.Problems, func(a, b Problem) int {
		return strings.Compare(a.Path+"\x00"+a.Extractor+"\x00"+a.Message, b.Path+"\x00"+b.Extractor+"\x00"+b.Message)
	})
	return inv, nil
}

// fromScalibr converts a scalibr package; packages without a PURL (which
// cannot be identified in an SBOM) are dropped.
func fromScalibr(p *extractor.Package) (Component, bool) {
	pu := p.PURL()
	if pu == nil || p.Name == "" {
		return Component{}, false
	}
	c := Component{
		Ecosystem:  p.Ecosystem().String(),
		Name:       p.Name,
		Version:    p.Version,
		Extractors: slices.Clone(p.Plugins),
	}
	switch pu.Type {
	case purl.TypeGolang:
		// The Go toolchain recorded in a binary is the standard library,
		// which OSV and go.mod extraction both call "stdlib".
		if c.Name == "go" && pu.Namespace == "" {
			c.Name, pu.Name = "stdlib", "stdlib"
		}
		// scalibr lower-cases Go purls; module paths are case-sensitive
		// (github.com/Azure/... and github.com/azure/... are different
		// modules), and syft, govulncheck and VEX documents keep the case.
		if i := strings.LastIndex(c.Name, "/"); i >= 0 && strings.EqualFold(pu.Namespace+"/"+pu.Name, c.Name) {
			pu.Namespace, pu.Name = c.Name[:i], c.Name[i+1:]
		}
		// Go module versions carry a leading "v" in a PURL (as in go.mod);
		// Component.Version keeps OSV's spelling without it.
		if c.Version == "(devel)" {
			pu.Version = ""
		} else if c.Version != "" {
			pu.Version = "v" + strings.TrimPrefix(c.Version, "v")
		}
	case purl.TypeNPM:
		// scalibr marks packages read from a local lockfile with
		// source=LOCAL; the registry package is the same package.
		pu.Qualifiers = slices.DeleteFunc(pu.Qualifiers, func(q packageurl.Qualifier) bool { return q.Key == "source" })
	}
	c.PURL = pu.String()
	if loc := p.Location.PathOrEmpty(); loc != "" {
		c.Locations = append(c.Locations, filepath.ToSlash(loc))
	}
	for _, l := range p.Licenses {
		if l = strings.TrimSpace(l); l != "" {
			c.Licenses = append(c.Licenses, l)
		}
	}
	switch m := p.Metadata.(type) {
	case *dpkgmeta.Metadata:
		c.Supplier = m.Maintainer
		c.Source, c.SourceVersion = m.SourceName, m.SourceVersion
	case *apkmeta.Metadata:
		c.Supplier = m.Maintainer
		c.Source = m.OriginName
	}
	return c, true
}

func hashFile(p string) (Hash, error) {
	s, err := digest.File(p, digest.SHA256)
	if err != nil {
		return Hash{}, fmt.Errorf("%w: %w", ErrNoInput, err)
	}
	return Hash{Algorithm: SHA256, Value: s[digest.SHA256]}, nil
}

// base returns the last element of a '/'-separated location.
func base(loc string) string { return path.Base(loc) }

// Where the standard library version of a go.mod came from.
const (
	StdlibFromToolchainDirective = "go.mod toolchain directive"
	StdlibFromGoCommand          = "go env GOVERSION"
	StdlibFromGoDirective        = "go.mod go directive"
)

// goStdlib sets the version of the standard library found in a go.mod:
// the toolchain directive when there is one, else the go command that
// builds the tree (goversion), else the go directive, which is only the
// minimum the module accepts. Components from binaries are left alone:
// their version is the toolchain that built them.
func goStdlib(root *os.Root, c *Component, goversion string) {
	if c.Ecosystem != "Go" || c.Name != "stdlib" || len(c.Locations) != 1 || base(c.Locations[0]) != "go.mod" {
		return
	}
	data, err := root.ReadFile(filepath.FromSlash(c.Locations[0]))
	if err != nil {
		return
	}
	f, err := modfile.Parse(c.Locations[0], data, nil)
	if err != nil {
		return
	}
	v, src := "", StdlibFromGoDirective
	switch {
	case f.Toolchain != nil && f.Toolchain.Name != "":
		v, src = goReleaseVersion(f.Toolchain.Name), StdlibFromToolchainDirective
	case goReleaseVersion(goversion) != "":
		v, src = goReleaseVersion(goversion), StdlibFromGoCommand
	}
	c.VersionSource = src
	if v == "" {
		return
	}
	c.Version = v
	c.PURL = packageurl.NewPackageURL(packageurl.TypeGolang, "", "stdlib", "v"+v, nil, "").ToString()
}

// goReleaseVersion turns "go1.26.1", "go1.26.1-custom" or "go1.26.1
// X:nocoverageredesign" into "1.26.1"; "" when it is not a release.
func goReleaseVersion(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ")
	s, _, _ = strings.Cut(s, "-")
	s, ok := strings.CutPrefix(s, "go")
	if !ok || s == "" || s[0] < '0' || s[0] > '9' {
		return ""
	}
	return s
}
