package rules

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// pathRegexps returns every path regexp of the rule set with its filter:
// each allowlist's paths, each single allowlist path, each rule path.
func pathRegexps(t testing.TB) (*engine, [][]*regexp.Regexp) {
	rs, err := loadRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(rs, 1)
	var sets [][]*regexp.Regexp
	als := rs.cfg.Allowlists
	for _, id := range rs.cfg.OrderedRules {
		r := rs.cfg.Rules[id]
		als = append(als, r.Allowlists...)
		if r.Path != nil {
			sets = append(sets, []*regexp.Regexp{r.Path})
		}
	}
	for _, a := range als {
		if len(a.Paths) > 0 {
			sets = append(sets, a.Paths)
			for _, p := range a.Paths {
				sets = append(sets, []*regexp.Regexp{p})
			}
		}
	}
	return e, sets
}

var fixedPaths = []string{
	"", "a", "data/osv/GO-2022-0001.json", "src/app.go", "go.sum", "GO.SUM", "x/go.mod", "go.work.sum",
	"vendor/modules.txt", "vendor/github.com/x/y.go", "node_modules/a/b.js", "a/node_modules",
	"web/jquery-3.1.min.js", "web/JQuery.js", "img/a.PNG", "img/a.png.txt", "fonts/x.woff2", "a.Dll", "b.xdll",
	"gitleaks.toml", "GITLEAKS.TOML", "venv/lib/python3.11/site-packages/x.py", "lib64/python3.9/x",
	"requests-2.31.0.dist-info/METADATA", "x.gem", "Database.refactorlog", "database.refactorlog", ".git",
	"a/.git", "verification-metadata.xml", "yarn.lock", "Pipfile.lock", "poetry.lock", "gradlew.bat",
	".mvn/wrapper/MavenWrapperDownloader.java", "a.bb", "a.bbappend", "x.inc", "k8s/secret.yaml",
	"\u212aey/x.png", "\u017fvg.\u017fvg", "a.\u017fvg", "go.\u017fum", "n\u00e9/vendor/modules.txt",
	"PAssWord.txt", "id_rsa", ".env", "terraform.tfvars", "a/b/c.pem", "x.p12", "config.json",
}

// checkPath fails if the filter of res says a path that res matches
// cannot match.
func checkPath(t testing.TB, res []*regexp.Regexp, f *litFilter, p string) {
	t.Helper()
	for _, re := range res {
		if re.MatchString(p) && !f.mayMatch(p) {
			t.Fatalf("path %q matches %s but its literal filter %q says it cannot", p, re, f.needs)
		}
	}
}

// TestPathFilterExact: for every path regexp of the rule set (gitleaks'
// global and per-rule allowlists, rule paths), the literal pre-check never
// rejects a path the regexps match: on fixed paths, on random paths each
// regexp matches (with case variants, prefixes and suffixes) and on paths
// matched by the other regexps. It also shows the filters are not void.
func TestPathFilterExact(t *testing.T) {
	_, sets := pathRegexps(t)
	r := rand.New(rand.NewPCG(1, 2))
	var paths []string
	paths = append(paths, fixedPaths...)
	for _, res := range sets {
		for _, re := range res {
			p, err := syntax.Parse(re.String(), syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			for range 200 {
				var b strings.Builder
				PathSample.Write(r, p, &b)
				s := b.String()
				paths = append(paths, s, "dir/"+s, s+".bak", strings.ToUpper(s), "x"+s+"/y")
			}
		}
	}
	filtered, rejected := 0, 0
	for _, res := range sets {
		f := newLitFilter(res)
		if f != nil {
			filtered++
		}
		for _, p := range paths {
			checkPath(t, res, f, p)
			if !f.mayMatch(p) {
				rejected++
			}
		}
	}
	if filtered < len(sets)/2 {
		t.Errorf("only %d of %d path regexp sets have a literal filter", filtered, len(sets))
	}
	if rejected == 0 {
		t.Error("the filters rejected no path")
	}
	e, _ := pathRegexps(t)
	if f := e.allowLits[e.cfg.Allowlists[0]]; f == nil || f.mayMatch("data/osv/GO-2022-0001.json") {
		t.Errorf("gitleaks' global path allowlist has no filter that rules out an osv record: %v", f)
	}
	t.Logf("%d regexp sets (%d filtered), %d paths, %d rejections", len(sets), filtered, len(paths), rejected)
}

// FuzzPathFilter: the literal pre-check never rejects a path that one of
// the rule set's path regexps matches.
func FuzzPathFilter(f *testing.F) {
	for _, p := range fixedPaths {
		f.Add(p)
	}
	_, sets := pathRegexps(f)
	filters := make([]*litFilter, len(sets))
	for i, res := range sets {
		filters[i] = newLitFilter(res)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for i, res := range sets {
			checkPath(t, res, filters[i], p)
		}
	})
}
