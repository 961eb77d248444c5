"""One row of a benchmark's results, appended to the CSV file named by IBC_BENCHMARK_CSV (when
set), so that scripts/benchmark.sh can gather every benchmark into one table (the same columns
as Testing/Benchmarks/ibcBenchmarkRecord.h)."""
import csv
import os
import statistics


def summary(times):
    """Median, min and max of a list of wall times."""
    return statistics.median(times), min(times), max(times)


def record(benchmark, measure, value, minimum=None, maximum=None, unit="s", ratio=None, baseline=""):
    path = os.environ.get("IBC_BENCHMARK_CSV")
    if not path:
        return
    fmt = lambda x: "" if x is None else "%.6g" % x
    with open(path, "a", newline="") as stream:
        csv.writer(stream).writerow([benchmark, measure, fmt(value), fmt(minimum), fmt(maximum), unit,
                                     fmt(ratio), baseline])
