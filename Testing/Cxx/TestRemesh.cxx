// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the isotropic remesher, without the pipeline.
#include "ibcRemesh.h"
#include "ibcSMP.h"
#include "ibcTHAPhantomModel.h"
#include "ibcTestShapes.h"

#include <gtest/gtest.h>
#include <vtkSMPTools.h>

#include <algorithm>
#include <cmath>

using namespace ibc;
using namespace ibc::remesh;

namespace
{
TriangleMesh phantomStem(double chordTolerance)
{
  phantom::Parameters p;
  p.chordTolerance = chordTolerance;
  const phantom::Surface s = phantom::PhantomModel(p).generateSurface();
  return { s.points, s.triangles };
}

/// A closed cylinder (by default radius 10 mm, height 40 mm, 256 sides) as a CAD export
/// tessellates it: the side in long slivers from end to end, and each end cap a fan of slivers
/// from one rim point (the worst case for splitting: every sliver meets at that point).
TriangleMesh fannedCylinder(double radius = 10.0, double height = 40.0, int sides = 256)
{
  TriangleMesh mesh;
  for (int end = 0; end < 2; ++end)
  {
    for (int k = 0; k < sides; ++k)
    {
      const double angle = 2.0 * 3.14159265358979323846 * k / sides;
      mesh.points.push_back({ radius * std::cos(angle), radius * std::sin(angle), end * height });
    }
  }
  auto bottom = [&](int k) { return static_cast<std::int64_t>(k % sides); };
  auto top = [&](int k) { return static_cast<std::int64_t>(sides + k % sides); };
  for (int k = 0; k < sides; ++k)
  {
    mesh.triangles.push_back({ bottom(k), bottom(k + 1), top(k + 1) });
    mesh.triangles.push_back({ bottom(k), top(k + 1), top(k) });
  }
  for (int k = 1; k + 1 < sides; ++k)
  {
    mesh.triangles.push_back({ bottom(0), bottom(k + 1), bottom(k) });
    mesh.triangles.push_back({ top(0), top(k), top(k + 1) });
  }
  return mesh;
}

/// A closed cube of side 20 mm, each face split into a fan of slivers, as a CAD export would.
TriangleMesh cube()
{
  return { test::cubePoints(20.0), test::cubeTriangles() };
}
}

TEST(Remesh, PhantomStemBecomesClosedAndRegular)
{
  const TriangleMesh input = phantomStem(0.005);
  Repair repair;
  const TriangleMesh clean = repairSurface(input, repair);
  ASSERT_TRUE(repair.problem.empty()) << repair.problem;
  Options options;
  options.targetEdgeLength = 1.0;
  const TriangleMesh output = remeshSurface(clean, options);
  const Quality q = measureQuality(output, clean);
  EXPECT_EQ(q.boundaryEdges, 0);
  EXPECT_EQ(q.nonManifoldEdges, 0);
  EXPECT_GT(q.shareAbove30, 0.95);
  EXPECT_LT(q.edgeLengthCV, 0.2);
  EXPECT_LT(q.hausdorff, 0.1);
  EXPECT_LT(std::abs(q.areaChangePercent), 1.0);
  std::printf("phantom stem: %zu -> %zu points; mean edge %.3f, min angle %.1f, mean %.1f, >=30: "
              "%.4f, CV %.3f, "
              "Hausdorff %.4f mm, area %.3f %%\n",
    input.points.size(),
    output.points.size(),
    q.meanEdgeLength,
    q.minimumAngle,
    q.meanMinimumAngle,
    q.shareAbove30,
    q.edgeLengthCV,
    q.hausdorff,
    q.areaChangePercent);
}

TEST(Remesh, ACubeStaysACube)
{
  Repair repair;
  const TriangleMesh clean = repairSurface(cube(), repair);
  Options options;
  options.targetEdgeLength = 2.0;
  const TriangleMesh output = remeshSurface(clean, options);
  const Quality q = measureQuality(output, clean);
  EXPECT_EQ(q.boundaryEdges, 0);
  EXPECT_EQ(q.nonManifoldEdges, 0);
  EXPECT_NEAR(q.areaChangePercent, 0.0, 0.01);
  EXPECT_GT(output.points.size(), 200u);
  // Every vertex on a face of the cube, and the eight corners kept.
  int corners = 0;
  for (const Vec3& p : output.points)
  {
    const double distance = std::min({ std::abs(p.x),
      std::abs(p.x - 20),
      std::abs(p.y),
      std::abs(p.y - 20),
      std::abs(p.z),
      std::abs(p.z - 20) });
    ASSERT_LT(distance, 1e-6) << p.x << " " << p.y << " " << p.z;
    const bool corner = (std::abs(p.x) < 1e-9 || std::abs(p.x - 20) < 1e-9) &&
      (std::abs(p.y) < 1e-9 || std::abs(p.y - 20) < 1e-9) &&
      (std::abs(p.z) < 1e-9 || std::abs(p.z - 20) < 1e-9);
    corners += corner ? 1 : 0;
  }
  EXPECT_EQ(corners, 8);
  // The twelve edges stay straight and sharp: points on them exist all along.
  int onEdges = 0;
  for (const Vec3& p : output.points)
  {
    const int onFaces = (std::abs(p.x) < 1e-6 || std::abs(p.x - 20) < 1e-6) +
      (std::abs(p.y) < 1e-6 || std::abs(p.y - 20) < 1e-6) +
      (std::abs(p.z) < 1e-6 || std::abs(p.z - 20) < 1e-6);
    onEdges += onFaces >= 2 ? 1 : 0;
  }
  EXPECT_GE(onEdges, 12 * 6); // no gap longer than about 4/3 of the target along the edges
}

TEST(Remesh, RepairsSTLDefectsAndRefusesNonManifoldSurfaces)
{
  // The cube with every triangle's vertices repeated (an unmerged STL), one triangle twice, one
  // degenerate triangle and one triangle turned inside out.
  const TriangleMesh base = cube();
  TriangleMesh stl;
  for (const auto& t : base.triangles)
  {
    const auto first = static_cast<std::int64_t>(stl.points.size());
    for (const auto id : t)
    {
      stl.points.push_back(base.points[id]);
    }
    stl.triangles.push_back({ first, first + 1, first + 2 });
  }
  stl.triangles.push_back(stl.triangles[3]);
  stl.triangles.push_back({ 0, 0, 1 });
  std::swap(stl.triangles[5][1], stl.triangles[5][2]);
  Repair repair;
  const TriangleMesh clean = repairSurface(stl, repair);
  EXPECT_TRUE(repair.problem.empty());
  EXPECT_EQ(clean.points.size(), 8u);
  EXPECT_EQ(clean.triangles.size(), 12u);
  EXPECT_EQ(repair.droppedTriangles, 2);
  EXPECT_GE(repair.flippedTriangles, 1);
  EXPECT_GT(probe::signedVolume(clean.points, clean.triangles, { 10, 10, 10 }), 0.0);

  // A third triangle on one edge: refused, with a reason.
  TriangleMesh fin = base;
  fin.points.push_back({ 10, -10, 0 });
  fin.triangles.push_back({ 0, 1, 8 });
  Repair refused;
  repairSurface(fin, refused);
  EXPECT_NE(refused.problem.find("non-manifold"), std::string::npos) << refused.problem;

  // A point with a NaN coordinate: refused, with a reason (it once sent the search tree into
  // endless bisection).
  TriangleMesh broken = base;
  broken.points[3].y = std::nan("");
  Repair notFinite;
  const TriangleMesh none = repairSurface(broken, notFinite);
  EXPECT_NE(notFinite.problem.find("NaN"), std::string::npos) << notFinite.problem;
  EXPECT_TRUE(none.triangles.empty());
}

TEST(Remesh, CADFansAndSliversGiveEvenlySpacedPoints)
{
  Repair repair;
  const TriangleMesh clean = repairSurface(fannedCylinder(), repair);
  ASSERT_TRUE(repair.problem.empty()) << repair.problem;
  Options options;
  options.targetEdgeLength = 1.0;
  const TriangleMesh output = remeshSurface(clean, options);
  const Quality q = measureQuality(output, clean);
  // Equilateral triangles of side 1 mm on the cylinder's 3142 mm2: about 3600 points, evenly
  // spread (no crowd left around the fans' apexes, no gaps along the slivers).
  const double area = surfaceArea(clean);
  const double expected = area / (std::sqrt(3.0) / 4.0) / 2.0;
  EXPECT_NEAR(static_cast<double>(output.points.size()), expected, 0.15 * expected);
  EXPECT_EQ(q.boundaryEdges, 0);
  EXPECT_EQ(q.nonManifoldEdges, 0);
  EXPECT_GT(q.shareAbove30, 0.99);
  EXPECT_LT(q.edgeLengthCV, 0.15);
  EXPECT_LT(q.hausdorff, 0.05);
  // The rims (90 degree edges) stay sharp: points all along both circles.
  int onRims = 0;
  for (const Vec3& p : output.points)
  {
    // (on the 256-gon: up to 0.00075 mm inside the circle)
    const bool onCircle = std::abs(std::hypot(p.x, p.y) - 10.0) < 1e-3;
    onRims += onCircle && (std::abs(p.z) < 1e-9 || std::abs(p.z - 40.0) < 1e-9) ? 1 : 0;
  }
  EXPECT_GE(onRims, 2 * 50); // 63 mm around, about 1 mm apart
  std::printf("fanned cylinder: %zu points (expected about %.0f), >=30: %.4f, CV %.3f, Hausdorff "
              "%.4f mm, %d on the rims\n",
    output.points.size(),
    expected,
    q.shareAbove30,
    q.edgeLengthCV,
    q.hausdorff,
    onRims);
}

/// A latitude-longitude sphere of radius 20 mm with 400 meridians and 200 parallels (80k
/// triangles, fans of 400 slivers at the poles), every third triangle turned inside out, as a
/// careless dense export would give.
TriangleMesh denseSphere(std::int64_t& turned)
{
  const int meridians = 400;
  const int parallels = 200;
  const double radius = 20.0;
  const double pi = 3.14159265358979323846;
  TriangleMesh mesh;
  mesh.points.push_back({ 0, 0, radius }); // north pole
  for (int i = 1; i < parallels; ++i)
  {
    const double polar = pi * i / parallels;
    for (int k = 0; k < meridians; ++k)
    {
      const double azimuth = 2.0 * pi * k / meridians;
      mesh.points.push_back({ radius * std::sin(polar) * std::cos(azimuth),
        radius * std::sin(polar) * std::sin(azimuth),
        radius * std::cos(polar) });
    }
  }
  const auto south = static_cast<std::int64_t>(mesh.points.size());
  mesh.points.push_back({ 0, 0, -radius });
  auto ring = [&](int i, int k) { return 1 + (i - 1) * meridians + (k % meridians); };
  for (int k = 0; k < meridians; ++k)
  {
    mesh.triangles.push_back({ 0, ring(1, k), ring(1, k + 1) });
    mesh.triangles.push_back({ south, ring(parallels - 1, k + 1), ring(parallels - 1, k) });
    for (int i = 1; i + 1 < parallels; ++i)
    {
      mesh.triangles.push_back({ ring(i, k), ring(i + 1, k), ring(i + 1, k + 1) });
      mesh.triangles.push_back({ ring(i, k), ring(i + 1, k + 1), ring(i, k + 1) });
    }
  }
  turned = 0;
  for (std::size_t index = 0; index < mesh.triangles.size(); index += 3)
  {
    std::swap(mesh.triangles[index][1], mesh.triangles[index][2]);
    ++turned;
  }
  return mesh;
}

TEST(Remesh, ADenseExportIsThinnedToAnEvenMeshOnTheSurface)
{
  // Far more input vertices than the target asks for: the remesher thins the input before it
  // splits (the path of dense CAD exports), and the repair finds every turned triangle.
  std::int64_t turned = 0;
  const TriangleMesh dense = denseSphere(turned);
  Repair repair;
  const TriangleMesh clean = repairSurface(dense, repair);
  ASSERT_TRUE(repair.problem.empty()) << repair.problem;
  EXPECT_EQ(repair.flippedTriangles, turned);
  EXPECT_GT(probe::signedVolume(clean.points, clean.triangles, { 0, 0, 0 }), 0.0);

  Options options;
  options.targetEdgeLength = 1.5;
  ibc::useThreadedBackend();
  const TriangleMesh output = remeshSurface(clean, options);
  // The thinning runs in parts on several threads: the result does not depend on how many.
  TriangleMesh oneThread;
  vtkSMPTools::LocalScope(
    vtkSMPTools::Config{ 1 }, [&] { oneThread = remeshSurface(clean, options); });
  ASSERT_EQ(oneThread.points.size(), output.points.size());
  ASSERT_EQ(oneThread.triangles, output.triangles);
  for (std::size_t i = 0; i < output.points.size(); ++i)
  {
    ASSERT_EQ(length(oneThread.points[i] - output.points[i]), 0.0) << i;
  }
  const Quality q = measureQuality(output, clean);
  const double area = 4.0 * 3.14159265358979323846 * 20.0 * 20.0;
  const double expected = 2.0 * area / (std::sqrt(3.0) * 1.5 * 1.5); // about 2580
  EXPECT_NEAR(static_cast<double>(output.points.size()), expected, 0.15 * expected);
  EXPECT_EQ(q.boundaryEdges, 0);
  EXPECT_EQ(q.nonManifoldEdges, 0);
  EXPECT_GT(q.shareAbove30, 0.99);
  EXPECT_LT(q.edgeLengthCV, 0.15);
  // Every point on the sphere (the input's triangles lie up to about 0.0012 mm inside it), and the
  // result still encloses it outward.
  double worst = 0.0;
  for (const Vec3& p : output.points)
  {
    worst = std::max(worst, std::abs(length(p) - 20.0));
  }
  EXPECT_LT(worst, 2e-3);
  EXPECT_GT(probe::signedVolume(output.points, output.triangles, { 0, 0, 0 }), 0.0);
  std::printf("dense sphere: %zu -> %zu points (expected about %.0f), >=30: %.4f, CV %.3f, "
              "farthest from the sphere %.5f mm, %lld triangles turned back\n",
    clean.points.size(),
    output.points.size(),
    expected,
    q.shareAbove30,
    q.edgeLengthCV,
    worst,
    static_cast<long long>(repair.flippedTriangles));
}

TEST(Remesh, APointCountIsReachedWithinTheIterations)
{
  // The length for a count assumes equilateral triangles and misses by a few percent; with the
  // count given, the iterations correct it, so the filter need not remesh twice.
  Repair repair;
  const TriangleMesh clean = repairSurface(phantomStem(0.01), repair);
  for (const std::int64_t count : { 5000, 30000 })
  {
    Options options;
    options.targetEdgeLength = edgeLengthForPointCount(surfaceArea(clean), count);
    options.targetPointCount = count;
    const TriangleMesh output = remeshSurface(clean, options);
    EXPECT_NEAR(static_cast<double>(output.points.size()), count, 0.015 * count);
    const Quality q = measureQuality(output, clean);
    EXPECT_GT(q.shareAbove30, 0.99);
    EXPECT_EQ(q.nonManifoldEdges, 0);
    std::printf(
      "point count %lld: %zu points\n", static_cast<long long>(count), output.points.size());
  }
}

TEST(Remesh, SmallCylinderRimsGetNoSlivers)
{
  // A trunnion-sized cylinder (radius 3 mm, 200 sides) at 0.5 and 1 mm: its rims are feature
  // lines of many short segments, and a triangle across three of their points (a chord of the
  // rim) came out with a 1.5 degree angle before the final Delaunay flips.
  Repair repair;
  const TriangleMesh clean = repairSurface(fannedCylinder(3.0, 30.0, 200), repair);
  ASSERT_TRUE(repair.problem.empty()) << repair.problem;
  for (const double edge : { 0.5, 1.0 })
  {
    Options options;
    options.targetEdgeLength = edge;
    const TriangleMesh output = remeshSurface(clean, options);
    const Quality q = measureQuality(output, clean);
    EXPECT_GT(q.minimumAngle, 10.0) << edge;
    EXPECT_GT(q.shareAbove30, 0.99) << edge;
    EXPECT_EQ(q.nonManifoldEdges, 0);
    EXPECT_EQ(q.boundaryEdges, 0);
    std::printf("3 mm cylinder at %.1f mm: %zu points, smallest angle %.1f deg, >=30: %.4f\n",
      edge,
      output.points.size(),
      q.minimumAngle,
      q.shareAbove30);
  }
}

TEST(Remesh, AnOpenSurfaceKeepsItsBorder)
{
  // The side of a CAD cylinder without its caps (radius 10 mm, height 40 mm, 128 slivers
  // from end to end): an open surface with two circular borders.
  TriangleMesh open = fannedCylinder(10.0, 40.0, 128);
  open.triangles.resize(2 * 128);
  Repair repair;
  const TriangleMesh clean = repairSurface(open, repair);
  ASSERT_TRUE(repair.problem.empty()) << repair.problem;
  for (const bool preserve : { true, false })
  {
    Options options;
    options.targetEdgeLength = 1.0;
    options.preserveBoundary = preserve;
    const TriangleMesh output = remeshSurface(clean, options);
    const Quality q = measureQuality(output, clean);
    EXPECT_EQ(q.nonManifoldEdges, 0);
    EXPECT_GT(q.boundaryEdges, 2 * 40) << preserve; // two circles of 63 mm, still open
    EXPECT_GT(q.shareAbove30, 0.97) << preserve;
    EXPECT_LT(q.hausdorff, 0.05) << preserve;
    // Every point on the cylinder's side (the 128-gon lies up to 0.003 mm inside the circle).
    int onBorders = 0;
    for (const Vec3& p : output.points)
    {
      EXPECT_NEAR(std::hypot(p.x, p.y), 10.0, 0.005);
      EXPECT_GE(p.z, -1e-9);
      EXPECT_LE(p.z, 40.0 + 1e-9);
      onBorders += std::abs(p.z) < 1e-9 || std::abs(p.z - 40.0) < 1e-9 ? 1 : 0;
    }
    if (preserve)
    {
      // The border stays where it is: each of its input points is still there.
      int kept = 0;
      for (const Vec3& b : clean.points)
      {
        for (const Vec3& p : output.points)
        {
          if (length(p - b) < 1e-9)
          {
            ++kept;
            break;
          }
        }
      }
      EXPECT_EQ(kept, 2 * 128);
    }
    std::printf("open cylinder, preserve border %d: %zu points, %d on the borders, >=30: %.4f, "
                "%lld border edges\n",
      preserve ? 1 : 0,
      output.points.size(),
      onBorders,
      q.shareAbove30,
      static_cast<long long>(q.boundaryEdges));
  }
}
