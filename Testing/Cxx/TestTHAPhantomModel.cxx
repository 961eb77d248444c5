// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the THA phantom's algorithms, without the pipeline.
#include "ibcSMP.h"
#include "ibcTHAPhantomModel.h"
#include "ibcTestShapes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <utility>

using namespace ibc;
using namespace ibc::phantom;

namespace
{
constexpr double Pi = 3.14159265358979323846;

Parameters quietParameters()
{
  Parameters p;
  p.noiseSigma = 0.0;
  p.beamHardeningHU = 0.0;
  p.cancellousTextureHU = 0.0;
  p.clip = false;
  p.spacing = { { 1.0, 1.0, 1.5 } };
  return p;
}
}

TEST(StemOutline, RoundedSquareHasExactSignedDistance)
{
  // A 10 x 10 square with corners rounded by 2: distances known in closed form.
  const StemOutline square =
    StemOutline::fromRoundedPolygon({ { 0, 0 }, { 10, 0 }, { 10, 10 }, { 0, 10 } }, { 2, 2, 2, 2 });
  EXPECT_NEAR(square.nearest({ 5, 5 }).signedDistance, -5.0, 1e-12);
  EXPECT_NEAR(square.nearest({ 5, -3 }).signedDistance, 3.0, 1e-12);
  EXPECT_NEAR(square.nearest({ 13, 5 }).signedDistance, 3.0, 1e-12);
  // Beyond a rounded corner the distance is to the fillet circle centred at (8, 8).
  EXPECT_NEAR(square.nearest({ 12, 12 }).signedDistance, std::sqrt(32.0) - 2.0, 1e-12);
  const StemOutline::Nearest below = square.nearest({ 5, -3 });
  EXPECT_NEAR(below.outwardNormal.y, -1.0, 1e-12);
  // Area of a square with rounded corners: 100 - (4 - pi) r^2.
  EXPECT_NEAR(square.area(), 100.0 - (4.0 - Pi) * 4.0, 1e-3);
}

TEST(StemGeometry, SignedDistanceIsExactAlongNormals)
{
  const StemGeometry stem;
  std::mt19937 random(7);
  const auto samples = stem.outline().sample(0.01, stem.halfThickness());
  std::uniform_int_distribution<std::size_t> pick(0, samples.size() - 1);
  std::uniform_real_distribution<double> latitude(-0.5 * Pi, 0.5 * Pi);
  std::uniform_real_distribution<double> offset(-2.0, 6.0);
  const double r = stem.halfThickness();
  for (int trial = 0; trial < 2000; ++trial)
  {
    const auto& sample = samples[pick(random)];
    const double phi = latitude(random);
    const Vec3 normal{
      std::cos(phi) * sample.outwardNormal.x, std::sin(phi), std::cos(phi) * sample.outwardNormal.y
    };
    const Vec3 surfacePoint = Vec3{ sample.point.x, 0.0, sample.point.y } + r * normal;
    const double t = offset(random);
    const StemGeometry::Query query = stem.evaluate(surfacePoint + t * normal);
    // Inside, the distance to the nearest face can be shorter than along this normal.
    if (t >= 0.0)
    {
      ASSERT_NEAR(query.signedDistance, t, 1e-9);
      ASSERT_NEAR(dot(query.outwardNormal, normal), 1.0, 1e-9);
    }
    else
    {
      ASSERT_LE(query.signedDistance, 1e-9);
      ASSERT_GE(query.signedDistance, t - 1e-9);
    }
  }
}

TEST(StemGeometry, LooksLikeAFemoralStem)
{
  const StemGeometry stem;
  const StemGeometry::Query tip = stem.evaluate({ 0.0, 0.0, 0.0 });
  EXPECT_NEAR(tip.signedDistance, 0.0, 1e-9); // the tip is at the frame origin
  EXPECT_GT(stem.topLevel(), 150.0);
  EXPECT_LT(stem.topLevel(), 175.0);
  // 10 mm thick; about 13 mm wide distally and over 30 mm at the calcar level.
  EXPECT_NEAR(stem.evaluate({ 0.0, 5.0, 60.0 }).signedDistance, 0.0, 1e-9);
  const double distalWidth = 2.0 * (1.5 + 5.0);
  EXPECT_LT(stem.evaluate({ 0.5 * distalWidth + 1.0, 0.0, 20.0 }).signedDistance, 1.2);
  EXPECT_LT(stem.evaluate({ 17.0, 0.0, 135.0 }).signedDistance, 0.0);
  EXPECT_LT(stem.evaluate({ -9.0, 0.0, 135.0 }).signedDistance, 0.0);
}

TEST(GruenZones, FollowTheStandardNumbering)
{
  const Vec3 lateral{ -1, 0, 0 };
  const Vec3 medial{ 1, 0, 0 };
  const Vec3 anterior{ 0, 1, 0 };
  const Vec3 posterior{ 0, -1, 0 };
  const double res = 120.0;
  const double tip = 10.0;
  EXPECT_EQ(gruenZone(110, lateral, res, tip), 1);
  EXPECT_EQ(gruenZone(60, lateral, res, tip), 2);
  EXPECT_EQ(gruenZone(20, lateral, res, tip), 3);
  EXPECT_EQ(gruenZone(5, lateral, res, tip), 4);
  EXPECT_EQ(gruenZone(20, medial, res, tip), 5);
  EXPECT_EQ(gruenZone(60, medial, res, tip), 6);
  EXPECT_EQ(gruenZone(110, medial, res, tip), 7);
  EXPECT_EQ(gruenZone(110, anterior, res, tip), 8);
  EXPECT_EQ(gruenZone(60, anterior, res, tip), 9);
  EXPECT_EQ(gruenZone(20, anterior, res, tip), 10);
  EXPECT_EQ(gruenZone(5, posterior, res, tip), 11);
  EXPECT_EQ(gruenZone(20, posterior, res, tip), 12);
  EXPECT_EQ(gruenZone(60, posterior, res, tip), 13);
  EXPECT_EQ(gruenZone(110, posterior, res, tip), 14);
  EXPECT_EQ(gruenZone(125, posterior, res, tip), 0);
  // The AP set takes normals more medial-lateral than anterior-posterior.
  EXPECT_EQ(gruenZone(60, normalized(Vec3{ 0.8, 0.6, 0 }), res, tip), 6);
  EXPECT_EQ(gruenZone(60, normalized(Vec3{ 0.6, 0.8, 0 }), res, tip), 9);
}

TEST(PhantomSurface, IsClosedManifoldAndOutward)
{
  Parameters p = quietParameters();
  p.chordTolerance = 0.002; // fine enough that the volume can be checked to 0.05 %
  const PhantomModel model(p);
  const Surface surface = model.generateSurface();
  ASSERT_GT(surface.triangles.size(), 1000u);
  // Every directed edge once, and its reverse once: closed, manifold, consistently oriented.
  EXPECT_TRUE(test::closedAndConsistent(surface.triangles));
  // Volume against Steiner's formula for a planar region swept by a ball of radius r:
  // V = 2 r A + (pi / 2) r^2 L + (4 / 3) pi r^3.
  double volume = 0.0;
  for (const auto& triangle : surface.triangles)
  {
    volume += dot(surface.points[triangle[0]],
                cross(surface.points[triangle[1]], surface.points[triangle[2]])) /
      6.0;
  }
  const StemGeometry& stem = model.stem();
  const double r = stem.halfThickness();
  const auto fine = stem.outline().sample(1e-4, 0.0);
  double perimeter = 0.0;
  for (std::size_t i = 0; i < fine.size(); ++i)
  {
    perimeter += length(fine[(i + 1) % fine.size()].point - fine[i].point);
  }
  const double expected =
    2.0 * r * stem.outline().area() + 0.5 * Pi * r * r * perimeter + 4.0 / 3.0 * Pi * r * r * r;
  EXPECT_GT(volume, 0.0);
  EXPECT_NEAR(volume / expected, 1.0, 5e-4);
  // Vertices lie on the analytic surface, true normals are the analytic ones.
  for (std::size_t i = 0; i < surface.points.size(); ++i)
  {
    const StemGeometry::Query query = stem.evaluate(model.worldToStem(surface.points[i]));
    ASSERT_NEAR(query.signedDistance, 0.0, 1e-9);
    ASSERT_NEAR(
      dot(model.stemDirectionToWorld(query.outwardNormal), surface.trueNormals[i]), 1.0, 1e-6);
  }
}

TEST(PhantomSurface, TruthDoesNotHingeOnTheSamplingDistance)
{
  Parameters p = quietParameters();
  const PhantomModel model(p);
  const Surface surface = model.generateSurface();
  std::size_t inBone = 0;
  std::size_t agree = 0;
  std::set<int> zones;
  for (std::size_t i = 0; i < surface.points.size(); ++i)
  {
    zones.insert(surface.trueGruenZone[i]);
    if (surface.trueGruenZone[i] == 0)
    {
      continue;
    }
    ++inBone;
    const int truth = surface.trueTissueClass[i];
    bool same = true;
    for (const double distance : { 1.0, 2.0, 3.0, 4.0 })
    {
      const Vec3 probe = surface.points[i] + distance * surface.trueNormals[i];
      same = same && tissueClassOf(model.tissueAt(probe)) == truth;
    }
    agree += same ? 1 : 0;
  }
  EXPECT_EQ(zones.size(), 15u); // 0 and all of 1-14
  // Only vertices on a pattern boundary may differ between 1 and 4 mm.
  EXPECT_GT(static_cast<double>(agree) / inBone, 0.95);
}

TEST(PhantomSurface, LeftIsTheMirrorOfRight)
{
  Parameters right = quietParameters();
  Parameters left = right;
  left.side = Side::Left;
  const Surface a = PhantomModel(right).generateSurface();
  const Surface b = PhantomModel(left).generateSurface();
  ASSERT_EQ(a.points.size(), b.points.size());
  for (std::size_t i = 0; i < a.points.size(); ++i)
  {
    ASSERT_NEAR(a.points[i].x, -b.points[i].x, 1e-9);
    ASSERT_NEAR(a.points[i].y, b.points[i].y, 1e-9);
    ASSERT_EQ(a.trueGruenZone[i], b.trueGruenZone[i]);
    ASSERT_EQ(a.trueTissueClass[i], b.trueTissueClass[i]);
  }
}

TEST(PhantomSurface, VarusTiltMovesTheTipLaterally)
{
  Parameters p = quietParameters();
  const PhantomModel straight(p);
  p.varusValgusDegrees = 3.0;
  const PhantomModel varus(p);
  const Vec3 move = varus.tipPoint() - straight.tipPoint();
  EXPECT_LT(dot(move, straight.medialDirection()), -3.0); // 70 mm * sin(3 deg) = 3.7 mm
}

TEST(PhantomVolume, PiecesEqualTheWholeVolume)
{
  ibc::useThreadedBackend();
  Parameters p;
  p.spacing = { { 1.2, 1.2, 2.0 } };
  const PhantomModel model(p);
  int whole[6];
  model.wholeExtent(whole);
  const std::size_t nx = whole[1] + 1;
  const std::size_t ny = whole[3] + 1;
  const std::size_t nz = whole[5] + 1;
  std::vector<float> full(nx * ny * nz);
  std::vector<std::uint8_t> fullLabels(full.size());
  model.generateVolume(whole, full.data(), fullLabels.data());
  // Three slabs sharing their boundary layers, as vtkExtentTranslator makes them, and one block.
  const int cut1 = whole[5] / 3;
  const int cut2 = 2 * whole[5] / 3;
  const std::vector<std::array<int, 6>> pieces{ { whole[0], whole[1], whole[2], whole[3], 0, cut1 },
    { whole[0], whole[1], whole[2], whole[3], cut1, cut2 },
    { whole[0], whole[1], whole[2], whole[3], cut2, whole[5] },
    { 5, whole[1] / 2, 3, whole[3] - 4, cut1 - 3, cut2 + 2 } };
  for (const auto& piece : pieces)
  {
    const std::size_t px = piece[1] - piece[0] + 1;
    const std::size_t py = piece[3] - piece[2] + 1;
    const std::size_t pz = piece[5] - piece[4] + 1;
    std::vector<float> values(px * py * pz);
    model.generateVolume(piece.data(), values.data(), nullptr);
    for (std::size_t k = 0; k < pz; ++k)
    {
      for (std::size_t j = 0; j < py; ++j)
      {
        for (std::size_t i = 0; i < px; ++i)
        {
          const std::size_t wholeIndex =
            ((k + piece[4]) * ny + (j + piece[2])) * nx + (i + piece[0]);
          ASSERT_EQ(values[(k * py + j) * px + i], full[wholeIndex]);
        }
      }
    }
  }
}

TEST(PhantomVolume, TissuesReadTheirValuesAwayFromEdges)
{
  ibc::useThreadedBackend();
  Parameters p = quietParameters();
  const PhantomModel model(p);
  int whole[6];
  model.wholeExtent(whole);
  const int nx = whole[1] + 1;
  const int ny = whole[3] + 1;
  const int nz = whole[5] + 1;
  std::vector<float> hu(static_cast<std::size_t>(nx) * ny * nz);
  std::vector<std::uint8_t> labels(hu.size());
  model.generateVolume(whole, hu.data(), labels.data());
  std::map<int, std::pair<double, int>> sums;
  const int reach = 3; // voxels whose 7x7x7 neighbourhood has one label
  for (int k = reach; k < nz - reach; k += 2)
  {
    for (int j = reach; j < ny - reach; j += 2)
    {
      for (int i = reach; i < nx - reach; i += 2)
      {
        const auto index = [&](int a, int b, int c)
        { return (static_cast<std::size_t>(c) * ny + b) * nx + a; };
        const int label = labels[index(i, j, k)];
        bool uniform = true;
        for (int c = -reach; c <= reach && uniform; ++c)
          for (int b = -reach; b <= reach && uniform; ++b)
            for (int a = -reach; a <= reach && uniform; ++a)
              uniform = labels[index(i + a, j + b, k + c)] == label;
        if (uniform)
        {
          sums[label].first += hu[index(i, j, k)];
          sums[label].second += 1;
        }
      }
    }
  }
  const std::map<int, double> expected{ { 0, -1000.0 },
    { 1, -100.0 },
    { 2, 50.0 },
    { 3, 0.0 },
    { 5, 300.0 },
    { 6, 1400.0 },
    { 7, 6000.0 } };
  for (const auto& [label, value] : expected)
  {
    ASSERT_GT(sums[label].second, 0) << "no voxel of label " << label << " away from edges";
    const double mean = sums[label].first / sums[label].second;
    // The metal edge is spread by blooming, so even deep voxels may sit a little under metalHU.
    EXPECT_NEAR(mean, value, label == 7 ? 10.0 : 1.0) << "label " << label;
  }
}

TEST(PhantomOtherMetal, HeadAndCupSitOnTheNeckAxis)
{
  // The head's centre lies 46 mm up the neck axis from (0, 0, 124) in the stem frame; the cup
  // (22.5-26 mm) is open towards the stem, lined with polyethylene and backed by pelvic bone.
  const double s = 1.0 / std::sqrt(2.0);
  const Vec3 center{ 46.0 * s, 0.0, 124.0 + 46.0 * s };
  const Vec3 pole{ s, 0.0, s };
  const Vec3 anterior{ 0.0, 1.0, 0.0 };
  const auto tissueAlongPole = [&](const PhantomModel& model, double radius)
  { return model.tissueAt(model.stemToWorld(center + radius * pole)); };
  // Off the neck, which runs along the pole into the head.
  const auto tissueAside = [&](const PhantomModel& model, double alongPole, double aside)
  { return model.tissueAt(model.stemToWorld(center + alongPole * pole + aside * anterior)); };

  Parameters p = quietParameters();
  const PhantomModel withoutMetal(p);
  EXPECT_NE(tissueAside(withoutMetal, 0.0, 13.5), Tissue::Metal);

  p.otherMetal = OtherMetal::Head;
  const PhantomModel headOnly(p);
  EXPECT_EQ(tissueAlongPole(headOnly, 0.0), Tissue::Metal);
  EXPECT_EQ(tissueAlongPole(headOnly, 13.5), Tissue::Metal);
  EXPECT_EQ(tissueAside(headOnly, 0.0, 13.5), Tissue::Metal);
  EXPECT_NE(tissueAlongPole(headOnly, 24.0), Tissue::Metal);

  p.otherMetal = OtherMetal::HeadAndCup;
  const PhantomModel headAndCup(p);
  EXPECT_EQ(tissueAlongPole(headAndCup, 13.5), Tissue::Metal);
  EXPECT_EQ(tissueAlongPole(headAndCup, 18.0), Tissue::Fat);
  EXPECT_EQ(tissueAlongPole(headAndCup, 24.0), Tissue::Metal);
  EXPECT_EQ(tissueAlongPole(headAndCup, 27.0), Tissue::Cortical);
  EXPECT_EQ(tissueAlongPole(headAndCup, 33.0), Tissue::Cancellous);
  // The open side faces the stem: no cup metal on the far side of the head from the pole.
  EXPECT_EQ(tissueAside(headAndCup, 5.0, 24.0), Tissue::Metal);
  EXPECT_NE(tissueAside(headAndCup, -5.0, 24.0), Tissue::Metal);
  // The stem itself is unchanged by the other metal.
  const Surface plain = withoutMetal.generateSurface();
  const Surface withCup = headAndCup.generateSurface();
  ASSERT_EQ(plain.points.size(), withCup.points.size());
  for (std::size_t i = 0; i < plain.points.size(); i += 97)
  {
    EXPECT_EQ(length(plain.points[i] - withCup.points[i]), 0.0);
  }
}
