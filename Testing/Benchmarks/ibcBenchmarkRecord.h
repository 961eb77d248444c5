// SPDX-License-Identifier: BSD-3-Clause
// One row of a benchmark's results, appended to the CSV file named by IBC_BENCHMARK_CSV (when
// set), so that scripts/benchmark.sh can gather every benchmark into one table. Columns:
// benchmark, measure, value (the median, or the best of the runs), min, max, unit, ratio to the
// baseline measured in the same run, and that baseline.
#ifndef ibcBenchmarkRecord_h
#define ibcBenchmarkRecord_h

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ibc
{
inline void recordBenchmark(const char* benchmark,
  const char* measure,
  double value,
  double minimum,
  double maximum,
  const char* unit,
  double ratio = NAN,
  const char* baseline = "")
{
  const char* path = std::getenv("IBC_BENCHMARK_CSV");
  if (!path || !*path)
  {
    return;
  }
  if (std::FILE* file = std::fopen(path, "a"))
  {
    auto number = [file](double x)
    {
      if (std::isfinite(x))
      {
        std::fprintf(file, "%.6g", x);
      }
    };
    std::fprintf(file, "%s,\"%s\",", benchmark, measure);
    number(value);
    std::fputc(',', file);
    number(minimum);
    std::fputc(',', file);
    number(maximum);
    std::fprintf(file, ",%s,", unit);
    number(ratio);
    std::fprintf(file, ",\"%s\"\n", baseline);
    std::fclose(file);
  }
}
}

#endif
