#!/usr/bin/env bash
# Runs the dashboard's browser tests (internal/browsertest) in headless
# Chromium, installing Debian's chromium first when it is missing.
# Screenshots go to $ARTIFACTS_DIR (default internal/browsertest/testdata/out).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
fi

export RANKSCOPE_REQUIRE_BROWSER=1
cd internal/browsertest
go test -count=1 -timeout 300s ./...
