#!/usr/bin/env bash
# CI step for the transparency-log tests (attest, gate, internal/cli,
# bench/tlog): builds the real servers they start on loopback and cosign, at
# the versions pinned in scripts/tools.sh, and prints the line to eval so the
# tests find them. With CI=true the tests fail instead of skipping when a
# binary is missing. Usage, from the repository root:
#   eval "$(scripts/ci/tlog.sh)"
# Note: timestamp-server always binds its metrics to port 2112; the tests
# serialise on a lock file, but nothing else on the machine may use 2112.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/tools.sh rekor-server-posix timestamp-server cosign >&2
echo "export HALLMARK_TOOLS_BIN=${HALLMARK_TOOLS_DIR:-$HOME/.cache/hallmark/tools}/bin"
