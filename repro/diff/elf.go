package diff

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
)

// compareELF compares Go build information, build IDs, embedded absolute
// paths and then each ELF section.
func (c *comparer) compareELF(ctx context.Context, p string, a, b *source) error {
	ra, sa, err := c.randomAccess(ctx, a)
	if err != nil {
		return err
	}
	rb, sb, err := c.randomAccess(ctx, b)
	if err != nil {
		return err
	}
	ea, err := elf.NewFile(ra)
	if err != nil {
		return fmt.Errorf("%w: ELF A: %w", ErrFormat, err)
	}
	eb, err := elf.NewFile(rb)
	if err != nil {
		return fmt.Errorf("%w: ELF B: %w", ErrFormat, err)
	}
	explained := false
	bia, errA := buildinfo.Read(ra)
	bib, errB := buildinfo.Read(rb)
	if errA == nil && errB == nil {
		explained = c.compareBuildInfo(p, bia, bib) || explained
	}
	for _, note := range []struct{ section, name string }{{".note.go.buildid", "Go build ID"}, {".note.gnu.build-id", "GNU build ID"}} {
		ia, ib := noteDesc(ea, note.section), noteDesc(eb, note.section)
		if ia != ib {
			c.add(Difference{Path: p, Kind: KindBuildID, Field: note.name, A: ia, B: ib, Offset: -1,
				Detail: "a build ID is a hash of the build's inputs and output: it differs as a consequence of the other differences"})
		}
	}
	explained = c.comparePaths(ctx, p, ra, sa, rb, sb) || explained
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.compareSections(ctx, p, ea, ra, eb, rb, explained)
}

func (c *comparer) compareBuildInfo(p string, a, b *debug.BuildInfo) bool {
	found := false
	add := func(field, va, vb string, causes ...Cause) {
		if va == vb {
			return
		}
		found = true
		c.add(Difference{Path: p, Kind: KindBuildInfo, Field: field, A: va, B: vb, Offset: -1, Causes: causes})
	}
	add("go version", a.GoVersion, b.GoVersion, CauseToolchain)
	add("path", a.Path, b.Path, CauseSource)
	add("main module", a.Main.Path+"@"+a.Main.Version+" "+a.Main.Sum, b.Main.Path+"@"+b.Main.Version+" "+b.Main.Sum, CauseSource)
	mods := func(bi *debug.BuildInfo) map[string]string {
		m := make(map[string]string, len(bi.Deps))
		for _, d := range bi.Deps {
			v := d.Version + " " + d.Sum
			if d.Replace != nil {
				v += " => " + d.Replace.Path + "@" + d.Replace.Version
			}
			m[d.Path] = v
		}
		return m
	}
	da, db := mods(a), mods(b)
	for _, k := range sortedKeys(da, db) {
		add("module "+k, da[k], db[k], CauseSource)
	}
	settings := func(bi *debug.BuildInfo) map[string]string {
		m := make(map[string]string, len(bi.Settings))
		for _, s := range bi.Settings {
			m[s.Key] = s.Value
		}
		return m
	}
	sa, sb := settings(a), settings(b)
	now := c.cfg.now()
	for _, k := range sortedKeys(sa, sb) {
		switch {
		case k == "vcs.time":
			add("setting "+k, sa[k], sb[k], CauseTimestamp)
		case strings.HasPrefix(k, "vcs"):
			add("setting "+k, sa[k], sb[k], CauseSource)
		default:
			causes, _ := classifyText(sa[k], sb[k], now)
			add("setting "+k, sa[k], sb[k], append(causes, CauseBuildFlags)...)
		}
	}
	return found
}

func sortedKeys(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// noteDesc returns the descriptor of the first note in an ELF note section,
// as text when printable (Go) or hex (GNU).
func noteDesc(f *elf.File, name string) string {
	s := f.Section(name)
	if s == nil || s.Type == elf.SHT_NOBITS || s.Size > 4096 {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) < 12 {
		return ""
	}
	bo := f.ByteOrder
	namesz, descsz := bo.Uint32(data), bo.Uint32(data[4:])
	off := 12 + (uint64(namesz)+3)&^3
	if off+uint64(descsz) > uint64(len(data)) {
		return ""
	}
	desc := data[off : off+uint64(descsz)]
	if printableAround(desc, 0, len(desc)) == string(desc) {
		return string(desc)
	}
	return hex.EncodeToString(desc)
}

// comparePaths compares the absolute paths embedded in two binaries.
func (c *comparer) comparePaths(ctx context.Context, p string, ra io.ReaderAt, sa int64, rb io.ReaderAt, sb int64) bool {
	pa, pb := embeddedPaths(ctx, ra, sa), embeddedPaths(ctx, rb, sb)
	var onlyA, onlyB []string
	for s := range pa {
		if !pb[s] {
			onlyA = append(onlyA, s)
		}
	}
	for s := range pb {
		if !pa[s] {
			onlyB = append(onlyB, s)
		}
	}
	if len(onlyA) == 0 && len(onlyB) == 0 {
		return false
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	d := Difference{Path: p, Kind: KindPaths, Field: "embedded absolute paths", Offset: -1,
		A: sample(onlyA), B: sample(onlyB),
		Detail: fmt.Sprintf("%d path(s) only in A, %d only in B", len(onlyA), len(onlyB))}
	if da, db, ok := buildDirs(onlyA, onlyB); ok {
		d.Causes = []Cause{CauseBuildPath}
		d.Detail += fmt.Sprintf("; build directory %s vs %s", da, db)
	}
	c.add(d)
	return len(d.Causes) > 0
}

func pathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._@+~-", c) >= 0
}

func sample(s []string) string {
	const n = 3
	if len(s) <= n {
		return strings.Join(s, " ")
	}
	return strings.Join(s[:n], " ") + fmt.Sprintf(" (+%d more)", len(s)-n)
}

// embeddedPaths collects up to 20000 distinct absolute paths from the
// printable strings of the first 512 MiB of r.
func embeddedPaths(ctx context.Context, r io.ReaderAt, size int64) map[string]bool {
	const maxScan, maxPaths, maxRun = 512 << 20, 20000, 4096
	out := make(map[string]bool)
	run := make([]byte, 0, maxRun)
	flush := func() {
		if len(run) >= 8 && bytes.IndexByte(run, '/') >= 0 {
			for _, m := range rePath.FindAllIndex(run, -1) {
				// A path starts the string or follows a separator (space,
				// quote, '=', ':'), not the middle of a relative path.
				if m[1]-m[0] >= 8 && (m[0] == 0 || !pathChar(run[m[0]-1])) && len(out) < maxPaths {
					out[string(run[m[0]:m[1]])] = true
				}
			}
		}
		run = run[:0]
	}
	buf := make([]byte, 256<<10)
	for off := int64(0); off < min(size, maxScan); off += int64(len(buf)) {
		if ctx.Err() != nil {
			break
		}
		n, _ := r.ReadAt(buf, off)
		if n == 0 {
			break
		}
		for _, ch := range buf[:n] {
			if printable(ch) && len(run) < maxRun {
				run = append(run, ch)
			} else {
				flush()
			}
		}
	}
	flush()
	return out
}

// compareSections names each ELF section whose header or content differs.
// When the binary-level comparison already found a cause, section bytes are
// attributed only from printable context: other differing bytes (shifted
// addresses, checksums of compressed debug sections) are consequences, and
// the entropy and integer-timestamp heuristics would misread them.
func (c *comparer) compareSections(ctx context.Context, p string, ea *elf.File, ra io.ReaderAt, eb *elf.File, rb io.ReaderAt, explained bool) error {
	byName := func(f *elf.File) map[string]*elf.Section {
		m := make(map[string]*elf.Section, len(f.Sections))
		for _, s := range f.Sections {
			if s.Name != "" {
				m[s.Name] = s
			}
		}
		return m
	}
	na, nb := byName(ea), byName(eb)
	var names []string
	for _, s := range ea.Sections {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	for _, s := range eb.Sections {
		if s.Name != "" && na[s.Name] == nil {
			names = append(names, s.Name)
		}
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y := na[name], nb[name]
		switch {
		case y == nil:
			c.add(Difference{Path: p, Kind: KindSection, Field: name, Offset: -1, Detail: "section only in A"})
			continue
		case x == nil:
			c.add(Difference{Path: p, Kind: KindSection, Field: name, Offset: -1, Detail: "section only in B"})
			continue
		}
		var hdr []string
		if x.Size != y.Size {
			hdr = append(hdr, fmt.Sprintf("size %d vs %d", x.Size, y.Size))
		}
		if x.Addr != y.Addr {
			hdr = append(hdr, fmt.Sprintf("address 0x%x vs 0x%x", x.Addr, y.Addr))
		}
		if x.Type != y.Type || x.Flags != y.Flags {
			hdr = append(hdr, fmt.Sprintf("type/flags %v/%v vs %v/%v", x.Type, x.Flags, y.Type, y.Flags))
		}
		var d *Difference
		if x.Type != elf.SHT_NOBITS && y.Type != elf.SHT_NOBITS {
			d = c.explainRanges(ctx, io.NewSectionReader(ra, int64(x.Offset), int64(x.FileSize)), int64(x.FileSize),
				io.NewSectionReader(rb, int64(y.Offset), int64(y.FileSize)), int64(y.FileSize), explained)
		}
		if d == nil && len(hdr) == 0 {
			continue
		}
		if d == nil {
			d = &Difference{Offset: -1}
		}
		d.Path, d.Kind, d.Field = p, KindSection, name
		if len(hdr) > 0 {
			d.Detail = strings.Join(hdr, "; ") + "; " + d.Detail
		}
		if strings.Contains(name, "build-id") || strings.Contains(name, "buildid") {
			d.Causes = nil
			d.Detail = "holds the build ID; " + d.Detail
		}
		c.add(*d)
	}
	return nil
}
