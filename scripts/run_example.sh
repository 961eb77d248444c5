#!/usr/bin/env bash
# Sets up, builds and runs the main job on the built-in THA Phantom; results go to results/
# (or to the folder given as the first argument). Pictures need a display: without one the job
# runs under xvfb-run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
out="${1:-results}"
run=(pvpython)
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  run=(xvfb-run -a -s "-screen 0 1280x1024x24" pvpython)
fi
"${run[@]}" Examples/phantom_analysis.py \
  --plugin build/lib/paraview-5.11/plugins/ImplantBoneContact/ImplantBoneContact.so --output "$out"
