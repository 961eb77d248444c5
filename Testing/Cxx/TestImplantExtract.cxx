// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the metal-extraction algorithms on analytic edges and masks, without the pipeline.
#include "ibcCollective.h"
#include "ibcImplantExtract.h"

#include <vtkType.h>

#include <gtest/gtest.h>

#include <cmath>

using namespace ibc::extract;

namespace
{
/// A blurred metal edge at `edge` (mm along the normal): tissue + (metal - tissue) * Phi((edge -
/// t) / sigma), clipped like a 12-bit scanner when clip > 0.
std::vector<double> edgeProfile(const std::vector<double>& distances,
  double edge,
  double sigma,
  double metal,
  double tissue,
  double clip)
{
  std::vector<double> values;
  for (double t : distances)
  {
    double value =
      tissue + (metal - tissue) * 0.5 * std::erfc((t - edge) / (sigma * std::sqrt(2.0)));
    if (clip > 0.0)
    {
      value = std::min(value, clip);
    }
    values.push_back(value);
  }
  return values;
}

/// How a CT clipping at clipValue is read, with the metal's value when known (0: not given).
EdgeModel clippedModel(double threshold, double clipValue, double metalHU = 0.0)
{
  EdgeModel model;
  model.threshold = threshold;
  model.clipped = true;
  model.clipValue = clipValue;
  model.metalHU = metalHU;
  return model;
}

std::vector<double> profileDistances()
{
  std::vector<double> distances;
  for (int s = 0; s <= 120; ++s)
  {
    distances.push_back(-5.0 + 0.1 * s);
  }
  return distances;
}
}

TEST(ImplantExtract, NormalQuantileInvertsTheDistribution)
{
  EXPECT_NEAR(normalQuantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normalQuantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(normalQuantile(0.02275013194817921), -2.0, 1e-9);
  for (double z : { -3.5, -1.2, 0.3, 2.7 })
  {
    EXPECT_NEAR(normalQuantile(0.5 * std::erfc(-z / std::sqrt(2.0))), z, 1e-9);
  }
}

TEST(ImplantExtract, MetalLevelsTellAClipFromAPlateau)
{
  // Clipped: a spike at 3071 holding most of the tail.
  HighTail clipped;
  clipped.minimumHU = 2000.0;
  for (int v = 2000; v < 3071; v += 7)
  {
    clipped.add(v);
  }
  for (int n = 0; n < 1000; ++n)
  {
    clipped.add(3071.0);
  }
  const MetalLevels a = metalLevels(clipped);
  EXPECT_TRUE(a.found);
  EXPECT_TRUE(a.clipped);
  EXPECT_DOUBLE_EQ(a.clipValue, 3071.0);
  EXPECT_DOUBLE_EQ(a.threshold, 0.5 * (3071.0 + 2000.0));

  // Not clipped: a noisy plateau around 6000; the 90th percentile lies in it.
  HighTail plateau;
  plateau.minimumHU = 2000.0;
  for (int v = 2000; v < 5900; v += 13)
  {
    plateau.add(v);
  }
  // Gaussian noise of 40 HU (Box-Muller on a fixed sequence).
  for (int n = 1; n <= 3000; ++n)
  {
    const double u = std::fmod(n * 0.6180339887, 1.0);
    const double v = std::fmod(n * 0.7548776662, 1.0);
    plateau.add(6000.0 + 40.0 * std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307 * v));
  }
  const MetalLevels b = metalLevels(plateau);
  EXPECT_FALSE(b.clipped);
  EXPECT_NEAR(b.plateau, 6000.0, 60.0); // the 90th percentile: about 1.3 noise sigma high
  EXPECT_NEAR(b.threshold, 4000.0, 30.0);

  EXPECT_FALSE(metalLevels(HighTail()).found);
}

TEST(ImplantExtract, SolidComponentKeepsTheLargestAndFillsCavities)
{
  const std::array<int, 3> size = { 12, 10, 8 };
  std::vector<std::uint8_t> mask(12 * 10 * 8, 0);
  auto at = [&](int i, int j, int k) -> std::uint8_t& { return mask[(k * 10 + j) * 12 + i]; };
  // A hollow 5x5x5 box (cavity 3x3x3) and a 2-voxel speck.
  for (int k = 1; k <= 5; ++k)
    for (int j = 1; j <= 5; ++j)
      for (int i = 1; i <= 5; ++i)
      {
        const bool shell = i == 1 || i == 5 || j == 1 || j == 5 || k == 1 || k == 5;
        at(i, j, k) = shell ? 1 : 0;
      }
  at(9, 8, 6) = 1;
  at(10, 8, 6) = 1;
  int components = 0;
  const std::vector<std::uint8_t> solid = solidComponent(mask, size, 1, false, components);
  EXPECT_EQ(components, 2);
  int inside = 0;
  for (std::uint8_t v : solid)
  {
    inside += v;
  }
  EXPECT_EQ(inside, 125); // the box with its cavity filled, not the speck
  EXPECT_EQ(solid[(3 * 10 + 3) * 12 + 3], 1);
  EXPECT_EQ(solid[(6 * 10 + 8) * 12 + 9], 0);

  const std::vector<std::uint8_t> all = solidComponent(mask, size, 2, true, components);
  EXPECT_EQ(all[(6 * 10 + 8) * 12 + 9], 1);
  const std::vector<std::uint8_t> big = solidComponent(mask, size, 3, true, components);
  EXPECT_EQ(big[(6 * 10 + 8) * 12 + 9], 0);
}

TEST(ImplantExtract, VisiblePlateauGivesTheHalfWayCrossing)
{
  const std::vector<double> distances = profileDistances();
  for (double sigma : { 0.5, 1.0, 1.5 })
  {
    // A threshold surface inflated by the low threshold: the vertex sits outside the edge.
    const std::vector<double> values = edgeProfile(distances, -0.6, sigma, 6000.0, 300.0, 0.0);
    EdgeModel model;
    model.threshold = 2000.0;
    const EdgeFit fit = locateEdge(distances, values.data(), model);
    ASSERT_TRUE(fit.valid);
    EXPECT_NEAR(fit.edge, -0.6, 0.01) << sigma;
    EXPECT_NEAR(fit.outsideHU, 300.0, 5.0);
  }
}

TEST(ImplantExtract, ClippedTailIsExtrapolatedWithTheMetalValue)
{
  const std::vector<double> distances = profileDistances();
  for (double metal : { 6000.0, 10000.0 })
  {
    for (double sigma : { 0.7, 1.2 })
    {
      const std::vector<double> values = edgeProfile(distances, -0.4, sigma, metal, 300.0, 3071.0);
      const EdgeModel model = clippedModel(2535.5, 3071.0, metal);
      const EdgeFit fit = locateEdge(distances, values.data(), model);
      ASSERT_TRUE(fit.valid);
      EXPECT_NEAR(fit.edge, -0.4, 0.03) << metal << " " << sigma;
      EXPECT_NEAR(fit.sigma, sigma, 0.05);
    }
  }
  // Without the metal value, titanium alloy (6000 HU) is assumed behind the clip.
  {
    const std::vector<double> values = edgeProfile(distances, 0.2, 1.0, 6000.0, 300.0, 3071.0);
    const EdgeModel model = clippedModel(2535.5, 3071.0);
    const EdgeFit fit = locateEdge(distances, values.data(), model);
    ASSERT_TRUE(fit.valid);
    EXPECT_NEAR(fit.edge, 0.2, 0.03);
    EXPECT_DOUBLE_EQ(fit.metalHU, 6000.0);
  }
  // Behind a clip above that, the half-way level is assumed at the clip: exact when it is.
  {
    const double tissue = 300.0;
    const std::vector<double> values =
      edgeProfile(distances, 0.2, 1.0, 2.0 * 8000.0 - tissue, tissue, 8000.0);
    const EdgeModel model = clippedModel(5000.0, 8000.0);
    const EdgeFit fit = locateEdge(distances, values.data(), model);
    ASSERT_TRUE(fit.valid);
    EXPECT_NEAR(fit.edge, 0.2, 0.03);
  }
}

TEST(ImplantExtract, ProfilesWithoutAnEdgeAreRejected)
{
  const std::vector<double> distances = profileDistances();
  EdgeModel model;
  model.threshold = 2000.0;
  const std::vector<double> flat(distances.size(), 100.0);
  EXPECT_FALSE(locateEdge(distances, flat.data(), model).valid);
  std::vector<double> unknown(distances.size(), std::nan(""));
  EXPECT_FALSE(locateEdge(distances, unknown.data(), model).valid);
}

TEST(ImplantExtract, SmoothingOverTheMeshKeepsConstantsAndFillsGaps)
{
  // A strip of triangles over 6 vertices.
  const std::vector<std::array<std::int64_t, 3>> triangles = {
    { 0, 1, 2 }, { 1, 3, 2 }, { 2, 3, 4 }, { 3, 5, 4 }
  };
  std::vector<double> values = { 0.5, 0.5, 0.5, 0.0, 0.5, 0.5 };
  std::vector<char> valid = { 1, 1, 1, 0, 1, 1 };
  smoothOverMesh(values, valid, triangles, 3);
  for (std::size_t v = 0; v < values.size(); ++v)
  {
    EXPECT_TRUE(valid[v]);
    EXPECT_NEAR(values[v], 0.5, 1e-12);
  }
}

namespace
{
/// A block over a buffer of floats of the given extent (one component), spacing 1 at the origin.
ibc::probe::VolumeBlock floatBlock(const std::vector<float>& values,
  const int extent[6],
  const int whole[6])
{
  ibc::probe::VolumeBlock block;
  block.data = values.data();
  block.scalarType = VTK_FLOAT;
  std::copy(extent, extent + 6, block.extent);
  std::copy(whole, whole + 6, block.wholeExtent);
  return block;
}
}

TEST(ImplantExtract, HighTailCountsEachOwnedVoxelOnce)
{
  // A piece holding layers z = 0..2 of a volume 0..3: layer 2 belongs to the next piece.
  const int whole[6] = { 0, 3, 0, 3, 0, 3 };
  const int piece[6] = { 0, 3, 0, 3, 0, 2 };
  std::vector<float> values(4 * 4 * 3, 0.0f);
  values[0] = 2500.0f;      // layer 0
  values[16 + 5] = 3071.0f; // layer 1
  values[32 + 7] = 4000.0f; // layer 2: not owned
  const ibc::Collective alone(nullptr);
  double maximum = 0.0;
  const HighTail tail =
    highTailAcrossRanks(floatBlock(values, piece, whole), true, 2000.0, alone, maximum);
  EXPECT_EQ(maximum, 3071.0);
  EXPECT_EQ(tail.total(), 2);
  ASSERT_EQ(tail.counts.size(), 1072u);
  EXPECT_EQ(tail.counts[500], 1);
  EXPECT_EQ(tail.counts[1071], 1);
  // The last piece owns its top layer.
  const HighTail all =
    highTailAcrossRanks(floatBlock(values, piece, piece), true, 2000.0, alone, maximum);
  EXPECT_EQ(all.total(), 3);
  // No voxel reaches the minimum: no counts, and the maximum says how far off it is.
  const HighTail none =
    highTailAcrossRanks(floatBlock(values, piece, whole), true, 5000.0, alone, maximum);
  EXPECT_TRUE(none.counts.empty());
}

TEST(ImplantExtract, MetalBoxHoldsTheMetalAndItsMargin)
{
  const int whole[6] = { 0, 19, 0, 19, 0, 19 };
  std::vector<float> values(20 * 20 * 20, -50.0f);
  for (int k = 8; k <= 11; ++k)
    for (int j = 9; j <= 10; ++j)
      for (int i = 2; i <= 4; ++i)
      {
        values[(k * 20 + j) * 20 + i] = 3000.0f + static_cast<float>(i + 10 * j + 100 * k);
      }
  const double spacing[3] = { 1.0, 1.0, 1.0 };
  const ibc::Collective alone(nullptr);
  const MetalBox box =
    gatherMetalBox(floatBlock(values, whole, whole), true, 2000.0, spacing, 2.5, alone);
  ASSERT_TRUE(box.found);
  const int expected[6] = { 0, 7, 6, 13, 5, 14 }; // 3 voxels of margin, cut at the volume's edge
  for (int c = 0; c < 6; ++c)
  {
    EXPECT_EQ(box.extent[c], expected[c]);
  }
  ASSERT_EQ(box.values.size(), box.count());
  EXPECT_EQ(box.values[box.index(3, 10, 9)], values[(9 * 20 + 10) * 20 + 3]);
  EXPECT_EQ(box.values[box.index(0, 6, 5)], -50.0f);
  const MetalBox none =
    gatherMetalBox(floatBlock(values, whole, whole), true, 9000.0, spacing, 2.5, alone);
  EXPECT_FALSE(none.found);
}

TEST(ImplantExtract, MetalEdgesOfABlurredSphereAreFound)
{
  // A sphere of radius 8 mm, 6000 HU in 0 HU tissue, blurred with a 1 mm edge spread (its
  // half-way level sigma^2 / R = 0.125 mm inside the sphere, to first order), on a 0.5 mm grid;
  // the first surface 0.4 mm outside it.
  constexpr int n = 48;
  constexpr double spacing = 0.5;
  constexpr double radius = 8.0;
  const double centre = 0.5 * (n - 1) * spacing;
  std::vector<float> values(n * n * n);
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
      {
        const double r = std::sqrt(std::pow(i * spacing - centre, 2) +
          std::pow(j * spacing - centre, 2) + std::pow(k * spacing - centre, 2));
        values[(k * n + j) * n + i] = static_cast<float>(
          6000.0 * 0.5 * std::erfc((r - radius + 1.0 / radius) / std::sqrt(2.0)));
      }
  const int whole[6] = { 0, n - 1, 0, n - 1, 0, n - 1 };
  ibc::probe::VolumeBlock block = floatBlock(values, whole, whole);
  const double toIndex[12] = { 1 / spacing, 0, 0, 0, 0, 1 / spacing, 0, 0, 0, 0, 1 / spacing, 0 };
  std::copy(toIndex, toIndex + 12, block.physicalToIndex);
  // A latitude-longitude sphere of radius 8.4 mm.
  std::vector<ibc::Vec3> points;
  std::vector<ibc::Vec3> normals;
  std::vector<std::array<std::int64_t, 3>> triangles;
  constexpr int rings = 12;
  constexpr int sectors = 24;
  for (int a = 1; a < rings; ++a)
  {
    for (int b = 0; b < sectors; ++b)
    {
      const double theta = M_PI * a / rings;
      const double phi = 2.0 * M_PI * b / sectors;
      const ibc::Vec3 direction = {
        std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta)
      };
      normals.push_back(direction);
      points.push_back(ibc::Vec3{ centre, centre, centre } + 8.4 * direction);
    }
  }
  for (int a = 0; a + 1 < rings - 1; ++a)
  {
    for (int b = 0; b < sectors; ++b)
    {
      const std::int64_t p = a * sectors + b;
      const std::int64_t q = a * sectors + (b + 1) % sectors;
      triangles.push_back({ p, p + sectors, q });
      triangles.push_back({ q, p + sectors, q + sectors });
    }
  }
  EdgeModel model;
  model.threshold = 2000.0;
  const EdgeCorrection correction = moveToMetalEdges(block, points, normals, triangles, model);
  EXPECT_EQ(correction.fitted, static_cast<std::int64_t>(points.size()));
  for (double shift : correction.shift)
  {
    EXPECT_NEAR(shift, -0.4, 0.05); // back onto the true surface
  }
}
