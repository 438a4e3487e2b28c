# The two commands the README promises: `make demo` and `make test`.
GO ?= go

.PHONY: build demo demo-image test test-short fuzz-smoke bench vet

build:
	$(GO) build -o bin/hallmark ./cmd/hallmark

# Hallmark's main job end to end on embedded defaults.
demo:
	./scripts/demo.sh

# Images end to end on a local registry: build, image, scan, attest, push,
# gate and admission (docs/images.md).
demo-image:
	./scripts/demo-image.sh

# The whole test suite.
test:
	$(GO) vet ./...
	$(GO) test -timeout 20m ./...

test-short:
	$(GO) test -short ./...

# A short run of every fuzz target (go test -fuzz takes one target at a time).
fuzz-smoke:
	./scripts/fuzz-smoke.sh 10s

bench:
	./bench/attest/run.sh
