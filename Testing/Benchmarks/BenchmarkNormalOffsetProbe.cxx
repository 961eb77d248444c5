// SPDX-License-Identifier: BSD-3-Clause
// Benchmark of Normal Offset Probe against vtkProbeFilter (the core of 3D Slicer's "Probe volume
// with model"), measured in the same run on the same points. Not a test: it only prints.
//
//   build/bin/ibcBenchmarkNormalOffsetProbe [--large]
//
// A 512 x 512 x 400 int16 volume; a sphere surface of about 240k points (2.4M with --large).
#include "ibcBenchmarkRecord.h"
#include "ibcNormalProbe.h"
#include "vtkNormalOffsetProbe.h"

#include <vtkImageData.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkProbeFilter.h>
#include <vtkSMPTools.h>
#include <vtkShortArray.h>
#include <vtkSphereSource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <string>
#include <vector>

namespace
{
double seconds(const std::chrono::steady_clock::time_point& start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template<typename Work>
double bestOf(int runs, Work work)
{
  double best = 1e300;
  for (int run = 0; run < runs; ++run)
  {
    const auto start = std::chrono::steady_clock::now();
    work();
    best = std::min(best, seconds(start));
  }
  return best;
}

void useThreads(int threads)
{
  if (threads == 1)
  {
    vtkSMPTools::SetBackend("Sequential");
  }
  else
  {
    vtkSMPTools::SetBackend("STDThread");
    vtkSMPTools::Initialize(threads);
  }
}
}

int main(int argc, char* argv[])
{
  const bool large = argc > 1 && std::strcmp(argv[1], "--large") == 0;
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // A CT-like int16 volume: smooth structures plus noise, 0.7 x 0.7 x 1.0 mm.
  vtkNew<vtkImageData> volume;
  volume->SetDimensions(512, 512, 400);
  volume->SetSpacing(0.7, 0.7, 1.0);
  volume->SetOrigin(-179.0, -179.0, -200.0);
  vtkNew<vtkShortArray> hu;
  hu->SetName("HU");
  hu->SetNumberOfTuples(512LL * 512 * 400);
  short* voxels = hu->GetPointer(0);
  std::mt19937 random(1);
  std::normal_distribution<float> noise(0.0f, 20.0f);
  for (std::int64_t k = 0; k < 400; ++k)
    for (std::int64_t j = 0; j < 512; ++j)
      for (std::int64_t i = 0; i < 512; ++i)
      {
        const double r = std::sqrt((i - 256.0) * (i - 256.0) + (j - 256.0) * (j - 256.0));
        voxels[(k * 512 + j) * 512 + i] =
          static_cast<short>((r < 80 ? 1400.0 : 40.0) + 300.0 * std::sin(0.05 * k) + noise(random));
      }
  volume->GetPointData()->SetScalars(hu);

  // The surface: a sphere of radius 100 mm inside the volume.
  const int resolution = large ? 1550 : 490;
  vtkNew<vtkSphereSource> sphere;
  sphere->SetRadius(100.0);
  sphere->SetThetaResolution(resolution);
  sphere->SetPhiResolution(resolution);
  sphere->Update();
  vtkPolyData* surface = sphere->GetOutput();
  const vtkIdType pointCount = surface->GetNumberOfPoints();
  std::printf("volume 512 x 512 x 400 int16, surface %lld points, %d hardware threads\n",
    static_cast<long long>(pointCount),
    threads);

  // Baseline: vtkProbeFilter at the vertices, one thread.
  useThreads(1);
  vtkNew<vtkProbeFilter> baseline;
  baseline->SetInputData(surface);
  baseline->SetSourceData(volume);
  const double baselineTime = bestOf(3,
    [&]
    {
      baseline->Modified();
      baseline->Update();
    });
  const double baselineRate = pointCount / baselineTime;
  std::printf("vtkProbeFilter, 1 thread:              %8.2f M points/s\n", baselineRate / 1e6);

  // Our sampling core, on the same points and the sphere's normals.
  ibc::probe::VolumeBlock block;
  volume->GetExtent(block.extent);
  volume->GetExtent(block.wholeExtent);
  block.data = voxels;
  block.scalarType = VTK_SHORT;
  for (int row = 0; row < 3; ++row)
    for (int column = 0; column < 4; ++column)
      block.physicalToIndex[4 * row + column] =
        volume->GetPhysicalToIndexMatrix()->GetElement(row, column);
  std::vector<ibc::Vec3> bases(pointCount);
  std::vector<ibc::Vec3> steps(pointCount);
  vtkDataArray* normals = surface->GetPointData()->GetNormals();
  for (vtkIdType i = 0; i < pointCount; ++i)
  {
    double p[3];
    double n[3];
    surface->GetPoint(i, p);
    normals->GetTuple(i, n);
    bases[i] = block.toIndex({ p[0], p[1], p[2] });
    steps[i] = block.directionToIndex({ n[0], n[1], n[2] });
  }
  auto measure = [&](const std::vector<double>& distances, int threadCount)
  {
    useThreads(threadCount);
    std::vector<double> values(pointCount * distances.size());
    std::vector<std::uint8_t> status(values.size());
    const double time = bestOf(3,
      [&]
      {
        ibc::probe::sampleProfiles(block,
          bases.data(),
          steps.data(),
          pointCount,
          distances,
          ibc::probe::Interpolation::Linear,
          values.data(),
          status.data());
      });
    return values.size() / time;
  };
  const double single1 = measure({ 1.5 }, 1);
  {
    // The same points in random order, as a remeshed or merged surface may list them.
    std::vector<std::size_t> permutation(bases.size());
    for (std::size_t i = 0; i < permutation.size(); ++i)
    {
      permutation[i] = i;
    }
    std::shuffle(permutation.begin(), permutation.end(), random);
    std::vector<ibc::Vec3> shuffledBases(bases.size());
    std::vector<ibc::Vec3> shuffledSteps(steps.size());
    for (std::size_t i = 0; i < permutation.size(); ++i)
    {
      shuffledBases[i] = bases[permutation[i]];
      shuffledSteps[i] = steps[permutation[i]];
    }
    std::swap(bases, shuffledBases);
    std::swap(steps, shuffledSteps);
    const double shuffled = measure({ 1.5 }, 1);
    std::swap(bases, shuffledBases);
    std::swap(steps, shuffledSteps);
    std::printf(
      "ours, single offset, linear, 1 thread, points shuffled: %.2f M samples/s\n", shuffled / 1e6);
  }
  const double singleN = measure({ 1.5 }, threads);
  std::vector<double> profile;
  for (int i = 0; i < 25; ++i)
  {
    profile.push_back(0.25 * i);
  }
  const double profile1 = measure(profile, 1);
  const double profileN = measure(profile, threads);
  std::printf("ours, single offset, linear, 1 thread: %8.2f M samples/s  (%.1f x vtkProbeFilter)\n",
    single1 / 1e6,
    single1 / baselineRate);
  std::printf("ours, single offset, linear, %d threads: %7.2f M samples/s  (%.1f x vtkProbeFilter, "
              "%.2f x 1 thread)\n",
    threads,
    singleN / 1e6,
    singleN / baselineRate,
    singleN / single1);
  std::printf("ours, 25-sample profile, 1 thread:     %8.2f M samples/s  (%.1f x vtkProbeFilter)\n",
    profile1 / 1e6,
    profile1 / baselineRate);
  std::printf("ours, 25-sample profile, %d threads:    %8.2f M samples/s  (%.2f x 1 thread)\n",
    threads,
    profileN / 1e6,
    profileN / profile1);

  // The whole filter (normals from the triangles, automatic mode), all threads.
  useThreads(threads);
  vtkNew<vtkPolyData> bare;
  bare->ShallowCopy(surface);
  bare->GetPointData()->SetNormals(nullptr);
  vtkNew<vtkNormalOffsetProbe> filter;
  filter->SetInputData(0, bare);
  filter->SetInputData(1, volume);
  const double filterTime = bestOf(2,
    [&]
    {
      filter->Modified();
      filter->Update();
    });
  const std::string points = std::to_string(pointCount) + " points";
  ibc::recordBenchmark("probe kernel (C++)", ("vtkProbeFilter, 1 thread, " + points).c_str(),
    baselineRate / 1e6, NAN, NAN, "M points/s");
  ibc::recordBenchmark("probe kernel (C++)", "single offset, linear, 1 thread", single1 / 1e6, NAN,
    NAN, "M samples/s", single1 / baselineRate, "vtkProbeFilter, 1 thread");
  ibc::recordBenchmark("probe kernel (C++)",
    ("single offset, linear, " + std::to_string(threads) + " threads").c_str(), singleN / 1e6, NAN,
    NAN, "M samples/s", singleN / baselineRate, "vtkProbeFilter, 1 thread");
  ibc::recordBenchmark("probe kernel (C++)", "25-sample profile, 1 thread", profile1 / 1e6, NAN,
    NAN, "M samples/s", profile1 / baselineRate, "vtkProbeFilter, 1 thread");
  ibc::recordBenchmark("probe kernel (C++)",
    ("25-sample profile, " + std::to_string(threads) + " threads").c_str(), profileN / 1e6, NAN,
    NAN, "M samples/s", profileN / profile1, "the same, 1 thread");
  ibc::recordBenchmark("probe kernel (C++)",
    ("whole filter, automatic, " + std::to_string(threads) + " threads, " + points).c_str(),
    filterTime, NAN, NAN, "s", baselineTime / filterTime, "vtkProbeFilter at the vertices");
  std::printf("Normal Offset Probe filter, automatic mode with normals, %d threads: %.3f s "
              "(%.2f M points/s; vtkProbeFilter at the vertices: %.3f s)\n",
    threads,
    filterTime,
    pointCount / filterTime / 1e6,
    baselineTime);
  return 0;
}
