#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, pvpython, MPI, client-server, GUI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 "$@"
