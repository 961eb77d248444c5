#!/usr/bin/env bash
# Runs every benchmark and prints one table (also written as CSV and Markdown to
# build/benchmarks/). Each row: the median of the runs (best of the runs for the C++ kernels)
# with min and max, and the ratio to the baseline measured in the same run.
#
#   bash scripts/benchmark.sh [--runs N] [--quick] [--large]
#
#   --runs N   runs per measurement of the pvpython benchmarks (default 3)
#   --quick    one run each, and the remesh benchmark on a 65k-triangle export (a smoke run)
#   --large    the probe kernel on 2.4M points instead of 240k
#
# Benchmarks are not tests: run this on a quiet machine (nothing else building).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
chord=0.00025 # the remesh benchmark's CAD export: 1M triangles
large=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --quick) runs=1; chord=0.002; shift ;;
    --large) large=(--large); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "benchmark.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -f build/CMakeCache.txt ]; then
  bash scripts/build.sh
fi
cmake --build build >/dev/null

out="$PWD/build/benchmarks"
mkdir -p "$out"
export IBC_BENCHMARK_CSV="$out/results.csv"
export IBC_PLUGIN="$PWD/build/lib/paraview-5.11/plugins/ImplantBoneContact/ImplantBoneContact.so"
export PV_PLUGIN_PATH="$(dirname "$IBC_PLUGIN")"
echo "benchmark,measure,value,min,max,unit,ratio,baseline" > "$IBC_BENCHMARK_CSV"
python=/usr/bin/python3 # has paraview.simple and numpy on Debian

run() {
  local name="$1"
  shift
  echo "running $name ..." >&2
  if ! "$@" > "$out/$name.log" 2>&1; then
    echo "benchmark.sh: $name failed; see $out/$name.log" >&2
    exit 1
  fi
}
run probe-kernel build/bin/ibcBenchmarkNormalOffsetProbe "${large[@]}"
run probe-filter "$python" Testing/Benchmarks/BenchmarkProbeFilter.py --plugin "$IBC_PLUGIN" --runs "$runs"
run remesh-kernel build/bin/ibcBenchmarkImplantRemesh "$chord"
run remesh-filter "$python" Testing/Benchmarks/BenchmarkRemeshFidelity.py --runs "$runs"
run extract-register "$python" Testing/Benchmarks/BenchmarkExtractRegister.py --runs "$runs"

"$python" - "$IBC_BENCHMARK_CSV" "$out/results.md" <<'PY'
import csv
import platform
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
lines = ["Benchmarks on %s, %s (value: median, or best of the runs for the C++ kernels)"
         % (platform.node(), platform.processor() or platform.machine()), "",
         "| benchmark | measure | value | min-max | ratio to baseline |", "| --- | --- | --- | --- | --- |"]
for r in rows:
    spread = "%s-%s" % (r["min"], r["max"]) if r["min"] and r["min"] != r["max"] else ""
    ratio = "%.2fx %s" % (float(r["ratio"]), r["baseline"]) if r["ratio"] else ""
    lines.append("| %s | %s | %s %s | %s | %s |" % (r["benchmark"], r["measure"], r["value"], r["unit"],
                                                  spread, ratio))
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
PY
echo "written: $IBC_BENCHMARK_CSV, $out/results.md (logs of each benchmark beside them)"
