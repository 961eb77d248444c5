// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the normal-probe algorithms, without the pipeline.
#include "ibcNormalProbe.h"
#include "ibcSMP.h"
#include "ibcTestShapes.h"

#include <vtkType.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

using namespace ibc;
using namespace ibc::probe;

namespace
{
/// A block holding f(i, j, k) on an extent, with an identity or given index matrix.
struct FieldBlock
{
  std::vector<float> values;
  VolumeBlock block;

  template<typename Field>
  FieldBlock(const int extent[6], Field field)
  {
    for (int i = 0; i < 6; ++i)
    {
      block.extent[i] = block.wholeExtent[i] = extent[i];
    }
    for (int k = extent[4]; k <= extent[5]; ++k)
      for (int j = extent[2]; j <= extent[3]; ++j)
        for (int i = extent[0]; i <= extent[1]; ++i)
          values.push_back(static_cast<float>(field(i, j, k)));
    block.data = values.data();
    block.scalarType = VTK_FLOAT;
  }
};

double sampleAt(const VolumeBlock& block, Vec3 index, Interpolation interpolation)
{
  double value = std::numeric_limits<double>::quiet_NaN();
  interpolate(block, index, interpolation, value);
  return value;
}
}

TEST(Interpolation, LinearAndCubicReproduceALinearField)
{
  const int extent[6] = { -3, 12, 2, 9, 0, 7 };
  auto field = [](double i, double j, double k) { return 3.0 * i - 2.0 * j + 0.5 * k + 7.0; };
  const FieldBlock f(extent, field);
  std::mt19937 random(3);
  std::uniform_real_distribution<double> x(-3.0, 12.0), y(2.0, 9.0), z(0.0, 7.0);
  for (int trial = 0; trial < 500; ++trial)
  {
    const Vec3 index{ x(random), y(random), z(random) };
    EXPECT_NEAR(
      sampleAt(f.block, index, Interpolation::Linear), field(index.x, index.y, index.z), 1e-4);
    // Cubic: exact away from the border, where the clamped taps break the polynomial.
    if (index.x > -2 && index.x < 11 && index.y > 3 && index.y < 8 && index.z > 1 && index.z < 6)
    {
      EXPECT_NEAR(
        sampleAt(f.block, index, Interpolation::Cubic), field(index.x, index.y, index.z), 1e-4);
    }
  }
  // On the upper faces the cell is degenerate, and still exact.
  EXPECT_NEAR(sampleAt(f.block, { 12.0, 9.0, 7.0 }, Interpolation::Linear), field(12, 9, 7), 1e-4);
}

TEST(Interpolation, CubicReproducesAQuadraticField)
{
  const int extent[6] = { 0, 10, 0, 10, 0, 10 };
  auto field = [](double i, double j, double k) { return i * i - 0.5 * j * k + 2.0 * k * k; };
  const FieldBlock f(extent, field);
  EXPECT_NEAR(
    sampleAt(f.block, { 4.3, 5.7, 3.2 }, Interpolation::Cubic), field(4.3, 5.7, 3.2), 1e-3);
  // Linear is not exact for it: the test would notice cubic falling back to linear.
  EXPECT_GT(
    std::abs(sampleAt(f.block, { 4.3, 5.7, 3.2 }, Interpolation::Linear) - field(4.3, 5.7, 3.2)),
    0.05);
}

TEST(Interpolation, NearestPicksTheClosestVoxel)
{
  const int extent[6] = { 0, 4, 0, 4, 0, 4 };
  const FieldBlock f(extent, [](int i, int j, int k) { return 100 * k + 10 * j + i; });
  EXPECT_EQ(sampleAt(f.block, { 1.4, 2.6, 3.49 }, Interpolation::Nearest), 331.0);
}

TEST(Interpolation, OutsideAndOtherBlocks)
{
  const int extent[6] = { 0, 9, 0, 9, 0, 9 };
  FieldBlock f(extent, [](int i, int, int) { return i; });
  // This block holds only z in [0, 4] of a whole extent [0, 9].
  f.block.extent[5] = 4;
  const Vec3 bases[3] = { { 2, 2, 2 }, { 2, 2, 6 }, { 2, 2, 12 } };
  const Vec3 steps[3] = {};
  double values[3];
  std::uint8_t status[3];
  sampleProfiles(f.block, bases, steps, 3, { 0.0 }, Interpolation::Linear, values, status);
  EXPECT_EQ(status[0], Sampled);
  EXPECT_EQ(status[1], InOtherBlock);
  EXPECT_EQ(status[2], OutsideVolume);
  EXPECT_TRUE(std::isnan(values[1]) && std::isnan(values[2]));
  // The cell [4, 5] needs the next block; the face z = 4 itself does not.
  EXPECT_FALSE(f.block.containsStencil({ 1, 1, 4.5 }, Interpolation::Linear));
  EXPECT_TRUE(f.block.containsStencil({ 1, 1, 3.5 }, Interpolation::Linear));
  EXPECT_FALSE(f.block.containsStencil({ 1, 1, 3.5 }, Interpolation::Cubic));
}

TEST(Interpolation, HonoursTheIndexMatrix)
{
  // Spacing 0.5 x 2 x 1, origin (10, 20, 30), turned 90 degrees about z: physical x runs along
  // -j, physical y along +i.
  const int extent[6] = { 0, 20, 0, 20, 0, 20 };
  FieldBlock f(extent, [](int i, int j, int k) { return i + 100.0 * j + 10000.0 * k; });
  // index = R^T (x - origin) / spacing with R = [[0, -1, 0], [1, 0, 0], [0, 0, 1]].
  const double m[12] = { 0, 1 / 0.5, 0, -20 / 0.5, -1 / 2.0, 0, 0, 10 / 2.0, 0, 0, 1, -30 };
  std::copy(m, m + 12, f.block.physicalToIndex);
  const Vec3 world{ 10.0 - 2.0 * 3.0, 20.0 + 0.5 * 4.0, 30.0 + 5.0 };
  const Vec3 index = f.block.toIndex(world);
  EXPECT_NEAR(index.x, 4.0, 1e-12);
  EXPECT_NEAR(index.y, 3.0, 1e-12);
  EXPECT_NEAR(index.z, 5.0, 1e-12);
  EXPECT_NEAR(sampleAt(f.block, index, Interpolation::Linear), 4 + 300 + 50000, 1e-6);
}

TEST(Profiles, ModesReduceAsNamed)
{
  const std::vector<double> distances{ 0, 1, 2, 3, 4 };
  const double values[5] = { 5, 1, 9, 3, 7 };
  const AutomaticRule rule;
  EXPECT_EQ(reduceProfile(distances, values, Mode::ProfileMaximum, rule).value, 9);
  EXPECT_EQ(reduceProfile(distances, values, Mode::ProfileMaximum, rule).distance, 2);
  EXPECT_EQ(reduceProfile(distances, values, Mode::ProfileMean, rule).value, 5);
  EXPECT_EQ(reduceProfile(distances, values, Mode::ProfileMedian, rule).value, 5);
  const double withGap[5] = { 5, 1, std::nan(""), 3, 7 };
  EXPECT_FALSE(reduceProfile(distances, withGap, Mode::ProfileMean, rule).valid);
  SamplingPlan plan;
  plan.mode = Mode::ProfileMean;
  plan.profileStart = 1;
  plan.profileEnd = 3;
  plan.profileSamples = 5;
  EXPECT_EQ(plan.distances(), (std::vector<double>{ 1, 1.5, 2, 2.5, 3 }));
}

TEST(Profiles, AutomaticModeFindsTheTissueBehindABloomingEdge)
{
  // A metal edge spread by a Gaussian of sigma, clipped at 3071, over tissue of value T; the
  // automatic value must land within a few HU of T, and further out for wider blooming.
  std::vector<double> distances;
  for (int i = 0; i <= 40; ++i)
  {
    distances.push_back(0.2 * i);
  }
  const AutomaticRule rule;
  double previousDistance = 0.0;
  for (const double sigma : { 0.5, 0.8, 1.1, 1.4 })
  {
    for (const double tissue : { 30.0, 300.0, 1400.0 })
    {
      std::vector<double> profile;
      for (const double d : distances)
      {
        const double share = 0.5 * std::erfc(d / (sigma * std::sqrt(2.0)));
        profile.push_back(std::min(3071.0, tissue + (6000.0 - tissue) * share));
      }
      const ProfileResult result = reduceProfile(distances, profile.data(), Mode::Automatic, rule);
      ASSERT_TRUE(result.valid) << "sigma " << sigma << " tissue " << tissue;
      EXPECT_NEAR(result.value, tissue, 30.0) << "sigma " << sigma << " tissue " << tissue;
      if (tissue == 30.0)
      {
        EXPECT_GT(result.distance, previousDistance);
        previousDistance = result.distance;
      }
    }
  }
  // Cortical contact 5 mm thick over cancellous bone: the tissue itself falls right behind the
  // fading edge; the flattest part in between is still cortical.
  {
    std::vector<double> profile;
    for (const double d : distances)
    {
      const double share = 0.5 * std::erfc(d / (1.3 * std::sqrt(2.0)));
      const double tissue = 300.0 + 1100.0 * 0.5 * std::erfc((d - 5.0) / (0.5 * std::sqrt(2.0)));
      profile.push_back(std::min(3071.0, tissue + (6000.0 - tissue) * share));
    }
    const ProfileResult result = reduceProfile(distances, profile.data(), Mode::Automatic, rule);
    ASSERT_TRUE(result.valid);
    EXPECT_GT(result.value, 1200.0);
    EXPECT_LT(result.value, 1500.0);
  }
  // A profile that keeps falling to its end has no usable band.
  std::vector<double> falling;
  for (const double d : distances)
  {
    falling.push_back(3000.0 - 300.0 * d);
  }
  EXPECT_FALSE(reduceProfile(distances, falling.data(), Mode::Automatic, rule).valid);
}

TEST(Normals, AngleWeightedAndOriented)
{
  // A unit cube, each face split into two triangles, all wound outward.
  const std::vector<Vec3> points = test::cubePoints(1.0);
  const std::vector<std::array<std::int64_t, 3>> triangles = test::cubeTriangles();
  EXPECT_NEAR(signedVolume(points, triangles, { 0.5, 0.5, 0.5 }), 1.0, 1e-12);
  EXPECT_NEAR(signedVolume(points, triangles, { 7, -3, 2 }), 1.0, 1e-12);
  std::vector<Vec3> sums;
  accumulateVertexNormals(points, triangles, sums);
  // Angle weighting gives every corner the diagonal, whatever the face splits.
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    const Vec3 expected = normalized(points[i] - Vec3{ 0.5, 0.5, 0.5 });
    EXPECT_NEAR(dot(normalized(sums[i]), expected), 1.0, 1e-12) << "corner " << i;
  }
}

TEST(Normals, OrientationIsMadeConsistentAndOpenEdgesFound)
{
  // The cube of the test above with three triangles wound the wrong way, as in a broken STL.
  std::vector<Triangle> triangles{ { 0, 2, 1 },
    { 0, 3, 2 },
    { 4, 6, 5 },
    { 4, 6, 7 },
    { 0, 1, 5 },
    { 0, 4, 5 },
    { 1, 2, 6 },
    { 1, 6, 5 },
    { 2, 3, 7 },
    { 2, 6, 7 },
    { 3, 0, 4 },
    { 3, 4, 7 } };
  const std::vector<Vec3> points = test::cubePoints(1.0);
  orientConsistently(8, triangles);
  EXPECT_TRUE(test::closedAndConsistent(triangles)); // every directed edge once, reversed once
  EXPECT_NEAR(std::abs(signedVolume(points, triangles, { 0.5, 0.5, 0.5 })), 1.0, 1e-12);
  // Closed: no open edge. Without the top face: its four corners are on open edges.
  const std::vector<char> closed = openEdgeVertices(8, triangles);
  EXPECT_EQ(std::count(closed.begin(), closed.end(), 1), 0);
  std::vector<Triangle> open(triangles.begin(), triangles.end());
  open.erase(open.begin() + 2, open.begin() + 4);
  const std::vector<char> flags = openEdgeVertices(8, open);
  EXPECT_EQ(std::vector<char>(flags.begin() + 4, flags.end()), std::vector<char>(4, 1));
  EXPECT_EQ(std::vector<char>(flags.begin(), flags.begin() + 4), std::vector<char>(4, 0));
}

namespace
{
/// A capped cylinder's side (radius r, along z) as a triangle grid, and a UV sphere, with their
/// outward normals: surfaces of known curvature for the metal model's edge shift.
void cylinderGrid(double radius,
  int around,
  int along,
  double step,
  std::vector<Vec3>& points,
  std::vector<Triangle>& triangles,
  std::vector<Vec3>& normals)
{
  for (int k = 0; k < along; ++k)
  {
    for (int a = 0; a < around; ++a)
    {
      // Every other ring is turned by half a step: an irregular fan, like a real mesh.
      const double angle = 2.0 * 3.14159265358979 * (a + 0.5 * (k % 2)) / around;
      points.push_back({ radius * std::cos(angle), radius * std::sin(angle), k * step });
      normals.push_back({ std::cos(angle), std::sin(angle), 0.0 });
    }
  }
  for (int k = 0; k + 1 < along; ++k)
  {
    for (int a = 0; a < around; ++a)
    {
      const std::int64_t p = k * around + a;
      const std::int64_t q = k * around + (a + 1) % around;
      const std::int64_t r = (k + 1) * around + a;
      const std::int64_t s = (k + 1) * around + (a + 1) % around;
      triangles.push_back({ p, q, r });
      triangles.push_back({ q, s, r });
    }
  }
}
}

TEST(Curvature, CylinderAndSphereGiveTheirPrincipalCurvatures)
{
  const Collective serial(nullptr);
  std::vector<Vec3> points;
  std::vector<Triangle> triangles;
  std::vector<Vec3> normals;
  cylinderGrid(5.0, 36, 12, 0.8, points, triangles, normals);
  const std::vector<contact::SurfaceCurvature> cylinder =
    surfaceCurvatures(points, triangles, normals, { 0.0, 0.0, 1.0 }, serial);
  // Inner rings (the first and last have one-sided fans): k1 + k2 = 1 / 5, none along the axis.
  for (std::size_t i = 36; i + 36 < points.size(); ++i)
  {
    EXPECT_NEAR(cylinder[i].sum(), 0.2, 0.01) << "vertex " << i;
    EXPECT_NEAR(cylinder[i].alongSlice(), 0.0, 0.01) << "vertex " << i;
  }
  // Normals tilted by 3 degrees (an angle-weighted normal of an irregular fan is a little off):
  // the height fit's linear terms take the tilt up.
  std::vector<Vec3> tilted = normals;
  for (Vec3& n : tilted)
  {
    n = normalized(n + Vec3{ 0.0, 0.0, 0.05 });
  }
  const std::vector<contact::SurfaceCurvature> tiltedCurvature =
    surfaceCurvatures(points, triangles, tilted, { 0.0, 0.0, 1.0 }, serial);
  EXPECT_NEAR(tiltedCurvature[6 * 36].sum(), 0.2, 0.02);

  // A sphere of radius 4 (UV grid without its poles' fans): 2 / 4, and 1 / 4 along the slice
  // axis times the squared length of its projection.
  std::vector<Vec3> sphere;
  std::vector<Vec3> sphereNormals;
  std::vector<Triangle> sphereTriangles;
  const int rings = 30;
  const int around = 48;
  for (int k = 1; k < rings; ++k)
  {
    const double polar = 3.14159265358979 * k / rings;
    for (int a = 0; a < around; ++a)
    {
      const double angle = 2.0 * 3.14159265358979 * a / around;
      const Vec3 n{
        std::sin(polar) * std::cos(angle), std::sin(polar) * std::sin(angle), std::cos(polar)
      };
      sphere.push_back(4.0 * n);
      sphereNormals.push_back(n);
    }
  }
  for (int k = 0; k + 1 < rings - 1; ++k)
  {
    for (int a = 0; a < around; ++a)
    {
      const std::int64_t p = k * around + a;
      const std::int64_t q = k * around + (a + 1) % around;
      sphereTriangles.push_back({ p, q, p + around });
      sphereTriangles.push_back({ q, q + around, p + around });
    }
  }
  const std::vector<contact::SurfaceCurvature> ball =
    surfaceCurvatures(sphere, sphereTriangles, sphereNormals, { 0.0, 0.0, 1.0 }, serial);
  const std::size_t equator = static_cast<std::size_t>((rings / 2 - 1) * around);
  EXPECT_NEAR(ball[equator].sum(), 0.5, 0.02);
  EXPECT_NEAR(ball[equator].alongSlice(), 0.25, 0.02);
  // The edge shift: half the variance across the surface times the curvature, at most half the
  // larger spread.
  // At the surface the edge shift is half the variance across the surface times the curvature,
  // at most half the larger spread; half a radius out it is two thirds of that on a sphere of
  // radius 4 (the parallel surface half-way has radius 5).
  const contact::SurfaceCurvature& onEquator = ball[equator];
  EXPECT_NEAR(onEquator.edgeShift(1.2, 1.2).at(0.0), 0.5 * 1.44 * onEquator.sum(), 1e-12);
  EXPECT_NEAR(onEquator.edgeShift(1.2, 2.0).at(0.0),
    0.5 * (1.44 * onEquator.sum() + (4.0 - 1.44) * onEquator.alongSlice()),
    1e-12);
  EXPECT_NEAR(onEquator.edgeShift(1.2, 1.2).at(2.0), 0.5 * 1.44 * onEquator.sum() * 0.8, 0.01);
  contact::SurfaceCurvature sharp;
  sharp.principal[0] = 10.0;
  EXPECT_NEAR(sharp.edgeShift(1.2, 1.2).at(0.0), 0.6, 1e-12);
}
