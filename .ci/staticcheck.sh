#!/usr/bin/env bash
# staticcheck over the root module at a pinned version: installs it (once
# per staticcheck version and Go version, into a cache directory outside the
# repository; the root go.mod is not touched) and runs it.
#
#   bash .ci/staticcheck.sh              # ./...
#   bash .ci/staticcheck.sh ./latency    # some packages
#
# ./... stops at the nested modules under internal/ (their own go.mod).
# The configuration is staticcheck's default set of checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# staticcheck release 2026.2.2 is module version v0.8.2 of honnef.co/go/tools.
# Bump both together, to a release that builds with go.mod's Go version.
version=v0.8.2
release=2026.2.2

dir=${XDG_CACHE_HOME:-$HOME/.cache}/rankscope/staticcheck-$version-$(go env GOVERSION)
bin=$dir/staticcheck
if [ ! -x "$bin" ]; then
  echo "installing staticcheck $release ($version) into $dir"
  mkdir -p "$dir"
  GOBIN=$dir GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$version"
fi
"$bin" -version
if [ $# -eq 0 ]; then
  set -- ./...
fi
"$bin" "$@"
