#!/usr/bin/env bash
# Installs what is missing, then configures and builds into build/ (incremental).
# The plugin ends up at build/lib/paraview-5.11/plugins/ImplantBoneContact/ImplantBoneContact.so
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f build/CMakeCache.txt ]; then
  generator=(-G Ninja)
fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --parallel "$(nproc)"
