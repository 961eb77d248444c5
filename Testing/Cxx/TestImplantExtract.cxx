// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the metal-extraction algorithms on analytic edges and masks, without the pipeline.
#include "ibcImplantExtract.h"

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
