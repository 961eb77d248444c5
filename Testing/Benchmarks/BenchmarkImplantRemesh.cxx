// SPDX-License-Identifier: BSD-3-Clause
// Benchmark of Implant Remesh on the THA Phantom's stem at high tessellation (about 1M CAD
// triangles) remeshed to about 100k points, and at a 1 mm target. Not a test: it only prints.
//
//   build/bin/ibcBenchmarkImplantRemesh [chord tolerance, default 0.00025 mm, 1M triangles]
//   [iterations]
#include "ibcBenchmarkRecord.h"
#include "ibcRemesh.h"
#include "ibcSMP.h"
#include "ibcTHAPhantomModel.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

using namespace ibc;

namespace
{
double seconds(const std::chrono::steady_clock::time_point& start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(const char* what,
  const remesh::TriangleMesh& output,
  const remesh::TriangleMesh& input,
  double time,
  const std::map<std::string, double>& stages)
{
  const auto start = std::chrono::steady_clock::now();
  const remesh::Quality q = remesh::measureQuality(output, input);
  const double measureTime = seconds(start);
  const std::string measure = std::string(what) + " (" + std::to_string(input.triangles.size()) +
    " CAD triangles to " + std::to_string(output.points.size()) + " points, minimum angle " +
    std::to_string(static_cast<int>(q.minimumAngle)) + " deg)";
  ibc::recordBenchmark("remesh (C++)", measure.c_str(), time, NAN, NAN, "s");
  std::printf("%s: %zu points, %zu triangles in %.2f s\n",
    what,
    output.points.size(),
    output.triangles.size(),
    time);
  std::printf("  stages (s):");
  for (const auto& [stage, seconds] : stages)
  {
    std::printf(" %s %.2f", stage.c_str(), seconds);
  }
  std::printf("\n");
  std::printf("  minimum angle %.1f deg, mean smallest angle %.1f deg, triangles with all angles "
              ">= 30 deg: %.2f %% (goal >= 99 %%)\n",
    q.minimumAngle,
    q.meanMinimumAngle,
    100.0 * q.shareAbove30);
  std::printf("  mean edge %.3f mm, edge-length CV %.3f (goal <= 0.15), non-manifold edges %lld, "
              "boundary edges %lld\n",
    q.meanEdgeLength,
    q.edgeLengthCV,
    static_cast<long long>(q.nonManifoldEdges),
    static_cast<long long>(q.boundaryEdges));
  std::printf("  Hausdorff distance %.4f mm, area change %.3f %% (goal <= 0.5 %%)\n",
    q.hausdorff,
    q.areaChangePercent);
  std::printf(
    "  measuring the quality (as Implant Remesh does for its field data): %.2f s\n", measureTime);
}
}

int main(int argc, char* argv[])
{
  useThreadedBackend();
  phantom::Parameters p;
  p.chordTolerance = argc > 1 ? std::atof(argv[1]) : 0.00025;
  const phantom::Surface stem = phantom::PhantomModel(p).generateSurface();
  const remesh::TriangleMesh input{ stem.points, stem.triangles };
  std::printf("THA Phantom stem, chord tolerance %.5f mm: %zu points, %zu CAD triangles\n",
    p.chordTolerance,
    input.points.size(),
    input.triangles.size());

  auto start = std::chrono::steady_clock::now();
  remesh::Repair repair;
  const remesh::TriangleMesh clean = remesh::repairSurface(input, repair);
  const double repairTime = seconds(start);
  std::printf("repair: %.2f s\n", repairTime);

  remesh::Options options;
  options.targetEdgeLength = remesh::edgeLengthForPointCount(remesh::surfaceArea(clean), 100000);
  options.targetPointCount = 100000; // as Implant Remesh's number-of-points mode asks
  if (argc > 2)
  {
    options.iterations = std::atoi(argv[2]);
  }
  std::map<std::string, double> stages{ { "repair", repairTime } };
  options.stageSeconds = &stages;
  start = std::chrono::steady_clock::now();
  const remesh::TriangleMesh hundredK = remesh::remeshSurface(clean, options);
  report("to about 100k points", hundredK, clean, repairTime + seconds(start), stages);

  options.targetEdgeLength = 1.0;
  options.targetPointCount = 0;
  stages = { { "repair", repairTime } };
  start = std::chrono::steady_clock::now();
  const remesh::TriangleMesh oneMillimetre = remesh::remeshSurface(clean, options);
  report("1 mm target", oneMillimetre, clean, repairTime + seconds(start), stages);
  return 0;
}
