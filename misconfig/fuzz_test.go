package misconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets call the checkers directly, without the recover in
// checkFile, so that any panic in Hallmark's own code or the parsers fails
// the fuzz run instead of being turned into an error.

func seedCorpus(f *testing.F, match func(string) bool) {
	f.Helper()
	err := filepath.WalkDir(filepath.Join("testdata", "corpus"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !match(filepath.ToSlash(p)) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

func fuzzChecker() *checker {
	return &checker{path: "fuzz", cfg: &Config{AllowedRegistries: []string{"ghcr.io/acme"}}, rules: ruleIndex()}
}

func checkFuzzErr(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrParse) && !errors.Is(err, errNotKubernetes) {
		t.Fatalf("error does not wrap ErrParse: %v", err)
	}
}

func FuzzDockerfile(f *testing.F) {
	seedCorpus(f, func(p string) bool { return classify(p) == KindDockerfile })
	f.Add([]byte("FROM a\nRUN <<EOF\ncurl x | sh\nEOF\n"))
	f.Add([]byte("RUN [\"sh\", \"-c\"]\nFROM $X AS y\nUSER"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzChecker()
		checkFuzzErr(t, c.dockerfile(data))
		parseSuppressions("fuzz", data, c.rules)
	})
}

func FuzzKubernetes(f *testing.F) {
	seedCorpus(f, func(p string) bool { return strings.Contains(p, "/k8s/") })
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, spec: {containers: [{name: a}]}}]\n"))
	f.Add([]byte("a: &x [*x]\napiVersion: v1\nkind: Pod\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzErr(t, fuzzChecker().kubernetes(data))
	})
}

func FuzzActions(f *testing.F) {
	seedCorpus(f, func(p string) bool { return classify(p) == KindActions })
	f.Add([]byte("on: pull_request_target\njobs:\n  a:\n    runs-on: self-hosted\n    steps:\n      - run: echo ${{ github.head_ref }}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzErr(t, fuzzChecker().actions(data))
	})
}

func FuzzShell(f *testing.F) {
	f.Add("curl -fsSL https://x | sudo -E bash -")
	f.Add("apt-get install -y a=1 b && pip install --extra-index-url u c")
	f.Add("echo 'root:pw' | chpasswd; bash <(wget -qO- u)")
	f.Fuzz(func(t *testing.T, script string) {
		sh := parseShell(script)
		sh.pipeToShell()
		verificationOff(sh, script)
		unpinnedPackages(sh)
		extraIndex(sh)
		hardcodedPassword(sh)
	})
}
