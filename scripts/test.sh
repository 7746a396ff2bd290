#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (not the long soak
# runs, which are behind the CTest label "soak": ctest --preset soak).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --preset release -j "$(nproc)" --timeout 900
