#!/usr/bin/env bash
# Sets up, builds and runs the main job on the built-in THA Phantom; results go to results/
# (or to the folder given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
out="${1:-results}"
pvpython Examples/phantom_analysis.py \
  --plugin build/lib/paraview-5.11/plugins/ImplantBoneContact/ImplantBoneContact.so --output "$out"
