// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of tissue classification and Gruen zone statistics, without the pipeline.
#include "ibcContactStatistics.h"
#include "ibcTHAPhantomModel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace ibc;
using namespace ibc::contact;

namespace
{
const Collective serial(nullptr);

struct PhantomSurface
{
  phantom::PhantomModel model;
  phantom::Surface surface;
  std::vector<double> areas;

  explicit PhantomSurface(const phantom::Parameters& p)
    : model(p)
    , surface(model.generateSurface())
    , areas(vertexAreas(surface.points, surface.triangles))
  {
  }
};

double angleDegrees(Vec3 a, Vec3 b)
{
  return std::acos(std::clamp(dot(normalized(a), normalized(b)), -1.0, 1.0)) * 180.0 /
    3.14159265358979;
}
}

TEST(Classes, ThresholdsAndPresets)
{
  const Thresholds t{ 150, 700 };
  EXPECT_EQ(classify(std::numeric_limits<double>::quiet_NaN(), t), NotSampled);
  EXPECT_EQ(classify(149.9, t), SoftTissue);
  EXPECT_EQ(classify(150.0, t), Cancellous);
  EXPECT_EQ(classify(700.0, t), Cortical);
  EXPECT_EQ(presetThresholds(Preset::PedicleScrewPlanner).cortical, 250.0);
  EXPECT_EQ(presetThresholds(Preset::MimicsAdult).cancellous, 148.0);
}

TEST(Classes, OtsuSplitsThreeTissues)
{
  // Three Gaussian peaks (fibrous 30, cancellous 300, cortical 1400 HU), unequal weights.
  const double start = -1024.0;
  const double width = 4.0;
  std::vector<double> bins(1024, 0.0);
  auto add = [&](double mean, double sigma, double weight)
  {
    for (std::size_t i = 0; i < bins.size(); ++i)
    {
      const double x = start + (i + 0.5) * width;
      bins[i] += weight * std::exp(-0.5 * (x - mean) * (x - mean) / (sigma * sigma));
    }
  };
  add(30, 40, 1.0);
  add(300, 50, 2.0);
  add(1400, 120, 0.7);
  Thresholds t;
  ASSERT_TRUE(otsuThreeClasses(bins, start, width, t));
  EXPECT_GT(t.cancellous, 100);
  EXPECT_LT(t.cancellous, 230);
  EXPECT_GT(t.cortical, 600);
  EXPECT_LT(t.cortical, 1100);
  EXPECT_FALSE(otsuThreeClasses(std::vector<double>(10, 0.0), start, width, t));
}

TEST(Classes, MajorityVoteRemovesSpeckle)
{
  // A 5 x 5 grid of unit-area points, all cortical but one cancellous in the middle.
  std::vector<Vec3> points;
  std::vector<std::uint8_t> classes;
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 5; ++i)
    {
      points.push_back({ double(i), double(j), 0.0 });
      classes.push_back(i == 2 && j == 2 ? Cancellous : Cortical);
    }
  classes[0] = NotSampled;
  const std::vector<double> areas(points.size(), 1.0);
  const auto smoothed = majorityVote(points, classes, areas, 1.5, {}, {}, {});
  EXPECT_EQ(smoothed[12], Cortical);
  EXPECT_EQ(smoothed[0], NotSampled); // unsampled stays unsampled
  EXPECT_EQ(majorityVote(points, classes, areas, 0.0, {}, {}, {}), classes);
  // Neighbours from another rank vote too.
  const auto withOthers = majorityVote({ { 10, 10, 0 } },
    { Cancellous },
    { 1.0 },
    1.5,
    { { 10.5, 10, 0 }, { 10, 10.5, 0 } },
    { Cortical, Cortical },
    { 1.0, 1.0 });
  EXPECT_EQ(withOthers[0], Cortical);
}

TEST(Areas, VertexSharesAddUpToTheSurface)
{
  const std::vector<Vec3> points{ { 0, 0, 0 }, { 2, 0, 0 }, { 0, 3, 0 }, { 2, 3, 0 } };
  const std::vector<probe::Triangle> triangles{ { 0, 1, 2 }, { 1, 3, 2 } };
  const auto areas = vertexAreas(points, triangles);
  EXPECT_NEAR(areas[0] + areas[1] + areas[2] + areas[3], 6.0, 1e-12);
  EXPECT_NEAR(areas[1], 2.0, 1e-12);
}

TEST(StemFrame, FoundOnThePhantomForBothSidesAndTilts)
{
  for (const auto side : { phantom::Side::Right, phantom::Side::Left })
  {
    for (const double tilt : { -4.0, 0.0, 4.0 })
    {
      phantom::Parameters p;
      p.side = side;
      p.varusValgusDegrees = tilt;
      p.chordTolerance = 0.005;
      const PhantomSurface stem(p);
      const StemFrame frame =
        findStemFrame(stem.surface.points, stem.surface.triangles, stem.areas, {}, serial);
      ASSERT_TRUE(frame.valid) << frame.problem;
      EXPECT_LT(angleDegrees(frame.axis, stem.model.axisDirection()), 1.0);
      EXPECT_LT(angleDegrees(frame.medial, stem.model.medialDirection()), 1.0);
      EXPECT_LT(angleDegrees(frame.anterior, stem.model.anteriorDirection()), 1.0);
      EXPECT_EQ(frame.rightSide, side == phantom::Side::Right);
      EXPECT_NEAR(frame.proximalLimit, p.resectionLevel, 5.0);
      EXPECT_LT(length(frame.tip - stem.model.tipPoint()), 1.0);
    }
  }
}

TEST(StemFrame, ZonesEqualThePhantomTruthInTheTrueFrame)
{
  phantom::Parameters p;
  const PhantomSurface stem(p);
  StemFrame frame;
  frame.tip = stem.model.tipPoint();
  frame.axis = stem.model.axisDirection();
  frame.medial = stem.model.medialDirection();
  frame.anterior = stem.model.anteriorDirection();
  frame.proximalLimit = p.resectionLevel;
  frame.valid = true;
  for (std::size_t i = 0; i < stem.surface.points.size(); ++i)
  {
    ASSERT_EQ(
      zoneOf(
        stem.surface.points[i], stem.surface.trueNormals[i], frame, p.tipZoneLength, ZoneSet::Both),
      stem.surface.trueGruenZone[i]);
  }
}

TEST(StemFrame, SaysWhichOverrideIsMissing)
{
  // A closed cylinder: both ends alike, and no neck.
  std::vector<Vec3> points;
  std::vector<probe::Triangle> triangles;
  const int around = 24;
  for (int ring = 0; ring <= 10; ++ring)
    for (int k = 0; k < around; ++k)
    {
      const double a = 2 * 3.14159265358979 * k / around;
      points.push_back({ 6 * std::cos(a), 6 * std::sin(a), 15.0 * ring });
    }
  for (int ring = 0; ring < 10; ++ring)
    for (int k = 0; k < around; ++k)
    {
      const std::int64_t a = ring * around + k;
      const std::int64_t b = ring * around + (k + 1) % around;
      triangles.push_back({ a, b, b + around });
      triangles.push_back({ a, b + around, a + around });
    }
  const auto areas = vertexAreas(points, triangles);
  StemFrame frame = findStemFrame(points, triangles, areas, {}, serial);
  EXPECT_FALSE(frame.valid);
  EXPECT_NE(frame.problem.find("Axis Direction"), std::string::npos) << frame.problem;
  FrameOverrides overrides;
  overrides.useAxis = true;
  overrides.axis = { 0, 0, 1 };
  frame = findStemFrame(points, triangles, areas, overrides, serial);
  EXPECT_FALSE(frame.valid);
  EXPECT_NE(frame.problem.find("Medial Direction"), std::string::npos) << frame.problem;
  overrides.useMedial = true;
  overrides.medial = { 1, 0, 0 };
  overrides.proximalLimit = 120;
  frame = findStemFrame(points, triangles, areas, overrides, serial);
  EXPECT_TRUE(frame.valid) << frame.problem;
  EXPECT_NEAR(frame.anterior.y, -1.0, 1e-9); // LPS: anterior is -y
}

TEST(ZoneTable, AreaWeightedStatistics)
{
  // Zone 3: values 100 (area 1, soft), 300 (area 3, cancellous); zone 5: 1500 (area 2, cortical),
  // and one unsampled point (area 2). Zone 0 gathers all.
  const std::vector<int> zones{ 3, 3, 5, 5, 0 };
  const std::vector<double> values{ 100, 300, 1500, std::numeric_limits<double>::quiet_NaN(), 50 };
  const std::vector<std::uint8_t> classes{
    SoftTissue, Cancellous, Cortical, NotSampled, SoftTissue
  };
  const std::vector<double> areas{ 1, 3, 2, 2, 9 };
  const std::vector<char> owned{ 1, 1, 1, 1, 1 };
  const auto rows = zoneStatistics(zones, values, classes, areas, owned, { 0, 3, 5 }, serial);
  ASSERT_EQ(rows.size(), 3u);
  const ZoneRow& three = rows[1];
  EXPECT_EQ(three.numberOfPoints, 2);
  EXPECT_DOUBLE_EQ(three.area, 4.0);
  EXPECT_DOUBLE_EQ(three.mean, 250.0);
  EXPECT_DOUBLE_EQ(three.standardDeviation, std::sqrt((1 * 150.0 * 150 + 3 * 50.0 * 50) / 4));
  EXPECT_DOUBLE_EQ(three.median, 300.0);
  EXPECT_DOUBLE_EQ(three.softTissueFraction, 0.25);
  EXPECT_DOUBLE_EQ(three.cancellousFraction, 0.75);
  const ZoneRow& five = rows[2];
  EXPECT_DOUBLE_EQ(five.validFraction, 0.5);
  EXPECT_DOUBLE_EQ(five.corticalFraction, 1.0);
  const ZoneRow& whole = rows[0];
  EXPECT_EQ(whole.numberOfPoints, 4); // the point above the proximal limit is not counted
  EXPECT_DOUBLE_EQ(whole.area, 8.0);
  EXPECT_DOUBLE_EQ(whole.minimum, 100.0);
  EXPECT_DOUBLE_EQ(whole.maximum, 1500.0);
  EXPECT_DOUBLE_EQ(whole.median, 300.0);
}

TEST(ZoneTable, InterfaceWidthsAndConfidence)
{
  // Zone 3: widths 0 (area 1), 1.5 (area 2), 2.5 (area 1); zone 5: 0.4 and an unknown width.
  const std::vector<int> zones{ 3, 3, 3, 5, 5 };
  const std::vector<double> values{ 300, 30, 30, 1400, 1400 };
  const std::vector<std::uint8_t> classes{ Cancellous, SoftTissue, SoftTissue, Cortical, Cortical };
  const std::vector<double> areas{ 1, 2, 1, 3, 1 };
  const std::vector<char> owned(5, 1);
  const std::vector<double> widths{ 0.0, 1.5, 2.5, 0.4, std::numeric_limits<double>::quiet_NaN() };
  const std::vector<double> confidences{ 1.0, 0.9, 0.2, 0.6, 0.0 };
  const auto rows =
    zoneStatistics(zones, values, classes, areas, owned, { 0, 3, 5 }, serial, widths, confidences);
  const ZoneRow& three = rows[1];
  EXPECT_DOUBLE_EQ(three.interfaceWidthMean, (0.0 * 1 + 1.5 * 2 + 2.5 * 1) / 4);
  EXPECT_DOUBLE_EQ(three.interfaceOver1mmFraction, 0.75);
  EXPECT_DOUBLE_EQ(three.interfaceOver2mmFraction, 0.25);
  EXPECT_DOUBLE_EQ(three.confidentFraction, 0.75); // SampleConfidence >= 0.5 on 3 of 4
  const ZoneRow& five = rows[2];
  EXPECT_DOUBLE_EQ(five.interfaceWidthMean, 0.4); // over the area with a known width
  EXPECT_DOUBLE_EQ(five.interfaceOver1mmFraction, 0.0);
  EXPECT_DOUBLE_EQ(five.confidentFraction, 0.75);
  const ZoneRow& whole = rows[0];
  EXPECT_DOUBLE_EQ(whole.interfaceOver1mmFraction, 3.0 / 7.0);
}

TEST(Classes, AutomaticThresholdsFromSampledValues)
{
  // Soft tissue at 40 HU, cancellous bone at 350 HU and cortex at 1400 HU, areas 3 : 2 : 1, and
  // NaN samples that must not count.
  std::vector<double> values;
  std::vector<double> areas;
  for (int i = 0; i < 300; ++i)
  {
    const double jitter = (i % 11) - 5.0;
    values.insert(values.end(),
      { 40.0 + jitter,
        350.0 + 4 * jitter,
        1400.0 + 8 * jitter,
        std::numeric_limits<double>::quiet_NaN() });
    areas.insert(areas.end(), { 3.0, 2.0, 1.0, 100.0 });
  }
  const Collective alone(nullptr);
  Thresholds t;
  ASSERT_TRUE(automaticThresholds(values, areas, alone, t));
  // Each threshold between the clusters it separates (45 | 330-370 | 1360).
  EXPECT_GT(t.cancellous, 45);
  EXPECT_LT(t.cancellous, 330);
  EXPECT_GT(t.cortical, 370);
  EXPECT_LT(t.cortical, 1360);
  for (std::size_t i = 0; i + 3 < values.size(); i += 4)
  {
    EXPECT_EQ(classify(values[i], t), SoftTissue);
    EXPECT_EQ(classify(values[i + 1], t), Cancellous);
    EXPECT_EQ(classify(values[i + 2], t), Cortical);
  }
  const std::vector<double> none(10, std::numeric_limits<double>::quiet_NaN());
  EXPECT_FALSE(automaticThresholds(none, std::vector<double>(10, 1.0), alone, t));
  // Serial majority vote across ranks is the plain vote.
  const std::vector<Vec3> points = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 1, 1, 0 } };
  const std::vector<std::uint8_t> classes = { Cortical, Cancellous, Cortical, Cortical };
  const std::vector<double> unit(4, 1.0);
  EXPECT_EQ(majorityVoteAcrossRanks(points, classes, unit, 1.5, alone),
    majorityVote(points, classes, unit, 1.5, {}, {}, {}));
}
