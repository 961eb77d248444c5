"""One row of a benchmark's results, appended to the CSV file named by IBC_BENCHMARK_CSV (when
set), so that scripts/benchmark.sh can gather every benchmark into one table (the same columns
as Testing/Benchmarks/ibcBenchmarkRecord.h)."""
import csv
import os
import statistics
import time


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


def time_filter(make, runs, fetch=False):
    """Wall times of UpdatePipeline on `runs` fresh proxies made by `make` (each deleted after),
    and, with fetch, the last one's output fetched to the client (else None)."""
    from paraview import servermanager
    from paraview.simple import Delete
    times = []
    data = None
    for _ in range(runs):
        proxy = make()
        start = time.perf_counter()
        proxy.UpdatePipeline()
        times.append(time.perf_counter() - start)
        if fetch:
            data = servermanager.Fetch(proxy)
        Delete(proxy)
    return data, times
