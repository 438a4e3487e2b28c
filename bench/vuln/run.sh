#!/usr/bin/env bash
# Benchmark Hallmark's OSV matcher against govulncheck -scan module on a large
# real dependency graph: github.com/aquasecurity/trivy v0.40.0 (385 modules in
# go.mod) and the full Go vulnerability database snapshot used by the tests.
# Both tools run in the same process on the same records; the findings per
# module must be identical. Needs the Go module proxy (first run downloads the
# project's dependencies, several hundred MB).
set -euo pipefail
cd "$(dirname "$0")/../.."

VULNDB=golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
PROJECT=github.com/aquasecurity/trivy@v0.40.0
RUNS=${RUNS:-3}
export GOTOOLCHAIN=local

moddir() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
vulndb=$(moddir "$VULNDB")
src=$(moddir "$PROJECT")
cp -r "$src" "$work/project"
chmod -R u+w "$work/project"

# govulncheck -scan module loads the package in the module root; trivy has
# none, so add one that imports one package of every module in trivy's own
# linux package graph (tests included), which makes govulncheck consider the
# same modules that go.mod lists (except platform- and tag-specific ones,
# which the benchmark reports separately).
(
	cd "$work/project"
	GOFLAGS=-mod=mod go list -deps -test -f '{{if and .Module (not .Module.Main) (ne .Name "main")}}{{.Module.Path}} {{.ImportPath}}{{end}}' ./... 2>/dev/null |
		awk '$2 !~ /(^|\/)internal(\/|$)/ && $2 !~ /\.test$/ && $2 !~ /[][ ]/ && !seen[$1]++ { print $2 }' |
		sort -u > "$work/imports.txt"
	{
		echo "package main"
		echo
		echo "import ("
		sed 's/.*/\t_ "&"/' "$work/imports.txt"
		echo ")"
		echo
		echo "func main() {}"
	} > zz_vulnbench_main.go
)
echo "root package imports $(wc -l < "$work/imports.txt") packages"
go run ./bench/vuln -osv "$vulndb/data/osv" -project "$work/project" -runs "$RUNS"
