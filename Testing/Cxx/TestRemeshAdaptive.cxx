// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of curvature-adaptive remeshing: the curvature estimate, the graded size field,
// and remeshed shapes whose distance from the exact surface is known analytically.
#include "ibcRemesh.h"
#include "ibcRemeshSizing.h"
#include "ibcSMP.h"
#include "ibcTestShapes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

using namespace ibc;
using namespace ibc::remesh;

namespace
{
/// A box with half-sizes `core` + `rounding` whose edges and corners are rounded with radius
/// `rounding`: every point within `rounding` of the core box [-core, core].
struct RoundedBox
{
  Vec3 core{ 10.0, 6.0, 4.0 };
  double rounding = 0.5;

  double signedDistance(Vec3 p) const
  {
    const Vec3 q{ std::abs(p.x) - core.x, std::abs(p.y) - core.y, std::abs(p.z) - core.z };
    const Vec3 outside{ std::max(q.x, 0.0), std::max(q.y, 0.0), std::max(q.z, 0.0) };
    return length(outside) + std::min(std::max({ q.x, q.y, q.z }), 0.0) - rounding;
  }

  /// Tessellated from a box whose faces are cut into a grid of about `step`: each grid point is
  /// moved onto the rounded surface from the nearest core point (flat faces stay, the bands
  /// along the edges bend around the rounding).
  TriangleMesh tessellate(double step) const
  {
    const Vec3 half{ core.x + rounding, core.y + rounding, core.z + rounding };
    const std::array<int, 3> cells{ static_cast<int>(std::ceil(2.0 * half.x / step)),
      static_cast<int>(std::ceil(2.0 * half.y / step)),
      static_cast<int>(std::ceil(2.0 * half.z / step)) };
    std::map<std::array<int, 3>, std::int64_t> index;
    TriangleMesh mesh;
    auto vertex = [&](std::array<int, 3> ijk)
    {
      const auto found = index.find(ijk);
      if (found != index.end())
      {
        return found->second;
      }
      const Vec3 p{ -half.x + 2.0 * half.x * ijk[0] / cells[0],
        -half.y + 2.0 * half.y * ijk[1] / cells[1],
        -half.z + 2.0 * half.z * ijk[2] / cells[2] };
      const Vec3 q{ std::clamp(p.x, -core.x, core.x),
        std::clamp(p.y, -core.y, core.y),
        std::clamp(p.z, -core.z, core.z) };
      mesh.points.push_back(q + rounding * normalized(p - q));
      index[ijk] = static_cast<std::int64_t>(mesh.points.size() - 1);
      return index[ijk];
    };
    for (int axis = 0; axis < 3; ++axis)
    {
      const int u = (axis + 1) % 3;
      const int v = (axis + 2) % 3;
      for (int side = 0; side < 2; ++side)
      {
        for (int i = 0; i < cells[u]; ++i)
        {
          for (int j = 0; j < cells[v]; ++j)
          {
            std::array<std::array<int, 3>, 4> corners;
            const int di[4] = { 0, 1, 1, 0 };
            const int dj[4] = { 0, 0, 1, 1 };
            for (int c = 0; c < 4; ++c)
            {
              corners[c][axis] = side * cells[axis];
              corners[c][u] = i + di[c];
              corners[c][v] = j + dj[c];
            }
            std::array<std::int64_t, 4> ids;
            for (int c = 0; c < 4; ++c)
            {
              ids[c] = vertex(corners[c]);
            }
            // (u, v, axis) is right-handed: counter-clockwise seen from +axis.
            if (side == 1)
            {
              mesh.triangles.push_back({ ids[0], ids[1], ids[2] });
              mesh.triangles.push_back({ ids[0], ids[2], ids[3] });
            }
            else
            {
              mesh.triangles.push_back({ ids[0], ids[2], ids[1] });
              mesh.triangles.push_back({ ids[0], ids[3], ids[2] });
            }
          }
        }
      }
    }
    return mesh;
  }
};

/// An icosahedron subdivided `levels` times, on a sphere of radius `radius` about the origin.
TriangleMesh sphere(double radius, int levels)
{
  const double t = (1.0 + std::sqrt(5.0)) / 2.0;
  TriangleMesh mesh;
  mesh.points = { { -1, t, 0 },
    { 1, t, 0 },
    { -1, -t, 0 },
    { 1, -t, 0 },
    { 0, -1, t },
    { 0, 1, t },
    { 0, -1, -t },
    { 0, 1, -t },
    { t, 0, -1 },
    { t, 0, 1 },
    { -t, 0, -1 },
    { -t, 0, 1 } };
  mesh.triangles = { { 0, 11, 5 },
    { 0, 5, 1 },
    { 0, 1, 7 },
    { 0, 7, 10 },
    { 0, 10, 11 },
    { 1, 5, 9 },
    { 5, 11, 4 },
    { 11, 10, 2 },
    { 10, 7, 6 },
    { 7, 1, 8 },
    { 3, 9, 4 },
    { 3, 4, 2 },
    { 3, 2, 6 },
    { 3, 6, 8 },
    { 3, 8, 9 },
    { 4, 9, 5 },
    { 2, 4, 11 },
    { 6, 2, 10 },
    { 8, 6, 7 },
    { 9, 8, 1 } };
  for (int level = 0; level < levels; ++level)
  {
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> middle;
    auto midpoint = [&](std::int64_t a, std::int64_t b)
    {
      const auto key = std::make_pair(std::min(a, b), std::max(a, b));
      const auto found = middle.find(key);
      if (found != middle.end())
      {
        return found->second;
      }
      mesh.points.push_back(0.5 * (mesh.points[a] + mesh.points[b]));
      return middle[key] = static_cast<std::int64_t>(mesh.points.size() - 1);
    };
    std::vector<probe::Triangle> finer;
    for (const auto& tri : mesh.triangles)
    {
      const std::int64_t ab = midpoint(tri[0], tri[1]);
      const std::int64_t bc = midpoint(tri[1], tri[2]);
      const std::int64_t ca = midpoint(tri[2], tri[0]);
      finer.push_back({ tri[0], ab, ca });
      finer.push_back({ tri[1], bc, ab });
      finer.push_back({ tri[2], ca, bc });
      finer.push_back({ ab, bc, ca });
    }
    mesh.triangles = finer;
  }
  for (Vec3& p : mesh.points)
  {
    p = radius * normalized(p);
  }
  return mesh;
}

/// The largest distance from the exact surface of the output's vertices, edge midpoints and
/// triangle centroids (where flat triangles stray farthest from a curved surface).
template<typename Distance>
double largestDeviation(const TriangleMesh& mesh, Distance&& distance)
{
  double largest = 0.0;
  for (const auto& t : mesh.triangles)
  {
    const Vec3 a = mesh.points[t[0]];
    const Vec3 b = mesh.points[t[1]];
    const Vec3 c = mesh.points[t[2]];
    for (const Vec3& p : { a, 0.5 * (a + b), (1.0 / 3.0) * (a + b + c) })
    {
      largest = std::max(largest, std::abs(distance(p)));
    }
  }
  return largest;
}

Options adaptiveOptions(double deviation)
{
  Options options;
  options.adaptive = true;
  options.sizing.maximumDeviation = deviation;
  options.sizing.minimumEdgeLength = 0.1;
  options.sizing.maximumEdgeLength = 3.0;
  return options;
}
} // namespace

TEST(AdaptiveSizing, CurvatureOfSpheresCylindersAndFlatFacesIsRecovered)
{
  ibc::useThreadedBackend();
  const TriangleMesh ball = sphere(10.0, 5); // 20k triangles, edges about 0.6 mm
  const std::vector<double> onBall = estimateCurvature(
    ball.points, ball.triangles, std::vector<double>(ball.points.size(), 1.5), 45);
  for (const double k : onBall)
  {
    EXPECT_NEAR(k, 0.1, 0.01);
  }
  // The rounded box: 0 in the middle of the faces, 1 / rounding on the rounded edges.
  const RoundedBox box;
  const TriangleMesh rounded = box.tessellate(0.1);
  const std::vector<double> onBox = estimateCurvature(
    rounded.points, rounded.triangles, std::vector<double>(rounded.points.size(), 0.3), 45);
  int flat = 0;
  int rim = 0;
  for (std::size_t v = 0; v < rounded.points.size(); ++v)
  {
    const Vec3 p = rounded.points[v];
    const bool midFace = std::abs(p.x) < 8.0 && std::abs(p.y) < 4.0;
    const bool onEdgeBand = std::abs(std::abs(p.x) - 10.0 - 0.5 * std::sqrt(0.5)) < 0.05 &&
      std::abs(std::abs(p.y) - 6.0 - 0.5 * std::sqrt(0.5)) < 0.05 && std::abs(p.z) < 3.0;
    if (midFace)
    {
      EXPECT_NEAR(onBox[v], 0.0, 1e-6);
      ++flat;
    }
    if (onEdgeBand)
    {
      EXPECT_NEAR(onBox[v], 2.0, 0.3) << p.x << " " << p.y << " " << p.z;
      ++rim;
    }
  }
  EXPECT_GT(flat, 100);
  EXPECT_GT(rim, 20);
  // A sharp cube: each face is flat and the creases are not measured across.
  const std::vector<double> onCube = estimateCurvature(
    test::cubePoints(20.0), test::cubeTriangles(), std::vector<double>(8, 5.0), 45);
  for (const double k : onCube)
  {
    EXPECT_NEAR(k, 0.0, 1e-9);
  }
}

TEST(AdaptiveSizing, AGradedFieldGrowsByAtMostTheGradation)
{
  const TriangleMesh ball = sphere(10.0, 4);
  std::vector<double> length(ball.points.size(), 3.0);
  length[0] = 0.1; // one fine place
  gradeSizeField(ball.points, ball.triangles, 0.25, length);
  for (const auto& t : ball.triangles)
  {
    for (int e = 0; e < 3; ++e)
    {
      const std::int64_t a = t[e];
      const std::int64_t b = t[(e + 1) % 3];
      EXPECT_LE(std::abs(length[a] - length[b]),
        0.25 * ibc::length(ball.points[a] - ball.points[b]) + 1e-12);
    }
  }
  EXPECT_EQ(length[0], 0.1);
  // Far from the fine place the field is back at its own value.
  const auto far = std::max_element(length.begin(), length.end());
  EXPECT_EQ(*far, 3.0);
}

TEST(Remesh, AdaptiveStaysWithinTheDeviationOfASphere)
{
  ibc::useThreadedBackend();
  const TriangleMesh input = sphere(10.0, 6); // 80k triangles
  std::printf("sphere r 10 mm: deviation asked, reached (analytic; at vertices both ways), "
              "points, triangles >= 30 degrees\n");
  std::size_t previousPoints = 0;
  for (const double deviation : { 0.2, 0.1, 0.05, 0.02 })
  {
    Options options = adaptiveOptions(deviation);
    AdaptiveReport report;
    options.adaptiveReport = &report;
    const TriangleMesh output = remeshSurface(input, options);
    const Quality q = measureQuality(output, input);
    const double analytic = largestDeviation(output, [](Vec3 p) { return ibc::length(p) - 10.0; });
    std::printf("  %.2f: %.4f, %.4f / %.4f mm, %zu points, %.2f %%, %d corrections\n",
      deviation,
      analytic,
      q.outputToInput,
      q.inputToOutput,
      output.points.size(),
      100.0 * q.shareAbove30,
      report.correctionRounds);
    EXPECT_LE(analytic, 1.1 * deviation);
    EXPECT_LE(q.hausdorff, deviation);
    EXPECT_GE(q.shareAbove30, 0.98);
    EXPECT_EQ(q.boundaryEdges + q.nonManifoldEdges, 0);
    EXPECT_TRUE(test::closedAndConsistent(output.triangles));
    EXPECT_GT(output.points.size(), previousPoints); // finer as the deviation shrinks
    previousPoints = output.points.size();
  }
}

TEST(Remesh, AdaptiveFollowsTheRoundedEdgesOfABoxWithFewerPointsThanUniform)
{
  ibc::useThreadedBackend();
  const RoundedBox box;
  const TriangleMesh input = box.tessellate(0.08);
  const double deviation = 0.05;
  Options options = adaptiveOptions(deviation);
  AdaptiveReport report;
  options.adaptiveReport = &report;
  const TriangleMesh adaptive = remeshSurface(input, options);
  const Quality q = measureQuality(adaptive, input);
  const auto exact = [&box](Vec3 p) { return box.signedDistance(p); };
  const double analytic = largestDeviation(adaptive, exact);
  // The uniform mesh that reaches the same deviation needs the rounding's edge everywhere.
  Options uniform;
  uniform.targetEdgeLength = report.smallestCurvatureLength;
  const TriangleMesh fine = remeshSurface(input, uniform);
  const double fineDeviation = largestDeviation(fine, exact);
  std::printf("rounded box (rounding 0.5 mm), deviation 0.05 mm: adaptive %zu points, %.4f mm "
              "(analytic), %.4f / %.4f mm at vertices, %.2f %% >= 30 deg, shortest target "
              "%.3f mm, %d corrections; uniform at that length %zu points, %.4f mm\n",
    adaptive.points.size(),
    analytic,
    q.outputToInput,
    q.inputToOutput,
    100.0 * q.shareAbove30,
    report.smallestCurvatureLength,
    report.correctionRounds,
    fine.points.size(),
    fineDeviation);
  Options oneMillimetre;
  const TriangleMesh coarse = remeshSurface(input, oneMillimetre);
  const Quality coarseQuality = measureQuality(coarse, input);
  std::printf(
    "  uniform 1 mm: %zu points, %.4f mm analytic, %.4f / %.4f mm at vertices, %.2f %% >= 30 deg\n",
    coarse.points.size(),
    largestDeviation(coarse, exact),
    coarseQuality.outputToInput,
    coarseQuality.inputToOutput,
    100.0 * coarseQuality.shareAbove30);
  // Uniform 1 mm edges across 0.5 mm roundings: the edges that cut across are split onto them.
  EXPECT_LE(coarseQuality.hausdorff, 0.25);
  EXPECT_GE(coarseQuality.shareAbove30, 0.99);
  EXPECT_TRUE(test::closedAndConsistent(coarse.triangles));
  EXPECT_LE(analytic, 1.2 * deviation);
  EXPECT_LE(q.hausdorff, deviation);
  EXPECT_GE(q.shareAbove30, 0.98);
  EXPECT_TRUE(test::closedAndConsistent(adaptive.triangles));
  EXPECT_LT(adaptive.points.size(), fine.points.size() / 3);
  // The middle of the big faces is coarse: 6 mm from the roundings, graded up from their
  // 0.3 mm by 0.25 mm per mm.
  double sum = 0.0;
  int count = 0;
  for (const auto& t : adaptive.triangles)
  {
    const Vec3 centroid =
      (1.0 / 3.0) * (adaptive.points[t[0]] + adaptive.points[t[1]] + adaptive.points[t[2]]);
    if (std::abs(centroid.x) < 3.0 && std::abs(centroid.y) < 1.5 && std::abs(centroid.z) > 4.4)
    {
      sum += length(adaptive.points[t[1]] - adaptive.points[t[0]]);
      ++count;
    }
  }
  ASSERT_GT(count, 0);
  EXPECT_GT(sum / count, 1.4);
}
