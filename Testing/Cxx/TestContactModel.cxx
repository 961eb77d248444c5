// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the metal model and the contact reading on analytic profiles: a blurred metal
// edge (known value, spreads, clip) over layered tissue blurred by a point spread, with noise.
#include "ibcContactModel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

using namespace ibc::contact;

namespace
{
double normalCdf(double x)
{
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

/// A profile's tissue: `front` HU from the surface to `layer` mm, `behind` HU beyond, the step
/// blurred by a Gaussian point spread.
struct Tissue
{
  double front = 300.0;
  double layer = 0.0;
  double behind = 300.0;
  double at(double d, double psf) const
  {
    return front + (behind - front) * normalCdf((d - layer) / psf);
  }
};

struct Scanner
{
  double metal = 8000.0;
  double sigmaInPlane = 1.0;
  double sigmaThroughPlane = 1.5;
  double psf = 0.4;
  double clip = 3071.0;
  double noise = 20.0;
  double halo = 0.0;       ///< HU: depth of a dark beam-hardening halo next to the metal
  double haloLength = 1.0; ///< mm: its decay length
  double tailShare = 0.0;  ///< share of the metal's edge spread by a wider Gaussian (heavy tail)
  double tailFactor = 2.5; ///< how much wider
};

std::vector<double> distanceGrid(double start, double end, double step)
{
  std::vector<double> d;
  for (int i = 0; start + i * step <= end + 1e-9; ++i)
  {
    d.push_back(start + i * step);
  }
  return d;
}

void appendProfile(const Scanner& scanner, const Tissue& tissue, double slice,
  const std::vector<double>& distances, std::mt19937& random, std::vector<double>& values)
{
  std::normal_distribution<double> noise(0.0, scanner.noise);
  const double c2 = slice * slice;
  const double sigma = std::sqrt(scanner.sigmaInPlane * scanner.sigmaInPlane * (1.0 - c2) +
    scanner.sigmaThroughPlane * scanner.sigmaThroughPlane * c2);
  for (const double d : distances)
  {
    const double w = (1.0 - scanner.tailShare) * normalCdf(-d / sigma) +
      scanner.tailShare * normalCdf(-d / (scanner.tailFactor * sigma));
    const double halo = scanner.halo * std::exp(-std::max(d, 0.0) / scanner.haloLength);
    const double value =
      (1.0 - w) * (tissue.at(d, scanner.psf) - halo) + w * scanner.metal + noise(random);
    values.push_back(std::min(value, scanner.clip));
  }
}

/// A stem's worth of profiles: most touch bone, some have a membrane, a fifth lean along the
/// slice axis.
FitProfiles stemProfiles(const Scanner& scanner, int count)
{
  FitProfiles profiles;
  profiles.distances = distanceGrid(-3.0, 6.0, 0.1);
  std::mt19937 random(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double levels[3] = { 30.0, 300.0, 1400.0 };
  for (int p = 0; p < count; ++p)
  {
    Tissue tissue;
    tissue.behind = levels[1 + p % 2];
    tissue.front = unit(random) < 0.25 ? levels[0] : tissue.behind;
    tissue.layer = tissue.front == tissue.behind ? 0.0 : 0.5 + 3.0 * unit(random);
    const double slice = p % 5 == 0 ? 0.8 + 0.2 * unit(random) : 0.3 * unit(random);
    profiles.sliceComponents.push_back(slice);
    appendProfile(scanner, tissue, slice, profiles.distances, random, profiles.values);
  }
  return profiles;
}

MetalModel exactModel(const Scanner& scanner)
{
  MetalModel model;
  model.valid = true;
  model.metalHU = scanner.metal;
  model.sigmaInPlane = scanner.sigmaInPlane;
  model.sigmaThroughPlane = scanner.sigmaThroughPlane;
  model.clipHU = scanner.clip;
  model.relativeMetalError = 0.03;
  model.relativeSigmaError = 0.03;
  return model;
}

ContactReading readOne(const Scanner& scanner, const Tissue& tissue, const ContactRule& rule = {})
{
  const std::vector<double> distances = distanceGrid(-3.0, 6.0, 0.1);
  std::mt19937 random(3);
  std::vector<double> values;
  appendProfile(scanner, tissue, 0.0, distances, random, values);
  return readContact(exactModel(scanner), 0.0, distances, values.data(), rule);
}
/// Fits a stem's profiles from `scanner`, then reads 2 mm membranes with the fitted model and
/// with the same model unaware of its measured residual; expects the first to see and measure
/// them and to read the tissue next to the surface closer to the truth. Returns the fitted model.
MetalModel expectMembranesSeenThrough(
  const Scanner& scanner, const char* what, double maximumNearError)
{
  const MetalModel fitted = fitMetalModel(stemProfiles(scanner, 2000), FitOptions());
  EXPECT_TRUE(fitted.valid && !fitted.tissueResidual.empty()) << what;
  if (!fitted.valid)
  {
    return fitted;
  }
  MetalModel unaware = fitted;
  unaware.tissueResidual.clear();
  const std::vector<double> distances = distanceGrid(-3.0, 6.0, 0.1);
  std::mt19937 random(11);
  int seen[2] = { 0, 0 };
  int measured[2] = { 0, 0 };
  std::vector<double> nearErrors[2]; // corrected minus true tissue, 0.2-1.0 mm out
  const int trials = 40;
  for (int t = 0; t < trials; ++t)
  {
    std::vector<double> values;
    const Tissue membrane{ 30.0, 2.0, t % 2 ? 300.0 : 1400.0 };
    appendProfile(scanner, membrane, 0.0, distances, random, values);
    for (int m = 0; m < 2; ++m)
    {
      std::vector<double> corrected(distances.size());
      const ContactReading reading = readContact(m == 0 ? fitted : unaware, 0.0, distances,
        values.data(), ContactRule(), nullptr, corrected.data());
      seen[m] += reading.interfaceWidth >= 1.0 && reading.value < 150.0 ? 1 : 0;
      measured[m] += std::abs(reading.interfaceWidth - 2.0) <= 0.3 ? 1 : 0;
      for (std::size_t i = 0; i < distances.size(); ++i)
      {
        if (distances[i] >= 0.2 && distances[i] <= 1.0 && std::isfinite(corrected[i]))
        {
          nearErrors[m].push_back(corrected[i] - membrane.at(distances[i], scanner.psf));
        }
      }
    }
  }
  auto median = [](std::vector<double> v)
  {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v.empty() ? std::numeric_limits<double>::quiet_NaN() : v[v.size() / 2];
  };
  const double error = median(nearErrors[0]);
  const double unawareError = median(nearErrors[1]);
  std::printf("2 mm membranes, %s, of %d: seen %d with the measured residual, "
              "%d without; width within 0.3 mm %d and %d; corrected tissue 0.2-1.0 mm out off by "
              "%.0f HU (median), %.0f HU without\n",
    what, trials, seen[0], seen[1], measured[0], measured[1], error, unawareError);
  EXPECT_GE(seen[0], trials * 95 / 100);
  EXPECT_GE(measured[0], trials * 90 / 100);
  EXPECT_LT(std::abs(error), maximumNearError);
  EXPECT_LT(std::abs(error), std::abs(unawareError));
  return fitted;
}
} // namespace

TEST(MetalModel, RecoversMetalAndSpreadsBehindTheClip)
{
  Scanner scanner;
  FitOptions options;
  options.inPlaneSpacing = 0.7;
  options.sliceSpacing = 2.0;
  const MetalModel model = fitMetalModel(stemProfiles(scanner, 2000), options);
  ASSERT_TRUE(model.valid);
  EXPECT_DOUBLE_EQ(model.clipHU, 3071.0);
  EXPECT_NEAR(model.metalHU / scanner.metal, 1.0, 0.05);
  EXPECT_NEAR(model.sigmaInPlane / scanner.sigmaInPlane, 1.0, 0.05);
  EXPECT_TRUE(model.throughPlaneFitted);
  EXPECT_NEAR(model.sigmaThroughPlane / scanner.sigmaThroughPlane, 1.0, 0.08);
  EXPECT_LT(model.residualHU, 3.0 * scanner.noise);
}

TEST(MetalModel, RecoversAnUnclippedMetalAndAWideBlooming)
{
  Scanner scanner;
  scanner.metal = 3500.0;
  scanner.clip = 1e9;
  scanner.sigmaInPlane = 1.6;
  scanner.sigmaThroughPlane = 1.6;
  scanner.noise = 40.0;
  const MetalModel model = fitMetalModel(stemProfiles(scanner, 2000), FitOptions());
  ASSERT_TRUE(model.valid);
  EXPECT_FALSE(std::isfinite(model.clipHU));
  EXPECT_NEAR(model.metalHU / scanner.metal, 1.0, 0.03);
  EXPECT_NEAR(model.sigmaInPlane / scanner.sigmaInPlane, 1.0, 0.05);
}

TEST(MetalModel, ADarkHaloIsMeasuredAndTakenOut)
{
  // A dark halo the model does not know: the fit bends the metal value and the spread to absorb
  // it, and what it leaves shows next to the surface. The residual measured on the fit's own
  // profiles takes that out (on the THA Phantom's voxels the difference is 150-230 HU at 0.2-0.6
  // mm, and 2 mm membranes are found on 99 % of their vertices instead of 83 %).
  Scanner scanner;
  scanner.metal = 6000.0;
  scanner.sigmaInPlane = 0.9;
  scanner.sigmaThroughPlane = 0.9;
  scanner.halo = 150.0;
  scanner.haloLength = 1.0;
  const MetalModel fitted = expectMembranesSeenThrough(scanner, "a 150 HU halo", 30.0);
  // Far from the metal the residual is gone.
  EXPECT_NEAR(fitted.tissueResidualAt(6.0), 0.0, 5.0);
}

TEST(MetalModel, AHeavyTailedBloomingIsMeasuredAndTakenOut)
{
  // A fifth of the metal spread by a Gaussian 2.5 times wider: the whole fit window is lifted,
  // and only profiles flat far out (where even the tail has faded) show it.
  Scanner scanner;
  scanner.metal = 6000.0;
  scanner.sigmaInPlane = 0.9;
  scanner.sigmaThroughPlane = 0.9;
  scanner.tailShare = 0.2;
  scanner.tailFactor = 2.5;
  // Not all of it is taken out: the tissue 0.2-1.0 mm out still reads about 70 HU high (140
  // without the residual), enough to see and measure 2 mm membranes.
  expectMembranesSeenThrough(scanner, "a heavy-tailed blooming", 90.0);
}

TEST(MetalModel, NoMetalMeansNoModel)
{
  FitProfiles profiles;
  profiles.distances = distanceGrid(-3.0, 6.0, 0.1);
  std::mt19937 random(1);
  Scanner water;
  water.metal = 0.0;
  for (int p = 0; p < 200; ++p)
  {
    profiles.sliceComponents.push_back(0.0);
    appendProfile(water, Tissue{ 40.0, 0.0, 40.0 }, 0.0, profiles.distances, random,
      profiles.values);
  }
  EXPECT_FALSE(fitMetalModel(profiles, FitOptions()).valid);
}

TEST(ContactReading, BoneTouchingTheMetal)
{
  Scanner scanner;
  scanner.sigmaInPlane = 0.7;
  for (const double bone : { 300.0, 1400.0 })
  {
    const ContactReading reading = readOne(scanner, Tissue{ bone, 0.0, bone });
    EXPECT_EQ(reading.status, ReadingStatus::Read);
    EXPECT_NEAR(reading.value, bone, 60.0);
    EXPECT_DOUBLE_EQ(reading.interfaceWidth, 0.0);
    EXPECT_GT(reading.confidence, 0.99);
  }
}

TEST(ContactReading, MembranesAreSeenAndMeasured)
{
  Scanner scanner;
  scanner.sigmaInPlane = 0.7;
  for (const double width : { 1.5, 2.0, 3.0 })
  {
    for (const double bone : { 300.0, 1400.0 })
    {
      const ContactReading reading = readOne(scanner, Tissue{ 30.0, width, bone });
      EXPECT_NEAR(reading.interfaceWidth, width, 0.2)
        << width << " mm before " << bone << ", read from " << reading.trustedFrom;
      EXPECT_LT(reading.value, 150.0) << width << " mm before " << bone;
      EXPECT_FALSE(reading.interfaceIsLowerBound);
    }
  }
  // A membrane thinner than the contact distance (0.8 mm): the bone behind it is what is read,
  // as the truth 1.0-1.5 mm out has it, with mild or strong blooming. Its width is not resolved
  // (a known limit: the bone's blurred edge already lifts the first trusted sample), but it is
  // never overstated.
  for (const double sigma : { 0.7, 1.6 })
  {
    scanner.sigmaInPlane = sigma;
    const ContactReading thin = readOne(scanner, Tissue{ 30.0, 0.8, 1400.0 });
    EXPECT_GT(thin.value, 800.0) << sigma;
    EXPECT_LE(thin.interfaceWidth, 0.8 + 0.25) << sigma;
  }
}

TEST(ContactReading, NoBoneWithinReach)
{
  const ContactReading reading = readOne(Scanner(), Tissue{ 30.0, 0.0, 30.0 });
  EXPECT_TRUE(reading.interfaceIsLowerBound);
  EXPECT_NEAR(reading.interfaceWidth, 6.0, 1e-9);
  EXPECT_NEAR(reading.value, 30.0, 60.0);
}

TEST(ContactReading, StrongBloomingMovesTheReadingOutWithLessConfidence)
{
  Scanner scanner;
  scanner.sigmaInPlane = 1.8;
  const ContactReading reading = readOne(scanner, Tissue{ 1400.0, 0.0, 1400.0 });
  EXPECT_EQ(reading.status, ReadingStatus::ReadFartherOut);
  EXPECT_GT(reading.distance, 1.25 + 0.1);
  EXPECT_LT(reading.confidence, 0.9);
  EXPECT_NEAR(reading.value, 1400.0, 100.0);
}

TEST(ContactReading, NaNOnlyWhereTheProfileLeavesTheVolume)
{
  const std::vector<double> distances = distanceGrid(-3.0, 6.0, 0.1);
  std::vector<double> values;
  std::mt19937 random(2);
  appendProfile(Scanner(), Tissue{}, 0.0, distances, random, values);
  values.back() = std::numeric_limits<double>::quiet_NaN();
  const ContactReading reading =
    readContact(exactModel(Scanner()), 0.0, distances, values.data(), ContactRule());
  EXPECT_EQ(reading.status, ReadingStatus::OutsideVolume);
  EXPECT_TRUE(std::isnan(reading.value));
}

TEST(ContactReading, TheSameCoordinatesAreChosenForTheFitEverywhere)
{
  int chosen = 0;
  for (int i = 0; i < 10000; ++i)
  {
    const double p[3] = { 0.37 * i, -1.1 * i, 12.5 + 0.01 * i };
    const bool once = selectedForFit(p, 0.2);
    EXPECT_EQ(once, selectedForFit(p, 0.2));
    chosen += once ? 1 : 0;
  }
  EXPECT_NEAR(chosen, 2000, 150);
}

namespace
{
/// Share of a cylinder (or ball) of radius `radius` blurred by an isotropic Gaussian `sigma`, at
/// `distance` outside its surface: the blur integrated exactly across the axis (or the two
/// axes) at right angles to the radial line, then numerically along it.
double blurredRoundShare(double radius, double sigma, double distance, bool ball)
{
  const int steps = 4000;
  const double centre = radius + distance;
  double share = 0.0;
  for (int i = 0; i <= steps; ++i)
  {
    const double x = -radius + 2.0 * radius * i / steps;
    const double chord = std::sqrt(std::max(radius * radius - x * x, 0.0));
    const double across = ball ? 1.0 - std::exp(-0.5 * chord * chord / (sigma * sigma))
                               : normalCdf(chord / sigma) - normalCdf(-chord / sigma);
    const double weight = (i == 0 || i == steps ? 0.5 : 1.0) * 2.0 * radius / steps;
    const double u = (x - centre) / sigma;
    share += weight * std::exp(-0.5 * u * u) / (sigma * std::sqrt(2.0 * M_PI)) * across;
  }
  return share;
}
} // namespace

TEST(Curvature, ACurvedEdgeMatchesABlurredCylinderAndBall)
{
  // Radii of a stem's corners and tip, spreads up to half the radius, from inside the metal to
  // 3 mm out: the shifted edge with the curvature half-way to the sample is within 90 HU of a
  // 6000 HU metal's exact share; the shift taken at the surface alone is off by more.
  const double metal = 6000.0;
  double worst = 0.0;
  double worstAtSurface = 0.0;
  for (double radius : { 3.0, 4.0, 6.0, 10.0 })
  {
    for (double sigma : { 0.6, 1.2, 0.5 * radius })
    {
      for (bool ball : { false, true })
      {
        SurfaceCurvature curvature;
        curvature.principal[0] = 1.0 / radius;
        curvature.principal[1] = ball ? 1.0 / radius : 0.0;
        const EdgeShift shift = curvature.edgeShift(sigma, sigma);
        for (double d : { -0.5, 0.0, 0.5, 1.25, 2.0, 3.0 })
        {
          const double exact = blurredRoundShare(radius, sigma, d, ball);
          const double model = normalCdf(-(d + shift.at(d)) / sigma);
          const double atSurface = normalCdf(-(d + shift.at(0.0)) / sigma);
          worst = std::max(worst, metal * std::abs(model - exact));
          worstAtSurface = std::max(worstAtSurface, metal * std::abs(atSurface - exact));
        }
      }
    }
  }
  std::printf("curved edge vs exact blurred cylinder and ball: worst %.0f HU (shift at the "
              "surface only: %.0f HU)\n",
    worst,
    worstAtSurface);
  EXPECT_LT(worst, 90.0);
  EXPECT_GT(worstAtSurface, worst);
}
